//! Building the search keys of records into `search_postings`, the
//! inverted index every search reads. Called after records are written (the
//! demo loader, the catalogue import, `POST /admin/catalogue/reindex`); a
//! search never computes a record's keys.

use super::keys::record_postings;
use crate::db::{Db, Dialect, Value};
use crate::Result;

/// Records read and re-keyed per round: keeps each `IN` list short.
const RECORDS_PER_ROUND: usize = 500;
/// Posting rows per INSERT: 4 parameters each, well under both backends'
/// limits.
const POSTINGS_PER_INSERT: usize = 1_000;

/// The stored fields keys are made from; `{ids}` is a list of parameters.
const SQL_RECORD_FIELDS: &str =
    "SELECT id, title, responsibility, isbn13 FROM records WHERE id IN ({ids})";
/// Forgets the old keys of records before their new keys are written.
const SQL_FORGET_KEYS: &str = "DELETE FROM search_postings WHERE record_id IN ({ids})";
/// The multi-row posting insert; a concurrent reindex of the same record
/// writes the same rows, so a conflict is nothing to report.
const SQL_INSERT_POSTINGS: &str =
    "INSERT INTO search_postings (term, record_id, score, fields) VALUES {rows} \
     ON CONFLICT (record_id, term) DO NOTHING";
/// Turns JIT compilation off for the rest of the transaction (PostgreSQL).
const SQL_NO_JIT: &str = "SET LOCAL jit = off";
/// The next records after a cursor, for [`reindex_after`].
const SQL_NEXT_RECORDS: &str = "SELECT id FROM records WHERE id > $1 ORDER BY id LIMIT $2";

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
    if forget && db.dialect() == Dialect::Postgres {
        // A posting table that grew since it was last analyzed (after
        // migration 0014, or during a big import) makes PostgreSQL expect
        // hundreds of thousands of rows for the delete below and compile it
        // with JIT: half a second per statement, the whole cost of a
        // reindex step (docs/benchmarks.md). For the caller's transaction
        // only; outside one it does nothing.
        db.execute(SQL_NO_JIT, &[])?;
    }
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
            let postings = record_postings(
                record.text("title")?,
                record.text("responsibility")?,
                record.opt_text("isbn13")?,
            );
            for posting in postings {
                rows.extend([
                    Value::Text(posting.term),
                    Value::Int(id),
                    Value::Int(posting.score),
                    Value::Int(posting.fields),
                ]);
                if rows.len() == POSTINGS_PER_INSERT * 4 {
                    insert_postings(db, &mut rows)?;
                }
            }
        }
        insert_postings(db, &mut rows)?;
    }
    Ok(())
}

/// What one step of [`reindex_after`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reindexed {
    /// Records re-keyed.
    pub count: usize,
    /// The last of them (`None` when none was left after the cursor).
    pub last: Option<i64>,
    /// Where the next step starts: `None` once this step found fewer
    /// records than it could take, so the walk is done.
    pub next_after: Option<i64>,
}

/// Rebuilds the keys of up to `limit` records after the id `after`, in id
/// order, in one transaction: one step of rebuilding a whole catalogue's
/// index after its keys changed, short enough for one request.
pub fn reindex_after(db: &dyn Db, after: i64, limit: i64) -> Result<Reindexed> {
    let ids: Vec<i64> = db
        .query(SQL_NEXT_RECORDS, &[Value::Int(after), Value::Int(limit)])?
        .iter()
        .map(|row| row.i64("id"))
        .collect::<Result<_>>()?;
    if !ids.is_empty() {
        crate::db::in_transaction(db, |db| reindex(db, &ids))?;
    }
    let last = ids.last().copied();
    Ok(Reindexed {
        count: ids.len(),
        last,
        next_after: last.filter(|_| ids.len() as i64 == limit),
    })
}

fn insert_postings(db: &dyn Db, rows: &mut Vec<Value>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tuples: Vec<String> = (0..rows.len() / 4)
        .map(|row| format!("({})", placeholders(row * 4 + 1, 4)))
        .collect();
    db.execute(
        &SQL_INSERT_POSTINGS.replace("{rows}", &tuples.join(", ")),
        rows,
    )?;
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
    fn the_posting_insert_names_the_conflict_target() {
        let sql = SQL_INSERT_POSTINGS.replace("{rows}", &format!("({})", placeholders(1, 4)));
        assert!(sql.starts_with(
            "INSERT INTO search_postings (term, record_id, score, fields) VALUES ($1, $2, $3, $4)"
        ));
        assert!(sql.ends_with("ON CONFLICT (record_id, term) DO NOTHING"));
    }
}
