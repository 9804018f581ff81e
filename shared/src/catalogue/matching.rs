//! Matching an imported batch against what is stored: each record's stored
//! twin (by control number, else ISBN among records without one), and the
//! checks that need stored state or the whole batch (unknown branches,
//! duplicates within the batch, a set volume another record holds). What
//! fails a check is rejected here, before anything is written.

use super::{ImportRecord, Position, Rejection};
use crate::db::{Db, Value};
use crate::search::index::placeholders;
use crate::Result;
use std::collections::{HashMap, HashSet};

/// Most values in one `IN` list.
pub(super) const MAX_LIST: usize = 500;

/// The record columns an import writes, in parameter order.
pub(super) const RECORD_COLUMNS: &str =
    "source_id, isbn13, title, responsibility, publisher, year, language, \
     subjects, call_number, set_key, volume";
const SQL_RECORDS_BY_SOURCE: &str = "SELECT id, source_id, isbn13, title, responsibility, publisher, \
     year, language, subjects, call_number, set_key, volume FROM records WHERE source_id IN ({list})";
const SQL_RECORDS_BY_ISBN: &str =
    "SELECT id, source_id, isbn13, title, responsibility, publisher, \
     year, language, subjects, call_number, set_key, volume FROM records \
     WHERE source_id IS NULL AND isbn13 IN ({list}) ORDER BY id";
const SQL_SET_VOLUMES: &str = "SELECT id, set_key, volume FROM records WHERE set_key IN ({list})";
const SQL_KNOWN_POINTS: &str = "SELECT code FROM service_points WHERE code IN ({list})";

/// A record that passed every check, with what matched it.
pub(super) struct Accepted {
    pub(super) record: ImportRecord,
    /// Its values in the order of [`RECORD_COLUMNS`].
    pub(super) values: Vec<Value>,
    /// The stored twin's id and values, when there is one.
    pub(super) existing: Option<(i64, Vec<Value>)>,
}

/// The match key: control number, else ISBN.
pub(super) fn key_of(record: &ImportRecord) -> String {
    match (&record.source_id, &record.isbn13) {
        (Some(id), _) => format!("id:{id}"),
        (None, Some(isbn)) => format!("isbn:{isbn}"),
        (None, None) => String::new(),
    }
}

/// Refuses what would break a rule of the stored data (duplicates in the
/// batch, unknown branches, a set volume held by another record) and finds
/// each record's stored twin.
pub(super) fn check(
    db: &dyn Db,
    records: Vec<(Position, ImportRecord)>,
    rejections: &mut Vec<Rejection>,
) -> Result<Vec<Accepted>> {
    let branches: HashSet<String> = records
        .iter()
        .flat_map(|(_, r)| r.copies.iter().map(|c| c.branch.clone()))
        .collect();
    let known = column_in(db, SQL_KNOWN_POINTS, branches.into_iter().collect(), "code")?;
    let stored = stored_records(db, records.iter().map(|(_, r)| r).collect())?;
    let set_keys: HashSet<String> = records
        .iter()
        .filter_map(|(_, r)| r.set_key.clone())
        .collect();
    let mut volumes: HashMap<(String, i64), i64> = HashMap::new();
    for chunk in set_keys.into_iter().collect::<Vec<_>>().chunks(MAX_LIST) {
        let rows = db.query(
            &SQL_SET_VOLUMES.replace("{list}", &placeholders(1, chunk.len())),
            &texts(chunk),
        )?;
        for row in rows.iter() {
            volumes.insert(
                (row.text("set_key")?.to_string(), row.i64("volume")?),
                row.i64("id")?,
            );
        }
    }
    let mut accepted = Vec::new();
    let mut seen = Seen::default();
    for (position, record) in records {
        let key = key_of(&record);
        let existing = stored.get(&key).cloned();
        let holder = |pair: &(String, i64)| volumes.get(pair).copied();
        let refusal = seen.refusal(
            &record,
            &key,
            &known,
            holder,
            existing.as_ref().map(|e| e.0),
        );
        if let Some(reason) = refusal {
            rejections.push(Rejection {
                position,
                key: record.key(),
                reason,
            });
            continue;
        }
        seen.add(&record, key, position.record);
        let values = record_values(&record)?;
        accepted.push(Accepted {
            record,
            values,
            existing,
        });
    }
    Ok(accepted)
}

/// What the batch has already given: keys, barcodes and set volumes, each
/// with the record (index in the file) that gave it first.
#[derive(Default)]
struct Seen {
    keys: HashMap<String, u64>,
    barcodes: HashMap<String, u64>,
    set_volumes: HashMap<(String, i64), u64>,
}

impl Seen {
    fn add(&mut self, record: &ImportRecord, key: String, index: u64) {
        self.keys.insert(key, index);
        for copy in &record.copies {
            self.barcodes.insert(copy.barcode.clone(), index);
        }
        if let (Some(set), Some(volume)) = (&record.set_key, record.volume) {
            self.set_volumes.insert((set.clone(), volume), index);
        }
    }

    /// Why `record` cannot be written, if it cannot. `holder` gives the
    /// stored record that has a set volume; `existing` is the record's own
    /// stored twin, which may keep its volume.
    fn refusal(
        &self,
        record: &ImportRecord,
        key: &str,
        known: &HashSet<String>,
        holder: impl Fn(&(String, i64)) -> Option<i64>,
        existing: Option<i64>,
    ) -> Option<String> {
        if let Some(first) = self.keys.get(key) {
            return Some(format!("the same record as record {first} of this file"));
        }
        let mut own = HashSet::new();
        for copy in &record.copies {
            if !known.contains(&copy.branch) {
                return Some(format!(
                    "copy {}: branch {:?} is not a known service point",
                    copy.barcode, copy.branch
                ));
            }
            if let Some(first) = self.barcodes.get(&copy.barcode) {
                return Some(format!(
                    "copy {}: barcode already given to record {first} of this file",
                    copy.barcode
                ));
            }
            if !own.insert(&copy.barcode) {
                return Some(format!(
                    "copy {}: barcode appears twice in the record",
                    copy.barcode
                ));
            }
        }
        if let (Some(set), Some(volume)) = (&record.set_key, record.volume) {
            let pair = (set.clone(), volume);
            if let Some(first) = self.set_volumes.get(&pair) {
                return Some(format!(
                    "volume {volume} of set {set:?} is also record {first} of this file"
                ));
            }
            if let Some(stored) = holder(&pair).filter(|&id| Some(id) != existing) {
                return Some(format!(
                    "volume {volume} of set {set:?} is already record #{stored}"
                ));
            }
        }
        None
    }
}

/// The imported record as the values of [`RECORD_COLUMNS`].
pub(super) fn record_values(r: &ImportRecord) -> Result<Vec<Value>> {
    let subjects = serde_json::to_string(&r.subjects).map_err(anyhow::Error::from)?;
    Ok(vec![
        r.source_id.clone().into(),
        r.isbn13.clone().into(),
        r.title.trim().into(),
        r.responsibility.trim().into(),
        r.publisher.trim().into(),
        r.year.into(),
        r.language.trim().into(),
        subjects.into(),
        r.call_number.clone().into(),
        r.set_key.clone().into(),
        r.volume.into(),
    ])
}

/// The stored twins of `records`, by match key ([`key_of`]), with their
/// values in the order of [`RECORD_COLUMNS`].
pub(super) fn stored_records(
    db: &dyn Db,
    records: Vec<&ImportRecord>,
) -> Result<HashMap<String, (i64, Vec<Value>)>> {
    let sources: Vec<String> = records.iter().filter_map(|r| r.source_id.clone()).collect();
    let isbns: Vec<String> = records
        .iter()
        .filter(|r| r.source_id.is_none())
        .filter_map(|r| r.isbn13.clone())
        .collect();
    let mut stored = HashMap::new();
    for (sql, values, prefix, column) in [
        (SQL_RECORDS_BY_SOURCE, sources, "id:", "source_id"),
        (SQL_RECORDS_BY_ISBN, isbns, "isbn:", "isbn13"),
    ] {
        for chunk in values.chunks(MAX_LIST) {
            let rows = db.query(
                &sql.replace("{list}", &placeholders(1, chunk.len())),
                &texts(chunk),
            )?;
            for row in rows.iter() {
                let key = format!("{prefix}{}", row.text(column)?);
                let values = rows.columns[1..]
                    .iter()
                    .map(|c| row.value(c).cloned())
                    .collect::<Result<Vec<_>>>()?;
                // ISBN matches come oldest first: the oldest wins.
                stored.entry(key).or_insert((row.i64("id")?, values));
            }
        }
    }
    Ok(stored)
}

pub(super) fn texts(values: &[String]) -> Vec<Value> {
    values.iter().map(|v| Value::Text(v.clone())).collect()
}

fn column_in(db: &dyn Db, sql: &str, values: Vec<String>, column: &str) -> Result<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in values.chunks(MAX_LIST) {
        let rows = db.query(
            &sql.replace("{list}", &placeholders(1, chunk.len())),
            &texts(chunk),
        )?;
        for row in rows.iter() {
            found.insert(row.text(column)?.to_string());
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_matched_by_control_number_before_isbn() {
        let mut record = ImportRecord {
            source_id: Some("CN1".into()),
            isbn13: Some("9787536692930".into()),
            ..ImportRecord::default()
        };
        assert_eq!(key_of(&record), "id:CN1");
        record.source_id = None;
        assert_eq!(key_of(&record), "isbn:9787536692930");
    }
}
