//! The search keys of a record, and the same segmentation for a query.
//!
//! Han text is cut into overlapping character n-grams of two to
//! [`MAX_NGRAM`] characters (a one-character run keeps its unigram),
//! computed over the title's Han characters with punctuation skipped, so
//! 三体Ⅱ·黑暗森林 also has 体黑 and 三体黑暗, and a reader who types
//! 三体黑暗森林 finds it. A query's run is looked up as the fewest n-grams
//! that cover it, so 中国文化 is one key with its own short posting list,
//! not the intersection of 中国, 国文 and 文化. docs/search.md says why
//! n-grams and not a dictionary segmenter. Pinyin keys are the full pinyin
//! and the initials of every prefix of the Han characters (三体 -> `santi`,
//! `st`), since readers type the start of a title or a name.
//!
//! Keys are stored merged per term ([`record_postings`]): one posting per
//! term and record, carrying the summed weight of every field the term was
//! found in and those fields as bits, so a term's postings can be read in
//! rank order from one index.

use super::isbn;
use super::normalize::{exact_key, is_han, tokens, Token};
use pinyin::ToPinyin;
use std::collections::HashMap;

/// Where a key came from; stored as a bit of `search_postings.fields`.
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
    /// Every field, in bit order.
    pub const ALL: [Field; 8] = [
        Field::Exact,
        Field::Title,
        Field::TitlePinyin,
        Field::TitleInitials,
        Field::Author,
        Field::AuthorPinyin,
        Field::AuthorInitials,
        Field::Isbn,
    ];

    /// The field's bit in `search_postings.fields`.
    pub fn bit(self) -> i64 {
        1 << (self as u32)
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

/// The longest Han n-gram a record is keyed by. Four characters hold most
/// Chinese words and set phrases (人工智能, 黑暗森林), so a query of up to four
/// characters is one key; each longer n-gram adds about one key per
/// character of a title (docs/search.md).
pub const MAX_NGRAM: usize = 4;

/// What marks an exact-title key among the stored terms: a folded title
/// as long as a bigram (活着) must not share the bigram's postings.
const EXACT_MARK: char = '=';

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
        for term in han_ngrams(&han) {
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

/// One stored posting: a term of a record, the summed weight of the
/// fields it was found in, and those fields as bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// The term as stored ([`stored_term`]).
    pub term: String,
    /// Sum of the weights of `fields`.
    pub score: i64,
    /// [`Field::bit`]s of the fields the term was found in.
    pub fields: i64,
}

/// The term under which a key is stored: exact-title keys are marked so
/// that they never share a posting list with a word or an n-gram.
pub fn stored_term(term: &str, field: Field) -> String {
    match field {
        Field::Exact => format!("{EXACT_MARK}{term}"),
        _ => term.to_string(),
    }
}

/// The postings of a record: its keys merged per stored term, in term order.
pub fn record_postings(title: &str, responsibility: &str, isbn13: Option<&str>) -> Vec<Posting> {
    let mut merged: HashMap<String, Posting> = HashMap::new();
    for key in record_keys(title, responsibility, isbn13) {
        let term = stored_term(&key.term, key.field);
        let posting = merged.entry(term.clone()).or_insert(Posting {
            term,
            score: 0,
            fields: 0,
        });
        posting.score += key.weight;
        posting.fields |= key.field.bit();
    }
    let mut out: Vec<Posting> = merged.into_values().collect();
    out.sort_by(|a, b| a.term.cmp(&b.term));
    out
}

/// Every n-gram of two to [`MAX_NGRAM`] characters of a Han run, or its
/// one unigram when it has one character: the keys of a record's text.
pub fn han_ngrams(han: &[char]) -> Vec<String> {
    if han.len() == 1 {
        return vec![han[0].to_string()];
    }
    (2..=MAX_NGRAM)
        .flat_map(|n| han.windows(n).map(|gram| gram.iter().collect::<String>()))
        .collect()
}

/// The fewest n-grams that cover a query's Han run: the run itself up to
/// [`MAX_NGRAM`] characters, else n-grams of that length from the start,
/// the last one flush with the end. A record with all of them holds the
/// run itself, save where its pieces stand apart in one long title.
pub fn han_query_terms(han: &[char]) -> Vec<String> {
    if han.len() <= MAX_NGRAM {
        return vec![han.iter().collect()];
    }
    let last = han.len() - MAX_NGRAM;
    let mut starts: Vec<usize> = (0..last).step_by(MAX_NGRAM).collect();
    starts.push(last);
    starts
        .into_iter()
        .map(|start| han[start..start + MAX_NGRAM].iter().collect())
        .collect()
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
    fn n_grams_of_two_to_four_characters_are_keys() {
        let keys = record_keys("人工智能入门", "", None);
        for term in ["人工", "人工智", "人工智能", "智能入门", "入门"] {
            assert!(has(&keys, term, Field::Title), "{term}");
        }
        assert!(!has(&keys, "人工智能入", Field::Title));
    }

    #[test]
    fn a_query_run_is_covered_by_the_fewest_n_grams() {
        let terms = |text: &str| han_query_terms(&text.chars().collect::<Vec<_>>());
        assert_eq!(terms("文化"), ["文化"]);
        assert_eq!(terms("中国文化"), ["中国文化"]);
        assert_eq!(terms("平凡的世界"), ["平凡的世", "凡的世界"]);
        assert_eq!(terms("敦煌瓷器史话"), ["敦煌瓷器", "瓷器史话"]);
        assert_eq!(
            terms("一二三四五六七八九"),
            ["一二三四", "五六七八", "六七八九"]
        );
        assert_eq!(terms("蛙"), ["蛙"]);
    }

    #[test]
    fn postings_merge_the_fields_of_a_term_and_mark_the_exact_title() {
        let postings = record_postings("活着", "余华著", None);
        let find = |term: &str| postings.iter().find(|p| p.term == term).cloned();
        let exact = find("=活着").expect("the exact title is its own posting");
        assert_eq!((exact.score, exact.fields), (100, Field::Exact.bit()));
        let bigram = find("活着").unwrap();
        assert_eq!((bigram.score, bigram.fields), (4, Field::Title.bit()));
        // A term in the title and the responsibility is one posting.
        let both = record_postings("余华传", "余华著", None);
        let yu = both.iter().find(|p| p.term == "余华").unwrap();
        assert_eq!(yu.score, Field::Title.weight() + Field::Author.weight());
        assert_eq!(yu.fields, Field::Title.bit() | Field::Author.bit());
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
