//! The search keys of a record, and the same segmentation for a query.
//!
//! Han text is cut into overlapping character bigrams (a one-character run
//! keeps its unigram), computed over the title's Han characters with
//! punctuation skipped, so 三体Ⅱ·黑暗森林 also has 体黑 and a reader who types
//! 三体黑暗森林 finds it. docs/search.md says why bigrams and not a
//! dictionary segmenter. Pinyin keys are the full pinyin and the initials
//! of every prefix of the Han characters (三体 -> `santi`, `st`), since
//! readers type the start of a title or a name.

use super::isbn;
use super::normalize::{exact_key, is_han, tokens, Token};
use pinyin::ToPinyin;
use std::collections::HashMap;

/// Where a key came from; stored in `record_terms.field`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The whole title, folded (exact match).
    Exact,
    /// A bigram, unigram or word of the title.
    Title,
    /// Full pinyin of a prefix of the title.
    TitlePinyin,
    /// Pinyin initials of a prefix of the title.
    TitleInitials,
    /// A bigram, unigram or word of the statement of responsibility.
    Author,
    /// Full pinyin of a prefix of the responsibility.
    AuthorPinyin,
    /// Pinyin initials of a prefix of the responsibility.
    AuthorInitials,
    /// The ISBN-13.
    Isbn,
}

impl Field {
    /// The name stored in `record_terms.field`.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Exact => "exact",
            Field::Title => "title",
            Field::TitlePinyin => "title_pinyin",
            Field::TitleInitials => "title_initials",
            Field::Author => "author",
            Field::AuthorPinyin => "author_pinyin",
            Field::AuthorInitials => "author_initials",
            Field::Isbn => "isbn",
        }
    }

    /// How much a match on this field counts in the score.
    pub fn weight(self) -> i64 {
        match self {
            Field::Exact => 100,
            Field::Isbn => 50,
            Field::TitlePinyin => 6,
            Field::Title => 4,
            Field::TitleInitials => 3,
            Field::AuthorPinyin => 3,
            Field::Author => 2,
            Field::AuthorInitials => 1,
        }
    }
}

/// Pinyin keys are made for prefixes of at most this many characters: a
/// reader does not type the pinyin of a whole long title.
const MAX_PINYIN_PREFIX: usize = 8;

/// One search key of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The folded term.
    pub term: String,
    /// Where it came from.
    pub field: Field,
    /// How much it counts.
    pub weight: i64,
}

/// The keys of a record, each `(term, field)` once.
pub fn record_keys(title: &str, responsibility: &str, isbn13: Option<&str>) -> Vec<Key> {
    let mut keys: HashMap<(String, Field), i64> = HashMap::new();
    let mut add = |term: String, field: Field| {
        if !term.is_empty() {
            keys.insert((term, field), field.weight());
        }
    };
    add(exact_key(title), Field::Exact);
    for (text, words, full, initials) in [
        (
            title,
            Field::Title,
            Field::TitlePinyin,
            Field::TitleInitials,
        ),
        (
            responsibility,
            Field::Author,
            Field::AuthorPinyin,
            Field::AuthorInitials,
        ),
    ] {
        let han: Vec<char> = super::normalize::fold(text)
            .chars()
            .filter(|c| is_han(*c))
            .collect();
        for term in han_terms(&han) {
            add(term, words);
        }
        for token in tokens(text) {
            if let Token::Word(word) = token {
                add(word, words);
            }
        }
        for (pinyin, first) in pinyin_prefixes(&han) {
            add(pinyin, full);
            add(first, initials);
        }
    }
    if let Some(isbn) = isbn13.and_then(isbn::parse) {
        add(isbn, Field::Isbn);
    }
    let mut out: Vec<Key> = keys
        .into_iter()
        .map(|((term, field), weight)| Key {
            term,
            field,
            weight,
        })
        .collect();
    out.sort_by(|a, b| (a.field, &a.term).cmp(&(b.field, &b.term)));
    out
}

/// Bigrams of a Han run, or its one unigram when it has one character.
pub fn han_terms(han: &[char]) -> Vec<String> {
    if han.len() == 1 {
        return vec![han[0].to_string()];
    }
    han.windows(2).map(|pair| pair.iter().collect()).collect()
}

/// `(full pinyin, initials)` of each prefix of two or more characters.
/// Characters without a reading end the prefixes.
fn pinyin_prefixes(han: &[char]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut full, mut first) = (String::new(), String::new());
    for (i, c) in han.iter().take(MAX_PINYIN_PREFIX).enumerate() {
        let Some(reading) = c.to_pinyin() else { break };
        full.push_str(reading.plain());
        first.push_str(reading.first_letter());
        if i >= 1 {
            out.push((full.clone(), first.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(keys: &[Key], term: &str, field: Field) -> bool {
        keys.iter().any(|k| k.term == term && k.field == field)
    }

    #[test]
    fn santi_and_st_are_keys_of_the_three_body_problem() {
        let keys = record_keys("三体", "刘慈欣著", Some("9787536692930"));
        assert!(has(&keys, "santi", Field::TitlePinyin));
        assert!(has(&keys, "st", Field::TitleInitials));
        assert!(has(&keys, "三体", Field::Title));
        assert!(has(&keys, "三体", Field::Exact));
        assert!(has(&keys, "liucixin", Field::AuthorPinyin));
        assert!(has(&keys, "9787536692930", Field::Isbn));
    }

    #[test]
    fn bigrams_bridge_punctuation_inside_a_title() {
        let keys = record_keys("三體Ⅱ·黑暗森林", "", None);
        assert!(has(&keys, "体黑", Field::Title));
        assert!(has(&keys, "三体黑暗森林", Field::Exact));
        assert!(has(&keys, "santi", Field::TitlePinyin));
    }

    #[test]
    fn an_exact_title_outweighs_any_other_match() {
        // The page order sorts exact titles first on its own; the weight
        // keeps them high in the score too, for clients that sort by it.
        let best_other = [Field::Isbn, Field::TitlePinyin, Field::Title, Field::Author];
        assert!(best_other
            .iter()
            .all(|f| Field::Exact.weight() > f.weight()));
        assert!(Field::Title.weight() > Field::Author.weight());
    }

    #[test]
    fn a_one_character_title_keeps_its_unigram() {
        assert!(has(&record_keys("蛙", "莫言著", None), "蛙", Field::Title));
    }

    #[test]
    fn each_term_and_field_is_kept_once() {
        let keys = record_keys("森林森林", "", None);
        let count = keys
            .iter()
            .filter(|k| k.term == "森林" && k.field == Field::Title)
            .count();
        assert_eq!(count, 1);
    }
}
