//! Writes a [`DemoLibrary`] through the [`Db`] seam: multi-row INSERTs in
//! batches, since Spin runs one statement per host call and a row per call
//! would take minutes, all in one transaction, so that the presence of the
//! delivery centre means the whole library is there.

use super::tables::{
    insert_sql, point_row, reader_row, record_row, Table, CELLS, COPIES, EVENTS, LOANS, POINTS,
    READERS, RECORDS, STAFF,
};
use super::{generate, DemoLibrary, DemoSize, DELIVERY_CENTRE_CODE};
use crate::db::{in_transaction, Db, Value};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::HashMap;

/// Most parameters in one statement: well under SQLite's 32,766 and
/// PostgreSQL's 65,535, and small enough for quick parsing.
const MAX_PARAMS: usize = 6_000;
/// Most rows in one statement, whatever their width.
const MAX_ROWS: usize = 1_000;

/// Whether the demo is already there.
const SQL_FIND_DELIVERY_CENTRE: &str = "SELECT code FROM service_points WHERE code = $1";

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoReport {
    /// True when the demo was already there and nothing was written.
    pub already_loaded: bool,
    /// Rows written per table.
    pub service_points: u64,
    #[allow(missing_docs)]
    pub locker_cells: u64,
    #[allow(missing_docs)]
    pub staff: u64,
    #[allow(missing_docs)]
    pub records: u64,
    #[allow(missing_docs)]
    pub copies: u64,
    #[allow(missing_docs)]
    pub readers: u64,
    #[allow(missing_docs)]
    pub loans: u64,
    #[allow(missing_docs)]
    pub events: u64,
    /// SQL statements run, BEGIN and COMMIT included.
    pub statements: u64,
    /// Wall time of generating and writing, in milliseconds.
    pub elapsed_ms: i64,
}

/// Loads the demo library of `size` once; a second call writes nothing and
/// answers `already_loaded: true`. `now_ms` anchors every stored time.
pub fn load(db: &dyn Db, size: &DemoSize, now_ms: i64) -> Result<DemoReport> {
    size.validate()?;
    let started = crate::now_ms();
    let found = db.query(SQL_FIND_DELIVERY_CENTRE, &[DELIVERY_CENTRE_CODE.into()])?;
    if !found.is_empty() {
        return Ok(DemoReport {
            already_loaded: true,
            statements: 1,
            ..DemoReport::default()
        });
    }
    let library = generate(size, now_ms)?;
    let mut writer = Writer { db, statements: 3 };
    let mut report = in_transaction(db, |_| writer.write(&library, now_ms))?;
    report.statements = writer.statements;
    report.elapsed_ms = crate::now_ms() - started;
    Ok(report)
}

/// Runs the batches and counts the statements.
pub(super) struct Writer<'a> {
    pub(super) db: &'a dyn Db,
    pub(super) statements: u64,
}

impl Writer<'_> {
    fn write(&mut self, library: &DemoLibrary, now_ms: i64) -> Result<DemoReport> {
        let service_points =
            self.insert(&POINTS, library.points.iter().map(|p| point_row(p, now_ms)))?;
        let locker_cells = self.insert(
            &CELLS,
            library.cells.iter().map(|c| {
                Ok(vec![
                    c.point_code.as_str().into(),
                    i64::from(c.cell_no).into(),
                    c.state.into(),
                    now_ms.into(),
                ])
            }),
        )?;
        // One argon2 hash for all of them: it is slow on purpose.
        let password_hash = crate::staff::credentials::hash_password(super::DEMO_STAFF_PASSWORD)?;
        let staff = self.insert(
            &STAFF,
            library.staff.iter().enumerate().map(|(n, s)| {
                Ok(vec![
                    crate::staff::credentials::numbered(n as u64 + 1).into(),
                    s.name.as_str().into(),
                    s.home_point.as_str().into(),
                    s.role.into(),
                    password_hash.as_str().into(),
                    now_ms.into(),
                ])
            }),
        )?;
        let record_rows = library.records.iter().map(|r| record_row(r, now_ms));
        let record_ids: HashMap<String, i64> = self
            .insert_returning(&RECORDS, "id, isbn13", record_rows)?
            .into_iter()
            .map(|(id, isbn)| (isbn, id))
            .collect();
        let copies = self.insert(
            &COPIES,
            library.copies.iter().map(|c| {
                let record = &library.records[c.record];
                Ok(vec![
                    c.barcode.as_str().into(),
                    id_of(&record_ids, &record.isbn13, "record")?.into(),
                    c.home_point.as_str().into(),
                    c.current_point().into(),
                    record.call_number.as_str().into(),
                    c.status.into(),
                    i64::from(c.in_online_stack).into(),
                    now_ms.into(),
                ])
            }),
        )?;
        let returning = "id, COALESCE(alipay_user_id, wechat_openid, card_number) AS identity";
        let reader_ids: HashMap<String, i64> = self
            .insert_returning(&READERS, returning, library.readers.iter().map(reader_row))?
            .into_iter()
            .map(|(id, identity)| (identity, id))
            .collect();
        let loans = self.insert(
            &LOANS,
            library.loans.iter().map(|l| {
                let identity = library.readers[l.reader].identity().unwrap_or_default();
                Ok(vec![
                    library.copies[l.copy].barcode.as_str().into(),
                    id_of(&reader_ids, identity, "reader")?.into(),
                    l.started_at_ms.into(),
                    l.due_at_ms.into(),
                    l.renewals.into(),
                ])
            }),
        )?;
        let (records, readers) = (record_ids.len() as u64, reader_ids.len() as u64);
        let detail = serde_json::json!({ "records": records, "readers": readers }).to_string();
        let event: Vec<Value> = vec![
            now_ms.into(),
            "system:demo".into(),
            "demo".into(),
            DELIVERY_CENTRE_CODE.into(),
            "demo_loaded".into(),
            detail.into(),
        ];
        let events = self.insert(&EVENTS, std::iter::once(Ok(event)))?;
        // Search keys in the same transaction, so a loaded demo is searchable.
        let mut ids: Vec<i64> = record_ids.values().copied().collect();
        ids.sort_unstable();
        crate::search::index::reindex(self.db, &ids)?;
        Ok(DemoReport {
            already_loaded: false,
            service_points,
            locker_cells,
            staff,
            records,
            copies,
            readers,
            loans,
            events,
            statements: 0,
            elapsed_ms: 0,
        })
    }

    /// Inserts rows in batches; returns how many.
    pub(super) fn insert(
        &mut self,
        table: &Table,
        rows: impl Iterator<Item = Result<Vec<Value>>>,
    ) -> Result<u64> {
        let mut count = 0;
        self.batches(table, rows, None, |_| count += 1)?;
        Ok(count)
    }

    /// Inserts rows in batches and returns, per row, `(id, key)` from a
    /// RETURNING clause of two columns named by `returning`.
    pub(super) fn insert_returning(
        &mut self,
        table: &Table,
        returning: &str,
        rows: impl Iterator<Item = Result<Vec<Value>>>,
    ) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::new();
        let mut failure = None;
        self.batches(table, rows, Some(returning), |row| match row {
            Some(pair) => out.push(pair),
            None => failure = Some(()),
        })?;
        if failure.is_some() {
            return Err(Error::Internal(anyhow::anyhow!(
                "{}: RETURNING gave no key",
                table.name
            )));
        }
        Ok(out)
    }

    fn batches(
        &mut self,
        table: &Table,
        rows: impl Iterator<Item = Result<Vec<Value>>>,
        returning: Option<&str>,
        mut each: impl FnMut(Option<(i64, String)>),
    ) -> Result<()> {
        let per_batch = (MAX_PARAMS / table.columns.len()).min(MAX_ROWS);
        let mut params = Vec::with_capacity(per_batch * table.columns.len());
        let mut in_batch = 0;
        let mut rows = rows.peekable();
        while let Some(row) = rows.next() {
            params.extend(row?);
            in_batch += 1;
            if in_batch == per_batch || rows.peek().is_none() {
                let sql = insert_sql(table, in_batch, returning);
                self.statements += 1;
                if returning.is_some() {
                    for row in self.db.query(&sql, &params)?.iter() {
                        let id = row.i64("id")?;
                        let key = row.value(row_key_column(returning))?;
                        each(match key {
                            Value::Text(key) => Some((id, key.clone())),
                            _ => None,
                        });
                    }
                } else {
                    self.db.execute(&sql, &params)?;
                    (0..in_batch).for_each(|_| each(None));
                }
                params.clear();
                in_batch = 0;
            }
        }
        Ok(())
    }
}

/// The key column of a two-column RETURNING clause: its alias or its name.
fn row_key_column(returning: Option<&str>) -> &str {
    let second = returning
        .and_then(|r| r.split_once(','))
        .map_or("", |(_, s)| s.trim());
    second.rsplit(" AS ").next().unwrap_or(second)
}

fn id_of(ids: &HashMap<String, i64>, key: &str, what: &str) -> Result<i64> {
    ids.get(key)
        .copied()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("demo {what} {key} was not inserted")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_statements_number_their_parameters_row_by_row() {
        let sql = insert_sql(&STAFF, 2, Some("id, name"));
        assert_eq!(
            sql,
            "INSERT INTO staff (staff_no, name, home_point, role, password_hash, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12) RETURNING id, name"
        );
    }

    #[test]
    fn the_key_of_a_returning_clause_is_its_alias() {
        assert_eq!(row_key_column(Some("id, isbn13")), "isbn13");
        assert_eq!(
            row_key_column(Some("id, COALESCE(a, b) AS identity")),
            "identity"
        );
    }

    #[test]
    fn no_batch_exceeds_the_parameter_limit() {
        for table in [
            &POINTS, &CELLS, &STAFF, &RECORDS, &COPIES, &READERS, &LOANS, &EVENTS,
        ] {
            let rows = (MAX_PARAMS / table.columns.len()).min(MAX_ROWS);
            assert!(rows * table.columns.len() <= MAX_PARAMS, "{}", table.name);
            assert!(rows >= 1, "{}", table.name);
        }
    }
}
