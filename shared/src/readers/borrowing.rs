//! Whether a reader may take on one more book now: what placing an order,
//! joining a holds queue and serving a hold all ask first, so the three
//! never disagree.

use super::Reader;
use crate::db::Db;
use crate::{Error, Result};

/// Refuses (403) a reader who may not borrow at `now_ms`: no trusted
/// deposit-free standing and no paid deposit, or suspended or blocked; or
/// who owes compensation for a lost or damaged book
/// ([`Error::CompensationUnpaid`]).
pub fn check(db: &dyn Db, reader: &Reader, now_ms: i64) -> Result<()> {
    if !reader.may_borrow(now_ms) {
        return Err(Error::Forbidden(
            "borrowing needs a credit check at the threshold or a paid deposit (POST /api/me/credit)".into(),
        ));
    }
    let owed = crate::compensation::unpaid_fen(db, reader.id)?;
    if owed > 0 {
        return Err(Error::CompensationUnpaid {
            amount_yuan: crate::alipay::yuan(owed),
        });
    }
    Ok(())
}

/// Books the reader holds or has on order: open loans plus open order
/// lines. What the loan quota is measured against.
pub fn held(db: &dyn Db, reader_id: i64) -> Result<i64> {
    let rows = db.query(
        "SELECT (SELECT COUNT(*) FROM loans WHERE reader_id = $1 AND returned_at_ms IS NULL) \
           + (SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id \
              WHERE o.reader_id = $1 AND l.state IN ('waiting', 'promised', 'picked')) AS n",
        &[reader_id.into()],
    )?;
    Ok(rows
        .first()
        .map(|row| row.i64("n"))
        .transpose()?
        .unwrap_or(0))
}
