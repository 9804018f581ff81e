//! The steady heartbeat. A locker heartbeats every 30 s and nearly every
//! heartbeat says what the one before said; a province of 60,000 lockers
//! is 2,000 a second. So the database sees a heartbeat only when it could
//! matter: the cells or the health changed, the locker acknowledges a
//! command, the database has something new for it (a command, an offline
//! mark), or five minutes passed (the digest's time bucket). Every other
//! heartbeat is answered from the key-value store alone.
//!
//! Per locker, these keys:
//! - `locker-nonce/{id}/{nonce}`: the replay guard, a counter that only the
//!   first copy of a request finds at 1 (an atomic increment, which every
//!   Spin store implements correctly; compare-and-swap is not, on Spin
//!   4.0.2's Redis store). It is deleted once the nonce is past the signing
//!   window, by a later heartbeat of the same locker;
//! - `locker-beat/{id}` ([`BeatState`]): the nonces still inside the
//!   window (so that their keys can be deleted), when the locker was last
//!   seen, and what the last heartbeat the database took established. It
//!   is written plainly: a locker sends one request at a time, and should
//!   two of its heartbeats race, the one written last wins, which can lose
//!   a `synced` (the next heartbeat goes to the database: safe), or restore
//!   an older one (a heartbeat answered here while the database holds the
//!   racing one's cells, at most until the digest's time bucket turns);
//! - `locker-changed/{id}`: a token that whoever changes what the locker's
//!   next heartbeat must see rewrites, after their transaction commits
//!   ([`note_change`]). The database path remembers the token it read
//!   *before* reading the database, so a change committed after that read
//!   leaves a different token, and the next heartbeat goes to the database.

use super::messages::{CellState, Heartbeat, Network, Power};
use crate::kv::{claim_once, CountingKv, Kv};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How long a digest spares the database: each locker's heartbeat reaches
/// it at least this often, so its `last_heartbeat_at_ms`, health and cells
/// are never older than this there.
pub const SYNC_EVERY_MS: i64 = 300_000;

/// Guard keys of nonces past the window are deleted this many at a time,
/// in one `delete-many`: one store call in that many heartbeats instead of
/// a delete in each (a locker at 30 s gathers them in four minutes). Until
/// then they cost only their place in [`BeatState::nonces`].
pub const PRUNE_AT: usize = 8;

/// What the store keeps of a locker's heartbeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeatState {
    /// `(forget after, nonce)` of heartbeats accepted in the window.
    #[serde(default)]
    pub nonces: Vec<(i64, String)>,
    /// When a heartbeat was last accepted, epoch milliseconds.
    #[serde(default)]
    pub seen_ms: i64,
    /// What the database established at the last heartbeat it took, when
    /// that left no command pending.
    #[serde(default)]
    pub synced: Option<Synced>,
}

/// A heartbeat the database took and the change token read before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Synced {
    /// [`beat_digest`] of that heartbeat.
    pub digest: String,
    /// The `locker-changed` token then (`None`: never written).
    pub change: Option<String>,
}

/// Where a heartbeat goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Nothing the database keeps would change: answer from here.
    Steady,
    /// To the database; then [`synced`] with this change token.
    Sync {
        /// The `locker-changed` token read before the database.
        change: Option<String>,
    },
}

fn state_key(locker: &str) -> String {
    format!("locker-beat/{locker}")
}

fn nonce_key(locker: &str, nonce: &str) -> String {
    format!("locker-nonce/{locker}/{nonce}")
}

fn change_key(locker: &str) -> String {
    format!("locker-changed/{locker}")
}

fn read_state(bytes: Option<&[u8]>) -> BeatState {
    // Only we write it; a value we cannot read is started afresh.
    bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default()
}

fn write_state(state: &BeatState) -> Result<Vec<u8>> {
    serde_json::to_vec(state).map_err(|e| Error::Internal(e.into()))
}

/// What of `beat` the database must hear of at once: the cells, how the
/// locker is connected and powered, its firmware, and health in the bands
/// staff act on (signal weak below -95 dBm or very weak below -110, the
/// battery low below 20%, the cabinet below 0 or above 40 degrees); within
/// the current [`SYNC_EVERY_MS`] bucket of `locker`, after which the
/// database gets the exact figures anyway. A steady locker's noise (a
/// signal or temperature that wavers) repeats it.
///
/// Each locker's buckets start at its own offset, so that a province's
/// lockers do not all reach the database in the same 30 seconds.
pub fn beat_digest(beat: &Heartbeat, locker: &str, now_ms: i64) -> String {
    use sha2::{Digest, Sha256};
    let offset = Sha256::digest(locker.as_bytes())
        .iter()
        .take(4)
        .fold(0i64, |n, b| n << 8 | i64::from(*b))
        % SYNC_EVERY_MS;
    let mut hash = Sha256::new();
    for cell in &beat.cells {
        hash.update(cell.no.to_be_bytes());
        hash.update([match cell.state {
            CellState::Empty => 0u8,
            CellState::Reserved => 1,
            CellState::Occupied => 2,
            CellState::Fault => 3,
            CellState::DoorOpen => 4,
        }]);
    }
    let health = &beat.health;
    let network = match health.network {
        Network::FourG => 0u8,
        Network::FiveG => 1,
        Network::Wifi => 2,
        Network::Ethernet => 3,
    };
    let power = match health.power {
        Power::Mains => 0u8,
        Power::Battery => 1,
    };
    let signal = match health.signal {
        None => 0u8,
        Some(dbm) if dbm < -110 => 1,
        Some(dbm) if dbm < -95 => 2,
        Some(_) => 3,
    };
    let battery = match health.battery_pct {
        None => 0u8,
        Some(pct) if pct < 20 => 1,
        Some(_) => 2,
    };
    let temperature = match health.temperature_c {
        t if t < 0.0 => 0u8,
        t if t > 40.0 => 1,
        _ => 2,
    };
    hash.update([0xff, network, power, signal, battery, temperature]);
    hash.update(health.firmware.as_bytes());
    hash.update((now_ms + offset).div_euclid(SYNC_EVERY_MS).to_be_bytes());
    hex::encode(&hash.finalize()[..16])
}

/// Admits a heartbeat of `locker` signed with `nonce` (forgettable after
/// `forget_after_ms`): a nonce claimed before is a 409 conflict. Says
/// whether the database must take it: not when `digest` and the change
/// token are those of the last heartbeat it took and `acks` is false
/// (acknowledgements are the database's to record).
pub fn admit(
    store: &impl CountingKv,
    locker: &str,
    nonce: &str,
    forget_after_ms: i64,
    digest: &str,
    acks: bool,
    now_ms: i64,
) -> Result<Admission> {
    if !claim_once(store, &nonce_key(locker, nonce))? {
        return Err(Error::Conflict(
            "this nonce was used already: sign again with a fresh nonce".into(),
        ));
    }
    let change = read_change(store, locker)?;
    let mut state = read_state(store.get(&state_key(locker))?.as_deref());
    let past = |(until, _): &(i64, String)| *until < now_ms;
    let expired: Vec<_> = if state.nonces.iter().filter(|n| past(n)).count() >= PRUNE_AT {
        state.nonces.extract_if(.., |n| past(n)).collect()
    } else {
        Vec::new()
    };
    state.nonces.push((forget_after_ms, nonce.to_string()));
    let steady = !acks
        && state
            .synced
            .as_ref()
            .is_some_and(|s| s.digest == digest && s.change == change);
    let admission = if steady {
        state.seen_ms = now_ms;
        Admission::Steady
    } else {
        Admission::Sync { change }
    };
    store.set(&state_key(locker), &write_state(&state)?)?;
    // Past the window the signature check refuses the request before its
    // nonce is looked at, so the guard's key can go.
    let expired: Vec<String> = expired
        .iter()
        .map(|(_, old)| nonce_key(locker, old))
        .collect();
    store.delete_many(&expired)?;
    Ok(admission)
}

/// After the database took a heartbeat: what it established, or `None`
/// while commands are pending (each heartbeat must carry them again until
/// acknowledged).
pub fn synced(store: &impl Kv, locker: &str, synced: Option<Synced>, now_ms: i64) -> Result<()> {
    let mut state = read_state(store.get(&state_key(locker))?.as_deref());
    state.seen_ms = state.seen_ms.max(now_ms);
    state.synced = synced;
    store.set(&state_key(locker), &write_state(&state)?)
}

fn read_change(store: &impl Kv, locker: &str) -> Result<Option<String>> {
    Ok(store
        .get(&change_key(locker))?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Tells `locker`'s next heartbeat to go to the database: call after the
/// transaction that queued a command or marked it offline has committed.
pub fn note_change(store: &dyn Kv, locker: &str) -> Result<()> {
    let token = crate::random::hex_id(8)?;
    store.set(&change_key(locker), token.as_bytes())
}

/// When `locker`'s last heartbeat was accepted, as far as the store knows.
pub fn seen_ms(store: &dyn Kv, locker: &str) -> Result<Option<i64>> {
    Ok(store
        .get(&state_key(locker))?
        .map(|b| read_state(Some(&b)).seen_ms)
        .filter(|ms| *ms > 0))
}

#[cfg(test)]
#[path = "beat_cache_tests.rs"]
mod tests;
