//! SQLite against real files in temp dirs.

use super::super::bindings::fermyon::spin::sqlite::{Error, HostConnection, QueryResult, Value};
use super::super::test_support::{capabilities, grants};
use super::super::{Capabilities, RuntimeConfig, SqliteDatabaseConfig};
use super::SqliteConnection;
use wasmtime::component::Resource;

async fn open(caps: &mut Capabilities, label: &str) -> Result<Resource<SqliteConnection>, Error> {
    caps.open(label.to_string()).await.expect("no trap")
}

async fn open_ok(caps: &mut Capabilities) -> Resource<SqliteConnection> {
    match open(caps, "default").await {
        Ok(connection) => connection,
        Err(err) => panic!("open failed: {err:?}"),
    }
}

async fn run(
    caps: &mut Capabilities,
    connection: &Resource<SqliteConnection>,
    statement: &str,
    params: Vec<Value>,
) -> Result<QueryResult, Error> {
    caps.execute(
        Resource::new_borrow(connection.rep()),
        statement.into(),
        params,
    )
    .await
    .expect("no trap")
}

async fn ok(
    caps: &mut Capabilities,
    connection: &Resource<SqliteConnection>,
    statement: &str,
    params: Vec<Value>,
) -> QueryResult {
    match run(caps, connection, statement, params).await {
        Ok(result) => result,
        Err(err) => panic!("{statement}: {err:?}"),
    }
}

async fn count(caps: &mut Capabilities, connection: &Resource<SqliteConnection>) -> i64 {
    let result = ok(caps, connection, "SELECT count(*) FROM t", vec![]).await;
    match result.rows.first().and_then(|r| r.values.first()) {
        Some(Value::Integer(n)) => *n,
        other => panic!("count: {other:?}"),
    }
}

#[tokio::test]
async fn values_round_trip_in_the_default_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &["default"], &[]),
    )
    .await;
    let c = open_ok(&mut caps).await;
    ok(
        &mut caps,
        &c,
        "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)",
        vec![],
    )
    .await;
    let inserted = ok(
        &mut caps,
        &c,
        "INSERT INTO t VALUES (?1, ?2, ?3, ?, ?5)",
        vec![
            Value::Integer(-7),
            Value::Real(2.5),
            Value::Text("网借".into()),
            Value::Blob(vec![0, 1, 255]),
            Value::Null,
        ],
    )
    .await;
    assert!(inserted.columns.is_empty() && inserted.rows.is_empty());
    let result = ok(
        &mut caps,
        &c,
        "SELECT i, r, s, b, n AS empty FROM t WHERE i = ?",
        vec![Value::Integer(-7)],
    )
    .await;
    assert_eq!(result.columns, ["i", "r", "s", "b", "empty"]);
    assert_eq!(result.rows.len(), 1);
    let values = &result.rows[0].values;
    assert!(matches!(values[0], Value::Integer(-7)));
    assert!(matches!(values[1], Value::Real(r) if r == 2.5));
    assert!(matches!(&values[2], Value::Text(s) if s == "网借"));
    assert!(matches!(&values[3], Value::Blob(b) if b == &[0, 1, 255]));
    assert!(matches!(values[4], Value::Null));
    // No rows still names the columns (unlike the PostgreSQL interface).
    let empty = ok(&mut caps, &c, "SELECT i FROM t WHERE 0", vec![]).await;
    assert_eq!(empty.columns, ["i"]);
    assert!(dir.path().join("sqlite_db.db").is_file());
}

#[tokio::test]
async fn errors_are_io_not_panics() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &["default"], &[]),
    )
    .await;
    let c = open_ok(&mut caps).await;
    for (statement, params) in [
        ("SELEKT 1", vec![]),
        ("SELECT * FROM missing", vec![]),
        ("SELECT ?1", vec![]),
        ("SELECT ?1", vec![Value::Integer(1), Value::Integer(2)]),
        ("", vec![]),
    ] {
        let outcome = run(&mut caps, &c, statement, params).await;
        assert!(
            matches!(outcome, Err(Error::Io(_))),
            "{statement:?}: {outcome:?}"
        );
    }
    ok(&mut caps, &c, "CREATE TABLE u (k TEXT PRIMARY KEY)", vec![]).await;
    ok(&mut caps, &c, "INSERT INTO u VALUES ('a')", vec![]).await;
    let duplicate = run(&mut caps, &c, "INSERT INTO u VALUES ('a')", vec![]).await;
    assert!(
        matches!(&duplicate, Err(Error::Io(m)) if m.contains("UNIQUE")),
        "{duplicate:?}"
    );
}

#[tokio::test]
async fn only_the_first_statement_runs_as_in_spin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &["default"], &[]),
    )
    .await;
    let c = open_ok(&mut caps).await;
    ok(
        &mut caps,
        &c,
        "CREATE TABLE t (i INTEGER); INSERT INTO t VALUES (1)",
        vec![],
    )
    .await;
    assert_eq!(count(&mut caps, &c).await, 0);
}

#[tokio::test]
async fn transactions_span_calls_and_roll_back_on_drop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &["default"], &[]),
    )
    .await;
    let setup = open_ok(&mut caps).await;
    ok(&mut caps, &setup, "CREATE TABLE t (i INTEGER)", vec![]).await;

    let tx = open_ok(&mut caps).await;
    ok(&mut caps, &tx, "BEGIN", vec![]).await;
    ok(&mut caps, &tx, "INSERT INTO t VALUES (1)", vec![]).await;
    assert_eq!(count(&mut caps, &tx).await, 1);
    // Another connection does not see uncommitted work.
    assert_eq!(count(&mut caps, &setup).await, 0);
    ok(&mut caps, &tx, "COMMIT", vec![]).await;
    assert_eq!(count(&mut caps, &setup).await, 1);

    ok(&mut caps, &tx, "BEGIN", vec![]).await;
    ok(&mut caps, &tx, "INSERT INTO t VALUES (2)", vec![]).await;
    HostConnection::drop(&mut caps, tx).await.expect("drop");
    assert_eq!(count(&mut caps, &setup).await, 1);
    // The write lock went with the dropped connection.
    ok(&mut caps, &setup, "INSERT INTO t VALUES (3)", vec![]).await;

    // An instance that ends without dropping its resources (a trap) loses
    // its open transaction too.
    let mut other = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&[], &["default"], &[]),
    )
    .await;
    let abandoned = open_ok(&mut other).await;
    ok(&mut other, &abandoned, "BEGIN", vec![]).await;
    ok(&mut other, &abandoned, "INSERT INTO t VALUES (4)", vec![]).await;
    drop(other);
    assert_eq!(count(&mut caps, &setup).await, 2);
}

#[tokio::test]
async fn grants_labels_and_attach() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = RuntimeConfig::default();
    config.sqlite_databases.insert(
        "mem".into(),
        SqliteDatabaseConfig::Spin {
            path: None,
            allow_attach_file: false,
        },
    );
    let mut caps = capabilities(&config, dir.path(), grants(&[], &["mem", "ghost"], &[])).await;
    assert!(matches!(
        open(&mut caps, "default").await,
        Err(Error::AccessDenied)
    ));
    assert!(matches!(
        open(&mut caps, "ghost").await,
        Err(Error::NoSuchDatabase)
    ));
    let c = match open(&mut caps, "mem").await {
        Ok(c) => c,
        Err(err) => panic!("open mem: {err:?}"),
    };
    let other_file = dir.path().join("other.db");
    let attach = format!("ATTACH DATABASE '{}' AS other", other_file.display());
    let refused = run(&mut caps, &c, &attach, vec![]).await;
    assert!(matches!(refused, Err(Error::Io(_))), "{refused:?}");
    ok(
        &mut caps,
        &c,
        "ATTACH DATABASE ':memory:' AS scratch",
        vec![],
    )
    .await;
    assert!(!dir.path().join("sqlite_db.db").exists());
}
