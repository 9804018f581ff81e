//! The platform's side of the locker protocol in SQL: who a locker is and
//! its secret, the replay guard, heartbeats and the commands they carry,
//! a reader's request to open a cell, and offline detection.
//!
//! A locker's secret is never stored: it is derived from the
//! `locker_master_key` variable as lower-case hex of
//! HMAC-SHA256(master key, `"wangjie-locker:" + locker id`), 64 ASCII
//! characters used as the secret's bytes. Registering a locker is giving
//! its vendor that string; rotating the master key re-keys every locker.

use super::messages::{
    AckOutcome, CellState, Command, CommandKind, Heartbeat, HeartbeatReply, MAX_CELL,
};
use super::signing::{LockerHeaders, LockerSecret, VerifiedRequest};
use super::{beat_cache, DEFAULT_WINDOW_MS};
use crate::db::{Db, Value};
use crate::kv::Kv;
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
    LockerSecret::new(hex::encode(mac.finalize().into_bytes()).as_bytes())
}

/// Verifies a locker request to `/api/lockers/{path_id}/...` without
/// touching any store: the headers must name `path_id`, and the signature
/// and time must verify. The nonce is the caller's to check
/// ([`remember_nonce`], or the heartbeat's [`super::beat_cache::admit`]).
#[allow(clippy::too_many_arguments)]
pub fn verify<'a>(
    master_key: &str,
    path_id: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    method: &str,
    target: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<VerifiedRequest> {
    let headers = LockerHeaders::parse(header)?;
    if headers.locker_id != path_id {
        return Err(unknown_locker());
    }
    // The secret is derived, not looked up: the signature is checked before
    // any store is read, so a forger costs nothing but this.
    let secret = derive_secret(master_key, path_id)?;
    headers.verify(&secret, method, target, body, now_ms, DEFAULT_WINDOW_MS)
}

/// The answer to a locker we do not know, the same as to a bad signature.
fn unknown_locker() -> Error {
    Error::BadSignature {
        what: "locker request",
    }
}

/// The nonce of a [`verify`]d request must be new in SQL and the point
/// must have a locker (else the same 401 as a bad signature); a reused
/// nonce is a 409 conflict. For events and queries, which go to the
/// database anyway.
pub fn remember_nonce(db: &dyn Db, verified: &VerifiedRequest) -> Result<()> {
    let path_id = verified.locker_id.as_str();
    // One statement: the nonce is remembered only for a point that has a
    // locker. Expired nonces go in `mark_offline`'s run.
    let fresh = db.execute(
        "INSERT INTO locker_nonces (point_code, nonce, expires_at_ms) \
         SELECT code, $2, $3 FROM service_points WHERE code = $1 AND locker_generation IS NOT NULL \
         ON CONFLICT DO NOTHING",
        &[
            path_id.into(),
            verified.nonce.as_str().into(),
            verified.nonce_expires_at_ms.into(),
        ],
    )?;
    if fresh == 0 {
        let known = db.query(
            "SELECT code FROM service_points WHERE code = $1 AND locker_generation IS NOT NULL",
            &[path_id.into()],
        )?;
        if known.first().is_none() {
            return Err(unknown_locker());
        }
        return Err(Error::Conflict(
            "this nonce was used already: sign again with a fresh nonce".into(),
        ));
    }
    Ok(())
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

// A reported state replaces the stored one, except that a reservation is
// ours: the locker mirrors it but cannot make or end one (a reserved cell
// reported empty is a parcel still on its way). $1 is a JSON array of
// states by cell number (null: not reported).
macro_rules! cells_rule {
    () => {
        "locker_cells.point_code = $2 AND locker_cells.cell_no = r.no \
     AND r.state IS NOT NULL AND locker_cells.state <> r.state AND r.state <> 'reserved' \
     AND NOT (locker_cells.state = 'reserved' AND r.state = 'empty')"
    };
}
const SQL_CELLS_POSTGRES: &str = concat!(
    "UPDATE locker_cells SET state = r.state, updated_at_ms = $3 FROM (SELECT CAST(t.no AS BIGINT) AS no, t.state \
     FROM jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb)) WITH ORDINALITY AS t(state, no)) AS r WHERE ",
    cells_rule!()
);
const SQL_CELLS_SQLITE: &str = concat!(
    "UPDATE locker_cells SET state = r.state, updated_at_ms = $3 FROM (SELECT key + 1 AS no, value AS state \
     FROM json_each($1)) AS r WHERE ",
    cells_rule!()
);

/// How long a digest of unchanged cells spares the comparison: after this,
/// the cells are compared in full even if the locker reports the same.
const FULL_COMPARISON_MS: i64 = 300_000;

/// The digest of the reported cells within the current time bucket.
fn cells_digest(reported: &str, now_ms: i64) -> String {
    use sha2::Digest;
    let mut hash = Sha256::new();
    hash.update(reported.as_bytes());
    hash.update(now_ms.div_euclid(FULL_COMPARISON_MS).to_be_bytes());
    hex::encode(&hash.finalize()[..16])
}

/// Records heartbeat `beat` of `locker` and answers with its pending
/// commands. The cells are compared with what is stored only when they
/// differ from the previous heartbeat's, or every five minutes: a change the
/// platform made meanwhile (a reservation, a deposit event) is not undone by
/// a report that says what the last one said.
pub fn heartbeat(
    db: &dyn Db,
    locker: &str,
    beat: &Heartbeat,
    now_ms: i64,
) -> Result<HeartbeatReply> {
    beat.validate()?;
    let health = serde_json::to_string(&beat.health).map_err(anyhow::Error::from)?;
    // The reported states as one JSON array indexed by cell number, so one
    // statement compares and updates all 240 cells.
    let mut reported = vec![serde_json::Value::Null; usize::from(MAX_CELL)];
    for cell in &beat.cells {
        reported[usize::from(cell.no) - 1] = cell_state_name(cell.state).into();
    }
    let reported = serde_json::Value::from(reported).to_string();
    let digest = cells_digest(&reported, now_ms);
    // Column references on the right of SET are the old values, on both
    // backends: the returned time is `now_ms` only when the digest differs.
    let changed = db.query(
        "UPDATE service_points SET locker_status = 'online', last_heartbeat_at_ms = $1, \
         locker_health = $2, locker_cells_digest = $4, locker_cells_changed_at_ms = CASE \
           WHEN locker_cells_digest = $4 THEN locker_cells_changed_at_ms ELSE $1 END \
         WHERE code = $3 AND locker_generation IS NOT NULL RETURNING locker_cells_changed_at_ms",
        &[now_ms.into(), health.into(), locker.into(), digest.into()],
    )?;
    // A heartbeat's nonce is checked in the key-value store, which knows no
    // points: a signed heartbeat of a point without a locker stops here.
    let Some(changed) = changed.first() else {
        return Err(unknown_locker());
    };
    if changed.opt_i64("locker_cells_changed_at_ms")? == Some(now_ms) {
        db.execute(
            db.dialect().pick(SQL_CELLS_POSTGRES, SQL_CELLS_SQLITE),
            &[reported.into(), locker.into(), now_ms.into()],
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
    let mut reply = steady_reply(beat, now_ms);
    reply.commands.splice(0..0, pending(db, locker)?);
    Ok(reply)
}

/// The reply to a heartbeat with no stored command pending: only a clock
/// sync when the locker's clock is off. Not stored: a fresh one in every
/// reply while the clock is off.
pub fn steady_reply(beat: &Heartbeat, now_ms: i64) -> HeartbeatReply {
    let mut commands = Vec::new();
    if beat.clock_ms.abs_diff(now_ms) > CLOCK_SKEW_MS.unsigned_abs() {
        commands.push(Command {
            id: format!("t-{now_ms}"),
            kind: CommandKind::SyncClock { server_ms: now_ms },
        });
    }
    HeartbeatReply {
        commands,
        next_heartbeat_s: NEXT_HEARTBEAT_S,
    }
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
/// each order on its way to or waiting in it, for staff. Also forgets the
/// nonces the time window refuses anyway. Returns the lockers marked.
///
/// Steady heartbeats reach only the key-value store
/// ([`super::beat_cache`]): a locker the database last saw too long ago
/// is asked about there first, and one seen recently gets its time
/// written back instead of being marked. Each locker marked has its change
/// noted, so its next heartbeat goes to the database and brings it back.
pub fn mark_offline(db: &dyn Db, kv: &dyn Kv, now_ms: i64, after_ms: i64) -> Result<Vec<String>> {
    db.execute(
        "DELETE FROM locker_nonces WHERE expires_at_ms < $1",
        &[now_ms.into()],
    )?;
    let cutoff = now_ms - after_ms;
    let stale = db.query(
        "SELECT code FROM service_points WHERE locker_status = 'online' \
         AND (last_heartbeat_at_ms IS NULL OR last_heartbeat_at_ms < $1) ORDER BY code",
        &[cutoff.into()],
    )?;
    let mut codes = Vec::new();
    for row in stale.iter() {
        let code = row.text("code")?;
        if let Some(seen) = beat_cache::seen_ms(kv, code)?.filter(|seen| *seen >= cutoff) {
            db.execute(
                "UPDATE service_points SET last_heartbeat_at_ms = $2 \
                 WHERE code = $1 AND (last_heartbeat_at_ms IS NULL OR last_heartbeat_at_ms < $2)",
                &[code.into(), seen.into()],
            )?;
            continue;
        }
        // Conditional: a heartbeat the database took since the SELECT wins.
        let marked = db.execute(
            "UPDATE service_points SET locker_status = 'offline' WHERE code = $1 \
             AND locker_status = 'online' AND (last_heartbeat_at_ms IS NULL OR last_heartbeat_at_ms < $2)",
            &[code.into(), cutoff.into()],
        )?;
        if marked == 1 {
            codes.push(code.to_string());
        }
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
        beat_cache::note_change(kv, code)?;
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
