//! The hold state machine: the only way a hold's state changes is
//! [`HoldState::next`], and a step the current state does not allow is a
//! 409 that names both.
//!
//! ```text
//! waiting ──Allocate (a copy came back)──> allocated   (the order takes over)
//! waiting ──Cancel (the reader)──────────> cancelled
//! ```

use crate::{Error, Result};
use serde::Serialize;

/// Where a hold is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    /// In the title's queue.
    Waiting,
    /// A copy was given to it: an order now carries it (closed).
    Allocated,
    /// The reader left the queue (closed).
    Cancelled,
}

/// What can happen to a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldTransition {
    /// A returned copy is given to the hold, as an order.
    Allocate,
    /// The reader cancels.
    Cancel,
}

impl HoldState {
    /// Every state.
    pub const ALL: [HoldState; 3] = [
        HoldState::Waiting,
        HoldState::Allocated,
        HoldState::Cancelled,
    ];

    /// The stored text (`holds.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Waiting => "waiting",
            HoldState::Allocated => "allocated",
            HoldState::Cancelled => "cancelled",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown hold state {text:?} stored")))
    }

    /// The state `transition` leads to, or a 409 naming both.
    pub fn next(self, transition: HoldTransition) -> Result<HoldState> {
        match (self, transition) {
            (HoldState::Waiting, HoldTransition::Allocate) => Ok(HoldState::Allocated),
            (HoldState::Waiting, HoldTransition::Cancel) => Ok(HoldState::Cancelled),
            (HoldState::Allocated, HoldTransition::Cancel) => Err(Error::Conflict(
                "this hold has a copy on its way already: cancel its order instead".into(),
            )),
            (from, step) => Err(Error::Conflict(format!(
                "a hold that is {} cannot be {}",
                from.as_str(),
                match step {
                    HoldTransition::Allocate => "allocated",
                    HoldTransition::Cancel => "cancelled",
                }
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_hold_is_allocated_or_cancelled() {
        assert_eq!(
            HoldState::Waiting.next(HoldTransition::Allocate).unwrap(),
            HoldState::Allocated
        );
        assert_eq!(
            HoldState::Waiting.next(HoldTransition::Cancel).unwrap(),
            HoldState::Cancelled
        );
    }

    #[test]
    fn closed_holds_move_no_further() {
        for from in [HoldState::Allocated, HoldState::Cancelled] {
            for step in [HoldTransition::Allocate, HoldTransition::Cancel] {
                assert!(
                    matches!(from.next(step), Err(Error::Conflict(_))),
                    "{from:?} {step:?}"
                );
            }
        }
    }

    #[test]
    fn an_allocated_hold_points_the_reader_at_its_order() {
        let Err(Error::Conflict(why)) = HoldState::Allocated.next(HoldTransition::Cancel) else {
            panic!("allowed");
        };
        assert!(why.contains("cancel its order"), "{why}");
    }

    #[test]
    fn stored_text_reads_back() {
        for state in HoldState::ALL {
            assert_eq!(HoldState::parse(state.as_str()).unwrap(), state);
        }
        assert!(HoldState::parse("lost").is_err());
    }
}
