//! The two backends of the [`Db`] seam under Spin: PostgreSQL through
//! `spin:postgres/postgres@4.0.0` when the `database_url` variable names
//! one, Spin's built-in SQLite database `default` otherwise.

use crate::db::{failure, marker, sqlite_placeholders, Db, Dialect, Rows, Value};
use crate::spin::config;
use crate::Result;
use spin_sdk::{pg4, sqlite};

/// Connects to the database this deployment is configured for.
///
/// Spin pools PostgreSQL connections per connection string, so opening one
/// per request is cheap.
pub fn connect() -> Result<Box<dyn Db>> {
    let url = config::optional("database_url")?.unwrap_or_default();
    if url.trim().is_empty() {
        Ok(Box::new(SqliteDb::open("default")?))
    } else {
        Ok(Box::new(PgDb::open(url.trim())?))
    }
}

/// PostgreSQL over Spin's outbound PostgreSQL interface.
pub struct PgDb(pg4::Connection);

impl PgDb {
    /// Opens a connection; the host must allow the address.
    pub fn open(url: &str) -> Result<Self> {
        pg4::Connection::open(url).map(PgDb).map_err(pg_failure)
    }
}

impl Db for PgDb {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    /// Sent with a marker row ([`marker`]): Spin 4.0.0-4.0.2 never answer
    /// a query whose result is empty.
    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        let params: Vec<_> = params.iter().map(pg_param).collect();
        let set = self
            .0
            .query(&marker::wrap(sql), &params)
            .map_err(pg_failure)?;
        Ok(marker::strip(Rows {
            columns: set.columns.into_iter().map(|c| c.name).collect(),
            rows: set
                .rows
                .into_iter()
                .map(|row| row.into_iter().map(pg_value).collect())
                .collect(),
        }))
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let params: Vec<_> = params.iter().map(pg_param).collect();
        self.0.execute(sql, &params).map_err(pg_failure)
    }
}

fn pg_param(value: &Value) -> pg4::ParameterValue {
    match value {
        Value::Null => pg4::ParameterValue::DbNull,
        Value::Int(v) => pg4::ParameterValue::Int64(*v),
        Value::Float(v) => pg4::ParameterValue::Floating64(*v),
        Value::Text(v) => pg4::ParameterValue::Str(v.clone()),
        Value::Bytes(v) => pg4::ParameterValue::Binary(v.clone()),
    }
}

fn pg_value(value: pg4::DbValue) -> Value {
    use pg4::DbValue as V;
    match value {
        V::DbNull => Value::Null,
        V::Boolean(b) => Value::Int(b.into()),
        V::Int8(v) => Value::Int(v.into()),
        V::Int16(v) => Value::Int(v.into()),
        V::Int32(v) => Value::Int(v.into()),
        V::Int64(v) => Value::Int(v),
        V::Floating32(v) => Value::Float(v.into()),
        V::Floating64(v) => Value::Float(v),
        V::Str(v) | V::Decimal(v) | V::Uuid(v) => Value::Text(v),
        V::Jsonb(bytes) => Value::Text(String::from_utf8_lossy(&bytes).into_owned()),
        V::Binary(bytes) => Value::Bytes(bytes),
        // The schema stores times as epoch milliseconds; other types are
        // not selected by our statements, so they surface as an error
        // where a typed getter reads them.
        other => Value::Text(format!("{other:?}")),
    }
}

fn pg_failure(error: pg4::PgError) -> crate::Error {
    use pg4::PgError as E;
    match error {
        E::ConnectionFailed(message) => failure::connection_failed(&message),
        E::QueryFailed(pg4::QueryError::DbError(db)) => {
            failure::from_postgres(&db.code, &db.message)
        }
        E::QueryFailed(pg4::QueryError::Text(message)) => failure::from_postgres("", &message),
        other => {
            let text = format!("{other:?}");
            if failure::is_nul_in_text("", &text) {
                failure::nul_in_text()
            } else {
                crate::Error::Internal(anyhow::anyhow!("postgres: {text}"))
            }
        }
    }
}

/// Spin's built-in SQLite database.
pub struct SqliteDb(sqlite::Connection);

impl SqliteDb {
    /// Opens a database the component is granted in `sqlite_databases`.
    pub fn open(label: &str) -> Result<Self> {
        sqlite::Connection::open(label)
            .map(SqliteDb)
            .map_err(|e| failure::from_sqlite(&e.to_string()))
    }

    fn run(&self, sql: &str, params: &[Value]) -> Result<sqlite::QueryResult> {
        let params: Vec<_> = params.iter().map(sqlite_param).collect();
        self.0
            .execute(&sqlite_placeholders(sql), &params)
            .map_err(|e| failure::from_sqlite(&e.to_string()))
    }
}

impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        let result = self.run(sql, params)?;
        Ok(Rows {
            columns: result.columns,
            rows: result
                .rows
                .into_iter()
                .map(|row| row.values.into_iter().map(sqlite_value).collect())
                .collect(),
        })
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, params)?;
        // The Spin interface returns no count; changes() is per connection
        // and this connection is ours alone for the request.
        let rows = self.query("SELECT changes() AS n", &[])?;
        Ok(rows
            .first()
            .map(|r| r.i64("n"))
            .transpose()?
            .unwrap_or(0)
            .max(0) as u64)
    }
}

fn sqlite_param(value: &Value) -> sqlite::Value {
    match value {
        Value::Null => sqlite::Value::Null,
        Value::Int(v) => sqlite::Value::Integer(*v),
        Value::Float(v) => sqlite::Value::Real(*v),
        Value::Text(v) => sqlite::Value::Text(v.clone()),
        Value::Bytes(v) => sqlite::Value::Blob(v.clone()),
    }
}

fn sqlite_value(value: sqlite::Value) -> Value {
    match value {
        sqlite::Value::Null => Value::Null,
        sqlite::Value::Integer(v) => Value::Int(v),
        sqlite::Value::Real(v) => Value::Float(v),
        sqlite::Value::Text(v) => Value::Text(v),
        sqlite::Value::Blob(v) => Value::Bytes(v),
    }
}
