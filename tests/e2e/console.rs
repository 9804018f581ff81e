//! The staff console's back end (issue 16): staff accounts and sign-in by
//! password or one-time code, operators and supervisors on `/admin/*`
//! with their staff session, the dashboard's daily figures, the lockers
//! and the jobs.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::{on_both_backends, Answer, TestApp, ADMIN_TOKEN};

/// The demo's staff password (docs/operations.md).
const DEMO_PASSWORD: &str = "wangjie-demo";

async fn post_json(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> Result<Answer> {
    app.send(
        Method::POST,
        path,
        token,
        Some(body.to_string().into_bytes()),
    )
    .await
}

async fn sign_in(app: &TestApp, body: Value) -> Result<Answer> {
    post_json(app, "/api/staff/session", None, body).await
}

/// A demo member of staff's number: the first with `role` at `point`.
async fn demo_staff_no(app: &TestApp, point: &str, role: &str) -> Result<String> {
    let list = app
        .admin(Method::GET, &format!("/admin/staff?point={point}"))
        .await?
        .expect_ok()?;
    list.json["staff"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["role"] == role))
        .and_then(|s| s["staff_no"].as_str())
        .map(str::to_string)
        .with_context(|| format!("no {role} at {point}: {}", list.json))
}

/// A session token of a demo member of staff, signed in with the demo password.
async fn demo_token(app: &TestApp, point: &str, role: &str) -> Result<String> {
    let staff_no = demo_staff_no(app, point, role).await?;
    let session = sign_in(
        app,
        json!({ "staff_no": staff_no, "password": DEMO_PASSWORD }),
    )
    .await?
    .expect_ok()?;
    session.json["token"]
        .as_str()
        .map(str::to_string)
        .context("a token")
}

on_both_backends!(staff_sign_in_with_a_password_or_a_one_time_code, |app| {
    app.load_demo(1, 0).await?.expect_ok()?;
    let new = json!({ "staff_no": "s9001", "name": "王小明", "home_point": "B001",
                      "role": "librarian", "password": "correct-horse" });
    let created = post_json(app, "/admin/staff", Some(ADMIN_TOKEN), new.clone()).await?;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.json["staff_no"], "S9001");
    assert_eq!(created.json["home_point"], "B001");
    assert!(created.json.get("password_hash").is_none());
    let id = created.json["id"].as_i64().context("an id")?;
    post_json(app, "/admin/staff", Some(ADMIN_TOKEN), new.clone())
        .await?
        .assert_problem(409);
    for (field, value) in [
        ("home_point", "NOWHERE"),
        ("role", "janitor"),
        ("password", "short"),
    ] {
        let mut bad = new.clone();
        bad["staff_no"] = json!("S9002");
        bad[field] = json!(value);
        let answer = post_json(app, "/admin/staff", Some(ADMIN_TOKEN), bad).await?;
        answer.assert_problem(400);
    }

    // The password.
    let session = sign_in(
        app,
        json!({ "staff_no": "S9001", "password": "correct-horse" }),
    )
    .await?;
    assert_eq!(session.status, 201, "{}", session.json);
    assert_eq!(session.json["staff"]["staff_no"], "S9001");
    assert!(session.json["expires_at_ms"].as_i64().unwrap_or(0) > 0);
    let token = session.json["token"]
        .as_str()
        .context("a token")?
        .to_string();
    let me = app
        .send(Method::GET, "/api/staff/me", Some(&token), None)
        .await?;
    assert_eq!(me.status, 200, "{}", me.json);
    assert_eq!(me.json["id"], id);
    assert_eq!(me.json["role"], "librarian");
    assert_eq!(me.json["point"]["code"], "B001");
    assert_eq!(me.json["point"]["kind"], "branch");
    // The same token works on the fulfilment line.
    app.send(Method::GET, "/api/staff/picklist", Some(&token), None)
        .await?
        .expect_ok()?;

    // Every failure is the same 401, whether the number exists or not.
    let wrong = sign_in(
        app,
        json!({ "staff_no": "S9001", "password": "wrong-horse" }),
    )
    .await?;
    let nobody = sign_in(
        app,
        json!({ "staff_no": "S9999", "password": "correct-horse" }),
    )
    .await?;
    let neither = sign_in(app, json!({ "staff_no": "S9001" })).await?;
    for answer in [&wrong, &nobody, &neither] {
        answer.assert_problem(401);
    }
    assert_eq!(wrong.json, nobody.json);

    // A one-time code: once only.
    let code = app
        .admin(Method::POST, &format!("/admin/staff/{id}/code"))
        .await?;
    assert_eq!(code.status, 201, "{}", code.json);
    let digits = code.json["code"].as_str().context("a code")?.to_string();
    assert!(digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()));
    assert!(code.json["expires_at_ms"].as_i64().is_some());
    let by_code = json!({ "staff_no": "S9001", "code": digits });
    assert_eq!(sign_in(app, by_code.clone()).await?.status, 201);
    sign_in(app, by_code).await?.assert_problem(401);

    // A new password replaces the old.
    let put = app
        .send(
            Method::PUT,
            &format!("/admin/staff/{id}/password"),
            Some(ADMIN_TOKEN),
            Some(
                json!({ "password": "battery-staple" })
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await?;
    assert_eq!(put.status, 204, "{}", put.json);
    sign_in(
        app,
        json!({ "staff_no": "S9001", "password": "correct-horse" }),
    )
    .await?
    .assert_problem(401);
    assert_eq!(
        sign_in(
            app,
            json!({ "staff_no": "S9001", "password": "battery-staple" })
        )
        .await?
        .status,
        201
    );

    // Signing out revokes the token everywhere.
    let out = app
        .send(Method::DELETE, "/api/staff/session", Some(&token), None)
        .await?;
    assert_eq!(out.status, 204, "{}", out.json);
    for path in ["/api/staff/me", "/api/staff/picklist"] {
        app.send(Method::GET, path, Some(&token), None)
            .await?
            .assert_problem(401);
    }
    Ok(())
});

on_both_backends!(
    operators_reach_the_admin_routes_and_librarians_do_not,
    |app| {
        app.load_demo(1, 0).await?.expect_ok()?;
        // The numbers scripts/up prints for the demo's sign-in.
        assert_eq!(demo_staff_no(app, "B001", "librarian").await?, "S0002");
        assert_eq!(demo_staff_no(app, "DC01", "picker").await?, "S0156");
        assert_eq!(demo_staff_no(app, "DC01", "operator").await?, "S0168");
        let operator = demo_token(app, "DC01", "operator").await?;
        let supervisor = demo_token(app, "DC01", "supervisor").await?;
        let librarian = demo_token(app, "B001", "librarian").await?;
        for path in [
            "/admin/stats",
            "/admin/lockers",
            "/admin/jobs",
            "/admin/notices?status=failed",
        ] {
            let answer = app.send(Method::GET, path, Some(&operator), None).await?;
            assert_eq!(answer.status, 200, "{path}: {}", answer.json);
            let answer = app.send(Method::GET, path, Some(&supervisor), None).await?;
            assert_eq!(answer.status, 200, "{path}: {}", answer.json);
            app.send(Method::GET, path, Some(&librarian), None)
                .await?
                .assert_problem(403);
        }
        let run = "/admin/jobs/run?job=stats";
        assert_eq!(
            app.send(Method::POST, run, Some(&operator), None)
                .await?
                .status,
            200
        );
        app.send(Method::POST, run, Some(&supervisor), None)
            .await?
            .assert_problem(403);
        app.send(Method::POST, run, Some(&librarian), None)
            .await?
            .assert_problem(403);
        // The catalogue component decides the same way.
        let reindex = "/admin/catalogue/reindex?limit=1";
        let done = app
            .send(Method::POST, reindex, Some(&operator), None)
            .await?;
        assert_eq!(done.status, 200, "{}", done.json);
        app.send(Method::POST, reindex, Some(&librarian), None)
            .await?
            .assert_problem(403);
        app.send(Method::POST, reindex, Some("not-a-token"), None)
            .await?
            .assert_problem(401);
        // A signed-out operator is nobody.
        app.send(Method::DELETE, "/api/staff/session", Some(&operator), None)
            .await?;
        app.send(Method::GET, "/admin/stats", Some(&operator), None)
            .await?
            .assert_problem(401);
        // The scheme in any case (RFC 9110).
        let lower = reqwest::Client::new()
            .get(format!("{}/admin/stats", app.url))
            .header("authorization", format!("bearer {ADMIN_TOKEN}"))
            .send()
            .await?;
        assert_eq!(lower.status(), 200);
        Ok(())
    }
);

on_both_backends!(the_dashboard_shows_the_demo_history_day_by_day, |app| {
    let loaded = app
        .admin(
            Method::POST,
            "/admin/demo?records=300&readers=200&history_days=10&history_per_day=60",
        )
        .await?
        .expect_ok()?;
    assert!(
        loaded.json["history"]["loans"].as_u64().unwrap_or(0) > 300,
        "{}",
        loaded.json
    );
    assert_eq!(loaded.json["history"]["days_rolled_up"], 10);
    let stats = app.admin(Method::GET, "/admin/stats").await?.expect_ok()?;
    let days = stats.json["days"].as_array().context("days")?;
    assert_eq!(days.len(), 30, "{}", stats.json);
    assert_eq!(stats.json["to"], days[29]["day"]);
    let with_loans = days
        .iter()
        .filter(|d| d["loans"].as_i64() > Some(0))
        .count();
    assert!(
        (9..=10).contains(&with_loans),
        "{with_loans} days with loans"
    );
    let totals = &stats.json["totals"];
    for figure in ["loans", "online_loans", "returns", "orders"] {
        assert!(totals[figure].as_i64() > Some(0), "{figure}: {totals}");
    }
    let channels = &totals["orders_by_channel"];
    assert!(channels["alipay"].as_i64() > Some(0) && channels["wechat"].as_i64() >= Some(0));
    assert!(
        totals["orders_by_point_kind"]["locker"].as_i64() > Some(0),
        "{totals}"
    );
    let yesterday = &days[28];
    for figure in [
        "active_readers",
        "ready_p50_ms",
        "ready_p90_ms",
        "locker_cells_total",
        "open_loans",
        "readers_credit",
        "readers_deposit",
    ] {
        assert!(
            yesterday[figure].as_i64() > Some(0),
            "{figure}: {yesterday}"
        );
    }
    assert!(yesterday["ready_p90_ms"].as_i64() >= yesterday["ready_p50_ms"].as_i64());
    let fields: Vec<&String> = yesterday.as_object().context("a day")?.keys().collect();
    assert_eq!(fields.len(), 16, "{fields:?}");
    // An explicit range, and bad ones.
    let (from, to) = (days[20]["day"].as_str(), days[29]["day"].as_str());
    let (from, to) = (from.context("from")?, to.context("to")?);
    let some = app
        .admin(Method::GET, &format!("/admin/stats?from={from}&to={to}"))
        .await?
        .expect_ok()?;
    assert_eq!(some.json["days"].as_array().map(Vec::len), Some(10));
    for bad in [
        "?from=2020-01-01&to=2026-01-01",
        &format!("?from={to}&to={from}"),
        "?to=yesterday",
    ] {
        app.admin(Method::GET, &format!("/admin/stats{bad}"))
            .await?
            .assert_problem(400);
    }
    // A second demo call loads no second history.
    let again = app
        .admin(
            Method::POST,
            "/admin/demo?records=300&readers=200&history_days=10",
        )
        .await?
        .expect_ok()?;
    assert_eq!(again.json["history"]["already_loaded"], true);
    // Orders placed lately are still in flight, and staff can finish them:
    // one waiting on a branch's hold shelf is handed over.
    let waiting = app
        .sql(
            "SELECT CAST(id AS TEXT) || ' ' || pickup_point FROM orders \
             WHERE state = 'awaiting_pickup' AND pickup_point LIKE 'B%' ORDER BY id LIMIT 1",
        )
        .await?;
    let (order, point) = waiting
        .split_once(' ')
        .context("an order on a hold shelf")?;
    let staff = app.staff_token(point).await?;
    let handed = app
        .send(
            Method::POST,
            &format!("/api/staff/orders/{order}/hand-over"),
            Some(&staff),
            Some(b"{}".to_vec()),
        )
        .await?;
    assert_eq!(handed.status, 200, "{}", handed.json);
    assert_eq!(handed.json["state"], "picked_up");
    let in_transit = app.count("orders WHERE state = 'in_transit'").await?;
    assert!(in_transit > 0);
    Ok(())
});

on_both_backends!(the_console_lists_lockers_jobs_and_failed_notices, |app| {
    app.load_demo(1, 0).await?.expect_ok()?;
    let lockers = app
        .admin(Method::GET, "/admin/lockers")
        .await?
        .expect_ok()?;
    let all = lockers.json["lockers"].as_array().context("lockers")?;
    assert_eq!(all.len(), 39, "{}", lockers.json);
    let first = &all[0];
    for field in [
        "id",
        "point",
        "name",
        "online",
        "last_heartbeat_ms",
        "cells_total",
        "cells_free",
        "cells_used",
        "cells_faulty",
        "pending_commands",
    ] {
        assert!(first.get(field).is_some(), "{field}: {first}");
    }
    assert_eq!(first["cells_total"], 240);
    let cells = ["cells_free", "cells_used", "cells_faulty"]
        .iter()
        .map(|f| first[*f].as_i64().unwrap_or(-1000))
        .sum::<i64>();
    assert!(cells <= 240, "{first}");

    let before = app.admin(Method::GET, "/admin/jobs").await?.expect_ok()?;
    let jobs = before.json["jobs"].as_array().context("jobs")?;
    for name in [
        "due_soon",
        "overdue",
        "pickup_expiry",
        "suspensions",
        "lockers_offline",
        "retention",
        "stats",
    ] {
        assert!(
            jobs.iter().any(|j| j["job"] == name),
            "{name}: {}",
            before.json
        );
    }
    assert!(jobs.iter().all(|j| j["last_run_ms"].is_null()));
    app.admin(Method::POST, "/admin/jobs/run?job=stats")
        .await?
        .expect_ok()?;
    let after = app.admin(Method::GET, "/admin/jobs").await?.expect_ok()?;
    let stats = after.json["jobs"]
        .as_array()
        .and_then(|all| all.iter().find(|j| j["job"] == "stats"))
        .context("the stats job")?;
    assert_eq!(stats["last_ok"], true, "{stats}");
    assert!(stats["last_run_ms"].as_i64().is_some());
    assert_eq!(
        stats["last_report"]["stats_days"].as_array().map(Vec::len),
        Some(2)
    );

    let failed = app
        .admin(Method::GET, "/admin/notices?status=failed")
        .await?
        .expect_ok()?;
    assert_eq!(failed.json["notices"], json!([]));
    app.admin(Method::GET, "/admin/notices?status=lost")
        .await?
        .assert_problem(400);
    app.admin(Method::GET, "/admin/notices")
        .await?
        .assert_problem(400);
    Ok(())
});
