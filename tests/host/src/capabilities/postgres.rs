//! `spin:postgres/postgres@4.0.0`: a deadpool pool per connection string
//! (as Spin keeps), each `connection` resource holding one pooled client
//! for its whole life so that a guest's `BEGIN` ... `COMMIT` runs on one
//! session.
//!
//! TLS as Spin 4 speaks it: unless the connection string says
//! `sslmode=disable`, the connection is TLS (native-tls, the system's root
//! certificates, or `SSL_CERT_FILE`), and a certificate that does not verify
//! fails the connection, even with `sslmode=prefer` or `require`.
//!
//! A query whose result is empty is an error here: Spin 4.0.0-4.0.2 never
//! answer it (spinframework/spin issue 3671), so an app that sends one would
//! hang on released Spin. The app's PostgreSQL adapter sends every query
//! with a marker row (`wangjie_shared::db::marker`); this makes a query that
//! bypasses it fail in the tests instead of hanging in production.
//!
//! Stricter than Spin on purpose: when a resource goes away (dropped, or
//! the instance ended or trapped) after the guest began a transaction and
//! did not end it, the client is rolled back before it returns to the
//! pool. Spin hands it back as it is, so the next request could run inside
//! someone else's open (or aborted) transaction; locally that would hide
//! the bug this host should expose: the partial work is discarded here.

use super::bindings::spin::postgres::postgres::{
    DbError, Error, Host, HostConnection, ParameterValue, QueryError, RowSet,
};
use super::postgres_types;
use super::Capabilities;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use postgres_native_tls::MakeTlsConnector;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use wasmtime::component::Resource;

/// Spin's per-address pool size.
const POOL_SIZE: usize = 64;
/// Connecting, or waiting for a free pooled client, fails after this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// App-wide pools by connection string.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<String, Pool>>,
}

impl Pools {
    fn get_or_create(
        &self,
        address: &str,
        mut config: tokio_postgres::Config,
    ) -> anyhow::Result<Pool> {
        // The map holds only clones of pools, so a poisoned lock is harmless.
        let mut pools = self
            .pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Clean,
        };
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            let connector = native_tls::TlsConnector::builder().build()?;
            Manager::from_config(config, MakeTlsConnector::new(connector), manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(CONNECT_TIMEOUT))
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()?;
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }
}

/// The guest's `connection` resource: one pooled client.
pub struct PgConnection {
    client: Option<Object>,
    /// Set by `BEGIN`/`START TRANSACTION`, cleared by `COMMIT`/`ROLLBACK`/
    /// `END`/`ABORT`: each call is one statement (extended protocol), so
    /// its first keyword tells.
    in_transaction: bool,
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if !self.in_transaction {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            // The client goes back to the pool only once rolled back.
            Ok(runtime) => {
                runtime.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        // Keep a client in an unknown state out of the pool.
                        drop(Object::take(client));
                    }
                });
            }
            Err(_) => drop(Object::take(client)),
        }
    }
}

fn connection_failed(message: impl Into<String>) -> Error {
    Error::ConnectionFailed(message.into())
}

/// Spin's address check: every TCP host of the connection string, as
/// `postgres://host[:port]`, must be in `allowed_outbound_hosts`. The
/// error is the text of `connection-failed`.
fn check_address(caps: &Capabilities, config: &tokio_postgres::Config) -> Result<(), String> {
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            tokio_postgres::config::Host::Tcp(host) => {
                let port = ports.get(i).or(if ports.len() == 1 {
                    ports.first()
                } else {
                    None
                });
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                let address = format!("postgres://{host}{port}");
                let allowed = url::Url::parse(&address)
                    .map(|url| caps.grants.allowed_hosts.allows(&url))
                    .unwrap_or(false);
                if !allowed {
                    return Err(format!("address {address} is not permitted"));
                }
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => {
                return Err("Unix sockets are not supported on WebAssembly".into());
            }
        }
    }
    Ok(())
}

fn query_failed(err: tokio_postgres::Error) -> Error {
    let as_text = format!("{err:?}");
    Error::QueryFailed(match err.as_db_error() {
        None => QueryError::Text(as_text),
        Some(db) => {
            let mut extras = Vec::new();
            let mut extra = |name: &str, value: Option<String>| {
                if let Some(value) = value {
                    extras.push((name.to_owned(), value));
                }
            };
            extra("column", db.column().map(str::to_owned));
            extra("constraint", db.constraint().map(str::to_owned));
            extra("routine", db.routine().map(str::to_owned));
            extra("hint", db.hint().map(str::to_owned));
            extra("table", db.table().map(str::to_owned));
            extra("datatype", db.datatype().map(str::to_owned));
            extra("schema", db.schema().map(str::to_owned));
            extra("file", db.file().map(str::to_owned));
            extra("line", db.line().map(|l| l.to_string()));
            extra("where_", db.where_().map(str::to_owned));
            QueryError::DbError(DbError {
                as_text,
                severity: db.severity().to_owned(),
                code: db.code().code().to_owned(),
                message: db.message().to_owned(),
                detail: db.detail().map(str::to_owned),
                extras,
            })
        }
    })
}

/// What a query with an empty result answers (see the module's text).
pub const EMPTY_RESULT: &str = "the query returned no rows, which Spin 4.0.0-4.0.2 never answer \
     (spinframework/spin#3671): send it with a marker row (wangjie_shared::db::marker)";

type Params = Vec<Box<dyn ToSql + Send + Sync>>;

fn parameters(params: &[ParameterValue]) -> anyhow::Result<Params> {
    params.iter().map(postgres_types::parameter).collect()
}

fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// How a statement moves the transaction state, by its first keywords
/// (after any leading comments): `Some(true)` opens a transaction block,
/// `Some(false)` ends one. A wrong `true` costs one needless `ROLLBACK`; a
/// wrong `false` would leak a transaction, so anything unsure is `None`.
fn transaction_effect(statement: &str) -> Option<bool> {
    let mut rest = statement.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map_or("", |(_, tail)| tail)
                .trim_start();
        } else {
            break;
        }
    }
    let mut words: Vec<String> = rest
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(5)
        .map(str::to_ascii_uppercase)
        .collect();
    // `COMMIT WORK`, `ROLLBACK TRANSACTION TO ...`: the noise word changes
    // nothing.
    if words.len() > 1 && matches!(words[1].as_str(), "WORK" | "TRANSACTION") && words[0] != "START"
    {
        words.remove(1);
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["BEGIN", ..] | ["START", "TRANSACTION", ..] => Some(true),
        // `ROLLBACK TO [SAVEPOINT]` stays inside the transaction; the
        // two-phase `COMMIT/ROLLBACK PREPARED` runs outside one.
        ["ROLLBACK" | "COMMIT", "TO" | "PREPARED", ..] => None,
        // `... AND CHAIN` opens the next transaction at once.
        ["COMMIT" | "ROLLBACK" | "END" | "ABORT", "AND", "CHAIN", ..] => Some(true),
        ["COMMIT" | "ROLLBACK" | "END" | "ABORT", ..] => Some(false),
        _ => None,
    }
}

impl Capabilities {
    fn pg_client(
        &mut self,
        connection: &Resource<PgConnection>,
    ) -> wasmtime::Result<&mut PgConnection> {
        Ok(self.table.get_mut(connection)?)
    }
}

impl PgConnection {
    /// Records the statement's effect on the session's transaction state.
    fn track(&mut self, statement: &str, succeeded: bool) {
        match transaction_effect(statement) {
            Some(true) if succeeded => self.in_transaction = true,
            // A failed COMMIT still ends the transaction (PostgreSQL rolls
            // it back), so the flag clears either way.
            Some(false) => self.in_transaction = false,
            _ => {}
        }
    }
}

impl Host for Capabilities {}

impl HostConnection for Capabilities {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        let config = match address.parse::<tokio_postgres::Config>() {
            Ok(config) => config,
            Err(err) => return Ok(Err(connection_failed(err.to_string()))),
        };
        if let Err(message) = check_address(self, &config) {
            return Ok(Err(connection_failed(message)));
        }
        let pool = match self.app.postgres.get_or_create(&address, config) {
            Ok(pool) => pool,
            Err(err) => return Ok(Err(connection_failed(format!("{err:#}")))),
        };
        let client = match pool.get().await {
            Ok(client) => client,
            Err(err) => return Ok(Err(connection_failed(format!("{err:?}")))),
        };
        let connection = PgConnection {
            client: Some(client),
            in_transaction: false,
        };
        Ok(Ok(self.table.push(connection)?))
    }

    async fn query(
        &mut self,
        connection: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let params = match parameters(&params) {
            Ok(params) => params,
            Err(err) => return Ok(Err(Error::BadParameter(format!("{err:?}")))),
        };
        let connection = self.pg_client(&connection)?;
        let Some(client) = connection.client.as_ref() else {
            return Ok(Err(connection_failed("no connection found")));
        };
        let outcome = client.query(statement.as_str(), &refs(&params)).await;
        connection.track(&statement, outcome.is_ok());
        let rows = match outcome {
            Ok(rows) => rows,
            Err(err) => return Ok(Err(query_failed(err))),
        };
        if rows.is_empty() {
            return Ok(Err(Error::QueryFailed(QueryError::Text(
                EMPTY_RESULT.into(),
            ))));
        }
        let columns = postgres_types::columns(&rows);
        match rows.iter().map(postgres_types::row).collect() {
            Ok(rows) => Ok(Ok(RowSet { columns, rows })),
            Err(err) => Ok(Err(Error::QueryFailed(QueryError::Text(format!(
                "{err:?}"
            ))))),
        }
    }

    async fn execute(
        &mut self,
        connection: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let params = match parameters(&params) {
            Ok(params) => params,
            Err(err) => return Ok(Err(Error::ValueConversionFailed(format!("{err:?}")))),
        };
        let connection = self.pg_client(&connection)?;
        let Some(client) = connection.client.as_ref() else {
            return Ok(Err(connection_failed("no connection found")));
        };
        let outcome = client.execute(statement.as_str(), &refs(&params)).await;
        connection.track(&statement, outcome.is_ok());
        Ok(outcome.map_err(query_failed))
    }

    async fn drop(&mut self, connection: Resource<PgConnection>) -> wasmtime::Result<()> {
        // PgConnection's Drop rolls back an open transaction.
        self.table.delete(connection)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "postgres_tests.rs"]
pub(crate) mod tests;
