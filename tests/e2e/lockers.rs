//! Smart lockers (docs/locker-protocol.md): the whole cycle from an order
//! to a locker through deposit, pickup and return, signed requests refused
//! when replayed, forged or stale, idempotent events, events for another
//! locker's cell, and offline detection.

use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::{spawn_with_providers, Providers, SignedIn};
use wangjie_e2e::{Answer, Backend, TestApp, ADMIN_TOKEN};
use wangjie_shared::locker::signing::signed_headers;
use wangjie_shared::locker::store::derive_secret;

pub(crate) const MASTER: &str = "e2e-locker-master-key-0123456789abcdef";

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub(crate) fn nonce() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

async fn answer(response: reqwest::Response) -> anyhow::Result<Answer> {
    Answer::read(response).await
}

/// How a test request is signed.
pub(crate) struct Signing<'a> {
    pub(crate) id: &'a str,
    pub(crate) master: &'a str,
    pub(crate) at_ms: i64,
    pub(crate) nonce: String,
}

impl<'a> Signing<'a> {
    pub(crate) fn good(id: &'a str) -> Self {
        Signing {
            id,
            master: MASTER,
            at_ms: now(),
            nonce: nonce(),
        }
    }
}

/// A signed `POST /api/lockers/{path_id}/{what}`.
pub(crate) async fn signed(
    app: &TestApp,
    path_id: &str,
    what: &str,
    body: &Value,
    s: &Signing<'_>,
) -> anyhow::Result<Answer> {
    let path = format!("/api/lockers/{path_id}/{what}");
    let bytes = serde_json::to_vec(body)?;
    let secret = derive_secret(s.master, s.id)?;
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/json");
    for (name, value) in signed_headers(s.id, &secret, "POST", &path, s.at_ms, &s.nonce, &bytes) {
        request = request.header(name, value);
    }
    answer(request.body(bytes).send().await?).await
}

pub(crate) fn beat(acks: Value, clock_ms: i64) -> Value {
    json!({
        "clock_ms": clock_ms,
        "cells": [],
        "health": {"network": "4g", "signal": -70, "power": "mains", "temperature_c": 21.5, "firmware": "wj-2.3.1"},
        "acks": acks,
    })
}

pub(crate) async fn heartbeat(app: &TestApp, id: &str) -> anyhow::Result<Answer> {
    signed(
        app,
        id,
        "heartbeat",
        &beat(json!([]), now()),
        &Signing::good(id),
    )
    .await
}

/// A heartbeat from locker `id` with its clock 2 minutes slow: the answer
/// must carry a `sync_clock` first.
pub(crate) async fn skewed_heartbeat(app: &TestApp, id: &str) -> anyhow::Result<Answer> {
    let answer = signed(
        app,
        id,
        "heartbeat",
        &beat(json!([]), now() - 120_000),
        &Signing::good(id),
    )
    .await?;
    assert_eq!(
        answer.json["commands"][0]["kind"], "sync_clock",
        "{:?}",
        answer.json
    );
    Ok(answer)
}

/// Sends `events` from locker `id`; the outcome of each.
async fn events(app: &TestApp, id: &str, events: Value) -> anyhow::Result<Vec<String>> {
    let answer = signed(
        app,
        id,
        "events",
        &json!({ "events": events }),
        &Signing::good(id),
    )
    .await?;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    Ok(answer.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect())
}

/// The demo's points and staff, and one title with copies at B001.
pub(crate) async fn library(app: &TestApp) -> anyhow::Result<i64> {
    app.load_demo(1, 0).await?.expect_ok()?;
    let csv = "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number,rfid\n\
               LOCK-1,,柜子测试之书,作者甲,测试出版社,2020,,I2/1,LK-1,B001,,E2801160-LK-1\n\
               LOCK-1,,,,,,,,LK-2,B001,,E2801160-LK-2\n\
               LOCK-1,,,,,,,,LK-3,B001,,E2801160-LK-3\n";
    app.send(
        Method::POST,
        "/admin/catalogue/import?format=csv",
        Some(ADMIN_TOKEN),
        Some(csv.as_bytes().to_vec()),
    )
    .await?
    .expect_ok()?;
    let found = app
        .get("/api/search?title=柜子测试之书")
        .await?
        .expect_ok()?;
    Ok(found.json["hits"][0]["id"]
        .as_i64()
        .expect("imported title"))
}

/// Two locker points of the demo, made online by a heartbeat each.
pub(crate) async fn lockers(app: &TestApp) -> anyhow::Result<(String, String)> {
    let points = app.get_points("?kind=self_service").await?.expect_ok()?;
    let codes: Vec<String> = points.json["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();
    assert!(codes.len() >= 2, "{:?}", points.json);
    for code in &codes[..2] {
        let hb = heartbeat(app, code).await?;
        assert_eq!(hb.status, 200, "{:?}", hb.json);
    }
    Ok((codes[0].clone(), codes[1].clone()))
}

pub(crate) async fn place(
    app: &TestApp,
    reader: &SignedIn,
    record: i64,
    point: &str,
) -> anyhow::Result<Answer> {
    let response = reqwest::Client::new()
        .post(format!("{}/api/orders", app.url))
        .bearer_auth(&reader.token)
        .header("idempotency-key", nonce())
        .json(
            &json!({ "lines": [record], "fulfilment": { "kind": "pickup", "point_code": point } }),
        )
        .send()
        .await?;
    answer(response).await
}

/// Places an order to `point`, picks and dispatches it; the order.
pub(crate) async fn dispatched(
    app: &TestApp,
    reader: &SignedIn,
    record: i64,
    point: &str,
) -> anyhow::Result<Value> {
    let placed = place(app, reader, record, point).await?;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = placed.json["id"].as_i64().unwrap();
    let copy = placed.json["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap()
        .to_string();
    let picker = app
        .staff_token(placed.json["lines"][0]["pick_point"].as_str().unwrap())
        .await?;
    app.post_json(
        "/api/staff/picks",
        Some(&picker),
        json!({ "barcode": copy }),
    )
    .await?
    .expect_ok()?;
    let parcel = placed.json["parcel_point"].as_str().unwrap().to_string();
    let sender = app.staff_token(&parcel).await?;
    if placed.json["consolidate"] == true {
        app.post_json(
            &format!("/api/staff/orders/{id}/pack"),
            Some(&sender),
            json!({}),
        )
        .await?
        .expect_ok()?;
    }
    let sent = app
        .post_json(
            &format!("/api/staff/orders/{id}/dispatch"),
            Some(&sender),
            json!({}),
        )
        .await?;
    assert_eq!(sent.status, 200, "{:?}", sent.json);
    Ok(sent.json)
}

pub(crate) async fn show(app: &TestApp, reader: &SignedIn, id: i64) -> anyhow::Result<Value> {
    Ok(app
        .send(
            Method::GET,
            &format!("/api/orders/{id}"),
            Some(&reader.token),
            None,
        )
        .await?
        .expect_ok()?
        .json)
}

pub(crate) async fn on(
    backend: Backend,
    test: for<'a> fn(
        &'a TestApp,
        &'a Providers,
    ) -> futures::future::BoxFuture<'a, anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let (app, providers) = spawn_with_providers(backend, &[("locker_master_key", MASTER)]).await?;
    let outcome = test(&app, &providers).await;
    app.stop().await?;
    outcome
}

macro_rules! locker_test {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                on(Backend::Sqlite, |a, p| Box::pin($body(a, p))).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                on(Backend::Postgres, |a, p| Box::pin($body(a, p))).await
            }
        }
    };
}
pub(crate) use locker_test;

async fn full_cycle(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let record = library(app).await?;
    let (here, there) = lockers(app).await?;
    let reader = app.borrower(providers, "locker").await?;
    let other = app.borrower(providers, "other").await?;
    let order = dispatched(app, &reader, record, &here).await?;
    let id = order["id"].as_i64().unwrap();
    let cell = order["locker_cell"].as_i64().expect("a cell was reserved");
    let copy = order["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(order["state"], "in_transit");

    // Not yet there: no pickup.
    app.post_json(
        &format!("/api/lockers/{here}/pickups"),
        Some(&reader.token),
        json!({ "order_id": id }),
    )
    .await?
    .assert_problem(409);

    // A deposit reported by another locker is refused; by ours, recorded
    // once, however often it is sent.
    let deposit = json!([{ "event_id": "e-1", "at_ms": now(), "kind": "courier_deposit", "cell": cell, "barcode": copy }]);
    assert_eq!(events(app, &there, deposit.clone()).await?, ["rejected"]);
    assert_eq!(show(app, &reader, id).await?["state"], "in_transit");
    assert_eq!(events(app, &here, deposit.clone()).await?, ["recorded"]);
    let waiting = show(app, &reader, id).await?;
    assert_eq!(waiting["state"], "awaiting_pickup");
    assert!(waiting["pickup_deadline_at_ms"].as_i64().unwrap() > now());
    assert_eq!(events(app, &here, deposit).await?, ["duplicate"]);
    assert_eq!(show(app, &reader, id).await?, waiting);

    // Another reader cannot open the cell; the wrong locker is a conflict.
    app.post_json(
        &format!("/api/lockers/{here}/pickups"),
        Some(&other.token),
        json!({ "order_id": id }),
    )
    .await?
    .assert_problem(404);
    app.post_json(
        &format!("/api/lockers/{there}/pickups"),
        Some(&reader.token),
        json!({ "order_id": id }),
    )
    .await?
    .assert_problem(409);
    for _ in 0..2 {
        let asked = app
            .post_json(
                &format!("/api/lockers/{here}/pickups"),
                Some(&reader.token),
                json!({ "order_id": id }),
            )
            .await?;
        assert_eq!(asked.status, 202, "{:?}", asked.json);
    }
    let hb = heartbeat(app, &here).await?;
    let commands = hb.json["commands"].as_array().unwrap().clone();
    assert_eq!(commands.len(), 1, "{:?}", hb.json);
    assert_eq!(commands[0]["kind"], "open_cell");
    assert_eq!(commands[0]["cell"], cell);
    assert_eq!(commands[0]["order_id"], id);
    assert_eq!(commands[0]["reader_id"], reader.id);
    assert_eq!(hb.json["next_heartbeat_s"], 30);
    // Repeated until acknowledged, then gone.
    assert_eq!(
        heartbeat(app, &here).await?.json["commands"],
        hb.json["commands"]
    );
    let ack = json!([{ "id": commands[0]["id"], "outcome": "done", "at_ms": now() }]);
    let acked = signed(
        app,
        &here,
        "heartbeat",
        &beat(ack, now()),
        &Signing::good(&here),
    )
    .await?;
    assert_eq!(acked.json["commands"], json!([]), "{:?}", acked.json);
    assert!(heartbeat(app, &there).await?.json["commands"]
        .as_array()
        .unwrap()
        .is_empty());

    // The pickup, claimed by the wrong locker, is refused; by ours, the loan starts.
    let take = |n: &str| json!([{ "event_id": n, "at_ms": now(), "kind": "reader_pickup", "cell": cell, "order_id": id }]);
    assert_eq!(events(app, &there, take("p-1")).await?, ["rejected"]);
    assert_eq!(events(app, &here, take("p-1")).await?, ["recorded"]);
    let collected = show(app, &reader, id).await?;
    assert_eq!(collected["state"], "picked_up");
    assert_eq!(collected["lines"][0]["state"], "collected");

    // The return closes the loan: a second drop of the copy finds none open.
    let drop = |n: &str| json!([{ "event_id": n, "at_ms": now(), "kind": "return_drop", "barcode": copy }]);
    assert_eq!(events(app, &here, drop("r-1")).await?, ["recorded"]);
    assert_eq!(events(app, &here, drop("r-2")).await?, ["rejected"]);
    assert_eq!(events(app, &here, drop("r-1")).await?, ["duplicate"]);

    // A fault is recorded; a locker clock 2 minutes off is told the time.
    let fault = json!([{ "event_id": "f-1", "at_ms": now(), "kind": "fault", "cell": 240, "code": "LOCK_JAM", "detail": "lock did not engage" }]);
    assert_eq!(events(app, &here, fault).await?, ["recorded"]);
    skewed_heartbeat(app, &here).await?;
    Ok(())
}
locker_test!(an_order_goes_through_a_locker_and_back, full_cycle);

async fn refused(app: &TestApp, _providers: &Providers) -> anyhow::Result<()> {
    library(app).await?;
    let (here, there) = lockers(app).await?;
    let body = beat(json!([]), now());
    // A replay of an accepted request: same nonce.
    let once = Signing::good(&here);
    assert_eq!(
        signed(app, &here, "heartbeat", &body, &once).await?.status,
        200
    );
    signed(app, &here, "heartbeat", &body, &once)
        .await?
        .assert_problem(409);
    // Forged: signed with another master key.
    let forged = Signing {
        master: "not-the-master-key",
        ..Signing::good(&here)
    };
    signed(app, &here, "heartbeat", &body, &forged)
        .await?
        .assert_problem(401);
    // Stale: ten minutes old.
    let stale = Signing {
        at_ms: now() - 600_000,
        ..Signing::good(&here)
    };
    let answer = signed(app, &here, "heartbeat", &body, &stale).await?;
    answer.assert_problem(400);
    // Another locker's signature on this locker's path; an unknown locker.
    signed(app, &here, "heartbeat", &body, &Signing::good(&there))
        .await?
        .assert_problem(401);
    signed(
        app,
        "NO-SUCH-LOCKER",
        "heartbeat",
        &body,
        &Signing::good("NO-SUCH-LOCKER"),
    )
    .await?
    .assert_problem(401);
    // Every locker header but the signature, then a signature that is not
    // 64 hex digits: the credential is missing or malformed, a 401 like a
    // wrong one (the schema suite's ignored-auth check, issue 18).
    let path = format!("/api/lockers/{here}/heartbeat");
    let bytes = serde_json::to_vec(&body)?;
    let secret = derive_secret(MASTER, &here)?;
    let nonce = Signing::good(&here).nonce;
    for signature in [None, Some("not-hex"), Some("ab")] {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", app.url))
            .header("content-type", "application/json");
        for (name, value) in signed_headers(&here, &secret, "POST", &path, now(), &nonce, &bytes) {
            match (name, signature) {
                ("X-Locker-Signature", None) => {}
                ("X-Locker-Signature", Some(bad)) => request = request.header(name, bad),
                _ => request = request.header(name, value),
            }
        }
        answer_status(request.body(bytes.clone()).send().await?, 401).await?;
    }
    // Unsigned: no locker headers at all is not a locker message.
    let bare = reqwest::Client::new()
        .post(format!("{}/api/lockers/{here}/heartbeat", app.url))
        .body(serde_json::to_vec(&body)?)
        .send()
        .await?;
    answer_status(bare, 400).await
}
locker_test!(replayed_forged_and_stale_requests_are_refused, refused);

async fn answer_status(response: reqwest::Response, status: u16) -> anyhow::Result<()> {
    answer(response).await?.assert_problem(status);
    Ok(())
}

async fn capacity_and_offline(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let record = library(app).await?;
    let (here, there) = lockers(app).await?;
    let reader = app.borrower(providers, "full").await?;
    // Every cell of `here` out of order but one, then two orders: the
    // second cannot be dispatched, a locker never gets more books than cells.
    let first = dispatched(app, &reader, record, &here).await?;
    assert!(first["locker_cell"].as_i64().is_some());
    let placed = place(app, &reader, record, &here).await?;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let mut faults = Vec::new();
    for cell in 1..=240 {
        faults.push(json!({ "event_id": format!("f-{cell}"), "at_ms": now(), "kind": "fault", "cell": cell, "code": "TEST", "detail": "out of order" }));
    }
    for chunk in faults.chunks(100) {
        events(app, &here, Value::from(chunk.to_vec())).await?;
    }
    let id = placed.json["id"].as_i64().unwrap();
    let copy = placed.json["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap()
        .to_string();
    let picker = app
        .staff_token(placed.json["lines"][0]["pick_point"].as_str().unwrap())
        .await?;
    app.post_json(
        "/api/staff/picks",
        Some(&picker),
        json!({ "barcode": copy }),
    )
    .await?
    .expect_ok()?;
    let sender = app
        .staff_token(placed.json["parcel_point"].as_str().unwrap())
        .await?;
    if placed.json["consolidate"] == true {
        app.post_json(
            &format!("/api/staff/orders/{id}/pack"),
            Some(&sender),
            json!({}),
        )
        .await?
        .expect_ok()?;
    }
    app.post_json(
        &format!("/api/staff/orders/{id}/dispatch"),
        Some(&sender),
        json!({}),
    )
    .await?
    .assert_problem(409);

    // Offline: a job run with a zero grace marks both lockers offline, and
    // no order is routed to them until their next heartbeat.
    let job = app
        .admin(Method::POST, "/admin/jobs/lockers-offline?after_ms=0")
        .await?
        .expect_ok()?;
    assert!(
        job.json["lockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == there.as_str()),
        "{:?}",
        job.json
    );
    place(app, &reader, record, &there)
        .await?
        .assert_problem(409);
    heartbeat(app, &there).await?;
    assert_eq!(place(app, &reader, record, &there).await?.status, 201);
    Ok(())
}
locker_test!(
    full_lockers_and_offline_lockers_take_no_orders,
    capacity_and_offline
);
