//! The locker simulator (`tools/locker-sim`) against the app: one locker
//! whose clock drifts and whose answers get lost carries a whole loan, and
//! a fleet of every demo locker misbehaving at once gets no 5xx and no
//! event lost.

use crate::lockers::{dispatched, library, locker_test, lockers, now, on, place, show, MASTER};
use serde_json::json;
use wangjie_e2e::with_providers::{Providers, SignedIn};
use wangjie_e2e::{Backend, TestApp};
use wangjie_locker_sim::fleet::{self, FleetConfig};
use wangjie_locker_sim::{Chaos, Link, SimLocker};
use wangjie_shared::locker::store::derive_secret;

async fn whole_loan(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let record = library(app).await?;
    let (here, _) = lockers(app).await?;
    let reader = app.borrower(providers, "sim").await?;
    let order = dispatched(app, &reader, record, &here).await?;
    let id = order["id"].as_i64().unwrap();
    let cell = u16::try_from(order["locker_cell"].as_i64().unwrap())?;
    let copy = order["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap()
        .to_string();

    let link = Link::new(&app.url)?;
    let every_answer_lost = Chaos {
        duplicate_pct: 100,
        ..Chaos::default()
    };
    let mut locker = SimLocker::new(
        &here,
        derive_secret(MASTER, &here)?,
        240,
        every_answer_lost,
        7,
    );

    // Ten minutes fast: refused, told the server's time, accepted at once.
    locker.skew_ms = 600_000;
    let answers = link.round(&mut locker).await?;
    assert_eq!(answers[0].status, 400, "{:?}", answers[0].json);
    assert_eq!(answers[1].status, 200, "{:?}", answers[1].json);
    // Two minutes slow: accepted, and a sync_clock command sets it.
    locker.skew_ms = -120_000;
    let answers = link.round(&mut locker).await?;
    assert_eq!(answers[0].json["commands"][0]["kind"], "sync_clock");
    assert_eq!(locker.tally.clock_sets, 2);
    assert!(locker.skew_ms.abs() < 5_000, "{}", locker.skew_ms);

    // The courier's deposit, its answer lost once: recorded, then a duplicate.
    locker.deposit(now(), cell, &copy);
    link.round(&mut locker).await?;
    assert_eq!((locker.tally.recorded, locker.tally.duplicate), (1, 1));
    assert_eq!(show(app, &reader, id).await?["state"], "awaiting_pickup");
    let notices = app
        .admin(
            reqwest::Method::GET,
            &format!("/admin/notices?reader={}", reader.id),
        )
        .await?
        .expect_ok()?;
    let ready = notices.json["notices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "ready_for_pickup")
        .count();
    assert_eq!(ready, 1, "{:?}", notices.json);

    // At the screen, the reader sees the order in its cell.
    let here_now = link
        .query(&mut locker, &json!({ "reader_id": reader.id }))
        .await?;
    assert_eq!(here_now.status, 200, "{:?}", here_now.json);
    assert_eq!(
        here_now.json["waiting"],
        json!([{ "order_id": id, "cell": cell, "pickup_deadline_at_ms": here_now.json["waiting"][0]["pickup_deadline_at_ms"] }])
    );
    assert_eq!(here_now.json["loans"], json!([]));
    let nobody = link
        .query(&mut locker, &json!({ "reader_id": 999_999 }))
        .await?;
    assert_eq!(nobody.status, 404, "{:?}", nobody.json);
    let both = json!({ "reader_id": reader.id, "card_number": "9612345678901234" });
    assert_eq!(link.query(&mut locker, &both).await?.status, 400);

    // The reader asks; the next heartbeat opens the cell and the pickup
    // starts the loan; the one after acknowledges the command.
    app.post_json(
        &format!("/api/lockers/{here}/pickups"),
        Some(&reader.token),
        json!({ "order_id": id }),
    )
    .await?;
    link.round(&mut locker).await?;
    assert_eq!(locker.tally.pickups, 1);
    assert_eq!(locker.holding(cell), None);
    assert_eq!(show(app, &reader, id).await?["state"], "picked_up");
    let acked = link.round(&mut locker).await?;
    assert_eq!(acked[0].json["commands"], json!([]), "{:?}", acked[0].json);
    let on_loan = link
        .query(&mut locker, &json!({ "reader_id": reader.id }))
        .await?;
    assert_eq!(on_loan.json["waiting"], json!([]), "{:?}", on_loan.json);
    assert_eq!(on_loan.json["loans"][0]["copy_barcode"], copy.as_str());
    assert_eq!(on_loan.json["loans"][0]["title"], "柜子测试之书");
    assert_eq!(on_loan.json["loans"][0]["overdue"], false);
    // The same loan in the reader's app, with its due date.
    let mine = my_loans(app, &reader).await?;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["copy_barcode"], copy.as_str());
    assert_eq!(mine[0]["due_at_ms"], on_loan.json["loans"][0]["due_at_ms"]);
    assert!(mine[0]["due_at_ms"].as_i64().unwrap() > now() + 29 * 86_400_000);

    // A return read by its RFID tag alone, held back past a heartbeat,
    // still closes the loan; the same copy dropped again finds no open
    // loan, and an unknown tag is rejected for staff.
    locker.chaos.late_pct = 100;
    locker.return_tag(now(), &format!("E2801160-{copy}"));
    link.round(&mut locker).await?;
    locker.return_drop(now(), &copy);
    link.round(&mut locker).await?;
    locker.return_tag(now(), "E2801160-NOBODY");
    link.round(&mut locker).await?;
    assert_eq!(locker.tally.rejected, 2, "{:?}", locker.tally.rejections);
    assert!(
        locker.tally.rejections[0].ends_with(&format!("copy {copy} has no open loan")),
        "{:?}",
        locker.tally.rejections
    );
    assert!(
        locker.tally.rejections[1]
            .ends_with("RFID tag E2801160-NOBODY is not registered to a copy"),
        "{:?}",
        locker.tally.rejections
    );
    assert_eq!(locker.unanswered(), 0);
    assert_eq!(locker.tally.late_events, 3);
    assert!(my_loans(app, &reader).await?.is_empty());
    // Deposit, pickup, first return recorded; each of the five batches
    // sent once more came back a duplicate.
    assert_eq!(locker.tally.recorded, 3, "{:?}", locker.tally);
    assert_eq!(locker.tally.duplicate, 5, "{:?}", locker.tally);
    Ok(())
}

async fn my_loans(app: &TestApp, reader: &SignedIn) -> anyhow::Result<Vec<serde_json::Value>> {
    let answer = app
        .send(
            reqwest::Method::GET,
            "/api/me/loans",
            Some(&reader.token),
            None,
        )
        .await?
        .expect_ok()?;
    Ok(answer.json["loans"].as_array().cloned().unwrap_or_default())
}

async fn cells_from_heartbeats(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let record = library(app).await?;
    let (here, _) = lockers(app).await?;
    let reader = app.borrower(providers, "cells").await?;
    let order = dispatched(app, &reader, record, &here).await?;
    let reserved = u16::try_from(order["locker_cell"].as_i64().unwrap())?;
    let copy = order["lines"][0]["copy_barcode"]
        .as_str()
        .unwrap()
        .to_string();
    let link = Link::new(&app.url)?;
    let secret = derive_secret(MASTER, &here)?;
    let mut locker = SimLocker::new(&here, secret, 240, Chaos::default(), 3);
    // Every other cell broken for one heartbeat: the locker has no free
    // cell, so no order is placed to it; the reserved cell, reported empty,
    // stays the order's.
    for cell in (1..=240).filter(|c| *c != reserved) {
        locker.break_cell(cell, 1);
    }
    assert_eq!(link.heartbeat(&mut locker).await?.status, 200);
    let full = place(app, &reader, record, &here).await?;
    assert_eq!(full.status, 409, "{:?}", full.json);
    locker.deposit(now(), reserved, &copy);
    link.round(&mut locker).await?;
    assert_eq!(locker.tally.recorded, 1, "{:?}", locker.tally.rejections);
    assert_eq!(
        show(app, &reader, id_of(&order)).await?["state"],
        "awaiting_pickup"
    );
    // Repaired: the next heartbeat reports them empty, and orders come again.
    link.heartbeat(&mut locker).await?;
    let placed = place(app, &reader, record, &here).await?;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    Ok(())
}

fn id_of(order: &serde_json::Value) -> i64 {
    order["id"].as_i64().unwrap()
}

async fn misbehaving_fleet(app: &TestApp, _providers: &Providers) -> anyhow::Result<()> {
    app.load_demo(1, 0).await?.expect_ok()?;
    let link = Link::new(&app.url)?;
    let config = FleetConfig {
        url: app.url.clone(),
        master_key: MASTER.into(),
        lockers: fleet::discover(&link).await?,
        concurrency: 4,
        // Long enough that every one of the 39 lockers heartbeats even on a
        // loaded 2-core machine (3 s saw 29 to 35 beats while other builds ran).
        duration: std::time::Duration::from_secs(6),
        warmup: std::time::Duration::ZERO,
        interval: None,
        chaos: Chaos {
            duplicate_pct: 50,
            late_pct: 50,
            fault_pct: 30,
        },
        skew_ms: -90_000,
        seed: 11,
    };
    assert_eq!(config.lockers.len(), 39, "the demo's lockers");
    let skewed = config.lockers.len().div_ceil(4) as u64;
    let (report, ended) = fleet::run(&config, fleet::build(&config)?).await?;
    let summary = report.summary();
    assert_eq!(report.transport_errors, 0, "{summary} {:?}", report.errors);
    assert!(
        report
            .statuses
            .keys()
            .chain(report.event_statuses.keys())
            .all(|s| *s == 200),
        "{summary}"
    );
    assert!(report.heartbeats >= 39, "{summary}");
    assert!(report.tally.recorded > 0, "{summary}");
    assert_eq!(
        report.tally.rejected, 0,
        "{summary} {:?}",
        report.tally.rejections
    );
    assert!(report.tally.clock_sets >= skewed, "{summary}");
    // Every event was answered but those held back in the last round.
    let held: usize = ended.iter().map(SimLocker::unanswered).sum();
    assert!(held <= ended.len(), "{summary}");
    // Each locker is online, with the heartbeats stored.
    let points = app.get_points("?limit=1000").await?.expect_ok()?;
    let offline: Vec<_> = points.json["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["locker"].is_object() && p["locker"]["status"] != "online")
        .collect();
    assert!(offline.is_empty(), "{offline:?}");
    Ok(())
}

locker_test!(
    a_drifting_locker_losing_answers_serves_a_whole_loan,
    whole_loan
);
locker_test!(
    cells_reported_in_heartbeats_are_stored_but_reservations_kept,
    cells_from_heartbeats
);
locker_test!(
    a_misbehaving_fleet_gets_no_error_and_loses_no_event,
    misbehaving_fleet
);
