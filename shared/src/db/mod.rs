//! The seam over SQL. The domain writes each statement once, in PostgreSQL's
//! numbered-parameter form (`$1`, `$2`), against the [`Db`] trait; two
//! backends implement it: PostgreSQL (the system of record in production)
//! and Spin's built-in SQLite (the embedded default). Where the two dialects
//! differ the statement is written twice and chosen by [`Dialect`].
//!
//! Times are stored as milliseconds since the Unix epoch (`*_at_ms BIGINT`),
//! computed by the caller, so that both backends store and compare them the
//! same way and no statement depends on the database's clock.

pub mod failure;
pub mod marker;
pub mod migrate;
mod value;

pub use value::{Row, Rows, Value};

use crate::Result;

/// Which SQL dialect a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL 13 or later.
    Postgres,
    /// SQLite 3.35 or later (for `RETURNING`).
    Sqlite,
}

impl Dialect {
    /// Picks the statement written for this dialect.
    pub fn pick<'a>(self, postgres: &'a str, sqlite: &'a str) -> &'a str {
        match self {
            Dialect::Postgres => postgres,
            Dialect::Sqlite => sqlite,
        }
    }
}

/// A connection to the system of record.
///
/// Statements use `$1`-style parameters on both backends; the SQLite
/// backend rewrites them to `?1` ([`sqlite_placeholders`]). One call runs
/// one statement.
pub trait Db {
    /// The dialect this connection speaks.
    fn dialect(&self) -> Dialect;
    /// Runs a statement that returns rows.
    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows>;
    /// Runs a statement and returns how many rows it changed.
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64>;
}

/// Runs `work` inside a transaction on `db`, committing when it succeeds
/// and rolling back when it fails.
///
/// Spin gives a component one connection for as long as it holds it, so
/// `BEGIN` and `COMMIT` land on the same session. Keep this for work that
/// is rare and may be long (migrations, bulk loads); invariants under
/// concurrency belong in single atomic statements.
pub fn in_transaction<D: Db + ?Sized, T>(db: &D, work: impl FnOnce(&D) -> Result<T>) -> Result<T> {
    db.execute("BEGIN", &[])?;
    match work(db) {
        Ok(value) => {
            db.execute("COMMIT", &[])?;
            Ok(value)
        }
        Err(error) => {
            // The original error matters more than a failed rollback.
            let _ignored = db.execute("ROLLBACK", &[]);
            Err(error)
        }
    }
}

/// Rewrites PostgreSQL's `$1` parameters as SQLite's `?1`, leaving quoted
/// text alone.
///
/// SQLite would read `$1` as a *named* parameter and number parameters by
/// first appearance, which breaks statements that use `$2` before `$1`.
pub fn sqlite_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_sqlite_numbered_parameters() {
        assert_eq!(
            sqlite_placeholders("SELECT * FROM t WHERE a = $2 AND b = $1"),
            "SELECT * FROM t WHERE a = ?2 AND b = ?1"
        );
    }

    #[test]
    fn dollars_inside_quotes_are_left_alone() {
        assert_eq!(sqlite_placeholders("SELECT '$1', $1"), "SELECT '$1', ?1");
    }
}
