//! Folding text to the one form both the index and queries use: lower case,
//! full-width ASCII to half width, traditional characters to simplified.
//! Without the fold, 三體 and 三体 would be different keys.

/// A piece of folded text of one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A run of Han characters, folded to simplified.
    Han(Vec<char>),
    /// A run of ASCII letters and digits, lower case (a word, pinyin, a number).
    Word(String),
}

/// Whether `c` is a Han character (the CJK unified ideographs and their
/// first extension, which hold every character of a modern title).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Folds text: full width to half width, lower case, traditional to
/// simplified. Everything else is kept as it is.
pub fn fold(text: &str) -> String {
    let half: String = text
        .chars()
        .map(|c| match c {
            // Full-width forms of ASCII (ＡＢＣ１２３) sit 0xFEE0 above it.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    fast2s::convert(&half)
}

/// Splits folded text into runs of Han characters and ASCII words; every
/// other character (punctuation, spaces, Roman numerals) separates them.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut han = Vec::new();
    let mut word = String::new();
    for c in fold(text).chars() {
        if is_han(c) {
            flush_word(&mut word, &mut out);
            han.push(c);
        } else if c.is_ascii_alphanumeric() {
            flush_han(&mut han, &mut out);
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_han(&mut han, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_han(&mut han, &mut out);
    out
}

fn flush_word(word: &mut String, out: &mut Vec<Token>) {
    if !word.is_empty() {
        out.push(Token::Word(std::mem::take(word)));
    }
}

fn flush_han(han: &mut Vec<char>, out: &mut Vec<Token>) {
    if !han.is_empty() {
        out.push(Token::Han(std::mem::take(han)));
    }
}

/// The key a whole title is known by for exact matching: its letters,
/// digits and characters, folded, with nothing between them.
pub fn exact_key(text: &str) -> String {
    fold(text)
        .chars()
        .filter(|c| is_han(*c) || c.is_ascii_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_folds_to_simplified() {
        assert_eq!(fold("三體"), "三体");
        assert_eq!(fold("紅樓夢"), "红楼梦");
    }

    #[test]
    fn full_width_and_case_fold_to_ascii_lower_case() {
        assert_eq!(fold("ＳａｎＴｉ１"), "santi1");
    }

    #[test]
    fn tokens_split_by_script_and_punctuation() {
        assert_eq!(
            tokens("三体Ⅱ·黑暗森林 Liu2008"),
            vec![
                Token::Han(vec!['三', '体']),
                Token::Han(vec!['黑', '暗', '森', '林']),
                Token::Word("liu2008".into()),
            ]
        );
        assert_eq!(
            tokens("三体santi"),
            vec![Token::Han(vec!['三', '体']), Token::Word("santi".into())]
        );
    }

    #[test]
    fn exact_keys_ignore_punctuation_and_script_form() {
        assert_eq!(exact_key("三體 Ⅱ·黑暗森林"), "三体黑暗森林");
        assert_eq!(exact_key(" The Three-Body Problem "), "thethreebodyproblem");
    }
}
