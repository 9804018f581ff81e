//! *Credit* is what replaces the library card and the deposit: a third
//! party's opinion of a reader, asked for before lending.
//!
//! - A *credit source* is the provider asked: Sesame (Alipay's score) or
//!   Osmanthus (the city's own citizen credit score).
//! - A *credit score* is that provider's number for one reader, valid only
//!   in the provider's documented range.
//! - A *credit policy* is the library's configuration: the threshold per
//!   source, how long a decision is trusted, and the loan quota of each
//!   standing ([`policy`]).
//! - A *standing* is what the reader may do as a result: borrow with no
//!   deposit and have books brought to the door (Sesame), hold a
//!   deposit-free virtual card (Osmanthus), register with a deposit, or be
//!   refused, with the reason ([`decision`]).
//! - A *credit decision* is one standing with its source, score, when it was
//!   made and until when it is trusted.
//!
//! The rule that runs through the module: a provider that fails, in any way,
//! never grants credit. See [`decision::decide_outcome`].

pub mod decision;
pub mod policy;

pub use decision::{decide, decide_outcome, CreditDecision, ProviderOutcome, Standing};
pub use policy::CreditPolicy;

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which provider a score or decision comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditSource {
    /// Sesame credit, Alipay's score: 350 to 950.
    Sesame,
    /// Osmanthus, the city's citizen credit score: 0 to 1000 (see
    /// [`CreditScore::RANGE_OSMANTHUS`]).
    Osmanthus,
}

impl CreditSource {
    /// Both sources.
    pub const ALL: [CreditSource; 2] = [CreditSource::Sesame, CreditSource::Osmanthus];

    /// The name stored in `readers.credit_source` and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditSource::Sesame => "sesame",
            CreditSource::Osmanthus => "osmanthus",
        }
    }

    /// Reads a source as [`CreditSource::as_str`] writes it.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|source| source.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "credit_source",
                    format!("{text:?} is not one of sesame, osmanthus"),
                )
            })
    }
}

/// A provider's score for one reader, known to lie in that provider's
/// range. Building one is the only way to get a number into a decision.
/// It serialises as the bare number but does not deserialise on its own: a
/// score means nothing without its source, so readers of stored scores go
/// through [`CreditScore::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CreditScore(u16);

impl CreditScore {
    /// Sesame scores run from 350 to 950, as Alipay documents them.
    pub const RANGE_SESAME: std::ops::RangeInclusive<u16> = 350..=950;
    /// The city publishes its Osmanthus score as a number from 0 upwards with
    /// 100 as the first meaningful step, and no upper bound we could rely
    /// on; 1000 is taken as the ceiling, so a larger number is treated as a
    /// malformed answer rather than as very good credit.
    pub const RANGE_OSMANTHUS: std::ops::RangeInclusive<u16> = 0..=1000;

    /// The valid range of `source`'s scores.
    pub fn range(source: CreditSource) -> std::ops::RangeInclusive<u16> {
        match source {
            CreditSource::Sesame => Self::RANGE_SESAME,
            CreditSource::Osmanthus => Self::RANGE_OSMANTHUS,
        }
    }

    /// A score `source` gave, refused when outside its range.
    pub fn new(source: CreditSource, value: i64) -> Result<Self> {
        let range = Self::range(source);
        u16::try_from(value)
            .ok()
            .filter(|v| range.contains(v))
            .map(CreditScore)
            .ok_or_else(|| {
                Error::invalid(
                    "credit_score",
                    format!(
                        "{value} is outside the {} range {}..={}",
                        source.as_str(),
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// Reads a score as a provider writes it ("612").
    pub fn parse(source: CreditSource, text: &str) -> Result<Self> {
        let value = text.trim().parse::<i64>().map_err(|_| {
            Error::invalid("credit_score", format!("{text:?} is not a whole number"))
        })?;
        Self::new(source, value)
    }

    /// The number itself.
    pub fn value(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_back_what_they_write() {
        for source in CreditSource::ALL {
            assert_eq!(CreditSource::parse(source.as_str()).unwrap(), source);
            assert_eq!(serde_json::to_value(source).unwrap(), source.as_str());
        }
        assert!(CreditSource::parse("card").is_err());
    }

    #[test]
    fn a_sesame_score_must_lie_between_350_and_950() {
        assert!(CreditScore::new(CreditSource::Sesame, 349).is_err());
        assert_eq!(
            CreditScore::new(CreditSource::Sesame, 350).unwrap().value(),
            350
        );
        assert_eq!(
            CreditScore::new(CreditSource::Sesame, 950).unwrap().value(),
            950
        );
        assert!(CreditScore::new(CreditSource::Sesame, 951).is_err());
    }

    #[test]
    fn an_osmanthus_score_must_lie_between_0_and_1000() {
        assert!(CreditScore::new(CreditSource::Osmanthus, -1).is_err());
        assert_eq!(
            CreditScore::new(CreditSource::Osmanthus, 0)
                .unwrap()
                .value(),
            0
        );
        assert_eq!(
            CreditScore::new(CreditSource::Osmanthus, 1000)
                .unwrap()
                .value(),
            1000
        );
        assert!(CreditScore::new(CreditSource::Osmanthus, 1001).is_err());
        assert!(CreditScore::new(CreditSource::Osmanthus, i64::MAX).is_err());
    }

    #[test]
    fn a_score_that_is_not_a_number_is_invalid() {
        assert_eq!(
            CreditScore::parse(CreditSource::Sesame, " 612 ")
                .unwrap()
                .value(),
            612
        );
        let error = CreditScore::parse(CreditSource::Sesame, "61x").unwrap_err();
        assert!(matches!(error, Error::Invalid { ref field, .. } if field == "credit_score"));
    }
}
