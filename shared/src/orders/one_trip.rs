//! Placing an order on PostgreSQL in one round trip: one call of
//! `wj_place_order` (migration 0025), which checks, claims, writes and
//! answers in one statement, so the component waits on the network once
//! per order instead of once per step. What the function decides in SQL is
//! what `steps.rs` decides on SQLite; the texts of its refusals are Rust's
//! ([`super::refusal`]).

use super::place::{OrderSettings, Outcome, Placement, Terms};
use crate::db::Db;
use crate::session::Unrevoked;
use crate::{Error, Result};

/// The call. `$6` travels as text (`{1,2,3}`) because the seam binds no
/// arrays; the inner cast gives it a type PostgreSQL can bind text to.
const SQL_PLACE: &str = "SELECT wj_place_order($1, $2, $3, $4, $5, \
     CAST(CAST($6 AS TEXT) AS BIGINT[]), $7, $8, $9, $10, $11, $12, $13, $14) AS outcome";

/// One attempt (see [`super::place::place`]).
pub(super) fn place(
    db: &dyn Db,
    caller: &Unrevoked,
    placement: &Placement,
    settings: OrderSettings,
    now_ms: i64,
    store_checked: bool,
) -> Result<Outcome> {
    let claims = caller.pending();
    let Terms {
        state,
        pickup_point: point,
        address,
        fee,
        due,
        ..
    } = placement.terms(settings, now_ms)?;
    let rows = db.query(
        SQL_PLACE,
        &[
            claims.reader_id.into(),
            claims.token_id.as_str().into(),
            claims.issued_at_ms.into(),
            i64::from(store_checked).into(),
            placement.idempotency_key.as_str().into(),
            array_literal(&placement.record_ids).into(),
            point.into(),
            address.into(),
            state.as_str().into(),
            placement.channel.into(),
            fee.into(),
            due.into(),
            super::payment::TRADE_PREFIX.into(),
            now_ms.into(),
        ],
    )?;
    let text = rows
        .first()
        .map(|row| row.text("outcome").map(str::to_string))
        .transpose()?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("wj_place_order answered no row")))?;
    read(&text)
}

/// PostgreSQL's array literal of record ids.
fn array_literal(ids: &[i64]) -> String {
    let items: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("{{{}}}", items.join(","))
}

/// The function's JSON answer; one it should never give is a bug here or
/// there, so an internal error.
fn read(text: &str) -> Result<Outcome> {
    serde_json::from_str(text)
        .map_err(|e| Error::Internal(anyhow::anyhow!("wj_place_order answered {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::refusal::Refusal;

    #[test]
    fn record_ids_travel_as_an_array_literal() {
        assert_eq!(array_literal(&[7]), "{7}");
        assert_eq!(array_literal(&[3, 14, 15]), "{3,14,15}");
    }

    // The function's answers as PostgreSQL's json type prints them.
    #[test]
    fn every_answer_of_the_function_reads() {
        let placed = read(
            r#"{"outcome" : "placed", "order" : {"id" : 4, "reader_id" : 1, "state" : "awaiting_payment",
            "fulfilment" : "door", "pickup_point" : null, "delivery_address" : "addr", "fee_fen" : 500,
            "payment_ref" : "WJORD4", "payment_due_at_ms" : 3000, "consolidate" : false,
            "parcel_point" : "B002", "locker_cell" : null, "pickup_deadline_at_ms" : null,
            "created_at_ms" : 2000, "updated_at_ms" : 2000, "lines" : [{"id" : 5, "record_id" : 1,
            "title" : "甲", "state" : "promised", "copy_barcode" : "C2", "pick_point" : "B002",
            "note" : null}]}}"#,
        )
        .unwrap();
        match placed {
            Outcome::Placed { order } => {
                assert_eq!((order.id, order.fee_fen), (4, 500));
                assert_eq!(order.payment_ref.as_deref(), Some("WJORD4"));
                assert_eq!(order.lines[0].copy_barcode.as_deref(), Some("C2"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read(r#"{"outcome" : "existing", "id" : 1}"#).unwrap(),
            Outcome::Existing { id: 1 }
        ));
        assert!(matches!(
            read(r#"{"outcome": "check_store"}"#).unwrap(),
            Outcome::CheckStore
        ));
        match read(r#"{"outcome" : "refused", "refused" : "no_copy", "title" : "丙"}"#).unwrap() {
            Outcome::Refused(Refusal::NoCopy { title }) => assert_eq!(title, "丙"),
            other => panic!("{other:?}"),
        }
        assert!(read(r#"{"outcome": "shrug"}"#).is_err());
    }
}
