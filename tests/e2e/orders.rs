//! Orders from placing to "awaiting pickup", with the staff's fulfilment
//! line, the door-delivery fee, illegal transitions, idempotent retries,
//! one reader never reaching another's orders, and the race for copies.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use wangjie_e2e::with_providers::ALIPAY_APP_ID;
use wangjie_e2e::{with_providers, Answer, TestApp, ADMIN_TOKEN};

/// Titles with known copies: ORD-1 at B001 and B002, ORD-2 at B002, ORD-3
/// at B004 and B005, RACE with ten copies at B001..B010.
fn catalogue() -> String {
    let mut csv = String::from(
        "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
         ORD-1,,订单测试甲,作者甲,测试出版社,2020,,I1/1,O1-1,B001,\n\
         ORD-1,,,,,,,,O1-2,B002,\n\
         ORD-2,,订单测试乙,作者乙,测试出版社,2021,,I1/2,O2-1,B002,\n\
         ORD-3,,订单测试丙,作者丙,测试出版社,2022,,I1/3,O3-1,B004,\n\
         ORD-3,,,,,,,,O3-2,B005,\n\
         RACE,,并发测试之书,作者丁,测试出版社,2023,,I1/4,R-01,B001,\n",
    );
    for n in 2..=10 {
        csv.push_str(&format!("RACE,,,,,,,,R-{n:02},B{n:03},\n"));
    }
    csv
}

/// The demo's points and staff, then the test titles; their record ids.
pub(crate) async fn library(app: &TestApp) -> anyhow::Result<Vec<i64>> {
    app.load_demo(1, 0).await?.expect_ok()?;
    app.send(
        Method::POST,
        "/admin/catalogue/import?format=csv",
        Some(ADMIN_TOKEN),
        Some(catalogue().into_bytes()),
    )
    .await?
    .expect_ok()?;
    let mut ids = Vec::new();
    for title in ["订单测试甲", "订单测试乙", "订单测试丙", "并发测试之书"] {
        let found = app
            .get(&format!("/api/search?title={title}"))
            .await?
            .expect_ok()?;
        ids.push(
            found.json["hits"][0]["id"]
                .as_i64()
                .expect("imported title found"),
        );
    }
    Ok(ids)
}

pub(crate) async fn order(
    app: &TestApp,
    token: &str,
    key: &str,
    body: Value,
) -> anyhow::Result<Answer> {
    let response = reqwest::Client::new()
        .post(format!("{}/api/orders", app.url))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await?;
    Answer::read(response).await
}

pub(crate) fn pickup(lines: &[i64], point: &str) -> Value {
    json!({ "lines": lines, "fulfilment": { "kind": "pickup", "point_code": point } })
}

pub(crate) async fn staff_post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<Answer> {
    app.send(
        Method::POST,
        path,
        Some(token),
        Some(serde_json::to_vec(&body)?),
    )
    .await
}

/// Every line of a placed order picked by staff of its pick point.
pub(crate) async fn pick_all(app: &TestApp, placed: &Value) -> anyhow::Result<()> {
    for line in placed["lines"].as_array().unwrap() {
        let picker = app
            .staff_token(line["pick_point"].as_str().unwrap())
            .await?;
        staff_post(
            app,
            &picker,
            "/api/staff/picks",
            json!({ "barcode": line["copy_barcode"] }),
        )
        .await?
        .expect_ok()?;
    }
    Ok(())
}

with_providers!(
    an_order_goes_from_placing_to_the_hold_shelf,
    |app, providers| {
        let ids = library(app).await?;
        let reader = app.borrower(providers, "path").await?;
        let placed = order(app, &reader.token, "key-1", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        assert_eq!(placed.json["state"], "picking");
        // The copy already at the pickup branch is preferred.
        assert_eq!(placed.json["lines"][0]["copy_barcode"], "O1-1");
        assert_eq!(placed.json["consolidate"], false);
        let id = placed.json["id"].as_i64().unwrap();

        // A retry with the same key answers the same order, never a second one.
        let again = order(app, &reader.token, "key-1", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(again.json["id"], id);
        let mine = app
            .send(Method::GET, "/api/orders", Some(&reader.token), None)
            .await?;
        assert_eq!(mine.json["orders"].as_array().unwrap().len(), 1);

        let b001 = app.staff_token("B001").await?;
        let b002 = app.staff_token("B002").await?;
        let list = app
            .send(Method::GET, "/api/staff/picklist", Some(&b001), None)
            .await?;
        assert!(
            list.json["items"].to_string().contains("O1-1"),
            "{:?}",
            list.json
        );
        let other = app
            .send(Method::GET, "/api/staff/picklist", Some(&b002), None)
            .await?;
        assert!(!other.json["items"].to_string().contains("O1-1"));
        let html = reqwest::Client::new()
            .get(format!("{}/api/staff/picklist?format=html", app.url))
            .bearer_auth(&b001)
            .send()
            .await?
            .text()
            .await?;
        assert!(
            html.contains("O1-1") && html.contains("订单测试甲"),
            "{html}"
        );
        // Readers are not staff, staff are not readers.
        app.send(
            Method::GET,
            "/api/staff/picklist",
            Some(&reader.token),
            None,
        )
        .await?
        .assert_problem(401);
        app.send(Method::GET, "/api/orders", Some(&b001), None)
            .await?
            .assert_problem(401);

        // Another branch cannot pick it; dispatch before picking is refused.
        staff_post(app, &b002, "/api/staff/picks", json!({ "barcode": "O1-1" }))
            .await?
            .assert_problem(403);
        staff_post(
            app,
            &b001,
            &format!("/api/staff/orders/{id}/dispatch"),
            json!({}),
        )
        .await?
        .assert_problem(409);
        for _ in 0..2 {
            let picked =
                staff_post(app, &b001, "/api/staff/picks", json!({ "barcode": "O1-1" })).await?;
            assert_eq!(picked.status, 200, "{:?}", picked.json);
            assert_eq!(picked.json["lines"][0]["state"], "picked");
        }
        staff_post(
            app,
            &b001,
            &format!("/api/staff/orders/{id}/arrive"),
            json!({}),
        )
        .await?
        .assert_problem(409);
        let sent = staff_post(
            app,
            &b001,
            &format!("/api/staff/orders/{id}/dispatch"),
            json!({}),
        )
        .await?;
        assert_eq!(sent.json["state"], "in_transit", "{:?}", sent.json);
        staff_post(
            app,
            &b001,
            &format!("/api/staff/orders/{id}/dispatch"),
            json!({}),
        )
        .await?
        .assert_problem(409);
        // Too late for the reader to cancel.
        app.post_json(
            &format!("/api/orders/{id}/cancel"),
            Some(&reader.token),
            json!({}),
        )
        .await?
        .assert_problem(409);
        staff_post(
            app,
            &b002,
            &format!("/api/staff/orders/{id}/arrive"),
            json!({}),
        )
        .await?
        .assert_problem(403);
        let arrived = staff_post(
            app,
            &b001,
            &format!("/api/staff/orders/{id}/arrive"),
            json!({}),
        )
        .await?;
        assert_eq!(
            arrived.json["state"], "awaiting_pickup",
            "{:?}",
            arrived.json
        );
        assert!(arrived.json["pickup_deadline_at_ms"].is_i64());
        let seen = app
            .send(
                Method::GET,
                &format!("/api/orders/{id}"),
                Some(&reader.token),
                None,
            )
            .await?;
        assert_eq!(seen.json["state"], "awaiting_pickup");
        // Handed over at the counter: the loan starts; a second hand-over
        // changes nothing.
        for _ in 0..2 {
            let path = format!("/api/staff/orders/{id}/hand-over");
            let collected = staff_post(app, &b001, &path, json!({})).await?;
            assert_eq!(collected.json["state"], "picked_up", "{:?}", collected.json);
            assert_eq!(collected.json["lines"][0]["state"], "collected");
        }
        Ok(())
    }
);

with_providers!(
    a_set_from_two_branches_meets_at_the_delivery_centre,
    |app, providers| {
        let ids = library(app).await?;
        let reader = app.borrower(providers, "set").await?;
        // ORD-1 prefers B003's nearest... either way ORD-2 stands only at B002.
        let placed = order(
            app,
            &reader.token,
            "set-1",
            pickup(&[ids[1], ids[2]], "B003"),
        )
        .await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        assert_eq!(placed.json["consolidate"], true);
        let centre = placed.json["parcel_point"].as_str().unwrap().to_string();
        let id = placed.json["id"].as_i64().unwrap();
        pick_all(app, &placed.json).await?;
        let dc = app.staff_token(&centre).await?;
        staff_post(
            app,
            &dc,
            &format!("/api/staff/orders/{id}/dispatch"),
            json!({}),
        )
        .await?
        .assert_problem(409);
        staff_post(app, &dc, &format!("/api/staff/orders/{id}/pack"), json!({}))
            .await?
            .expect_ok()?;
        let sent = staff_post(
            app,
            &dc,
            &format!("/api/staff/orders/{id}/dispatch"),
            json!({}),
        )
        .await?;
        assert_eq!(sent.json["state"], "in_transit", "{:?}", sent.json);
        Ok(())
    }
);

with_providers!(
    a_copy_not_on_its_shelf_is_replaced_or_the_line_unfilled,
    |app, providers| {
        let ids = library(app).await?;
        let reader = app.borrower(providers, "missing").await?;
        let placed = order(app, &reader.token, "m-1", pickup(&[ids[2]], "B004")).await?;
        let id = placed.json["id"].as_i64().unwrap();
        let line = placed.json["lines"][0]["id"].as_i64().unwrap();
        assert_eq!(placed.json["lines"][0]["copy_barcode"], "O3-1");
        let b004 = app.staff_token("B004").await?;
        let swapped = staff_post(
            app,
            &b004,
            &format!("/api/staff/lines/{line}/missing"),
            json!({}),
        )
        .await?;
        assert_eq!(swapped.status, 200, "{:?}", swapped.json);
        assert_eq!(swapped.json["lines"][0]["copy_barcode"], "O3-2");
        assert_eq!(swapped.json["lines"][0]["pick_point"], "B005");
        // Only B005 can report the new copy missing now.
        staff_post(
            app,
            &b004,
            &format!("/api/staff/lines/{line}/missing"),
            json!({}),
        )
        .await?
        .assert_problem(403);
        let b005 = app.staff_token("B005").await?;
        let gone = staff_post(
            app,
            &b005,
            &format!("/api/staff/lines/{line}/missing"),
            json!({}),
        )
        .await?;
        assert_eq!(
            gone.json["lines"][0]["state"], "unfilled",
            "{:?}",
            gone.json
        );
        assert_eq!(gone.json["state"], "unfilled");
        // A closed order accepts nothing more.
        app.post_json(
            &format!("/api/orders/{id}/cancel"),
            Some(&reader.token),
            json!({}),
        )
        .await?
        .assert_problem(409);
        Ok(())
    }
);

with_providers!(
    a_reader_cannot_see_or_cancel_another_readers_order,
    |app, providers| {
        let ids = library(app).await?;
        let a = app.borrower(providers, "a").await?;
        let b = app.borrower(providers, "b").await?;
        let placed = order(app, &a.token, "a-1", pickup(&[ids[0]], "B001")).await?;
        let id = placed.json["id"].as_i64().unwrap();
        app.send(
            Method::GET,
            &format!("/api/orders/{id}"),
            Some(&b.token),
            None,
        )
        .await?
        .assert_problem(404);
        app.post_json(
            &format!("/api/orders/{id}/cancel"),
            Some(&b.token),
            json!({}),
        )
        .await?
        .assert_problem(404);
        assert_eq!(
            app.send(Method::GET, "/api/orders", Some(&b.token), None)
                .await?
                .json["orders"],
            json!([])
        );
        app.get(&format!("/api/orders/{id}"))
            .await?
            .assert_problem(401);
        // The owner cancels; the copy goes back on the shelf for the next reader.
        let cancelled = app
            .post_json(
                &format!("/api/orders/{id}/cancel"),
                Some(&a.token),
                json!({}),
            )
            .await?;
        assert_eq!(cancelled.json["state"], "cancelled", "{:?}", cancelled.json);
        let next = order(app, &b.token, "b-1", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(
            next.json["lines"][0]["copy_barcode"], "O1-1",
            "{:?}",
            next.json
        );
        // Bad requests are clear 400s.
        for (key, body) in [
            ("", pickup(&[ids[0]], "B001")),
            (
                "k",
                json!({ "lines": [], "fulfilment": { "kind": "pickup", "point_code": "B001" } }),
            ),
            (
                "k",
                json!({ "lines": [ids[0], ids[0]], "fulfilment": { "kind": "pickup", "point_code": "B001" } }),
            ),
            (
                "k",
                json!({ "lines": [ids[0]], "fulfilment": { "kind": "drone" } }),
            ),
        ] {
            order(app, &b.token, key, body).await?.assert_problem(400);
        }
        order(app, &b.token, "k2", pickup(&[ids[0]], "NOPE"))
            .await?
            .assert_problem(404);
        Ok(())
    }
);

with_providers!(
    a_door_delivery_waits_for_its_fee_paid_once,
    |app, providers| {
        let ids = library(app).await?;
        // Door delivery needs Sesame; a virtual card is not enough.
        let card = app.borrower(providers, "door-card").await?;
        let door = json!({ "lines": [ids[0]], "fulfilment": { "kind": "door", "address": "杭州市西湖区文三路 1 号" } });
        order(app, &card.token, "d-0", door.clone())
            .await?
            .assert_problem(403);
        let reader = app
            .sign_in_alipay(providers, "2088000000003000", Some(720))
            .await?;
        app.check_credit(&reader, "sesame", Some("code-2088000000003000"))
            .await?
            .expect_ok()?;
        let placed = order(app, &reader.token, "d-1", door).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        assert_eq!(placed.json["state"], "awaiting_payment");
        assert_eq!(placed.json["fee_fen"], 500);
        assert!(placed.json["order_str"]
            .as_str()
            .unwrap()
            .contains("alipay.trade.app.pay"));
        let trade = placed.json["payment_ref"].as_str().unwrap().to_string();
        let id = placed.json["id"].as_i64().unwrap();
        let notify = |body: String| async move {
            let response = reqwest::Client::new()
                .post(format!("{}/webhooks/alipay", app.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await?;
            anyhow::Ok((response.status().as_u16(), response.text().await?))
        };
        let params = |amount: &'static str| {
            vec![
                ("notify_id", "fee-1"),
                ("notify_type", "trade_status_sync"),
                ("app_id", ALIPAY_APP_ID),
                ("trade_no", "2026112822001"),
                ("trade_status", "TRADE_SUCCESS"),
                ("total_amount", amount),
            ]
        };
        let mut forged = params("5.00");
        forged.push(("out_trade_no", &trade));
        assert_eq!(
            notify(wangjie_fakes::forge_notification(&forged)).await?.0,
            401
        );
        let mut cheap = params("0.50");
        cheap.push(("out_trade_no", &trade));
        assert_eq!(
            notify(providers.alipay.sign_notification(&cheap)).await?.0,
            400
        );
        let mut genuine = params("5.00");
        genuine.push(("out_trade_no", &trade));
        let body = providers.alipay.sign_notification(&genuine);
        for _ in 0..8 {
            assert_eq!(notify(body.clone()).await?, (200, "success".to_string()));
        }
        let paid = app
            .send(
                Method::GET,
                &format!("/api/orders/{id}"),
                Some(&reader.token),
                None,
            )
            .await?;
        assert_eq!(paid.json["state"], "picking", "{:?}", paid.json);
        Ok(())
    }
);

with_providers!(two_hundred_readers_race_for_ten_copies, |app, providers| {
    let ids = library(app).await?;
    let race = ids[3];
    let mut readers = Vec::new();
    for n in 0..200 {
        readers.push(app.borrower(providers, &format!("race-{n}")).await?);
    }
    let attempts = readers.iter().enumerate().map(|(n, reader)| {
        let token = reader.token.clone();
        async move {
            // As a client should: a retryable 503 (the pool or SQLite's
            // writer lock busy under this burst) is retried with the same
            // Idempotency-Key, so it can never make a second order.
            let key = format!("race-{n}");
            let mut answer = order(app, &token, &key, pickup(&[race], "B001")).await?;
            for attempt in 1..=10 {
                if answer.status != 503 || answer.json["retryable"] != true {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                answer = order(app, &token, &key, pickup(&[race], "B001")).await?;
            }
            anyhow::Ok(answer)
        }
    });
    // All in flight together: join_all polls every request at once.
    let answers = futures::future::join_all(attempts).await;
    let mut barcodes = HashSet::new();
    let (mut won, mut lost) = (0, 0);
    for answer in answers {
        let answer = answer?;
        match answer.status.as_u16() {
            201 => {
                won += 1;
                let barcode = answer.json["lines"][0]["copy_barcode"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert!(barcodes.insert(barcode), "a copy was promised twice");
            }
            409 => {
                lost += 1;
                let detail = answer.assert_problem(409)["detail"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert!(detail.contains("no copy"), "{detail}");
            }
            other => panic!("unexpected {other}: {:?}", answer.json),
        }
    }
    assert_eq!((won, lost), (10, 190));
    assert_eq!(barcodes.len(), 10);
    Ok(())
});
