//! Signed-out session tokens in SQL (`session_revocations`, migration
//! 0025), beside the key-value store's `session:revoked:<id>`: every
//! sign-out writes both, and a statement that acts for a token checks the
//! table in the same round trip instead of the component reading the store
//! first (placing an order, docs/orders.md "One round trip").
//!
//! Tokens issued before 0025 was applied may have been signed out when only
//! the store was written; for those the store is still asked
//! ([`Standing::AskTheStore`]). That lasts at most one session lifetime
//! after the upgrade.

use crate::db::Db;
use crate::session::SessionClaims;
use crate::Result;

/// The migration that made sign-outs write this table.
pub const SINCE_VERSION: i64 = 25;

/// What the table says of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Signed out.
    Revoked,
    /// Not signed out.
    Unrevoked,
    /// Issued before the table was kept: only the store can tell.
    AskTheStore,
}

/// Records that `claims`'s token is signed out; again changes nothing.
pub fn record(db: &dyn Db, claims: &SessionClaims) -> Result<()> {
    db.execute(
        "INSERT INTO session_revocations (token_id, expires_at_ms) VALUES ($1, $2) \
         ON CONFLICT (token_id) DO NOTHING",
        &[claims.token_id.as_str().into(), claims.expires_at_ms.into()],
    )?;
    Ok(())
}

/// Whether `claims`'s token is signed out, as far as the table knows;
/// `store_checked` says the store was asked already (and said no).
pub fn standing(db: &dyn Db, claims: &SessionClaims, store_checked: bool) -> Result<Standing> {
    let rows = db.query(
        "SELECT (SELECT COUNT(*) FROM session_revocations WHERE token_id = $1) AS revoked, \
         (SELECT applied_at_ms FROM schema_migrations WHERE version = $2) AS since",
        &[claims.token_id.as_str().into(), SINCE_VERSION.into()],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| crate::Error::Internal(anyhow::anyhow!("no row from a scalar select")))?;
    Ok(if row.i64("revoked")? > 0 {
        Standing::Revoked
    } else if !store_checked
        && row
            .opt_i64("since")?
            .is_none_or(|since| claims.issued_at_ms <= since)
    {
        Standing::AskTheStore
    } else {
        Standing::Unrevoked
    })
}

/// Forgets revocations of tokens that have expired (refused anyway);
/// returns how many.
pub fn prune(db: &dyn Db, now_ms: i64) -> Result<u64> {
    db.execute(
        "DELETE FROM session_revocations WHERE expires_at_ms <= $1",
        &[now_ms.into()],
    )
}
