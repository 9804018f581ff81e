//! Serving the queue: a copy that came back is given to the first waiting
//! hold on its title whose reader may still borrow and whose pickup point
//! can still take an order, as an order already `picking` with the copy
//! promised. A hold passed over stays in the queue, logged.
//!
//! Race-free on both backends, one statement per rule:
//! - the copy moves to `promised` by one conditional `UPDATE` (on the shelf
//!   or travelling, and on no open order line): of two servings of one
//!   copy, one finds it gone;
//! - the order is inserted with `idempotency_key = 'hold:<id>'` under the
//!   unique `(reader_id, idempotency_key)`: a hold gets one order whatever
//!   the concurrency (two copies at once for one hold: the second insert
//!   finds the first, and that copy goes to the next hold);
//! - the hold moves `waiting -> allocated` conditionally, so a hold the
//!   reader cancelled meanwhile is not served;
//! - the partial unique index `copies_one_open_promise` backs all of it.
//!
//! Each attempt is one transaction; one that loses a race rolls back whole.

use super::state::{HoldState, HoldTransition};
use crate::db::{in_transaction, Db};
use crate::orders::log as order_log;
use crate::orders::state::{OrderState, Transition};
use crate::point::PointKind;
use crate::readers::{borrowing, store as readers};
use crate::{Error, Result};
use serde::Serialize;

/// How many waiting holds one copy is offered to before it stays where it is.
const CANDIDATES: i64 = 50;

/// A hold given a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    /// The hold.
    pub hold_id: i64,
    /// Its reader.
    pub reader_id: i64,
    /// The order made for it.
    pub order_id: i64,
    /// The copy.
    pub barcode: String,
}

struct Waiting {
    id: i64,
    reader_id: i64,
    pickup_point: String,
}

/// Offers copy `barcode` to its title's queue; `actor` is who brought it
/// back. `None` when nobody waits, nobody waiting may take it now, or the
/// copy is no longer free (another serving or an order took it).
pub fn serve(db: &dyn Db, barcode: &str, actor: &str, now_ms: i64) -> Result<Option<Served>> {
    let copies = db.query(
        "SELECT record_id FROM copies WHERE barcode = $1 AND status IN ('on_shelf', 'in_transit')",
        &[barcode.into()],
    )?;
    let Some(record_id) = copies.first().map(|r| r.i64("record_id")).transpose()? else {
        return Ok(None);
    };
    let queue = db.query(
        "SELECT id, reader_id, pickup_point FROM holds WHERE record_id = $1 AND state = 'waiting' \
         ORDER BY id LIMIT $2",
        &[record_id.into(), CANDIDATES.into()],
    )?;
    let queue = queue
        .iter()
        .map(|row| {
            Ok(Waiting {
                id: row.i64("id")?,
                reader_id: row.i64("reader_id")?,
                pickup_point: row.text("pickup_point")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for hold in &queue {
        if let Some(reason) = passed_over(db, hold, now_ms)? {
            super::EVENTS.log(
                db,
                now_ms,
                actor,
                hold.id,
                "hold_passed_over",
                serde_json::json!({ "copy": barcode, "reason": reason }),
            )?;
            continue;
        }
        match in_transaction(db, |db| {
            allocate(db, hold, record_id, barcode, actor, now_ms)
        }) {
            Ok(order_id) => {
                return Ok(Some(Served {
                    hold_id: hold.id,
                    reader_id: hold.reader_id,
                    order_id,
                    barcode: barcode.to_string(),
                }))
            }
            Err(Error::Conflict(why)) if why == COPY_TAKEN => return Ok(None),
            Err(Error::Conflict(why)) if why == HOLD_TAKEN => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(None)
}

const COPY_TAKEN: &str = "the copy was taken meanwhile";
const HOLD_TAKEN: &str = "the hold was served or cancelled meanwhile";

/// Why hold `hold` cannot take a copy now, if it cannot.
fn passed_over(db: &dyn Db, hold: &Waiting, now_ms: i64) -> Result<Option<String>> {
    let reader = readers::get(db, hold.reader_id)?;
    if let Err(refusal) = borrowing::check(db, &reader, now_ms) {
        return Ok(Some(refusal.to_string()));
    }
    if borrowing::held(db, reader.id)? + 1 > reader.loan_quota {
        return Ok(Some(format!(
            "the quota of {} is reached",
            reader.loan_quota
        )));
    }
    let point = crate::orders::place::pickup_point(db, &hold.pickup_point)?;
    if let Err(refusal) = crate::orders::place::can_take(db, &point) {
        return Ok(Some(refusal.to_string()));
    }
    Ok(None)
}

/// The copy is picked where it stands if staff work there (a branch or the
/// delivery centre); a copy at a locker, or on the road, is picked at its
/// home branch, where the courier brings it.
const SQL_CLAIM: &str = "UPDATE copies SET status = 'promised', updated_at_ms = $2 \
     WHERE barcode = $1 AND status IN ('on_shelf', 'in_transit') \
       AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.copy_barcode = $1 \
         AND l.state IN ('promised', 'picked')) \
       AND NOT EXISTS (SELECT 1 FROM loans n WHERE n.copy_barcode = $1 AND n.returned_at_ms IS NULL) \
     RETURNING record_id, home_point, current_point";

fn allocate(
    db: &dyn Db,
    hold: &Waiting,
    record_id: i64,
    barcode: &str,
    actor: &str,
    now_ms: i64,
) -> Result<i64> {
    let claimed = db.query(SQL_CLAIM, &[barcode.into(), now_ms.into()])?;
    let copy = claimed
        .first()
        .ok_or_else(|| Error::Conflict(COPY_TAKEN.into()))?;
    if copy.i64("record_id")? != record_id {
        return Err(Error::Conflict(COPY_TAKEN.into()));
    }
    let home = copy.text("home_point")?.to_string();
    let pick_point = match copy.opt_text("current_point")? {
        Some(code) => match crate::point::find_point(db, code)? {
            Some(point) if staffed(point.kind) => point.code,
            _ => home,
        },
        None => home,
    };
    let state = OrderState::Created.next(Transition::Place {
        needs_payment: false,
    })?;
    let held = HoldState::Waiting.next(HoldTransition::Allocate)?;
    let orders = db.query(
        "INSERT INTO orders (reader_id, fulfilment, pickup_point, fee_fen, state, idempotency_key, \
           consolidate, parcel_point, created_at_ms, updated_at_ms) \
         VALUES ($1, 'pickup', $2, 0, $3, $4, 0, $5, $6, $6) \
         ON CONFLICT (reader_id, idempotency_key) DO NOTHING RETURNING id",
        &[
            hold.reader_id.into(),
            hold.pickup_point.as_str().into(),
            state.as_str().into(),
            format!("hold:{}", hold.id).into(),
            pick_point.as_str().into(),
            now_ms.into(),
        ],
    )?;
    let order_id = orders
        .first()
        .map(|r| r.i64("id"))
        .transpose()?
        .ok_or_else(|| Error::Conflict(HOLD_TAKEN.into()))?;
    let moved = db.execute(
        "UPDATE holds SET state = $2, order_id = $3, allocated_at_ms = $4, updated_at_ms = $4 \
         WHERE id = $1 AND state = 'waiting'",
        &[
            hold.id.into(),
            held.as_str().into(),
            order_id.into(),
            now_ms.into(),
        ],
    )?;
    if moved == 0 {
        return Err(Error::Conflict(HOLD_TAKEN.into()));
    }
    db.execute(
        "INSERT INTO order_lines (order_id, record_id, copy_barcode, state, pick_point, updated_at_ms) \
         VALUES ($1, $2, $3, 'promised', $4, $5)",
        &[
            order_id.into(),
            record_id.into(),
            barcode.into(),
            pick_point.as_str().into(),
            now_ms.into(),
        ],
    )?;
    order_log::event(
        db,
        now_ms,
        actor,
        order_id,
        "order_placed",
        serde_json::json!({
            "state": state.as_str(), "lines": [record_id], "consolidate": false, "hold": hold.id,
        }),
    )?;
    super::EVENTS.log(
        db,
        now_ms,
        actor,
        hold.id,
        "hold_allocated",
        serde_json::json!({ "order_id": order_id, "copy": barcode, "pick_point": pick_point }),
    )?;
    order_log::notice(
        db,
        now_ms,
        hold.reader_id,
        "order_changed",
        &format!("hold_allocated:{}", hold.id),
        order_id,
        serde_json::json!({ "order_id": order_id, "state": state.as_str(), "hold_id": hold.id }),
    )?;
    Ok(order_id)
}

/// Whether staff work at a point of this kind (copies can be picked there).
fn staffed(kind: PointKind) -> bool {
    matches!(kind, PointKind::Branch | PointKind::DeliveryCentre)
}
