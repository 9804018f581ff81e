//! The append-only event log (`events`): who or what did what to which
//! thing, and when. Every state change writes one row in its own
//! transaction; the table refuses updates and deletes.

use crate::db::Db;
use crate::Result;

/// One row to append.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// `reader:12`, `staff:3`, `locker:SS01`, `alipay`, `system`, ...
    pub actor: &'a str,
    /// `reader`, `order`, `locker`, ...
    pub subject_kind: &'a str,
    /// The subject's id, as text.
    pub subject_id: String,
    /// What happened (`order_placed`, `credit_decided`, ...).
    pub event: &'a str,
    /// Anything else worth keeping, as JSON.
    pub detail: serde_json::Value,
}

/// The events of one kind of subject (`hold`, `compensation`, ...), for
/// the modules whose rows are numbered: `EVENTS.log(db, at, actor, id, ..)`.
#[derive(Debug, Clone, Copy)]
pub struct Subject(pub &'static str);

impl Subject {
    /// Appends an event about subject `id` of this kind.
    pub fn log(
        self,
        db: &dyn Db,
        at_ms: i64,
        actor: &str,
        id: i64,
        event: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        append(
            db,
            at_ms,
            Event {
                actor,
                subject_kind: self.0,
                subject_id: id.to_string(),
                event,
                detail,
            },
        )
    }
}

/// Appends `event` at `at_ms`.
pub fn append(db: &dyn Db, at_ms: i64, event: Event<'_>) -> Result<()> {
    db.execute(
        "INSERT INTO events (at_ms, actor, subject_kind, subject_id, event, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            at_ms.into(),
            event.actor.into(),
            event.subject_kind.into(),
            event.subject_id.into(),
            event.event.into(),
            event.detail.to_string().into(),
        ],
    )?;
    Ok(())
}
