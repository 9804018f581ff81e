//! Placing an order: the checks (standing, quota, the point, the titles),
//! then, in one transaction, the order, one promised copy per line and the
//! log. A copy is claimed by one conditional `UPDATE ... RETURNING` that
//! moves it from `on_shelf` to `promised`: whatever the concurrency, a
//! second claimant finds it no longer on the shelf (and on PostgreSQL skips
//! rows another transaction holds); the partial unique index
//! `copies_one_open_promise` backs the same rule at the line level.

use super::log;
use super::state::{OrderState, Transition};
use super::view::{self, OrderView};
use crate::db::{in_transaction, Db, Dialect};
use crate::geo::Coordinates;
use crate::point::{self, LockerStatus, PointKind, ServicePoint};
use crate::readers::{store as readers, Reader, StandingName};
use crate::{Error, Result};

/// How the reader receives the books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fulfilment {
    /// Collected at a service point.
    Pickup {
        /// The point's code.
        point_code: String,
    },
    /// Brought to the door, for a fee.
    Door {
        /// The address.
        address: String,
    },
}

/// A validated order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The titles, one line each (a multi-volume set is several).
    pub record_ids: Vec<i64>,
    /// Pickup or door.
    pub fulfilment: Fulfilment,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: String,
    /// How the reader's session was made: `alipay`, `wechat` or `web`
    /// (counted per day in the statistics).
    pub channel: &'static str,
}

/// What the library configured for orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderSettings {
    /// The door-delivery fee, in fen.
    pub door_fee_fen: i64,
    /// How long a door order waits for its fee.
    pub payment_window_ms: i64,
}

/// The claim, with the preference of the SPEC: a copy already at the
/// pickup point's branch ($3), then the delivery centre's online-lending
/// stack, then the nearest (squared degrees, longitude scaled by $6 =
/// cos(latitude), which is exact enough to rank points of one city).
const CLAIM: &str = "UPDATE copies SET status = 'promised', updated_at_ms = $2 \
     WHERE barcode = (SELECT c.barcode FROM copies c JOIN service_points p ON p.code = c.current_point \
       WHERE c.record_id = $1 AND c.status = 'on_shelf' \
       ORDER BY CASE WHEN c.current_point = $3 THEN 0 WHEN c.in_online_stack = 1 THEN 1 ELSE 2 END, \
         (p.lat - $4) * (p.lat - $4) + (p.lon - $5) * (p.lon - $5) * $6, c.barcode \
       LIMIT 1{lock}) \
     AND status = 'on_shelf' RETURNING barcode, current_point";

/// The claim statement for `dialect`: PostgreSQL skips copies another
/// transaction is claiming instead of queueing behind it; SQLite has one
/// writer at a time and needs no row locks.
pub fn claim_sql(dialect: Dialect) -> String {
    let lock = match dialect {
        Dialect::Postgres => " FOR UPDATE OF c SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    CLAIM.replace("{lock}", lock)
}

/// Claims one copy of `record_id` for an order ranked from `origin`:
/// the copy's barcode and the point where it stands, or `None` when no
/// copy is on a shelf.
pub fn claim(
    db: &dyn Db,
    record_id: i64,
    origin: &Origin,
    now_ms: i64,
) -> Result<Option<(String, String)>> {
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
    claimed
        .first()
        .map(|row| {
            Ok((
                row.text("barcode")?.to_string(),
                row.text("current_point")?.to_string(),
            ))
        })
        .transpose()
}

/// Where copies are ranked from: the pickup point and the branch that
/// serves it (itself, or the nearest branch), or for door delivery the
/// delivery centre, where parcels leave from.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The branch whose copies need no travel.
    pub branch: String,
    /// Where distance is measured from.
    pub at: Coordinates,
}

/// The nearest branch to `at`, by the same measure as the claim.
const SQL_NEAREST_BRANCH: &str = "SELECT code FROM service_points WHERE kind = 'branch' \
     ORDER BY (lat - $1) * (lat - $1) + (lon - $2) * (lon - $2) * $3, code LIMIT 1";

/// The origin of `fulfilment`: a few indexed lookups, never the whole
/// list of points (this runs on every order).
pub fn origin(db: &dyn Db, fulfilment: &Fulfilment) -> Result<Origin> {
    let target = match fulfilment {
        Fulfilment::Pickup { point_code } => pickup_point(db, point_code)?,
        Fulfilment::Door { .. } => delivery_centre(db)?,
    };
    origin_at(db, &target)
}

/// The origin when the target point is already known.
fn origin_at(db: &dyn Db, target: &ServicePoint) -> Result<Origin> {
    let branch = if target.kind == PointKind::Branch || target.kind == PointKind::DeliveryCentre {
        target.code.clone()
    } else {
        let at = target.coordinates;
        let cos_lat = at.lat.to_radians().cos().powi(2);
        let rows = db.query(
            SQL_NEAREST_BRANCH,
            &[at.lat.into(), at.lon.into(), cos_lat.into()],
        )?;
        match rows.first() {
            Some(row) => row.text("code")?.to_string(),
            None => target.code.clone(),
        }
    };
    Ok(Origin {
        branch,
        at: target.coordinates,
    })
}

pub(crate) fn pickup_point(db: &dyn Db, code: &str) -> Result<ServicePoint> {
    point::find_point(db, code)?.ok_or(Error::NotFound {
        what: "service point",
    })
}

/// The delivery centre.
pub fn delivery_centre(db: &dyn Db) -> Result<ServicePoint> {
    point::list_points(db, Some(PointKind::DeliveryCentre))?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no delivery centre is configured")))
}

/// Everything checked before anything is written; refusals say what to do.
/// Gives the pickup point, which the caller needs next.
fn check(
    db: &dyn Db,
    reader: &Reader,
    placement: &Placement,
    now_ms: i64,
) -> Result<Option<ServicePoint>> {
    crate::readers::borrowing::check(db, reader, now_ms)?;
    if let Fulfilment::Door { .. } = placement.fulfilment {
        if !(reader.deposit_free(now_ms)
            && reader.standing == Some(StandingName::SesameDepositFree))
        {
            return Err(Error::Forbidden(
                "door delivery needs Sesame credit at the threshold".into(),
            ));
        }
    }
    let held = crate::readers::borrowing::held(db, reader.id)?;
    let wanted = placement.record_ids.len() as i64;
    if held + wanted > reader.loan_quota {
        return Err(Error::Conflict(format!(
            "this order would make {} books held or on order; the quota is {}",
            held + wanted,
            reader.loan_quota
        )));
    }
    match &placement.fulfilment {
        Fulfilment::Pickup { point_code } => {
            let point = pickup_point(db, point_code)?;
            can_take(db, &point)?;
            Ok(Some(point))
        }
        Fulfilment::Door { .. } => Ok(None),
    }
}

/// Whether a pickup point can take an order now: not the delivery centre,
/// open on some day, and for a locker, online with a free cell.
pub(crate) fn can_take(db: &dyn Db, point: &ServicePoint) -> Result<()> {
    if point.kind == PointKind::DeliveryCentre {
        return Err(Error::invalid(
            "point_code",
            "the delivery centre is not a pickup point",
        ));
    }
    if !point.opening.always_open && point.opening.hours.is_empty() {
        return Err(Error::Conflict(format!("{} is closed", point.name)));
    }
    if let Some(locker) = &point.locker {
        if locker.status != LockerStatus::Online {
            return Err(Error::Conflict(format!(
                "the locker at {} is offline; choose another point",
                point.name
            )));
        }
        let free = db.query(
            "SELECT COUNT(*) AS n FROM locker_cells WHERE point_code = $1 AND state = 'empty'",
            &[point.code.as_str().into()],
        )?;
        if free
            .first()
            .map(|row| row.i64("n"))
            .transpose()?
            .unwrap_or(0)
            == 0
        {
            return Err(Error::Conflict(format!(
                "the locker at {} has no free cell; choose another point",
                point.name
            )));
        }
    }
    Ok(())
}

/// Places the order, or returns the one already placed with the same key
/// for the same request (another request under that key is a 409). The
/// flag says whether this call placed it.
pub fn place(
    db: &dyn Db,
    reader_id: i64,
    placement: &Placement,
    settings: OrderSettings,
    now_ms: i64,
) -> Result<(OrderView, bool)> {
    if let Some(order) = view::by_idempotency_key(db, reader_id, &placement.idempotency_key)? {
        return Ok((super::idempotency::replay(placement, order)?, false));
    }
    let reader = readers::get(db, reader_id)?;
    let (origin, centre) = match check(db, &reader, placement, now_ms)? {
        Some(point) => (origin_at(db, &point)?, None),
        None => {
            let centre = delivery_centre(db)?;
            (origin_at(db, &centre)?, Some(centre.code))
        }
    };
    let placed = in_transaction(db, |db| {
        write(
            db,
            &reader,
            placement,
            settings,
            &origin,
            centre.as_deref(),
            now_ms,
        )
    });
    match placed {
        Ok(order_id) => Ok((view::get(db, order_id)?, true)),
        // A concurrent request with the same key placed it first.
        Err(Error::Conflict(reason)) if reason == DUPLICATE => {
            let order = view::by_idempotency_key(db, reader_id, &placement.idempotency_key)?
                .ok_or(Error::NotFound { what: "order" })?;
            Ok((super::idempotency::replay(placement, order)?, false))
        }
        Err(error) => Err(error),
    }
}

const DUPLICATE: &str = "placed by a concurrent request with the same key";

fn write(
    db: &dyn Db,
    reader: &Reader,
    placement: &Placement,
    settings: OrderSettings,
    origin: &Origin,
    centre: Option<&str>,
    now_ms: i64,
) -> Result<i64> {
    let door = matches!(placement.fulfilment, Fulfilment::Door { .. });
    let state = OrderState::Created.next(Transition::Place {
        needs_payment: door,
    })?;
    let (pickup_point, address) = match &placement.fulfilment {
        Fulfilment::Pickup { point_code } => (Some(point_code.as_str()), None),
        Fulfilment::Door { address } => (None, Some(address.as_str())),
    };
    let (fee, due) = if door {
        (
            settings.door_fee_fen,
            Some(now_ms + settings.payment_window_ms),
        )
    } else {
        (0, None)
    };
    // The first statement writes, so SQLite takes its write lock at once
    // instead of upgrading a read lock later (which fails under load).
    let rows = db.query(
        "INSERT INTO orders (reader_id, fulfilment, pickup_point, delivery_address, fee_fen, state, \
         idempotency_key, payment_due_at_ms, created_at_ms, updated_at_ms, channel) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) \
         ON CONFLICT (reader_id, idempotency_key) DO NOTHING RETURNING id",
        &[
            reader.id.into(),
            (if door { "door" } else { "pickup" }).into(),
            pickup_point.into(),
            address.into(),
            fee.into(),
            state.as_str().into(),
            placement.idempotency_key.as_str().into(),
            due.into(),
            now_ms.into(),
            placement.channel.into(),
        ],
    )?;
    let order_id = rows
        .first()
        .map(|row| row.i64("id"))
        .transpose()?
        .ok_or_else(|| Error::Conflict(DUPLICATE.into()))?;
    let mut pick_points = Vec::new();
    for &record_id in &placement.record_ids {
        let (barcode, at) =
            claim(db, record_id, origin, now_ms)?.ok_or_else(|| no_copy(db, record_id))?;
        db.execute(
            "INSERT INTO order_lines (order_id, record_id, copy_barcode, state, pick_point, updated_at_ms) \
             VALUES ($1, $2, $3, 'promised', $4, $5)",
            &[order_id.into(), record_id.into(), barcode.into(), at.as_str().into(), now_ms.into()],
        )?;
        pick_points.push(at);
    }
    pick_points.sort();
    pick_points.dedup();
    let consolidate = pick_points.len() > 1;
    // The delivery centre is read only when a set needs it.
    let parcel_point = if consolidate {
        match centre {
            Some(code) => code.to_string(),
            None => delivery_centre(db)?.code,
        }
    } else {
        pick_points.concat()
    };
    let payment_ref = door.then(|| format!("{}{order_id}", super::payment::TRADE_PREFIX));
    db.execute(
        "UPDATE orders SET consolidate = $1, parcel_point = $2, payment_ref = $3 WHERE id = $4",
        &[
            i64::from(consolidate).into(),
            parcel_point.as_str().into(),
            payment_ref.into(),
            order_id.into(),
        ],
    )?;
    let actor = format!("reader:{}", reader.id);
    log::event(
        db,
        now_ms,
        &actor,
        order_id,
        "order_placed",
        serde_json::json!({
            "state": state.as_str(), "lines": placement.record_ids, "consolidate": consolidate,
        }),
    )?;
    Ok(order_id)
}

/// The refusal for a title with no copy to promise: why, in the reader's
/// terms.
fn no_copy(db: &dyn Db, record_id: i64) -> Error {
    let title = db
        .query(
            "SELECT title FROM records WHERE id = $1",
            &[record_id.into()],
        )
        .ok()
        .and_then(|rows| {
            rows.first()
                .and_then(|row| row.text("title").ok().map(str::to_string))
        });
    match title {
        None => Error::NotFound { what: "record" },
        Some(title) => Error::Conflict(format!(
            "no copy of «{title}» is on a shelf to lend now; join its queue (POST /api/me/holds) or suggest a purchase"
        )),
    }
}
