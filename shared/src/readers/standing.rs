//! The reader's current standing as stored in `readers.standing`, and how a
//! new credit decision combines with what the reader already has.

use crate::credit::{CreditDecision, Standing};
use crate::{Error, Result};
use serde::Serialize;

/// The name of a standing, as `readers.standing` and the API write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StandingName {
    /// Sesame at or above its threshold.
    SesameDepositFree,
    /// Osmanthus at or above its threshold.
    OsmanthusVirtualCard,
    /// Credit was not enough; lends once a deposit is paid.
    Deposit,
    /// No lending at all.
    Refused,
}

impl StandingName {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            StandingName::SesameDepositFree => "sesame_deposit_free",
            StandingName::OsmanthusVirtualCard => "osmanthus_virtual_card",
            StandingName::Deposit => "deposit",
            StandingName::Refused => "refused",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Result<Self> {
        [
            StandingName::SesameDepositFree,
            StandingName::OsmanthusVirtualCard,
            StandingName::Deposit,
            StandingName::Refused,
        ]
        .into_iter()
        .find(|name| name.as_str() == text)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown standing {text:?} stored")))
    }

    /// The name of a decided standing.
    pub fn of(standing: &Standing) -> Self {
        match standing {
            Standing::SesameDepositFree { .. } => StandingName::SesameDepositFree,
            Standing::OsmanthusVirtualCard => StandingName::OsmanthusVirtualCard,
            Standing::Deposit { .. } => StandingName::Deposit,
            Standing::Refused { .. } => StandingName::Refused,
        }
    }

    /// Whether this standing lends without a deposit.
    pub fn is_deposit_free(self) -> bool {
        matches!(
            self,
            StandingName::SesameDepositFree | StandingName::OsmanthusVirtualCard
        )
    }
}

/// What the reader holds now, as far as the new decision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    /// The stored standing, if any.
    pub standing: Option<StandingName>,
    /// Until when it is trusted.
    pub valid_until_ms: Option<i64>,
}

/// Whether `decision` should replace the reader's current standing at
/// `now_ms`. A worse answer from one provider must not take away a
/// deposit-free standing the other provider granted and that is still
/// trusted: a reader with Osmanthus 150 keeps the virtual card after a
/// Sesame 580. Anything else is replaced by the newer decision.
pub fn replaces(current: Current, decision: &CreditDecision, now_ms: i64) -> bool {
    let new = StandingName::of(&decision.standing);
    let current_still_free = current.standing.is_some_and(StandingName::is_deposit_free)
        && current.valid_until_ms.is_some_and(|until| now_ms < until);
    new.is_deposit_free() || !current_still_free
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credit::{decide, CreditPolicy, CreditScore, CreditSource};

    const NOW: i64 = 1_800_000_000_000;

    fn decision(source: CreditSource, score: i64) -> CreditDecision {
        let score = CreditScore::new(source, score).unwrap();
        decide(&CreditPolicy::defaults(), source, score, NOW)
    }

    #[test]
    fn names_read_back_what_they_write() {
        for name in [
            StandingName::SesameDepositFree,
            StandingName::OsmanthusVirtualCard,
            StandingName::Deposit,
            StandingName::Refused,
        ] {
            assert_eq!(StandingName::parse(name.as_str()).unwrap(), name);
            assert_eq!(serde_json::to_value(name).unwrap(), name.as_str());
        }
        assert!(StandingName::parse("gold").is_err());
    }

    #[test]
    fn a_low_score_does_not_take_away_a_card_still_trusted() {
        let current = Current {
            standing: Some(StandingName::OsmanthusVirtualCard),
            valid_until_ms: Some(NOW + 1),
        };
        assert!(!replaces(
            current,
            &decision(CreditSource::Sesame, 580),
            NOW
        ));
        assert!(replaces(current, &decision(CreditSource::Sesame, 600), NOW));
    }

    #[test]
    fn an_expired_standing_is_replaced_by_whatever_comes_next() {
        let current = Current {
            standing: Some(StandingName::SesameDepositFree),
            valid_until_ms: Some(NOW),
        };
        assert!(replaces(current, &decision(CreditSource::Sesame, 599), NOW));
        let none = Current {
            standing: None,
            valid_until_ms: None,
        };
        assert!(replaces(none, &decision(CreditSource::Osmanthus, 99), NOW));
    }
}
