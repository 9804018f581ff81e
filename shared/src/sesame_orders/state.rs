//! Where a Sesame order stands on our side, and the only moves it makes
//! ([`SesameOrderState::next`]); the calls it owes at Sesame are apart
//! ([`super::outbox::Pending`]).
//!
//! ```text
//! open ──Report (still out after the grace)──> overdue
//! open | overdue ──Close (returned, or lost)──> completed
//! ```

use crate::{Error, Result};

/// Where a Sesame order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SesameOrderState {
    /// The book is out, on time or within the grace.
    Open,
    /// Reported late: the reader lends deposit-free no more until it is
    /// completed.
    Overdue,
    /// The loan closed (closed for good).
    Completed,
}

/// What happens to a Sesame order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SesameStep {
    /// Sesame still has it out after the expiry.
    Report,
    /// The loan closed.
    Close,
}

impl SesameOrderState {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            SesameOrderState::Open => "open",
            SesameOrderState::Overdue => "overdue",
            SesameOrderState::Completed => "completed",
        }
    }

    /// The state `step` leads to, or a 409 naming both.
    pub fn next(self, step: SesameStep) -> Result<Self> {
        match (self, step) {
            (SesameOrderState::Open, SesameStep::Report) => Ok(SesameOrderState::Overdue),
            (SesameOrderState::Open | SesameOrderState::Overdue, SesameStep::Close) => {
                Ok(SesameOrderState::Completed)
            }
            (from, step) => Err(Error::Conflict(format!(
                "a Sesame order that is {} cannot take {step:?}",
                from.as_str()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_order_is_reported_and_any_unclosed_one_closes() {
        use SesameOrderState as S;
        assert_eq!(S::Open.next(SesameStep::Report).unwrap(), S::Overdue);
        assert!(S::Overdue.next(SesameStep::Report).is_err());
        assert!(S::Completed.next(SesameStep::Report).is_err());
        assert_eq!(S::Open.next(SesameStep::Close).unwrap(), S::Completed);
        assert_eq!(S::Overdue.next(SesameStep::Close).unwrap(), S::Completed);
        assert!(S::Completed.next(SesameStep::Close).is_err());
    }
}
