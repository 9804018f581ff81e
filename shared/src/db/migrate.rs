//! Versioned schema migrations, kept in `shared/migrations/<dialect>/` and
//! compiled into every component that may apply them.
//!
//! Each migration runs in one transaction together with the row that
//! records it in `schema_migrations`, so a failed migration leaves nothing
//! behind and a finished one is never run again. Applied migrations must not
//! change: add a new one instead (`shared/migrations/README.md`).

use super::{in_transaction, Db, Dialect};
use crate::{Error, Result};
use serde::Serialize;

/// One schema change, written once per dialect.
#[derive(Debug)]
pub struct Migration {
    /// Strictly increasing version number.
    pub version: i64,
    /// A short name, as in the file names.
    pub name: &'static str,
    postgres: &'static str,
    sqlite: &'static str,
}

impl Migration {
    /// The SQL for a dialect.
    pub fn sql(&self, dialect: Dialect) -> &'static str {
        dialect.pick(self.postgres, self.sqlite)
    }
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            postgres: include_str!(concat!("../../migrations/postgres/", $name, ".sql")),
            sqlite: include_str!(concat!("../../migrations/sqlite/", $name, ".sql")),
        }
    };
}

/// Every migration, oldest first.
pub static MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_domain"),
    migration!(2, "0002_search"),
    migration!(3, "0003_import"),
    migration!(4, "0004_credit"),
    migration!(5, "0005_orders"),
    migration!(6, "0006_wechat"),
    migration!(7, "0007_lockers"),
    migration!(8, "0008_notices"),
    migration!(9, "0009_jobs"),
    migration!(10, "0010_locker_digest"),
    migration!(11, "0011_copy_rfid"),
    migration!(12, "0012_wechat_unionid"),
    migration!(13, "0013_search_postings"),
    migration!(14, "0014_search_ranked"),
    migration!(15, "0015_staff_console"),
    // 0016..0019 were left free for work on other branches.
    migration!(20, "0020_holds"),
    migration!(21, "0021_compensation"),
    migration!(22, "0022_sesame_orders"),
    migration!(23, "0023_suggestions"),
    migration!(24, "0024_wechat_web"),
    migration!(25, "0025_orders_one_trip"),
    migration!(26, "0026_no_jit"),
];

/// The schema version this code needs.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const SQL_CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)";
const SQL_APPLIED_VERSIONS: &str = "SELECT version FROM schema_migrations ORDER BY version";
const SQL_RECORD_VERSION: &str =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)";
const SQL_CURRENT_VERSION: &str = "SELECT MAX(version) AS version FROM schema_migrations";

/// What a migration run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Versions applied by this run.
    pub applied: Vec<i64>,
    /// The schema version afterwards.
    pub version: i64,
}

/// Applies every migration that the database lacks.
///
/// Safe to call again and again: applied versions are skipped. Two runs at
/// once cannot both apply a version: the second one's ledger insert fails
/// on the primary key and its transaction rolls back.
pub fn apply_pending(db: &dyn Db, now_ms: i64) -> Result<Report> {
    db.execute(SQL_CREATE_LEDGER, &[])?;
    let applied: Vec<i64> = db
        .query(SQL_APPLIED_VERSIONS, &[])?
        .iter()
        .map(|row| row.i64("version"))
        .collect::<Result<_>>()?;
    let mut report = Report::default();
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        in_transaction(db, |db| {
            for statement in split_statements(migration.sql(db.dialect())) {
                db.execute(statement, &[])?;
            }
            db.execute(
                SQL_RECORD_VERSION,
                &[
                    migration.version.into(),
                    migration.name.into(),
                    now_ms.into(),
                ],
            )
        })?;
        report.applied.push(migration.version);
    }
    report.version = current_version(db)?;
    Ok(report)
}

/// The schema version of the database: 0 when nothing was ever applied.
pub fn current_version(db: &dyn Db) -> Result<i64> {
    match db.query(SQL_CURRENT_VERSION, &[]) {
        Ok(rows) => Ok(rows
            .first()
            .map(|r| r.opt_i64("version"))
            .transpose()?
            .flatten()
            .unwrap_or(0)),
        // No ledger table yet is what an unmigrated database looks like.
        Err(Error::SchemaNotMigrated) => Ok(0),
        Err(other) => Err(other),
    }
}

/// Refuses to go on when the database lacks a migration this code knows.
/// Not only the newest: versions are numbered per branch of work (0015..
/// may land after 0020), so a database at the highest version can still
/// miss a lower one, which `apply_pending` would apply.
pub fn ensure_current(db: &dyn Db) -> Result<()> {
    if current_version(db)? < latest_version() || !missing_versions(db)?.is_empty() {
        return Err(Error::SchemaNotMigrated);
    }
    Ok(())
}

/// The versions this code knows that the database has not applied.
pub fn missing_versions(db: &dyn Db) -> Result<Vec<i64>> {
    let applied: Vec<i64> = db
        .query(SQL_APPLIED_VERSIONS, &[])?
        .iter()
        .map(|row| row.i64("version"))
        .collect::<Result<_>>()?;
    Ok(MIGRATIONS
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}

/// Splits a migration file into single statements, since both Spin
/// interfaces run one statement per call.
///
/// A statement ends at a `;` that closes a line, outside a `$$ ... $$`
/// body (PL/pgSQL). Lines that hold only a `--` comment are dropped. This
/// is a rule for our own migration files, not a general SQL splitter.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let mut statements = Vec::new();
    let mut start = 0;
    let mut in_dollar_body = false;
    let mut offset = 0;
    for line in sql.split_inclusive('\n') {
        in_dollar_body ^= line.matches("$$").count() % 2 == 1;
        offset += line.len();
        if !in_dollar_body && line.trim_end().ends_with(';') {
            push_statement(&mut statements, &sql[start..offset]);
            start = offset;
        }
    }
    push_statement(&mut statements, &sql[start..]);
    statements
}

fn push_statement<'a>(statements: &mut Vec<&'a str>, chunk: &'a str) {
    let code_starts = chunk
        .split_inclusive('\n')
        .take_while(|line| line.trim().is_empty() || line.trim_start().starts_with("--"))
        .map(str::len)
        .sum::<usize>();
    let statement = chunk[code_starts..].trim().trim_end_matches(';').trim_end();
    if !statement.is_empty() {
        statements.push(statement);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_ending_semicolons() {
        let sql = "-- readers\nCREATE TABLE a (x INT);\n\nCREATE INDEX a_x ON a (x);\n";
        assert_eq!(
            split_statements(sql),
            vec!["CREATE TABLE a (x INT)", "CREATE INDEX a_x ON a (x)"]
        );
    }

    #[test]
    fn dollar_quoted_bodies_stay_whole() {
        let sql = "CREATE FUNCTION f() RETURNS INT AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT 1;\n";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 2);
        assert!(statements[0].contains("RETURN 1;"));
        assert_eq!(statements[1], "SELECT 1");
    }

    #[test]
    fn versions_are_strictly_increasing() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }

    #[test]
    fn every_migration_has_statements_in_both_dialects() {
        for m in MIGRATIONS {
            assert!(
                !split_statements(m.sql(Dialect::Postgres)).is_empty(),
                "{}",
                m.name
            );
            assert!(
                !split_statements(m.sql(Dialect::Sqlite)).is_empty(),
                "{}",
                m.name
            );
        }
    }
}
