//! A copy comes back: through a locker's return slot or across a staff
//! counter, at any point. Its open loan closes; at its home branch it goes
//! straight back on the shelf, elsewhere it travels home (`in_transit`,
//! standing at the point that took it), and at home a copy in transit is
//! received back on the shelf. A copy that came back is then offered to
//! its title's holds queue ([`crate::holds::serve`]).

use crate::db::Db;
use crate::Result;
use serde::Serialize;

/// What a check-in did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedIn {
    /// The copy.
    pub barcode: String,
    /// The loan it closed, if one was open.
    pub loan_id: Option<i64>,
    /// The copy's status now: `on_shelf` (home), `in_transit`, or
    /// `promised` when a hold took it.
    pub status: String,
    /// Its home branch.
    pub home_point: String,
    /// The hold it was given to, if a reader was waiting for its title
    /// (the copy is then `promised` to that hold's order).
    pub hold: Option<crate::holds::serve::Served>,
}

/// Checks copy `barcode` in at `point`, `actor` doing it. `Ok(None)` when
/// there is nothing to check in: no such copy, or one not on loan that is
/// not a travelling copy arriving home (the caller says why).
pub fn check_in(
    db: &dyn Db,
    barcode: &str,
    point: &str,
    actor: &str,
    now_ms: i64,
) -> Result<Option<CheckedIn>> {
    let loans = db.query(
        "UPDATE loans SET returned_at_ms = $1, return_point = $2 \
         WHERE copy_barcode = $3 AND returned_at_ms IS NULL RETURNING id, reader_id",
        &[now_ms.into(), point.into(), barcode.into()],
    )?;
    let loan = loans.first();
    if let Some(row) = &loan {
        crate::sesame_orders::loan_closed(db, row.i64("id")?, now_ms)?;
    }
    let copies = db.query(
        "UPDATE copies SET \
           status = CASE WHEN home_point = $1 THEN 'on_shelf' ELSE 'in_transit' END, \
           current_point = $1, updated_at_ms = $2 \
         WHERE barcode = $3 AND (CAST($4 AS BIGINT) = 1 OR (status = 'in_transit' AND home_point = $1)) \
         RETURNING status, home_point",
        &[
            point.into(),
            now_ms.into(),
            barcode.into(),
            i64::from(loan.is_some()).into(),
        ],
    )?;
    let Some(copy) = copies.first() else {
        return Ok(None);
    };
    let mut checked = CheckedIn {
        barcode: barcode.to_string(),
        loan_id: loan.as_ref().map(|l| l.i64("id")).transpose()?,
        status: copy.text("status")?.to_string(),
        home_point: copy.text("home_point")?.to_string(),
        hold: None,
    };
    let (subject_kind, subject_id, event) = match (&loan, checked.loan_id) {
        (Some(_), Some(id)) => ("loan", id.to_string(), "loan_returned"),
        _ => ("copy", barcode.to_string(), "copy_received"),
    };
    let reader_id = loan.as_ref().map(|l| l.i64("reader_id")).transpose()?;
    crate::events::append(
        db,
        now_ms,
        crate::events::Event {
            actor,
            subject_kind,
            subject_id,
            event,
            detail: serde_json::json!({
                "point": point, "copy": barcode, "reader_id": reader_id, "status": checked.status,
            }),
        },
    )?;
    checked.hold = crate::holds::serve::serve(db, barcode, actor, now_ms)?;
    if checked.hold.is_some() {
        checked.status = "promised".into();
    }
    Ok(Some(checked))
}
