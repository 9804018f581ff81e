//! The scheduled jobs (docs/jobs.md), through `POST /admin/jobs/run`, the
//! route an outside scheduler calls: notices queued once however often
//! the jobs run, no reminder for a returned loan, pickup expiry, reader
//! suspension and the daily statistics. Time is moved by writing due dates
//! and deadlines straight into the database.

use anyhow::{Context, Result};
use reqwest::Method;
use wangjie_e2e::{spawn_unmigrated, Backend, Options, TestApp};

const DAY: i64 = 86_400_000;

/// An app whose database the test can read and write.
struct Jobs {
    app: TestApp,
}

async fn start(backend: Backend) -> Result<Jobs> {
    let app = spawn_unmigrated(backend, Options::default()).await?;
    app.admin(Method::POST, "/admin/migrate")
        .await?
        .expect_ok()?;
    app.load_demo(200, 30).await?.expect_ok()?;
    Ok(Jobs { app })
}

impl Jobs {
    async fn sql(&self, sql: &str) -> Result<String> {
        self.app.sql(sql).await
    }

    async fn count(&self, from_where: &str) -> Result<i64> {
        self.app.count(from_where).await
    }

    async fn run_admin(&self, job: &str) -> Result<serde_json::Value> {
        let answer = self
            .app
            .admin(Method::POST, &format!("/admin/jobs/run?job={job}"))
            .await?
            .expect_ok()?;
        Ok(answer.json)
    }

    async fn stop(self) -> Result<()> {
        self.app.stop().await
    }
}

fn now() -> i64 {
    wangjie_shared::now_ms()
}

/// Two readers and four shelf copies, for the test's own loans; every demo
/// loan is moved out of every job's window first.
async fn setup(j: &Jobs) -> Result<(i64, i64, Vec<String>)> {
    let now = now();
    j.sql(&format!(
        "UPDATE loans SET due_at_ms = {} WHERE returned_at_ms IS NULL",
        now + 20 * DAY
    ))
    .await?;
    let r1: i64 = j
        .sql("SELECT id FROM readers WHERE status = 'active' ORDER BY id LIMIT 1")
        .await?
        .parse()?;
    let r2: i64 = j
        .sql("SELECT id FROM readers WHERE status = 'active' ORDER BY id DESC LIMIT 1")
        .await?
        .parse()?;
    let mut copies = Vec::new();
    for n in 0..5 {
        copies.push(
            j.sql(&format!(
                "SELECT barcode FROM copies WHERE status = 'on_shelf' ORDER BY barcode LIMIT 1 OFFSET {n}"
            ))
            .await?,
        );
    }
    // A: due in a day; B: 2 days overdue; C: 10 days; D (reader 2): 40 days.
    for (id, reader, copy, due) in [
        (900_001, r1, &copies[0], now + DAY),
        (900_002, r1, &copies[1], now - 2 * DAY),
        (900_003, r1, &copies[2], now - 10 * DAY),
        (900_004, r2, &copies[3], now - 40 * DAY),
    ] {
        j.sql(&format!(
            "INSERT INTO loans (id, copy_barcode, reader_id, started_at_ms, due_at_ms) \
             VALUES ({id}, '{copy}', {reader}, {}, {due})",
            due - 30 * DAY
        ))
        .await?;
    }
    Ok((r1, r2, copies))
}

async fn notices(j: &Jobs, kind: &str, loan: i64) -> Result<i64> {
    j.count(&format!(
        "notices WHERE kind = '{kind}' AND subject_kind = 'loan' AND subject_id = '{loan}'"
    ))
    .await
}

macro_rules! jobs_test {
    ($name:ident, |$j:ident| $body:block) => {
        wangjie_e2e::on_both_backends!($name, start = start, |$j: Jobs| $body);
    };
}

jobs_test!(reminders_are_queued_once_and_stop_at_return, |j| {
    let (_, r2, _) = setup(j).await?;
    // The scheduler, twice: each notice once.
    for _ in 0..2 {
        j.app
            .admin(Method::POST, "/admin/jobs/run")
            .await?
            .expect_ok()?;
        assert_eq!(notices(j, "due_soon", 900_001).await?, 1);
        assert_eq!(notices(j, "overdue_1", 900_002).await?, 1);
        assert_eq!(notices(j, "overdue_2", 900_003).await?, 1);
        assert_eq!(notices(j, "overdue_3", 900_004).await?, 1);
        // Each loan gets only the step it is at.
        assert_eq!(j.count("notices WHERE subject_kind = 'loan'").await?, 4);
        // Reader 2 holds a loan 40 days overdue: suspended once, told once.
        let status = j
            .sql(&format!("SELECT status FROM readers WHERE id = {r2}"))
            .await?;
        assert_eq!(status, "suspended");
        let told = format!("notices WHERE kind = 'credit_changed' AND reader_id = {r2}");
        assert_eq!(j.count(&told).await?, 1);
        let logged = format!("events WHERE event = 'reader_suspended' AND subject_id = '{r2}'");
        assert_eq!(j.count(&logged).await?, 1);
    }
    // B is returned after its first reminder; later it would have reached
    // step 2, but a returned loan gets nothing more.
    let now = now();
    j.sql(&format!(
        "UPDATE loans SET returned_at_ms = {now}, due_at_ms = {} WHERE id = 900002",
        now - 8 * DAY
    ))
    .await?;
    // C, still out, moves on to step 3 (and, renewed, a new due date means
    // a new key).
    j.sql(&format!(
        "UPDATE loans SET due_at_ms = {} WHERE id = 900003",
        now - 15 * DAY
    ))
    .await?;
    let report = j.run_admin("overdue").await?;
    assert_eq!(report["overdue"], 1, "{report}");
    assert_eq!(report["due_soon"], 0, "{report}");
    assert_eq!(notices(j, "overdue_2", 900_002).await?, 0);
    assert_eq!(notices(j, "overdue_3", 900_003).await?, 1);
    let again = j.run_admin("all").await?;
    assert_eq!(again["overdue"], 0, "{again}");
    assert_eq!(again["suspended"], 0, "{again}");
    // An unknown job and a missing token are refused.
    let bad = j
        .app
        .admin(Method::POST, "/admin/jobs/run?job=everything")
        .await?;
    bad.assert_problem(400);
    let anonymous = j
        .app
        .send(Method::POST, "/admin/jobs/run", None, None)
        .await?;
    assert_eq!(anonymous.status.as_u16(), 401);
    Ok(())
});

jobs_test!(pickup_expiry_and_daily_stats, |j| {
    let (r1, _, copies) = setup(j).await?;
    let now = now();
    let point = j
        .sql("SELECT code FROM service_points WHERE locker_generation IS NOT NULL ORDER BY code LIMIT 1")
        .await?;
    let copy = &copies[4];
    j.sql(&format!(
        "INSERT INTO orders (id, reader_id, fulfilment, pickup_point, state, idempotency_key, \
           created_at_ms, updated_at_ms, pickup_deadline_at_ms, locker_cell) \
         VALUES (900001, {r1}, 'pickup', '{point}', 'awaiting_pickup', 'jobs-e2e', {0}, {0}, {1}, 7);
         INSERT INTO order_lines (id, order_id, record_id, copy_barcode, state, updated_at_ms, pick_point) \
         SELECT 900001, 900001, record_id, barcode, 'picked', {0}, home_point FROM copies \
         WHERE barcode = '{copy}';
         UPDATE copies SET status = 'on_hold', current_point = '{point}' WHERE barcode = '{copy}';",
        now - 9 * DAY,
        now - 1000
    ))
    .await?;
    let first = j.run_admin("pickup_expiry").await?;
    assert_eq!(first["pickup_expired"], 1, "{first}");
    let second = j.run_admin("pickup_expiry").await?;
    assert_eq!(second["pickup_expired"], 0, "{second}");
    let state = j.sql("SELECT state FROM orders WHERE id = 900001").await?;
    assert_eq!(state, "pickup_expired");
    let copy_state = j
        .sql(&format!(
            "SELECT status || ':' || COALESCE(current_point, '-') FROM copies WHERE barcode = '{copy}'"
        ))
        .await?;
    assert_eq!(copy_state, "in_transit:-");
    let line = j
        .sql("SELECT state FROM order_lines WHERE id = 900001")
        .await?;
    assert_eq!(line, "cancelled");
    let release = "events WHERE event = 'cell_opening_queued' AND subject_id = '900001'";
    assert_eq!(j.count(release).await?, 1);
    // The courier's opening waits for the locker's next heartbeat, queued once.
    let command = j
        .sql(&format!(
            "SELECT kind || ':' || payload FROM locker_commands WHERE point_code = '{point}'"
        ))
        .await?;
    assert_eq!(command, r#"open_cell:{"cell":7}"#);
    let told = "notices WHERE kind = 'order_changed' AND subject_id = '900001'";
    assert_eq!(j.count(told).await?, 1);

    // A counter loan started now, then the statistics, twice.
    j.sql(&format!(
        "UPDATE loans SET started_at_ms = {now}, due_at_ms = {} WHERE id = 900001",
        now + 30 * DAY
    ))
    .await?;
    for _ in 0..2 {
        let report = j.run_admin("stats").await?;
        assert_eq!(report["stats_days"].as_array().map(Vec::len), Some(2));
        assert_eq!(j.count("daily_stats").await?, 2);
    }
    let (today, start) = wangjie_shared::jobs::beijing_day(now);
    let expected = j
        .count(&format!(
            "loans WHERE started_at_ms >= {start} AND started_at_ms < {}",
            start + DAY
        ))
        .await?;
    assert!(expected >= 1);
    let loans: i64 = j
        .sql(&format!(
            "SELECT loans FROM daily_stats WHERE day = '{today}'"
        ))
        .await?
        .parse()?;
    assert_eq!(loans, expected);
    let kinds = j
        .sql(&format!(
            "SELECT by_point_kind FROM daily_stats WHERE day = '{today}'"
        ))
        .await?;
    let kinds: serde_json::Value = serde_json::from_str(&kinds)?;
    let total: i64 = kinds
        .as_object()
        .context("an object")?
        .values()
        .filter_map(serde_json::Value::as_i64)
        .sum();
    assert_eq!(total, expected, "{kinds}");
    Ok(())
});

jobs_test!(expired_scores_are_cleared_and_old_message_ids_pruned, |j| {
    let (r1, r2, _) = setup(j).await?;
    // The demo's own expired scores first.
    j.run_admin("retention").await?;
    let now = now();
    // r1's decision expired yesterday; r2's is trusted for another day.
    for (id, reader, until) in [(900_101, r1, now - DAY), (900_102, r2, now + DAY)] {
        j.sql(&format!(
            "INSERT INTO credit_decisions (id, reader_id, source, standing, score, loan_quota, \
               decided_at_ms, valid_until_ms) \
             VALUES ({id}, {reader}, 'sesame', 'sesame_deposit_free', 712, 5, {}, {until})",
            until - 30 * DAY
        ))
        .await?;
        j.sql(&format!(
            "UPDATE readers SET credit_source = 'sesame', credit_score = 712, \
               credit_decided_at_ms = {}, credit_valid_until_ms = {until} WHERE id = {reader}",
            until - 30 * DAY
        ))
        .await?;
    }
    j.sql(&format!(
        "INSERT INTO wechat_messages (dedupe_key, openid, msg_type, created_at_ms, received_at_ms) \
         VALUES ('old', 'o1', 'text', 1, {}), ('new', 'o1', 'text', 1, {now})",
        now - 8 * DAY
    ))
    .await?;
    let first = j.run_admin("retention").await?;
    assert_eq!(first["scores_cleared"], 2, "{first}");
    assert_eq!(first["wechat_messages_pruned"], 1, "{first}");
    let scores = j
        .sql("SELECT COALESCE(CAST(score AS TEXT), '-') FROM credit_decisions WHERE id = 900101")
        .await?;
    assert_eq!(scores, "-");
    let kept = j
        .sql("SELECT CAST(score AS TEXT) FROM credit_decisions WHERE id = 900102")
        .await?;
    assert_eq!(kept, "712");
    let reader_scores = j
        .sql(&format!(
            "SELECT COALESCE(CAST(credit_score AS TEXT), '-') FROM readers WHERE id = {r1}"
        ))
        .await?;
    assert_eq!(reader_scores, "-");
    // The decision itself stays: the lending record needs it.
    assert_eq!(j.count("credit_decisions WHERE id = 900101").await?, 1);
    assert_eq!(
        j.count("wechat_messages WHERE dedupe_key = 'new'").await?,
        1
    );
    let again = j.run_admin("retention").await?;
    assert_eq!(again["scores_cleared"], 0, "{again}");
    assert_eq!(again["wechat_messages_pruned"], 0, "{again}");
    Ok(())
});

jobs_test!(
    a_reminder_for_a_due_date_moved_by_renewal_is_superseded,
    |j| {
        setup(j).await?;
        let queued = j.run_admin("due_soon").await?;
        assert_eq!(queued["due_soon"], 1, "{queued}");
        // Renewed before the sender ran: the loan is due a month later.
        j.sql(&format!(
            "UPDATE loans SET due_at_ms = {}, renewals = 1 WHERE id = 900001",
            now() + 30 * DAY
        ))
        .await?;
        let sent = j
            .app
            .admin(Method::POST, "/admin/jobs/send-notices?batch=50")
            .await?
            .expect_ok()?;
        assert!(
            sent.json["superseded"].as_i64().unwrap() >= 1,
            "{:?}",
            sent.json
        );
        let state = j
            .sql("SELECT state FROM notices WHERE kind = 'due_soon' AND subject_id = '900001'")
            .await?;
        assert_eq!(state, "superseded");
        Ok(())
    }
);
