//! A bought book is catalogued: each approved suggestion it answers (by
//! ISBN, or by title and author) becomes `arrived`, and its proposer's
//! order is made for it, as the first loan of the new copy. The order is
//! made the way a hold is served ([`crate::holds::serve`]): a hold for the
//! proposer at their pickup point is put in the new record's queue, first,
//! and a copy on the shelf is given to it, so the same checks apply
//! (standing, quota, the point) and the same race-free claim. A proposer
//! who may not borrow just now keeps the hold and is served by the next
//! copy that comes back.

use super::{SuggestionState, SuggestionStep};
use crate::db::{in_transaction, Db};
use crate::{Error, Result};

/// How many approved suggestions one import looks at.
const BATCH: i64 = 100;

/// Matches approved suggestions with catalogued records that have a copy
/// on a shelf; returns how many arrived. Called after every import batch,
/// so a book imported in several batches arrives with the batch that
/// brings its copy.
pub fn arrive_imported(db: &dyn Db, now_ms: i64) -> Result<u64> {
    let waiting = db.query(
        "SELECT id, reader_id, isbn13, title, author, pickup_point, state FROM purchase_suggestions \
         WHERE state IN ('approved', 'ordered') ORDER BY id LIMIT $1",
        &[BATCH.into()],
    )?;
    let mut arrived = 0;
    for row in waiting.iter() {
        let id = row.i64("id")?;
        let found = match row.opt_text("isbn13")? {
            Some(isbn) => db.query(
                "SELECT r.id, MIN(c.barcode) AS barcode FROM records r JOIN copies c ON c.record_id = r.id \
                 WHERE r.isbn13 = $1 AND c.status = 'on_shelf' GROUP BY r.id ORDER BY r.id LIMIT 1",
                &[isbn.into()],
            )?,
            None => db.query(
                "SELECT r.id, MIN(c.barcode) AS barcode FROM records r JOIN copies c ON c.record_id = r.id \
                 WHERE r.title = $1 AND r.responsibility LIKE $2 AND c.status = 'on_shelf' \
                 GROUP BY r.id ORDER BY r.id LIMIT 1",
                &[
                    row.text("title")?.into(),
                    format!("%{}%", row.opt_text("author")?.unwrap_or_default()).into(),
                ],
            )?,
        };
        let Some(record) = found.first() else {
            continue;
        };
        let (record_id, barcode) = (record.i64("id")?, record.text("barcode")?.to_string());
        let reader_id = row.i64("reader_id")?;
        let point = row
            .opt_text("pickup_point")?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("suggestion {id} has no pickup point")))?
            .to_string();
        let from = SuggestionState::parse(row.text("state")?)?;
        let to = from.next(SuggestionStep::Arrive)?;
        let hold = in_transaction(db, |db| {
            let hold = db.query(
                "INSERT INTO holds (reader_id, record_id, pickup_point, state, created_at_ms, updated_at_ms) \
                 VALUES ($1, $2, $3, 'waiting', $4, $4) ON CONFLICT DO NOTHING RETURNING id",
                &[reader_id.into(), record_id.into(), point.as_str().into(), now_ms.into()],
            )?;
            let hold = hold.first().map(|r| r.i64("id")).transpose()?;
            let changed = db.execute(
                "UPDATE purchase_suggestions SET state = $2, record_id = $3, hold_id = $4, \
                   updated_at_ms = $5 WHERE id = $1 AND state = $6",
                &[
                    id.into(),
                    to.as_str().into(),
                    record_id.into(),
                    hold.into(),
                    now_ms.into(),
                    from.as_str().into(),
                ],
            )?;
            if changed == 0 {
                return Err(Error::Conflict("arrived meanwhile".into()));
            }
            super::EVENTS.log(
                db,
                now_ms,
                "system",
                id,
                "suggestion_arrived",
                serde_json::json!({
                    "record_id": record_id, "hold_id": hold,
                }),
            )?;
            if let Some(hold) = hold {
                crate::holds::EVENTS.log(
                    db,
                    now_ms,
                    "system",
                    hold,
                    "hold_joined",
                    serde_json::json!({
                        "record_id": record_id, "pickup_point": point, "suggestion": id,
                    }),
                )?;
            }
            Ok(hold)
        });
        let hold = match hold {
            Ok(hold) => hold,
            Err(Error::Conflict(_)) => continue,
            Err(other) => return Err(other),
        };
        arrived += 1;
        if hold.is_some() {
            if let Some(served) = crate::holds::serve::serve(db, &barcode, "system", now_ms)? {
                db.execute(
                    "UPDATE purchase_suggestions SET order_id = $2 WHERE id = $1",
                    &[id.into(), served.order_id.into()],
                )?;
            }
        }
    }
    Ok(arrived)
}
