//! Orders as readers and staff read them: one query for the order, one
//! for its lines with their titles. Placing builds the same view from what
//! it wrote instead of reading it back (PostgreSQL's function answers it as
//! JSON, hence `Deserialize`).

use crate::db::{Db, Row};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    /// `order_lines.id`.
    pub id: i64,
    /// The title ordered.
    pub record_id: i64,
    /// Its title, for the reader.
    pub title: String,
    /// `waiting`, `promised`, `picked`, `collected`, `unfilled`, `cancelled`.
    pub state: String,
    /// The copy set aside, once promised.
    pub copy_barcode: Option<String>,
    /// Where that copy is picked.
    pub pick_point: Option<String>,
    /// Why the line was left unfilled, if it was.
    pub note: Option<String>,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// `orders.id`.
    pub id: i64,
    /// The reader who placed it.
    pub reader_id: i64,
    /// The order's state.
    pub state: String,
    /// `pickup` or `door`.
    pub fulfilment: String,
    /// Where the reader collects it.
    pub pickup_point: Option<String>,
    /// Where it is brought, for door delivery.
    pub delivery_address: Option<String>,
    /// The delivery fee, in fen.
    pub fee_fen: i64,
    /// Our trade number with Alipay, for a fee.
    pub payment_ref: Option<String>,
    /// Until when the fee may be paid.
    pub payment_due_at_ms: Option<i64>,
    /// Whether the copies meet at the delivery centre first.
    pub consolidate: bool,
    /// Where the parcel is packed and dispatched from.
    pub parcel_point: Option<String>,
    /// The locker cell reserved for it.
    pub locker_cell: Option<i64>,
    /// Until when it waits to be collected.
    pub pickup_deadline_at_ms: Option<i64>,
    /// When it was placed.
    pub created_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
    /// Its lines.
    pub lines: Vec<LineView>,
}

const ORDER_COLUMNS: &str = "id, reader_id, state, fulfilment, pickup_point, delivery_address, \
     fee_fen, payment_ref, payment_due_at_ms, consolidate, parcel_point, locker_cell, \
     pickup_deadline_at_ms, created_at_ms, updated_at_ms";

fn order_from_row(row: &Row<'_>) -> Result<OrderView> {
    Ok(OrderView {
        id: row.i64("id")?,
        reader_id: row.i64("reader_id")?,
        state: row.text("state")?.to_string(),
        fulfilment: row.text("fulfilment")?.to_string(),
        pickup_point: row.opt_text("pickup_point")?.map(str::to_string),
        delivery_address: row.opt_text("delivery_address")?.map(str::to_string),
        fee_fen: row.i64("fee_fen")?,
        payment_ref: row.opt_text("payment_ref")?.map(str::to_string),
        payment_due_at_ms: row.opt_i64("payment_due_at_ms")?,
        consolidate: row.i64("consolidate")? == 1,
        parcel_point: row.opt_text("parcel_point")?.map(str::to_string),
        locker_cell: row.opt_i64("locker_cell")?,
        pickup_deadline_at_ms: row.opt_i64("pickup_deadline_at_ms")?,
        created_at_ms: row.i64("created_at_ms")?,
        updated_at_ms: row.i64("updated_at_ms")?,
        lines: Vec::new(),
    })
}

fn with_lines(db: &dyn Db, mut order: OrderView) -> Result<OrderView> {
    let rows = db.query(
        "SELECT l.id, l.record_id, r.title, l.state, l.copy_barcode, l.pick_point, l.note \
         FROM order_lines l JOIN records r ON r.id = l.record_id WHERE l.order_id = $1 \
         ORDER BY l.id",
        &[order.id.into()],
    )?;
    order.lines = rows
        .iter()
        .map(|row| {
            Ok(LineView {
                id: row.i64("id")?,
                record_id: row.i64("record_id")?,
                title: row.text("title")?.to_string(),
                state: row.text("state")?.to_string(),
                copy_barcode: row.opt_text("copy_barcode")?.map(str::to_string),
                pick_point: row.opt_text("pick_point")?.map(str::to_string),
                note: row.opt_text("note")?.map(str::to_string),
            })
        })
        .collect::<Result<_>>()?;
    Ok(order)
}

/// Order `id`, whoever it belongs to (staff and internal callers).
pub fn get(db: &dyn Db, id: i64) -> Result<OrderView> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let rows = db.query(&sql, &[id.into()])?;
    let order = rows
        .first()
        .map(|row| order_from_row(&row))
        .transpose()?
        .ok_or(Error::NotFound { what: "order" })?;
    with_lines(db, order)
}

/// Order `id` if it is `reader_id`'s: another reader's order is "not
/// found", so order numbers reveal nothing.
pub fn get_for_reader(db: &dyn Db, reader_id: i64, id: i64) -> Result<OrderView> {
    let order = get(db, id)?;
    if order.reader_id != reader_id {
        return Err(Error::NotFound { what: "order" });
    }
    Ok(order)
}

/// The reader's orders, newest first (at most 100).
pub fn list_for_reader(db: &dyn Db, reader_id: i64) -> Result<Vec<OrderView>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE reader_id = $1 \
         ORDER BY created_at_ms DESC, id DESC LIMIT 100"
    );
    let rows = db.query(&sql, &[reader_id.into()])?;
    rows.iter()
        .map(|row| with_lines(db, order_from_row(&row)?))
        .collect()
}
