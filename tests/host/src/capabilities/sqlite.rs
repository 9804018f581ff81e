//! `fermyon:spin/sqlite@2.0.0`: every `open` gets its own rusqlite
//! connection, as in Spin 4, so a guest's `BEGIN` ... `COMMIT` spans its
//! calls on that connection and nothing else; dropping the resource closes
//! the connection, and SQLite rolls back whatever it left open.

use super::bindings::fermyon::spin::sqlite::{
    Error, Host, HostConnection, QueryResult, RowResult, Value,
};
use super::Capabilities;
use anyhow::Context;
use rusqlite::types::{Value as SqlValue, ValueRef};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use wasmtime::component::Resource;

/// Spin's limit on connections open at once in one instance.
const MAX_CONNECTIONS: usize = 256;

/// One configured database (a label in the runtime config, or `default`).
pub struct SqliteDatabase {
    path: Option<PathBuf>,
    allow_attach_file: bool,
    wal_set: AtomicBool,
}

impl SqliteDatabase {
    /// `None`: a fresh in-memory database per connection, as Spin gives
    /// for `type = "spin"` without a `path`.
    pub fn new(path: Option<PathBuf>, allow_attach_file: bool) -> Self {
        Self {
            path,
            allow_attach_file,
            wal_set: AtomicBool::new(false),
        }
    }

    fn connect(&self) -> anyhow::Result<rusqlite::Connection> {
        let connection = match &self.path {
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                rusqlite::Connection::open(path)
                    .with_context(|| format!("opening {}", path.display()))?
            }
            None => rusqlite::Connection::open_in_memory()?,
        };
        // Concurrent requests each hold a connection: wait for a writer's
        // lock instead of failing at once with SQLITE_BUSY.
        connection.busy_timeout(Duration::from_secs(5))?;
        if self.path.is_some() && !self.wal_set.load(Ordering::Relaxed) {
            // WAL lets readers and one writer proceed together; the mode
            // is stored in the file, so once per process is enough.
            connection.pragma_update(None, "journal_mode", "WAL")?;
            self.wal_set.store(true, Ordering::Relaxed);
        }
        if !self.allow_attach_file {
            // Spin refuses ATTACH of another file unless allow_attach_file.
            connection.authorizer(Some(|ctx: rusqlite::hooks::AuthContext<'_>| {
                use rusqlite::hooks::{AuthAction, Authorization};
                match ctx.action {
                    AuthAction::Attach { filename } if !matches!(filename, "" | ":memory:") => {
                        Authorization::Deny
                    }
                    _ => Authorization::Allow,
                }
            }));
        }
        Ok(connection)
    }
}

/// The guest's `connection` resource.
pub struct SqliteConnection {
    connection: Arc<Mutex<rusqlite::Connection>>,
}

fn io(err: impl std::fmt::Display) -> Error {
    Error::Io(err.to_string())
}

/// Runs one statement the way Spin does: `prepare` compiles only the first
/// statement of the text and ignores the rest.
fn execute(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
) -> Result<QueryResult, Error> {
    let mut prepared = connection.prepare_cached(statement).map_err(io)?;
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let parameters = parameters.into_iter().map(|value| match value {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(r) => SqlValue::Real(r),
        Value::Text(t) => SqlValue::Text(t),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    });
    let mut rows = prepared
        .query(rusqlite::params_from_iter(parameters))
        .map_err(io)?;
    let mut result = Vec::new();
    while let Some(row) = rows.next().map_err(io)? {
        let mut values = Vec::with_capacity(columns.len());
        for index in 0..columns.len() {
            let value = match row.get_ref(index).map_err(io)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(r) => Value::Real(r),
                ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(io)?),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            };
            values.push(value);
        }
        result.push(RowResult { values });
    }
    Ok(QueryResult {
        columns,
        rows: result,
    })
}

impl Host for Capabilities {}

impl HostConnection for Capabilities {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<SqliteConnection>, Error>> {
        if !self.grants.sqlite_databases.contains(&database) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(db) = self.app.sqlite.get(&database).cloned() else {
            return Ok(Err(Error::NoSuchDatabase));
        };
        if self.sqlite_open >= MAX_CONNECTIONS {
            return Ok(Err(Error::Io("too many connections opened".into())));
        }
        let connection = match tokio::task::spawn_blocking(move || db.connect()).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(err)) => return Ok(Err(Error::Io(format!("{err:#}")))),
            Err(err) => return Ok(Err(io(err))),
        };
        let connection = SqliteConnection {
            connection: Arc::new(Mutex::new(connection)),
        };
        self.sqlite_open += 1;
        Ok(Ok(self.table.push(connection)?))
    }

    async fn execute(
        &mut self,
        connection: Resource<SqliteConnection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let connection = self.table.get(&connection)?.connection.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            // rusqlite leaves a connection consistent even if a caller
            // panicked while holding it.
            let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            execute(&connection, &statement, parameters)
        })
        .await;
        Ok(outcome.unwrap_or_else(|err| Err(io(err))))
    }

    async fn drop(&mut self, connection: Resource<SqliteConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        self.sqlite_open = self.sqlite_open.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
