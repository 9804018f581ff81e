//! PostgreSQL against the server at 127.0.0.1:5432, each test in a fresh
//! database `cap_test_<unique>` dropped at the end.

use super::super::bindings::spin::postgres::postgres::{
    DbValue, Error, HostConnection, ParameterValue as P, QueryError, RowSet,
};
use super::super::test_support::{capabilities, grants, unique};
use super::super::{Capabilities, RuntimeConfig};
use super::PgConnection;
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

const SERVER: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";
const ALLOWED: &[&str] = &["postgres://127.0.0.1:5432"];

/// A scratch database, dropped with its open connections when this goes
/// out of scope, on success or panic alike.
pub(crate) struct Scratch {
    name: String,
}

impl Scratch {
    pub(crate) async fn new() -> Self {
        let name = unique("cap_test");
        admin(&format!("CREATE DATABASE {name}")).await;
        Self { name }
    }

    pub(crate) fn address(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
            self.name
        )
    }
}

async fn admin(statement: &str) {
    let (client, connection) = tokio_postgres::connect(SERVER, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432 (user postgres, database test)");
    tokio::spawn(connection);
    client.batch_execute(statement).await.expect(statement);
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A runtime of its own: this may run while a test's runtime is
        // unwinding from a panic.
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(admin(&statement));
            }
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop the scratch database {}", self.name);
        }
    }
}

pub(crate) async fn caps() -> (Capabilities, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &[], ALLOWED),
    )
    .await;
    (caps, dir)
}

pub(crate) async fn open(
    caps: &mut Capabilities,
    address: &str,
) -> Result<Resource<PgConnection>, Error> {
    caps.open(address.to_string()).await.expect("no trap")
}

pub(crate) async fn open_ok(caps: &mut Capabilities, address: &str) -> Resource<PgConnection> {
    match open(caps, address).await {
        Ok(connection) => connection,
        Err(err) => panic!("open {address}: {err:?}"),
    }
}

pub(crate) fn b(c: &Resource<PgConnection>) -> Resource<PgConnection> {
    Resource::new_borrow(c.rep())
}

pub(crate) async fn exec(
    caps: &mut Capabilities,
    c: &Resource<PgConnection>,
    sql: &str,
    params: Vec<P>,
) -> Result<u64, Error> {
    caps.execute(b(c), sql.into(), params)
        .await
        .expect("no trap")
}

pub(crate) async fn query(
    caps: &mut Capabilities,
    c: &Resource<PgConnection>,
    sql: &str,
    params: Vec<P>,
) -> Result<RowSet, Error> {
    caps.query(b(c), sql.into(), params).await.expect("no trap")
}

pub(crate) async fn count(caps: &mut Capabilities, c: &Resource<PgConnection>) -> i64 {
    match query(caps, c, "SELECT count(*) FROM t", vec![]).await {
        Ok(rows) => match rows.rows.first().and_then(|r| r.first()) {
            Some(DbValue::Int64(n)) => *n,
            other => panic!("count: {other:?}"),
        },
        Err(err) => panic!("count: {err:?}"),
    }
}

#[tokio::test]
async fn server_errors_carry_sqlstate() {
    let db = Scratch::new().await;
    let (mut caps, _dir) = caps().await;
    let c = open_ok(&mut caps, &db.address()).await;
    exec(&mut caps, &c, "CREATE TABLE u (k text PRIMARY KEY)", vec![])
        .await
        .expect("create");
    exec(
        &mut caps,
        &c,
        "INSERT INTO u VALUES ($1)",
        vec![P::Str("a".into())],
    )
    .await
    .expect("insert");
    match exec(
        &mut caps,
        &c,
        "INSERT INTO u VALUES ($1)",
        vec![P::Str("a".into())],
    )
    .await
    {
        Err(Error::QueryFailed(QueryError::DbError(e))) => {
            assert_eq!(e.code, "23505");
            assert_eq!(e.severity, "ERROR");
            assert!(
                e.extras
                    .iter()
                    .any(|(k, v)| k == "constraint" && v == "u_pkey"),
                "{:?}",
                e.extras
            );
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    let syntax = query(&mut caps, &c, "SELEKT 1", vec![]).await;
    assert!(
        matches!(&syntax, Err(Error::QueryFailed(QueryError::DbError(e))) if e.code == "42601"),
        "{syntax:?}"
    );
    drop(caps);
    drop(db);
}

#[tokio::test]
async fn transactions_span_calls_and_roll_back_on_drop() {
    let db = Scratch::new().await;
    let (mut caps, _dir) = caps().await;
    let setup = open_ok(&mut caps, &db.address()).await;
    exec(&mut caps, &setup, "CREATE TABLE t (i int4)", vec![])
        .await
        .expect("create");

    let tx = open_ok(&mut caps, &db.address()).await;
    exec(&mut caps, &tx, "BEGIN", vec![]).await.expect("begin");
    exec(&mut caps, &tx, "INSERT INTO t VALUES (1)", vec![])
        .await
        .expect("insert");
    assert_eq!(count(&mut caps, &tx).await, 1);
    assert_eq!(count(&mut caps, &setup).await, 0);
    exec(&mut caps, &tx, "commit", vec![])
        .await
        .expect("commit");
    assert_eq!(count(&mut caps, &setup).await, 1);

    // Left open, then the resource dropped: rolled back, and the pooled
    // session comes back clean for the next open.
    exec(
        &mut caps,
        &tx,
        "  begin isolation level serializable",
        vec![],
    )
    .await
    .expect("begin");
    exec(&mut caps, &tx, "INSERT INTO t VALUES (2)", vec![])
        .await
        .expect("insert");
    HostConnection::drop(&mut caps, tx).await.expect("drop");
    // Also an instance that ends without dropping (a trap), mid-transaction
    // and after an error aborted it.
    let mut other = capabilities(
        &RuntimeConfig::default(),
        _dir.path(),
        grants(&[], &[], ALLOWED),
    )
    .await;
    let abandoned = open_ok(&mut other, &db.address()).await;
    exec(&mut other, &abandoned, "BEGIN", vec![])
        .await
        .expect("begin");
    exec(&mut other, &abandoned, "INSERT INTO t VALUES (3)", vec![])
        .await
        .expect("insert");
    assert!(exec(&mut other, &abandoned, "SELECT 1/0", vec![])
        .await
        .is_err());
    drop(other);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count(&mut caps, &setup).await, 1);
    for _ in 0..3 {
        let again = open_ok(&mut caps, &db.address()).await;
        // Not inside the abandoned transactions: no rows of theirs, no
        // transaction id, and not aborted (which would fail any query).
        assert_eq!(count(&mut caps, &again).await, 1);
        let rows = query(
            &mut caps,
            &again,
            "SELECT txid_current_if_assigned() IS NULL",
            vec![],
        )
        .await;
        assert!(
            matches!(&rows, Ok(r) if matches!(r.rows[0][0], DbValue::Boolean(true))),
            "{rows:?}"
        );
        HostConnection::drop(&mut caps, again).await.expect("drop");
    }
    drop(caps);
    drop(db);
}

#[tokio::test]
async fn addresses_must_be_allowed() {
    let (mut caps, _dir) = caps().await;
    for (address, shown) in [
        (
            "postgres://postgres@127.0.0.1:5433/test",
            "postgres://127.0.0.1:5433",
        ),
        (
            "postgres://postgres@localhost:5432/test",
            "postgres://localhost:5432",
        ),
        ("host=10.0.0.9 user=postgres", "postgres://10.0.0.9"),
    ] {
        match open(&mut caps, address).await {
            Err(Error::ConnectionFailed(m)) => {
                assert_eq!(m, format!("address {shown} is not permitted"));
            }
            other => panic!("{address}: {other:?}"),
        }
    }
    let garbage = open(&mut caps, "postgres://[::1").await;
    assert!(
        matches!(garbage, Err(Error::ConnectionFailed(_))),
        "{garbage:?}"
    );
    // The default port counts as 5432.
    let ok = open(
        &mut caps,
        "postgres://postgres@127.0.0.1/test?sslmode=disable",
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn unreachable_or_silent_server_fails_promptly() {
    // A server that takes the connection and never answers: only loopback
    // addresses are targets on these machines.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_port = silent.local_addr().expect("port").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let silent_host = format!("postgres://127.0.0.1:{silent_port}");
    let hosts = ["postgres://127.0.0.1:1", silent_host.as_str()];
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &[], &hosts),
    )
    .await;
    for address in [
        "postgres://postgres@127.0.0.1:1/test?sslmode=disable".to_string(),
        format!("postgres://postgres@127.0.0.1:{silent_port}/test?sslmode=disable"),
    ] {
        let started = Instant::now();
        let outcome = open(&mut caps, &address).await;
        assert!(
            matches!(outcome, Err(Error::ConnectionFailed(_))),
            "{address}: {outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{address}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn transaction_keywords() {
    use super::transaction_effect as effect;
    for begins in [
        "BEGIN",
        "  begin;",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "start transaction read only",
        "/* x */ BEGIN",
        "COMMIT AND CHAIN",
        "rollback work and chain",
        "-- c\nBegin",
    ] {
        assert_eq!(effect(begins), Some(true), "{begins:?}");
    }
    for ends in [
        "COMMIT",
        "commit;",
        "ROLLBACK",
        "END",
        "abort",
        "COMMIT AND NO CHAIN",
        "end work",
        "/* x */ -- y\n rollback",
    ] {
        assert_eq!(effect(ends), Some(false), "{ends:?}");
    }
    for neither in [
        "ROLLBACK TO SAVEPOINT a",
        "rollback to a",
        "ROLLBACK TRANSACTION TO SAVEPOINT a",
        "rollback work to a",
        "SAVEPOINT a",
        "COMMIT PREPARED 'x'",
        "SELECT 1",
        "",
        "-- only a comment",
        "BEGINNING",
    ] {
        assert_eq!(effect(neither), None, "{neither:?}");
    }
}

#[tokio::test]
async fn an_empty_result_is_an_error_as_it_is_a_hang_on_spin_4_0_2() {
    let db = Scratch::new().await;
    let (mut caps, _dir) = caps().await;
    let c = open_ok(&mut caps, &db.address()).await;
    match query(&mut caps, &c, "SELECT 1 WHERE false", vec![]).await {
        Err(Error::QueryFailed(QueryError::Text(text))) => assert_eq!(text, super::EMPTY_RESULT),
        other => panic!("{other:?}"),
    }
    // Statements with rows, and `execute` of any kind, are unaffected.
    assert!(query(&mut caps, &c, "SELECT 1", vec![]).await.is_ok());
    assert_eq!(
        exec(&mut caps, &c, "SELECT 1 WHERE false", vec![])
            .await
            .ok(),
        Some(0)
    );
}

#[tokio::test]
async fn without_sslmode_disable_the_server_certificate_must_verify() {
    let db = Scratch::new().await;
    let (mut caps, _dir) = caps().await;
    let ssl_on = {
        let c = open_ok(&mut caps, &db.address()).await;
        matches!(
            query(&mut caps, &c, "SHOW ssl", vec![]).await,
            Ok(rows) if matches!(&rows.rows[0][0], DbValue::Str(on) if on == "on")
        )
    };
    let tls_address = db.address().replace("?sslmode=disable", "");
    let outcome = open(&mut caps, &tls_address).await;
    if ssl_on {
        // The local server's certificate is Debian's self-signed one.
        match outcome {
            Err(Error::ConnectionFailed(text)) => {
                assert!(
                    text.contains("certificate") || text.contains("tls"),
                    "{text}"
                )
            }
            other => panic!("{other:?}"),
        }
    } else {
        // No TLS offered: `prefer`, the default, falls back as Spin's does.
        assert!(outcome.is_ok(), "{outcome:?}");
    }
}
