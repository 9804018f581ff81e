//! What the platform promises not to keep (docs/credit.md, docs/jobs.md):
//! a raw credit score once its decision is no longer trusted, and the ids
//! of WeChat messages long after WeChat could resend them. Locker nonces
//! are forgotten by the offline job, which runs with them.

use super::DAY_MS;
use crate::db::Db;
use crate::Result;

/// WeChat resends a message three times within 15 seconds; a week is the
/// longest a message id is kept against replays.
pub const WECHAT_MESSAGE_IDS_KEPT_MS: i64 = 7 * DAY_MS;

/// Clears raw scores whose decision has expired, a batch at a time, and
/// prunes old WeChat message ids. Returns (scores cleared, ids pruned).
pub fn clear(db: &dyn Db, batch: i64, now_ms: i64) -> Result<(u64, u64)> {
    let mut cleared = 0;
    loop {
        let n = db.execute(
            "UPDATE credit_decisions SET score = NULL WHERE id IN (SELECT id FROM credit_decisions \
             WHERE score IS NOT NULL AND valid_until_ms < $1 ORDER BY valid_until_ms LIMIT $2)",
            &[now_ms.into(), batch.into()],
        )?;
        cleared += n;
        if (n as i64) < batch {
            break;
        }
    }
    cleared += db.execute(
        "UPDATE readers SET credit_score = NULL \
         WHERE credit_score IS NOT NULL AND credit_valid_until_ms < $1",
        &[now_ms.into()],
    )?;
    let pruned = db.execute(
        "DELETE FROM wechat_messages WHERE received_at_ms < $1",
        &[(now_ms - WECHAT_MESSAGE_IDS_KEPT_MS).into()],
    )?;
    Ok((cleared, pruned))
}
