//! What every end-to-end test needs: an app started by the local host (or
//! by real Spin, [`runtime`]) from the real `spin.toml` on a free port, with its own state directory and,
//! on PostgreSQL, its own database, and a client with one method per
//! endpoint.
//!
//! The wasm components must be built first (`scripts/test` does it).

use anyhow::{bail, Context, Result};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

pub mod runtime;
pub mod with_providers;

pub use runtime::Server;

/// The admin token every test app is started with.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";

/// The session key every test app is started with (32 bytes or more).
pub const SESSION_KEY: &str = "e2e-session-key-of-at-least-32-bytes-long";

/// The PostgreSQL server the tests use (see `.ci/run`).
const PG_ADMIN_URL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

/// Which system of record an app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Spin's built-in SQLite database, the embedded default.
    Sqlite,
    /// The local PostgreSQL server, a fresh database per test.
    Postgres,
}

/// Options beyond the backend.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Extra variables (lower-case names), as `SPIN_VARIABLE_*` would give.
    pub variables: HashMap<String, String>,
    /// A runtime config file's text, written beside the state directory.
    pub runtime_config: Option<String>,
}

/// A running app and what the test needs to talk to it.
pub struct TestApp {
    /// The runtime serving the app.
    pub app: Server,
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Which backend it runs on.
    pub backend: Backend,
    client: reqwest::Client,
    state_dir: tempfile::TempDir,
    database: Option<String>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The content type, if any.
    pub content_type: String,
    /// Every header.
    pub headers: reqwest::header::HeaderMap,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Answer {
    /// Reads a whole response.
    pub async fn read(response: reqwest::Response) -> Result<Answer> {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            content_type,
            headers,
            json,
        })
    }

    /// Asserts this is an RFC 9457 problem with the given status, and
    /// returns its JSON.
    pub fn assert_problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.json);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{:?}",
            self.json
        );
        for member in ["type", "title", "status", "detail"] {
            assert!(
                self.json.get(member).is_some(),
                "problem lacks {member}: {}",
                self.json
            );
        }
        assert_eq!(self.json["status"], status);
        &self.json
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Starts the app from `spin.toml` on `backend`, migrated.
pub async fn spawn_app(backend: Backend) -> Result<TestApp> {
    let app = spawn_unmigrated(backend, Options::default()).await?;
    app.admin(Method::POST, "/admin/migrate")
        .await?
        .expect_ok()?;
    Ok(app)
}

/// The abuse limits (spin.toml, docs/errors.md), lifted in every test
/// app: the tests sign in and check credit from 127.0.0.1 far more often
/// than a person would. `tests/e2e/limits.rs` sets them low again.
pub const LIFTED_LIMITS: [(&str, &str); 4] = [
    ("sign_in_per_ip_per_minute", "100000"),
    ("staff_sign_in_per_staff_no_per_hour", "100000"),
    ("credit_checks_per_reader_per_hour", "100000"),
    ("credit_checks_per_ip_per_hour", "100000"),
];

/// Starts the app without applying migrations.
pub async fn spawn_unmigrated(backend: Backend, options: Options) -> Result<TestApp> {
    let state_dir = tempfile::tempdir().context("state dir")?;
    let mut variables = HashMap::from([
        ("admin_token".to_string(), ADMIN_TOKEN.to_string()),
        ("session_key".to_string(), SESSION_KEY.to_string()),
    ]);
    variables.extend(
        LIFTED_LIMITS
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    let mut database = None;
    if backend == Backend::Postgres {
        let name = create_database().await?;
        variables.insert(
            "database_url".into(),
            format!("postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"),
        );
        database = Some(name);
    }
    variables.extend(options.variables);
    let runtime_config = match options.runtime_config {
        Some(text) => {
            let path = state_dir.path().join("runtime-config.toml");
            std::fs::write(&path, text)?;
            Some(path)
        }
        None => None,
    };
    let app = Server::start(runtime::Launch {
        manifest: repo_root().join("spin.toml"),
        state_dir: state_dir.path(),
        variables,
        runtime_config,
    })
    .await?;
    Ok(TestApp {
        url: app.url(),
        app,
        backend,
        client: reqwest::Client::new(),
        state_dir,
        database,
    })
}

async fn create_database() -> Result<String> {
    let name = format!("wangjie_e2e_{:016x}", fastrand::u64(..));
    let (client, connection) = tokio_postgres::connect(PG_ADMIN_URL, tokio_postgres::NoTls)
        .await
        .context("connecting to the local PostgreSQL (is it running? .ci/run starts it)")?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(name)
}

impl TestApp {
    /// Sends a request and reads the whole answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer> {
        let mut request = self.client.request(method, format!("{}{}", self.url, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("sending {path}"))?;
        Answer::read(response).await
    }

    /// A GET with no credentials.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        self.send(Method::GET, path, None, None).await
    }

    /// An operator's request to `/admin/*`.
    pub async fn admin(&self, method: Method, path: &str) -> Result<Answer> {
        self.send(method, path, Some(ADMIN_TOKEN), None).await
    }

    /// `GET /api/health`.
    pub async fn get_health(&self) -> Result<Answer> {
        self.get("/api/health").await
    }

    /// `GET /api/points` with a query string.
    pub async fn get_points(&self, query: &str) -> Result<Answer> {
        self.get(&format!("/api/points{query}")).await
    }

    /// `POST /admin/demo` with a small library, so tests stay quick.
    pub async fn load_demo(&self, records: u32, readers: u32) -> Result<Answer> {
        self.admin(
            Method::POST,
            &format!("/admin/demo?records={records}&readers={readers}"),
        )
        .await
    }

    /// Stops the app and drops its PostgreSQL database.
    /// Runs `sql` (one or more statements) straight in the app's database
    /// (on SQLite, the host's default file in the state directory) and
    /// returns the first column of the first row of the last one, as text
    /// (`""` when none): for a test to move time or look inside.
    pub async fn sql(&self, sql: &str) -> Result<String> {
        match &self.database {
            None => {
                let path = self.state_dir.path().join("sqlite_db.db");
                let out = std::process::Command::new("sqlite3")
                    .args(["-cmd", ".timeout 5000"])
                    .arg(path)
                    .arg(sql)
                    .output()
                    .context("running sqlite3")?;
                anyhow::ensure!(out.status.success(), "{sql}: {out:?}");
                Ok(String::from_utf8(out.stdout)?.trim().to_string())
            }
            Some(name) => {
                let url = format!("host=127.0.0.1 port=5432 user=postgres dbname={name}");
                let (client, connection) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                let messages = client.simple_query(sql).await.context(sql.to_string())?;
                Ok(messages
                    .iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(row) => {
                            Some(row.get(0).unwrap_or_default().to_string())
                        }
                        _ => None,
                    })
                    .next()
                    .unwrap_or_default())
            }
        }
    }

    /// A session token of the first staff member at `point`.
    pub async fn staff_token(&self, point: &str) -> Result<String> {
        let staff = self
            .admin(Method::GET, &format!("/admin/staff?point={point}"))
            .await?
            .expect_ok()?;
        let id = staff.json["staff"][0]["id"]
            .as_i64()
            .with_context(|| format!("no staff at {point}: {}", staff.json))?;
        let session = self
            .admin(Method::POST, &format!("/admin/staff/{id}/session"))
            .await?
            .expect_ok()?;
        session.json["token"]
            .as_str()
            .map(str::to_string)
            .context("a staff token")
    }

    /// How many rows `SELECT COUNT(*) FROM {from_where}` counts.
    pub async fn count(&self, from_where: &str) -> Result<i64> {
        let text = self
            .sql(&format!("SELECT COUNT(*) FROM {from_where}"))
            .await?;
        text.parse()
            .with_context(|| format!("{from_where}: {text:?}"))
    }

    pub async fn stop(self) -> Result<()> {
        self.app.shutdown().await;
        if let Some(name) = self.database {
            let (client, connection) =
                tokio_postgres::connect(PG_ADMIN_URL, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Ok(())
    }
}

impl Answer {
    /// Fails unless the status is 2xx.
    pub fn expect_ok(self) -> Result<Answer> {
        if !self.status.is_success() {
            bail!("expected success, got {}: {}", self.status, self.json);
        }
        Ok(self)
    }
}

/// Runs one test body once on SQLite and once on PostgreSQL, as two tests.
/// By default the body gets a plain [`TestApp`]; with `start = f`, it gets
/// what `f(backend)` builds (an app with fakes, say), which must have an
/// `async fn stop(self)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, |$app:ident| $body:block) => {
        $crate::on_both_backends!($name, start = $crate::spawn_app, |$app: $crate::TestApp| $body);
    };
    ($name:ident, start = $start:expr, |$env:ident: $env_type:ty| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($env: &$env_type) -> anyhow::Result<()> $body

            async fn on(backend: $crate::Backend) -> anyhow::Result<()> {
                let env = ($start)(backend).await?;
                let outcome = run(&env).await;
                env.stop().await?;
                outcome
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                on($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                on($crate::Backend::Postgres).await
            }
        }
    };
}
