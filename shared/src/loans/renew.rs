//! Renewal: a reader extends an open loan from the app. One conditional
//! statement does it, so two renewals at once cannot both pass the limit;
//! when it changes nothing, the loan is read again to say why.

use super::{open_loans, OpenLoan};
use crate::db::Db;
use crate::{Error, Result};

/// The library's renewal rules (variables `loan_period_ms`, `max_renewals`).
#[derive(Debug, Clone, Copy)]
pub struct RenewRules {
    /// A renewed loan is due this long after the renewal (never earlier
    /// than it already was).
    pub loan_period_ms: i64,
    /// How many times one loan may be renewed.
    pub max_renewals: i64,
}

/// Renews loan `loan_id` of reader `reader_id`: 404 when it is not theirs,
/// 409 when it is returned, overdue or renewed to the limit, 403 when the
/// reader may not borrow (suspended or blocked). Returns the loan renewed.
pub fn renew(
    db: &dyn Db,
    reader_id: i64,
    loan_id: i64,
    rules: RenewRules,
    now_ms: i64,
) -> Result<OpenLoan> {
    let new_due = now_ms + rules.loan_period_ms;
    let changed = db.execute(
        "UPDATE loans SET renewals = renewals + 1, \
           due_at_ms = CASE WHEN due_at_ms > $3 THEN due_at_ms ELSE $3 END \
         WHERE id = $1 AND reader_id = $2 AND returned_at_ms IS NULL AND due_at_ms >= $4 \
           AND renewals < $5 \
           AND EXISTS (SELECT 1 FROM readers WHERE id = $2 AND status = 'active')",
        &[
            loan_id.into(),
            reader_id.into(),
            new_due.into(),
            now_ms.into(),
            rules.max_renewals.into(),
        ],
    )?;
    if changed == 0 {
        return Err(why_not(db, reader_id, loan_id, rules, now_ms)?);
    }
    crate::events::append(
        db,
        now_ms,
        crate::events::Event {
            actor: &format!("reader:{reader_id}"),
            subject_kind: "loan",
            subject_id: loan_id.to_string(),
            event: "loan_renewed",
            detail: serde_json::json!({ "due_at_ms_at_least": new_due }),
        },
    )?;
    crate::sesame_orders::loan_renewed(db, loan_id, now_ms)?;
    open_loans(db, reader_id, now_ms)?
        .into_iter()
        .find(|loan| loan.id == loan_id)
        .ok_or(Error::NotFound { what: "loan" })
}

fn why_not(
    db: &dyn Db,
    reader_id: i64,
    loan_id: i64,
    rules: RenewRules,
    now_ms: i64,
) -> Result<Error> {
    let rows = db.query(
        "SELECT l.returned_at_ms, l.due_at_ms, l.renewals, r.status FROM loans l \
         JOIN readers r ON r.id = l.reader_id WHERE l.id = $1 AND l.reader_id = $2",
        &[loan_id.into(), reader_id.into()],
    )?;
    let Some(loan) = rows.first() else {
        return Ok(Error::NotFound { what: "loan" });
    };
    let status = loan.text("status")?;
    Ok(if loan.opt_i64("returned_at_ms")?.is_some() {
        Error::Conflict(format!("loan {loan_id} is returned already"))
    } else if status != "active" {
        Error::Forbidden(format!("a {status} reader cannot renew"))
    } else if loan.i64("due_at_ms")? < now_ms {
        Error::Conflict(format!(
            "loan {loan_id} is overdue: an overdue book cannot be renewed, please return it"
        ))
    } else if loan.i64("renewals")? >= rules.max_renewals {
        Error::Conflict(format!(
            "loan {loan_id} was renewed {} times, the most allowed",
            rules.max_renewals
        ))
    } else {
        Error::Conflict(format!("loan {loan_id} changed meanwhile; try again"))
    })
}
