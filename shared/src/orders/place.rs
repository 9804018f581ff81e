//! Placing an order: the checks (the session not signed out, standing,
//! quota, the point, the titles), one promised copy per line, the order,
//! its lines and the log, and the answer built from what was written.
//!
//! On PostgreSQL all of it is one statement, the function
//! `wj_place_order` of migration 0025 ([`super::one_trip`]): one round
//! trip from the component. On SQLite, embedded and without round trips to
//! save, the same steps run as separate statements ([`super::steps`]).
//! Both answer an [`Outcome`]; [`place`] turns it into the reply.
//!
//! A copy is claimed by a conditional statement that only takes a copy
//! still `on_shelf`: whatever the concurrency, a second claimant finds it
//! no longer on the shelf (and on PostgreSQL skips rows another transaction
//! holds); the partial unique index `copies_one_open_promise` backs the
//! same rule at the line level.

use super::refusal::{refuse, Refusal};
use super::state::{OrderState, Transition};
use super::view::{self, OrderView};
use crate::db::{Db, Dialect};
use crate::geo::Coordinates;
use crate::point::{self, LockerStatus, PointKind, ServicePoint};
use crate::session::Unrevoked;
use crate::{Error, Result};
use serde::Deserialize;

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

/// What a new order is written with, the same on both backends.
pub(super) struct Terms<'a> {
    pub door: bool,
    pub state: OrderState,
    pub pickup_point: Option<&'a str>,
    pub address: Option<&'a str>,
    pub fee: i64,
    pub due: Option<i64>,
}

impl Placement {
    /// Its first state, destination and fee: a door order owes the fee
    /// within the payment window.
    pub(super) fn terms(&self, settings: OrderSettings, now_ms: i64) -> Result<Terms<'_>> {
        let door = matches!(self.fulfilment, Fulfilment::Door { .. });
        let state = OrderState::Created.next(Transition::Place {
            needs_payment: door,
        })?;
        let (pickup_point, address) = match &self.fulfilment {
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
        Ok(Terms {
            door,
            state,
            pickup_point,
            address,
            fee,
            due,
        })
    }
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
pub(super) fn origin_at(db: &dyn Db, target: &ServicePoint) -> Result<Origin> {
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
    point::find_point(db, code)?.ok_or_else(|| Refusal::PointNotFound.into())
}

/// The delivery centre.
pub fn delivery_centre(db: &dyn Db) -> Result<ServicePoint> {
    point::list_points(db, Some(PointKind::DeliveryCentre))?
        .into_iter()
        .next()
        .ok_or_else(|| Refusal::NoDeliveryCentre.into())
}

/// Whether a pickup point can take an order now: not the delivery centre,
/// open on some day, and for a locker, online with a free cell.
pub(crate) fn can_take(db: &dyn Db, point: &ServicePoint) -> Result<()> {
    if point.kind == PointKind::DeliveryCentre {
        return refuse(Refusal::NotAPickupPoint);
    }
    let name = || point.name.clone();
    if !point.opening.always_open && point.opening.hours.is_empty() {
        return refuse(Refusal::Closed { name: name() });
    }
    if let Some(locker) = &point.locker {
        if locker.status != LockerStatus::Online {
            return refuse(Refusal::LockerOffline { name: name() });
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
            return refuse(Refusal::LockerFull { name: name() });
        }
    }
    Ok(())
}

/// What one attempt at placing came to, on either backend.
#[derive(Debug, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(super) enum Outcome {
    /// Placed now; the order as written.
    Placed {
        /// The answer, built from what was written, never read back
        /// (boxed: it is much larger than the other outcomes).
        order: Box<OrderView>,
    },
    /// The reader's `Idempotency-Key` placed this order already (or a
    /// concurrent request with it just did).
    Existing {
        /// `orders.id`.
        id: i64,
    },
    /// The token predates `session_revocations`: the key-value store must
    /// say it was not signed out, then the placement runs again.
    CheckStore,
    /// Refused; nothing was kept.
    Refused(Refusal),
}

/// Places the order for the reader of `caller`, or returns the one
/// already placed with the same key for the same request (another request
/// under that key is a 409). The flag says whether this call placed it.
///
/// `caller`'s revocation is checked with the placement
/// ([`crate::revocations`]); `revoked_in_store` is asked only for a token
/// issued before that table was kept.
pub fn place(
    db: &dyn Db,
    caller: &Unrevoked,
    placement: &Placement,
    settings: OrderSettings,
    now_ms: i64,
    revoked_in_store: &mut dyn FnMut() -> Result<bool>,
) -> Result<(OrderView, bool)> {
    let mut store_checked = false;
    loop {
        let outcome = match db.dialect() {
            Dialect::Postgres => {
                super::one_trip::place(db, caller, placement, settings, now_ms, store_checked)?
            }
            Dialect::Sqlite => {
                super::steps::place(db, caller, placement, settings, now_ms, store_checked)?
            }
        };
        match outcome {
            Outcome::Placed { order } => return Ok((*order, true)),
            Outcome::Existing { id } => {
                let order = view::get(db, id)?;
                return Ok((super::idempotency::replay(placement, order)?, false));
            }
            Outcome::Refused(refusal) => return refuse(refusal),
            Outcome::CheckStore if !store_checked => {
                if revoked_in_store()? {
                    return Err(Error::Unauthenticated);
                }
                store_checked = true;
            }
            Outcome::CheckStore => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "the placement asked for the store's check twice"
                )))
            }
        }
    }
}
