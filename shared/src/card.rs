//! A *virtual card* is the library card a reader gets online instead of a
//! plastic one: issued on a positive credit decision (or a paid deposit),
//! shown in the mini-program as a number and a barcode, usable online and
//! at the counter. Its *card number* is what `readers.card_number` stores.
//!
//! A card number is 16 digits: the prefix `96`, which marks a card issued
//! online (the library's plastic cards use other ranges), 13 random digits,
//! and a Luhn check digit.
//!
//! Why Luhn rather than ISO 7064 MOD 11-2 (the check of Chinese ID
//! numbers): MOD 11-2 needs an eleventh symbol, `X`, which numeric keypads,
//! locker touch screens and numeric-only barcodes cannot carry; Luhn stays
//! within digits and still catches every single mistyped digit and nearly
//! every swap of neighbours (all but `09`/`90`), the mistakes people make
//! when reading a number aloud at a counter.
//!
//! The serial is random, not the reader's id, so that a card number says
//! nothing about how many readers there are and cannot be guessed from a
//! neighbour's. Two readers drawing the same number is unlikely (one in
//! 10^13 per pair) and caught by the `readers_one_per_card_number`
//! constraint; the caller draws again.

use crate::{Error, Result};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

/// The digits every virtual card number starts with.
pub const PREFIX: &str = "96";

/// How many digits a card number has, check digit included.
pub const LENGTH: usize = 16;

/// How many serial digits lie between the prefix and the check digit.
const SERIAL_DIGITS: u32 = (LENGTH - PREFIX.len() - 1) as u32;

/// A valid virtual card number: 16 digits, the prefix, a good check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CardNumber(String);

impl CardNumber {
    /// A new card number with a random serial.
    pub fn issue() -> Result<Self> {
        let mut bytes = [0u8; 8];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| Error::Internal(anyhow::anyhow!("no randomness for a card: {e}")))?;
        Ok(Self::from_serial(u64::from_le_bytes(bytes)))
    }

    /// The card number of `serial`, reduced to its last 13 digits. The
    /// reduction is biased by a few parts in a million: harmless for a
    /// number that only needs to be hard to guess, not uniform.
    pub fn from_serial(serial: u64) -> Self {
        let serial = serial % 10u64.pow(SERIAL_DIGITS);
        let body = format!("{PREFIX}{serial:0width$}", width = SERIAL_DIGITS as usize);
        let check = luhn_check_digit(&body);
        CardNumber(format!("{body}{check}"))
    }

    /// Reads a card number as a reader types it: spaces and hyphens between
    /// the digits are allowed and dropped.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::invalid("card_number", reason);
        let digits: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() != LENGTH || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("must be 16 digits"));
        }
        if !digits.starts_with(PREFIX) {
            return Err(invalid("is not a virtual card number"));
        }
        let (body, check) = digits.split_at(LENGTH - 1);
        if check != luhn_check_digit(body).to_string() {
            return Err(invalid("check digit does not match; mistyped?"));
        }
        Ok(CardNumber(digits))
    }

    /// The 16 digits, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits in groups of four, as printed for a reader.
    pub fn grouped(&self) -> String {
        let groups: Vec<&str> = (0..LENGTH)
            .step_by(4)
            .filter_map(|start| self.0.get(start..start + 4))
            .collect();
        groups.join(" ")
    }
}

impl AsRef<str> for CardNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CardNumber {
    type Error = Error;

    fn try_from(text: String) -> Result<Self> {
        Self::parse(&text)
    }
}

impl From<CardNumber> for String {
    fn from(card: CardNumber) -> String {
        card.0
    }
}

/// The Luhn check digit of `digits` (ASCII digits; anything else counts as
/// zero, so callers check first): from the right, every second digit is
/// doubled and its digits summed, and the check digit brings the total to a
/// multiple of ten.
pub fn luhn_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                0
            };
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    // `sum % 10` is below 10, so the result fits.
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_luhn_digit_matches_published_examples() {
        // The worked example of ISO/IEC 7812: 7992739871 gets 3.
        assert_eq!(luhn_check_digit("7992739871"), 3);
        // A well-known test payment card number: 4111 1111 1111 1111.
        assert_eq!(luhn_check_digit("411111111111111"), 1);
        assert_eq!(luhn_check_digit(""), 0);
    }

    #[test]
    fn an_issued_card_number_parses_back() {
        let card = CardNumber::issue().unwrap();
        assert_eq!(card.as_str().len(), LENGTH);
        assert!(card.as_str().starts_with(PREFIX));
        assert_eq!(CardNumber::parse(card.as_str()).unwrap(), card);
    }

    #[test]
    fn a_serial_gives_a_fixed_number_padded_to_sixteen_digits() {
        let card = CardNumber::from_serial(42);
        assert_eq!(&card.as_str()[..15], "960000000000042");
        assert_eq!(CardNumber::parse(card.as_str()).unwrap(), card);
        assert_eq!(CardNumber::from_serial(u64::MAX).as_str().len(), LENGTH);
    }

    #[test]
    fn spaces_and_hyphens_are_dropped_when_parsing() {
        let card = CardNumber::from_serial(1_234_567_890_123);
        let typed = format!(" {} ", card.grouped().replacen(' ', "-", 1));
        assert_eq!(CardNumber::parse(&typed).unwrap(), card);
        assert_eq!(card.grouped().split(' ').count(), 4);
    }

    #[test]
    fn every_single_mistyped_digit_is_caught() {
        let card = CardNumber::from_serial(9_876_543_210_987);
        for position in 0..LENGTH {
            for digit in b'0'..=b'9' {
                let mut typed = card.as_str().as_bytes().to_vec();
                if typed[position] == digit {
                    continue;
                }
                typed[position] = digit;
                let typed = String::from_utf8(typed).unwrap();
                assert!(CardNumber::parse(&typed).is_err(), "{typed}");
            }
        }
    }

    #[test]
    fn swapped_neighbours_are_caught() {
        let card = CardNumber::from_serial(1_357_924_680_135);
        let digits = card.as_str().as_bytes();
        for i in 2..LENGTH - 1 {
            if digits[i] == digits[i + 1] {
                continue;
            }
            let mut typed = digits.to_vec();
            typed.swap(i, i + 1);
            let typed = String::from_utf8(typed).unwrap();
            assert!(CardNumber::parse(&typed).is_err(), "{typed}");
        }
    }

    #[test]
    fn wrong_length_letters_and_other_prefixes_are_refused() {
        let valid = CardNumber::from_serial(7).to_string();
        let other_prefix = format!("95{}", &valid[2..]);
        let x_check = format!("{}X", &valid[..15]);
        for bad in [
            "",
            "96",
            &valid[..15],
            &format!("{valid}0"),
            &x_check,
            &other_prefix,
        ] {
            assert!(
                matches!(CardNumber::parse(bad), Err(Error::Invalid { ref field, .. }) if field == "card_number"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_card_number_is_a_json_string_checked_on_the_way_in() {
        let card = CardNumber::from_serial(5);
        let json = serde_json::to_string(&card).unwrap();
        assert_eq!(json, format!("\"{card}\""));
        assert_eq!(serde_json::from_str::<CardNumber>(&json).unwrap(), card);
        assert!(serde_json::from_str::<CardNumber>("\"9600000000000000\"").is_err());
    }
}
