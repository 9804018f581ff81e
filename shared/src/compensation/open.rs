//! Opening a compensation: a reader declares a loan lost, or staff find a
//! returned copy damaged. Either way, in one transaction: the loan closed
//! (a lost one), the copy withdrawn, the compensation opened, and each step
//! in the event log. Asking again answers the compensation already opened.

use super::{for_loan, CompensationRules, CompensationView, Reason, TRADE_PREFIX};
use crate::db::{in_transaction, Db};
use crate::staff::Staff;
use crate::{Error, Result};

/// Reader `reader_id` declares their open loan `loan_id` lost. The flag
/// says whether this call opened the compensation (a retry finds it).
/// 404 when the loan is not theirs, 409 when it was returned.
pub fn declare_lost(
    db: &dyn Db,
    reader_id: i64,
    loan_id: i64,
    rules: CompensationRules,
    now_ms: i64,
) -> Result<(CompensationView, bool)> {
    if let Some(open) = for_loan(db, loan_id)? {
        return match super::get(db, reader_id, open.id) {
            Ok(mine) => Ok((mine, false)),
            Err(_) => Err(Error::NotFound { what: "loan" }),
        };
    }
    let actor = format!("reader:{reader_id}");
    let opened = in_transaction(db, |db| {
        let closed = db.query(
            "UPDATE loans SET returned_at_ms = $3, lost_at_ms = $3 \
             WHERE id = $1 AND reader_id = $2 AND returned_at_ms IS NULL RETURNING copy_barcode",
            &[loan_id.into(), reader_id.into(), now_ms.into()],
        )?;
        let barcode = match closed.first() {
            Some(row) => row.text("copy_barcode")?.to_string(),
            None => return Err(why_not_open(db, reader_id, loan_id)?),
        };
        crate::events::append(
            db,
            now_ms,
            crate::events::Event {
                actor: &actor,
                subject_kind: "loan",
                subject_id: loan_id.to_string(),
                event: "loan_lost",
                detail: serde_json::json!({ "copy": barcode }),
            },
        )?;
        crate::sesame_orders::loan_closed(db, loan_id, now_ms)?;
        open(
            db,
            &actor,
            reader_id,
            loan_id,
            &barcode,
            Reason::Lost,
            rules,
            now_ms,
        )
    });
    match opened {
        Ok(id) => Ok((super::get(db, reader_id, id)?, true)),
        // A concurrent declaration opened it first.
        Err(Error::Conflict(_)) if for_loan(db, loan_id)?.is_some() => {
            let open = for_loan(db, loan_id)?.ok_or(Error::NotFound { what: "loan" })?;
            Ok((super::get(db, reader_id, open.id)?, false))
        }
        Err(other) => Err(other),
    }
}

fn why_not_open(db: &dyn Db, reader_id: i64, loan_id: i64) -> Result<Error> {
    let rows = db.query(
        "SELECT returned_at_ms FROM loans WHERE id = $1 AND reader_id = $2",
        &[loan_id.into(), reader_id.into()],
    )?;
    Ok(match rows.first() {
        None => Error::NotFound { what: "loan" },
        Some(_) => Error::Conflict(format!(
            "loan {loan_id} is returned already: only a book still on loan can be declared lost"
        )),
    })
}

/// Staff find copy `barcode`, returned at their point, damaged: the last
/// reader who had it owes for it and the copy is withdrawn. 404 for an
/// unknown copy or one never lent, 403 when it was returned and stands
/// elsewhere, 409 when it is on loan, or promised to an order. The flag
/// says whether this call opened the compensation.
pub fn mark_damaged(
    db: &dyn Db,
    staff: &Staff,
    barcode: &str,
    rules: CompensationRules,
    now_ms: i64,
) -> Result<(CompensationView, i64, bool)> {
    let rows = db.query(
        "SELECT l.id, l.reader_id, l.returned_at_ms, l.return_point, c.current_point, c.status \
         FROM loans l JOIN copies c ON c.barcode = l.copy_barcode \
         WHERE l.copy_barcode = $1 ORDER BY l.id DESC LIMIT 1",
        &[barcode.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound {
        what: "loan of this copy",
    })?;
    let (loan_id, reader_id) = (row.i64("id")?, row.i64("reader_id")?);
    if let Some(open) = for_loan(db, loan_id)? {
        return Ok((open, reader_id, false));
    }
    if row.opt_i64("returned_at_ms")?.is_none() {
        return Err(Error::Conflict(format!(
            "copy {barcode} is on loan: it is marked damaged when it comes back"
        )));
    }
    let here = staff.home_point.as_str();
    if row.opt_text("return_point")? != Some(here) && row.opt_text("current_point")? != Some(here) {
        staff.must_work_at(row.opt_text("current_point")?.unwrap_or_default())?;
    }
    let actor = staff.actor();
    let id = in_transaction(db, |db| {
        open(
            db,
            &actor,
            reader_id,
            loan_id,
            barcode,
            Reason::Damaged,
            rules,
            now_ms,
        )
    })?;
    Ok((super::get(db, reader_id, id)?, reader_id, true))
}

/// The copy withdrawn and the compensation opened, in the caller's
/// transaction; the compensation's id.
#[allow(clippy::too_many_arguments)]
fn open(
    db: &dyn Db,
    actor: &str,
    reader_id: i64,
    loan_id: i64,
    barcode: &str,
    reason: Reason,
    rules: CompensationRules,
    now_ms: i64,
) -> Result<i64> {
    // A lost copy is wherever the reader left it; a damaged one must be
    // back and free: not on loan, not promised to an order.
    let withdrawn = db.query(
        "UPDATE copies SET status = 'withdrawn', current_point = CASE WHEN $3 = 'lost' \
           THEN NULL ELSE current_point END, updated_at_ms = $2 \
         WHERE barcode = $1 AND (($3 = 'lost' AND status = 'on_loan') \
           OR ($3 = 'damaged' AND status IN ('on_shelf', 'in_transit'))) \
         RETURNING record_id",
        &[barcode.into(), now_ms.into(), reason.as_str().into()],
    )?;
    let record_id = match withdrawn.first() {
        Some(row) => row.i64("record_id")?,
        None => {
            return Err(Error::Conflict(format!(
                "copy {barcode} is not free to withdraw (on loan, or promised to an order)"
            )))
        }
    };
    let price = db.query(
        "SELECT list_price_fen FROM records WHERE id = $1",
        &[record_id.into()],
    )?;
    let list_price = price
        .first()
        .map(|r| r.opt_i64("list_price_fen"))
        .transpose()?
        .flatten();
    let amount = rules.amount_fen(list_price);
    let inserted = db.query(
        "INSERT INTO compensations (reader_id, loan_id, copy_barcode, reason, amount_fen, \
           out_trade_no, state, opened_by, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 'awaiting_payment', $7, $8, $8) \
         ON CONFLICT DO NOTHING RETURNING id",
        &[
            reader_id.into(),
            loan_id.into(),
            barcode.into(),
            reason.as_str().into(),
            amount.into(),
            format!("{TRADE_PREFIX}{loan_id}").into(),
            actor.into(),
            now_ms.into(),
        ],
    )?;
    let id = inserted
        .first()
        .map(|r| r.i64("id"))
        .transpose()?
        .ok_or_else(|| Error::Conflict("opened by a concurrent request".into()))?;
    crate::events::append(
        db,
        now_ms,
        crate::events::Event {
            actor,
            subject_kind: "copy",
            subject_id: barcode.to_string(),
            event: "copy_withdrawn",
            detail: serde_json::json!({ "reason": reason.as_str(), "loan_id": loan_id }),
        },
    )?;
    super::EVENTS.log(
        db,
        now_ms,
        actor,
        id,
        "compensation_opened",
        serde_json::json!({
            "reason": reason.as_str(), "loan_id": loan_id, "reader_id": reader_id,
            "amount_fen": amount, "list_price_fen": list_price,
        }),
    )?;
    Ok(id)
}
