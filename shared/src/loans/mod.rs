//! *Loans*: a copy in a reader's hands, from pickup (or an on-the-spot
//! borrow) to its return anywhere.
//!
//! - [`open_loans`]: one query for every place that shows them: the app
//!   (`GET /api/me/loans`), the WeChat account's "我的借阅" reply and a
//!   locker's screen (`POST /api/lockers/{id}/query`);
//! - [`renew`]: a reader extends a loan, within the rules;
//! - [`check_in`]: a copy comes back, through a locker's return slot or a
//!   staff counter, and goes home.

mod check_in;
mod renew;

pub use check_in::{check_in, CheckedIn};
pub use renew::{renew, RenewRules};

use crate::db::Db;
use crate::Result;
use serde::Serialize;

/// A loan not yet returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenLoan {
    /// The loan.
    pub id: i64,
    /// The copy lent.
    pub copy_barcode: String,
    /// Its record.
    pub record_id: i64,
    /// The record's title.
    pub title: String,
    /// When the loan started, epoch milliseconds.
    pub started_at_ms: i64,
    /// When it is due, epoch milliseconds.
    pub due_at_ms: i64,
    /// Times it was renewed.
    pub renewals: i64,
    /// Past due at the time asked.
    pub overdue: bool,
}

/// The open loans of `reader_id`, soonest due first.
pub fn open_loans(db: &dyn Db, reader_id: i64, now_ms: i64) -> Result<Vec<OpenLoan>> {
    let rows = db.query(
        "SELECT l.id, l.copy_barcode, c.record_id, r.title, l.started_at_ms, l.due_at_ms, \
         l.renewals FROM loans l JOIN copies c ON c.barcode = l.copy_barcode \
         JOIN records r ON r.id = c.record_id \
         WHERE l.reader_id = $1 AND l.returned_at_ms IS NULL ORDER BY l.due_at_ms, l.id",
        &[reader_id.into()],
    )?;
    rows.iter()
        .map(|row| {
            let due_at_ms = row.i64("due_at_ms")?;
            Ok(OpenLoan {
                id: row.i64("id")?,
                copy_barcode: row.text("copy_barcode")?.to_string(),
                record_id: row.i64("record_id")?,
                title: row.text("title")?.to_string(),
                started_at_ms: row.i64("started_at_ms")?,
                due_at_ms,
                renewals: row.i64("renewals")?,
                overdue: due_at_ms < now_ms,
            })
        })
        .collect()
}
