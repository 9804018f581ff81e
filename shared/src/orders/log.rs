//! What every order step writes besides the order itself: the event log
//! row (who, what, when) and, where the reader must hear of it, a notice in
//! the outbox, both in the caller's transaction.

use crate::db::Db;
use crate::Result;

/// Appends an event about order `order_id`.
pub fn event(
    db: &dyn Db,
    at_ms: i64,
    actor: &str,
    order_id: i64,
    event: &str,
    detail: serde_json::Value,
) -> Result<()> {
    crate::events::append(
        db,
        at_ms,
        crate::events::Event {
            actor,
            subject_kind: "order",
            subject_id: order_id.to_string(),
            event,
            detail,
        },
    )
}

/// Queues a notice for the reader, once per `dedup_key`: a repeated step
/// (a retried request, a replayed callback) queues nothing more. The
/// channel is the reader's first choice; the sender falls back from it.
pub fn notice(
    db: &dyn Db,
    at_ms: i64,
    reader_id: i64,
    kind: &str,
    dedup_key: &str,
    order_id: i64,
    payload: serde_json::Value,
) -> Result<()> {
    db.execute(
        "INSERT INTO notices (reader_id, kind, channel, dedup_key, subject_kind, subject_id, \
         payload, state, next_attempt_at_ms, created_at_ms, updated_at_ms) \
         SELECT id, $2, CASE WHEN wechat_openid IS NOT NULL THEN 'wechat' \
           WHEN alipay_user_id IS NOT NULL THEN 'alipay' ELSE 'sms' END, \
           $3, 'order', $4, $5, 'queued', $6, $6, $6 FROM readers WHERE id = $1 \
         ON CONFLICT DO NOTHING",
        &[
            reader_id.into(),
            kind.into(),
            dedup_key.into(),
            order_id.to_string().into(),
            payload.to_string().into(),
            at_ms.into(),
        ],
    )?;
    Ok(())
}
