//! Closing an order before it reaches the reader: cancelled by the reader
//! or staff, or expired unpaid. Its open lines are cancelled and their
//! copies go back on the shelf where they were picked, and from there to
//! their title's holds queue, if anyone waits.

use super::log;
use super::state::{self, OrderState, Transition};
use super::view;
use crate::db::{in_transaction, Db};
use crate::Result;

/// Reader `reader_id` cancels their order `order_id`; another reader's
/// order is "not found", a state that no longer allows it is refused.
pub fn by_reader(
    db: &dyn Db,
    reader_id: i64,
    order_id: i64,
    now_ms: i64,
) -> Result<view::OrderView> {
    view::get_for_reader(db, reader_id, order_id)?;
    close(
        db,
        order_id,
        Transition::CancelByReader,
        &format!("reader:{reader_id}"),
        now_ms,
    )?;
    view::get(db, order_id)
}

/// Moves order `order_id` by `transition` (a cancelling one) and releases
/// its copies, in one transaction. `false` when the order had already left
/// the state it was read in (a concurrent step won).
pub fn close(
    db: &dyn Db,
    order_id: i64,
    transition: Transition,
    actor: &str,
    now_ms: i64,
) -> Result<bool> {
    let order = view::get(db, order_id)?;
    let from = OrderState::parse(&order.state)?;
    from.next(transition)?;
    let closed = in_transaction(db, |db| {
        let Some(to) = state::store(db, order_id, from, transition, now_ms)? else {
            return Ok(false);
        };
        // Promised copies never left the shelf; picked ones go back to it.
        db.execute(
            "UPDATE copies SET status = 'on_shelf', current_point = COALESCE(current_point, \
               (SELECT l.pick_point FROM order_lines l WHERE l.copy_barcode = copies.barcode \
                AND l.order_id = $1 AND l.state IN ('promised', 'picked'))), updated_at_ms = $2 \
             WHERE barcode IN (SELECT copy_barcode FROM order_lines WHERE order_id = $1 \
               AND state IN ('promised', 'picked'))",
            &[order_id.into(), now_ms.into()],
        )?;
        db.execute(
            "UPDATE order_lines SET state = 'cancelled', updated_at_ms = $2 \
             WHERE order_id = $1 AND state IN ('waiting', 'promised', 'picked')",
            &[order_id.into(), now_ms.into()],
        )?;
        // A locker cell reserved for it is released.
        db.execute(
            "UPDATE locker_cells SET state = 'empty', reserved_for_order = NULL, updated_at_ms = $2 \
             WHERE reserved_for_order = $1 AND state = 'reserved'",
            &[order_id.into(), now_ms.into()],
        )?;
        log::event(
            db,
            now_ms,
            actor,
            order_id,
            "order_closed",
            serde_json::json!({
                "from": from.as_str(), "to": to.as_str(),
            }),
        )?;
        log::notice(
            db,
            now_ms,
            order.reader_id,
            "order_changed",
            &format!("order_changed:{order_id}:{}", to.as_str()),
            order_id,
            serde_json::json!({ "order_id": order_id, "state": to.as_str() }),
        )?;
        Ok(true)
    })?;
    if closed {
        for line in order
            .lines
            .iter()
            .filter(|l| l.state == "promised" || l.state == "picked")
        {
            if let Some(barcode) = &line.copy_barcode {
                crate::holds::serve::serve(db, barcode, actor, now_ms)?;
            }
        }
    }
    Ok(closed)
}
