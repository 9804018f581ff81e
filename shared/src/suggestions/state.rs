//! The purchase-suggestion state machine: the only way a suggestion's
//! state changes is [`SuggestionState::next`].
//!
//! ```text
//! proposed ──Approve (staff, a price)──> approved ──Arrive (catalogued)──> arrived
//! proposed ──Decline (staff, a reason)──> rejected
//! ```
//! (`ordered`, "bought from the vendor", is kept by the table of 0001 and
//! arrives the same way; nothing moves a suggestion there yet.)

use crate::{Error, Result};
use serde::Serialize;

/// Where a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionState {
    /// Waiting for a librarian.
    Proposed,
    /// To be bought.
    Approved,
    /// Declined, with a reason (closed).
    Rejected,
    /// Ordered from the vendor.
    Ordered,
    /// Catalogued: the proposer's order is made (closed).
    Arrived,
}

/// What happens to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionStep {
    /// A librarian approves it at a price.
    Approve,
    /// A librarian declines it.
    Decline,
    /// The bought book was catalogued.
    Arrive,
}

impl SuggestionState {
    /// Every state.
    pub const ALL: [SuggestionState; 5] = [
        SuggestionState::Proposed,
        SuggestionState::Approved,
        SuggestionState::Rejected,
        SuggestionState::Ordered,
        SuggestionState::Arrived,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionState::Proposed => "proposed",
            SuggestionState::Approved => "approved",
            SuggestionState::Rejected => "rejected",
            SuggestionState::Ordered => "ordered",
            SuggestionState::Arrived => "arrived",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::invalid("state", format!("{text:?} is not a suggestion state")))
    }

    /// The state `step` leads to, or a 409 naming both.
    pub fn next(self, step: SuggestionStep) -> Result<Self> {
        use SuggestionState as S;
        use SuggestionStep as T;
        match (self, step) {
            (S::Proposed, T::Approve) => Ok(S::Approved),
            (S::Proposed, T::Decline) => Ok(S::Rejected),
            (S::Approved | S::Ordered, T::Arrive) => Ok(S::Arrived),
            (from, step) => Err(Error::Conflict(format!(
                "a suggestion that is {} cannot be {}",
                from.as_str(),
                match step {
                    T::Approve => "approved",
                    T::Decline => "declined",
                    T::Arrive => "catalogued",
                }
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_proposed_suggestion_is_decided() {
        use SuggestionState as S;
        assert_eq!(
            S::Proposed.next(SuggestionStep::Approve).unwrap(),
            S::Approved
        );
        assert_eq!(
            S::Proposed.next(SuggestionStep::Decline).unwrap(),
            S::Rejected
        );
        for from in [S::Approved, S::Rejected, S::Ordered, S::Arrived] {
            assert!(from.next(SuggestionStep::Approve).is_err(), "{from:?}");
            assert!(from.next(SuggestionStep::Decline).is_err(), "{from:?}");
        }
    }

    #[test]
    fn a_bought_suggestion_arrives_once() {
        use SuggestionState as S;
        assert_eq!(
            S::Approved.next(SuggestionStep::Arrive).unwrap(),
            S::Arrived
        );
        assert_eq!(S::Ordered.next(SuggestionStep::Arrive).unwrap(), S::Arrived);
        for from in [S::Proposed, S::Rejected, S::Arrived] {
            assert!(from.next(SuggestionStep::Arrive).is_err(), "{from:?}");
        }
    }

    #[test]
    fn stored_text_reads_back() {
        for state in SuggestionState::ALL {
            assert_eq!(SuggestionState::parse(state.as_str()).unwrap(), state);
        }
    }
}
