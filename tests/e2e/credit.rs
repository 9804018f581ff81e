//! Credit decisions through the private `credit` component: each threshold
//! just below and at its limit, the cache, expiry, and every way a provider
//! can fail without ever granting credit.

use reqwest::Method;
use std::time::Duration;
use wangjie_e2e::with_providers::{spawn_with_providers, Providers, SignedIn};
use wangjie_e2e::{with_providers, Backend, TestApp};
use wangjie_fakes::Mode;

const SESAME_SCORE: &str = "zhima.credit.score.get";

async fn standing(app: &TestApp, reader: &SignedIn) -> anyhow::Result<serde_json::Value> {
    let credit = app
        .send(Method::GET, "/api/me/credit", Some(&reader.token), None)
        .await?
        .expect_ok()?;
    Ok(credit.json)
}

with_providers!(
    sesame_lends_deposit_free_from_600_and_not_at_599,
    |app, providers| {
        for (user, score, expected, may_borrow) in [
            ("2088000000000599", 599, "deposit", false),
            ("2088000000000600", 600, "sesame_deposit_free", true),
        ] {
            let reader = app.sign_in_alipay(providers, user, Some(score)).await?;
            let answer = app
                .check_credit(&reader, "sesame", Some(&format!("code-{user}")))
                .await?;
            assert_eq!(answer.status, 200, "{:?}", answer.json);
            assert_eq!(answer.json["decision"]["standing"]["kind"], expected);
            assert_eq!(answer.json["decision"]["score"], score);
            assert_eq!(answer.json["cached"], false);
            let now = standing(app, &reader).await?;
            assert_eq!(now["standing"], expected);
            assert_eq!(now["may_borrow"], may_borrow, "{now}");
        }
        Ok(())
    }
);

with_providers!(
    osmanthus_gives_a_virtual_card_from_100_and_not_at_99,
    |app, providers| {
        for (code, score, expected) in [
            ("city-99", 99, "deposit"),
            ("city-100", 100, "osmanthus_virtual_card"),
        ] {
            let reader = app
                .sign_in_wechat(providers, &format!("openid-{code}"), None)
                .await?;
            providers
                .osmanthus
                .add_citizen(code, &format!("citizen-{code}"), score);
            let answer = app.check_credit(&reader, "osmanthus", Some(code)).await?;
            assert_eq!(answer.status, 200, "{:?}", answer.json);
            assert_eq!(answer.json["decision"]["standing"]["kind"], expected);
            assert_eq!(standing(app, &reader).await?["standing"], expected);
        }
        // One citizen's score backs one reader account only.
        let other = app
            .sign_in_wechat(providers, "openid-second-account", None)
            .await?;
        providers
            .osmanthus
            .add_citizen("city-100-again", "citizen-city-100", 100);
        app.check_credit(&other, "osmanthus", Some("city-100-again"))
            .await?
            .assert_problem(409);
        Ok(())
    }
);

with_providers!(
    a_trusted_decision_is_answered_from_the_cache,
    |app, providers| {
        let reader = app
            .sign_in_alipay(providers, "2088000000000700", Some(700))
            .await?;
        app.check_credit(&reader, "sesame", Some("code-2088000000000700"))
            .await?
            .expect_ok()?;
        let calls = providers.alipay.calls(SESAME_SCORE);
        assert_eq!(calls, 1);
        // No authorisation needed, no provider call made.
        let cached = app.check_credit(&reader, "sesame", None).await?;
        assert_eq!(cached.status, 200, "{:?}", cached.json);
        assert_eq!(cached.json["cached"], true);
        assert_eq!(
            cached.json["decision"]["standing"]["kind"],
            "sesame_deposit_free"
        );
        assert_eq!(providers.alipay.calls(SESAME_SCORE), calls);
        // Without a cached decision, the reader must authorise.
        let fresh = app
            .sign_in_alipay(providers, "2088000000000701", Some(700))
            .await?;
        let refused = app.check_credit(&fresh, "sesame", None).await?;
        // The problem is the reader's request's, not the private credit
        // component's route (RFC 9457 `instance`; the schema suite).
        assert_eq!(refused.assert_problem(400)["instance"], "/api/me/credit");
        app.check_credit(&fresh, "card", Some("x"))
            .await?
            .assert_problem(400);
        Ok(())
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_decision_is_checked_again() -> anyhow::Result<()> {
    let (app, providers) =
        spawn_with_providers(Backend::Sqlite, &[("credit_decision_ttl_ms", "1500")]).await?;
    let outcome = expiry(&app, &providers).await;
    app.stop().await?;
    outcome
}

async fn expiry(app: &TestApp, providers: &Providers) -> anyhow::Result<()> {
    let reader = app
        .sign_in_alipay(providers, "2088000000000800", Some(650))
        .await?;
    let code = "code-2088000000000800";
    app.check_credit(&reader, "sesame", Some(code))
        .await?
        .expect_ok()?;
    assert_eq!(
        app.check_credit(&reader, "sesame", None).await?.json["cached"],
        true
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(standing(app, &reader).await?["may_borrow"], false);
    app.check_credit(&reader, "sesame", None)
        .await?
        .assert_problem(400);
    // The score fell meanwhile: the re-check says so.
    providers.alipay.set_score("2088000000000800", Some(590));
    let again = app.check_credit(&reader, "sesame", Some(code)).await?;
    assert_eq!(again.status, 200, "{:?}", again.json);
    assert_eq!(again.json["cached"], false);
    assert_eq!(again.json["decision"]["standing"]["kind"], "deposit");
    assert_eq!(providers.alipay.calls(SESAME_SCORE), 2);
    Ok(())
}

/// Each failure: a 503 problem, retryable, and the standing as it was.
async fn refused_without_grant(
    app: &TestApp,
    reader: &SignedIn,
    source: &str,
    code: &str,
) -> anyhow::Result<()> {
    let before = standing(app, reader).await?;
    let answer = app.check_credit(reader, source, Some(code)).await?;
    let problem = answer.assert_problem(503);
    assert_eq!(problem["retryable"], true, "{problem}");
    assert_eq!(
        problem["type"],
        "https://wangjie.example/problems/credit-unavailable"
    );
    assert_eq!(standing(app, reader).await?, before);
    Ok(())
}

with_providers!(a_failing_sesame_never_grants, |app, providers| {
    let reader = app
        .sign_in_alipay(providers, "2088000000000900", Some(800))
        .await?;
    let code = "code-2088000000000900";
    for mode in [
        Mode::Status(502),
        Mode::Slow(Duration::from_millis(2000)),
        Mode::Garbage,
        Mode::BadSignature,
    ] {
        providers.alipay.set_mode(mode.clone());
        refused_without_grant(app, &reader, "sesame", code).await?;
    }
    // And once the provider is back, the same request succeeds.
    providers.alipay.set_mode(Mode::Normal);
    let answer = app.check_credit(&reader, "sesame", Some(code)).await?;
    assert_eq!(
        answer.json["decision"]["standing"]["kind"],
        "sesame_deposit_free"
    );
    Ok(())
});

with_providers!(a_failing_osmanthus_never_grants, |app, providers| {
    let reader = app.sign_in_wechat(providers, "openid-fail", None).await?;
    providers
        .osmanthus
        .add_citizen("city-fail", "citizen-fail", 500);
    for mode in [
        Mode::Status(500),
        Mode::Slow(Duration::from_millis(2000)),
        Mode::Garbage,
        Mode::BadSignature,
    ] {
        providers.osmanthus.set_mode(mode.clone());
        refused_without_grant(app, &reader, "osmanthus", "city-fail").await?;
    }
    Ok(())
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_down_never_grants() -> anyhow::Result<()> {
    let (app, providers) = spawn_with_providers(Backend::Sqlite, &[]).await?;
    let reader = app.sign_in_wechat(&providers, "openid-down", None).await?;
    // Nothing listens on the Osmanthus origin any more.
    drop(providers.osmanthus);
    let outcome = async {
        let answer = app.check_credit(&reader, "osmanthus", Some("any")).await?;
        assert_eq!(answer.assert_problem(503)["retryable"], true);
        anyhow::Ok(())
    }
    .await;
    app.stop().await?;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_contracted_for_admit_decisions_gets_them() -> anyhow::Result<()> {
    let (app, providers) =
        spawn_with_providers(Backend::Postgres, &[("sesame_product", "admit")]).await?;
    let outcome = async {
        for (user, score, expected) in [
            ("2088000000001599", 599, "deposit"),
            ("2088000000001600", 600, "sesame_deposit_free"),
        ] {
            let reader = app.sign_in_alipay(&providers, user, Some(score)).await?;
            let answer = app
                .check_credit(&reader, "sesame", Some(&format!("code-{user}")))
                .await?;
            assert_eq!(answer.status, 200, "{:?}", answer.json);
            assert_eq!(answer.json["decision"]["standing"]["kind"], expected);
            // An admit decision carries no score.
            assert!(answer.json["decision"]["score"].is_null());
        }
        assert_eq!(providers.alipay.calls("zhima.credit.score.brief.get"), 2);
        assert_eq!(providers.alipay.calls(SESAME_SCORE), 0);
        anyhow::Ok(())
    }
    .await;
    app.stop().await?;
    outcome
}

/// Issue 15: a key Alipay does not hold for our app is the operator's to
/// fix. The gateway's `isv.invalid-signature` reaches the reader as a 500
/// `configuration` problem naming the variable, never as their 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_signed_with_a_key_alipay_does_not_know_is_a_configuration_error(
) -> anyhow::Result<()> {
    // A well-formed key, but not the app key the gateway verifies with.
    let stranger = wangjie_fakes::keys::test_keys().alipay_private_pem.clone();
    let (app, providers) =
        spawn_with_providers(Backend::Sqlite, &[("alipay_app_private_key", &stranger)]).await?;
    let outcome = async {
        providers.alipay.add_user("code-r15", "2088000000001500");
        let answer = app
            .post_json(
                "/api/session/alipay",
                None,
                serde_json::json!({ "auth_code": "code-r15" }),
            )
            .await?;
        let problem = answer.assert_problem(500);
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/configuration"),
            "{problem}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("alipay_app_private_key"), "{detail}");
        assert!(detail.contains("isv.invalid-signature"), "{detail}");
        assert_eq!(providers.alipay.calls("alipay.system.oauth.token"), 0);
        Ok(())
    }
    .await;
    app.stop().await?;
    outcome
}
