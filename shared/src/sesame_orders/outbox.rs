//! The sender's side of Sesame orders: which rows owe a provider call now,
//! which calls to make for each ([`plan`]), and what each outcome writes.
//! A row is leased by one conditional `UPDATE` (like a notice), so two
//! senders at once never call for the same row; a sender that dies leaves
//! a lease that runs out. Every clearing of `pending` is conditional on the
//! call it answers, so a step of the loan that owed something new meanwhile
//! (a return during a create) is not lost.

use crate::db::Db;
use crate::{Error, Result};
use serde::Serialize;

/// A provider call a row owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// `zhima.merchant.order.rent.create`.
    Create,
    /// `zhima.merchant.order.rent.modify` (a renewal).
    Modify,
    /// `zhima.merchant.order.rent.complete`.
    Complete,
    /// `zhima.merchant.order.rent.query`: late beyond the grace.
    Report,
}

impl Pending {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Pending::Create => "create",
            Pending::Modify => "modify",
            Pending::Complete => "complete",
            Pending::Report => "report",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        [
            Pending::Create,
            Pending::Modify,
            Pending::Complete,
            Pending::Report,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown pending call {text:?}")))
    }
}

/// A row leased for its calls, with what the calls need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    /// `sesame_orders.id`.
    pub id: i64,
    /// The loan.
    pub loan_id: i64,
    /// Its reader.
    pub reader_id: i64,
    /// Ours (`WJZM<loan id>`).
    pub out_order_no: String,
    /// Sesame's, once created.
    pub zm_order_no: Option<String>,
    /// What is owed.
    pub pending: Pending,
    /// Failed tries so far.
    pub attempts: i64,
    /// The book's title.
    pub title: String,
    /// When the loan started and is due, and when it came back.
    pub started_at_ms: i64,
    /// See [`Owed::started_at_ms`].
    pub due_at_ms: i64,
    /// See [`Owed::started_at_ms`].
    pub returned_at_ms: Option<i64>,
    /// Where it was taken and returned, by name.
    pub borrow_shop: String,
    /// See [`Owed::borrow_shop`].
    pub return_shop: String,
}

/// The calls to make for `owed`, in order: an order never created is
/// created first (with the current due date, so a renewal needs nothing
/// more), then whatever is owed.
pub fn plan(owed: &Owed) -> Vec<Pending> {
    match (owed.pending, owed.zm_order_no.is_some()) {
        (Pending::Create, _) | (Pending::Modify, false) => vec![Pending::Create],
        (other, true) => vec![other],
        (other, false) => vec![Pending::Create, other],
    }
}

/// How long after `attempts` failures the next try waits: a minute,
/// doubling, at most six hours.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = attempts.clamp(0, 20) as u32;
    (60_000_i64 << doublings).min(6 * 3_600_000)
}

const SQL_DUE: &str = "SELECT id FROM sesame_orders WHERE pending IS NOT NULL \
     AND COALESCE(next_attempt_at_ms, 0) <= $1 AND COALESCE(lease_until_ms, 0) <= $1 \
     ORDER BY id LIMIT $2";

const SQL_LEASE: &str = "UPDATE sesame_orders SET lease_until_ms = $2 WHERE id = $1 \
     AND pending IS NOT NULL AND COALESCE(next_attempt_at_ms, 0) <= $3 \
     AND COALESCE(lease_until_ms, 0) <= $3";

const SQL_OWED: &str = "SELECT s.id, s.loan_id, s.reader_id, s.out_order_no, s.zm_order_no, \
       s.pending, s.attempts, r.title, l.started_at_ms, l.due_at_ms, l.returned_at_ms, \
       COALESCE(bp.name, '网借') AS borrow_shop, COALESCE(rp.name, '网借') AS return_shop \
     FROM sesame_orders s JOIN loans l ON l.id = s.loan_id \
       JOIN copies c ON c.barcode = l.copy_barcode JOIN records r ON r.id = c.record_id \
       LEFT JOIN order_lines ol ON ol.id = l.order_line_id LEFT JOIN orders o ON o.id = ol.order_id \
       LEFT JOIN service_points bp ON bp.code = o.pickup_point \
       LEFT JOIN service_points rp ON rp.code = l.return_point \
     WHERE s.id = $1 AND s.pending IS NOT NULL";

/// Leases up to `batch` rows that owe a call now, for `lease_ms`.
pub fn claim(db: &dyn Db, batch: i64, lease_ms: i64, now_ms: i64) -> Result<Vec<Owed>> {
    let due = db.query(SQL_DUE, &[now_ms.into(), batch.into()])?;
    let mut owed = Vec::new();
    for row in due.iter() {
        let id = row.i64("id")?;
        if db.execute(
            SQL_LEASE,
            &[id.into(), (now_ms + lease_ms).into(), now_ms.into()],
        )? == 0
        {
            continue;
        }
        let rows = db.query(SQL_OWED, &[id.into()])?;
        let Some(row) = rows.first() else { continue };
        owed.push(Owed {
            id,
            loan_id: row.i64("loan_id")?,
            reader_id: row.i64("reader_id")?,
            out_order_no: row.text("out_order_no")?.to_string(),
            zm_order_no: row.opt_text("zm_order_no")?.map(str::to_string),
            pending: Pending::parse(row.text("pending")?)?,
            attempts: row.i64("attempts")?,
            title: row.text("title")?.to_string(),
            started_at_ms: row.i64("started_at_ms")?,
            due_at_ms: row.i64("due_at_ms")?,
            returned_at_ms: row.opt_i64("returned_at_ms")?,
            borrow_shop: row.text("borrow_shop")?.to_string(),
            return_shop: row.text("return_shop")?.to_string(),
        });
    }
    Ok(owed)
}

/// Clears `pending` when it is still `done` (nothing new owed meanwhile),
/// and the lease and the failure count with it.
fn settle(db: &dyn Db, owed: &Owed, done: Pending, now_ms: i64) -> Result<()> {
    db.execute(
        "UPDATE sesame_orders SET pending = CASE WHEN pending = $2 THEN NULL ELSE pending END, \
           attempts = 0, last_error = NULL, lease_until_ms = NULL, next_attempt_at_ms = NULL, \
           updated_at_ms = $3 WHERE id = $1",
        &[owed.id.into(), done.as_str().into(), now_ms.into()],
    )?;
    Ok(())
}

/// Sesame created the order as `order_no`.
pub fn created(db: &dyn Db, owed: &mut Owed, order_no: &str, now_ms: i64) -> Result<()> {
    db.execute(
        "UPDATE sesame_orders SET zm_order_no = $2 WHERE id = $1",
        &[owed.id.into(), order_no.into()],
    )?;
    owed.zm_order_no = Some(order_no.to_string());
    super::EVENTS.log(
        db,
        now_ms,
        "sesame",
        owed.id,
        "sesame_order_created",
        serde_json::json!({
            "loan_id": owed.loan_id, "order_no": order_no,
        }),
    )?;
    settle(db, owed, Pending::Create, now_ms)?;
    // A renewal owed before the order existed: the create named the new
    // due date already.
    if owed.pending == Pending::Modify {
        settle(db, owed, Pending::Modify, now_ms)?;
    }
    Ok(())
}

/// Sesame moved the order's expiry.
pub fn modified(db: &dyn Db, owed: &Owed, now_ms: i64) -> Result<()> {
    super::EVENTS.log(
        db,
        now_ms,
        "sesame",
        owed.id,
        "sesame_order_modified",
        serde_json::json!({
            "loan_id": owed.loan_id, "due_at_ms": owed.due_at_ms,
        }),
    )?;
    settle(db, owed, Pending::Modify, now_ms)
}

/// Sesame completed the order. An overdue of the reader's that this was
/// the last of is settled: the deposit-free standing counts again.
pub fn completed(db: &dyn Db, owed: &Owed, now_ms: i64) -> Result<()> {
    db.execute(
        "UPDATE sesame_orders SET completed_at_ms = $2 WHERE id = $1",
        &[owed.id.into(), now_ms.into()],
    )?;
    super::EVENTS.log(
        db,
        now_ms,
        "sesame",
        owed.id,
        "sesame_order_completed",
        serde_json::json!({
            "loan_id": owed.loan_id,
        }),
    )?;
    settle(db, owed, Pending::Complete, now_ms)?;
    let restored = db.execute(
        "UPDATE readers SET sesame_overdue_since_ms = NULL, updated_at_ms = $2 \
         WHERE id = $1 AND sesame_overdue_since_ms IS NOT NULL AND NOT EXISTS \
           (SELECT 1 FROM sesame_orders WHERE reader_id = $1 AND state = 'overdue')",
        &[owed.reader_id.into(), now_ms.into()],
    )?;
    if restored == 1 {
        reader_event(db, owed, "deposit_free_restored", now_ms)?;
    }
    Ok(())
}

/// Sesame answered where it has the order; `borrow` once the expiry (the
/// due date plus the grace) passed is the reported overdue: the order is
/// `overdue` and the reader's deposit-free standing is withdrawn.
pub fn reported(db: &dyn Db, owed: &Owed, use_state: &str, now_ms: i64) -> Result<bool> {
    let to = super::SesameOrderState::Open.next(super::SesameStep::Report)?;
    let overdue = use_state == "borrow"
        && db.execute(
            "UPDATE sesame_orders SET state = $3, reported_at_ms = $2 \
             WHERE id = $1 AND state = 'open'",
            &[owed.id.into(), now_ms.into(), to.as_str().into()],
        )? == 1;
    super::EVENTS.log(
        db,
        now_ms,
        "sesame",
        owed.id,
        "sesame_overdue_reported",
        serde_json::json!({
            "loan_id": owed.loan_id, "use_state": use_state, "overdue": overdue,
        }),
    )?;
    settle(db, owed, Pending::Report, now_ms)?;
    if overdue {
        db.execute(
            "UPDATE readers SET sesame_overdue_since_ms = COALESCE(sesame_overdue_since_ms, $2), \
             updated_at_ms = $2 WHERE id = $1",
            &[owed.reader_id.into(), now_ms.into()],
        )?;
        reader_event(db, owed, "deposit_free_withdrawn", now_ms)?;
    }
    Ok(overdue)
}

fn reader_event(db: &dyn Db, owed: &Owed, event: &str, now_ms: i64) -> Result<()> {
    crate::events::append(
        db,
        now_ms,
        crate::events::Event {
            actor: "sesame",
            subject_kind: "reader",
            subject_id: owed.reader_id.to_string(),
            event,
            detail: serde_json::json!({ "sesame_order": owed.id, "loan_id": owed.loan_id }),
        },
    )
}

/// A call failed: counted, retried after [`backoff_ms`].
pub fn failed(db: &dyn Db, owed: &Owed, reason: &str, now_ms: i64) -> Result<()> {
    let reason: String = reason.chars().take(500).collect();
    db.execute(
        "UPDATE sesame_orders SET attempts = attempts + 1, last_error = $2, lease_until_ms = NULL, \
           next_attempt_at_ms = $3, updated_at_ms = $4 WHERE id = $1",
        &[
            owed.id.into(),
            reason.into(),
            (now_ms + backoff_ms(owed.attempts)).into(),
            now_ms.into(),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owed(pending: Pending, created: bool) -> Owed {
        Owed {
            id: 1,
            loan_id: 2,
            reader_id: 3,
            out_order_no: "WJZM2".into(),
            zm_order_no: created.then(|| "ZM1".into()),
            pending,
            attempts: 0,
            title: "书".into(),
            started_at_ms: 0,
            due_at_ms: 1,
            returned_at_ms: None,
            borrow_shop: "B001".into(),
            return_shop: "B001".into(),
        }
    }

    #[test]
    fn an_order_never_created_is_created_before_anything_else() {
        assert_eq!(plan(&owed(Pending::Create, false)), vec![Pending::Create]);
        assert_eq!(plan(&owed(Pending::Modify, false)), vec![Pending::Create]);
        assert_eq!(
            plan(&owed(Pending::Complete, false)),
            vec![Pending::Create, Pending::Complete]
        );
        assert_eq!(
            plan(&owed(Pending::Report, false)),
            vec![Pending::Create, Pending::Report]
        );
    }

    #[test]
    fn a_created_order_gets_only_what_it_owes() {
        for pending in [Pending::Modify, Pending::Complete, Pending::Report] {
            assert_eq!(plan(&owed(pending, true)), vec![pending]);
        }
    }

    #[test]
    fn retries_back_off_from_a_minute_to_six_hours() {
        assert_eq!(backoff_ms(0), 60_000);
        assert_eq!(backoff_ms(1), 120_000);
        assert_eq!(backoff_ms(30), 6 * 3_600_000);
        assert_eq!(backoff_ms(-3), 60_000);
    }
}
