//! WeChat's server API for our two WeChat apps: an access token per app,
//! fetched with the app's secret and cached in the key-value store until
//! five minutes before it expires (WeChat allows few token requests a day,
//! and a new token ends the old one), and the official account's user info,
//! which gives a follower's unionid.
//!
//! The official account's openids differ from the mini-program's; the
//! unionid, shared by every app of one WeChat open-platform account, is how
//! a follower messaging the account is found as a reader.

use super::config;
use super::kv;
use super::outbound::{self, Call};
use crate::{now_ms, Result};

/// A token is renewed this long before WeChat says it expires.
const TOKEN_MARGIN_MS: i64 = 5 * 60_000;

/// Why no token came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// No answer (refused, timed out, no key-value store).
    Unreached(String),
    /// WeChat answered without a token: its `errcode` and whole answer.
    Refused {
        /// `errcode`.
        code: String,
        /// The answer's text.
        answer: String,
    },
}

/// One app's credentials and where its token is cached.
#[derive(Debug, Clone)]
pub struct App<'a> {
    /// WeChat's API origin (`https://api.weixin.qq.com`).
    pub origin: &'a str,
    /// The app's id.
    pub appid: &'a str,
    /// The app's secret.
    pub secret: &'a str,
    /// The key-value key of its cached token.
    pub cache_key: &'a str,
    /// Connect/first-byte/between-bytes timeout.
    pub timeout_ms: u64,
}

/// The app's cached access token, or a fresh one when `refresh` (WeChat
/// answered 40001/42001 to the cached one) or near expiry.
pub fn access_token(app: &App<'_>, refresh: bool) -> std::result::Result<String, TokenFailure> {
    let store = kv::open_default().map_err(|e| TokenFailure::Unreached(e.to_string()))?;
    if !refresh {
        if let Ok(Some(bytes)) = store.get(app.cache_key) {
            if let Ok(cached) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let expires = cached["expires_at_ms"].as_i64().unwrap_or_default();
                if let Some(token) = cached["token"].as_str() {
                    if expires - TOKEN_MARGIN_MS > now_ms() {
                        return Ok(token.to_string());
                    }
                }
            }
        }
    }
    let url = format!(
        "{}/cgi-bin/token?grant_type=client_credential&appid={}&secret={}",
        app.origin, app.appid, app.secret
    );
    let answer = get(&url, app.timeout_ms).map_err(TokenFailure::Unreached)?;
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let Some(token) = body["access_token"].as_str() else {
        return Err(TokenFailure::Refused {
            code: body["errcode"].to_string(),
            answer: String::from_utf8_lossy(&answer.body).into_owned(),
        });
    };
    let expires_in = body["expires_in"].as_i64().unwrap_or(7200);
    let cached =
        serde_json::json!({ "token": token, "expires_at_ms": now_ms() + expires_in * 1000 });
    // A failed write costs one more token request later, nothing else.
    let _ = store.set(app.cache_key, cached.to_string().as_bytes());
    Ok(token.to_string())
}

fn get(url: &str, timeout_ms: u64) -> std::result::Result<outbound::Answer, String> {
    outbound::send(&Call {
        method: "GET",
        url,
        headers: Vec::new(),
        body: &[],
        timeout_ms,
    })
}

/// The unionid of the official account's follower `openid`, from
/// `cgi-bin/user/info`; `None` when the account's secret is not configured
/// or WeChat has none for them (an account not bound to an open platform).
/// An unreachable or refusing WeChat is an error for the caller to log.
pub fn follower_unionid(openid: &str) -> Result<Option<String>> {
    let secret = config::optional("wechat_official_secret")?.unwrap_or_default();
    let appid = config::optional("wechat_official_appid")?.unwrap_or_default();
    let origin = config::optional("wechat_origin")?.unwrap_or_default();
    if secret.is_empty() || appid.is_empty() || origin.is_empty() {
        return Ok(None);
    }
    let app = App {
        origin: origin.trim_end_matches('/'),
        appid: &appid,
        secret: &secret,
        cache_key: "wechat:official_access_token",
        timeout_ms: config::number("provider_timeout_ms", 3000)?,
    };
    let failed = |why: String| crate::Error::provider_unavailable("wechat", why);
    let mut refresh = false;
    loop {
        let token = access_token(&app, refresh).map_err(|f| failed(format!("{f:?}")))?;
        let openid: String = url::form_urlencoded::byte_serialize(openid.as_bytes()).collect();
        let url = format!(
            "{}/cgi-bin/user/info?access_token={token}&openid={openid}&lang=zh_CN",
            app.origin
        );
        let answer = get(&url, app.timeout_ms).map_err(failed)?;
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        match body["errcode"].as_i64() {
            Some(40001 | 42001) if !refresh => refresh = true,
            Some(code) if code != 0 => return Err(failed(format!("user/info errcode {code}"))),
            _ => return Ok(body["unionid"].as_str().map(str::to_string)),
        }
    }
}
