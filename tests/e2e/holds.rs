//! The holds queue (docs/holds.md): a reader joins the queue of a title
//! with no copy on a shelf, a returned copy is given to the first waiting
//! reader as an order on the fulfilment line, a hold not collected passes
//! to the next, and one returned copy goes to one reader whatever the
//! concurrency.

use crate::lockers::dispatched;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use wangjie_e2e::with_providers::{Providers, SignedIn};
use wangjie_e2e::{with_providers, Answer, TestApp, ADMIN_TOKEN};

/// The demo's points and staff, then HOLD-1 (one copy, home B001), HOLD-2
/// (one copy, B001), HOLD-3 (four copies, all home at B001); their ids.
async fn library(app: &TestApp) -> anyhow::Result<Vec<i64>> {
    app.load_demo(1, 0).await?.expect_ok()?;
    let csv = "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
               HOLD-1,,预约测试甲,作者甲,测试出版社,2020,,I3/1,H1-1,B001,\n\
               HOLD-2,,预约测试乙,作者乙,测试出版社,2021,,I3/2,H2-1,B001,\n\
               HOLD-3,,预约测试丙,作者丙,测试出版社,2022,,I3/3,H3-1,B001,\n\
               HOLD-3,,,,,,,,H3-2,B001,\n\
               HOLD-3,,,,,,,,H3-3,B001,\n\
               HOLD-3,,,,,,,,H3-4,B001,\n";
    app.send(
        Method::POST,
        "/admin/catalogue/import?format=csv",
        Some(ADMIN_TOKEN),
        Some(csv.as_bytes().to_vec()),
    )
    .await?
    .expect_ok()?;
    let mut ids = Vec::new();
    for title in ["预约测试甲", "预约测试乙", "预约测试丙"] {
        let found = app
            .get(&format!("/api/search?title={title}"))
            .await?
            .expect_ok()?;
        ids.push(found.json["hits"][0]["id"].as_i64().expect("imported"));
    }
    Ok(ids)
}

/// Every copy of `record` lent to `reader` straight in the database (the
/// whole lending flow is tested elsewhere).
async fn all_lent(app: &TestApp, record: i64, reader: &SignedIn) -> anyhow::Result<()> {
    let now = wangjie_shared::now_ms();
    app.sql(&format!(
        "INSERT INTO loans (copy_barcode, reader_id, started_at_ms, due_at_ms) \
         SELECT barcode, {}, {now}, {} FROM copies WHERE record_id = {record};
         UPDATE copies SET status = 'on_loan', current_point = NULL WHERE record_id = {record};",
        reader.id,
        now + 86_400_000
    ))
    .await?;
    Ok(())
}

async fn join(
    app: &TestApp,
    reader: &SignedIn,
    record: i64,
    point: &str,
) -> anyhow::Result<Answer> {
    app.post_json(
        "/api/me/holds",
        Some(&reader.token),
        json!({ "record_id": record, "point_code": point }),
    )
    .await
}

async fn holds(app: &TestApp, reader: &SignedIn) -> anyhow::Result<Vec<Value>> {
    let answer = app
        .send(Method::GET, "/api/me/holds", Some(&reader.token), None)
        .await?
        .expect_ok()?;
    Ok(answer.json["holds"].as_array().cloned().unwrap_or_default())
}

async fn give_back(app: &TestApp, staff: &str, barcode: &str) -> anyhow::Result<Answer> {
    app.post_json(
        "/api/staff/returns",
        Some(staff),
        json!({ "barcode": barcode }),
    )
    .await
}

async fn order_of(app: &TestApp, reader: &SignedIn, id: i64) -> anyhow::Result<Value> {
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

async fn hold_served_by_a_return(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let ids = library(app).await?;
    let (first, second) = (ids[0], ids[1]);
    let lender = app.borrower(providers, "lender").await?;
    let b = app.borrower(providers, "bea").await?;
    let c = app.borrower(providers, "cai").await?;

    // A copy on a shelf is ordered, not waited for.
    join(app, &b, first, "B002").await?.assert_problem(409);

    // The only copy is lent through the whole line: now nothing is on a shelf.
    let order = dispatched(app, &lender, first, "B001").await?;
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
    let refused = crate::orders::order(
        app,
        &b.token,
        "b-1",
        crate::orders::pickup(&[first], "B002"),
    )
    .await?;
    refused.assert_problem(409);

    // B then C join; C may not join twice; C leaves and comes back last.
    let joined = join(app, &b, first, "B002").await?;
    assert_eq!(joined.status, 201, "{:?}", joined.json);
    assert_eq!(joined.json["state"], "waiting");
    assert_eq!(joined.json["position"], 1);
    assert_eq!(joined.json["pickup_point"], "B002");
    let b_hold = joined.json["id"].as_i64().unwrap();
    let c_first = join(app, &c, first, "B001").await?;
    assert_eq!(c_first.json["position"], 2, "{:?}", c_first.json);
    join(app, &c, first, "B001").await?.assert_problem(409);
    let c_id = c_first.json["id"].as_i64().unwrap();
    let left = app
        .send(
            Method::DELETE,
            &format!("/api/me/holds/{c_id}"),
            Some(&c.token),
            None,
        )
        .await?
        .expect_ok()?;
    assert_eq!(left.json["state"], "cancelled");
    assert_eq!(left.json["position"], Value::Null);
    // Another reader's hold is not found.
    app.send(
        Method::DELETE,
        &format!("/api/me/holds/{b_hold}"),
        Some(&c.token),
        None,
    )
    .await?
    .assert_problem(404);
    let c_again = join(app, &c, first, "B001").await?.expect_ok()?;
    assert_eq!(c_again.json["position"], 2);
    let c_hold = c_again.json["id"].as_i64().unwrap();
    // The limit (2 in this test): C waits for a second title, not a third.
    all_lent(app, second, &lender).await?;
    join(app, &c, second, "B001").await?.expect_ok()?;
    all_lent(app, ids[2], &lender).await?;
    let third = join(app, &c, ids[2], "B001").await?;
    third.assert_problem(409);
    assert!(third.json["detail"]
        .as_str()
        .unwrap()
        .contains("most allowed"));

    // The copy comes back at its home counter: B's hold gets it, as an order.
    let back = give_back(app, &b001, "H1-1").await?.expect_ok()?;
    assert_eq!(back.json["status"], "promised", "{:?}", back.json);
    assert_eq!(back.json["hold"]["hold_id"], b_hold);
    let b_holds = holds(app, &b).await?;
    assert_eq!(b_holds[0]["state"], "allocated", "{b_holds:?}");
    assert_eq!(b_holds[0]["order_state"], "picking");
    let b_order = b_holds[0]["order_id"].as_i64().unwrap();
    let placed = order_of(app, &b, b_order).await?;
    assert_eq!(placed["lines"][0]["copy_barcode"], "H1-1");
    assert_eq!(placed["lines"][0]["pick_point"], "B001");
    assert_eq!(placed["pickup_point"], "B002");
    assert_eq!(
        app.count(&format!(
            "notices WHERE dedup_key = 'hold_allocated:{b_hold}'"
        ))
        .await?,
        1
    );
    assert_eq!(
        app.count(&format!(
            "events WHERE subject_kind = 'hold' AND subject_id = '{b_hold}' \
             AND event IN ('hold_joined', 'hold_allocated')"
        ))
        .await?,
        2
    );
    let c_holds = holds(app, &c).await?;
    let waiting: Vec<_> = c_holds.iter().filter(|h| h["id"] == c_hold).collect();
    assert_eq!(waiting[0]["position"], 1, "{c_holds:?}");
    // An allocated hold is cancelled through its order.
    app.send(
        Method::DELETE,
        &format!("/api/me/holds/{b_hold}"),
        Some(&b.token),
        None,
    )
    .await?
    .assert_problem(409);

    // B's order runs the line to the hold shelf at B002 and is not collected.
    crate::orders::pick_all(app, &placed).await?;
    app.post_json(
        &format!("/api/staff/orders/{b_order}/dispatch"),
        Some(&b001),
        json!({}),
    )
    .await?
    .expect_ok()?;
    let b002 = app.staff_token("B002").await?;
    app.post_json(
        &format!("/api/staff/orders/{b_order}/arrive"),
        Some(&b002),
        json!({}),
    )
    .await?
    .expect_ok()?;
    app.sql(&format!(
        "UPDATE orders SET pickup_deadline_at_ms = 1 WHERE id = {b_order}"
    ))
    .await?;
    let run = app
        .admin(Method::POST, "/admin/jobs/run?job=pickup_expiry")
        .await?
        .expect_ok()?;
    assert_eq!(run.json["pickup_expired"], 1, "{:?}", run.json);

    // It passes to C, picked at its home branch where it travels back.
    let c_holds = holds(app, &c).await?;
    let served: Vec<_> = c_holds.iter().filter(|h| h["id"] == c_hold).collect();
    assert_eq!(served[0]["state"], "allocated", "{c_holds:?}");
    let c_order = order_of(app, &c, served[0]["order_id"].as_i64().unwrap()).await?;
    assert_eq!(c_order["state"], "picking");
    assert_eq!(c_order["lines"][0]["copy_barcode"], "H1-1");
    assert_eq!(c_order["lines"][0]["pick_point"], "B001");
    assert_eq!(order_of(app, &b, b_order).await?["state"], "pickup_expired");
    Ok(())
}

with_providers!(
    a_hold_is_served_by_a_return,
    [("hold_limit", "2")],
    |app, providers| { hold_served_by_a_return(app, providers).await }
);

with_providers!(one_returned_copy_goes_to_one_reader, |app, providers| {
    let ids = library(app).await?;
    let record = ids[2];
    let lender = app.borrower(providers, "lender").await?;
    all_lent(app, record, &lender).await?;
    let mut readers = Vec::new();
    for n in 0..8 {
        let reader = app.borrower(providers, &format!("queue{n}")).await?;
        join(app, &reader, record, "B001").await?.expect_ok()?;
        readers.push(reader);
    }
    // Each of the four copies handed in twice at once, all eight together.
    let b001 = app.staff_token("B001").await?;
    let returns = ["H3-1", "H3-2", "H3-3", "H3-4"]
        .iter()
        .flat_map(|barcode| [barcode, barcode])
        .map(|barcode| give_back(app, &b001, barcode));
    let answers = futures::future::join_all(returns).await;
    let mut accepted = 0;
    for answer in answers {
        let answer = answer?;
        match answer.status.as_u16() {
            200 => accepted += 1,
            409 => {}
            other => panic!("{other}: {:?}", answer.json),
        }
    }
    assert_eq!(accepted, 4);

    // Four holds served, the first four in the queue, each with its own copy.
    let mut copies = HashSet::new();
    for (n, reader) in readers.iter().enumerate() {
        let mine = holds(app, reader).await?;
        let expected = if n < 4 { "allocated" } else { "waiting" };
        assert_eq!(mine[0]["state"], expected, "reader {n}: {mine:?}");
        if n < 4 {
            let order = order_of(app, reader, mine[0]["order_id"].as_i64().unwrap()).await?;
            assert!(copies.insert(order["lines"][0]["copy_barcode"].to_string()));
        } else {
            assert_eq!(mine[0]["position"], (n - 3) as i64);
        }
    }
    assert_eq!(copies.len(), 4);
    assert_eq!(app.count("order_lines WHERE state = 'promised'").await?, 4);
    assert_eq!(
        app.count(
            "copies WHERE record_id IN (SELECT record_id FROM holds) AND status = 'promised'"
        )
        .await?,
        4
    );
    Ok(())
});
