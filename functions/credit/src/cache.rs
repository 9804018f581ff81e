//! Decisions cached in the key-value store, one per reader and source.
//! The store has no expiry: the decision carries its own `valid_until_ms`
//! and is checked on read; a stale or unreadable entry is a miss.

use wangjie_shared::credit::{CreditDecision, CreditSource};
use wangjie_shared::spin::kv;
use wangjie_shared::Result;

fn key(reader_id: i64, source: CreditSource) -> String {
    format!("credit:decision:{reader_id}:{}", source.as_str())
}

/// The cached decision, if one is still trusted at `now_ms`.
pub fn fresh(reader_id: i64, source: CreditSource, now_ms: i64) -> Result<Option<CreditDecision>> {
    let store = kv::open_default()?;
    let Some(bytes) = store
        .get(&key(reader_id, source))
        .map_err(kv::unavailable)?
    else {
        return Ok(None);
    };
    // A value written by an older version, or tampered with, is a miss:
    // the provider is asked again rather than trusting what cannot be read.
    Ok(serde_json::from_slice::<CreditDecision>(&bytes)
        .ok()
        .filter(|decision| decision.source == source && decision.is_fresh(now_ms)))
}

/// Caches `decision`, replacing the previous one.
pub fn store(reader_id: i64, decision: &CreditDecision) -> Result<()> {
    let store = kv::open_default()?;
    let bytes = serde_json::to_vec(decision).map_err(anyhow::Error::from)?;
    store
        .set(&key(reader_id, decision.source), &bytes)
        .map_err(kv::unavailable)
}
