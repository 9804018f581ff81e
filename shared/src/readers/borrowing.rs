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
        return Err(may_not_borrow());
    }
    let owed = crate::compensation::unpaid_fen(db, reader.id)?;
    if owed > 0 {
        return Err(Error::CompensationUnpaid {
            amount_yuan: crate::alipay::yuan(owed),
        });
    }
    Ok(())
}

/// The refusal of a reader who may not borrow: the same 403 wherever it is
/// decided (here, or in the order placement's one statement).
pub fn may_not_borrow() -> Error {
    Error::Forbidden(
        "borrowing needs a credit check at the threshold or a paid deposit (POST /api/me/credit)"
            .into(),
    )
}

/// Books the reader holds or has on order: open loans plus open order
/// lines. What the loan quota is measured against.
///
/// The lines are counted per order of the reader (a correlated count by
/// `order_lines_by_order`), never by a join the planner may turn into a
/// scan of every line: on a young table without statistics PostgreSQL did
/// that, and each order cost a scan of all lines (issue 20). The open loans
/// have their own partial index (`loans_open_by_reader`, 0025). The SQL is
/// the same in `wj_place_order` (migration 0025).
pub fn held(db: &dyn Db, reader_id: i64) -> Result<i64> {
    let rows = db.query(
        "SELECT (SELECT COUNT(*) FROM loans WHERE reader_id = $1 AND returned_at_ms IS NULL) \
           + (SELECT CAST(COALESCE(SUM((SELECT COUNT(*) FROM order_lines l \
                WHERE l.order_id = o.id AND l.state IN ('waiting', 'promised', 'picked'))), 0) \
                AS BIGINT) \
              FROM orders o WHERE o.reader_id = $1) AS n",
        &[reader_id.into()],
    )?;
    Ok(rows
        .first()
        .map(|row| row.i64("n"))
        .transpose()?
        .unwrap_or(0))
}
