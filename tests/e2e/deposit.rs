//! The deposit: a reader whose credit is not enough pays through Alipay,
//! and only Alipay's verified notification makes them a borrower.

use reqwest::Method;
use serde_json::json;
use wangjie_e2e::with_providers::{Providers, ALIPAY_APP_ID};
use wangjie_e2e::{with_providers, Answer, TestApp};

async fn notify(app: &TestApp, body: String) -> anyhow::Result<(u16, String)> {
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/alipay", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.text().await?))
}

fn paid(providers: &Providers, notify_id: &str, out_trade_no: &str, amount: &str) -> String {
    providers.alipay.sign_notification(&[
        ("notify_id", notify_id),
        ("notify_type", "trade_status_sync"),
        ("notify_time", "2026-11-28 10:00:00"),
        ("app_id", ALIPAY_APP_ID),
        ("out_trade_no", out_trade_no),
        ("trade_no", &format!("2026112822001{out_trade_no}")),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", amount),
    ])
}

async fn open_deposit(
    app: &TestApp,
    providers: &Providers,
    user: &str,
) -> anyhow::Result<(String, Answer)> {
    let reader = app.sign_in_alipay(providers, user, Some(550)).await?;
    app.check_credit(&reader, "sesame", Some(&format!("code-{user}")))
        .await?
        .expect_ok()?;
    let opened = app
        .post_json("/api/me/deposit", Some(&reader.token), json!({}))
        .await?;
    assert_eq!(opened.status, 201, "{:?}", opened.json);
    Ok((reader.token, opened))
}

with_providers!(
    a_deposit_paid_once_makes_a_borrower_whatever_the_replays,
    |app, providers| {
        let (token, opened) = open_deposit(app, providers, "2088000000001000").await?;
        let deposit = &opened.json["deposit"];
        assert_eq!(deposit["state"], "awaiting_payment");
        assert_eq!(deposit["amount_fen"], 10000);
        let order = opened.json["order_str"].as_str().unwrap();
        assert!(
            order.contains("method=alipay.trade.app.pay") && order.contains("sign="),
            "{order}"
        );
        // A second tap gives the same deposit, not a second trade.
        let again = app
            .post_json("/api/me/deposit", Some(&token), json!({}))
            .await?;
        assert_eq!(again.json["deposit"]["id"], deposit["id"]);

        let out_trade_no = deposit["out_trade_no"].as_str().unwrap();
        let body = paid(providers, "notify-1", out_trade_no, "100.00");
        for _ in 0..8 {
            assert_eq!(
                notify(app, body.clone()).await?,
                (200, "success".to_string())
            );
        }
        // Alipay may also send the same trade under a new notify_id.
        let other = paid(providers, "notify-2", out_trade_no, "100.00");
        assert_eq!(notify(app, other).await?, (200, "success".to_string()));

        let me = app.send(Method::GET, "/api/me", Some(&token), None).await?;
        assert_eq!(me.json["standing"], "deposit");
        assert!(me.json["deposit_paid_at_ms"].is_i64(), "{:?}", me.json);
        assert_eq!(me.json["loan_quota"], 5);
        let credit = app
            .send(Method::GET, "/api/me/credit", Some(&token), None)
            .await?;
        assert_eq!(credit.json["may_borrow"], true);
        let current = app
            .send(Method::GET, "/api/me/deposit", Some(&token), None)
            .await?;
        assert_eq!(current.json["state"], "paid");
        // Paid: no second deposit.
        app.post_json("/api/me/deposit", Some(&token), json!({}))
            .await?
            .assert_problem(409);
        Ok(())
    }
);

with_providers!(
    a_forged_or_wrong_notification_changes_nothing,
    |app, providers| {
        let (token, opened) = open_deposit(app, providers, "2088000000001001").await?;
        let out_trade_no = opened.json["deposit"]["out_trade_no"]
            .as_str()
            .unwrap()
            .to_string();

        // Tampered after signing: the amount is not what Alipay signed.
        let genuine = paid(providers, "notify-3", &out_trade_no, "100.00");
        let tampered = genuine.replace("TRADE_SUCCESS", "TRADE_FINISHED");
        assert_eq!(notify(app, tampered).await?.0, 401);
        // Signed by someone else's key.
        let forged = wangjie_fakes::forge_notification(&[
            ("notify_id", "notify-4"),
            ("notify_type", "trade_status_sync"),
            ("app_id", ALIPAY_APP_ID),
            ("out_trade_no", &out_trade_no),
            ("trade_no", "1"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "100.00"),
        ]);
        assert_eq!(notify(app, forged).await?.0, 401);
        assert_eq!(notify(app, "garbage=%%%".into()).await?.0, 401);
        // Genuine, but for another app, or for less money.
        let elsewhere = providers.alipay.sign_notification(&[
            ("notify_id", "notify-5"),
            ("notify_type", "trade_status_sync"),
            ("app_id", "2021999999999999"),
            ("out_trade_no", &out_trade_no),
            ("trade_no", "2"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "100.00"),
        ]);
        assert_eq!(notify(app, elsewhere).await?.0, 403);
        let cheap = paid(providers, "notify-6", &out_trade_no, "0.01");
        assert_eq!(notify(app, cheap).await?.0, 400);
        let unknown = paid(providers, "notify-7", "WJDEP999T1", "100.00");
        assert_eq!(notify(app, unknown).await?.0, 404);

        let current = app
            .send(Method::GET, "/api/me/deposit", Some(&token), None)
            .await?;
        assert_eq!(current.json["state"], "awaiting_payment");
        let credit = app
            .send(Method::GET, "/api/me/credit", Some(&token), None)
            .await?;
        assert_eq!(credit.json["may_borrow"], false);
        // The refused "cheap" notice left no ledger row: the genuine one for
        // the same notify id still works afterwards.
        let genuine = paid(providers, "notify-6", &out_trade_no, "100.00");
        assert_eq!(notify(app, genuine).await?, (200, "success".to_string()));
        let current = app
            .send(Method::GET, "/api/me/deposit", Some(&token), None)
            .await?;
        assert_eq!(current.json["state"], "paid");
        Ok(())
    }
);

with_providers!(readers_with_credit_need_no_deposit, |app, providers| {
    let reader = app
        .sign_in_alipay(providers, "2088000000001002", Some(720))
        .await?;
    app.check_credit(&reader, "sesame", Some("code-2088000000001002"))
        .await?
        .expect_ok()?;
    app.post_json("/api/me/deposit", Some(&reader.token), json!({}))
        .await?
        .assert_problem(409);
    Ok(())
});
