//! Writing an imported batch: an upsert that makes re-importing the same
//! file change nothing. A record is matched by its control number
//! (`records.source_id`), else, when it has none, by ISBN among records
//! without one; a copy by barcode. Stored values are compared with the
//! imported ones, so an unchanged record is not written at all.
//!
//! Circulation owns a copy's status and current point: an import sets them
//! only for a new copy (on the shelf at its home branch) and never after.
//!
//! The whole batch runs in one transaction with the search keys of the
//! records it touched, so a batch is either searchable or not there.

use super::matching::{check, key_of, stored_records, texts, Accepted, MAX_LIST, RECORD_COLUMNS};
use super::{ImportRecord, Parsed, Rejection};
use crate::db::{in_transaction, Db, Value};
use crate::search::index::{index_new, placeholders, reindex};
use crate::Result;
use serde::Serialize;
use std::collections::HashMap;

/// Most parameters in one statement, as in the demo loader.
const MAX_PARAMS: usize = 6_000;

/// How many columns [`RECORD_COLUMNS`] names.
const RECORD_WIDTH: usize = 11;
const SQL_INSERT_RECORDS: &str =
    "INSERT INTO records ({columns}, created_at_ms) VALUES {rows} RETURNING id, source_id, isbn13";
const SQL_UPDATE_RECORD: &str = "UPDATE records SET source_id = $2, isbn13 = $3, title = $4, \
     responsibility = $5, publisher = $6, year = $7, language = $8, subjects = $9, \
     call_number = $10, set_key = $11, volume = $12 WHERE id = $1";
const SQL_COPIES_BY_BARCODE: &str =
    "SELECT barcode, record_id, home_point, call_number, rfid FROM copies WHERE barcode IN ({list})";
const SQL_INSERT_COPIES: &str =
    "INSERT INTO copies (barcode, record_id, home_point, current_point, \
     call_number, rfid, status, updated_at_ms) VALUES {rows}";
const COPY_WIDTH: usize = 8;
const SQL_UPDATE_COPY: &str =
    "UPDATE copies SET record_id = $2, home_point = $3, call_number = $4, rfid = $5, \
     updated_at_ms = $6 WHERE barcode = $1";
/// One audit event per batch, with its counts.
const SQL_RECORD_EVENT: &str =
    "INSERT INTO events (at_ms, actor, subject_kind, subject_id, event, detail) \
     VALUES ($1, 'admin:import', 'catalogue', 'import', 'batch_imported', $2)";

/// What one batch did. Counts are of records unless named for copies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// New records.
    pub imported: u64,
    /// Records that existed and changed.
    pub updated: u64,
    /// Records that existed as they are.
    pub unchanged: u64,
    /// Records refused (see `rejections`).
    pub rejected: u64,
    /// New copies.
    pub copies_imported: u64,
    /// Copies that existed and changed (record, branch or call number).
    pub copies_updated: u64,
    /// Copies that existed as they are.
    pub copies_unchanged: u64,
    /// Why each refused record was refused, in file order.
    pub rejections: Vec<Rejection>,
}

/// Writes a parsed batch; `now_ms` stamps new rows.
pub fn import(db: &dyn Db, parsed: Parsed, now_ms: i64) -> Result<Summary> {
    in_transaction(db, |db| {
        let mut summary = Summary {
            rejections: parsed.rejections,
            ..Summary::default()
        };
        let accepted = check(db, parsed.records, &mut summary.rejections)?;
        let (mut touched, mut created) = write_records(db, &accepted, &mut summary, now_ms)?;
        write_copies(db, &accepted, &mut touched, &mut summary, now_ms)?;
        created.sort_unstable();
        touched.sort_unstable();
        touched.dedup();
        touched.retain(|id| created.binary_search(id).is_err());
        reindex(db, &touched)?;
        index_new(db, &created)?;
        summary.rejections.sort_by_key(|r| r.position.record);
        summary.rejected = summary.rejections.len() as u64;
        let detail = serde_json::json!({
            "imported": summary.imported, "updated": summary.updated,
            "unchanged": summary.unchanged, "rejected": summary.rejected,
            "copies_imported": summary.copies_imported, "copies_updated": summary.copies_updated,
        });
        db.execute(
            SQL_RECORD_EVENT,
            &[now_ms.into(), detail.to_string().into()],
        )?;
        Ok(summary)
    })
}

/// Inserts new records and updates changed ones; returns the ids of the
/// updated records, whose search keys need rebuilding, and of the created.
fn write_records(
    db: &dyn Db,
    accepted: &[Accepted],
    summary: &mut Summary,
    now_ms: i64,
) -> Result<(Vec<i64>, Vec<i64>)> {
    let mut touched = Vec::new();
    let mut created = Vec::new();
    for a in accepted {
        match &a.existing {
            Some((_, stored)) if *stored == a.values => summary.unchanged += 1,
            Some((id, _)) => {
                let mut params = vec![Value::Int(*id)];
                params.extend(a.values.iter().cloned());
                db.execute(SQL_UPDATE_RECORD, &params)?;
                summary.updated += 1;
                touched.push(*id);
            }
            None => {}
        }
    }
    let new: Vec<&Accepted> = accepted.iter().filter(|a| a.existing.is_none()).collect();
    let sql = SQL_INSERT_RECORDS.replace("{columns}", RECORD_COLUMNS);
    for chunk in new.chunks(MAX_PARAMS / (RECORD_WIDTH + 1)) {
        let mut params = Vec::with_capacity(chunk.len() * (RECORD_WIDTH + 1));
        for a in chunk {
            params.extend(a.values.iter().cloned());
            params.push(now_ms.into());
        }
        let rows = db.query(
            &sql.replace("{rows}", &tuples(chunk.len(), RECORD_WIDTH + 1)),
            &params,
        )?;
        for row in rows.iter() {
            created.push(row.i64("id")?);
        }
        summary.imported += rows.len() as u64;
    }
    Ok((touched, created))
}

/// The stored id of each accepted record, after [`write_records`].
fn record_ids(db: &dyn Db, accepted: &[Accepted]) -> Result<HashMap<String, i64>> {
    let mut ids: HashMap<String, i64> = accepted
        .iter()
        .filter_map(|a| a.existing.as_ref().map(|(id, _)| (key_of(&a.record), *id)))
        .collect();
    let new: Vec<&ImportRecord> = accepted
        .iter()
        .filter(|a| a.existing.is_none())
        .map(|a| &a.record)
        .collect();
    for (key, (id, _)) in stored_records(db, new)? {
        ids.entry(key).or_insert(id);
    }
    Ok(ids)
}

fn write_copies(
    db: &dyn Db,
    accepted: &[Accepted],
    touched: &mut Vec<i64>,
    summary: &mut Summary,
    now_ms: i64,
) -> Result<()> {
    let ids = record_ids(db, accepted)?;
    let barcodes: Vec<String> = accepted
        .iter()
        .flat_map(|a| a.record.copies.iter().map(|c| c.barcode.clone()))
        .collect();
    let mut stored: HashMap<String, Vec<Value>> = HashMap::new();
    for chunk in barcodes.chunks(MAX_LIST) {
        let rows = db.query(
            &SQL_COPIES_BY_BARCODE.replace("{list}", &placeholders(1, chunk.len())),
            &texts(chunk),
        )?;
        for row in rows.iter() {
            let values = vec![
                row.value("record_id")?.clone(),
                row.value("home_point")?.clone(),
                row.value("call_number")?.clone(),
                row.value("rfid")?.clone(),
            ];
            stored.insert(row.text("barcode")?.to_string(), values);
        }
    }
    let mut new_rows: Vec<Vec<Value>> = Vec::new();
    for a in accepted {
        let Some(&record_id) = ids.get(&key_of(&a.record)) else {
            return Err(anyhow::anyhow!(
                "imported record {} was not found after writing",
                key_of(&a.record)
            )
            .into());
        };
        for copy in &a.record.copies {
            let call_number = copy
                .call_number
                .clone()
                .or_else(|| a.record.call_number.clone())
                .unwrap_or_default();
            let values: Vec<Value> = vec![
                record_id.into(),
                copy.branch.as_str().into(),
                call_number.into(),
                copy.rfid.clone().into(),
            ];
            match stored.get(&copy.barcode) {
                Some(old) if *old == values => summary.copies_unchanged += 1,
                Some(old) => {
                    let mut params: Vec<Value> = vec![copy.barcode.as_str().into()];
                    params.extend(values);
                    params.push(now_ms.into());
                    db.execute(SQL_UPDATE_COPY, &params)?;
                    summary.copies_updated += 1;
                    touched.push(record_id);
                    // The record it left changes availability too.
                    if let Value::Int(previous) = old[0] {
                        touched.push(previous);
                    }
                }
                None => {
                    let [record, branch, call, rfid] =
                        <[Value; 4]>::try_from(values).map_err(|_| anyhow::anyhow!("copy row"))?;
                    new_rows.push(vec![
                        copy.barcode.as_str().into(),
                        record,
                        branch.clone(),
                        branch,
                        call,
                        rfid,
                        "on_shelf".into(),
                        now_ms.into(),
                    ]);
                    touched.push(record_id);
                }
            }
        }
    }
    for chunk in new_rows.chunks(MAX_PARAMS / COPY_WIDTH) {
        let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
        db.execute(
            &SQL_INSERT_COPIES.replace("{rows}", &tuples(chunk.len(), COPY_WIDTH)),
            &params,
        )?;
        summary.copies_imported += chunk.len() as u64;
    }
    Ok(())
}

/// `($1, .., $w), ($w+1, ..)`: `rows` tuples of `width` parameters.
fn tuples(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(row * width + 1, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_number_parameters_row_by_row() {
        assert_eq!(tuples(2, 2), "($1, $2), ($3, $4)");
    }
}
