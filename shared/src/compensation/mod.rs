//! *Compensation*: what a reader owes for a copy lost on loan (declared by
//! the reader) or returned damaged (found by staff). The loan is closed,
//! the copy withdrawn, and the amount, the record's list price (or the
//! library's default price) times the library's factor, is paid through an
//! Alipay trade `WJCMP<loan id>`, one per loan, as the door-delivery fee
//! is. While any compensation is unpaid the reader borrows nothing more
//! ([`crate::readers::borrowing::check`]).

mod open;
mod rules;

pub use open::{declare_lost, mark_damaged};
pub use rules::CompensationRules;

use crate::db::{Db, Row};
use crate::{Error, Result};
use serde::Serialize;

/// Every compensation's `out_trade_no` starts with this.
pub const TRADE_PREFIX: &str = "WJCMP";

/// Why a reader owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The reader declared the copy lost.
    Lost,
    /// Staff found the returned copy damaged.
    Damaged,
}

impl Reason {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Lost => "lost",
            Reason::Damaged => "damaged",
        }
    }
}

/// A compensation as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompensationView {
    /// `compensations.id`.
    pub id: i64,
    /// The loan it closes.
    pub loan_id: i64,
    /// The copy.
    pub copy_barcode: String,
    /// `lost` or `damaged`.
    pub reason: String,
    /// What is owed, in fen.
    pub amount_fen: i64,
    /// Our Alipay trade number.
    pub out_trade_no: String,
    /// `awaiting_payment` or `paid`.
    pub state: String,
    /// When it was opened.
    pub created_at_ms: i64,
    /// When Alipay confirmed the payment.
    pub paid_at_ms: Option<i64>,
}

const SQL_VIEW: &str =
    "SELECT id, loan_id, copy_barcode, reason, amount_fen, out_trade_no, state, \
     created_at_ms, paid_at_ms FROM compensations";

fn from_row(row: &Row<'_>) -> Result<CompensationView> {
    Ok(CompensationView {
        id: row.i64("id")?,
        loan_id: row.i64("loan_id")?,
        copy_barcode: row.text("copy_barcode")?.to_string(),
        reason: row.text("reason")?.to_string(),
        amount_fen: row.i64("amount_fen")?,
        out_trade_no: row.text("out_trade_no")?.to_string(),
        state: row.text("state")?.to_string(),
        created_at_ms: row.i64("created_at_ms")?,
        paid_at_ms: row.opt_i64("paid_at_ms")?,
    })
}

/// The reader's compensations, newest first.
pub fn list(db: &dyn Db, reader_id: i64) -> Result<Vec<CompensationView>> {
    let sql = format!("{SQL_VIEW} WHERE reader_id = $1 ORDER BY id DESC LIMIT 100");
    let rows = db.query(&sql, &[reader_id.into()])?;
    rows.iter().map(|row| from_row(&row)).collect()
}

/// Compensation `id` of reader `reader_id`; another reader's is not found.
pub fn get(db: &dyn Db, reader_id: i64, id: i64) -> Result<CompensationView> {
    let sql = format!("{SQL_VIEW} WHERE id = $1 AND reader_id = $2");
    let rows = db.query(&sql, &[id.into(), reader_id.into()])?;
    rows.first()
        .map(|row| from_row(&row))
        .transpose()?
        .ok_or(Error::NotFound {
            what: "compensation",
        })
}

/// The compensation of loan `loan_id`, if one was opened.
pub fn for_loan(db: &dyn Db, loan_id: i64) -> Result<Option<CompensationView>> {
    let sql = format!("{SQL_VIEW} WHERE loan_id = $1");
    let rows = db.query(&sql, &[loan_id.into()])?;
    rows.first().map(|row| from_row(&row)).transpose()
}

/// What the reader owes and has not paid, in fen (0 when nothing).
pub fn unpaid_fen(db: &dyn Db, reader_id: i64) -> Result<i64> {
    let rows = db.query(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS owed FROM compensations \
         WHERE reader_id = $1 AND state = 'awaiting_payment'",
        &[reader_id.into()],
    )?;
    Ok(rows
        .first()
        .map(|row| row.i64("owed"))
        .transpose()?
        .unwrap_or(0))
}

/// What a payment notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// The compensation is paid now.
    Now,
    /// It was paid already: a second notification of the same trade.
    Already,
}

/// Applies a verified payment of `amount` (yuan text) for `out_trade_no`,
/// in the caller's transaction: 404 for an unknown trade, 400 for another
/// amount, and a second notification changes nothing.
pub fn pay(
    db: &dyn Db,
    out_trade_no: &str,
    trade_no: &str,
    amount: &str,
    now_ms: i64,
) -> Result<Paid> {
    let rows = db.query(
        "SELECT id, reader_id, amount_fen FROM compensations WHERE out_trade_no = $1",
        &[out_trade_no.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound { what: "trade" })?;
    let (id, reader_id) = (row.i64("id")?, row.i64("reader_id")?);
    let expected = crate::alipay::yuan(row.i64("amount_fen")?);
    if amount.trim() != expected {
        return Err(Error::invalid(
            "total_amount",
            format!("{amount} is not the compensation {expected}"),
        ));
    }
    let changed = db.execute(
        "UPDATE compensations SET state = 'paid', paid_at_ms = $2, alipay_trade_no = $3, \
         updated_at_ms = $2 WHERE id = $1 AND state = 'awaiting_payment'",
        &[id.into(), now_ms.into(), trade_no.into()],
    )?;
    if changed == 0 {
        return Ok(Paid::Already);
    }
    EVENTS.log(
        db,
        now_ms,
        "alipay",
        id,
        "compensation_paid",
        serde_json::json!({ "amount": amount, "reader_id": reader_id }),
    )?;
    Ok(Paid::Now)
}

/// This module's rows in the event log.
pub(crate) const EVENTS: crate::events::Subject = crate::events::Subject("compensation");
