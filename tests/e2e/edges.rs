//! What must never panic or hang: unknown routes, oversized bodies, a
//! database that is down or not yet migrated.

use reqwest::Method;
use std::collections::HashMap;
use wangjie_e2e::{spawn_app, spawn_unmigrated, Backend, Options, ADMIN_TOKEN};

#[tokio::test]
async fn an_unknown_route_is_a_problem_json_404() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    app.get("/no/such/route").await?.assert_problem(404);
    app.get("/api/nothing-here").await?.assert_problem(404);
    app.stop().await
}

#[tokio::test]
async fn an_oversized_body_is_a_413_and_changes_nothing() -> anyhow::Result<()> {
    let options = Options {
        variables: HashMap::from([("max_body_bytes".to_string(), "1024".to_string())]),
        ..Options::default()
    };
    let app = spawn_unmigrated(Backend::Sqlite, options).await?;
    let body = vec![b'x'; 4096];
    app.send(
        Method::POST,
        "/admin/migrate",
        Some(ADMIN_TOKEN),
        Some(body),
    )
    .await?
    .assert_problem(413);
    // The refused request did not migrate anything.
    let schema = app.admin(Method::GET, "/admin/schema").await?.expect_ok()?;
    assert_eq!(schema.json["version"], 0);
    app.stop().await
}

#[tokio::test]
async fn a_malformed_parameter_is_a_400() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    app.admin(Method::POST, "/admin/demo?records=lots")
        .await?
        .assert_problem(400);
    app.admin(Method::POST, "/admin/demo?records=0")
        .await?
        .assert_problem(400);
    app.stop().await
}

#[tokio::test]
async fn a_database_that_is_down_is_a_retryable_503() -> anyhow::Result<()> {
    // Nothing listens on port 1: the connection is refused at once.
    let options = Options {
        variables: HashMap::from([
            (
                "database_url".to_string(),
                "postgres://postgres@127.0.0.1:1/test".to_string(),
            ),
            ("pg_host".to_string(), "127.0.0.1:1".to_string()),
        ]),
        ..Options::default()
    };
    let app = spawn_unmigrated(Backend::Sqlite, options).await?;
    let points = app.get_points("").await?;
    assert_eq!(points.assert_problem(503)["retryable"], true);
    app.get_health().await?.assert_problem(503);
    app.stop().await
}

#[tokio::test]
async fn an_unmigrated_database_says_so() -> anyhow::Result<()> {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_unmigrated(backend, Options::default()).await?;
        let problem = app.get_points("").await?;
        assert!(problem.assert_problem(503)["type"]
            .as_str()
            .unwrap()
            .ends_with("schema-not-migrated"));
        app.stop().await?;
    }
    Ok(())
}

/// Whether a TLS handshake with the local server succeeds; with
/// `verify` (an `openssl s_client` option and its value), whether its
/// certificate also verifies for that name or address against the
/// system's roots.
fn tls_handshake(verify: Option<[&str; 2]>) -> anyhow::Result<bool> {
    let mut command = std::process::Command::new("openssl");
    command.args([
        "s_client",
        "-starttls",
        "postgres",
        "-connect",
        "127.0.0.1:5432",
    ]);
    if let Some(verify) = verify {
        command.args(verify).arg("-verify_return_error");
    }
    let out = command.stdin(std::process::Stdio::null()).output()?;
    Ok(out.status.success())
}

/// Spin speaks TLS to PostgreSQL unless the URL says `sslmode=disable`, and
/// verifies the server's certificate against the system's roots; the host
/// does the same. The local server's certificate (Debian's snakeoil, when
/// `ssl = on`) names `localhost`, so over TLS `localhost` reaches it and
/// `127.0.0.1` does not; what each should do is asked of openssl first.
#[tokio::test]
async fn postgres_is_reached_over_tls_only_with_a_certificate_that_verifies() -> anyhow::Result<()>
{
    let by_ip = tls_handshake(Some(["-verify_ip", "127.0.0.1"]))?;
    let by_name = tls_handshake(Some(["-verify_hostname", "localhost"]))?;
    let tls_offered = tls_handshake(None)?;
    for (url, host, reachable) in [
        (
            "postgres://postgres@127.0.0.1:5432/test",
            "127.0.0.1:5432",
            by_ip || !tls_offered,
        ),
        (
            "postgres://postgres@localhost:5432/test",
            "localhost:5432",
            by_name || !tls_offered,
        ),
        (
            "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
            "127.0.0.1:5432",
            true,
        ),
    ] {
        let options = Options {
            variables: HashMap::from([
                ("database_url".to_string(), url.to_string()),
                ("pg_host".to_string(), host.to_string()),
            ]),
            ..Options::default()
        };
        let app = spawn_unmigrated(Backend::Sqlite, options).await?;
        // The shared `test` database has no schema: reaching it says so.
        let problem = app.get_points("").await?;
        let kind = problem.assert_problem(503)["type"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        app.stop().await?;
        let expected = if reachable {
            "schema-not-migrated"
        } else {
            "database-unavailable"
        };
        assert!(
            kind.ends_with(expected),
            "{url}: {kind}, expected {expected}"
        );
    }
    Ok(())
}
