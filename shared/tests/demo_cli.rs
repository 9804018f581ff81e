//! The migrations and the demo loader against real databases, with no new
//! dependencies: a test-only [`Db`] that runs each statement through the
//! `sqlite3` or `psql` command-line client, parameters inlined as literals.
//!
//! Each statement is its own client process, so BEGIN/COMMIT are skipped
//! (they would not span processes); atomicity is not what this tests. Set
//! `WANGJIE_SQL_LOG=path` to also write every statement, BEGIN and COMMIT
//! included, as a script to replay and time by hand. A test whose client or
//! server is missing says so and passes.

use std::io::Write;
use std::process::{Command, Stdio};
use wangjie_shared::db::{failure, migrate, Db, Dialect, Rows, Value};
use wangjie_shared::demo::{self, DemoSize};
use wangjie_shared::point::{self, PointKind};
use wangjie_shared::{Error, Result};

const NOW_MS: i64 = 1_767_225_600_000;

struct CliDb {
    dialect: Dialect,
    /// The SQLite file, or the PostgreSQL database name.
    target: String,
}

impl CliDb {
    fn run(&self, sql: &str, params: &[Value], rows_wanted: bool) -> Result<Rows> {
        let sql = inline(sql, params);
        if let Ok(path) = std::env::var("WANGJIE_SQL_LOG") {
            let mut log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            writeln!(log, "{sql};").unwrap();
        }
        if matches!(sql.as_str(), "BEGIN" | "COMMIT" | "ROLLBACK") {
            return Ok(Rows::default());
        }
        let (mut command, script) = match self.dialect {
            Dialect::Sqlite => {
                let mut command = Command::new("sqlite3");
                command.args(["-bail", "-json", &self.target]);
                (command, format!("PRAGMA foreign_keys = ON;\n{sql};\n"))
            }
            Dialect::Postgres => {
                let mut command = Command::new("psql");
                command.args([
                    "-X",
                    "-q",
                    "-A",
                    "-t",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-v",
                    "VERBOSITY=verbose",
                ]);
                command.args(["-h", "127.0.0.1", "-U", "postgres", &self.target]);
                // json_agg keeps column names and types, which CSV would lose.
                let script = if rows_wanted {
                    format!("WITH q AS ({sql}) SELECT coalesce(json_agg(q), '[]'::json) FROM q;\n")
                } else {
                    format!("{sql};\n")
                };
                (command, script)
            }
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::DatabaseUnavailable(e.into()))?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || stderr.contains("ERROR") || stderr.contains("Error") {
            return Err(match self.dialect {
                Dialect::Sqlite => failure::from_sqlite(&stderr),
                Dialect::Postgres => {
                    let code = stderr
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .trim_end_matches(':');
                    failure::from_postgres(code, &stderr)
                }
            });
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        Ok(rows_from_json(stdout.trim()))
    }
}

impl Db for CliDb {
    fn dialect(&self) -> Dialect {
        self.dialect
    }
    fn query(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        self.run(sql, params, true)
    }
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, params, false).map(|_| 0)
    }
}

fn rows_from_json(text: &str) -> Rows {
    if text.is_empty() {
        return Rows::default();
    }
    let objects: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).unwrap();
    let columns: Vec<String> = objects
        .first()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let rows = objects
        .iter()
        .map(|object| {
            columns
                .iter()
                .map(|c| match &object[c] {
                    serde_json::Value::Null => Value::Null,
                    serde_json::Value::Number(n) => n
                        .as_i64()
                        .map_or_else(|| Value::Float(n.as_f64().unwrap()), Value::Int),
                    serde_json::Value::String(s) => Value::Text(s.clone()),
                    other => Value::Text(other.to_string()),
                })
                .collect()
        })
        .collect();
    Rows { columns, rows }
}

/// Replaces `$n` outside quotes by the literal of parameter n.
fn inline(sql: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(sql.len() + params.len() * 8);
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = 0usize;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            out.push_str(&literal(&params[n - 1]));
        } else {
            out.push(c);
        }
    }
    out
}

fn literal(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Int(v) => v.to_string(),
        Value::Float(v) => format!("{v:?}"),
        Value::Text(v) => format!("'{}'", v.replace('\'', "''")),
        Value::Bytes(_) => unimplemented!("the demo writes no bytes"),
    }
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn psql_admin(sql: &str) -> bool {
    Command::new("psql")
        .args([
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            sql,
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Migrates, loads a small demo twice, and checks the invariants the schema
/// promises.
fn migrate_load_and_check(db: &CliDb) {
    // Arrange
    let report = migrate::apply_pending(db, NOW_MS).unwrap();
    assert_eq!(report.version, migrate::latest_version());
    let size = DemoSize {
        records: 600,
        readers: 120,
    };

    // Act
    let first = demo::load(db, &size, NOW_MS).unwrap();
    let second = demo::load(db, &size, NOW_MS).unwrap();

    // Assert
    assert!(
        !first.already_loaded && second.already_loaded,
        "{first:?} {second:?}"
    );
    assert_eq!(
        (first.service_points, first.locker_cells, first.records),
        (104, 39 * 240, 600)
    );
    assert_eq!(first.readers, 120);
    assert!(first.loans > 0 && first.copies > 1_500, "{first:?}");
    assert_eq!(point::list_points(db, None).unwrap().len(), 104);
    let metro = point::list_points(db, Some(PointKind::Metro)).unwrap();
    assert_eq!(metro.len(), 8);
    assert!(metro
        .iter()
        .all(|p| p.locker.as_ref().is_some_and(|l| l.cells == 240)));
    let count = |table: &str| {
        let rows = db
            .query(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])
            .unwrap();
        rows.first().unwrap().i64("n").unwrap() as u64
    };
    assert_eq!(count("copies"), first.copies);
    assert_eq!(count("loans"), first.loans);
    assert_eq!(count("staff"), first.staff);

    // The allocation invariant: a copy promised to one open line cannot be
    // promised to another.
    db.execute(
        "INSERT INTO orders (reader_id, fulfilment, pickup_point, state, idempotency_key, created_at_ms, updated_at_ms) \
         SELECT MIN(id), 'pickup', 'SS01', 'picking', k, 1, 1 FROM readers, (SELECT 'a' AS k UNION ALL SELECT 'b') ks GROUP BY k",
        &[],
    )
    .unwrap();
    let promise = |order_key: &str| {
        db.execute(
            "INSERT INTO order_lines (order_id, record_id, copy_barcode, state, updated_at_ms) \
             SELECT o.id, c.record_id, c.barcode, 'promised', 1 FROM orders o, \
             (SELECT barcode, record_id FROM copies ORDER BY barcode LIMIT 1) c WHERE o.idempotency_key = $1",
            &[order_key.into()],
        )
    };
    promise("a").unwrap();
    let refused = promise("b").unwrap_err();
    assert!(
        format!("{refused:?}").contains("copies_one_open_promise")
            || format!("{refused:?}").contains("order_lines.copy_barcode"),
        "{refused:?}"
    );

    // The events log is append-only.
    assert!(db
        .execute("UPDATE events SET actor = 'someone'", &[])
        .is_err());
    assert!(db.execute("DELETE FROM events", &[]).is_err());
}

#[test]
fn the_demo_loads_once_into_sqlite() {
    if !have("sqlite3") {
        eprintln!("skipped: no sqlite3 client");
        return;
    }
    let path = std::env::temp_dir().join(format!("wangjie-demo-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = CliDb {
        dialect: Dialect::Sqlite,
        target: path.display().to_string(),
    };
    migrate_load_and_check(&db);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn the_demo_loads_once_into_postgres() {
    let name = format!("wangjie_demo_{}", std::process::id());
    if !have("psql") || !psql_admin(&format!("CREATE DATABASE {name}")) {
        eprintln!("skipped: no PostgreSQL at 127.0.0.1:5432");
        return;
    }
    let db = CliDb {
        dialect: Dialect::Postgres,
        target: name.clone(),
    };
    let outcome = std::panic::catch_unwind(|| migrate_load_and_check(&db));
    psql_admin(&format!("DROP DATABASE {name}"));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// `cargo test -p wangjie-shared --test demo_cli -- --ignored --nocapture`:
/// loads the default-size demo into SQLite and prints the report (the time
/// includes one client process per statement).
#[test]
#[ignore = "slow: a full-size load, for measuring"]
fn a_full_size_demo_loads_into_sqlite() {
    let path = std::env::temp_dir().join(format!("wangjie-demo-full-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = CliDb {
        dialect: Dialect::Sqlite,
        target: path.display().to_string(),
    };
    for records in [20_000, demo::MAX_RECORDS] {
        let started = std::time::Instant::now();
        let library = demo::generate(
            &DemoSize {
                records,
                readers: 5_000,
            },
            NOW_MS,
        )
        .unwrap();
        println!(
            "generated {records} records, {} copies in {:?}",
            library.copies.len(),
            started.elapsed()
        );
    }
    migrate::apply_pending(&db, NOW_MS).unwrap();
    let report = demo::load(&db, &DemoSize::default(), NOW_MS).unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    let _ = std::fs::remove_file(&path);
}
