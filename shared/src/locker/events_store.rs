//! Applying a locker's events: each `(locker, event_id)` is claimed once in
//! `locker_events` (a resend is a `duplicate` and changes nothing), then
//! applied on its own, so events may come late and in any order.

use super::events::{EventBatch, EventKind, EventOutcome, EventResult, EventsReply, LockerEvent};
use crate::db::Db;
use crate::orders::delivery;
use crate::orders::log;
use crate::orders::state::{self, OrderState, Transition};
use crate::orders::view;
use crate::{Error, Result};

/// What the applying of one event needs besides the database.
#[derive(Debug, Clone, Copy)]
pub struct EventSettings {
    /// How long a deposited order waits to be collected.
    pub pickup_hold_ms: i64,
    /// How long a loan runs.
    pub loan_period_ms: i64,
}

/// Applies every event of `batch` from `locker`, one result each.
pub fn apply_batch(
    db: &dyn Db,
    locker: &str,
    batch: &EventBatch,
    settings: EventSettings,
    now_ms: i64,
) -> Result<EventsReply> {
    let mut results = Vec::with_capacity(batch.events.len());
    for event in &batch.events {
        results.push(apply_one(db, locker, event, settings, now_ms)?);
    }
    Ok(EventsReply { results })
}

fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::CourierDeposit { .. } => "courier_deposit",
        EventKind::ReaderPickup { .. } => "reader_pickup",
        EventKind::ReturnDrop { .. } => "return_drop",
        EventKind::OnsiteBorrow { .. } => "onsite_borrow",
        EventKind::Fault { .. } => "fault",
    }
}

fn apply_one(
    db: &dyn Db,
    locker: &str,
    event: &LockerEvent,
    settings: EventSettings,
    now_ms: i64,
) -> Result<EventResult> {
    let body = serde_json::to_string(event).map_err(anyhow::Error::from)?;
    let claimed = db.execute(
        "INSERT INTO locker_events (point_code, event_id, kind, at_ms, body, outcome, received_at_ms) \
         VALUES ($1, $2, $3, $4, $5, 'recorded', $6) ON CONFLICT DO NOTHING",
        &[
            locker.into(),
            event.event_id.as_str().into(),
            kind_name(&event.kind).into(),
            event.at_ms.into(),
            body.into(),
            now_ms.into(),
        ],
    )?;
    if claimed == 0 {
        return Ok(EventResult {
            event_id: event.event_id.clone(),
            outcome: EventOutcome::Duplicate,
            detail: None,
        });
    }
    match apply(db, locker, &event.kind, settings, now_ms) {
        Ok(Ok(())) => Ok(EventResult {
            event_id: event.event_id.clone(),
            outcome: EventOutcome::Recorded,
            detail: None,
        }),
        Ok(Err(reason)) => {
            db.execute(
                "UPDATE locker_events SET outcome = 'rejected', detail = $1 \
                 WHERE point_code = $2 AND event_id = $3",
                &[
                    reason.as_str().into(),
                    locker.into(),
                    event.event_id.as_str().into(),
                ],
            )?;
            Ok(EventResult {
                event_id: event.event_id.clone(),
                outcome: EventOutcome::Rejected,
                detail: Some(reason),
            })
        }
        Err(error) => {
            // Not applied: let the locker's resend try again.
            let _ignored = db.execute(
                "DELETE FROM locker_events WHERE point_code = $1 AND event_id = $2",
                &[locker.into(), event.event_id.as_str().into()],
            );
            Err(error)
        }
    }
}

/// `Ok(Err(reason))`: the event contradicts what we know and is rejected.
type Applied = Result<std::result::Result<(), String>>;

fn apply(db: &dyn Db, locker: &str, kind: &EventKind, s: EventSettings, now: i64) -> Applied {
    let actor = format!("locker:{locker}");
    match kind {
        EventKind::CourierDeposit { cell, barcode } => {
            deposit(db, locker, &actor, i64::from(*cell), barcode, s, now)
        }
        EventKind::ReaderPickup { cell, order_id } => {
            pickup(db, locker, &actor, i64::from(*cell), *order_id, s, now)
        }
        EventKind::ReturnDrop { barcode, rfid } => {
            let barcode = match (barcode, rfid) {
                (Some(barcode), _) => barcode.clone(),
                (None, Some(tag)) => match copy_by_rfid(db, tag)? {
                    Ok(barcode) => barcode,
                    Err(reason) => return Ok(Err(reason)),
                },
                (None, None) => return Ok(Err("neither barcode nor RFID tag".into())),
            };
            return_drop(db, locker, &actor, &barcode, now)
        }
        EventKind::OnsiteBorrow {
            cell,
            barcode,
            reader_id,
        } => onsite_borrow(
            db,
            locker,
            &actor,
            i64::from(*cell),
            barcode,
            *reader_id,
            s,
            now,
        ),
        EventKind::Fault { cell, code, detail } => {
            if let Some(cell) = cell {
                db.execute(
                    "UPDATE locker_cells SET state = 'fault', updated_at_ms = $1 \
                     WHERE point_code = $2 AND cell_no = $3",
                    &[now.into(), locker.into(), i64::from(*cell).into()],
                )?;
            }
            crate::events::append(
                db,
                now,
                crate::events::Event {
                    actor: &actor,
                    subject_kind: "locker",
                    subject_id: locker.to_string(),
                    event: "locker_fault",
                    detail: serde_json::json!({ "cell": cell, "code": code, "detail": detail }),
                },
            )?;
            Ok(Ok(()))
        }
    }
}

/// The order on its way to (or already in) `cell` of `locker` that holds
/// copy `barcode`.
fn deposit(
    db: &dyn Db,
    locker: &str,
    actor: &str,
    cell: i64,
    barcode: &str,
    s: EventSettings,
    now: i64,
) -> Applied {
    let rows = db.query(
        "SELECT o.id, o.reader_id, o.state FROM orders o JOIN order_lines l ON l.order_id = o.id \
         WHERE o.pickup_point = $1 AND o.locker_cell = $2 AND l.copy_barcode = $3 \
         AND o.state IN ('in_transit', 'awaiting_pickup', 'picked_up') ORDER BY o.id DESC LIMIT 1",
        &[locker.into(), cell.into(), barcode.into()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(Err(format!(
            "no order for cell {cell} of this locker holds copy {barcode}"
        )));
    };
    let (order_id, reader_id) = (row.i64("id")?, row.i64("reader_id")?);
    if row.text("state")? != "in_transit" {
        // Already arrived (or even collected: the pickup came first).
        return Ok(Ok(()));
    }
    arrive(db, locker, actor, order_id, cell, s, now)?;
    let deadline = now + s.pickup_hold_ms;
    // Only now, with the copy in the cell, is the reader told.
    log::notice(
        db,
        now,
        reader_id,
        "ready_for_pickup",
        &format!("ready_for_pickup:order:{order_id}"),
        order_id,
        serde_json::json!({ "order_id": order_id, "point": locker, "cell": cell, "deadline_at_ms": deadline }),
    )?;
    Ok(Ok(()))
}

fn arrive(
    db: &dyn Db,
    locker: &str,
    actor: &str,
    order_id: i64,
    cell: i64,
    s: EventSettings,
    now: i64,
) -> Result<()> {
    if state::store(db, order_id, OrderState::InTransit, Transition::Arrive, now)?.is_none() {
        return Err(Error::Conflict(format!(
            "order {order_id} changed meanwhile"
        )));
    }
    db.execute(
        "UPDATE orders SET pickup_deadline_at_ms = $1 WHERE id = $2",
        &[(now + s.pickup_hold_ms).into(), order_id.into()],
    )?;
    db.execute(
        "UPDATE locker_cells SET state = 'occupied', updated_at_ms = $1 WHERE point_code = $2 AND cell_no = $3",
        &[now.into(), locker.into(), cell.into()],
    )?;
    db.execute(
        "UPDATE copies SET status = 'on_hold', current_point = $1, updated_at_ms = $2 \
         WHERE barcode IN (SELECT copy_barcode FROM order_lines WHERE order_id = $3 AND state = 'picked')",
        &[locker.into(), now.into(), order_id.into()],
    )?;
    log::event(
        db,
        now,
        actor,
        order_id,
        "order_arrived",
        serde_json::json!({ "point": locker, "cell": cell }),
    )
}

fn pickup(
    db: &dyn Db,
    locker: &str,
    actor: &str,
    cell: i64,
    order_id: i64,
    s: EventSettings,
    now: i64,
) -> Applied {
    let order = match view::get(db, order_id) {
        Ok(order) => order,
        Err(Error::NotFound { .. }) => return Ok(Err(format!("unknown order {order_id}"))),
        Err(other) => return Err(other),
    };
    if order.pickup_point.as_deref() != Some(locker) || order.locker_cell != Some(cell) {
        return Ok(Err(format!(
            "order {order_id} is not in cell {cell} of this locker"
        )));
    }
    match order.state.as_str() {
        // The deposit is still on its way to us: a pickup known first.
        "in_transit" => arrive(db, locker, actor, order_id, cell, s, now)?,
        "awaiting_pickup" | "picked_up" => {}
        other => return Ok(Err(format!("order {order_id} is {other}, not in a cell"))),
    }
    delivery::collect(db, order_id, actor, s.loan_period_ms, now)?;
    db.execute(
        "UPDATE locker_cells SET state = 'empty', reserved_for_order = NULL, updated_at_ms = $1 \
         WHERE point_code = $2 AND cell_no = $3 AND (reserved_for_order = $4 OR reserved_for_order IS NULL)",
        &[now.into(), locker.into(), cell.into(), order_id.into()],
    )?;
    Ok(Ok(()))
}

/// The barcode of the one copy carrying RFID tag `tag` (imported with the
/// catalogue); none or several is a reason to reject the drop for staff.
fn copy_by_rfid(db: &dyn Db, tag: &str) -> Result<std::result::Result<String, String>> {
    let rows = db.query(
        "SELECT barcode FROM copies WHERE rfid = $1 LIMIT 2",
        &[tag.into()],
    )?;
    Ok(match (rows.len(), rows.first()) {
        (1, Some(row)) => Ok(row.text("barcode")?.to_string()),
        (0, _) => Err(format!("RFID tag {tag} is not registered to a copy")),
        _ => Err(format!(
            "RFID tag {tag} is registered to more than one copy"
        )),
    })
}

fn return_drop(db: &dyn Db, locker: &str, actor: &str, barcode: &str, now: i64) -> Applied {
    // A locker is nobody's home branch: the copy travels home from here.
    match crate::loans::check_in(db, barcode, locker, actor, now)? {
        Some(checked) if checked.loan_id.is_some() => Ok(Ok(())),
        _ => Ok(Err(format!("copy {barcode} has no open loan"))),
    }
}

#[allow(clippy::too_many_arguments)]
fn onsite_borrow(
    db: &dyn Db,
    locker: &str,
    actor: &str,
    cell: i64,
    barcode: &str,
    reader_id: i64,
    s: EventSettings,
    now: i64,
) -> Applied {
    let generation = db.query(
        "SELECT locker_generation FROM service_points WHERE code = $1",
        &[locker.into()],
    )?;
    if generation
        .first()
        .map(|r| r.opt_i64("locker_generation"))
        .transpose()?
        .flatten()
        != Some(2)
    {
        return Ok(Err("only second-generation lockers lend on the spot".into()));
    }
    let reader = match crate::readers::store::get(db, reader_id) {
        Ok(reader) => reader,
        Err(Error::NotFound { .. }) => return Ok(Err(format!("unknown reader {reader_id}"))),
        Err(other) => return Err(other),
    };
    if !reader.may_borrow(now) {
        return Ok(Err(format!("reader {reader_id} may not borrow")));
    }
    let open = db.query(
        "SELECT COUNT(*) AS n FROM loans WHERE reader_id = $1 AND returned_at_ms IS NULL",
        &[reader_id.into()],
    )?;
    if open.first().map(|r| r.i64("n")).transpose()?.unwrap_or(0) >= reader.loan_quota {
        return Ok(Err(format!("reader {reader_id} has reached their quota")));
    }
    let taken = db.execute(
        "UPDATE copies SET status = 'on_loan', current_point = NULL, updated_at_ms = $1 \
         WHERE barcode = $2 AND current_point = $3 AND status IN ('on_shelf', 'on_hold') \
         AND barcode NOT IN (SELECT copy_barcode FROM order_lines WHERE state = 'picked' AND copy_barcode IS NOT NULL)",
        &[now.into(), barcode.into(), locker.into()],
    )?;
    if taken == 0 {
        return Ok(Err(format!(
            "copy {barcode} is not on display at this locker"
        )));
    }
    db.execute(
        "INSERT INTO loans (copy_barcode, reader_id, started_at_ms, due_at_ms) VALUES ($1, $2, $3, $4)",
        &[barcode.into(), reader_id.into(), now.into(), (now + s.loan_period_ms).into()],
    )?;
    crate::sesame_orders::open_for_loans(db, reader_id, now)?;
    crate::events::append(
        db,
        now,
        crate::events::Event {
            actor,
            subject_kind: "copy",
            subject_id: barcode.to_string(),
            event: "onsite_borrow",
            detail: serde_json::json!({ "point": locker, "cell": cell, "reader_id": reader_id }),
        },
    )?;
    Ok(Ok(()))
}
