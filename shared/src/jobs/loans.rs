//! The loan jobs: due-soon notices, overdue reminders and suspensions.
//!
//! Notices are queued a batch at a time with one `INSERT ... SELECT ...
//! ON CONFLICT DO NOTHING` over a key range of open loans, ordered by
//! `(due_at_ms, id)` (the `loans_open_by_due` index): each batch commits by
//! itself, and the dedup key `<kind>:loan:<id>:<due_at_ms>` makes a re-run
//! queue nothing, while a renewed loan (a new due date) is told again.

use super::{notice, Settings, DAY_MS};
use crate::db::{in_transaction, Db};
use crate::Result;

const KINDS: [&str; 3] = ["overdue_1", "overdue_2", "overdue_3"];

const SQL_NEXT_BATCH: &str = "SELECT id, due_at_ms FROM loans \
     WHERE returned_at_ms IS NULL AND due_at_ms >= $1 AND due_at_ms <= $3 \
       AND (due_at_ms > $1 OR id > $2) \
     ORDER BY due_at_ms, id LIMIT $4";

// KIND is replaced by a notice kind from a fixed list, never by input.
const SQL_QUEUE_BATCH: &str = "INSERT INTO notices (reader_id, kind, channel, dedup_key, \
       subject_kind, subject_id, payload, state, next_attempt_at_ms, created_at_ms, updated_at_ms) \
     SELECT l.reader_id, 'KIND', CASE WHEN r.wechat_openid IS NOT NULL THEN 'wechat' \
         WHEN r.alipay_user_id IS NOT NULL THEN 'alipay' ELSE 'sms' END, \
       'KIND:loan:' || l.id || ':' || l.due_at_ms, 'loan', CAST(l.id AS TEXT), \
       '{\"loan_id\":' || l.id || ',\"copy\":\"' || l.copy_barcode || '\",\"due_at_ms\":' || l.due_at_ms || '}', \
       'queued', $5, $5, $5 \
     FROM loans l JOIN readers r ON r.id = l.reader_id \
     WHERE l.returned_at_ms IS NULL AND l.due_at_ms >= $1 AND l.due_at_ms <= $3 \
       AND (l.due_at_ms > $1 OR l.id > $2) AND (l.due_at_ms < $3 OR l.id <= $4) \
     ON CONFLICT DO NOTHING";

/// Queues `kind` for every open loan due in `(after, until]`, a batch at a
/// time. Returns how many were queued now.
fn queue_window(
    db: &dyn Db,
    kind: &str,
    after: i64,
    until: i64,
    batch: i64,
    now_ms: i64,
) -> Result<u64> {
    let insert = SQL_QUEUE_BATCH.replace("KIND", kind);
    // The cursor: the last (due_at_ms, id) done; `id > i64::MAX` is never
    // true, so the first batch starts strictly after `after`.
    let (mut due, mut id) = (after, i64::MAX);
    let mut queued = 0;
    loop {
        let rows = db.query(
            SQL_NEXT_BATCH,
            &[due.into(), id.into(), until.into(), batch.into()],
        )?;
        let Some(last) = rows.iter().last() else {
            return Ok(queued);
        };
        let (last_due, last_id) = (last.i64("due_at_ms")?, last.i64("id")?);
        queued += db.execute(
            &insert,
            &[
                due.into(),
                id.into(),
                last_due.into(),
                last_id.into(),
                now_ms.into(),
            ],
        )?;
        if (rows.len() as i64) < batch {
            return Ok(queued);
        }
        (due, id) = (last_due, last_id);
    }
}

/// Due-soon notices: open loans due within `due_soon_ms` from now.
pub fn due_soon(db: &dyn Db, settings: &Settings, now_ms: i64) -> Result<u64> {
    queue_window(
        db,
        "due_soon",
        now_ms,
        now_ms + settings.due_soon_ms,
        settings.batch,
        now_ms,
    )
}

/// Overdue reminders: each open loan gets the reminder of the step it has
/// reached (days overdue at or past step n, before step n + 1); a step
/// missed while the job did not run is not sent late once the next applies.
pub fn overdue(db: &dyn Db, settings: &Settings, now_ms: i64) -> Result<u64> {
    let steps = &settings.overdue_steps_days;
    let mut queued = 0;
    for (n, days) in steps.iter().enumerate().take(KINDS.len()) {
        let until = now_ms - days * DAY_MS;
        let after = steps
            .get(n + 1)
            .map_or(i64::MIN, |next| now_ms - next * DAY_MS);
        queued += queue_window(db, KINDS[n], after, until, settings.batch, now_ms)?;
    }
    Ok(queued)
}

/// Suspends active readers holding a loan `suspend_after_overdue_days`
/// overdue: each in its own transaction with its event and a
/// `credit_changed` notice. Returns how many were suspended.
pub fn suspend(db: &dyn Db, settings: &Settings, now_ms: i64) -> Result<u64> {
    let cutoff = now_ms - settings.suspend_after_overdue_days * DAY_MS;
    let mut suspended = 0;
    loop {
        let rows = db.query(
            "SELECT DISTINCT l.reader_id FROM loans l JOIN readers r ON r.id = l.reader_id \
             WHERE l.returned_at_ms IS NULL AND l.due_at_ms <= $1 AND r.status = 'active' \
             ORDER BY l.reader_id LIMIT $2",
            &[cutoff.into(), settings.batch.into()],
        )?;
        let mut changed = 0;
        for row in rows.iter() {
            let reader_id = row.i64("reader_id")?;
            if suspend_one(db, reader_id, settings.suspend_after_overdue_days, now_ms)? {
                changed += 1;
            }
        }
        suspended += changed;
        if (rows.len() as i64) < settings.batch || changed == 0 {
            return Ok(suspended);
        }
    }
}

fn suspend_one(db: &dyn Db, reader_id: i64, days: i64, now_ms: i64) -> Result<bool> {
    in_transaction(db, |db| {
        let changed = db.execute(
            "UPDATE readers SET status = 'suspended', updated_at_ms = $1 \
             WHERE id = $2 AND status = 'active'",
            &[now_ms.into(), reader_id.into()],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        let detail = serde_json::json!({
            "status": "suspended", "reason": "overdue", "overdue_days": days,
        });
        crate::events::append(
            db,
            now_ms,
            crate::events::Event {
                actor: "cron:jobs",
                subject_kind: "reader",
                subject_id: reader_id.to_string(),
                event: "reader_suspended",
                detail: detail.clone(),
            },
        )?;
        notice(
            db,
            now_ms,
            reader_id,
            "credit_changed",
            &format!("credit_changed:suspended:reader:{reader_id}:{now_ms}"),
            ("reader", reader_id.to_string()),
            detail,
        )?;
        Ok(true)
    })
}
