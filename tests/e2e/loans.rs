//! Loans after pickup: the reader sees and renews them within the rules
//! (`/api/me/loans`), and staff take copies back at any counter, the copy
//! travelling home and received back on its shelf (`/api/staff/returns`).

use crate::lockers::{dispatched, library, locker_test, now, on, MASTER};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::{spawn_with_providers, Providers, SignedIn};
use wangjie_e2e::{Backend, TestApp};

/// A loan of one copy of the test title, handed over at B001; the reader
/// and the copy.
async fn loan(
    app: &TestApp,
    providers: &Providers,
    name: &str,
) -> anyhow::Result<(SignedIn, String)> {
    let record = library(app).await?;
    let reader = app.borrower(providers, name).await?;
    let order = dispatched(app, &reader, record, "B001").await?;
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
    let copy = order["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap()
        .to_string();
    Ok((reader, copy))
}

async fn my_loans(app: &TestApp, reader: &SignedIn) -> anyhow::Result<Vec<Value>> {
    let answer = app
        .send(Method::GET, "/api/me/loans", Some(&reader.token), None)
        .await?
        .expect_ok()?;
    Ok(answer.json["loans"].as_array().cloned().unwrap_or_default())
}

async fn renew(
    app: &TestApp,
    reader: &SignedIn,
    loan: &str,
) -> anyhow::Result<wangjie_e2e::Answer> {
    app.post_json(
        &format!("/api/me/loans/{loan}/renew"),
        Some(&reader.token),
        json!({}),
    )
    .await
}

async fn renewals(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let (reader, copy) = loan(app, providers, "renew").await?;
    let other = app.borrower(providers, "other").await?;
    let loans = my_loans(app, &reader).await?;
    assert_eq!(loans.len(), 1, "{loans:?}");
    assert_eq!(loans[0]["copy_barcode"], copy.as_str());
    assert_eq!(loans[0]["renewals"], 0);
    let id = loans[0]["id"].as_i64().unwrap().to_string();
    let due = loans[0]["due_at_ms"].as_i64().unwrap();
    assert!(due > now() + 29 * 86_400_000);

    // Another reader's loan is not found; a bad id is a clear 400.
    renew(app, &other, &id).await?.assert_problem(404);
    renew(app, &reader, "abc").await?.assert_problem(400);
    renew(app, &reader, "999999").await?.assert_problem(404);

    // Once (max_renewals = 1): a later due date; twice: refused.
    let renewed = renew(app, &reader, &id).await?;
    assert_eq!(renewed.status, 200, "{:?}", renewed.json);
    assert_eq!(renewed.json["renewals"], 1);
    assert!(
        renewed.json["due_at_ms"].as_i64().unwrap() > due,
        "{:?}",
        renewed.json
    );
    let again = renew(app, &reader, &id).await?;
    again.assert_problem(409);
    assert!(again.json["detail"]
        .as_str()
        .unwrap()
        .contains("the most allowed"));
    assert_eq!(my_loans(app, &reader).await?[0]["renewals"], 1);
    Ok(())
}
locker_test!(a_loan_is_renewed_once_and_only_by_its_reader, renewals);

async fn counter_returns(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let (reader, copy) = loan(app, providers, "counter").await?;
    let elsewhere = app.staff_token("B002").await?;
    let home = app.staff_token("B001").await?;
    let scan = json!({ "barcode": copy });

    // Handed in at another branch: the loan closes, the copy travels home.
    let returned = app
        .post_json("/api/staff/returns", Some(&elsewhere), scan.clone())
        .await?;
    assert_eq!(returned.status, 200, "{:?}", returned.json);
    assert_eq!(returned.json["status"], "in_transit");
    assert_eq!(returned.json["home_point"], "B001");
    assert!(returned.json["loan_id"].as_i64().is_some());
    assert!(my_loans(app, &reader).await?.is_empty());
    // Scanned again there: nothing to do.
    app.post_json("/api/staff/returns", Some(&elsewhere), scan.clone())
        .await?
        .assert_problem(409);
    // Arriving home: back on the shelf, orderable again.
    let received = app
        .post_json("/api/staff/returns", Some(&home), scan.clone())
        .await?;
    assert_eq!(received.status, 200, "{:?}", received.json);
    assert_eq!(received.json["status"], "on_shelf");
    assert_eq!(received.json["loan_id"], Value::Null);
    app.post_json("/api/staff/returns", Some(&home), scan)
        .await?
        .assert_problem(409);
    // Without a staff session: 401.
    let anonymous = app
        .post_json("/api/staff/returns", None, json!({ "barcode": copy }))
        .await?;
    assert_eq!(anonymous.status.as_u16(), 401);
    Ok(())
}
locker_test!(
    a_copy_handed_in_anywhere_goes_home_and_back_on_its_shelf,
    counter_returns
);

async fn overdue_not_renewed(backend: Backend) -> anyhow::Result<()> {
    // Loans of one second: overdue by the time the reader asks.
    let (app, providers) = spawn_with_providers(
        backend,
        &[("locker_master_key", MASTER), ("loan_period_ms", "1000")],
    )
    .await?;
    let outcome = async {
        let (reader, _) = loan(&app, &providers, "late").await?;
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let loans = my_loans(&app, &reader).await?;
        assert_eq!(loans[0]["overdue"], true, "{loans:?}");
        let id = loans[0]["id"].as_i64().unwrap().to_string();
        let refused = renew(&app, &reader, &id).await?;
        refused.assert_problem(409);
        assert!(refused.json["detail"].as_str().unwrap().contains("overdue"));
        anyhow::Ok(())
    }
    .await;
    app.stop().await?;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_loan_is_not_renewed_sqlite() -> anyhow::Result<()> {
    overdue_not_renewed(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_loan_is_not_renewed_postgres() -> anyhow::Result<()> {
    overdue_not_renewed(Backend::Postgres).await
}
