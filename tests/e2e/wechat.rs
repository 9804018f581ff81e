//! The official account's server messages at `/webhooks/wechat`: the URL
//! handshake, plain and safe-mode pushes, retries that change nothing, and
//! subscription grants stored once. Pushes are sealed and replies opened
//! with the app's own `SafeMode`, keyed with WeChat's published sample key.

use anyhow::{Context, Result};
use reqwest::Method;
use wangjie_e2e::with_providers::Providers;
use wangjie_e2e::{spawn_unmigrated, Backend, Options, TestApp};
use wangjie_shared::wechat::crypto::{sha1_signature, SafeMode};

const TOKEN: &str = "e2eWechatToken";
/// WeChat's sample EncodingAESKey and AppID (docs/wechat.md).
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const OFFICIAL_APPID: &str = "wx5823bf96d3bd56c7";
/// The official account's AppSecret, for its own access token.
const OFFICIAL_SECRET: &str = "e2e-official-account-secret";
/// The account's own user name, as WeChat puts it in `ToUserName`.
const ACCOUNT: &str = "gh_e2e000000001";

/// An app with the WeChat variables set, fake providers (for sign-in), and
/// a way to count rows in its database.
struct Wechat {
    app: TestApp,
    providers: Providers,
}

/// Safe mode on (the EncodingAESKey set) or off.
async fn start(backend: Backend, safe: bool) -> Result<Wechat> {
    let providers = Providers::start()?;
    let mut variables = providers.variables();
    providers
        .wechat
        .set_official_account(OFFICIAL_APPID, OFFICIAL_SECRET);
    for (name, value) in [
        ("wechat_token", TOKEN),
        ("wechat_official_appid", OFFICIAL_APPID),
        ("wechat_official_secret", OFFICIAL_SECRET),
    ] {
        variables.insert(name.into(), value.into());
    }
    if safe {
        variables.insert("wechat_encoding_aes_key".into(), AES_KEY.into());
    }
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
    Ok(Wechat { app, providers })
}

impl Wechat {
    /// The one value `sql` selects, as text (`CAST(.. AS TEXT)` in `sql`),
    /// or `""` for a statement that selects nothing.
    async fn scalar(&self, sql: &str) -> Result<String> {
        self.app.sql(sql).await
    }

    /// The number of rows `SELECT COUNT(*) FROM {from_where}` counts.
    async fn count(&self, from_where: &str) -> Result<i64> {
        let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM {from_where}");
        Ok(self.scalar(&sql).await?.parse()?)
    }

    async fn stop(self) -> Result<()> {
        self.app.stop().await
    }

    async fn call(&self, method: Method, query: &str, body: String) -> Result<(u16, String)> {
        let response = reqwest::Client::new()
            .request(method, format!("{}/webhooks/wechat?{query}", self.app.url))
            .header("content-type", "text/xml")
            .body(body)
            .send()
            .await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    /// A plain-mode push, signed with the token.
    async fn push_plain(&self, xml: &str) -> Result<(u16, String)> {
        let (timestamp, nonce) = fresh();
        let signature = sha1_signature(&[TOKEN, &timestamp, &nonce]);
        let query = format!("signature={signature}&timestamp={timestamp}&nonce={nonce}");
        self.call(Method::POST, &query, xml.to_string()).await
    }

    /// A safe-mode push sealed as WeChat seals it; `forge` breaks the
    /// `msg_signature`. The answer comes back opened when it is sealed.
    async fn push_sealed(&self, xml: &str, forge: bool) -> Result<(u16, String)> {
        let (timestamp, nonce) = fresh();
        let sealed = keys().seal(xml, &timestamp, &nonce)?;
        let mut msg_signature = element(&sealed, "MsgSignature").context("no MsgSignature")?;
        if forge {
            msg_signature = sha1_signature(&["not the token", &timestamp, &nonce]);
        }
        // WeChat also sends the plain `signature`, which safe mode ignores.
        let signature = sha1_signature(&[TOKEN, &timestamp, &nonce]);
        let query = format!(
            "signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=oReader1\
             &encrypt_type=aes&msg_signature={msg_signature}"
        );
        let (status, body) = self.call(Method::POST, &query, sealed).await?;
        if status != 200 || body == "success" {
            return Ok((status, body));
        }
        let signature = element(&body, "MsgSignature").context("reply not sealed")?;
        let stamp = element(&body, "TimeStamp").context("no TimeStamp")?;
        let nonce = element(&body, "Nonce").context("no Nonce")?;
        Ok((status, keys().open(&signature, &stamp, &nonce, &body)?))
    }
}

fn keys() -> SafeMode {
    SafeMode::new(TOKEN, AES_KEY, OFFICIAL_APPID).expect("the sample keys are valid")
}

/// A timestamp of now and a random nonce, as WeChat sends them.
fn fresh() -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    (now.to_string(), fastrand::u32(..).to_string())
}

/// The text of the first `<name>` element, CDATA unwrapped.
fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    let text = &xml[start..end];
    Some(
        text.strip_prefix("<![CDATA[")
            .and_then(|t| t.strip_suffix("]]>"))
            .unwrap_or(text)
            .to_string(),
    )
}

fn text_message(from: &str, content: &str, msg_id: u64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>\
         <FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{}</CreateTime>\
         <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>\
         <MsgId>{msg_id}</MsgId></xml>",
        fresh().0
    )
}

fn event(from: &str, inner: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>\
         <FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{}</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType>{inner}</xml>",
        fresh().0
    )
}

/// Asserts `reply` is a passive text reply from the account to `to`, and
/// returns its content.
fn reply_content(reply: &str, to: &str) -> String {
    assert_eq!(element(reply, "ToUserName").as_deref(), Some(to), "{reply}");
    assert_eq!(element(reply, "FromUserName").as_deref(), Some(ACCOUNT));
    assert_eq!(element(reply, "MsgType").as_deref(), Some("text"));
    element(reply, "Content").expect("a Content element")
}

/// Runs a body on SQLite and on PostgreSQL, safe mode on or off.
macro_rules! wechat_test {
    ($name:ident, safe = $safe:expr, |$w:ident| $body:block) => {
        wangjie_e2e::on_both_backends!($name, start = |b| start(b, $safe), |$w: Wechat| $body);
    };
}

wechat_test!(
    the_handshake_answers_echostr_only_when_signed,
    safe = true,
    |w| {
        let signature = sha1_signature(&[TOKEN, "1700000000", "42"]);
        let query = format!("signature={signature}&timestamp=1700000000&nonce=42&echostr=e2e-echo");
        let (status, body) = w.call(Method::GET, &query, String::new()).await?;
        assert_eq!((status, body.as_str()), (200, "e2e-echo"));
        let forged = query.replace("nonce=42", "nonce=43");
        let (status, body) = w.call(Method::GET, &forged, String::new()).await?;
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("bad-signature"), "{body}");
        Ok(())
    }
);

wechat_test!(a_follower_is_found_by_unionid, safe = false, |w| {
    // Signed in with the mini-program (its own openid); following the
    // account under another openid, the same unionid.
    w.app
        .sign_in_wechat(&w.providers, "oMiniProgram7", Some("union-7"))
        .await?;
    w.providers
        .wechat
        .add_follower("oAccount7", Some("union-7"));
    w.providers.wechat.add_follower("oAccount8", None);
    let (_, reply) = w
        .push_plain(&text_message("oAccount7", "我的借阅", 2001))
        .await?;
    assert_eq!(reply_content(&reply, "oAccount7"), "您目前没有在借的图书。");
    // Learnt once: the next question asks WeChat nothing.
    let (_, reply) = w
        .push_plain(&text_message("oAccount7", "我的借阅", 2002))
        .await?;
    assert_eq!(reply_content(&reply, "oAccount7"), "您目前没有在借的图书。");
    assert_eq!(w.providers.wechat.user_info_calls(), 1);
    // A follower without a unionid is asked to sign in.
    let (_, reply) = w
        .push_plain(&text_message("oAccount8", "我的借阅", 2003))
        .await?;
    assert!(
        reply_content(&reply, "oAccount8").contains("请先用微信登录"),
        "{reply}"
    );
    Ok(())
});

wechat_test!(plain_mode_answers_help_and_loans, safe = false, |w| {
    let (status, reply) = w
        .push_plain(&text_message("oStranger", "help", 1001))
        .await?;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply_content(&reply, "oStranger").contains("我的借阅"),
        "{reply}"
    );
    // No reader has signed in with this openid yet.
    let (_, reply) = w
        .push_plain(&text_message("oStranger", "我的借阅", 1002))
        .await?;
    assert!(
        reply_content(&reply, "oStranger").contains("请先用微信登录"),
        "{reply}"
    );
    // Once they have, the same question lists their (no) loans.
    let reader = w.app.sign_in_wechat(&w.providers, "oReader1", None).await?;
    let (_, reply) = w
        .push_plain(&text_message("oReader1", "my loans", 1003))
        .await?;
    assert_eq!(reply_content(&reply, "oReader1"), "您目前没有在借的图书。");
    // A book on loan (put there by hand: this test is not about orders) is
    // listed by title with its due date in Beijing time.
    w.app.load_demo(3, 0).await?.expect_ok()?;
    let due = wangjie_shared::now_ms() + 3 * 86_400_000;
    w.scalar(&format!(
        "INSERT INTO loans (copy_barcode, reader_id, started_at_ms, due_at_ms) \
         SELECT barcode, {}, 1, {due} FROM copies ORDER BY barcode LIMIT 1",
        reader.id
    ))
    .await?;
    let title = w
        .scalar(
            "SELECT r.title FROM loans l JOIN copies c ON c.barcode = l.copy_barcode \
             JOIN records r ON r.id = c.record_id",
        )
        .await?;
    let (_, reply) = w
        .push_plain(&text_message("oReader1", "我的借阅", 1007))
        .await?;
    let expected = format!(
        "您在借的图书（1 本）：\n1.《{title}》应还 {}",
        wangjie_shared::wechat::inbox::beijing_date(due)
    );
    assert_eq!(reply_content(&reply, "oReader1"), expected);
    let (_, reply) = w
        .push_plain(&text_message("oReader1", "你好", 1004))
        .await?;
    assert!(
        reply_content(&reply, "oReader1").contains("没有看懂"),
        "{reply}"
    );
    // A forged signature, and a signed but stale push, are refused.
    let (status, _) = w
        .call(
            Method::POST,
            "signature=00&timestamp=1&nonce=2",
            text_message("oReader1", "help", 1005),
        )
        .await?;
    assert_eq!(status, 401);
    let signature = sha1_signature(&[TOKEN, "1700000000", "7"]);
    let query = format!("signature={signature}&timestamp=1700000000&nonce=7");
    let (status, body) = w
        .call(Method::POST, &query, text_message("oReader1", "help", 1006))
        .await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
});

wechat_test!(safe_mode_opens_pushes_and_seals_replies, safe = true, |w| {
    let (status, reply) = w
        .push_sealed(&text_message("oReader2", "帮助", 2001), false)
        .await?;
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply_content(&reply, "oReader2").contains("my loans"),
        "{reply}"
    );
    let (status, body) = w
        .push_sealed(&text_message("oReader2", "帮助", 2002), true)
        .await?;
    assert_eq!(status, 401, "{body}");
    // With a key configured, a plain push is refused even when signed:
    // plain mode's signature does not cover the body.
    let (status, body) = w
        .push_plain(&text_message("oReader2", "帮助", 2003))
        .await?;
    assert_eq!(status, 401, "{body}");
    // A follow is welcomed, and recorded.
    let follow = event("oReader2", "<Event><![CDATA[subscribe]]></Event>");
    let (_, reply) = w.push_sealed(&follow, false).await?;
    assert!(
        reply_content(&reply, "oReader2").contains("欢迎关注"),
        "{reply}"
    );
    let followers = "wechat_followers WHERE openid = 'oReader2' AND subscribed = 1";
    assert_eq!(w.count(followers).await?, 1);
    Ok(())
});

wechat_test!(a_retried_push_changes_nothing, safe = true, |w| {
    let message = text_message("oReader3", "help", 3001);
    let (_, first) = w.push_sealed(&message, false).await?;
    assert!(reply_content(&first, "oReader3").contains("我的借阅"));
    // WeChat's retries carry the same MsgId: acknowledged, not acted on.
    for _ in 0..3 {
        assert_eq!(
            w.push_sealed(&message, false).await?,
            (200, "success".into())
        );
    }
    let seen = "wechat_messages WHERE dedupe_key = 'wechat:msg:3001'";
    assert_eq!(w.count(seen).await?, 1);

    let popup = event(
        "oReader3",
        "<Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>\
         <List><TemplateId><![CDATA[tpl-due]]></TemplateId>\
         <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString></List>\
         <List><TemplateId><![CDATA[tpl-ready]]></TemplateId>\
         <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List>\
         </SubscribeMsgPopupEvent>",
    );
    for _ in 0..3 {
        assert_eq!(w.push_sealed(&popup, false).await?, (200, "success".into()));
    }
    let grants = "wechat_grants WHERE openid = 'oReader3' \
                  AND template_id = 'tpl-due' AND used_at_ms IS NULL";
    assert_eq!(w.count(grants).await?, 1);
    let rejected = "wechat_grants WHERE template_id = 'tpl-ready'";
    assert_eq!(w.count(rejected).await?, 0);
    Ok(())
});
