//! A reader's own *notices*: what the library told them (ready for pickup,
//! due soon, overdue, an order changed), as the reader's app lists them,
//! in the words the message was sent with ([`crate::notices::render`]).
//! Superseded notices (no longer true when their time came) are left out;
//! delivery attempts and provider answers are the operators' view
//! (`GET /admin/notices`), not the reader's.

use crate::db::Db;
use crate::notices::render::render;
use crate::Result;
use serde::Serialize;

/// How many notices a reader's list shows, newest first.
pub const LIST_LIMIT: i64 = 50;

/// A reader's notices, newest first, without superseded ones.
pub const SQL_READER_NOTICES: &str = "SELECT id, kind, state, subject_kind, subject_id, payload, \
     created_at_ms FROM notices WHERE reader_id = $1 AND state <> 'superseded' \
     ORDER BY id DESC LIMIT $2";

/// One notice as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderNotice {
    /// The notice's id.
    pub id: i64,
    /// `ready_for_pickup`, `due_soon`, `overdue_1`, ...
    pub kind: String,
    /// `queued` (not sent yet), `sent` or `failed` (no channel reached them).
    pub state: String,
    /// What it is about: `order` or `loan`.
    pub subject_kind: String,
    /// The order's or loan's id.
    pub subject_id: String,
    /// The message, in Chinese, as the SMS channel sends it.
    pub text: String,
    /// When it was queued.
    pub created_at_ms: i64,
}

/// Reader `reader_id`'s notices, at most [`LIST_LIMIT`], newest first.
pub fn list(db: &dyn Db, reader_id: i64) -> Result<Vec<ReaderNotice>> {
    let rows = db.query(SQL_READER_NOTICES, &[reader_id.into(), LIST_LIMIT.into()])?;
    let mut notices = Vec::new();
    for row in rows.iter() {
        let kind = row.text("kind")?.to_string();
        let subject_id = row.text("subject_id")?.to_string();
        let payload: serde_json::Value =
            serde_json::from_str(row.text("payload")?).unwrap_or(serde_json::Value::Null);
        let message = render(db, &kind, &subject_id, &payload)?;
        let text = message
            .text
            .strip_prefix("【网借】")
            .unwrap_or(&message.text)
            .to_string();
        notices.push(ReaderNotice {
            id: row.i64("id")?,
            kind,
            state: row.text("state")?.to_string(),
            subject_kind: row.text("subject_kind")?.to_string(),
            subject_id,
            text,
            created_at_ms: row.i64("created_at_ms")?,
        });
    }
    Ok(notices)
}
