//! The fulfilment line, for staff at their own point: the pick list,
//! scan-to-pick, "not on shelf" (another copy, or the line unfilled and
//! the reader told), packing at the delivery centre, dispatch (reserving a
//! locker cell when the order goes to a locker) and arrival on a hold
//! shelf. Every step is one conditional write: a repeated scan changes
//! nothing, and two staff cannot both move the same thing.

use super::log;
use super::place::claim_sql;
use super::state::{OrderState, Transition};
use super::view::{self, OrderView};
use crate::db::{in_transaction, Db};
use crate::point;
use crate::staff::Staff;
use crate::{Error, Result};
use serde::Serialize;

/// One copy to fetch from the shelves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickItem {
    /// `order_lines.id`.
    pub line_id: i64,
    /// The order.
    pub order_id: i64,
    /// The copy's barcode.
    pub barcode: String,
    /// Its shelf mark.
    pub call_number: String,
    /// The title.
    pub title: String,
    /// Where the order goes: the pickup point, or `door`.
    pub destination: String,
}

/// The pick list of `point`: promised copies of orders being picked,
/// ordered by call number (the walk along the shelves).
pub fn pick_list(db: &dyn Db, point: &str) -> Result<Vec<PickItem>> {
    let rows = db.query(
        "SELECT l.id AS line_id, l.order_id, l.copy_barcode, c.call_number, r.title, \
           COALESCE(o.pickup_point, 'door') AS destination \
         FROM order_lines l JOIN orders o ON o.id = l.order_id \
           JOIN copies c ON c.barcode = l.copy_barcode JOIN records r ON r.id = l.record_id \
         WHERE l.pick_point = $1 AND l.state = 'promised' AND o.state = 'picking' \
         ORDER BY c.call_number, l.id LIMIT 500",
        &[point.into()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(PickItem {
                line_id: row.i64("line_id")?,
                order_id: row.i64("order_id")?,
                barcode: row.text("copy_barcode")?.to_string(),
                call_number: row.text("call_number")?.to_string(),
                title: row.text("title")?.to_string(),
                destination: row.text("destination")?.to_string(),
            })
        })
        .collect()
}

/// A scanned barcode takes its copy off the shelf for its order. Scanning
/// it again answers the same order and changes nothing.
pub fn pick(db: &dyn Db, staff: &Staff, barcode: &str, now_ms: i64) -> Result<OrderView> {
    let rows = db.query(
        "SELECT l.id, l.order_id, l.state, l.pick_point, o.state AS order_state FROM order_lines l \
         JOIN orders o ON o.id = l.order_id WHERE l.copy_barcode = $1 \
         AND l.state IN ('promised', 'picked') ORDER BY l.id DESC LIMIT 1",
        &[barcode.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound {
        what: "order line for this copy",
    })?;
    let (line_id, order_id) = (row.i64("id")?, row.i64("order_id")?);
    staff.must_work_at(row.opt_text("pick_point")?.unwrap_or_default())?;
    if row.text("state")? == "picked" {
        return view::get(db, order_id);
    }
    if row.text("order_state")? != "picking" {
        return Err(Error::Conflict(format!(
            "order {order_id} is {}, not being picked",
            row.text("order_state")?
        )));
    }
    in_transaction(db, |db| {
        let changed = db.execute(
            "UPDATE order_lines SET state = 'picked', picked_at_ms = $1, updated_at_ms = $1 \
             WHERE id = $2 AND state = 'promised'",
            &[now_ms.into(), line_id.into()],
        )?;
        if changed == 1 {
            db.execute(
                "UPDATE copies SET status = 'in_transit', current_point = NULL, updated_at_ms = $1 \
                 WHERE barcode = $2",
                &[now_ms.into(), barcode.into()],
            )?;
            log::event(
                db,
                now_ms,
                &staff.actor(),
                order_id,
                "line_picked",
                serde_json::json!({ "line": line_id, "barcode": barcode }),
            )?;
        }
        Ok(())
    })?;
    view::get(db, order_id)
}

/// The copy of line `line_id` is not on its shelf: it is marked missing,
/// and the line gets another copy if one is free, else it is unfilled and
/// the reader told; an order whose lines are all unfilled is unfilled.
pub fn not_on_shelf(db: &dyn Db, staff: &Staff, line_id: i64, now_ms: i64) -> Result<OrderView> {
    let rows = db.query(
        "SELECT l.order_id, l.record_id, l.copy_barcode, l.pick_point, o.reader_id, o.state, \
           o.pickup_point FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE l.id = $1 AND l.state = 'promised'",
        &[line_id.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound {
        what: "promised order line",
    })?;
    staff.must_work_at(row.opt_text("pick_point")?.unwrap_or_default())?;
    let order_id = row.i64("order_id")?;
    let record_id = row.i64("record_id")?;
    let reader_id = row.i64("reader_id")?;
    let barcode = row.text("copy_barcode")?.to_string();
    let order_state = OrderState::parse(row.text("state")?)?;
    let points = point::list_points(db, None)?;
    let fulfilment = match row.opt_text("pickup_point")? {
        Some(code) => super::place::Fulfilment::Pickup {
            point_code: code.to_string(),
        },
        None => super::place::Fulfilment::Door {
            address: String::new(),
        },
    };
    let origin = super::place::origin(&points, &fulfilment)?;
    let centre = super::place::delivery_centre(&points)?.code.clone();
    in_transaction(db, |db| {
        db.execute(
            "UPDATE copies SET status = 'missing', updated_at_ms = $1 WHERE barcode = $2",
            &[now_ms.into(), barcode.as_str().into()],
        )?;
        let cos_lat = origin.at.lat.to_radians().cos().powi(2);
        let claimed = db.query(
            &claim_sql(db.dialect()),
            &[
                record_id.into(),
                now_ms.into(),
                origin.branch.as_str().into(),
                origin.at.lat.into(),
                origin.at.lon.into(),
                cos_lat.into(),
            ],
        )?;
        match claimed.first() {
            Some(row) => {
                let (new, at) = (row.text("barcode")?, row.text("current_point")?);
                db.execute(
                    "UPDATE order_lines SET copy_barcode = $1, pick_point = $2, updated_at_ms = $3 \
                     WHERE id = $4",
                    &[new.into(), at.into(), now_ms.into(), line_id.into()],
                )?;
                log::event(
                    db,
                    now_ms,
                    &staff.actor(),
                    order_id,
                    "line_reallocated",
                    serde_json::json!({ "line": line_id, "missing": barcode, "copy": new }),
                )?;
            }
            None => {
                db.execute(
                    "UPDATE order_lines SET state = 'unfilled', note = 'no copy on any shelf', \
                     updated_at_ms = $1 WHERE id = $2",
                    &[now_ms.into(), line_id.into()],
                )?;
                log::event(
                    db,
                    now_ms,
                    &staff.actor(),
                    order_id,
                    "line_unfilled",
                    serde_json::json!({ "line": line_id, "missing": barcode }),
                )?;
                log::notice(
                    db,
                    now_ms,
                    reader_id,
                    "line_unfilled",
                    &format!("line_unfilled:{line_id}"),
                    order_id,
                    serde_json::json!({ "order_id": order_id, "record_id": record_id }),
                )?;
                let open = db.query(
                    "SELECT COUNT(*) AS n FROM order_lines WHERE order_id = $1 AND state <> 'unfilled'",
                    &[order_id.into()],
                )?;
                if open.first().map(|r| r.i64("n")).transpose()?.unwrap_or(0) == 0 {
                    let to = order_state.next(Transition::AllLinesUnfilled)?;
                    db.execute(
                        "UPDATE orders SET state = $1, updated_at_ms = $2 WHERE id = $3",
                        &[to.as_str().into(), now_ms.into(), order_id.into()],
                    )?;
                    log::event(
                        db,
                        now_ms,
                        &staff.actor(),
                        order_id,
                        "order_unfilled",
                        serde_json::json!({}),
                    )?;
                }
            }
        }
        reparcel(db, order_id, &centre)
    })?;
    view::get(db, order_id)
}

/// Recomputes where the order's copies meet, after a line changed point.
fn reparcel(db: &dyn Db, order_id: i64, centre: &str) -> Result<()> {
    let rows = db.query(
        "SELECT DISTINCT pick_point FROM order_lines WHERE order_id = $1 \
         AND state IN ('promised', 'picked') ORDER BY pick_point",
        &[order_id.into()],
    )?;
    let points: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            row.opt_text("pick_point")
                .ok()
                .flatten()
                .map(str::to_string)
        })
        .collect();
    let consolidate = points.len() > 1;
    let parcel = if consolidate {
        centre.to_string()
    } else {
        points.concat()
    };
    db.execute(
        "UPDATE orders SET consolidate = $1, parcel_point = $2 WHERE id = $3",
        &[
            i64::from(consolidate).into(),
            parcel.into(),
            order_id.into(),
        ],
    )?;
    Ok(())
}

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
/// once all its copies have been picked (and brought there).
pub fn pack(db: &dyn Db, staff: &Staff, order_id: i64, now_ms: i64) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    staff.must_work_at(order.parcel_point.as_deref().unwrap_or_default())?;
    if order.state != "picking" || !all_picked(&order) {
        return Err(Error::Conflict(format!(
            "order {order_id} cannot be packed yet: every open line must be picked first"
        )));
    }
    log::event(
        db,
        now_ms,
        &staff.actor(),
        order_id,
        "parcel_packed",
        serde_json::json!({}),
    )?;
    view::get(db, order_id)
}

/// The parcel leaves for the pickup point (or the reader's door). To a
/// locker, a cell is reserved first: none free, no dispatch, so a locker
/// never receives more books than it has free cells.
pub fn dispatch(db: &dyn Db, staff: &Staff, order_id: i64, now_ms: i64) -> Result<OrderView> {
    let order = view::get(db, order_id)?;
    staff.must_work_at(order.parcel_point.as_deref().unwrap_or_default())?;
    let from = OrderState::parse(&order.state)?;
    let to = from.next(Transition::Dispatch)?;
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
        let changed = db.execute(
            "UPDATE orders SET state = $1, locker_cell = $2, updated_at_ms = $3 WHERE id = $4 AND state = $5",
            &[to.as_str().into(), cell.into(), now_ms.into(), order_id.into(), from.as_str().into()],
        )?;
        if changed == 0 {
            return Err(Error::Conflict(format!(
                "order {order_id} changed meanwhile; look again"
            )));
        }
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

fn was_packed(db: &dyn Db, order_id: i64) -> Result<bool> {
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
    let at = order
        .pickup_point
        .clone()
        .ok_or_else(|| Error::Conflict("a door delivery is handed over, not shelved".into()))?;
    staff.must_work_at(&at)?;
    if point::find_point(db, &at)?.is_some_and(|p| p.locker.is_some()) {
        return Err(Error::Conflict("a locker reports its own deposits".into()));
    }
    let from = OrderState::parse(&order.state)?;
    let to = from.next(Transition::Arrive)?;
    let deadline = now_ms + hold_ms;
    in_transaction(db, |db| {
        let changed = db.execute(
            "UPDATE orders SET state = $1, pickup_deadline_at_ms = $2, updated_at_ms = $3 \
             WHERE id = $4 AND state = $5",
            &[
                to.as_str().into(),
                deadline.into(),
                now_ms.into(),
                order_id.into(),
                from.as_str().into(),
            ],
        )?;
        if changed == 0 {
            return Err(Error::Conflict(format!(
                "order {order_id} changed meanwhile; look again"
            )));
        }
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
