//! *Record detail*: a record, its copies by branch and status, and whether
//! a reader can borrow it online now.

use super::summary::RecordSummary;
use crate::db::Db;
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// The record itself.
const SQL_RECORD: &str = "SELECT id, title, responsibility, publisher, year, isbn13, language, \
     subjects, call_number, set_key, volume FROM records WHERE id = $1";
/// Its copies counted by home branch and status.
const SQL_COPIES_BY_BRANCH: &str = "SELECT home_point, status, COUNT(*) AS n FROM copies \
     WHERE record_id = $1 GROUP BY home_point, status ORDER BY home_point, status";
/// Copies on a shelf the library lends online from now: a branch's or the
/// delivery centre's (where the online-lending stack stands).
const SQL_LENDABLE_ON_SHELF: &str = "SELECT COUNT(*) AS n FROM copies c \
     JOIN service_points p ON p.code = c.current_point \
     WHERE c.record_id = $1 AND c.status = 'on_shelf' AND p.kind IN ('branch', 'delivery_centre')";

/// A record as `GET /api/records/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordDetail {
    /// The record's main fields, flattened into this object.
    #[serde(flatten)]
    pub record: RecordSummary,
    /// Subject headings.
    pub subjects: serde_json::Value,
    #[allow(missing_docs)]
    pub call_number: Option<String>,
    /// The multi-volume set it belongs to, if any, and its volume.
    pub set_key: Option<String>,
    #[allow(missing_docs)]
    pub volume: Option<i64>,
    /// Per home branch: how many copies are in each status.
    pub copies: BTreeMap<String, BTreeMap<String, i64>>,
    /// All copies, whatever their status.
    pub total_copies: i64,
    /// Whether a reader can borrow it online now: a copy is on the shelf of
    /// a lending point (a branch or the delivery centre's online stack).
    /// Every catalogued record is lendable; the schema has no reference-only
    /// flag yet.
    pub borrowable_online: bool,
}

/// Reads a record's detail; `NotFound` when no record has this id.
pub fn record_detail(db: &dyn Db, id: i64) -> Result<RecordDetail> {
    let rows = db.query(SQL_RECORD, &[id.into()])?;
    let row = rows.first().ok_or(Error::NotFound { what: "record" })?;
    let subjects = serde_json::from_str(row.text("subjects")?)
        .map_err(|e| Error::Internal(anyhow::anyhow!("subjects of record {id}: {e}")))?;
    let mut copies: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut total_copies = 0;
    for copy in db.query(SQL_COPIES_BY_BRANCH, &[id.into()])?.iter() {
        let n = copy.i64("n")?;
        total_copies += n;
        copies
            .entry(copy.text("home_point")?.into())
            .or_default()
            .insert(copy.text("status")?.into(), n);
    }
    let lendable = db.query(SQL_LENDABLE_ON_SHELF, &[id.into()])?;
    let on_lending_shelves = lendable
        .first()
        .map(|r| r.i64("n"))
        .transpose()?
        .unwrap_or(0);
    Ok(RecordDetail {
        record: RecordSummary::from_row(&row)?,
        subjects,
        call_number: row.opt_text("call_number")?.map(str::to_string),
        set_key: row.opt_text("set_key")?.map(str::to_string),
        volume: row.opt_i64("volume")?,
        copies,
        total_copies,
        borrowable_online: on_lending_shelves > 0,
    })
}
