//! *Sesame orders*: deposit-free lending on Sesame credit is a promise
//! that Alipay's credit-borrowing product (芝麻信用 信用借还) records as an
//! order at Sesame: created when a loan starts on a Sesame deposit-free
//! standing, moved when the loan is renewed, completed when the book comes
//! back (or is declared lost and paid for through our own trade), and asked
//! after when it is late beyond the library's grace. A reader whose overdue
//! was reported lends deposit-free no more until it is settled
//! (`readers.sesame_overdue_since_ms`, read by [`crate::readers::Reader`]).
//!
//! The provider calls are owed, not made, by the steps of the lending
//! loop: each step sets `pending` on the loan's row in the same
//! transaction, and a sender ([`outbox`], run by the private `credit`
//! component) makes the calls later, retrying failures with back-off. The
//! out_order_no is ours, from the loan id (`WJZM<loan id>`), and Sesame is
//! idempotent on it.

pub mod outbox;
pub mod state;

pub use state::{SesameOrderState, SesameStep};

use crate::db::Db;
use crate::Result;

/// Every Sesame order's `out_order_no` starts with this.
pub const ORDER_PREFIX: &str = "WJZM";

/// Opens a Sesame order, owed `create`, for every open loan of `reader_id`
/// that has none, when the reader's standing is a trusted Sesame
/// deposit-free one: in the caller's transaction, right after the loans
/// start. Returns how many were opened.
pub fn open_for_loans(db: &dyn Db, reader_id: i64, now_ms: i64) -> Result<u64> {
    db.execute(
        "INSERT INTO sesame_orders (loan_id, reader_id, out_order_no, state, pending, \
           created_at_ms, updated_at_ms) \
         SELECT l.id, l.reader_id, $3 || CAST(l.id AS TEXT), 'open', 'create', $2, $2 \
         FROM loans l JOIN readers r ON r.id = l.reader_id \
         WHERE l.reader_id = $1 AND l.returned_at_ms IS NULL \
           AND r.standing = 'sesame_deposit_free' AND r.credit_valid_until_ms > $2 \
           AND NOT EXISTS (SELECT 1 FROM sesame_orders s WHERE s.loan_id = l.id) \
         ON CONFLICT DO NOTHING",
        &[reader_id.into(), now_ms.into(), ORDER_PREFIX.into()],
    )
}

/// Loan `loan_id` was renewed: Sesame's expiry must move (`modify`),
/// unless the order is still to be created (the create names the new due
/// date) or something else is owed first.
pub fn loan_renewed(db: &dyn Db, loan_id: i64, now_ms: i64) -> Result<()> {
    db.execute(
        "UPDATE sesame_orders SET pending = 'modify', updated_at_ms = $2 \
         WHERE loan_id = $1 AND state = 'open' AND pending IS NULL",
        &[loan_id.into(), now_ms.into()],
    )?;
    Ok(())
}

/// Loan `loan_id` closed (returned, or declared lost): the order is
/// completed on our side and owed `complete` at Sesame.
pub fn loan_closed(db: &dyn Db, loan_id: i64, now_ms: i64) -> Result<()> {
    let to = SesameOrderState::Open.next(SesameStep::Close)?;
    SesameOrderState::Overdue.next(SesameStep::Close)?;
    db.execute(
        "UPDATE sesame_orders SET state = $3, pending = 'complete', \
           next_attempt_at_ms = NULL, updated_at_ms = $2 \
         WHERE loan_id = $1 AND state IN ('open', 'overdue')",
        &[loan_id.into(), now_ms.into(), to.as_str().into()],
    )?;
    Ok(())
}

/// The scheduled job's part: open orders whose loan is still out
/// `grace_ms` after it was due are owed a `report`, at most `batch` of
/// them. Returns how many.
pub fn mark_late(db: &dyn Db, grace_ms: i64, batch: i64, now_ms: i64) -> Result<u64> {
    db.execute(
        "UPDATE sesame_orders SET pending = 'report', next_attempt_at_ms = NULL, updated_at_ms = $1 \
         WHERE id IN (SELECT s.id FROM sesame_orders s JOIN loans l ON l.id = s.loan_id \
           WHERE s.state = 'open' AND s.pending IS NULL AND l.returned_at_ms IS NULL \
             AND l.due_at_ms + $2 <= $1 ORDER BY s.id LIMIT $3) \
         AND state = 'open' AND pending IS NULL",
        &[now_ms.into(), grace_ms.into(), batch.into()],
    )
}

/// This module's rows in the event log.
pub(crate) const EVENTS: crate::events::Subject = crate::events::Subject("sesame_order");
