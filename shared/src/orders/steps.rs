//! Placing an order on SQLite, statement by statement: the same steps and
//! refusals as PostgreSQL's one function (migration 0025), run from here
//! because SQLite is embedded and a statement costs no round trip. The
//! checks read first; then one transaction whose first statement is a
//! write (so SQLite takes its write lock at once instead of upgrading a
//! read lock, which fails under load) writes the order, claims one copy per
//! line, and writes the lines and the event. The answer is built from what
//! was written.

use super::log;
use super::place::{
    claim, delivery_centre, origin_at, pickup_point, Fulfilment, OrderSettings, Origin, Outcome,
    Placement, Terms,
};
use super::refusal::{refuse, Refusal};
use super::view::{LineView, OrderView};
use crate::db::{in_transaction, Db};
use crate::point::ServicePoint;
use crate::readers::{store as readers, Reader, StandingName};
use crate::revocations::{self, Standing};
use crate::session::Unrevoked;
use crate::{Error, Result};

/// One attempt (see [`super::place::place`]).
pub(super) fn place(
    db: &dyn Db,
    caller: &Unrevoked,
    placement: &Placement,
    settings: OrderSettings,
    now_ms: i64,
    store_checked: bool,
) -> Result<Outcome> {
    let claims = caller.pending();
    match revocations::standing(db, claims, store_checked)? {
        Standing::Revoked => return Ok(Outcome::Refused(Refusal::Revoked)),
        Standing::AskTheStore => return Ok(Outcome::CheckStore),
        Standing::Unrevoked => {}
    }
    let reader_id = claims.reader_id;
    if let Some(id) = existing(db, reader_id, &placement.idempotency_key)? {
        return Ok(Outcome::Existing { id });
    }
    let reader = match readers::get(db, reader_id) {
        Err(Error::NotFound { .. }) => return Ok(Outcome::Refused(Refusal::ReaderNotFound)),
        found => found?,
    };
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
        Ok(order) => Ok(Outcome::Placed {
            order: Box::new(order),
        }),
        // A concurrent request with the same key placed it first.
        Err(Error::Conflict(reason)) if reason == DUPLICATE => {
            let id = existing(db, reader_id, &placement.idempotency_key)?
                .ok_or(Error::NotFound { what: "order" })?;
            Ok(Outcome::Existing { id })
        }
        Err(error) => Err(error),
    }
}

/// The reader's order placed with `key`, if any.
fn existing(db: &dyn Db, reader_id: i64, key: &str) -> Result<Option<i64>> {
    let rows = db.query(
        "SELECT id FROM orders WHERE reader_id = $1 AND idempotency_key = $2",
        &[reader_id.into(), key.into()],
    )?;
    rows.first().map(|row| row.i64("id")).transpose()
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
            return refuse(Refusal::DoorNeedsSesame);
        }
    }
    let held = crate::readers::borrowing::held(db, reader.id)?;
    let would_hold = held + placement.record_ids.len() as i64;
    if would_hold > reader.loan_quota {
        return refuse(Refusal::Quota {
            would_hold,
            quota: reader.loan_quota,
        });
    }
    match &placement.fulfilment {
        Fulfilment::Pickup { point_code } => {
            let point = pickup_point(db, point_code)?;
            super::place::can_take(db, &point)?;
            Ok(Some(point))
        }
        Fulfilment::Door { .. } => Ok(None),
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
) -> Result<OrderView> {
    let Terms {
        door,
        state,
        pickup_point,
        address,
        fee,
        due,
    } = placement.terms(settings, now_ms)?;
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
    let mut lines = Vec::with_capacity(placement.record_ids.len());
    for &record_id in &placement.record_ids {
        let title = title(db, record_id)?;
        let (barcode, at) = claim(db, record_id, origin, now_ms)?.ok_or_else(|| {
            Error::from(match title.clone() {
                None => Refusal::RecordNotFound,
                Some(title) => Refusal::NoCopy { title },
            })
        })?;
        let rows = db.query(
            "INSERT INTO order_lines (order_id, record_id, copy_barcode, state, pick_point, updated_at_ms) \
             VALUES ($1, $2, $3, 'promised', $4, $5) RETURNING id",
            &[order_id.into(), record_id.into(), barcode.as_str().into(), at.as_str().into(), now_ms.into()],
        )?;
        let id = rows
            .first()
            .map(|row| row.i64("id"))
            .transpose()?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("a line insert returned no id")))?;
        lines.push(LineView {
            id,
            record_id,
            // A claimed copy's record exists (copies.record_id references it).
            title: title.unwrap_or_default(),
            state: "promised".into(),
            copy_barcode: Some(barcode),
            pick_point: Some(at),
            note: None,
        });
    }
    let mut pick_points: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.pick_point.as_deref())
        .collect();
    pick_points.sort_unstable();
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
            payment_ref.as_deref().into(),
            order_id.into(),
        ],
    )?;
    log::event(
        db,
        now_ms,
        &format!("reader:{}", reader.id),
        order_id,
        "order_placed",
        serde_json::json!({
            "state": state.as_str(), "lines": placement.record_ids, "consolidate": consolidate,
        }),
    )?;
    Ok(OrderView {
        id: order_id,
        reader_id: reader.id,
        state: state.as_str().into(),
        fulfilment: (if door { "door" } else { "pickup" }).into(),
        pickup_point: pickup_point.map(str::to_string),
        delivery_address: address.map(str::to_string),
        fee_fen: fee,
        payment_ref,
        payment_due_at_ms: due,
        consolidate,
        parcel_point: Some(parcel_point),
        locker_cell: None,
        pickup_deadline_at_ms: None,
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
        lines,
    })
}

/// A record's title, or `None` when there is no such record.
fn title(db: &dyn Db, record_id: i64) -> Result<Option<String>> {
    let rows = db.query(
        "SELECT title FROM records WHERE id = $1",
        &[record_id.into()],
    )?;
    rows.first()
        .map(|row| row.text("title").map(str::to_string))
        .transpose()
}
