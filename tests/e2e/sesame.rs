//! Credit that remembers (docs/credit.md): a loan on Sesame deposit-free
//! standing is an order at Sesame (信用借还), created when it starts,
//! moved when it is renewed, reported when it is late beyond the grace,
//! which withdraws the deposit-free standing, and completed when the book
//! comes back, which restores it. Every call goes through the outbox:
//! refused or failed calls are retried, and repeats change nothing.

use crate::lockers::{dispatched, library, place};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::{Providers, SignedIn};
use wangjie_e2e::{with_providers, TestApp};
use wangjie_fakes::Mode;

const DAY: i64 = 86_400_000;

async fn sesame_reader(
    app: &TestApp,
    providers: &Providers,
    user: &str,
) -> anyhow::Result<SignedIn> {
    let reader = app.sign_in_alipay(providers, user, Some(720)).await?;
    app.check_credit(&reader, "sesame", Some(&format!("code-{user}")))
        .await?
        .expect_ok()?;
    Ok(reader)
}

async fn sync(app: &TestApp) -> anyhow::Result<Value> {
    Ok(app
        .admin(Method::POST, "/admin/jobs/sync-sesame")
        .await?
        .expect_ok()?
        .json)
}

async fn credit(app: &TestApp, reader: &SignedIn) -> anyhow::Result<Value> {
    Ok(app
        .send(Method::GET, "/api/me/credit", Some(&reader.token), None)
        .await?
        .expect_ok()?
        .json)
}

with_providers!(
    a_late_sesame_loan_is_reported_and_the_standing_withdrawn,
    |app, providers| {
        let record = library(app).await?;
        let reader = sesame_reader(app, providers, "2088000000001900").await?;
        let order = dispatched(app, &reader, record, "B001").await?;
        let id = order["id"].as_i64().unwrap();
        let b001 = app.staff_token("B001").await?;
        for step in ["arrive", "hand-over"] {
            app.post_json(
                &format!("/api/staff/orders/{id}/{step}"),
                Some(&b001),
                json!({}),
            )
            .await?
            .expect_ok()?;
        }
        let loans = app
            .send(Method::GET, "/api/me/loans", Some(&reader.token), None)
            .await?
            .expect_ok()?;
        let loan = loans.json["loans"][0]["id"].as_i64().unwrap();
        let copy = loans.json["loans"][0]["copy_barcode"]
            .as_str()
            .unwrap()
            .to_string();
        let out_order_no = format!("WJZM{loan}");
        assert_eq!(
            app.count(&format!(
                "sesame_orders WHERE loan_id = {loan} AND pending = 'create'"
            ))
            .await?,
            1
        );

        // Twenty days in already, so that a renewal moves the due date.
        let now = wangjie_shared::now_ms();
        app.sql(&format!(
            "UPDATE loans SET started_at_ms = {}, due_at_ms = {} WHERE id = {loan}",
            now - 20 * DAY,
            now + 10 * DAY
        ))
        .await?;

        // Sesame down: the call is counted and kept for later, nothing lost.
        providers.alipay.set_mode(Mode::Status(502));
        let first = sync(app).await?;
        assert_eq!(first["failed"], 1, "{first}");
        assert_eq!(
            app.sql(&format!(
                "SELECT attempts FROM sesame_orders WHERE loan_id = {loan}"
            ))
            .await?,
            "1"
        );
        // Not due again yet: a second run sends nothing.
        providers.alipay.set_mode(Mode::Normal);
        assert_eq!(sync(app).await?["created"], 0);
        app.sql("UPDATE sesame_orders SET next_attempt_at_ms = 0")
            .await?;
        let created = sync(app).await?;
        assert_eq!(created["created"], 1, "{created}");
        let at_sesame = providers
            .alipay
            .rent_order(&out_order_no)
            .expect("created at Sesame");
        assert_eq!(at_sesame.use_state, "borrow");
        assert_eq!(
            app.sql(&format!(
                "SELECT zm_order_no FROM sesame_orders WHERE loan_id = {loan}"
            ))
            .await?,
            at_sesame.order_no
        );
        // Nothing more is owed: a repeat sends nothing.
        assert_eq!(
            sync(app).await?,
            json!({"created": 0, "modified": 0, "completed": 0, "reported": 0, "failed": 0})
        );

        // A renewal (twenty days in) moves Sesame's expiry.
        app.post_json(
            &format!("/api/me/loans/{loan}/renew"),
            Some(&reader.token),
            json!({}),
        )
        .await?
        .expect_ok()?;
        assert_eq!(sync(app).await?["modified"], 1);
        assert_ne!(
            providers
                .alipay
                .rent_order(&out_order_no)
                .unwrap()
                .expiry_time,
            at_sesame.expiry_time
        );
        assert_eq!(
            providers.alipay.calls("zhima.merchant.order.rent.modify"),
            1
        );

        // Late beyond the grace (3 days): the job owes a report, the sync
        // makes it, and the deposit-free standing is withdrawn.
        app.sql(&format!(
            "UPDATE loans SET started_at_ms = {}, due_at_ms = {} WHERE id = {loan}",
            now - 40 * DAY,
            now - 4 * DAY
        ))
        .await?;
        assert_eq!(credit(app, &reader).await?["may_borrow"], true);
        let run = app
            .admin(Method::POST, "/admin/jobs/run?job=sesame_overdue")
            .await?
            .expect_ok()?;
        assert_eq!(run.json["sesame_late"], 1, "{:?}", run.json);
        let again = app
            .admin(Method::POST, "/admin/jobs/run?job=sesame_overdue")
            .await?
            .expect_ok()?;
        assert_eq!(again.json["sesame_late"], 0);
        assert_eq!(sync(app).await?["reported"], 1);
        assert_eq!(
            app.sql(&format!(
                "SELECT state FROM sesame_orders WHERE loan_id = {loan}"
            ))
            .await?,
            "overdue"
        );
        assert_eq!(credit(app, &reader).await?["may_borrow"], false);
        let me = app
            .send(Method::GET, "/api/me", Some(&reader.token), None)
            .await?
            .expect_ok()?;
        assert!(
            me.json["sesame_overdue_since_ms"].as_i64().is_some(),
            "{:?}",
            me.json
        );
        place(app, &reader, record, "B001")
            .await?
            .assert_problem(403);
        assert_eq!(
            app.count("events WHERE event = 'sesame_overdue_reported'")
                .await?,
            1
        );
        assert_eq!(
            app.count("events WHERE event = 'deposit_free_withdrawn'")
                .await?,
            1
        );

        // Returned: the order is completed at Sesame, the standing counts again.
        app.post_json(
            "/api/staff/returns",
            Some(&b001),
            json!({ "barcode": copy }),
        )
        .await?
        .expect_ok()?;
        assert_eq!(sync(app).await?["completed"], 1);
        assert_eq!(
            providers
                .alipay
                .rent_order(&out_order_no)
                .unwrap()
                .use_state,
            "restore"
        );
        assert_eq!(credit(app, &reader).await?["may_borrow"], true);
        assert_eq!(
            app.count("events WHERE event = 'deposit_free_restored'")
                .await?,
            1
        );
        assert_eq!(sync(app).await?["completed"], 0);
        assert_eq!(
            providers.alipay.calls("zhima.merchant.order.rent.complete"),
            1
        );
        Ok(())
    }
);

with_providers!(
    a_loan_on_osmanthus_standing_makes_no_sesame_order,
    |app, providers| {
        let record = library(app).await?;
        let reader = app.borrower(providers, "city").await?;
        let order = dispatched(app, &reader, record, "B001").await?;
        let id = order["id"].as_i64().unwrap();
        let b001 = app.staff_token("B001").await?;
        for step in ["arrive", "hand-over"] {
            app.post_json(
                &format!("/api/staff/orders/{id}/{step}"),
                Some(&b001),
                json!({}),
            )
            .await?
            .expect_ok()?;
        }
        assert_eq!(app.count("sesame_orders").await?, 0);
        assert_eq!(sync(app).await?["created"], 0);
        Ok(())
    }
);
