//! What the reader's web app (/m/, issue 17) added to the API: the
//! providers' authorize links for web sign-in, a reader's own notices, and
//! how many cells of each locker are free.

use reqwest::Method;
use serde_json::json;
use wangjie_e2e::with_providers::{ALIPAY_APP_ID, WECHAT_OFFICIAL_APPID};
use wangjie_e2e::{on_both_backends, with_providers};

/// `GET /api/session/providers` for a return to `redirect_uri`.
fn providers_path(redirect_uri: &str, state: &str) -> String {
    let url = reqwest::Url::parse_with_params(
        "http://app.invalid/api/session/providers",
        &[("redirect_uri", redirect_uri), ("state", state)],
    )
    .expect("a URL");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

with_providers!(
    web_sign_in_links_lead_to_each_provider_and_back_to_this_app,
    |app, _providers| {
        let back = format!("{}/m/", app.url);
        let answer = app
            .get(&providers_path(&back, "s7a7e-0123"))
            .await?
            .expect_ok()?;
        let providers = answer.json["providers"].as_array().unwrap();
        let names: Vec<&str> = providers
            .iter()
            .map(|p| p["provider"].as_str().unwrap())
            .collect();
        // Osmanthus has no web page unless osmanthus_authorize_url is set.
        assert_eq!(names, ["alipay", "wechat"], "{}", answer.json);
        let encoded = back.replace(':', "%3A").replace('/', "%2F");
        assert_eq!(
            providers[0]["authorize_url"],
            format!(
                "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id={ALIPAY_APP_ID}\
                 &scope=auth_user&redirect_uri={encoded}&state=s7a7e-0123"
            )
        );
        assert_eq!(providers[0]["code_param"], "auth_code");
        assert_eq!(
            providers[1]["authorize_url"],
            format!(
                "https://open.weixin.qq.com/connect/oauth2/authorize?appid={WECHAT_OFFICIAL_APPID}\
                 &redirect_uri={encoded}&response_type=code&scope=snsapi_base\
                 &state=s7a7e-0123#wechat_redirect"
            )
        );
        Ok(())
    }
);

with_providers!(
    the_authorize_url_variables_point_sign_in_at_another_page,
    [
        (
            "alipay_authorize_url",
            "http://127.0.0.1:9/alipay-authorize"
        ),
        (
            "osmanthus_authorize_url",
            "http://127.0.0.1:9/city-authorize"
        ),
    ],
    |app, _providers| {
        let answer = app
            .get(&providers_path(&format!("{}/m/", app.url), "state-0123"))
            .await?
            .expect_ok()?;
        let providers = answer.json["providers"].as_array().unwrap();
        assert_eq!(providers.len(), 3, "{}", answer.json);
        let alipay = providers[0]["authorize_url"].as_str().unwrap();
        assert!(
            alipay.starts_with("http://127.0.0.1:9/alipay-authorize?app_id="),
            "{alipay}"
        );
        assert_eq!(providers[2]["provider"], "osmanthus");
        let city = providers[2]["authorize_url"].as_str().unwrap();
        assert!(
            city.starts_with("http://127.0.0.1:9/city-authorize?app_id="),
            "{city}"
        );
        Ok(())
    }
);

on_both_backends!(
    web_sign_in_returns_only_to_the_reader_app_on_this_origin,
    |app| {
        // No app ids configured: nothing to offer, but the request is fine.
        let none = app
            .get(&providers_path(&format!("{}/m/", app.url), "state-0123"))
            .await?
            .expect_ok()?;
        assert_eq!(none.json["providers"], json!([]));
        for (uri, state) in [
            ("https://evil.example/m/".to_string(), "state-0123"),
            (format!("{}/console/", app.url), "state-0123"),
            (format!("{}/m/#/x", app.url), "state-0123"),
            (String::new(), "state-0123"),
            (format!("{}/m/", app.url), "short"),
            (format!("{}/m/", app.url), ""),
        ] {
            let refused = app.get(&providers_path(&uri, state)).await?;
            let problem = refused.assert_problem(400);
            assert_eq!(
                problem["type"],
                "https://wangjie.example/problems/invalid-request"
            );
        }
        let post = app
            .send(Method::POST, "/api/session/providers", None, None)
            .await?;
        post.assert_problem(405);
        Ok(())
    }
);

with_providers!(
    a_reader_lists_their_own_notices_in_words,
    |app, providers| {
        let reader = app.borrower(providers, "notices-1").await?;
        let other = app.borrower(providers, "notices-2").await?;
        let insert = |id: i64, reader: i64, kind: &str, state: &str, payload: &str| {
            format!(
            "INSERT INTO notices (id, reader_id, kind, channel, dedup_key, subject_kind, subject_id, \
             payload, state, attempts, created_at_ms, updated_at_ms) VALUES ({id}, {reader}, '{kind}', \
             'wechat', 'e2e:{id}', 'order', '7', '{payload}', '{state}', 0, {id}000, {id}000);"
        )
        };
        app.sql(&format!(
            "{}{}{}",
            insert(
                1,
                reader.id,
                "order_changed",
                "sent",
                r#"{"state":"cancelled"}"#
            ),
            insert(
                2,
                reader.id,
                "order_changed",
                "superseded",
                r#"{"state":"in_transit"}"#
            ),
            insert(
                3,
                other.id,
                "order_changed",
                "queued",
                r#"{"state":"cancelled"}"#
            ),
        ))
        .await?;
        let mine = app
            .send(Method::GET, "/api/me/notices", Some(&reader.token), None)
            .await?
            .expect_ok()?;
        let notices = mine.json["notices"].as_array().unwrap();
        assert_eq!(
            notices.len(),
            1,
            "superseded and others' are left out: {}",
            mine.json
        );
        assert_eq!(notices[0]["kind"], "order_changed");
        assert_eq!(notices[0]["subject_kind"], "order");
        assert_eq!(notices[0]["subject_id"], "7");
        assert_eq!(notices[0]["text"], "您的订单7已取消。");
        assert_eq!(notices[0]["created_at_ms"], 1000);
        let anonymous = app.get("/api/me/notices").await?;
        anonymous.assert_problem(401);
        Ok(())
    }
);

on_both_backends!(
    lockers_in_point_listings_say_how_many_cells_are_free,
    |app| {
        app.load_demo(200, 20).await?.expect_ok()?;
        let metro = app.get_points("?kind=metro").await?.expect_ok()?;
        let first = &metro.json["points"][0];
        let code = first["code"].as_str().unwrap();
        let empty = app
            .count(&format!(
                "locker_cells WHERE point_code = '{code}' AND state = 'empty'"
            ))
            .await?;
        assert_eq!(first["free_cells"], empty, "{first}");
        app.sql(&format!(
        "UPDATE locker_cells SET state = 'occupied' WHERE point_code = '{code}' AND cell_no <= 5 \
         AND state = 'empty'"
    ))
        .await?;
        let after = app.get_points(&format!("/{code}")).await?.expect_ok()?;
        let now_empty = app
            .count(&format!(
                "locker_cells WHERE point_code = '{code}' AND state = 'empty'"
            ))
            .await?;
        assert!(now_empty < empty);
        assert_eq!(after.json["free_cells"], now_empty);
        let branch = app.get_points("/B001").await?.expect_ok()?;
        assert!(branch.json.get("free_cells").is_none(), "{}", branch.json);
        Ok(())
    }
);
