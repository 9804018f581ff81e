//! The notifications sender (docs/notifications.md): claims due notices
//! from the outbox, re-checks each against the current state, renders it,
//! and tries the reader's channels in order (WeChat subscription message
//! with an unspent grant, Alipay mini-program message, SMS), logging every
//! try in `notice_attempts`. The providers are behind [`Channels`], so the
//! rules run natively in tests and over Spin's outbound HTTP in the
//! `notifications` component.

pub mod list;
pub mod render;

pub use list::list_for_reader;

use crate::db::{in_transaction, Db};
use crate::Result;
pub use render::Message;
use serde::Serialize;

/// How long a claimed notice stays reserved for the run that claimed it.
pub const LEASE_MS: i64 = 60_000;
/// The first retry waits this long; each later one twice as long.
pub const RETRY_BASE_MS: i64 = 60_000;

/// Who to reach, as the channels need it.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// `readers.id`.
    pub reader_id: i64,
    /// WeChat openid, if linked.
    pub wechat_openid: Option<String>,
    /// Alipay user id, if linked.
    pub alipay_user_id: Option<String>,
    /// Phone number, if known.
    pub phone: Option<String>,
}

/// What a provider said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the message was accepted.
    pub sent: bool,
    /// The provider's code (`0`, `43101`, `40004`, an HTTP status...).
    pub code: String,
    /// The provider's answer, or why there was none.
    pub answer: String,
    /// No answer came at all (timeout, refused): a WeChat grant is given back.
    pub unreached: bool,
}

impl Outcome {
    /// A failure with no answer from the provider.
    pub fn unreached(reason: impl Into<String>) -> Self {
        Outcome {
            sent: false,
            code: "unreached".into(),
            answer: reason.into(),
            unreached: true,
        }
    }
}

/// The providers.
pub trait Channels {
    /// The WeChat subscription template for a notice kind, if configured.
    fn wechat_template(&self, kind: &str) -> Option<String>;
    /// Sends a WeChat subscription message.
    fn wechat(&self, openid: &str, template_id: &str, message: &Message) -> Outcome;
    /// Sends an Alipay mini-program template message.
    fn alipay(&self, user_id: &str, message: &Message) -> Outcome;
    /// Sends an SMS.
    fn sms(&self, phone: &str, message: &Message) -> Outcome;
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Runs after which a notice that could not be sent is `failed`.
    pub max_attempts: i64,
    /// Quiet period start, Beijing `HH:MM` ("" = none).
    pub quiet_start: String,
    /// Quiet period end.
    pub quiet_end: String,
}

/// What a run did.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Notices claimed by this run.
    pub claimed: u64,
    /// Sent on some channel.
    pub sent: u64,
    /// Queued again for a later retry.
    pub retrying: u64,
    /// Given up on.
    pub failed: u64,
    /// No longer true, so not sent.
    pub superseded: u64,
    /// Deferred to the end of the quiet period.
    pub deferred: u64,
}

/// Sends up to `batch` due notices.
pub fn send_due(
    db: &dyn Db,
    channels: &dyn Channels,
    settings: &Settings,
    batch: i64,
    now_ms: i64,
) -> Result<Counts> {
    let mut counts = Counts::default();
    if let Some(until) = render::quiet_until(now_ms, &settings.quiet_start, &settings.quiet_end) {
        counts.deferred = db.execute(
            "UPDATE notices SET next_attempt_at_ms = $1, updated_at_ms = $2 \
             WHERE state = 'queued' AND COALESCE(next_attempt_at_ms, 0) <= $2",
            &[until.into(), now_ms.into()],
        )?;
        return Ok(counts);
    }
    for id in claim(db, batch, now_ms)? {
        counts.claimed += 1;
        match send_one(db, channels, settings, id, now_ms)? {
            "sent" => counts.sent += 1,
            "superseded" => counts.superseded += 1,
            "failed" => counts.failed += 1,
            _ => counts.retrying += 1,
        }
    }
    Ok(counts)
}

/// Claims up to `batch` due notices: each by a conditional UPDATE that
/// takes the lease only if nobody holds a live one, so concurrent runs
/// split the batch instead of sending twice.
pub fn claim(db: &dyn Db, batch: i64, now_ms: i64) -> Result<Vec<i64>> {
    let due = db.query(
        "SELECT id FROM notices WHERE state = 'queued' AND COALESCE(next_attempt_at_ms, 0) <= $1 \
         AND COALESCE(lease_until_ms, 0) <= $1 ORDER BY next_attempt_at_ms, id LIMIT $2",
        &[now_ms.into(), batch.into()],
    )?;
    let mut claimed = Vec::new();
    for row in due.iter() {
        let id = row.i64("id")?;
        let taken = db.execute(
            "UPDATE notices SET lease_until_ms = $1 WHERE id = $2 AND state = 'queued' \
             AND COALESCE(lease_until_ms, 0) <= $3",
            &[(now_ms + LEASE_MS).into(), id.into(), now_ms.into()],
        )?;
        if taken == 1 {
            claimed.push(id);
        }
    }
    Ok(claimed)
}

struct Notice {
    reader_id: i64,
    kind: String,
    channel: String,
    subject_id: String,
    payload: serde_json::Value,
    attempts: i64,
}

fn load(db: &dyn Db, id: i64) -> Result<Notice> {
    let rows = db.query(
        "SELECT reader_id, kind, channel, subject_id, payload, attempts FROM notices WHERE id = $1",
        &[id.into()],
    )?;
    let row = rows
        .first()
        .ok_or(crate::Error::NotFound { what: "notice" })?;
    Ok(Notice {
        reader_id: row.i64("reader_id")?,
        kind: row.text("kind")?.to_string(),
        channel: row.text("channel")?.to_string(),
        subject_id: row.text("subject_id")?.to_string(),
        payload: serde_json::from_str(row.text("payload")?).unwrap_or_default(),
        attempts: row.i64("attempts")?,
    })
}

/// Whether the notice is still true now.
fn still_true(db: &dyn Db, notice: &Notice) -> Result<bool> {
    let sql = match notice.kind.as_str() {
        "ready_for_pickup" => {
            "SELECT 1 AS ok FROM orders WHERE CAST(id AS TEXT) = $1 AND state = 'awaiting_pickup'"
        }
        // A renewed loan has a new due date: the reminder for the old one
        // is no longer true.
        "due_soon" | "overdue_1" | "overdue_2" | "overdue_3" => {
            let due = notice.payload["due_at_ms"].as_i64();
            return Ok(!db
                .query(
                    "SELECT 1 AS ok FROM loans WHERE CAST(id AS TEXT) = $1 AND returned_at_ms IS NULL \
                     AND (CAST($2 AS BIGINT) = 1 OR due_at_ms = $3)",
                    &[
                        notice.subject_id.as_str().into(),
                        i64::from(due.is_none()).into(),
                        due.unwrap_or_default().into(),
                    ],
                )?
                .is_empty());
        }
        _ => return Ok(true),
    };
    Ok(!db
        .query(sql, &[notice.subject_id.as_str().into()])?
        .is_empty())
}

fn recipient(db: &dyn Db, reader_id: i64) -> Result<Recipient> {
    let rows = db.query(
        "SELECT wechat_openid, alipay_user_id, phone FROM readers WHERE id = $1",
        &[reader_id.into()],
    )?;
    let row = rows
        .first()
        .ok_or(crate::Error::NotFound { what: "reader" })?;
    let some = |v: Option<&str>| v.filter(|s| !s.trim().is_empty()).map(str::to_string);
    Ok(Recipient {
        reader_id,
        wechat_openid: some(row.opt_text("wechat_openid")?),
        alipay_user_id: some(row.opt_text("alipay_user_id")?),
        phone: some(row.opt_text("phone")?),
    })
}

/// Logs one try.
fn attempt(
    db: &dyn Db,
    id: i64,
    channel: &str,
    outcome: &str,
    code: &str,
    answer: &str,
    now_ms: i64,
) -> Result<()> {
    db.execute(
        "INSERT INTO notice_attempts (notice_id, attempt_no, channel, at_ms, outcome, \
         provider_code, provider_answer) \
         SELECT $1, COALESCE(MAX(attempt_no), 0) + 1, $2, $3, $4, $5, $6 \
         FROM notice_attempts WHERE notice_id = $1",
        &[
            id.into(),
            channel.into(),
            now_ms.into(),
            outcome.into(),
            code.into(),
            answer.into(),
        ],
    )?;
    Ok(())
}

/// Spends one unused grant of `template_id` by `openid`: its id, or None.
pub fn take_grant(
    db: &dyn Db,
    openid: &str,
    template_id: &str,
    now_ms: i64,
) -> Result<Option<i64>> {
    let rows = db.query(
        "UPDATE wechat_grants SET used_at_ms = $1 WHERE id = (SELECT id FROM wechat_grants \
         WHERE openid = $2 AND template_id = $3 AND used_at_ms IS NULL \
         ORDER BY granted_at_ms, id LIMIT 1) AND used_at_ms IS NULL RETURNING id",
        &[now_ms.into(), openid.into(), template_id.into()],
    )?;
    rows.first().map(|r| r.i64("id")).transpose()
}

fn finish(
    db: &dyn Db,
    id: i64,
    state: &str,
    channel: &str,
    answer: &str,
    now_ms: i64,
) -> Result<()> {
    db.execute(
        "UPDATE notices SET state = $1, channel = $2, provider_answer = $3, \
         attempts = attempts + 1, lease_until_ms = NULL, updated_at_ms = $4 WHERE id = $5",
        &[
            state.into(),
            channel.into(),
            answer.into(),
            now_ms.into(),
            id.into(),
        ],
    )?;
    Ok(())
}

/// Sends one claimed notice; its new state (`queued` when it will be retried).
fn send_one(
    db: &dyn Db,
    channels: &dyn Channels,
    settings: &Settings,
    id: i64,
    now_ms: i64,
) -> Result<&'static str> {
    let notice = load(db, id)?;
    if !still_true(db, &notice)? {
        in_transaction(db, |db| {
            attempt(
                db,
                id,
                &notice.channel,
                "skipped",
                "superseded",
                "no longer true",
                now_ms,
            )?;
            db.execute(
                "UPDATE notices SET state = 'superseded', lease_until_ms = NULL, \
                 updated_at_ms = $1 WHERE id = $2",
                &[now_ms.into(), id.into()],
            )
        })?;
        return Ok("superseded");
    }
    let message = render::render(db, &notice.kind, &notice.subject_id, &notice.payload)?;
    let to = recipient(db, notice.reader_id)?;
    let mut tried: Vec<(String, String)> = Vec::new();
    let mut sent = |channel: &str, outcome: &Outcome| -> Result<bool> {
        let state = if outcome.sent { "sent" } else { "failed" };
        attempt(
            db,
            id,
            channel,
            state,
            &outcome.code,
            &outcome.answer,
            now_ms,
        )?;
        tried.push((channel.to_string(), outcome.answer.clone()));
        if outcome.sent {
            finish(db, id, "sent", channel, &outcome.answer, now_ms)?;
        }
        Ok(outcome.sent)
    };
    if let (Some(openid), Some(template)) =
        (&to.wechat_openid, channels.wechat_template(&notice.kind))
    {
        if let Some(grant) = take_grant(db, openid, &template, now_ms)? {
            let outcome = channels.wechat(openid, &template, &message);
            if outcome.unreached {
                db.execute(
                    "UPDATE wechat_grants SET used_at_ms = NULL WHERE id = $1",
                    &[grant.into()],
                )?;
            }
            if sent("wechat", &outcome)? {
                return Ok("sent");
            }
        }
    }
    if let Some(user) = &to.alipay_user_id {
        if sent("alipay", &channels.alipay(user, &message))? {
            return Ok("sent");
        }
    }
    if let Some(phone) = &to.phone {
        if sent("sms", &channels.sms(phone, &message))? {
            return Ok("sent");
        }
    }
    let reason = if tried.is_empty() {
        "no channel: no WeChat grant, no Alipay link, no phone".to_string()
    } else {
        tried
            .iter()
            .map(|(c, a)| format!("{c}: {a}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let channel = tried
        .last()
        .map_or(notice.channel.as_str(), |(c, _)| c.as_str())
        .to_string();
    if tried.is_empty() || notice.attempts + 1 >= settings.max_attempts {
        if tried.is_empty() {
            attempt(db, id, &channel, "skipped", "no_channel", &reason, now_ms)?;
        }
        finish(db, id, "failed", &channel, &reason, now_ms)?;
        return Ok("failed");
    }
    let wait = RETRY_BASE_MS.saturating_mul(1 << notice.attempts.clamp(0, 20));
    db.execute(
        "UPDATE notices SET attempts = attempts + 1, provider_answer = $1, lease_until_ms = NULL, \
         next_attempt_at_ms = $2, updated_at_ms = $3 WHERE id = $4",
        &[
            reason.as_str().into(),
            (now_ms + wait).into(),
            now_ms.into(),
            id.into(),
        ],
    )?;
    Ok("queued")
}
