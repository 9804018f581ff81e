//! Reading the outbox for operators: a reader's notices, or every notice in
//! a state (`queued`, `sent`, `failed`, `superseded`), newest first, each
//! with its attempts and, when it failed, why.

use crate::db::{Db, Row};
use crate::{Error, Result};

/// Most notices one listing returns when no reader is named.
pub const MAX_LIMIT: i64 = 500;

/// Which notices to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this reader's.
    pub reader: Option<i64>,
    /// Only in this state.
    pub state: Option<String>,
    /// At most this many (1 to [`MAX_LIMIT`]).
    pub limit: i64,
}

const STATES: &[&str] = &["queued", "sent", "failed", "superseded"];

impl Filter {
    /// Refuses an unknown state, and a listing with neither reader nor
    /// state (the whole outbox is no question an operator asks).
    pub fn check(&self) -> Result<()> {
        if let Some(state) = &self.state {
            if !STATES.contains(&state.as_str()) {
                return Err(Error::invalid(
                    "status",
                    "queued, sent, failed or superseded",
                ));
            }
        }
        if self.reader.is_none() && self.state.is_none() {
            return Err(Error::invalid("reader", "name a reader or a status"));
        }
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            return Err(Error::invalid("limit", format!("1 to {MAX_LIMIT}")));
        }
        Ok(())
    }
}

/// A reader's notices with their attempts, newest first (operators, tests).
pub fn list_for_reader(db: &dyn Db, reader_id: i64) -> Result<serde_json::Value> {
    list(
        db,
        &Filter {
            reader: Some(reader_id),
            state: None,
            limit: MAX_LIMIT,
        },
    )
}

/// The notices `filter` asks for, newest first, with their attempts.
pub fn list(db: &dyn Db, filter: &Filter) -> Result<serde_json::Value> {
    filter.check()?;
    const COLUMNS: &str = "id, reader_id, kind, channel, dedup_key, state, attempts, \
        provider_answer, next_attempt_at_ms, created_at_ms, updated_at_ms";
    let rows = match (&filter.reader, &filter.state) {
        (Some(reader), Some(state)) => db.query(
            &format!(
                "SELECT {COLUMNS} FROM notices WHERE reader_id = $1 AND state = $2 \
                 ORDER BY id DESC LIMIT $3"
            ),
            &[(*reader).into(), state.as_str().into(), filter.limit.into()],
        )?,
        (Some(reader), None) => db.query(
            &format!(
                "SELECT {COLUMNS} FROM notices WHERE reader_id = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[(*reader).into(), filter.limit.into()],
        )?,
        (None, Some(state)) => db.query(
            &format!("SELECT {COLUMNS} FROM notices WHERE state = $1 ORDER BY id DESC LIMIT $2"),
            &[state.as_str().into(), filter.limit.into()],
        )?,
        (None, None) => return Err(Error::invalid("reader", "name a reader or a status")),
    };
    let mut notices = Vec::new();
    for row in rows.iter() {
        notices.push(notice(db, &row)?);
    }
    Ok(serde_json::json!({ "notices": notices }))
}

fn notice(db: &dyn Db, row: &Row<'_>) -> Result<serde_json::Value> {
    let id = row.i64("id")?;
    let tries = db.query(
        "SELECT attempt_no, channel, at_ms, outcome, provider_code, provider_answer \
         FROM notice_attempts WHERE notice_id = $1 ORDER BY attempt_no",
        &[id.into()],
    )?;
    let mut attempts = Vec::new();
    let mut last_failure = None;
    for t in tries.iter() {
        let (outcome, code, answer) = (
            t.text("outcome")?,
            t.opt_text("provider_code")?,
            t.opt_text("provider_answer")?,
        );
        if outcome == "failed" {
            last_failure = Some(match (code, answer) {
                (Some(code), Some(answer)) => format!("{}: {code} {answer}", t.text("channel")?),
                (Some(text), None) | (None, Some(text)) => {
                    format!("{}: {text}", t.text("channel")?)
                }
                (None, None) => format!("{}: failed", t.text("channel")?),
            });
        }
        attempts.push(serde_json::json!({
            "attempt_no": t.i64("attempt_no")?,
            "channel": t.text("channel")?,
            "at_ms": t.i64("at_ms")?,
            "outcome": outcome,
            "provider_code": code,
            "provider_answer": answer,
        }));
    }
    let state = row.text("state")?;
    let failure_reason = match state {
        "failed" => row
            .opt_text("provider_answer")?
            .map(str::to_string)
            .or(last_failure),
        _ => None,
    };
    Ok(serde_json::json!({
        "id": id,
        "reader_id": row.i64("reader_id")?,
        "kind": row.text("kind")?,
        "channel": row.text("channel")?,
        "dedup_key": row.text("dedup_key")?,
        "state": state,
        "status": state,
        "attempts": row.i64("attempts")?,
        "provider_answer": row.opt_text("provider_answer")?,
        "failure_reason": failure_reason,
        "next_attempt_at_ms": row.opt_i64("next_attempt_at_ms")?,
        "created_at_ms": row.i64("created_at_ms")?,
        "updated_at_ms": row.i64("updated_at_ms")?,
        "tries": attempts,
    }))
}
