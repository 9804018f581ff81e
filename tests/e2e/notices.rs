//! The notifications sender, through the operator's trigger
//! `POST /admin/jobs/send-notices` (the component itself is private): a
//! ready-for-pickup notice goes once by WeChat when the reader has a grant,
//! by SMS when not, falls back to SMS when WeChat refuses (both tries
//! logged), and is superseded when the order moved on before sending; an
//! Alipay reader gets the mini-program message; when every channel fails
//! the notice is retried with backoff, then failed; quiet hours defer it;
//! an expired WeChat token is refreshed once.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{json, Value};
use wangjie_e2e::with_providers::{Providers, SignedIn};
use wangjie_e2e::{spawn_unmigrated, Backend, Options, TestApp, ADMIN_TOKEN};
use wangjie_fakes::FakeSms;

const SMS_APP_ID: &str = "wangjie-sms-e2e";
const SMS_SECRET: &str = "e2e-sms-secret-0123456789";
const TEMPLATE: &str = "TMPL-READY-FOR-PICKUP";
const ALIPAY_TEMPLATE: &str = "ALI-TMPL-READY";
const ALIPAY_USER: &str = "2088000000000077";

struct Env {
    app: TestApp,
    providers: Providers,
    sms: FakeSms,
}

async fn start(backend: Backend, extra: Vec<(&str, String)>) -> Result<Env> {
    let providers = Providers::start()?;
    let sms = FakeSms::start(SMS_APP_ID, SMS_SECRET.as_bytes())?;
    let mut variables = providers.variables();
    variables.insert("sms_origin".into(), sms.url());
    variables.insert("sms_app_id".into(), SMS_APP_ID.into());
    variables.insert("sms_secret".into(), SMS_SECRET.into());
    variables.insert(
        "wechat_templates".into(),
        json!({ "ready_for_pickup": TEMPLATE }).to_string(),
    );
    variables.insert(
        "alipay_templates".into(),
        json!({ "ready_for_pickup": ALIPAY_TEMPLATE }).to_string(),
    );
    variables.insert("notice_max_attempts".into(), "2".into());
    variables.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
    let app = spawn_unmigrated(
        backend,
        Options {
            variables,
            runtime_config: None,
        },
    )
    .await?;
    app.admin(Method::POST, "/admin/migrate")
        .await?
        .expect_ok()?;
    Ok(Env {
        app,
        providers,
        sms,
    })
}

impl Env {
    /// Runs one statement in the app's database.
    async fn exec(&self, sql: &str) -> Result<()> {
        self.app.sql(sql).await.map(drop)
    }

    async fn stop(self) -> Result<()> {
        self.app.stop().await
    }

    async fn staff_post(&self, token: &str, path: &str) -> Result<Value> {
        let answer = self
            .app
            .send(Method::POST, path, Some(token), Some(b"{}".to_vec()))
            .await?;
        Ok(answer.expect_ok()?.json)
    }

    /// A reader (WeChat, Osmanthus credit, a phone) whose order for a copy
    /// at B001 waits on B001's hold shelf; the reader and the order id.
    async fn order_awaiting_pickup(&self) -> Result<(SignedIn, i64, String)> {
        let app = &self.app;
        app.load_demo(1, 0).await?.expect_ok()?;
        let csv = "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,branch,copy_call_number\n\
                   NOTE-1,,通知测试之书,作者甲,测试出版社,2020,,I1/9,N1-1,B001,\n";
        app.send(
            Method::POST,
            "/admin/catalogue/import?format=csv",
            Some(ADMIN_TOKEN),
            Some(csv.as_bytes().to_vec()),
        )
        .await?
        .expect_ok()?;
        let found = app
            .get("/api/search?title=通知测试之书")
            .await?
            .expect_ok()?;
        let record = found.json["hits"][0]["id"].as_i64().context("record")?;

        let reader = app
            .sign_in_wechat(&self.providers, "openid-notice", None)
            .await?;
        self.providers
            .osmanthus
            .add_citizen("city-notice", "citizen-notice", 150);
        app.check_credit(&reader, "osmanthus", Some("city-notice"))
            .await?
            .expect_ok()?;
        self.exec(&format!(
            "UPDATE readers SET phone = '13800138000' WHERE id = {}",
            reader.id
        ))
        .await?;

        let placed = reqwest::Client::new()
            .post(format!("{}/api/orders", app.url))
            .bearer_auth(&reader.token)
            .header("idempotency-key", "notice-1")
            .json(&json!({ "lines": [record], "fulfilment": { "kind": "pickup", "point_code": "B001" } }))
            .send()
            .await?;
        anyhow::ensure!(placed.status().is_success(), "{placed:?}");
        let placed: Value = placed.json().await?;
        let id = placed["id"].as_i64().context("order id")?;

        let staff = app
            .admin(Method::GET, "/admin/staff?point=B001")
            .await?
            .expect_ok()?;
        let staff_id = staff.json["staff"][0]["id"].as_i64().context("staff")?;
        let session = app
            .admin(Method::POST, &format!("/admin/staff/{staff_id}/session"))
            .await?
            .expect_ok()?;
        let staff = session.json["token"].as_str().context("token")?.to_string();
        let picked = app
            .send(
                Method::POST,
                "/api/staff/picks",
                Some(&staff),
                Some(serde_json::to_vec(&json!({ "barcode": "N1-1" }))?),
            )
            .await?;
        anyhow::ensure!(picked.status == 200, "{:?}", picked.json);
        self.staff_post(&staff, &format!("/api/staff/orders/{id}/dispatch"))
            .await?;
        let arrived = self
            .staff_post(&staff, &format!("/api/staff/orders/{id}/arrive"))
            .await?;
        assert_eq!(arrived["state"], "awaiting_pickup", "{arrived}");
        Ok((reader, id, staff))
    }

    async fn grant(&self, openid: &str) -> Result<()> {
        self.exec(&format!(
            "INSERT INTO wechat_grants (openid, template_id, granted_at_ms) \
             VALUES ('{openid}', '{TEMPLATE}', 1)"
        ))
        .await
    }

    async fn send_notices(&self) -> Result<Value> {
        Ok(self
            .app
            .admin(Method::POST, "/admin/jobs/send-notices?batch=20")
            .await?
            .expect_ok()?
            .json)
    }

    /// The reader's ready_for_pickup notice, with its tries.
    async fn ready_notice(&self, reader: i64) -> Result<Value> {
        let list = self
            .app
            .admin(Method::GET, &format!("/admin/notices?reader={reader}"))
            .await?
            .expect_ok()?;
        list.json["notices"]
            .as_array()
            .and_then(|all| all.iter().find(|n| n["kind"] == "ready_for_pickup"))
            .cloned()
            .with_context(|| format!("no ready_for_pickup notice in {}", list.json))
    }
}

macro_rules! notices_test {
    ($name:ident, |$env:ident| $body:block) => {
        notices_test!($name, vec![], |$env| $body);
    };
    ($name:ident, $extra:expr, |$env:ident| $body:block) => {
        wangjie_e2e::on_both_backends!($name, start = |b| start(b, $extra), |$env: Env| $body);
    };
}

notices_test!(a_ready_notice_goes_once_by_wechat_with_a_grant, |env| {
    let (reader, order, _) = env.order_awaiting_pickup().await?;
    env.grant("openid-notice").await?;
    let first = env.send_notices().await?;
    assert_eq!(first["sent"], 1, "{first}");
    let second = env.send_notices().await?;
    assert_eq!(second["claimed"], 0, "{second}");

    let sent = env.providers.wechat.sent_messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["touser"], "openid-notice");
    assert_eq!(sent[0]["template_id"], TEMPLATE);
    assert_eq!(
        sent[0]["data"]["character_string1"]["value"],
        order.to_string()
    );
    assert!(sent[0]["data"]["time4"]["value"]
        .as_str()
        .unwrap()
        .starts_with("20"));
    assert_eq!(env.providers.wechat.tokens_issued(), 1);
    assert!(env.sms.sent().is_empty());

    let notice = env.ready_notice(reader.id).await?;
    assert_eq!(notice["state"], "sent", "{notice}");
    assert_eq!(notice["channel"], "wechat");
    assert_eq!(notice["tries"].as_array().unwrap().len(), 1, "{notice}");
    Ok(())
});

notices_test!(without_a_grant_the_reader_gets_an_sms, |env| {
    let (reader, order, _) = env.order_awaiting_pickup().await?;
    let counts = env.send_notices().await?;
    assert_eq!(counts["sent"], 1, "{counts}");
    assert!(env.providers.wechat.sent_messages().is_empty());
    let sms = env.sms.sent();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0]["phone"], "13800138000");
    let text = sms[0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("订单{order}")) && text.contains("前取书"),
        "{text}"
    );
    let notice = env.ready_notice(reader.id).await?;
    assert_eq!(notice["state"], "sent", "{notice}");
    assert_eq!(notice["channel"], "sms");
    Ok(())
});

notices_test!(
    a_refused_wechat_message_falls_back_to_sms_and_both_are_logged,
    |env| {
        let (reader, _, _) = env.order_awaiting_pickup().await?;
        env.grant("openid-notice").await?;
        env.providers.wechat.set_send_errcode(Some(43101));
        let counts = env.send_notices().await?;
        assert_eq!(counts["sent"], 1, "{counts}");
        assert_eq!(env.sms.sent().len(), 1);
        let notice = env.ready_notice(reader.id).await?;
        assert_eq!(notice["state"], "sent", "{notice}");
        assert_eq!(notice["channel"], "sms");
        let tries = notice["tries"].as_array().unwrap();
        assert_eq!(tries.len(), 2, "{notice}");
        assert_eq!(tries[0]["channel"], "wechat");
        assert_eq!(tries[0]["outcome"], "failed");
        assert_eq!(tries[0]["provider_code"], "43101");
        assert!(tries[0]["provider_answer"]
            .as_str()
            .unwrap()
            .contains("43101"));
        assert_eq!(tries[1]["channel"], "sms");
        assert_eq!(tries[1]["outcome"], "sent");
        assert_eq!(tries[1]["provider_code"], "OK");
        Ok(())
    }
);

notices_test!(a_notice_no_longer_true_is_superseded, |env| {
    let (reader, order, staff) = env.order_awaiting_pickup().await?;
    env.grant("openid-notice").await?;
    // Collected before the sender ran: "ready for pickup" is no longer news.
    let collected = env
        .staff_post(&staff, &format!("/api/staff/orders/{order}/hand-over"))
        .await?;
    assert_eq!(collected["state"], "picked_up", "{collected}");
    let counts = env.send_notices().await?;
    assert_eq!(counts["superseded"], 1, "{counts}");
    assert!(env.providers.wechat.sent_messages().is_empty());
    assert!(env.sms.sent().is_empty());
    let notice = env.ready_notice(reader.id).await?;
    assert_eq!(notice["state"], "superseded", "{notice}");
    assert_eq!(notice["tries"][0]["outcome"], "skipped", "{notice}");
    Ok(())
});

/// `HH:MM` in Beijing, `offset_min` minutes from now.
fn beijing_hh_mm(offset_min: i64) -> String {
    let at = chrono::Utc::now() + chrono::Duration::minutes(offset_min);
    at.with_timezone(&wangjie_shared::notices::render::beijing())
        .format("%H:%M")
        .to_string()
}

impl Env {
    async fn link_alipay(&self, reader: i64) -> Result<()> {
        self.exec(&format!(
            "UPDATE readers SET alipay_user_id = '{ALIPAY_USER}' WHERE id = {reader}"
        ))
        .await
    }
}

notices_test!(
    an_alipay_reader_without_a_grant_gets_the_mini_program_message,
    |env| {
        let (reader, order, _) = env.order_awaiting_pickup().await?;
        env.link_alipay(reader.id).await?;
        let counts = env.send_notices().await?;
        assert_eq!(counts["sent"], 1, "{counts}");
        let sent = env.providers.alipay.template_messages();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["to_user_id"], ALIPAY_USER);
        assert_eq!(sent[0]["user_template_id"], ALIPAY_TEMPLATE);
        let data: Value = serde_json::from_str(sent[0]["data"].as_str().unwrap())?;
        assert_eq!(data["keyword1"]["value"], order.to_string(), "{data}");
        assert!(env.sms.sent().is_empty());
        let notice = env.ready_notice(reader.id).await?;
        assert_eq!(notice["channel"], "alipay", "{notice}");
        assert_eq!(notice["tries"][0]["provider_code"], "10000", "{notice}");
        Ok(())
    }
);

notices_test!(
    when_every_channel_fails_the_notice_is_retried_then_failed,
    |env| {
        let (reader, _, _) = env.order_awaiting_pickup().await?;
        env.link_alipay(reader.id).await?;
        env.providers
            .alipay
            .set_template_error(Some("USER_TEMPLATE_ILLEGAL"));
        env.sms.set_fail_code(Some("isv.BUSINESS_LIMIT_CONTROL"));
        let before = chrono::Utc::now().timestamp_millis();
        let first = env.send_notices().await?;
        assert_eq!(first["retrying"], 1, "{first}");
        let notice = env.ready_notice(reader.id).await?;
        assert_eq!(notice["state"], "queued", "{notice}");
        assert_eq!(notice["attempts"], 1, "{notice}");
        // The first retry waits a minute (RETRY_BASE_MS), not less.
        let next = notice["next_attempt_at_ms"].as_i64().unwrap();
        assert!(next >= before + 60_000, "{notice}");
        let tries = notice["tries"].as_array().unwrap();
        assert_eq!(tries.len(), 2, "{notice}");
        assert_eq!(tries[0]["channel"], "alipay");
        assert_eq!(tries[0]["provider_code"], "40004/USER_TEMPLATE_ILLEGAL");
        assert_eq!(tries[1]["channel"], "sms");
        assert_eq!(tries[1]["outcome"], "failed");
        // Not due yet: nothing claimed.
        assert_eq!(env.send_notices().await?["claimed"], 0);
        // Due: the second and last attempt (notice_max_attempts = 2) fails it.
        env.exec(&format!(
            "UPDATE notices SET next_attempt_at_ms = 0 WHERE reader_id = {}",
            reader.id
        ))
        .await?;
        let last = env.send_notices().await?;
        assert_eq!(last["failed"], 1, "{last}");
        let notice = env.ready_notice(reader.id).await?;
        assert_eq!(notice["state"], "failed", "{notice}");
        assert_eq!(notice["tries"].as_array().unwrap().len(), 4, "{notice}");
        assert!(notice["provider_answer"]
            .as_str()
            .unwrap()
            .contains("BUSINESS_LIMIT_CONTROL"));
        assert!(env.providers.alipay.template_messages().is_empty());
        assert!(env.sms.sent().is_empty());
        Ok(())
    }
);

notices_test!(
    quiet_hours_defer_notices_to_their_end,
    vec![
        ("quiet_hours_start", beijing_hh_mm(-60)),
        ("quiet_hours_end", beijing_hh_mm(60)),
    ],
    |env| {
        let (reader, _, _) = env.order_awaiting_pickup().await?;
        env.grant("openid-notice").await?;
        let now = chrono::Utc::now().timestamp_millis();
        let counts = env.send_notices().await?;
        assert_eq!(counts["claimed"], 0, "{counts}");
        assert!(counts["deferred"].as_u64().unwrap() >= 1, "{counts}");
        assert!(env.providers.wechat.sent_messages().is_empty());
        assert!(env.sms.sent().is_empty());
        let notice = env.ready_notice(reader.id).await?;
        assert_eq!(notice["state"], "queued", "{notice}");
        let until = notice["next_attempt_at_ms"].as_i64().unwrap();
        assert!(
            until > now + 58 * 60_000 && until <= now + 61 * 60_000,
            "{notice} now {now}"
        );
        Ok(())
    }
);

notices_test!(an_expired_wechat_token_is_fetched_again_once, |env| {
    env.order_awaiting_pickup().await?;
    env.grant("openid-notice").await?;
    assert_eq!(env.send_notices().await?["sent"], 1);
    assert_eq!(env.providers.wechat.tokens_issued(), 1);
    // WeChat expires the cached token early; a second notice is sent with
    // a fresh one after a 40001.
    env.providers.wechat.expire_token();
    env.grant("openid-notice").await?;
    env.exec(
        "INSERT INTO notices (reader_id, kind, channel, dedup_key, subject_kind, subject_id, \
           payload, state, next_attempt_at_ms, created_at_ms, updated_at_ms) \
         SELECT reader_id, kind, channel, dedup_key || ':again', subject_kind, subject_id, \
           payload, 'queued', 0, created_at_ms, updated_at_ms FROM notices \
         WHERE kind = 'ready_for_pickup'",
    )
    .await?;
    assert_eq!(env.send_notices().await?["sent"], 1);
    assert_eq!(env.providers.wechat.tokens_issued(), 2);
    assert_eq!(env.providers.wechat.sent_messages().len(), 2);
    assert!(env.sms.sent().is_empty());
    Ok(())
});
