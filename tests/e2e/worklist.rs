//! The staff's work lists after picking (`GET /api/staff/orders?stage=`):
//! an order shows at each point exactly while it waits there, a reader's
//! virtual card narrows the hold shelf to their orders, and another point
//! sees none of it.

use crate::orders::{library, order, pick_all, pickup, staff_post};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::{with_providers, TestApp};

async fn listed(app: &TestApp, token: &str, query: &str) -> anyhow::Result<Vec<i64>> {
    let list = app
        .send(
            Method::GET,
            &format!("/api/staff/orders?{query}"),
            Some(token),
            None,
        )
        .await?
        .expect_ok()?;
    Ok(list.json["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect())
}

async fn step(app: &TestApp, token: &str, id: i64, name: &str) -> anyhow::Result<Value> {
    Ok(staff_post(
        app,
        token,
        &format!("/api/staff/orders/{id}/{name}"),
        json!({}),
    )
    .await?
    .expect_ok()?
    .json)
}

with_providers!(
    an_order_moves_through_the_points_work_lists,
    |app, providers| {
        let ids = library(app).await?;
        let reader = app.borrower(providers, "lists").await?;
        let card = app
            .send(Method::POST, "/api/me/card", Some(&reader.token), None)
            .await?
            .expect_ok()?
            .json["card_number"]
            .as_str()
            .unwrap()
            .to_string();
        // ORD-2's only copy is at B002; collected at B001.
        let placed = order(app, &reader.token, "wl-1", pickup(&[ids[1]], "B001")).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        let id = placed.json["id"].as_i64().unwrap();
        let parcel_point = placed.json["parcel_point"].as_str().unwrap().to_string();
        let packer = app.staff_token(&parcel_point).await?;
        let counter = app.staff_token("B001").await?;
        let elsewhere = app.staff_token("B009").await?;

        assert!(listed(app, &packer, "stage=parcel").await?.is_empty());
        pick_all(app, &placed.json).await?;
        assert_eq!(listed(app, &packer, "stage=parcel").await?, vec![id]);
        let list = app
            .send(
                Method::GET,
                "/api/staff/orders?stage=parcel",
                Some(&packer),
                None,
            )
            .await?;
        assert_eq!(list.json["orders"][0]["packed"], false);
        step(app, &packer, id, "pack").await?;
        let list = app
            .send(
                Method::GET,
                "/api/staff/orders?stage=parcel",
                Some(&packer),
                None,
            )
            .await?;
        assert_eq!(list.json["orders"][0]["packed"], true);
        assert!(listed(app, &elsewhere, "stage=parcel").await?.is_empty());

        step(app, &packer, id, "dispatch").await?;
        assert!(listed(app, &packer, "stage=parcel").await?.is_empty());
        assert_eq!(listed(app, &counter, "stage=arrive").await?, vec![id]);
        // The label's order: for the points it passes through, nobody else.
        for token in [&packer, &counter] {
            app.send(
                Method::GET,
                &format!("/api/staff/orders/{id}"),
                Some(token),
                None,
            )
            .await?
            .expect_ok()?;
        }
        app.send(
            Method::GET,
            &format!("/api/staff/orders/{id}"),
            Some(&elsewhere),
            None,
        )
        .await?
        .assert_problem(404);

        step(app, &counter, id, "arrive").await?;
        assert!(listed(app, &counter, "stage=arrive").await?.is_empty());
        assert_eq!(listed(app, &counter, "stage=hand_over").await?, vec![id]);
        assert_eq!(
            listed(app, &counter, &format!("stage=hand_over&card={card}")).await?,
            vec![id]
        );
        let other = app.borrower(providers, "other").await?;
        let other_card = app
            .send(Method::POST, "/api/me/card", Some(&other.token), None)
            .await?
            .expect_ok()?
            .json["card_number"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            listed(app, &counter, &format!("stage=hand_over&card={other_card}"))
                .await?
                .is_empty()
        );
        step(app, &counter, id, "hand-over").await?;
        assert!(listed(app, &counter, "stage=hand_over").await?.is_empty());

        // Bad questions get 400/404; readers are not staff.
        for (query, status) in [
            ("stage=pick", 400),
            ("", 400),
            ("stage=hand_over&card=12ab", 400),
            ("stage=hand_over&card=9600000000000000", 404),
        ] {
            app.send(
                Method::GET,
                &format!("/api/staff/orders?{query}"),
                Some(&counter),
                None,
            )
            .await?
            .assert_problem(status);
        }
        app.send(
            Method::GET,
            "/api/staff/orders?stage=parcel",
            Some(&reader.token),
            None,
        )
        .await?
        .assert_problem(401);
        Ok(())
    }
);
