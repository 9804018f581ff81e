//! "You choose, we pay" (docs/suggestions.md): a reader proposes a book,
//! the library's rules refuse what it will not buy, a librarian approves
//! or declines, and the bought book, once imported, is lent to its
//! proposer through an order made for them.

use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::SignedIn;
use wangjie_e2e::{with_providers, Answer, TestApp, ADMIN_TOKEN};

const HELD_ISBN: &str = "9787536692930";
const WANTED_ISBN: &str = "9787020002207";

async fn import(app: &TestApp, csv: &str) -> anyhow::Result<Value> {
    Ok(app
        .send(
            Method::POST,
            "/admin/catalogue/import?format=csv",
            Some(ADMIN_TOKEN),
            Some(csv.as_bytes().to_vec()),
        )
        .await?
        .expect_ok()?
        .json)
}

async fn propose(app: &TestApp, reader: &SignedIn, body: Value) -> anyhow::Result<Answer> {
    app.post_json("/api/me/suggestions", Some(&reader.token), body)
        .await
}

with_providers!(
    a_suggestion_is_bought_imported_and_lent_to_its_proposer,
    [
        ("suggestion_excluded_subjects", "考试,教辅"),
        ("suggestion_price_cap_fen", "10000"),
        ("suggestion_monthly_limit", "2"),
    ],
    |app, providers| {
        app.load_demo(1, 0).await?.expect_ok()?;
        import(
            app,
            &format!(
                "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
                 HELD,{HELD_ISBN},三体,刘慈欣,重庆出版社,2008,,I247/1,HELD-1,B001,\n"
            ),
        )
        .await?;
        let reader = app.borrower(providers, "proposer").await?;
        let other = app.borrower(providers, "second").await?;

        // The rules: what the library holds, excluded subjects, bad ISBNs.
        let held = propose(
            app,
            &reader,
            json!({ "isbn": HELD_ISBN, "point_code": "B002" }),
        )
        .await?;
        assert!(held.assert_problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("三体"));
        propose(
            app,
            &reader,
            json!({ "isbn": WANTED_ISBN, "subject": "高考考试", "point_code": "B002" }),
        )
        .await?
        .assert_problem(409);
        propose(
            app,
            &reader,
            json!({ "isbn": "9787020002208", "point_code": "B002" }),
        )
        .await?
        .assert_problem(400);
        propose(
            app,
            &reader,
            json!({ "title": "只有书名", "point_code": "B002" }),
        )
        .await?
        .assert_problem(400);

        // Proposed; nobody suggests it twice; two a month at most.
        let made = propose(
            app,
            &reader,
            json!({ "isbn": WANTED_ISBN, "note": "馆里没有", "subject": "小说", "point_code": "B002" }),
        )
        .await?;
        assert_eq!(made.status, 201, "{:?}", made.json);
        assert_eq!(made.json["state"], "proposed");
        let wanted = made.json["id"].as_i64().unwrap();
        propose(
            app,
            &other,
            json!({ "isbn": WANTED_ISBN, "point_code": "B001" }),
        )
        .await?
        .assert_problem(409);
        let second = propose(
            app,
            &reader,
            json!({ "title": "没人买的书", "author": "某作者", "point_code": "B002" }),
        )
        .await?
        .expect_ok()?;
        let unwanted = second.json["id"].as_i64().unwrap();
        let third = propose(
            app,
            &reader,
            json!({ "title": "第三本", "author": "某人", "point_code": "B002" }),
        )
        .await?;
        assert!(third.assert_problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("most allowed"));

        // The console: over the cap is refused; approved at a price;
        // the other declined with a reason; the reader is told each time.
        let staff = app.staff_token("B001").await?;
        let queue = app
            .send(Method::GET, "/api/staff/suggestions", Some(&staff), None)
            .await?
            .expect_ok()?;
        assert_eq!(
            queue.json["suggestions"].as_array().unwrap().len(),
            2,
            "{:?}",
            queue.json
        );
        let decide = |id: i64, step: &str| format!("/api/staff/suggestions/{id}/{step}");
        app.post_json(
            &decide(wanted, "approve"),
            Some(&staff),
            json!({ "price_fen": 12000 }),
        )
        .await?
        .assert_problem(409);
        let approved = app
            .post_json(
                &decide(wanted, "approve"),
                Some(&staff),
                json!({ "price_fen": 5900 }),
            )
            .await?
            .expect_ok()?;
        assert_eq!(approved.json["state"], "approved");
        assert_eq!(approved.json["price_fen"], 5900);
        app.post_json(
            &decide(wanted, "decline"),
            Some(&staff),
            json!({ "reason": "已批准" }),
        )
        .await?
        .assert_problem(409);
        let declined = app
            .post_json(
                &decide(unwanted, "decline"),
                Some(&staff),
                json!({ "reason": "超出馆藏范围" }),
            )
            .await?
            .expect_ok()?;
        assert_eq!(declined.json["state"], "rejected");
        assert_eq!(declined.json["decision_reason"], "超出馆藏范围");
        assert_eq!(
            app.count("notices WHERE kind = 'suggestion_decided'")
                .await?,
            2
        );
        // Readers cannot reach the console.
        app.send(
            Method::GET,
            "/api/staff/suggestions",
            Some(&reader.token),
            None,
        )
        .await?
        .assert_problem(401);

        // Bought and catalogued: the proposer's order is made at once.
        let imported = import(
            app,
            &format!(
                "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
                 NEW,{WANTED_ISBN},红楼梦,曹雪芹,人民文学出版社,1982,,I242/1,SG-1,B001,\n"
            ),
        )
        .await?;
        assert_eq!(imported["suggestions_arrived"], 1, "{imported}");
        let mine = app
            .send(
                Method::GET,
                "/api/me/suggestions",
                Some(&reader.token),
                None,
            )
            .await?
            .expect_ok()?;
        let arrived = mine.json["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == wanted)
            .cloned()
            .unwrap();
        assert_eq!(arrived["state"], "arrived", "{arrived}");
        let order_id = arrived["order_id"]
            .as_i64()
            .expect("an order for the proposer");
        let order = app
            .send(
                Method::GET,
                &format!("/api/orders/{order_id}"),
                Some(&reader.token),
                None,
            )
            .await?
            .expect_ok()?;
        assert_eq!(order.json["state"], "picking");
        assert_eq!(order.json["pickup_point"], "B002");
        assert_eq!(order.json["lines"][0]["copy_barcode"], "SG-1");
        // A second import batch changes nothing.
        let again = import(
            app,
            "record_id,title,barcode,branch\nOTHER,别的书,OT-1,B003\n",
        )
        .await?;
        assert_eq!(again["suggestions_arrived"], 0);

        // Through the line to the proposer's hands: the first loan.
        crate::orders::pick_all(app, &order.json).await?;
        app.post_json(
            &format!("/api/staff/orders/{order_id}/dispatch"),
            Some(&staff),
            json!({}),
        )
        .await?
        .expect_ok()?;
        let b002 = app.staff_token("B002").await?;
        for step in ["arrive", "hand-over"] {
            app.post_json(
                &format!("/api/staff/orders/{order_id}/{step}"),
                Some(&b002),
                json!({}),
            )
            .await?
            .expect_ok()?;
        }
        let loans = app
            .send(Method::GET, "/api/me/loans", Some(&reader.token), None)
            .await?
            .expect_ok()?;
        assert_eq!(
            loans.json["loans"][0]["copy_barcode"], "SG-1",
            "{:?}",
            loans.json
        );
        assert_eq!(
            app.count(&format!(
                "events WHERE subject_kind = 'suggestion' AND subject_id = '{wanted}' \
                 AND event IN ('suggestion_proposed', 'suggestion_approved', 'suggestion_arrived')"
            ))
            .await?,
            3
        );
        Ok(())
    }
);
