//! Sign-in through Alipay and WeChat, sessions, linking, the virtual card,
//! and one reader never reaching another's data.

use reqwest::Method;
use serde_json::json;
use wangjie_e2e::with_providers;

with_providers!(
    alipay_sign_in_registers_once_and_signs_in_again,
    |app, providers| {
        let first = app
            .sign_in_alipay(providers, "2088000000000001", None)
            .await?;
        let again = app
            .post_json(
                "/api/session/alipay",
                None,
                json!({ "auth_code": "code-2088000000000001" }),
            )
            .await?;
        assert_eq!(again.status, 200, "{:?}", again.json);
        assert_eq!(again.json["registered"], false);
        assert_eq!(again.json["reader"]["id"], first.id);
        let me = app
            .send(Method::GET, "/api/me", Some(&first.token), None)
            .await?;
        assert_eq!(me.status, 200, "{:?}", me.json);
        assert_eq!(me.json["alipay_linked"], true);
        assert_eq!(me.json["wechat_linked"], false);
        // The Alipay user id is never shown back.
        assert!(!me.json.to_string().contains("2088000000000001"));
        Ok(())
    }
);

with_providers!(
    a_bad_code_or_a_failing_provider_signs_nobody_in,
    |app, providers| {
        let unknown = app
            .post_json(
                "/api/session/alipay",
                None,
                json!({ "auth_code": "never-issued" }),
            )
            .await?;
        assert_eq!(
            unknown.assert_problem(400)["type"],
            "https://wangjie.example/problems/invalid-request"
        );
        let empty = app
            .post_json("/api/session/wechat", None, json!({ "code": "" }))
            .await?;
        empty.assert_problem(400);
        let extra = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "x", "admin": true }),
            )
            .await?;
        extra.assert_problem(400);
        providers.wechat.set_mode(wangjie_fakes::Mode::Status(503));
        providers.wechat.add_user("code-down", "openid-down", None);
        let down = app
            .post_json("/api/session/wechat", None, json!({ "code": "code-down" }))
            .await?;
        assert_eq!(down.assert_problem(503)["retryable"], true);
        Ok(())
    }
);

with_providers!(
    sessions_expire_with_sign_out_and_refuse_forgeries,
    |app, providers| {
        let reader = app.sign_in_wechat(providers, "openid-1", None).await?;
        let me = app
            .send(Method::GET, "/api/me", Some(&reader.token), None)
            .await?;
        assert_eq!(me.status, 200);
        assert_eq!(me.json["wechat_linked"], true);

        let none = app.get("/api/me").await?;
        none.assert_problem(401);
        assert_eq!(none.headers["www-authenticate"], "Bearer");
        // One character of the tag changed, to something it was not.
        let mut forged: Vec<char> = reader.token.chars().collect();
        let at = forged.len() - 5;
        forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        app.send(Method::GET, "/api/me", Some(&forged), None)
            .await?
            .assert_problem(401);
        app.send(Method::GET, "/api/me", Some("v1.e30.AAAA"), None)
            .await?
            .assert_problem(401);

        let out = app
            .send(Method::DELETE, "/api/session", Some(&reader.token), None)
            .await?;
        assert_eq!(out.status, 200, "{:?}", out.json);
        app.send(Method::GET, "/api/me", Some(&reader.token), None)
            .await?
            .assert_problem(401);
        // Signing in again gives a new, working token for the same reader.
        let back = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "code-openid-1" }),
            )
            .await?;
        assert_eq!(back.status, 200);
        assert_eq!(back.json["reader"]["id"], reader.id);
        Ok(())
    }
);

with_providers!(
    one_person_through_both_entries_is_one_reader,
    |app, providers| {
        let wechat = app
            .sign_in_wechat(providers, "openid-2", Some("union-2"))
            .await?;
        providers.alipay.add_user("code-link", "2088000000000002");
        let linked = app
            .post_json(
                "/api/me/links/alipay",
                Some(&wechat.token),
                json!({ "auth_code": "code-link" }),
            )
            .await?;
        assert_eq!(linked.status, 200, "{:?}", linked.json);
        assert_eq!(linked.json["alipay_linked"], true);
        let alipay = app
            .post_json(
                "/api/session/alipay",
                None,
                json!({ "auth_code": "code-link" }),
            )
            .await?;
        assert_eq!(alipay.json["reader"]["id"], wechat.id);

        // The same person in the library's other WeChat app: found by unionid.
        providers
            .wechat
            .add_user("code-other-app", "openid-2b", Some("union-2"));
        let other_app = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "code-other-app" }),
            )
            .await?;
        assert_eq!(
            other_app.json["reader"]["id"], wechat.id,
            "{:?}",
            other_app.json
        );

        // An Alipay account that is someone else's cannot be linked.
        let stranger = app
            .sign_in_alipay(providers, "2088000000000003", None)
            .await?;
        let theft = app
            .post_json(
                "/api/me/links/alipay",
                Some(&stranger.token),
                json!({ "auth_code": "code-link" }),
            )
            .await?;
        theft.assert_problem(409);
        Ok(())
    }
);

with_providers!(
    a_reader_cannot_reach_another_readers_data,
    |app, providers| {
        let a = app
            .sign_in_alipay(providers, "2088000000000010", Some(580))
            .await?;
        let b = app
            .sign_in_alipay(providers, "2088000000000011", Some(580))
            .await?;
        let own = app
            .send(
                Method::GET,
                &format!("/api/readers/{}", a.id),
                Some(&a.token),
                None,
            )
            .await?;
        assert_eq!(own.status, 200);
        app.send(
            Method::GET,
            &format!("/api/readers/{}", b.id),
            Some(&a.token),
            None,
        )
        .await?
        .assert_problem(403);
        app.get(&format!("/api/readers/{}", b.id))
            .await?
            .assert_problem(401);
        app.send(Method::GET, "/api/readers/x1", Some(&a.token), None)
            .await?
            .assert_problem(400);

        // B's deposit is "not found" for A, whatever its number.
        app.check_credit(&b, "sesame", Some("code-2088000000000011"))
            .await?
            .expect_ok()?;
        let deposit = app
            .post_json("/api/me/deposit", Some(&b.token), json!({}))
            .await?;
        assert_eq!(deposit.status, 201, "{:?}", deposit.json);
        let id = deposit.json["deposit"]["id"].as_i64().unwrap();
        app.send(
            Method::GET,
            &format!("/api/me/deposits/{id}"),
            Some(&a.token),
            None,
        )
        .await?
        .assert_problem(404);
        let own = app
            .send(
                Method::GET,
                &format!("/api/me/deposits/{id}"),
                Some(&b.token),
                None,
            )
            .await?;
        assert_eq!(own.status, 200);

        // A's token with B's Alipay authorisation: refused, B's standing untouched.
        let borrowed = app
            .check_credit(&a, "sesame", Some("code-2088000000000011"))
            .await?;
        borrowed.assert_problem(403);
        Ok(())
    }
);

with_providers!(the_virtual_card_comes_with_credit_once, |app, providers| {
    let reader = app.sign_in_wechat(providers, "openid-card", None).await?;
    app.post_json("/api/me/card", Some(&reader.token), json!({}))
        .await?
        .assert_problem(409);
    providers
        .osmanthus
        .add_citizen("city-card", "citizen-card", 150);
    app.check_credit(&reader, "osmanthus", Some("city-card"))
        .await?
        .expect_ok()?;
    let card = app
        .post_json("/api/me/card", Some(&reader.token), json!({}))
        .await?;
    assert_eq!(card.status, 201, "{:?}", card.json);
    let number = card.json["card_number"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 16);
    assert!(wangjie_shared_card_is_valid(&number), "{number}");
    let again = app
        .post_json("/api/me/card", Some(&reader.token), json!({}))
        .await?;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["card_number"], number.as_str());
    Ok(())
});

/// The Luhn check, written out here so the test does not trust the code
/// under test to check itself.
fn wangjie_shared_card_is_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    digits.len() == 16 && sum.is_multiple_of(10) && number.starts_with("96")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_expiry() -> anyhow::Result<()> {
    let (app, providers) = wangjie_e2e::with_providers::spawn_with_providers(
        wangjie_e2e::Backend::Sqlite,
        &[("session_ttl_ms", "1000")],
    )
    .await?;
    let outcome = async {
        let reader = app.sign_in_wechat(&providers, "openid-brief", None).await?;
        let me = app
            .send(Method::GET, "/api/me", Some(&reader.token), None)
            .await?;
        assert_eq!(me.status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        app.send(Method::GET, "/api/me", Some(&reader.token), None)
            .await?
            .assert_problem(401);
        anyhow::Ok(())
    }
    .await;
    app.stop().await?;
    outcome
}
