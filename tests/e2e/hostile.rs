//! Hostile input (issue 18): a NUL character, a JSON array for an object,
//! a body that is not declared JSON, the Bearer scheme in any case, an
//! over-long `auth_code` with a cached decision, a malformed locker id and
//! ids or counts beyond the documented bounds. Each is refused the same way
//! on both backends, as bad input (4xx, never retryable).

use crate::orders::{library, order, pickup, staff_post};
use reqwest::Method;
use serde_json::json;
use wangjie_e2e::with_providers::{spawn_with_providers, Providers};
use wangjie_e2e::{on_both_backends, Answer, Backend, TestApp, ADMIN_TOKEN};

/// An app with fake providers, the order tests' library and a borrower.
struct Env {
    app: TestApp,
    providers: Providers,
    ids: Vec<i64>,
    token: String,
}

impl Env {
    async fn stop(self) -> anyhow::Result<()> {
        drop(self.providers);
        self.app.stop().await
    }
}

async fn start(backend: Backend) -> anyhow::Result<Env> {
    let (app, providers) = spawn_with_providers(backend, &[]).await?;
    let ids = library(&app).await?;
    let token = app.borrower(&providers, "hostile").await?.token;
    Ok(Env {
        app,
        providers,
        ids,
        token,
    })
}

/// Sends `body` to `path` with the given `Content-Type` (none when `None`).
async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> anyhow::Result<Answer> {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.url))
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", format!("raw-{}", fastrand::u64(..)))
        .body(body.to_vec());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    Answer::read(request.send().await?).await
}

/// Asserts a 400 `invalid-request`, not retryable, naming `field`.
fn assert_invalid(answer: &Answer, field: &str) {
    let problem = answer.assert_problem(400);
    assert!(
        problem["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/invalid-request"),
        "{problem}"
    );
    assert_eq!(problem["retryable"], false, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("invalid {field}:")),
        "expected {field} named: {problem}"
    );
}

async fn orders_of(app: &TestApp, token: &str) -> anyhow::Result<usize> {
    let mine = app
        .send(Method::GET, "/api/orders", Some(token), None)
        .await?
        .expect_ok()?;
    Ok(mine.json["orders"].as_array().map_or(0, Vec::len))
}

on_both_backends!(
    a_nul_in_any_string_is_a_400_naming_the_field,
    start = start,
    |env: Env| {
        let app = &env.app;
        // An order's address and point code.
        let door = json!({ "lines": [env.ids[0]], "fulfilment": { "kind": "door", "address": "文三路\u{0}1 号" } });
        assert_invalid(
            &order(app, &env.token, "nul-1", door).await?,
            "fulfilment.address",
        );
        assert_invalid(
            &order(app, &env.token, "nul-2", pickup(&[env.ids[0]], "B0\u{0}01")).await?,
            "fulfilment.point_code",
        );
        assert_eq!(orders_of(app, &env.token).await?, 0);
        // A scanned barcode.
        let staff = app.staff_token("B001").await?;
        assert_invalid(
            &staff_post(
                app,
                &staff,
                "/api/staff/picks",
                json!({ "barcode": "O1\u{0}-1" }),
            )
            .await?,
            "barcode",
        );
        // A staff query and a reader's search.
        assert_invalid(
            &app.send(
                Method::GET,
                "/api/staff/orders?stage=parcel&card=96%0012",
                Some(&staff),
                None,
            )
            .await?,
            "card",
        );
        assert_invalid(&app.get("/api/search?q=%E4%B8%89%00").await?, "q");
        // A CSV import cell: that record is rejected with its position,
        // the rest imported.
        let csv = "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
                   NUL-1,,有\u{0}空字符,作者,出版社,2020,,I9/1,NUL-0001,B001,\n\
                   NUL-2,,没有空字符,作者,出版社,2020,,I9/2,NUL-0002,B001,\n";
        let imported = app
            .send(
                Method::POST,
                "/admin/catalogue/import?format=csv",
                Some(ADMIN_TOKEN),
                Some(csv.as_bytes().to_vec()),
            )
            .await?
            .expect_ok()?;
        assert_eq!(imported.json["imported"], 1, "{}", imported.json);
        assert_eq!(imported.json["rejected"], 1, "{}", imported.json);
        let rejection = &imported.json["rejections"][0];
        assert_eq!(rejection["position"]["line"], 2, "{}", imported.json);
        assert!(
            rejection["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("NUL"),
            "{}",
            imported.json
        );
        let found = app.get("/api/search?title=没有空字符").await?.expect_ok()?;
        assert_eq!(found.json["hits"].as_array().map_or(0, Vec::len), 1);
        Ok(())
    }
);

on_both_backends!(a_json_array_is_not_an_order, start = start, |env: Env| {
    let app = &env.app;
    let body = json!([[env.ids[0]], { "kind": "pickup", "point_code": "B001" }]);
    let answer = post_raw(
        app,
        "/api/orders",
        &env.token,
        Some("application/json"),
        &serde_json::to_vec(&body)?,
    )
    .await?;
    assert_invalid(&answer, "body");
    assert_eq!(
        answer.json["detail"], "invalid body: must be a JSON object",
        "{}",
        answer.json
    );
    assert_eq!(orders_of(app, &env.token).await?, 0);
    Ok(())
});

on_both_backends!(
    a_body_not_declared_json_is_a_415,
    start = start,
    |env: Env| {
        let app = &env.app;
        let body = serde_json::to_vec(&pickup(&[env.ids[0]], "B001"))?;
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let answer = post_raw(app, "/api/orders", &env.token, content_type, &body).await?;
            let problem = answer.assert_problem(415);
            assert!(
                problem["type"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with("/unsupported-media-type"),
                "{problem}"
            );
            assert_eq!(problem["retryable"], false);
        }
        assert_eq!(orders_of(app, &env.token).await?, 0);
        // Staff sign-in says 415 too, not the 401 of bad credentials.
        post_raw(app, "/api/staff/session", "-", Some("text/plain"), b"{}")
            .await?
            .assert_problem(415);
        // JSON with parameters, or a +json type, is JSON.
        let placed = post_raw(
            app,
            "/api/orders",
            &env.token,
            Some("Application/JSON; charset=utf-8"),
            &body,
        )
        .await?;
        assert_eq!(placed.status, 201, "{}", placed.json);
        Ok(())
    }
);

on_both_backends!(
    the_bearer_scheme_is_read_in_any_case,
    start = start,
    |env: Env| {
        let app = &env.app;
        let staff = app.staff_token("B001").await?;
        let client = reqwest::Client::new();
        for (path, token) in [
            ("/api/me", env.token.as_str()),
            ("/api/orders", env.token.as_str()),
            ("/api/staff/picklist", staff.as_str()),
            ("/admin/staff?point=B001", ADMIN_TOKEN),
        ] {
            for scheme in ["bearer", "BEARER", "bEaReR"] {
                let response = client
                    .get(format!("{}{path}", app.url))
                    .header("authorization", format!("{scheme} {token}"))
                    .send()
                    .await?;
                let answer = Answer::read(response).await?;
                assert_eq!(answer.status, 200, "{scheme} on {path}: {}", answer.json);
            }
        }
        Ok(())
    }
);

on_both_backends!(
    an_over_long_auth_code_is_refused_even_with_a_cached_decision,
    start = start,
    |env: Env| {
        let app = &env.app;
        // The borrower's Osmanthus decision is cached: without a code the
        // cache answers.
        let cached = app
            .post_json(
                "/api/me/credit",
                Some(&env.token),
                json!({ "source": "osmanthus" }),
            )
            .await?
            .expect_ok()?;
        assert_eq!(cached.json["cached"], true, "{}", cached.json);
        let long = "x".repeat(257);
        let answer = app
            .post_json(
                "/api/me/credit",
                Some(&env.token),
                json!({ "source": "osmanthus", "auth_code": long }),
            )
            .await?;
        assert_invalid(&answer, "auth_code");
        Ok(())
    }
);

on_both_backends!(
    a_malformed_locker_id_is_refused_on_pickups,
    start = start,
    |env: Env| {
        let app = &env.app;
        let body = json!({ "order_id": 1 });
        for locker in ["BAD.ID", "BAD%20ID", &"L".repeat(65)] {
            let answer = app
                .post_json(
                    &format!("/api/lockers/{locker}/pickups"),
                    Some(&env.token),
                    body.clone(),
                )
                .await?;
            assert_invalid(&answer, "id");
        }
        Ok(())
    }
);

on_both_backends!(
    ids_and_counts_beyond_the_documented_bounds_are_a_400,
    start = start,
    |env: Env| {
        let app = &env.app;
        for id in [
            "18446744073709551616",
            "9223372036854775808",
            "0",
            "-1",
            "+1",
            "abc",
        ] {
            assert_invalid(
                &app.send(
                    Method::GET,
                    &format!("/api/orders/{id}"),
                    Some(&env.token),
                    None,
                )
                .await?,
                "id",
            );
            assert_invalid(&app.get(&format!("/api/records/{id}")).await?, "id");
        }
        // The largest id is well formed; it names nothing.
        app.get("/api/records/9223372036854775807")
            .await?
            .assert_problem(404);
        let admin = |path: &'static str| app.admin(Method::POST, path);
        assert_invalid(&admin("/admin/demo?records=200001").await?, "records");
        assert_invalid(&admin("/admin/demo?records=4294967296").await?, "records");
        for batch in ["0", "501", "4294967296"] {
            let path = format!("/admin/jobs/send-notices?batch={batch}");
            assert_invalid(&app.admin(Method::POST, &path).await?, "batch");
        }
        for batch in ["0", "101", "4294967296"] {
            let path = format!("/admin/jobs/sync-sesame?batch={batch}");
            assert_invalid(&app.admin(Method::POST, &path).await?, "batch");
        }
        app.admin(Method::POST, "/admin/jobs/send-notices?batch=500")
            .await?
            .expect_ok()?;
        Ok(())
    }
);
