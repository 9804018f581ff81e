//! The platform's side of the locker protocol in SQL: who a locker is and
//! its secret, the replay guard, heartbeats and the commands they carry,
//! a reader's request to open a cell, and offline detection.
//!
//! A locker's secret is never stored: it is derived from the
//! `locker_master_key` variable as lower-case hex of
//! HMAC-SHA256(master key, `"wangjie-locker:" + locker id`), 64 ASCII
//! characters used as the secret's bytes. Registering a locker is giving
//! its vendor that string; rotating the master key re-keys every locker.

use super::messages::{AckOutcome, CellState, Command, CommandKind, Heartbeat, HeartbeatReply};
use super::signing::{LockerHeaders, LockerSecret, VerifiedRequest};
use super::DEFAULT_WINDOW_MS;
use crate::db::{Db, Value};
use crate::orders::{log, view};
use crate::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Seconds a locker waits between heartbeats, told in every reply.
pub const NEXT_HEARTBEAT_S: u32 = 30;
/// A locker clock further off than this is told the server's time.
pub const CLOCK_SKEW_MS: i64 = 30_000;

/// The secret of locker `locker_id` under `master_key`.
pub fn derive_secret(master_key: &str, locker_id: &str) -> Result<LockerSecret> {
    if master_key.is_empty() {
        return Err(Error::Config {
            name: "locker_master_key",
            reason: "not set: no locker can be authenticated".into(),
        });
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(master_key.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hmac key: {e}")))?;
    mac.update(format!("wangjie-locker:{locker_id}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    LockerSecret::new(hex.as_bytes())
}

/// Authenticates a locker request to `/api/lockers/{path_id}/...`: the
/// headers must name `path_id`, the point must have a locker (else the same
/// 401 as a bad signature), the signature and time must verify, and the
/// nonce must be new (a reused one is a 409 conflict).
#[allow(clippy::too_many_arguments)]
pub fn authenticate<'a>(
    db: &dyn Db,
    master_key: &str,
    path_id: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    method: &str,
    target: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<VerifiedRequest> {
    let headers = LockerHeaders::parse(header)?;
    let unknown = Error::BadSignature {
        what: "locker request",
    };
    if headers.locker_id != path_id {
        return Err(unknown);
    }
    let rows = db.query(
        "SELECT code FROM service_points WHERE code = $1 AND locker_generation IS NOT NULL",
        &[path_id.into()],
    )?;
    if rows.first().is_none() {
        return Err(unknown);
    }
    let secret = derive_secret(master_key, path_id)?;
    let verified = headers.verify(&secret, method, target, body, now_ms, DEFAULT_WINDOW_MS)?;
    let fresh = db.execute(
        "INSERT INTO locker_nonces (point_code, nonce, expires_at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        &[
            path_id.into(),
            headers.nonce.as_str().into(),
            verified.nonce_expires_at_ms.into(),
        ],
    )?;
    if fresh == 0 {
        return Err(Error::Conflict(
            "this nonce was used already: sign again with a fresh nonce".into(),
        ));
    }
    // Forget nonces the window refuses anyway; a few per request keeps the
    // table small without a job.
    db.execute(
        "DELETE FROM locker_nonces WHERE point_code = $1 AND expires_at_ms < $2",
        &[path_id.into(), now_ms.into()],
    )?;
    Ok(verified)
}

fn cell_state_name(state: CellState) -> &'static str {
    match state {
        CellState::Empty => "empty",
        CellState::Reserved => "reserved",
        CellState::Occupied => "occupied",
        CellState::Fault => "fault",
        CellState::DoorOpen => "door_open",
    }
}

/// Records heartbeat `beat` of `locker` and answers with its pending
/// commands.
pub fn heartbeat(
    db: &dyn Db,
    locker: &str,
    beat: &Heartbeat,
    now_ms: i64,
) -> Result<HeartbeatReply> {
    beat.validate()?;
    let health = serde_json::to_string(&beat.health).map_err(anyhow::Error::from)?;
    db.execute(
        "UPDATE service_points SET locker_status = 'online', last_heartbeat_at_ms = $1, \
         locker_health = $2 WHERE code = $3",
        &[now_ms.into(), health.into(), locker.into()],
    )?;
    let rows = db.query(
        "SELECT cell_no, state FROM locker_cells WHERE point_code = $1",
        &[locker.into()],
    )?;
    let mut ours = std::collections::HashMap::new();
    for row in rows.iter() {
        ours.insert(row.i64("cell_no")?, row.text("state")?.to_string());
    }
    for cell in &beat.cells {
        let reported = cell_state_name(cell.state);
        let Some(current) = ours.get(&i64::from(cell.no)) else {
            continue;
        };
        // A reservation is ours: the locker mirrors it but cannot make or
        // end one (an empty reserved cell is a parcel still on its way).
        if current == reported
            || reported == "reserved"
            || (current == "reserved" && reported == "empty")
        {
            continue;
        }
        db.execute(
            "UPDATE locker_cells SET state = $1, updated_at_ms = $2 \
             WHERE point_code = $3 AND cell_no = $4 AND state = $5",
            &[
                reported.into(),
                now_ms.into(),
                locker.into(),
                i64::from(cell.no).into(),
                current.as_str().into(),
            ],
        )?;
    }
    for ack in &beat.acks {
        let Some(id) = ack
            .id
            .strip_prefix("c-")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        let outcome = match ack.outcome {
            AckOutcome::Done => "done",
            AckOutcome::Failed => "failed",
        };
        db.execute(
            "UPDATE locker_commands SET acked_at_ms = $1, outcome = $2, ack_detail = $3 \
             WHERE id = $4 AND point_code = $5 AND acked_at_ms IS NULL",
            &[
                now_ms.into(),
                outcome.into(),
                ack.detail.clone().into(),
                id.into(),
                locker.into(),
            ],
        )?;
    }
    let mut commands = pending(db, locker)?;
    if beat.clock_ms.abs_diff(now_ms) > CLOCK_SKEW_MS.unsigned_abs() {
        // Not stored: a fresh one in every reply while the clock is off.
        commands.push(Command {
            id: format!("t-{now_ms}"),
            kind: CommandKind::SyncClock { server_ms: now_ms },
        });
    }
    Ok(HeartbeatReply {
        commands,
        next_heartbeat_s: NEXT_HEARTBEAT_S,
    })
}

/// The commands of `locker` not yet acknowledged, oldest first.
pub fn pending(db: &dyn Db, locker: &str) -> Result<Vec<Command>> {
    let rows = db.query(
        "SELECT id, kind, payload FROM locker_commands \
         WHERE point_code = $1 AND acked_at_ms IS NULL ORDER BY id",
        &[locker.into()],
    )?;
    let mut commands = Vec::new();
    for row in rows.iter() {
        let mut payload: serde_json::Value =
            serde_json::from_str(row.text("payload")?).map_err(anyhow::Error::from)?;
        payload["kind"] = row.text("kind")?.into();
        let kind: CommandKind = serde_json::from_value(payload).map_err(anyhow::Error::from)?;
        commands.push(Command {
            id: format!("c-{}", row.i64("id")?),
            kind,
        });
    }
    Ok(commands)
}

/// Queues a command for `locker`'s next heartbeat.
pub fn queue(db: &dyn Db, locker: &str, kind: &CommandKind, now_ms: i64) -> Result<()> {
    let mut payload = serde_json::to_value(kind).map_err(anyhow::Error::from)?;
    let name = payload["kind"].as_str().unwrap_or_default().to_string();
    if let Some(map) = payload.as_object_mut() {
        map.remove("kind");
    }
    db.execute(
        "INSERT INTO locker_commands (point_code, kind, payload, created_at_ms) VALUES ($1, $2, $3, $4)",
        &[locker.into(), name.into(), payload.to_string().into(), now_ms.into()],
    )?;
    Ok(())
}

/// Reader `reader_id` asks locker `locker` to open the cell of their order
/// `order_id`: another reader's order is not found, an order not waiting at
/// this locker is a conflict. Asking again while the command is pending
/// queues nothing more. Returns the cell.
pub fn request_pickup(
    db: &dyn Db,
    locker: &str,
    reader_id: i64,
    order_id: i64,
    now_ms: i64,
) -> Result<i64> {
    let order = view::get_for_reader(db, reader_id, order_id)?;
    if order.pickup_point.as_deref() != Some(locker) {
        return Err(Error::Conflict(format!(
            "order {order_id} is not collected at locker {locker}"
        )));
    }
    let cell = match (order.state.as_str(), order.locker_cell) {
        ("awaiting_pickup", Some(cell)) => cell,
        _ => {
            return Err(Error::Conflict(format!(
                "order {order_id} is not waiting in a cell of locker {locker}"
            )))
        }
    };
    let kind = CommandKind::OpenCell {
        cell: u16::try_from(cell).map_err(anyhow::Error::from)?,
        reader_id: Some(reader_id),
        order_id: Some(order_id),
    };
    if !pending(db, locker)?.iter().any(|c| c.kind == kind) {
        queue(db, locker, &kind, now_ms)?;
    }
    Ok(cell)
}

/// Marks offline every online locker whose last heartbeat is older than
/// `after_ms`, so no order is routed there, and logs `locker_offline` on
/// each order on its way to or waiting in it, for staff. Returns the
/// lockers marked.
pub fn mark_offline(db: &dyn Db, now_ms: i64, after_ms: i64) -> Result<Vec<String>> {
    let rows = db.query(
        "UPDATE service_points SET locker_status = 'offline' \
         WHERE locker_status = 'online' AND (last_heartbeat_at_ms IS NULL OR last_heartbeat_at_ms < $1) \
         RETURNING code",
        &[(now_ms - after_ms).into()],
    )?;
    let mut codes = Vec::new();
    for row in rows.iter() {
        codes.push(row.text("code")?.to_string());
    }
    for code in &codes {
        let orders = db.query(
            "SELECT id FROM orders WHERE pickup_point = $1 AND state IN ('in_transit', 'awaiting_pickup')",
            &[Value::from(code.as_str())],
        )?;
        for order in orders.iter() {
            log::event(
                db,
                now_ms,
                "system:lockers",
                order.i64("id")?,
                "locker_offline",
                serde_json::json!({ "point": code }),
            )?;
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_differ_by_locker_and_need_a_master_key() {
        let a = derive_secret("master", "SZ-1").unwrap();
        let b = derive_secret("master", "SZ-2").unwrap();
        let sign = |s: &LockerSecret| super::super::signing::sign(s, "POST", "/p", 1, "n", b"");
        assert_ne!(sign(&a), sign(&b));
        assert!(derive_secret("", "SZ-1").is_err());
    }
}
