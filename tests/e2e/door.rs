//! Door delivery from the fee to the reader's door: the courier records
//! the hand-over at the door, where the loans start; and a door order when
//! the library cannot take its fee.

use crate::orders::{library, order, pick_all, pickup, staff_post};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::{Providers, SignedIn, ALIPAY_APP_ID};
use wangjie_e2e::{with_providers, TestApp};

fn door(lines: &[i64]) -> Value {
    json!({ "lines": lines, "fulfilment": { "kind": "door", "address": "杭州市西湖区文三路 1 号" } })
}

/// A reader with Sesame standing, who may order to the door.
async fn sesame_reader(
    app: &TestApp,
    providers: &Providers,
    user_id: &str,
) -> anyhow::Result<SignedIn> {
    let reader = app.sign_in_alipay(providers, user_id, Some(720)).await?;
    app.check_credit(&reader, "sesame", Some(&format!("code-{user_id}")))
        .await?
        .expect_ok()?;
    Ok(reader)
}

/// Alipay's notification that the fee of `placed` was paid.
async fn pay(app: &TestApp, providers: &Providers, placed: &Value) -> anyhow::Result<()> {
    let trade = placed["payment_ref"].as_str().unwrap();
    let amount = format!("{:.2}", placed["fee_fen"].as_i64().unwrap() as f64 / 100.0);
    let body = providers.alipay.sign_notification(&[
        ("notify_id", &format!("fee-{trade}")),
        ("notify_type", "trade_status_sync"),
        ("app_id", ALIPAY_APP_ID),
        ("trade_no", &format!("2026{trade}")),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", &amount),
        ("out_trade_no", trade),
    ]);
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/alipay", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "{:?}", response.text().await?);
    Ok(())
}

with_providers!(
    a_door_delivery_is_handed_over_at_the_door,
    |app, providers| {
        let ids = library(app).await?;
        let reader = sesame_reader(app, providers, "2088000000003100").await?;
        let placed = order(app, &reader.token, "door-1", door(&[ids[0]])).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        pay(app, providers, &placed.json).await?;
        let id = placed.json["id"].as_i64().unwrap();
        pick_all(app, &placed.json).await?;
        let parcel = placed.json["parcel_point"].as_str().unwrap();
        let courier = app.staff_token(parcel).await?;
        let step = |name: &str| format!("/api/staff/orders/{id}/{name}");
        // Not yet on the road: nothing to deliver.
        staff_post(app, &courier, &step("deliver"), json!({}))
            .await?
            .assert_problem(409);
        let sent = staff_post(app, &courier, &step("dispatch"), json!({})).await?;
        assert_eq!(sent.json["state"], "in_transit", "{:?}", sent.json);
        // A door delivery has no hold shelf and no counter.
        staff_post(app, &courier, &step("arrive"), json!({}))
            .await?
            .assert_problem(409);
        staff_post(app, &courier, &step("hand-over"), json!({}))
            .await?
            .assert_problem(409);
        let elsewhere = app
            .staff_token(if parcel == "B003" { "B004" } else { "B003" })
            .await?;
        staff_post(app, &elsewhere, &step("deliver"), json!({}))
            .await?
            .assert_problem(403);
        // At the door the loan starts; recording it twice changes nothing.
        for _ in 0..2 {
            let delivered = staff_post(app, &courier, &step("deliver"), json!({})).await?;
            assert_eq!(delivered.status, 200, "{:?}", delivered.json);
            assert_eq!(delivered.json["state"], "picked_up");
            assert_eq!(delivered.json["lines"][0]["state"], "collected");
        }
        let loans = app
            .send(Method::GET, "/api/me/loans", Some(&reader.token), None)
            .await?
            .expect_ok()?;
        let loans = loans.json["loans"].as_array().unwrap().clone();
        assert_eq!(loans.len(), 1, "{loans:?}");
        assert_eq!(
            loans[0]["copy_barcode"],
            placed.json["lines"][0]["copy_barcode"]
        );
        assert_eq!(
        app.count(&format!(
            "events WHERE subject_kind = 'order' AND subject_id = '{id}' AND event = 'order_delivered'"
        ))
        .await?,
        1
    );

        // A pickup order is never delivered to a door.
        let counter = order(app, &reader.token, "door-2", pickup(&[ids[1]], "B002")).await?;
        assert_eq!(counter.status, 201, "{:?}", counter.json);
        let b002 = app.staff_token("B002").await?;
        let path = format!("/api/staff/orders/{}/deliver", counter.json["id"]);
        staff_post(app, &b002, &path, json!({}))
            .await?
            .assert_problem(409);
        Ok(())
    }
);

with_providers!(
    a_door_order_is_refused_before_anything_is_kept_while_alipay_is_not_set_up,
    [("alipay_app_private_key", "")],
    |app, providers| {
        let ids = library(app).await?;
        // A Sesame check needs Alipay too: the standing is written as one
        // would have left it.
        let reader = app.borrower(providers, "no-alipay").await?;
        app.sql(&format!(
            "UPDATE readers SET standing = 'sesame_deposit_free' WHERE id = {}",
            reader.id
        ))
        .await?;
        // The same answer to the retry, and still nothing kept.
        for _ in 0..2 {
            let refused = order(app, &reader.token, "door-x", door(&[ids[0]])).await?;
            let problem = refused.assert_problem(503);
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("door delivery"),
                "{problem}"
            );
            assert_eq!(app.count("orders").await?, 0);
            assert_eq!(app.count("copies WHERE status = 'promised'").await?, 0);
        }
        // A pickup has no fee to take.
        let counter = order(app, &reader.token, "pickup-x", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(counter.status, 201, "{:?}", counter.json);
        Ok(())
    }
);
