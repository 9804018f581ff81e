//! The steady heartbeat (`locker::beat_cache`): a heartbeat that says what
//! the last one the database took said is answered from the key-value
//! store, its replay is still refused there, the offline job asks the store
//! before marking a locker, and a real change reaches the database.

use crate::lockers::{
    beat, heartbeat, library, locker_test, lockers, now, on, signed, skewed_heartbeat, Signing,
};
use reqwest::Method;
use serde_json::json;
use wangjie_e2e::with_providers::{spawn_with_providers_and_config, Providers};
use wangjie_e2e::{Backend, TestApp};

/// `last_heartbeat_at_ms` of `code` as the database has it.
async fn last_seen(app: &TestApp, code: &str) -> anyhow::Result<i64> {
    let text = app
        .sql(&format!(
            "SELECT last_heartbeat_at_ms FROM service_points WHERE code = '{code}'"
        ))
        .await?;
    Ok(text.trim().parse()?)
}

async fn steady(app: &TestApp, _providers: &Providers) -> anyhow::Result<()> {
    library(app).await?;
    // One heartbeat each, taken by the database.
    let (here, _) = lockers(app).await?;
    // Wind the database's clock of `here` back: only a heartbeat that
    // reaches the database moves it again.
    app.sql(&format!(
        "UPDATE service_points SET last_heartbeat_at_ms = 1 WHERE code = '{here}'"
    ))
    .await?;

    // The same report again: answered, the database untouched; its replay
    // refused all the same.
    let once = Signing::good(&here);
    let body = beat(json!([]), now());
    let answer = signed(app, &here, "heartbeat", &body, &once).await?;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["commands"], json!([]));
    assert_eq!(last_seen(app, &here).await?, 1);
    signed(app, &here, "heartbeat", &body, &once)
        .await?
        .assert_problem(409);

    // The offline job finds the database's time stale, asks the store,
    // and writes the store's time back instead of marking the locker.
    let before = now();
    let job = app
        .admin(Method::POST, "/admin/jobs/lockers-offline?after_ms=90000")
        .await?
        .expect_ok()?;
    assert!(
        !job.json["lockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == here.as_str()),
        "{:?}",
        job.json
    );
    let written_back = last_seen(app, &here).await?;
    assert!(written_back > before - 90_000, "{written_back}");

    // A clock that is off gets its sync without the database.
    skewed_heartbeat(app, &here).await?;
    assert_eq!(last_seen(app, &here).await?, written_back);

    // The locker goes on battery: that reaches the database at once.
    let mut on_battery = beat(json!([]), now());
    on_battery["health"]["power"] = json!("battery");
    on_battery["health"]["battery_pct"] = json!(80);
    let answer = signed(app, &here, "heartbeat", &on_battery, &Signing::good(&here)).await?;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert!(last_seen(app, &here).await? > written_back);
    let health = app
        .sql(&format!(
            "SELECT locker_health FROM service_points WHERE code = '{here}'"
        ))
        .await?;
    assert!(health.contains("battery"), "{health}");

    // Marked offline by a zero grace, it comes back with the same report:
    // the mark sends its next heartbeat to the database.
    app.admin(Method::POST, "/admin/jobs/lockers-offline?after_ms=0")
        .await?
        .expect_ok()?;
    assert_eq!(
        app.count(&format!(
            "service_points WHERE code = '{here}' AND locker_status = 'offline'"
        ))
        .await?,
        1
    );
    heartbeat(app, &here).await?;
    assert_eq!(
        app.count(&format!(
            "service_points WHERE code = '{here}' AND locker_status = 'online'"
        ))
        .await?,
        1
    );
    Ok(())
}
locker_test!(
    steady_heartbeats_are_answered_from_the_key_value_store,
    steady
);

/// The same on a Redis store, the production set-up: Spin 4.0.2's Redis
/// store reports every compare-and-swap as failed after writing it, so the
/// replay guard must not rest on one (the local host keeps that defect).
/// Redis database 3 is this test's own, emptied first: locker codes repeat
/// across test apps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_heartbeats_on_a_redis_store() -> anyhow::Result<()> {
    let flushed = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379", "-n", "3", "FLUSHDB"])
        .output()?;
    anyhow::ensure!(flushed.status.success(), "redis-cli: {flushed:?}");
    let config =
        "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379/3\"\n";
    let (app, providers) = spawn_with_providers_and_config(
        Backend::Postgres,
        &[("locker_master_key", crate::lockers::MASTER)],
        Some(config.to_string()),
    )
    .await?;
    let outcome = steady(&app, &providers).await;
    app.stop().await?;
    outcome
}
