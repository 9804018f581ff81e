//! ISBNs as readers type them: 10 or 13 digits, with or without hyphens
//! or spaces, the ISBN-10 check character possibly `X`. Every form is read
//! as the one ISBN-13 the index stores.

/// Reads an ISBN in any written form and returns its ISBN-13 digits, or
/// `None` when the text is not an ISBN with a valid check digit.
pub fn parse(text: &str) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match compact.len() {
        13 if compact.bytes().all(|b| b.is_ascii_digit()) => {
            let check = check_13(&compact[..12])?;
            (compact.as_bytes()[12] == check).then_some(compact)
        }
        10 => from_isbn10(&compact),
        _ => None,
    }
}

/// Whether `text` looks like someone meant an ISBN (digits and hyphens,
/// ten or more digits), valid or not.
pub fn looks_like(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    digits >= 9
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | 'x' | 'X'))
}

fn from_isbn10(isbn10: &str) -> Option<String> {
    let bytes = isbn10.as_bytes();
    if !bytes[..9].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes[..9]
        .iter()
        .enumerate()
        .map(|(i, b)| (10 - i as u32) * u32::from(b - b'0'))
        .sum();
    let last = match bytes[9] {
        b'X' => 10,
        b @ b'0'..=b'9' => u32::from(b - b'0'),
        _ => return None,
    };
    if !(sum + last).is_multiple_of(11) {
        return None;
    }
    let twelve = format!("978{}", &isbn10[..9]);
    let check = check_13(&twelve)?;
    Some(format!("{twelve}{}", check as char))
}

/// The ISBN-13 check digit of twelve digits.
fn check_13(twelve: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in twelve.bytes().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        sum += u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 };
    }
    Some(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// The ISBN-10 form of an ISBN-13 that has one (prefix 978).
pub fn to_isbn10(isbn13: &str) -> Option<String> {
    let nine = isbn13.strip_prefix("978")?.get(..9)?;
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| (10 - i as u32) * u32::from(b.wrapping_sub(b'0')))
        .sum();
    let check = (11 - sum % 11) % 11;
    let check = if check == 10 {
        'X'
    } else {
        char::from(b'0' + check as u8)
    };
    Some(format!("{nine}{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn13_with_or_without_hyphens() {
        assert_eq!(parse("978-7-5366-9293-0").as_deref(), Some("9787536692930"));
        assert_eq!(parse("9787536692930").as_deref(), Some("9787536692930"));
    }

    #[test]
    fn isbn10_becomes_isbn13() {
        assert_eq!(parse("7-5366-9293-5").as_deref(), Some("9787536692930"));
        assert_eq!(parse("0-306-40615-2").as_deref(), Some("9780306406157"));
        assert_eq!(to_isbn10("9787536692930").as_deref(), Some("7536692935"));
    }

    #[test]
    fn a_wrong_check_digit_is_not_an_isbn() {
        assert_eq!(parse("9787536692931"), None);
        assert_eq!(parse("7-5366-9293-1"), None);
        assert_eq!(parse("santi"), None);
    }

    #[test]
    fn isbn_shapes_are_recognised_before_validation() {
        assert!(looks_like("978-7-5366-9293-1"));
        assert!(!looks_like("2008"));
    }
}
