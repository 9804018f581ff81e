//! WeChat sign-in on the web: `POST /api/session/wechat {code, "via":
//! "web"}` exchanges a code from the official account's authorisation page
//! at `sns/oauth2/access_token`, and the unionid keeps the reader one person
//! across the web and the mini-program.

use serde_json::json;
use wangjie_e2e::with_providers;

with_providers!(
    a_web_sign_in_is_the_mini_program_reader_by_unionid,
    |app, providers| {
        providers
            .wechat
            .add_web_user("web-code-1", "oa-openid-1", Some("union-w1"));
        let web = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "web-code-1", "via": "web" }),
            )
            .await?;
        assert_eq!(web.status, 201, "{:?}", web.json);
        assert_eq!(web.json["registered"], true);
        assert_eq!(web.json["reader"]["wechat_linked"], true);
        let id = web.json["reader"]["id"].as_i64().unwrap();
        let row = app
            .sql(&format!(
                "SELECT COALESCE(wechat_web_openid, '-') || ' ' || COALESCE(wechat_openid, '-') \
             FROM readers WHERE id = {id}"
            ))
            .await?;
        assert_eq!(row, "oa-openid-1 -", "the web openid has its own column");

        // The same person in the mini-program: another openid, the same unionid.
        let mini = app
            .sign_in_wechat(providers, "mp-openid-1", Some("union-w1"))
            .await?;
        assert_eq!(mini.id, id);
        let row = app
            .sql(&format!(
                "SELECT wechat_web_openid || ' ' || wechat_openid FROM readers WHERE id = {id}"
            ))
            .await?;
        assert_eq!(row, "oa-openid-1 mp-openid-1", "both openids on one reader");

        // And back on the web: the same reader, not a new one.
        let again = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "web-code-1", "via": "web" }),
            )
            .await?;
        assert_eq!(again.status, 200, "{:?}", again.json);
        assert_eq!(again.json["reader"]["id"], id);
        assert_eq!(app.sql("SELECT COUNT(*) FROM readers").await?, "1");
        Ok(())
    }
);

with_providers!(
    a_mini_program_reader_signs_in_on_the_web_by_the_followers_unionid,
    |app, providers| {
        let mini = app
            .sign_in_wechat(providers, "mp-openid-2", Some("union-w2"))
            .await?;
        // snsapi_base answers no unionid: the account's user info has it.
        providers
            .wechat
            .add_web_user("web-code-2", "oa-openid-2", None);
        providers
            .wechat
            .add_follower("oa-openid-2", Some("union-w2"));
        let web = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "web-code-2", "via": "web" }),
            )
            .await?;
        assert_eq!(web.status, 200, "{:?}", web.json);
        assert_eq!(web.json["reader"]["id"], mini.id);
        assert_eq!(providers.wechat.user_info_calls(), 1);

        // A web user WeChat knows no unionid for is a reader of their own.
        providers
            .wechat
            .add_web_user("web-code-3", "oa-openid-3", None);
        let alone = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "web-code-3", "via": "web" }),
            )
            .await?;
        assert_eq!(alone.status, 201, "{:?}", alone.json);
        assert_ne!(alone.json["reader"]["id"], mini.id);
        Ok(())
    }
);

with_providers!(
    a_bad_web_code_is_the_readers_and_a_down_wechat_is_retryable,
    |app, providers| {
        let invalid = "https://wangjie.example/problems/invalid-request";
        // A mini-program code is no web code: WeChat answers 40029.
        providers.wechat.add_user("mini-only", "mp-openid-4", None);
        let refused = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "mini-only", "via": "web" }),
            )
            .await?;
        assert_eq!(refused.assert_problem(400)["type"], invalid);
        let empty = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": " ", "via": "web" }),
            )
            .await?;
        assert_eq!(empty.assert_problem(400)["type"], invalid);
        for body in [
            json!({ "code": "web-code-5", "via": "official" }),
            json!({ "code": "web-code-5", "via": "web", "scope": "snsapi_userinfo" }),
        ] {
            app.post_json("/api/session/wechat", None, body)
                .await?
                .assert_problem(400);
        }
        providers
            .wechat
            .add_web_user("web-code-5", "oa-openid-5", None);
        providers.wechat.set_mode(wangjie_fakes::Mode::Status(503));
        let down = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "web-code-5", "via": "web" }),
            )
            .await?;
        assert_eq!(down.assert_problem(503)["retryable"], true);
        providers.wechat.set_mode(wangjie_fakes::Mode::Normal);
        let back = app
            .post_json(
                "/api/session/wechat",
                None,
                json!({ "code": "web-code-5", "via": "web" }),
            )
            .await?;
        assert_eq!(back.status, 201, "{:?}", back.json);
        assert_eq!(app.sql("SELECT COUNT(*) FROM readers").await?, "1");
        Ok(())
    }
);
