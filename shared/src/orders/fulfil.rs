//! The fulfilment line at the shelves, for staff at their own point: the
//! pick list, scan-to-pick, and "not on shelf" (another copy, or the line
//! unfilled and the reader told). The parcel's way on is in
//! [`super::delivery`]. Every step is one conditional write: a repeated
//! scan changes nothing, and two staff cannot both move the same thing.

use super::log;
use super::state::{self, OrderState, Transition};
use super::view::{self, OrderView};
use crate::db::{in_transaction, Db};
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
    let fulfilment = match row.opt_text("pickup_point")? {
        Some(code) => super::place::Fulfilment::Pickup {
            point_code: code.to_string(),
        },
        None => super::place::Fulfilment::Door {
            address: String::new(),
        },
    };
    let origin = super::place::origin(db, &fulfilment)?;
    let centre = super::place::delivery_centre(db)?.code;
    in_transaction(db, |db| {
        db.execute(
            "UPDATE copies SET status = 'missing', updated_at_ms = $1 WHERE barcode = $2",
            &[now_ms.into(), barcode.as_str().into()],
        )?;
        match super::place::claim(db, record_id, &origin, now_ms)? {
            Some((new, at)) => {
                db.execute(
                    "UPDATE order_lines SET copy_barcode = $1, pick_point = $2, updated_at_ms = $3 \
                     WHERE id = $4",
                    &[new.as_str().into(), at.into(), now_ms.into(), line_id.into()],
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
                    state::store(
                        db,
                        order_id,
                        order_state,
                        Transition::AllLinesUnfilled,
                        now_ms,
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
