//! *Holds*: a reader waiting in a title's queue because no copy of it was
//! on a shelf. The queue is first come, first served; a reader waits at
//! most [`HoldRules::limit`] times at once and once per title.
//!
//! - [`join`], [`list`], [`cancel`]: the reader's side
//!   (`/api/me/holds`);
//! - [`serve::serve`]: a copy that came back (a return at a counter or a
//!   locker, a copy received home, an order that lapsed) is given to the
//!   first waiting reader whose standing and pickup point still allow, as
//!   an order that enters the fulfilment line ([`serve`]);
//! - states move only through [`state::HoldState::next`]; every move is in
//!   the event log (`subject_kind = 'hold'`).

pub mod serve;
pub mod state;

pub use state::{HoldState, HoldTransition};

use crate::db::{in_transaction, Db};
use crate::point::PointKind;
use crate::readers::{borrowing, store as readers};
use crate::{Error, Result};
use serde::Serialize;

/// The library's rules for holds (variable `hold_limit`).
#[derive(Debug, Clone, Copy)]
pub struct HoldRules {
    /// Holds one reader may have waiting at once.
    pub limit: i64,
}

/// A hold as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldView {
    /// `holds.id`.
    pub id: i64,
    /// The title waited for.
    pub record_id: i64,
    /// Its title.
    pub title: String,
    /// Where the reader will collect it.
    pub pickup_point: String,
    /// `waiting`, `allocated` or `cancelled`.
    pub state: HoldState,
    /// Place in the queue, 1 for the next served; only while waiting.
    pub position: Option<i64>,
    /// The order made when a copy was given to the hold.
    pub order_id: Option<i64>,
    /// That order's state.
    pub order_state: Option<String>,
    /// When the reader joined the queue.
    pub created_at_ms: i64,
    /// When a copy was given to it.
    pub allocated_at_ms: Option<i64>,
}

const SQL_VIEW: &str = "SELECT h.id, h.record_id, r.title, h.pickup_point, h.state, h.order_id, \
       o.state AS order_state, h.created_at_ms, h.allocated_at_ms, \
       CASE WHEN h.state = 'waiting' THEN (SELECT COUNT(*) FROM holds q \
         WHERE q.record_id = h.record_id AND q.state = 'waiting' AND q.id <= h.id) END AS position \
     FROM holds h JOIN records r ON r.id = h.record_id LEFT JOIN orders o ON o.id = h.order_id";

fn from_row(row: &crate::db::Row<'_>) -> Result<HoldView> {
    Ok(HoldView {
        id: row.i64("id")?,
        record_id: row.i64("record_id")?,
        title: row.text("title")?.to_string(),
        pickup_point: row.text("pickup_point")?.to_string(),
        state: HoldState::parse(row.text("state")?)?,
        position: row.opt_i64("position")?,
        order_id: row.opt_i64("order_id")?,
        order_state: row.opt_text("order_state")?.map(str::to_string),
        created_at_ms: row.i64("created_at_ms")?,
        allocated_at_ms: row.opt_i64("allocated_at_ms")?,
    })
}

/// The reader's holds, newest first (the last 100).
pub fn list(db: &dyn Db, reader_id: i64) -> Result<Vec<HoldView>> {
    let sql = format!("{SQL_VIEW} WHERE h.reader_id = $1 ORDER BY h.id DESC LIMIT 100");
    let rows = db.query(&sql, &[reader_id.into()])?;
    rows.iter().map(|row| from_row(&row)).collect()
}

/// Hold `hold_id` of reader `reader_id`; another reader's is not found.
pub fn get(db: &dyn Db, reader_id: i64, hold_id: i64) -> Result<HoldView> {
    let sql = format!("{SQL_VIEW} WHERE h.id = $1 AND h.reader_id = $2");
    let rows = db.query(&sql, &[hold_id.into(), reader_id.into()])?;
    rows.first()
        .map(|row| from_row(&row))
        .transpose()?
        .ok_or(Error::NotFound { what: "hold" })
}

/// Reader `reader_id` joins the queue of `record_id`, to collect at
/// `point_code`. Refused: 403 when the reader may not borrow, 404 for an
/// unknown title or point, 400 for the delivery centre, 409 when a copy
/// is on a shelf (order it instead), when the library has no copy to
/// lend, when the reader already waits for it, or at the limit.
pub fn join(
    db: &dyn Db,
    reader_id: i64,
    record_id: i64,
    point_code: &str,
    rules: HoldRules,
    now_ms: i64,
) -> Result<HoldView> {
    let reader = readers::get(db, reader_id)?;
    borrowing::check(db, &reader, now_ms)?;
    let point = crate::orders::place::pickup_point(db, point_code)?;
    if point.kind == PointKind::DeliveryCentre {
        return Err(Error::invalid(
            "point_code",
            "the delivery centre is not a pickup point",
        ));
    }
    let copies = db.query(
        "SELECT r.title, \
           (SELECT COUNT(*) FROM copies c WHERE c.record_id = r.id AND c.status = 'on_shelf') AS on_shelf, \
           (SELECT COUNT(*) FROM copies c WHERE c.record_id = r.id \
              AND c.status NOT IN ('missing', 'withdrawn')) AS lendable \
         FROM records r WHERE r.id = $1",
        &[record_id.into()],
    )?;
    let row = copies.first().ok_or(Error::NotFound { what: "record" })?;
    let title = row.text("title")?.to_string();
    if row.i64("on_shelf")? > 0 {
        return Err(Error::Conflict(format!(
            "a copy of «{title}» is on a shelf now: place an order instead (POST /api/orders)"
        )));
    }
    if row.i64("lendable")? == 0 {
        return Err(Error::Conflict(format!(
            "the library has no copy of «{title}» to lend; suggest a purchase instead"
        )));
    }
    let hold_id = in_transaction(db, |db| {
        // Writing the reader's row first holds it until commit: two joins
        // at once by one reader are counted one after the other.
        db.execute(
            "UPDATE readers SET updated_at_ms = $2 WHERE id = $1",
            &[reader_id.into(), now_ms.into()],
        )?;
        let waiting = db.query(
            "SELECT COUNT(*) AS n FROM holds WHERE reader_id = $1 AND state = 'waiting'",
            &[reader_id.into()],
        )?;
        let waiting = waiting
            .first()
            .map(|r| r.i64("n"))
            .transpose()?
            .unwrap_or(0);
        if waiting >= rules.limit {
            return Err(Error::Conflict(format!(
                "you are waiting for {waiting} titles already, the most allowed; cancel one first"
            )));
        }
        let rows = db.query(
            "INSERT INTO holds (reader_id, record_id, pickup_point, state, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, 'waiting', $4, $4) ON CONFLICT DO NOTHING RETURNING id",
            &[reader_id.into(), record_id.into(), point_code.into(), now_ms.into()],
        )?;
        let id = rows
            .first()
            .map(|r| r.i64("id"))
            .transpose()?
            .ok_or_else(|| Error::Conflict(format!("you are already waiting for «{title}»")))?;
        EVENTS.log(
            db,
            now_ms,
            &format!("reader:{reader_id}"),
            id,
            "hold_joined",
            serde_json::json!({ "record_id": record_id, "pickup_point": point_code }),
        )?;
        Ok(id)
    })?;
    get(db, reader_id, hold_id)
}

/// Reader `reader_id` leaves the queue: only a waiting hold; an allocated
/// one is carried by its order, which the reader cancels instead (409).
pub fn cancel(db: &dyn Db, reader_id: i64, hold_id: i64, now_ms: i64) -> Result<HoldView> {
    let to = HoldState::Waiting.next(HoldTransition::Cancel)?;
    let changed = db.execute(
        "UPDATE holds SET state = $3, updated_at_ms = $4 \
         WHERE id = $1 AND reader_id = $2 AND state = 'waiting'",
        &[
            hold_id.into(),
            reader_id.into(),
            to.as_str().into(),
            now_ms.into(),
        ],
    )?;
    if changed == 0 {
        let hold = get(db, reader_id, hold_id)?;
        // Cancelling again changes nothing and says so by the state.
        if hold.state != HoldState::Cancelled {
            hold.state.next(HoldTransition::Cancel)?;
        }
        return Ok(hold);
    }
    EVENTS.log(
        db,
        now_ms,
        &format!("reader:{reader_id}"),
        hold_id,
        "hold_cancelled",
        serde_json::json!({}),
    )?;
    get(db, reader_id, hold_id)
}

/// This module's rows in the event log.
pub(crate) const EVENTS: crate::events::Subject = crate::events::Subject("hold");
