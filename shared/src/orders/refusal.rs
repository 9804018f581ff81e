//! Why an order is not placed, written once for both backends: the
//! SQLite steps (`steps.rs`) return these, and the PostgreSQL function of
//! migration 0025 answers their names and fields as JSON
//! (`{"refused": "quota", "would_hold": 5, "quota": 3}`), so the client
//! reads the same problem whichever database decided.

use crate::{Error, Result};
use serde::Deserialize;

/// A placement refused before anything was kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "refused", rename_all = "snake_case")]
pub enum Refusal {
    /// The session token was signed out (`session_revocations`).
    Revoked,
    /// The token names no reader.
    ReaderNotFound,
    /// No trusted deposit-free standing and no deposit, or not active.
    MayNotBorrow,
    /// Compensation for a lost or damaged book is owed.
    CompensationUnpaid {
        /// How much, in fen.
        owed_fen: i64,
    },
    /// Door delivery needs Sesame standing.
    DoorNeedsSesame,
    /// Loans plus lines on order plus this order exceed the quota.
    Quota {
        /// What the reader would hold.
        would_hold: i64,
        /// The reader's quota.
        quota: i64,
    },
    /// No such pickup point.
    PointNotFound,
    /// The delivery centre was named as the pickup point.
    NotAPickupPoint,
    /// The point has no opening hours.
    Closed {
        /// The point's name.
        name: String,
    },
    /// The point's locker sends no heartbeats.
    LockerOffline {
        /// The point's name.
        name: String,
    },
    /// The point's locker has no empty cell.
    LockerFull {
        /// The point's name.
        name: String,
    },
    /// No copy of a title is on a shelf.
    NoCopy {
        /// The title, as the reader knows it.
        title: String,
    },
    /// A line names no record.
    RecordNotFound,
    /// The library has no delivery centre (a set-up fault).
    NoDeliveryCentre,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Revoked => Error::Unauthenticated,
            Refusal::ReaderNotFound => Error::NotFound { what: "reader" },
            Refusal::MayNotBorrow => crate::readers::borrowing::may_not_borrow(),
            Refusal::CompensationUnpaid { owed_fen } => Error::CompensationUnpaid {
                amount_yuan: crate::alipay::yuan(owed_fen),
            },
            Refusal::DoorNeedsSesame => {
                Error::Forbidden("door delivery needs Sesame credit at the threshold".into())
            }
            Refusal::Quota { would_hold, quota } => Error::Conflict(format!(
                "this order would make {would_hold} books held or on order; the quota is {quota}"
            )),
            Refusal::PointNotFound => Error::NotFound {
                what: "service point",
            },
            Refusal::NotAPickupPoint => Error::invalid(
                "point_code",
                "the delivery centre is not a pickup point",
            ),
            Refusal::Closed { name } => Error::Conflict(format!("{name} is closed")),
            Refusal::LockerOffline { name } => Error::Conflict(format!(
                "the locker at {name} is offline; choose another point"
            )),
            Refusal::LockerFull { name } => Error::Conflict(format!(
                "the locker at {name} has no free cell; choose another point"
            )),
            Refusal::NoCopy { title } => Error::Conflict(format!(
                "no copy of «{title}» is on a shelf to lend now; join its queue (POST /api/me/holds) or suggest a purchase"
            )),
            Refusal::RecordNotFound => Error::NotFound { what: "record" },
            Refusal::NoDeliveryCentre => {
                Error::Internal(anyhow::anyhow!("no delivery centre is configured"))
            }
        }
    }
}

/// `Err` of a refusal, for the steps that return `Result`.
pub fn refuse<T>(refusal: Refusal) -> Result<T> {
    Err(refusal.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_json_reads_as_the_refusal() {
        let read = |json: &str| serde_json::from_str::<Refusal>(json).unwrap();
        assert_eq!(read(r#"{"refused": "revoked"}"#), Refusal::Revoked);
        assert_eq!(
            read(r#"{"refused" : "quota", "would_hold" : 5, "quota" : 3, "outcome": "refused"}"#),
            Refusal::Quota {
                would_hold: 5,
                quota: 3
            }
        );
        assert_eq!(
            read(r#"{"refused": "no_copy", "title": "红楼梦"}"#),
            Refusal::NoCopy {
                title: "红楼梦".into()
            }
        );
    }

    #[test]
    fn refusals_map_to_the_problems_they_always_were() {
        assert!(matches!(
            Error::from(Refusal::Revoked),
            Error::Unauthenticated
        ));
        assert!(matches!(
            Error::from(Refusal::PointNotFound),
            Error::NotFound {
                what: "service point"
            }
        ));
        match Error::from(Refusal::NoCopy {
            title: "甲".into()
        }) {
            Error::Conflict(text) => assert!(text.starts_with("no copy of «甲»"), "{text}"),
            other => panic!("{other:?}"),
        }
        match Error::from(Refusal::CompensationUnpaid { owed_fen: 2550 }) {
            Error::CompensationUnpaid { amount_yuan } => assert_eq!(amount_yuan, "25.50"),
            other => panic!("{other:?}"),
        }
    }
}
