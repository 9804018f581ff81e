//! Health, migrations and demo data: the operator's side of the foundation.

use reqwest::Method;
use wangjie_e2e::{on_both_backends, spawn_unmigrated, Backend, Options, ADMIN_TOKEN};

on_both_backends!(health_is_ok_once_migrated, |app| {
    let answer = app.get_health().await?;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["status"], "ok");
    let backend = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(answer.json["checks"]["backend"], backend);
    assert_eq!(answer.json["checks"]["key_value"]["ok"], true);
    Ok(())
});

on_both_backends!(migrating_twice_applies_nothing_the_second_time, |app| {
    let again = app
        .admin(Method::POST, "/admin/migrate")
        .await?
        .expect_ok()?;
    assert_eq!(again.json["applied"], serde_json::json!([]));
    let schema = app.admin(Method::GET, "/admin/schema").await?.expect_ok()?;
    assert_eq!(schema.json["version"], schema.json["latest"]);
    Ok(())
});

on_both_backends!(admin_endpoints_refuse_a_missing_or_wrong_token, |app| {
    let anonymous = app.send(Method::POST, "/admin/migrate", None, None).await?;
    anonymous.assert_problem(401);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
    app.send(Method::POST, "/admin/migrate", Some("not-the-token"), None)
        .await?
        .assert_problem(401);
    let wrong_method = app
        .send(Method::GET, "/admin/migrate", Some(ADMIN_TOKEN), None)
        .await?;
    wrong_method.assert_problem(405);
    assert_eq!(wrong_method.headers["allow"], "POST");
    Ok(())
});

// Versions are numbered per branch of work, so one may land below the
// highest: a database at the highest version that lacks it is not current.
on_both_backends!(a_database_missing_a_lower_migration_is_not_current, |app| {
    app.sql("DELETE FROM schema_migrations WHERE version = 15")
        .await?;
    let health = app.get_health().await?;
    health.assert_problem(503);
    app.admin(Method::GET, "/admin/stats")
        .await?
        .assert_problem(503);
    Ok(())
});

on_both_backends!(demo_data_loads_once, |app| {
    let first = app.load_demo(300, 40).await?.expect_ok()?;
    assert_eq!(first.json["already_loaded"], false, "{}", first.json);
    let second = app.load_demo(300, 40).await?.expect_ok()?;
    assert_eq!(second.json["already_loaded"], true, "{}", second.json);
    Ok(())
});

#[tokio::test]
async fn health_reports_an_unmigrated_database_as_a_503_problem() -> anyhow::Result<()> {
    let app = spawn_unmigrated(Backend::Sqlite, Options::default()).await?;
    let answer = app.get_health().await?;
    let problem = answer.assert_problem(503);
    assert_eq!(problem["checks"]["database"]["ok"], false);
    app.stop().await
}

#[tokio::test]
async fn the_key_value_store_can_live_in_redis_per_runtime_config() -> anyhow::Result<()> {
    let options = Options {
        runtime_config: Some(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n"
                .into(),
        ),
        ..Options::default()
    };
    let app = spawn_unmigrated(Backend::Sqlite, options).await?;
    app.admin(Method::POST, "/admin/migrate")
        .await?
        .expect_ok()?;
    let answer = app.get_health().await?;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["checks"]["key_value"]["ok"], true);
    app.stop().await
}
