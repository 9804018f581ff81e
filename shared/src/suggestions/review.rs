//! The librarian's side: the suggestions waiting for a decision, approval
//! at a price within the cap and the year's budget, and refusal with a
//! reason. Each decision is one conditional `UPDATE` (only a proposed
//! suggestion is decided, once), logged, and the reader is told.

use super::{get, rules, SuggestionRules, SuggestionState, SuggestionStep, SuggestionView};
use crate::db::{in_transaction, Db};
use crate::staff::Staff;
use crate::{Error, Result};

/// Suggestions in `state`, oldest first (what a librarian works through).
pub fn list(db: &dyn Db, state: SuggestionState) -> Result<Vec<SuggestionView>> {
    let sql = format!(
        "{} WHERE s.state = $1 ORDER BY s.id LIMIT 200",
        super::SQL_VIEW
    );
    let rows = db.query(&sql, &[state.as_str().into()])?;
    rows.iter().map(|row| super::from_row(&row)).collect()
}

/// Staff approve suggestion `id` to be bought at `price_fen`: 409 over
/// the cap or the year's budget, or when it was decided already.
pub fn approve(
    db: &dyn Db,
    staff: &Staff,
    id: i64,
    price_fen: i64,
    rules: &SuggestionRules,
    now_ms: i64,
) -> Result<SuggestionView> {
    let current = get(db, id)?;
    let to = current.state.next(SuggestionStep::Approve)?;
    if price_fen <= 0 {
        return Err(Error::invalid("price_fen", "a positive price in fen"));
    }
    if price_fen > rules.price_cap_fen {
        return Err(Error::Conflict(format!(
            "{} yuan is over the cap of {} yuan a book",
            crate::alipay::yuan(price_fen),
            crate::alipay::yuan(rules.price_cap_fen)
        )));
    }
    let (_, year_start) = rules::month_and_year_start(now_ms);
    in_transaction(db, |db| {
        // The budget is the year's approvals added up; the conditional
        // update counts them in the same statement that approves.
        let changed = db.execute(
            "UPDATE purchase_suggestions SET state = $2, price_fen = $3, decided_by = $4, \
               decided_at_ms = $5, updated_at_ms = $5 \
             WHERE id = $1 AND state = 'proposed' AND $3 + (SELECT CAST(COALESCE(SUM(price_fen), 0) AS BIGINT) \
               FROM purchase_suggestions WHERE state IN ('approved', 'ordered', 'arrived') \
               AND decided_at_ms >= $6) <= $7",
            &[
                id.into(),
                to.as_str().into(),
                price_fen.into(),
                staff.id.into(),
                now_ms.into(),
                year_start.into(),
                rules.yearly_budget_fen.into(),
            ],
        )?;
        if changed == 0 {
            let now = get(db, id)?;
            now.state.next(SuggestionStep::Approve)?;
            return Err(Error::Conflict(format!(
                "this year's budget of {} yuan for suggestions cannot pay {} yuan more",
                crate::alipay::yuan(rules.yearly_budget_fen),
                crate::alipay::yuan(price_fen)
            )));
        }
        decided(
            db,
            staff,
            &current,
            to,
            serde_json::json!({ "price_fen": price_fen }),
            now_ms,
        )
    })?;
    get(db, id)
}

/// Staff decline suggestion `id` with `reason` (1 to 200 characters).
pub fn decline(
    db: &dyn Db,
    staff: &Staff,
    id: i64,
    reason: &str,
    now_ms: i64,
) -> Result<SuggestionView> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(Error::invalid(
            "reason",
            "1 to 200 characters, for the reader",
        ));
    }
    let current = get(db, id)?;
    let to = current.state.next(SuggestionStep::Decline)?;
    in_transaction(db, |db| {
        let changed = db.execute(
            "UPDATE purchase_suggestions SET state = $2, decision_reason = $3, decided_by = $4, \
               decided_at_ms = $5, updated_at_ms = $5 WHERE id = $1 AND state = 'proposed'",
            &[
                id.into(),
                to.as_str().into(),
                reason.into(),
                staff.id.into(),
                now_ms.into(),
            ],
        )?;
        if changed == 0 {
            get(db, id)?.state.next(SuggestionStep::Decline)?;
        }
        decided(
            db,
            staff,
            &current,
            to,
            serde_json::json!({ "reason": reason }),
            now_ms,
        )
    })?;
    get(db, id)
}

/// The log and the reader's notice of a decision.
fn decided(
    db: &dyn Db,
    staff: &Staff,
    suggestion: &SuggestionView,
    to: SuggestionState,
    detail: serde_json::Value,
    now_ms: i64,
) -> Result<()> {
    let event = match to {
        SuggestionState::Approved => "suggestion_approved",
        _ => "suggestion_declined",
    };
    super::EVENTS.log(
        db,
        now_ms,
        &staff.actor(),
        suggestion.id,
        event,
        detail.clone(),
    )?;
    let mut payload = detail;
    payload["state"] = to.as_str().into();
    payload["title"] = suggestion.title.clone().into();
    crate::jobs::notice(
        db,
        now_ms,
        suggestion.reader_id,
        "suggestion_decided",
        &format!("suggestion_decided:{}", suggestion.id),
        ("suggestion", suggestion.id.to_string()),
        payload,
    )?;
    Ok(())
}
