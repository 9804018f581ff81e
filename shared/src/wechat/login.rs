//! WeChat sign-in, from either of the library's two WeChat apps:
//!
//! - the mini-program: `wx.login` gives the reader's app a one-use `code`,
//!   exchanged at `GET /sns/jscode2session` with the mini-program's appid;
//! - the official account's web authorisation (`connect/oauth2/authorize`,
//!   `snsapi_base`): the browser comes back with a one-use `code`,
//!   exchanged at `GET /sns/oauth2/access_token` with the official
//!   account's appid.
//!
//! Each gives the user's `openid` in *that* app (and `unionid` when WeChat
//! tells it). The answers are unsigned; TLS to WeChat's origin is what
//! vouches for them.

use crate::Error;
use serde::Deserialize;

/// The URL of the exchange; every value is query-encoded.
pub fn code2session_url(base: &str, appid: &str, secret: &str, code: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", appid)
        .append_pair("secret", secret)
        .append_pair("js_code", code)
        .append_pair("grant_type", "authorization_code")
        .finish();
    format!("{}/sns/jscode2session?{query}", base.trim_end_matches('/'))
}

/// Which of the library's WeChat apps a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WechatApp {
    /// The mini-program (`wechat_appid`, `wechat_secret`; `jscode2session`).
    MiniProgram,
    /// The official account's web authorisation (`wechat_official_appid`,
    /// `wechat_official_secret`; `sns/oauth2/access_token`).
    OfficialAccount,
}

impl WechatApp {
    /// The variable holding this app's id.
    pub fn appid_variable(self) -> &'static str {
        match self {
            WechatApp::MiniProgram => "wechat_appid",
            WechatApp::OfficialAccount => "wechat_official_appid",
        }
    }

    /// The variable holding this app's secret.
    pub fn secret_variable(self) -> &'static str {
        match self {
            WechatApp::MiniProgram => "wechat_secret",
            WechatApp::OfficialAccount => "wechat_official_secret",
        }
    }

    /// What the reader does to get a fresh code.
    fn retry_hint(self) -> &'static str {
        match self {
            WechatApp::MiniProgram => "call wx.login again",
            WechatApp::OfficialAccount => "sign in through WeChat again",
        }
    }
}

/// The URL of the official account's web exchange (`snsapi_base` code for
/// the openid); every value is query-encoded.
pub fn oauth2_access_token_url(base: &str, appid: &str, secret: &str, code: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", appid)
        .append_pair("secret", secret)
        .append_pair("code", code)
        .append_pair("grant_type", "authorization_code")
        .finish();
    format!(
        "{}/sns/oauth2/access_token?{query}",
        base.trim_end_matches('/')
    )
}

/// The URL of `app`'s exchange for `code`.
pub fn exchange_url(app: WechatApp, base: &str, appid: &str, secret: &str, code: &str) -> String {
    match app {
        WechatApp::MiniProgram => code2session_url(base, appid, secret, code),
        WechatApp::OfficialAccount => oauth2_access_token_url(base, appid, secret, code),
    }
}

/// The WeChat user a code stood for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatUser {
    /// Unique to our app.
    pub openid: String,
    /// Shared by the library's WeChat apps, when bound.
    pub unionid: Option<String>,
}

/// Why the exchange gave no user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unreachable, slow, or 5xx.
    Unavailable(String),
    /// Not the documented JSON.
    Malformed(String),
    /// WeChat refused: `errcode` (40029 invalid code, 40163 code used,
    /// 40125 bad secret, -1 busy).
    Refused {
        /// `errcode`.
        code: i64,
        /// `errmsg`.
        message: String,
    },
    /// The web exchange answered for a snapshot-page virtual account
    /// (`is_snapshotuser: 1`): someone who has not consented yet.
    SnapshotUser,
}

impl LoginFailure {
    /// The domain error. A busy WeChat (`-1`) and a bad app secret are
    /// ours or theirs to fix, not the reader's; a bad code is the reader's.
    pub fn into_error(self, provider: &'static str) -> Error {
        self.into_error_for(WechatApp::MiniProgram, provider)
    }

    /// [`LoginFailure::into_error`] for a code of `app`: our bad
    /// credentials name `app`'s secret variable.
    pub fn into_error_for(self, app: WechatApp, provider: &'static str) -> Error {
        let unavailable = |reason: String| Error::provider_unavailable(provider, reason);
        match self {
            LoginFailure::Unavailable(reason) => unavailable(reason),
            LoginFailure::Malformed(reason) => unavailable(format!("malformed answer: {reason}")),
            LoginFailure::Refused { code: -1, .. } => unavailable("busy (errcode -1)".into()),
            LoginFailure::Refused { code: 40125, .. }
            | LoginFailure::Refused { code: 40013, .. } => Error::Config {
                name: app.secret_variable(),
                reason: "WeChat refused our app credentials".into(),
            },
            LoginFailure::SnapshotUser => Error::invalid(
                "code",
                "WeChat gave a snapshot-page visitor; open the page in WeChat and allow it",
            ),
            LoginFailure::Refused { code, .. } => Error::invalid(
                "code",
                format!("WeChat refused it (errcode {code}); {}", app.retry_hint()),
            ),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// Reads the answer of the official account's web exchange:
/// `{access_token, expires_in, refresh_token, openid, scope,
/// is_snapshotuser?, unionid?}` or `{errcode, errmsg}`. Only `openid` and
/// `unionid` are kept; the user's web access token is never used or
/// stored. A *snapshot-page* virtual account (`is_snapshotuser: 1`: WeChat
/// shows a page snapshot to someone who has not consented yet) is no one:
/// it is refused like a bad code, so the reader consents and comes back.
pub fn read_oauth2_access_token(status: u16, body: &[u8]) -> Result<WechatUser, LoginFailure> {
    let user = read_code2session(status, body)?;
    #[derive(Deserialize)]
    struct Snapshot {
        #[serde(default)]
        is_snapshotuser: i64,
    }
    let snapshot: Snapshot = serde_json::from_slice(body)
        .map_err(|_| LoginFailure::Malformed("not WeChat's JSON".into()))?;
    if snapshot.is_snapshotuser == 1 {
        return Err(LoginFailure::SnapshotUser);
    }
    Ok(user)
}

/// Reads the answer of `app`'s exchange.
pub fn read_exchange(app: WechatApp, status: u16, body: &[u8]) -> Result<WechatUser, LoginFailure> {
    match app {
        WechatApp::MiniProgram => read_code2session(status, body),
        WechatApp::OfficialAccount => read_oauth2_access_token(status, body),
    }
}

/// Reads the exchange's answer.
pub fn read_code2session(status: u16, body: &[u8]) -> Result<WechatUser, LoginFailure> {
    if status >= 500 {
        return Err(LoginFailure::Unavailable(format!("answered {status}")));
    }
    if status != 200 {
        return Err(LoginFailure::Malformed(format!("status {status}")));
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|_| LoginFailure::Malformed("not WeChat's JSON".into()))?;
    if answer.errcode != 0 {
        return Err(LoginFailure::Refused {
            code: answer.errcode,
            message: answer.errmsg,
        });
    }
    let plausible = |id: &String| !id.trim().is_empty() && id.len() <= 128;
    let openid = answer
        .openid
        .filter(plausible)
        .ok_or_else(|| LoginFailure::Malformed("no openid".into()))?;
    Ok(WechatUser {
        openid,
        unionid: answer.unionid.filter(plausible),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_encodes_every_value() {
        let url = code2session_url("https://api.weixin.qq.com/", "wx1", "s&x", "a b");
        assert_eq!(
            url,
            "https://api.weixin.qq.com/sns/jscode2session?appid=wx1&secret=s%26x&js_code=a+b&grant_type=authorization_code"
        );
    }

    #[test]
    fn a_good_answer_gives_the_user() {
        let user =
            read_code2session(200, br#"{"openid":"o1","session_key":"k","unionid":"u1"}"#).unwrap();
        assert_eq!(user.openid, "o1");
        assert_eq!(user.unionid.as_deref(), Some("u1"));
        let user =
            read_code2session(200, br#"{"openid":"o2","session_key":"k","errcode":0}"#).unwrap();
        assert_eq!(user.unionid, None);
    }

    #[test]
    fn the_web_exchange_goes_to_oauth2_access_token() {
        let url = oauth2_access_token_url("https://api.weixin.qq.com", "wxoa", "s&x", "0a1 b");
        assert_eq!(
            url,
            "https://api.weixin.qq.com/sns/oauth2/access_token?appid=wxoa&secret=s%26x&code=0a1+b&grant_type=authorization_code"
        );
        assert_eq!(
            exchange_url(WechatApp::OfficialAccount, "http://x/", "a", "b", "c"),
            "http://x/sns/oauth2/access_token?appid=a&secret=b&code=c&grant_type=authorization_code"
        );
    }

    #[test]
    fn a_web_answer_gives_the_user_and_drops_its_token() {
        let body = br#"{"access_token":"AT","expires_in":7200,"refresh_token":"RT","openid":"oa1","scope":"snsapi_base"}"#;
        let user = read_oauth2_access_token(200, body).unwrap();
        assert_eq!(
            user,
            WechatUser {
                openid: "oa1".into(),
                unionid: None
            }
        );
        let body = br#"{"access_token":"AT","expires_in":7200,"openid":"oa1","scope":"snsapi_base","unionid":"u1","is_snapshotuser":0}"#;
        let user = read_oauth2_access_token(200, body).unwrap();
        assert_eq!(user.unionid.as_deref(), Some("u1"));
    }

    #[test]
    fn a_web_refusal_names_the_official_accounts_secret_or_the_code() {
        let refused =
            read_oauth2_access_token(200, br#"{"errcode":40029,"errmsg":"invalid code"}"#)
                .unwrap_err();
        let error = refused.into_error_for(WechatApp::OfficialAccount, "wechat");
        assert!(
            matches!(error, Error::Invalid { ref field, ref reason } if field == "code" && reason.contains("sign in through WeChat again")),
            "{error:?}"
        );
        let secret =
            read_oauth2_access_token(200, br#"{"errcode":40125,"errmsg":"invalid appsecret"}"#)
                .unwrap_err();
        assert!(matches!(
            secret.into_error_for(WechatApp::OfficialAccount, "wechat"),
            Error::Config {
                name: "wechat_official_secret",
                ..
            }
        ));
        assert!(matches!(
            read_oauth2_access_token(502, b"<html>"),
            Err(LoginFailure::Unavailable(_))
        ));
        assert!(matches!(
            read_oauth2_access_token(200, br#"{"access_token":"AT","scope":"snsapi_base"}"#),
            Err(LoginFailure::Malformed(_))
        ));
    }

    #[test]
    fn a_snapshot_page_user_is_refused_as_no_one() {
        let body = br#"{"access_token":"AT","expires_in":7200,"openid":"virtual","scope":"snsapi_base","is_snapshotuser":1}"#;
        let refused = read_oauth2_access_token(200, body).unwrap_err();
        assert_eq!(refused, LoginFailure::SnapshotUser);
        assert!(matches!(
            refused.into_error_for(WechatApp::OfficialAccount, "wechat"),
            Error::Invalid { .. }
        ));
    }

    #[test]
    fn failures_are_told_apart() {
        assert!(matches!(
            read_code2session(503, b""),
            Err(LoginFailure::Unavailable(_))
        ));
        assert!(matches!(
            read_code2session(200, b"<html>"),
            Err(LoginFailure::Malformed(_))
        ));
        assert!(matches!(
            read_code2session(200, b"{}"),
            Err(LoginFailure::Malformed(_))
        ));
        let refused = read_code2session(200, br#"{"errcode":40029,"errmsg":"invalid code"}"#);
        assert_eq!(
            refused,
            Err(LoginFailure::Refused {
                code: 40029,
                message: "invalid code".into()
            })
        );
        let error = refused.unwrap_err().into_error("wechat");
        assert!(matches!(error, Error::Invalid { ref field, .. } if field == "code"));
        let busy = LoginFailure::Refused {
            code: -1,
            message: "busy".into(),
        };
        assert!(matches!(
            busy.into_error("wechat"),
            Error::ProviderUnavailable { .. }
        ));
    }
}
