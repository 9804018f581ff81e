//! Building the search keys of records into `record_terms`, the inverted
//! index every search reads. Called after records are written (the demo
//! loader, the catalogue import); a search never computes a record's keys.

use super::keys::record_keys;
use crate::db::{Db, Value};
use crate::Result;

/// Records read and re-keyed per round: keeps each `IN` list short.
const RECORDS_PER_ROUND: usize = 500;
/// Key rows per INSERT: 4 parameters each, well under both backends' limits.
const KEYS_PER_INSERT: usize = 1_000;

/// The stored fields keys are made from; `{ids}` is a list of parameters.
const SQL_RECORD_FIELDS: &str =
    "SELECT id, title, responsibility, isbn13 FROM records WHERE id IN ({ids})";
/// Forgets the old keys of records before their new keys are written.
const SQL_FORGET_KEYS: &str = "DELETE FROM record_terms WHERE record_id IN ({ids})";
/// One row of the multi-row key insert; a concurrent reindex of the same
/// record writes the same rows, so a conflict is nothing to report.
const SQL_INSERT_KEYS: &str =
    "INSERT INTO record_terms (term, record_id, field, weight) VALUES {rows} \
     ON CONFLICT (term, record_id, field) DO NOTHING";

/// (Re)builds the search keys of these records from their stored fields;
/// idempotent. Ids that name no record are skipped.
///
/// It runs several statements; callers that need the records and their keys
/// to appear together run it inside their own transaction
/// ([`crate::db::in_transaction`]).
pub fn reindex(db: &dyn Db, record_ids: &[i64]) -> Result<()> {
    build(db, record_ids, true)
}

/// Builds the search keys of records created in the caller's transaction,
/// which have none yet: [`reindex`] without forgetting old keys. On a big
/// import that delete was the costliest statement, planned for a table
/// whose statistics lag behind its growth (docs/benchmarks.md).
pub fn index_new(db: &dyn Db, record_ids: &[i64]) -> Result<()> {
    build(db, record_ids, false)
}

fn build(db: &dyn Db, record_ids: &[i64], forget: bool) -> Result<()> {
    for ids in record_ids.chunks(RECORDS_PER_ROUND) {
        let list = placeholders(1, ids.len());
        let params: Vec<Value> = ids.iter().map(|id| Value::Int(*id)).collect();
        let records = db.query(&SQL_RECORD_FIELDS.replace("{ids}", &list), &params)?;
        if forget {
            db.execute(&SQL_FORGET_KEYS.replace("{ids}", &list), &params)?;
        }
        let mut rows: Vec<Value> = Vec::new();
        for record in records.iter() {
            let id = record.i64("id")?;
            let keys = record_keys(
                record.text("title")?,
                record.text("responsibility")?,
                record.opt_text("isbn13")?,
            );
            for key in keys {
                rows.extend([
                    Value::Text(key.term),
                    Value::Int(id),
                    Value::Text(key.field.as_str().into()),
                    Value::Int(key.weight),
                ]);
                if rows.len() == KEYS_PER_INSERT * 4 {
                    insert_keys(db, &mut rows)?;
                }
            }
        }
        insert_keys(db, &mut rows)?;
    }
    Ok(())
}

fn insert_keys(db: &dyn Db, rows: &mut Vec<Value>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tuples: Vec<String> = (0..rows.len() / 4)
        .map(|row| format!("({})", placeholders(row * 4 + 1, 4)))
        .collect();
    db.execute(&SQL_INSERT_KEYS.replace("{rows}", &tuples.join(", ")), rows)?;
    rows.clear();
    Ok(())
}

/// `$first, $first+1, ...`: `count` numbered parameters.
pub fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }

    #[test]
    fn the_key_insert_names_the_conflict_target() {
        let sql = SQL_INSERT_KEYS.replace("{rows}", &format!("({})", placeholders(1, 4)));
        assert!(sql.starts_with(
            "INSERT INTO record_terms (term, record_id, field, weight) VALUES ($1, $2, $3, $4)"
        ));
    }
}
