//! The parcel's way from the shelves to the reader: packing at the
//! delivery centre, dispatch (reserving a locker cell when the order goes
//! to a locker, so a locker never receives more books than it has free
//! cells), arrival on a hold shelf, and collection or delivery at the
//! door, when the loans start.

use super::log;
use super::state::{self, OrderState, Transition};
use super::view::{self, OrderView};
use crate::db::{in_transaction, Db};
use crate::point;
use crate::staff::Staff;
use crate::{Error, Result};

/// Whether every line that is still open has been picked.
fn all_picked(order: &OrderView) -> bool {
    let open: Vec<_> = order
        .lines
        .iter()
        .filter(|l| l.state == "promised" || l.state == "picked")
        .collect();
    !open.is_empty() && open.iter().all(|l| l.state == "picked")
}

/// The parcel of a consolidated order is packed at the delivery centre
/// once all its copies have been picked (and brought there). Packing it
/// again answers the order and logs nothing more.
pub fn pack(db: &dyn Db, staff: &Staff, order_id: i64, now_ms: i64) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    staff.must_work_at(order.parcel_point.as_deref().unwrap_or_default())?;
    if was_packed(db, order_id)? {
        return Ok(order);
    }
    if order.state != "picking" || !all_picked(&order) {
        return Err(Error::Conflict(format!(
            "order {order_id} cannot be packed yet: every open line must be picked first"
        )));
    }
    in_transaction(db, |db| {
        // Writing the order's row first holds it until commit, so of two
        // packs at once the second waits, then sees the first's event.
        let held = db.execute(
            "UPDATE orders SET updated_at_ms = $1 WHERE id = $2 AND state = 'picking'",
            &[now_ms.into(), order_id.into()],
        )?;
        if held == 0 {
            return Err(changed_meanwhile(order_id));
        }
        if !was_packed(db, order_id)? {
            log::event(
                db,
                now_ms,
                &staff.actor(),
                order_id,
                "parcel_packed",
                serde_json::json!({}),
            )?;
        }
        Ok(())
    })?;
    view::get(db, order_id)
}

/// The parcel leaves for the pickup point (or the reader's door). To a
/// locker, a cell is reserved first: none free, no dispatch, so a locker
/// never receives more books than it has free cells.
pub fn dispatch(db: &dyn Db, staff: &Staff, order_id: i64, now_ms: i64) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    staff.must_work_at(order.parcel_point.as_deref().unwrap_or_default())?;
    let from = OrderState::parse(&order.state)?;
    from.next(Transition::Dispatch)?;
    if !all_picked(&order) {
        return Err(Error::Conflict(format!(
            "order {order_id} still has copies to pick"
        )));
    }
    if order.consolidate && !was_packed(db, order_id)? {
        return Err(Error::Conflict(format!(
            "order {order_id} must be packed first"
        )));
    }
    let locker = match &order.pickup_point {
        Some(code) => point::find_point(db, code)?.and_then(|p| p.locker.map(|_| p.code)),
        None => None,
    };
    in_transaction(db, |db| {
        let cell = match &locker {
            Some(code) => Some(reserve_cell(db, code, order_id, now_ms)?),
            None => None,
        };
        if state::store(db, order_id, from, Transition::Dispatch, now_ms)?.is_none() {
            return Err(changed_meanwhile(order_id));
        }
        db.execute(
            "UPDATE orders SET locker_cell = $1 WHERE id = $2",
            &[cell.into(), order_id.into()],
        )?;
        log::event(
            db,
            now_ms,
            &staff.actor(),
            order_id,
            "order_dispatched",
            serde_json::json!({ "locker_cell": cell }),
        )?;
        Ok(())
    })?;
    view::get(db, order_id)
}

pub(crate) fn was_packed(db: &dyn Db, order_id: i64) -> Result<bool> {
    let rows = db.query(
        "SELECT COUNT(*) AS n FROM events WHERE subject_kind = 'order' AND subject_id = $1 \
         AND event = 'parcel_packed'",
        &[order_id.to_string().into()],
    )?;
    Ok(rows.first().map(|r| r.i64("n")).transpose()?.unwrap_or(0) > 0)
}

/// Reserves the lowest free cell of locker `point` for `order_id`.
fn reserve_cell(db: &dyn Db, point: &str, order_id: i64, now_ms: i64) -> Result<i64> {
    let lock = match db.dialect() {
        crate::db::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        crate::db::Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE locker_cells SET state = 'reserved', reserved_for_order = $1, updated_at_ms = $2 \
         WHERE point_code = $3 AND cell_no = (SELECT cell_no FROM locker_cells \
           WHERE point_code = $3 AND state = 'empty' ORDER BY cell_no LIMIT 1{lock}) \
         AND state = 'empty' RETURNING cell_no"
    );
    let rows = db.query(&sql, &[order_id.into(), now_ms.into(), point.into()])?;
    rows.first()
        .map(|row| row.i64("cell_no"))
        .transpose()?
        .ok_or_else(|| Error::Conflict(format!("the locker at {point} has no free cell")))
}

/// The parcel arrived at a staffed pickup point and is on its hold shelf:
/// the order awaits pickup until `hold_ms` from now, and the reader is told.
/// Lockers report their deposits themselves.
pub fn arrive(
    db: &dyn Db,
    staff: &Staff,
    order_id: i64,
    hold_ms: i64,
    now_ms: i64,
) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    let at = order.pickup_point.clone().ok_or_else(|| {
        Error::Conflict("a door delivery is not shelved: it is delivered at the door".into())
    })?;
    staff.must_work_at(&at)?;
    if point::find_point(db, &at)?.is_some_and(|p| p.locker.is_some()) {
        return Err(Error::Conflict("a locker reports its own deposits".into()));
    }
    let from = OrderState::parse(&order.state)?;
    from.next(Transition::Arrive)?;
    let deadline = now_ms + hold_ms;
    in_transaction(db, |db| {
        if state::store(db, order_id, from, Transition::Arrive, now_ms)?.is_none() {
            return Err(changed_meanwhile(order_id));
        }
        db.execute(
            "UPDATE orders SET pickup_deadline_at_ms = $1 WHERE id = $2",
            &[deadline.into(), order_id.into()],
        )?;
        db.execute(
            "UPDATE copies SET status = 'on_hold', current_point = $1, updated_at_ms = $2 \
             WHERE barcode IN (SELECT copy_barcode FROM order_lines WHERE order_id = $3 AND state = 'picked')",
            &[at.as_str().into(), now_ms.into(), order_id.into()],
        )?;
        log::event(
            db,
            now_ms,
            &staff.actor(),
            order_id,
            "order_arrived",
            serde_json::json!({ "point": at }),
        )?;
        log::notice(
            db,
            now_ms,
            order.reader_id,
            "ready_for_pickup",
            &format!("ready_for_pickup:order:{order_id}"),
            order_id,
            serde_json::json!({ "order_id": order_id, "point": at, "deadline_at_ms": deadline }),
        )?;
        Ok(())
    })?;
    view::get(db, order_id)
}

/// The reader collects order `order_id` (at a hold shelf from staff, or
/// from a locker cell): the order is picked up, its picked lines are
/// collected and each copy's loan starts, due in `loan_ms`. Returns the
/// order; collecting it twice changes nothing.
pub fn collect(
    db: &dyn Db,
    order_id: i64,
    actor: &str,
    loan_ms: i64,
    now_ms: i64,
) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    hand_to_reader(db, order, Transition::Collect, actor, loan_ms, now_ms)
}

/// The reader takes `order` by `transition`: nothing more when it is
/// picked up already, else the move and the loans ([`start_loans`]).
fn hand_to_reader(
    db: &dyn Db,
    order: OrderView,
    transition: Transition,
    actor: &str,
    loan_ms: i64,
    now_ms: i64,
) -> Result<OrderView> {
    if order.state == OrderState::PickedUp.as_str() {
        return Ok(order);
    }
    let from = OrderState::parse(&order.state)?;
    from.next(transition)?;
    start_loans(db, &order, from, transition, actor, loan_ms, now_ms)
}

/// Moves `order` from `from` by `transition` (collection at a shelf or
/// cell, or delivery at the door) and starts one loan per picked line, due
/// in `loan_ms`: both are the moment the reader takes the books.
fn start_loans(
    db: &dyn Db,
    order: &OrderView,
    from: OrderState,
    transition: Transition,
    actor: &str,
    loan_ms: i64,
    now_ms: i64,
) -> Result<OrderView> {
    let order_id = order.id;
    let event = match transition {
        Transition::Deliver => "order_delivered",
        _ => "order_collected",
    };
    in_transaction(db, |db| {
        if state::store(db, order_id, from, transition, now_ms)?.is_none() {
            return Err(changed_meanwhile(order_id));
        }
        db.execute(
            "INSERT INTO loans (copy_barcode, reader_id, order_line_id, started_at_ms, due_at_ms) \
             SELECT copy_barcode, $1, id, $2, $3 FROM order_lines WHERE order_id = $4 AND state = 'picked'",
            &[order.reader_id.into(), now_ms.into(), (now_ms + loan_ms).into(), order_id.into()],
        )?;
        crate::sesame_orders::open_for_loans(db, order.reader_id, now_ms)?;
        db.execute(
            "UPDATE copies SET status = 'on_loan', current_point = NULL, updated_at_ms = $1 \
             WHERE barcode IN (SELECT copy_barcode FROM order_lines WHERE order_id = $2 AND state = 'picked')",
            &[now_ms.into(), order_id.into()],
        )?;
        db.execute(
            "UPDATE order_lines SET state = 'collected', updated_at_ms = $1 WHERE order_id = $2 AND state = 'picked'",
            &[now_ms.into(), order_id.into()],
        )?;
        log::event(
            db,
            now_ms,
            actor,
            order_id,
            event,
            serde_json::json!({ "due_at_ms": now_ms + loan_ms }),
        )?;
        Ok(())
    })?;
    view::get(db, order_id)
}

/// Staff at the pickup point hand a held order over to its reader.
pub fn hand_over(
    db: &dyn Db,
    staff: &Staff,
    order_id: i64,
    loan_ms: i64,
    now_ms: i64,
) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    let at = order.pickup_point.as_deref().ok_or_else(|| {
        Error::Conflict("a door delivery is handed over at the door: deliver it".into())
    })?;
    staff.must_work_at(at)?;
    collect(db, order_id, &staff.actor(), loan_ms, now_ms)
}

/// The courier hands door delivery `order_id` to its reader at the door:
/// the order is picked up and the loans start, due in `loan_ms`, as at a
/// counter. The courier answers to the point that dispatched the parcel
/// (its parcel point). Recording it twice changes nothing.
pub fn deliver(
    db: &dyn Db,
    staff: &Staff,
    order_id: i64,
    loan_ms: i64,
    now_ms: i64,
) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    // Who may act comes first: staff elsewhere learn nothing of the order.
    staff.must_work_at(order.parcel_point.as_deref().unwrap_or_default())?;
    if order.fulfilment != "door" {
        return Err(Error::Conflict(
            "an order for pickup is handed over at its pickup point, not delivered".into(),
        ));
    }
    let actor = staff.actor();
    hand_to_reader(db, order, Transition::Deliver, &actor, loan_ms, now_ms)
}

fn changed_meanwhile(order_id: i64) -> Error {
    Error::Conflict(format!("order {order_id} changed meanwhile; look again"))
}
