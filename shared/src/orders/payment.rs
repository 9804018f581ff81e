//! The door-delivery fee: an Alipay trade (`out_trade_no` = `WJORD<id>`)
//! whose verified notification moves the order from awaiting payment to
//! picking; an order not paid in time expires and its copies go back on
//! the shelf.

use super::log;
use super::state::{OrderState, Transition};
use crate::db::Db;
use crate::{Error, Result};

/// Every order fee's `out_trade_no` starts with this.
pub const TRADE_PREFIX: &str = "WJORD";

/// What a payment notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// The order moved on to picking.
    Now,
    /// It had moved on already: a second notification of the same trade.
    Already,
}

/// Applies a verified payment of `amount` (yuan text) for `out_trade_no`.
pub fn pay(db: &dyn Db, out_trade_no: &str, amount: &str, now_ms: i64) -> Result<Paid> {
    let rows = db.query(
        "SELECT id, state, fee_fen FROM orders WHERE payment_ref = $1",
        &[out_trade_no.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound { what: "trade" })?;
    let (id, fee) = (row.i64("id")?, row.i64("fee_fen")?);
    let state = OrderState::parse(row.text("state")?)?;
    let expected = crate::alipay::yuan(fee);
    if amount.trim() != expected {
        return Err(Error::invalid(
            "total_amount",
            format!("{amount} is not the order's fee {expected}"),
        ));
    }
    if state != OrderState::AwaitingPayment {
        // Paid and moved on, or expired meanwhile: the notification is
        // acknowledged; a payment for an expired order is refunded by staff.
        return Ok(Paid::Already);
    }
    if super::state::store(db, id, state, Transition::Pay, now_ms)?.is_none() {
        return Ok(Paid::Already);
    }
    db.execute(
        "UPDATE orders SET paid_at_ms = $1 WHERE id = $2",
        &[now_ms.into(), id.into()],
    )?;
    log::event(
        db,
        now_ms,
        "alipay",
        id,
        "order_paid",
        serde_json::json!({ "amount": amount }),
    )?;
    Ok(Paid::Now)
}

/// Expires door orders whose fee was not paid by their deadline, at most
/// `batch` of them: each is cancelled and its copies released. Returns how
/// many expired; safe to run twice (the second run finds none).
pub fn expire_unpaid(db: &dyn Db, now_ms: i64, batch: i64) -> Result<u64> {
    let due = db.query(
        "SELECT id FROM orders WHERE state = 'awaiting_payment' AND payment_due_at_ms <= $1 \
         ORDER BY payment_due_at_ms LIMIT $2",
        &[now_ms.into(), batch.into()],
    )?;
    let mut expired = 0;
    for row in due.iter() {
        let id = row.i64("id")?;
        if super::cancel::close(db, id, Transition::PaymentExpired, "system", now_ms)? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// The refusal of a door order while its fee cannot be taken (Alipay is
/// not configured): nothing is stored, and the reader may still choose a
/// pickup point. Why Alipay is unusable is for the operator's log.
pub fn fee_unavailable() -> Error {
    Error::ProviderUnavailable {
        provider: "alipay",
        reason: "door delivery cannot take its fee now; choose a pickup point".into(),
    }
}
