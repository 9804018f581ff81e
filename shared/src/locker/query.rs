//! The locker's *query*: a reader identified at the locker's screen (the
//! virtual card's QR code, or the reader id of the app's code) asks what
//! they have here: orders waiting in this locker's cells, and their loans
//! with due dates, so the screen can say "cell 17" or "due in 3 days".
//!
//! Signed like every locker request; it changes nothing, so a resend is
//! harmless (but still needs a fresh nonce).

use super::messages::from_json;
use crate::db::Db;
use crate::loans::{open_loans, OpenLoan};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Who is asking: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// The reader's id, from the app's code.
    #[serde(default)]
    pub reader_id: Option<i64>,
    /// The 16-digit virtual card number, from the card's QR code.
    #[serde(default)]
    pub card_number: Option<String>,
}

/// An order waiting in a cell of this locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// The order.
    pub order_id: i64,
    /// Its cell.
    pub cell: i64,
    /// Collect before this, epoch milliseconds.
    pub pickup_deadline_at_ms: Option<i64>,
}

/// The answer to a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryReply {
    /// The reader found.
    pub reader_id: i64,
    /// Orders waiting in this locker, by cell.
    pub waiting: Vec<Waiting>,
    /// Open loans, soonest due first.
    pub loans: Vec<OpenLoan>,
}

impl Query {
    /// Reads and checks a query body.
    pub fn parse(body: &[u8]) -> Result<Query> {
        let query: Query = from_json(body)?;
        match (&query.reader_id, &query.card_number) {
            (Some(id), None) if *id > 0 => Ok(query),
            (None, Some(card)) if card.len() == 16 && card.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(query)
            }
            (Some(_), None) => Err(Error::invalid("reader_id", "not a positive id")),
            (None, Some(_)) => Err(Error::invalid("card_number", "not 16 digits")),
            _ => Err(Error::invalid(
                "body",
                "exactly one of reader_id and card_number",
            )),
        }
    }
}

/// What the reader `query` names has at `locker`; an unknown reader is 404.
pub fn answer(db: &dyn Db, locker: &str, query: &Query, now_ms: i64) -> Result<QueryReply> {
    let rows = match (&query.reader_id, &query.card_number) {
        (Some(id), _) => db.query("SELECT id FROM readers WHERE id = $1", &[(*id).into()])?,
        (_, Some(card)) => db.query(
            "SELECT id FROM readers WHERE card_number = $1",
            &[card.as_str().into()],
        )?,
        _ => return Err(Error::invalid("body", "no reader named")),
    };
    let reader_id = rows
        .first()
        .ok_or(Error::NotFound { what: "reader" })?
        .i64("id")?;
    let mut waiting = Vec::new();
    for row in db
        .query(
            "SELECT id, locker_cell, pickup_deadline_at_ms FROM orders \
             WHERE reader_id = $1 AND pickup_point = $2 AND state = 'awaiting_pickup' \
               AND locker_cell IS NOT NULL ORDER BY locker_cell",
            &[reader_id.into(), locker.into()],
        )?
        .iter()
    {
        waiting.push(Waiting {
            order_id: row.i64("id")?,
            cell: row.i64("locker_cell")?,
            pickup_deadline_at_ms: row.opt_i64("pickup_deadline_at_ms")?,
        });
    }
    let loans = open_loans(db, reader_id, now_ms)?;
    Ok(QueryReply {
        reader_id,
        waiting,
        loans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Query> {
        Query::parse(body.as_bytes())
    }

    fn field(body: &str) -> String {
        match parse(body) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_query_names_exactly_one_reader() {
        assert_eq!(parse(r#"{"reader_id": 42}"#).unwrap().reader_id, Some(42));
        let card = parse(r#"{"card_number": "9612345678901234"}"#).unwrap();
        assert_eq!(card.card_number.as_deref(), Some("9612345678901234"));
        assert_eq!(field(r#"{}"#), "body");
        assert_eq!(
            field(r#"{"reader_id": 1, "card_number": "9612345678901234"}"#),
            "body"
        );
        assert_eq!(field(r#"{"reader_id": 0}"#), "reader_id");
        assert_eq!(field(r#"{"card_number": "96-12"}"#), "card_number");
        assert_eq!(field(r#"{"reader_id": 1, "cell": 3}"#), "body");
    }
}
