//! Pickup expiry: an order still awaiting pickup after its deadline is
//! closed (`pickup_expired`), its copies travel back to their home shelf,
//! its open lines are cancelled and the reader is told; each order in its
//! own transaction.
//!
//! A copy waiting in a locker cell must come out before the cell can take
//! another parcel: an `open_cell` command without a reader (a courier's
//! opening) is queued for the locker's next heartbeat in the same
//! transaction, and the cell is no longer held for the order. The cell
//! turns empty when the locker reports it so, after the courier took the
//! copy.
//!
//! A copy not collected passes to the next reader waiting for its title
//! ([`crate::holds::serve`]), once the order's transaction committed.

use crate::db::{in_transaction, Db};
use crate::kv::Kv;
use crate::locker::{beat_cache, store as lockers, CommandKind};
use crate::orders::log;
use crate::orders::state::{self, OrderState, Transition};
use crate::Result;

/// Expires up to `batch` orders at a time until none is left. Returns how
/// many expired in this run. A locker given a command has its change noted
/// once the order's transaction committed.
pub fn expire(db: &dyn Db, kv: &dyn Kv, batch: i64, now_ms: i64) -> Result<u64> {
    let mut expired = 0;
    loop {
        let rows = db.query(
            "SELECT id, reader_id, pickup_point, locker_cell FROM orders \
             WHERE state = 'awaiting_pickup' AND pickup_deadline_at_ms <= $1 \
             ORDER BY pickup_deadline_at_ms, id LIMIT $2",
            &[now_ms.into(), batch.into()],
        )?;
        let mut changed = 0;
        for row in rows.iter() {
            let order = Expiring {
                id: row.i64("id")?,
                reader_id: row.i64("reader_id")?,
                point: row.opt_text("pickup_point")?.map(str::to_string),
                cell: row.opt_i64("locker_cell")?,
            };
            if expire_one(db, &order, now_ms)? {
                changed += 1;
                if let (Some(point), Some(_)) = (&order.point, order.cell) {
                    beat_cache::note_change(kv, point)?;
                }
            }
        }
        expired += changed;
        if (rows.len() as i64) < batch || changed == 0 {
            return Ok(expired);
        }
    }
}

struct Expiring {
    id: i64,
    reader_id: i64,
    point: Option<String>,
    cell: Option<i64>,
}

fn expire_one(db: &dyn Db, order: &Expiring, now_ms: i64) -> Result<bool> {
    let from = OrderState::AwaitingPickup;
    let transition = Transition::PickupDeadlinePassed;
    from.next(transition)?;
    let lines = db.query(
        "SELECT copy_barcode FROM order_lines WHERE order_id = $1 AND state IN ('promised', 'picked') \
         AND copy_barcode IS NOT NULL",
        &[order.id.into()],
    )?;
    let barcodes = lines
        .iter()
        .map(|row| Ok(row.text("copy_barcode")?.to_string()))
        .collect::<Result<Vec<String>>>()?;
    let expired = in_transaction(db, |db| {
        let Some(to) = state::store(db, order.id, from, transition, now_ms)? else {
            return Ok(false);
        };
        let copies = db.execute(
            "UPDATE copies SET status = 'in_transit', current_point = NULL, updated_at_ms = $2 \
             WHERE barcode IN (SELECT copy_barcode FROM order_lines WHERE order_id = $1 \
               AND state IN ('promised', 'picked'))",
            &[order.id.into(), now_ms.into()],
        )?;
        db.execute(
            "UPDATE order_lines SET state = 'cancelled', updated_at_ms = $2 \
             WHERE order_id = $1 AND state IN ('waiting', 'promised', 'picked')",
            &[order.id.into(), now_ms.into()],
        )?;
        log::event(
            db,
            now_ms,
            "cron:jobs",
            order.id,
            "order_closed",
            serde_json::json!({
                "from": from.as_str(), "to": to.as_str(), "copies_to_home_shelf": copies,
            }),
        )?;
        if let (Some(point), Some(cell)) = (&order.point, order.cell) {
            db.execute(
                "UPDATE locker_cells SET reserved_for_order = NULL, updated_at_ms = $2, \
                 state = CASE WHEN state = 'reserved' THEN 'empty' ELSE state END \
                 WHERE reserved_for_order = $1",
                &[order.id.into(), now_ms.into()],
            )?;
            let open = CommandKind::OpenCell {
                cell: u16::try_from(cell).map_err(anyhow::Error::from)?,
                reader_id: None,
                order_id: None,
            };
            lockers::queue(db, point, &open, now_ms)?;
            log::event(
                db,
                now_ms,
                "cron:jobs",
                order.id,
                "cell_opening_queued",
                serde_json::json!({ "point": point, "cell": cell, "for": "courier" }),
            )?;
        }
        log::notice(
            db,
            now_ms,
            order.reader_id,
            "order_changed",
            &format!("order_changed:{}:{}", order.id, to.as_str()),
            order.id,
            serde_json::json!({ "order_id": order.id, "state": to.as_str() }),
        )?;
        Ok(true)
    })?;
    if expired {
        for barcode in &barcodes {
            crate::holds::serve::serve(db, barcode, "cron:jobs", now_ms)?;
        }
    }
    Ok(expired)
}
