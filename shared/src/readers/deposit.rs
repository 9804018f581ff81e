//! Deposits: the way in for a reader whose credit is not enough. A deposit
//! is an Alipay trade we open (`out_trade_no` is ours); only Alipay's
//! asynchronous notification, verified elsewhere, marks it paid.

use super::store::{self, log};
use crate::db::{Db, Row};
use crate::{Error, Result};
use serde::Serialize;

/// Every deposit's `out_trade_no` starts with this, so the Alipay webhook
/// knows which flow a notification belongs to.
pub const TRADE_PREFIX: &str = "WJDEP";

/// A deposit as the reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deposit {
    /// `deposits.id`.
    pub id: i64,
    /// Our trade number with Alipay.
    pub out_trade_no: String,
    /// The amount, in fen (1/100 yuan).
    pub amount_fen: i64,
    /// `awaiting_payment`, `paid` or `closed`.
    pub state: String,
    /// When it was opened.
    pub created_at_ms: i64,
    /// When Alipay confirmed the payment.
    pub paid_at_ms: Option<i64>,
}

impl Deposit {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Deposit {
            id: row.i64("id")?,
            out_trade_no: row.text("out_trade_no")?.to_string(),
            amount_fen: row.i64("amount_fen")?,
            state: row.text("state")?.to_string(),
            created_at_ms: row.i64("created_at_ms")?,
            paid_at_ms: row.opt_i64("paid_at_ms")?,
        })
    }

    /// The amount as Alipay writes it: yuan with two decimals.
    pub fn amount_yuan(&self) -> String {
        crate::alipay::yuan(self.amount_fen)
    }
}

const COLUMNS: &str = "id, out_trade_no, amount_fen, state, created_at_ms, paid_at_ms";

/// The reader's open or paid deposit, if any.
pub fn current(db: &dyn Db, reader_id: i64) -> Result<Option<Deposit>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deposits WHERE reader_id = $1 \
         AND state IN ('awaiting_payment', 'paid')"
    );
    let rows = db.query(&sql, &[reader_id.into()])?;
    rows.first().map(|row| Deposit::from_row(&row)).transpose()
}

/// Deposit `id`, only if it is `reader_id`'s: someone else's deposit is
/// "not found", never "forbidden", so ids reveal nothing.
pub fn get_for(db: &dyn Db, reader_id: i64, id: i64) -> Result<Deposit> {
    let sql = format!("SELECT {COLUMNS} FROM deposits WHERE id = $1 AND reader_id = $2");
    let rows = db.query(&sql, &[id.into(), reader_id.into()])?;
    rows.first()
        .map(|row| Deposit::from_row(&row))
        .transpose()?
        .ok_or(Error::NotFound { what: "deposit" })
}

/// Opens a deposit of `amount_fen` for the reader, or returns the one
/// already awaiting payment (a retried tap opens nothing new). Readers who
/// borrow deposit-free, or have paid, are told they need none.
pub fn open(db: &dyn Db, reader_id: i64, amount_fen: i64, now_ms: i64) -> Result<Deposit> {
    let reader = store::get(db, reader_id)?;
    if reader.may_borrow(now_ms) {
        return Err(Error::Conflict(if reader.deposit_paid_at_ms.is_some() {
            "the deposit is already paid".into()
        } else {
            "your credit already lends deposit-free; no deposit is needed".into()
        }));
    }
    if let Some(deposit) = current(db, reader_id)? {
        return Ok(deposit);
    }
    let out_trade_no = format!("{TRADE_PREFIX}{reader_id}T{now_ms}");
    // The partial unique index allows one open deposit per reader: a
    // concurrent open inserts nothing and both read the same row back.
    db.execute(
        "INSERT INTO deposits (reader_id, out_trade_no, amount_fen, state, created_at_ms, \
         updated_at_ms) VALUES ($1, $2, $3, 'awaiting_payment', $4, $4) ON CONFLICT DO NOTHING",
        &[
            reader_id.into(),
            out_trade_no.into(),
            amount_fen.into(),
            now_ms.into(),
        ],
    )?;
    current(db, reader_id)?.ok_or(Error::NotFound { what: "deposit" })
}

/// What a payment notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// The deposit is now paid and the reader may borrow.
    Paid,
    /// It was paid already: a second notification for the same trade.
    AlreadyPaid,
}

/// Marks the deposit `out_trade_no` paid by Alipay trade `trade_no`, if
/// `amount` (yuan text, as Alipay sends it) is exactly what was asked.
pub fn confirm(
    db: &dyn Db,
    out_trade_no: &str,
    trade_no: &str,
    amount: &str,
    quota: u32,
    now_ms: i64,
) -> Result<Confirmation> {
    let sql = format!("SELECT {COLUMNS}, reader_id FROM deposits WHERE out_trade_no = $1");
    let rows = db.query(&sql, &[out_trade_no.into()])?;
    let row = rows.first().ok_or(Error::NotFound { what: "deposit" })?;
    let deposit = Deposit::from_row(&row)?;
    let reader_id = row.i64("reader_id")?;
    if amount.trim() != deposit.amount_yuan() {
        return Err(Error::invalid(
            "total_amount",
            format!("{amount} is not the deposit's {}", deposit.amount_yuan()),
        ));
    }
    let updated = db.execute(
        "UPDATE deposits SET state = 'paid', paid_at_ms = $1, alipay_trade_no = $2, \
         updated_at_ms = $1 WHERE id = $3 AND state = 'awaiting_payment'",
        &[now_ms.into(), trade_no.into(), deposit.id.into()],
    )?;
    if updated == 0 {
        return match deposit.state.as_str() {
            "paid" => Ok(Confirmation::AlreadyPaid),
            other => Err(Error::Conflict(format!("the deposit is {other}"))),
        };
    }
    db.execute(
        "UPDATE readers SET deposit_paid_at_ms = $1, standing = 'deposit', loan_quota = $2, \
         updated_at_ms = $1 WHERE id = $3",
        &[now_ms.into(), i64::from(quota).into(), reader_id.into()],
    )?;
    log(
        db,
        now_ms,
        "alipay",
        reader_id,
        "deposit_paid",
        serde_json::json!({ "out_trade_no": out_trade_no, "amount": amount }),
    )?;
    Ok(Confirmation::Paid)
}
