//! Placing an order in one round trip (issue 20): on PostgreSQL one call
//! of `wj_place_order`, on SQLite the same steps one by one. Both must
//! refuse a signed-out token without the key-value store's help, still ask
//! the store about tokens older than `session_revocations`, answer exactly
//! what a read of the order gives, and keep nothing of a refused order.

use crate::orders::{library, order, pickup};
use reqwest::Method;
use wangjie_e2e::with_providers;

with_providers!(a_signed_out_token_places_no_order, |app, providers| {
    let ids = library(app).await?;
    let reader = app.borrower(providers, "gone").await?;
    app.send(Method::DELETE, "/api/session", Some(&reader.token), None)
        .await?
        .expect_ok()?;
    assert_eq!(
        app.count("session_revocations").await?,
        1,
        "sign-out writes the table beside the store"
    );
    order(app, &reader.token, "gone-1", pickup(&[ids[0]], "B001"))
        .await?
        .assert_problem(401);
    assert_eq!(app.count("orders").await?, 0);
    // A new sign-in is a new token, which places orders.
    let again = app.sign_in_wechat(providers, "openid-gone", None).await?;
    let placed = order(app, &again.token, "gone-2", pickup(&[ids[0]], "B001")).await?;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    // Expired revocations are forgotten by the retention job; this one is not.
    let job = app
        .admin(Method::POST, "/admin/jobs/run?job=retention")
        .await?
        .expect_ok()?;
    assert_eq!(job.json["session_revocations_pruned"], 0, "{}", job.json);
    app.sql("UPDATE session_revocations SET expires_at_ms = 1")
        .await?;
    let job = app
        .admin(Method::POST, "/admin/jobs/run?job=retention")
        .await?
        .expect_ok()?;
    assert_eq!(job.json["session_revocations_pruned"], 1, "{}", job.json);
    Ok(())
});

with_providers!(
    a_token_older_than_the_table_is_checked_in_the_store,
    |app, providers| {
        let ids = library(app).await?;
        let old = app.borrower(providers, "old").await?;
        app.send(Method::DELETE, "/api/session", Some(&old.token), None)
            .await?
            .expect_ok()?;
        // As if the sign-out had happened before migration 0025: only the
        // store knows, and the tokens are older than the table.
        app.sql("DELETE FROM session_revocations").await?;
        app.sql("UPDATE schema_migrations SET applied_at_ms = 9000000000000 WHERE version = 25")
            .await?;
        order(app, &old.token, "old-1", pickup(&[ids[0]], "B001"))
            .await?
            .assert_problem(401);
        // An old token that was never signed out passes the store's check.
        let fresh = app.sign_in_wechat(providers, "openid-old", None).await?;
        let placed = order(app, &fresh.token, "old-2", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        Ok(())
    }
);

with_providers!(the_answer_is_the_order_as_read_back, |app, providers| {
    let ids = library(app).await?;
    let reader = app.borrower(providers, "answer").await?;
    // A set from two branches (consolidated) and a single title.
    for (key, body) in [
        ("a-1", pickup(&[ids[1], ids[2]], "B003")),
        ("a-2", pickup(&[ids[0]], "B001")),
    ] {
        let placed = order(app, &reader.token, key, body.clone()).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        let id = placed.json["id"].as_i64().unwrap();
        let read = app
            .send(
                Method::GET,
                &format!("/api/orders/{id}"),
                Some(&reader.token),
                None,
            )
            .await?
            .expect_ok()?;
        assert_eq!(placed.json, read.json);
        // The replay answers the same.
        let again = order(app, &reader.token, key, body).await?;
        assert_eq!(again.json, read.json);
        assert_eq!(
                app.count(&format!(
                    "events WHERE subject_kind = 'order' AND subject_id = '{id}' AND event = 'order_placed'"
                ))
                .await?,
                1
            );
    }
    Ok(())
});

with_providers!(
    a_refused_order_keeps_nothing_and_says_why,
    |app, providers| {
        let ids = library(app).await?;
        let reader = app.borrower(providers, "refused").await?;
        let taker = app.borrower(providers, "taker").await?;
        // ORD-2's only copy goes to another reader; an order of ORD-1 and
        // ORD-2 is then refused whole, ORD-1's claimed copy left on its shelf.
        let taken = order(app, &taker.token, "t-1", pickup(&[ids[1]], "B002")).await?;
        assert_eq!(taken.status, 201, "{:?}", taken.json);
        let refused = order(app, &reader.token, "r-1", pickup(&[ids[0], ids[1]], "B001")).await?;
        let detail = refused.assert_problem(409)["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(detail.contains("no copy of «订单测试乙»"), "{detail}");
        assert_eq!(
            app.count(&format!("orders WHERE reader_id = {}", reader.id))
                .await?,
            0
        );
        assert_eq!(app.count("copies WHERE status = 'promised'").await?, 1);
        // The same key may be used again once the request can be placed.
        let placed = order(app, &reader.token, "r-1", pickup(&[ids[0]], "B001")).await?;
        assert_eq!(placed.status, 201, "{:?}", placed.json);

        order(app, &reader.token, "r-2", pickup(&[ids[2]], "DC01"))
            .await?
            .assert_problem(400);
        order(app, &reader.token, "r-3", pickup(&[999_999], "B001"))
            .await?
            .assert_problem(404);
        app.sql(r#"UPDATE service_points SET opening = '{"always_open": false, "hours": []}' WHERE code = 'B004'"#)
            .await?;
        let closed = order(app, &reader.token, "r-4", pickup(&[ids[2]], "B004")).await?;
        let detail = closed.assert_problem(409)["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(detail.ends_with("is closed"), "{detail}");
        app.sql(&format!(
            "UPDATE readers SET loan_quota = 2 WHERE id = {}",
            reader.id
        ))
        .await?;
        let over = order(app, &reader.token, "r-5", pickup(&[ids[2], ids[3]], "B001")).await?;
        let detail = over.assert_problem(409)["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            detail.contains("would make 3 books held or on order; the quota is 2"),
            "{detail}"
        );
        app.sql(&format!(
            "UPDATE readers SET status = 'suspended' WHERE id = {}",
            reader.id
        ))
        .await?;
        order(app, &reader.token, "r-6", pickup(&[ids[2]], "B001"))
            .await?
            .assert_problem(403);
        assert_eq!(
            app.count(&format!("orders WHERE reader_id = {}", reader.id))
                .await?,
            1
        );
        Ok(())
    }
);
