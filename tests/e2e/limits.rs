//! Abuse limits (issue 18, part 6): sign-in and credit checks, which cost
//! a provider call or an argon2 hash, are counted per client address and
//! per reader or staff number in fixed windows; past the limit the answer
//! is a 429 problem with `Retry-After`, and nothing is stored.
//!
//! The limits are set low here; every other test app lifts them
//! (`wangjie_e2e::LIFTED_LIMITS`).

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use wangjie_e2e::with_providers::{Providers, SignedIn};
use wangjie_e2e::{with_providers, Answer, TestApp};

/// A second client address: all of 127.0.0.0/8 is loopback on Linux, and
/// the host sees it in `spin-client-addr`.
const OTHER_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A JSON POST from `from` (the default 127.0.0.1 when `None`).
async fn post_from(
    app: &TestApp,
    from: Option<IpAddr>,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Answer> {
    let client = reqwest::Client::builder().local_address(from).build()?;
    let mut request = client.post(format!("{}{path}", app.url)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::read(request.send().await?).await
}

/// Waits out the end of the current window of `window_ms` when less than
/// `margin_ms` of it is left, so a test's attempts fall in one window.
async fn clear_of_the_window_end(window_ms: i64, margin_ms: i64) {
    let into = wangjie_shared::now_ms().rem_euclid(window_ms);
    if window_ms - into < margin_ms {
        tokio::time::sleep(std::time::Duration::from_millis(
            (window_ms - into + 100) as u64,
        ))
        .await;
    }
}

/// Asserts a 429 problem whose `Retry-After` is within the window.
fn assert_too_many(answer: &Answer, window_s: u64) {
    answer.assert_problem(429);
    assert!(answer.json["type"]
        .as_str()
        .unwrap_or_default()
        .ends_with("/too-many-requests"));
    assert_eq!(answer.json["retryable"], true);
    let retry_after: u64 = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", answer.headers));
    assert!(
        (1..=window_s).contains(&retry_after),
        "Retry-After {retry_after}"
    );
}

/// A WeChat user known to the fake, signing in from `from`.
async fn wechat_sign_in(
    app: &TestApp,
    providers: &Providers,
    from: Option<IpAddr>,
    openid: &str,
) -> anyhow::Result<Answer> {
    let code = format!("code-{openid}");
    providers.wechat.add_user(&code, openid, None);
    post_from(
        app,
        from,
        "/api/session/wechat",
        None,
        json!({ "code": code }),
    )
    .await
}

with_providers!(
    the_sign_in_after_the_limit_from_one_address_is_refused,
    [("sign_in_per_ip_per_minute", "3")],
    |app, providers| {
        clear_of_the_window_end(60_000, 15_000).await;
        for n in 0..3 {
            let answer = wechat_sign_in(app, providers, None, &format!("limit-{n}")).await?;
            assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.json);
        }
        let readers = app.count("readers").await?;

        // The fourth, through either provider, is refused before the
        // provider is asked: nobody is registered.
        let refused = wechat_sign_in(app, providers, None, "limit-3").await?;
        assert_too_many(&refused, 60);
        providers
            .alipay
            .add_user("code-limit-4", "2088000000000004");
        let refused = post_from(
            app,
            None,
            "/api/session/alipay",
            None,
            json!({ "auth_code": "code-limit-4" }),
        )
        .await?;
        assert_too_many(&refused, 60);
        assert_eq!(app.count("readers").await?, readers);

        // Another address has its own count.
        let answer = wechat_sign_in(app, providers, Some(OTHER_ADDRESS), "limit-3").await?;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.json);
        Ok(())
    }
);

with_providers!(
    a_staff_number_is_limited_from_every_address,
    [("staff_sign_in_per_staff_no_per_hour", "3")],
    |app, _providers| {
        clear_of_the_window_end(3_600_000, 30_000).await;
        app.load_demo(1, 0).await?.expect_ok()?;
        let wrong = json!({ "staff_no": "S0002", "password": "not-the-password" });
        for _ in 0..3 {
            let answer = post_from(app, None, "/api/staff/session", None, wrong.clone()).await?;
            answer.assert_problem(401);
        }
        // Even the right password, and from another address: the staff
        // number has used its attempts.
        let right =
            json!({ "staff_no": "S0002", "password": wangjie_shared::demo::DEMO_STAFF_PASSWORD });
        let refused = post_from(
            app,
            Some(OTHER_ADDRESS),
            "/api/staff/session",
            None,
            right.clone(),
        )
        .await?;
        assert_too_many(&refused, 3600);
        // Another member of staff signs in.
        let other =
            json!({ "staff_no": "S0003", "password": wangjie_shared::demo::DEMO_STAFF_PASSWORD });
        let answer = post_from(app, None, "/api/staff/session", None, other).await?;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.json);
        Ok(())
    }
);

with_providers!(
    the_credit_check_after_the_limit_for_one_reader_is_refused,
    [("credit_checks_per_reader_per_hour", "2")],
    |app, providers| {
        clear_of_the_window_end(3_600_000, 30_000).await;
        let reader: SignedIn = app
            .sign_in_wechat(providers, "openid-credit-a", None)
            .await?;
        providers
            .osmanthus
            .add_citizen("city-credit-a", "citizen-credit-a", 150);
        let check = json!({ "source": "osmanthus", "auth_code": "city-credit-a", "refresh": true });
        for _ in 0..2 {
            let answer = post_from(
                app,
                None,
                "/api/me/credit",
                Some(&reader.token),
                check.clone(),
            )
            .await?;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
        }
        let decisions = app.count("credit_decisions").await?;
        let refused = post_from(
            app,
            Some(OTHER_ADDRESS),
            "/api/me/credit",
            Some(&reader.token),
            check,
        )
        .await?;
        assert_too_many(&refused, 3600);
        assert_eq!(app.count("credit_decisions").await?, decisions);

        // Another reader is not held back.
        let other = app.borrower(providers, "credit-b").await?;
        let answer = app
            .send(
                reqwest::Method::GET,
                "/api/me/credit",
                Some(&other.token),
                None,
            )
            .await?;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.json);
        Ok(())
    }
);
