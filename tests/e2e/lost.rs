//! Lost and damaged books (docs/loans.md): a reader declares a loan lost
//! and pays the compensation through Alipay; staff find a returned copy
//! damaged; unpaid compensation blocks borrowing until it is paid.

use crate::lockers::{dispatched, library, place};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::{Providers, SignedIn, ALIPAY_APP_ID};
use wangjie_e2e::{with_providers, TestApp};

/// A loan of one copy of the test title, handed over at B001: its id and copy.
async fn borrowed(app: &TestApp, reader: &SignedIn, record: i64) -> anyhow::Result<(i64, String)> {
    let order = dispatched(app, reader, record, "B001").await?;
    let id = order["id"].as_i64().unwrap();
    let staff = app.staff_token("B001").await?;
    for step in ["arrive", "hand-over"] {
        app.post_json(
            &format!("/api/staff/orders/{id}/{step}"),
            Some(&staff),
            json!({}),
        )
        .await?
        .expect_ok()?;
    }
    let loans = app
        .send(Method::GET, "/api/me/loans", Some(&reader.token), None)
        .await?
        .expect_ok()?;
    let loan = &loans.json["loans"][0];
    Ok((
        loan["id"].as_i64().unwrap(),
        loan["copy_barcode"].as_str().unwrap().to_string(),
    ))
}

/// Alipay's notification that `trade` was paid `amount`; the status.
async fn notify(
    app: &TestApp,
    providers: &Providers,
    trade: &str,
    amount: &str,
    notify_id: &str,
) -> anyhow::Result<u16> {
    let body = providers.alipay.sign_notification(&[
        ("notify_id", notify_id),
        ("notify_type", "trade_status_sync"),
        ("app_id", ALIPAY_APP_ID),
        ("trade_no", &format!("2026{trade}")),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", amount),
        ("out_trade_no", trade),
    ]);
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/alipay", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

async fn compensations(app: &TestApp, reader: &SignedIn) -> anyhow::Result<Vec<Value>> {
    let answer = app
        .send(
            Method::GET,
            "/api/me/compensations",
            Some(&reader.token),
            None,
        )
        .await?
        .expect_ok()?;
    Ok(answer.json["compensations"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

with_providers!(a_lost_book_is_paid_for, |app, providers| {
    let record = library(app).await?;
    app.sql(&format!(
        "UPDATE records SET list_price_fen = 3580 WHERE id = {record}"
    ))
    .await?;
    let reader = app.borrower(providers, "loser").await?;
    let (loan, copy) = borrowed(app, &reader, record).await?;

    // Declared lost: the list price times the factor (2), an order string;
    // a retry answers the same compensation.
    let path = format!("/api/me/loans/{loan}/lost");
    let lost = app.post_json(&path, Some(&reader.token), json!({})).await?;
    assert_eq!(lost.status, 201, "{:?}", lost.json);
    let owed = &lost.json["compensation"];
    assert_eq!(owed["amount_fen"], 7160);
    assert_eq!(owed["reason"], "lost");
    assert_eq!(owed["state"], "awaiting_payment");
    assert_eq!(owed["out_trade_no"], format!("WJCMP{loan}"));
    assert!(lost.json["order_str"].as_str().unwrap().contains("WJCMP"));
    let again = app.post_json(&path, Some(&reader.token), json!({})).await?;
    assert_eq!(again.status, 200, "{:?}", again.json);
    assert_eq!(again.json["compensation"]["id"], owed["id"]);
    // Another reader's loan is not theirs to lose.
    let other = app.borrower(providers, "other").await?;
    app.post_json(&path, Some(&other.token), json!({}))
        .await?
        .assert_problem(404);

    // The loan is closed, the copy withdrawn, every step logged.
    let loans = app
        .send(Method::GET, "/api/me/loans", Some(&reader.token), None)
        .await?
        .expect_ok()?;
    assert_eq!(loans.json["loans"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.sql(&format!(
            "SELECT status FROM copies WHERE barcode = '{copy}'"
        ))
        .await?,
        "withdrawn"
    );
    assert_eq!(
        app.count(&format!(
            "loans WHERE id = {loan} AND lost_at_ms IS NOT NULL AND returned_at_ms IS NOT NULL"
        ))
        .await?,
        1
    );
    assert_eq!(
        app.count("events WHERE event IN ('loan_lost', 'copy_withdrawn', 'compensation_opened')")
            .await?,
        3
    );

    // Unpaid, it blocks new borrowing, orders and holds alike.
    let refused = place(app, &reader, record, "B001").await?;
    let problem = refused.assert_problem(403);
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/compensation-unpaid"),
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("71.60"),
        "{problem}"
    );
    app.post_json(
        "/api/me/holds",
        Some(&reader.token),
        json!({ "record_id": record, "point_code": "B001" }),
    )
    .await?
    .assert_problem(403);

    // Alipay's notification: another amount is refused; the right one pays
    // it once, and a replay changes nothing.
    let trade = format!("WJCMP{loan}");
    assert_eq!(
        notify(app, providers, &trade, "7.16", "cmp-bad").await?,
        400
    );
    assert_eq!(notify(app, providers, &trade, "71.60", "cmp-1").await?, 200);
    assert_eq!(notify(app, providers, &trade, "71.60", "cmp-1").await?, 200);
    assert_eq!(notify(app, providers, &trade, "71.60", "cmp-2").await?, 200);
    let mine = compensations(app, &reader).await?;
    assert_eq!(mine[0]["state"], "paid", "{mine:?}");
    assert_eq!(
        app.count("events WHERE event = 'compensation_paid'")
            .await?,
        1
    );
    let placed = place(app, &reader, record, "B001").await?;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    Ok(())
});

with_providers!(
    a_copy_returned_damaged_is_paid_for_by_its_last_reader,
    |app, providers| {
        let record = library(app).await?;
        let reader = app.borrower(providers, "careless").await?;
        let (_, copy) = borrowed(app, &reader, record).await?;
        let b001 = app.staff_token("B001").await?;
        let path = format!("/api/staff/copies/{copy}/damaged");
        // Still on loan: it is looked at when it comes back.
        app.post_json(&path, Some(&b001), json!({}))
            .await?
            .assert_problem(409);
        app.post_json(
            "/api/staff/returns",
            Some(&b001),
            json!({ "barcode": copy }),
        )
        .await?
        .expect_ok()?;
        // Staff elsewhere did not take it back.
        let b002 = app.staff_token("B002").await?;
        app.post_json(&path, Some(&b002), json!({}))
            .await?
            .assert_problem(403);
        let damaged = app.post_json(&path, Some(&b001), json!({})).await?;
        assert_eq!(damaged.status, 201, "{:?}", damaged.json);
        // No list price: the default (50 yuan) times 2.
        assert_eq!(damaged.json["compensation"]["amount_fen"], 10000);
        assert_eq!(damaged.json["compensation"]["reason"], "damaged");
        assert_eq!(damaged.json["reader_id"], reader.id);
        let again = app.post_json(&path, Some(&b001), json!({})).await?;
        assert_eq!(again.status, 200, "{:?}", again.json);
        assert_eq!(
            app.sql(&format!(
                "SELECT status FROM copies WHERE barcode = '{copy}'"
            ))
            .await?,
            "withdrawn"
        );
        let mine = compensations(app, &reader).await?;
        assert_eq!(mine.len(), 1);
        let pay = app
            .post_json(
                &format!("/api/me/compensations/{}/pay", mine[0]["id"]),
                Some(&reader.token),
                json!({}),
            )
            .await?
            .expect_ok()?;
        assert!(pay.json["order_str"].as_str().unwrap().contains("WJCMP"));
        place(app, &reader, record, "B001")
            .await?
            .assert_problem(403);
        Ok(())
    }
);
