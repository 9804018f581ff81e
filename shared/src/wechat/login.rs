//! Mini-program sign-in: `wx.login` gives the reader's app a one-use
//! `code`, which we exchange at `GET /sns/jscode2session` for the user's
//! `openid` (and `unionid` when the app is bound to the library's
//! open-platform account). The answer is unsigned; TLS to WeChat's origin
//! is what vouches for it.

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
}

impl LoginFailure {
    /// The domain error. A busy WeChat (`-1`) and a bad app secret are
    /// ours or theirs to fix, not the reader's; a bad code is the reader's.
    pub fn into_error(self, provider: &'static str) -> Error {
        let unavailable = |reason: String| Error::provider_unavailable(provider, reason);
        match self {
            LoginFailure::Unavailable(reason) => unavailable(reason),
            LoginFailure::Malformed(reason) => unavailable(format!("malformed answer: {reason}")),
            LoginFailure::Refused { code: -1, .. } => unavailable("busy (errcode -1)".into()),
            LoginFailure::Refused { code: 40125, .. }
            | LoginFailure::Refused { code: 40013, .. } => Error::Config {
                name: "wechat_secret",
                reason: "WeChat refused our app credentials".into(),
            },
            LoginFailure::Refused { code, .. } => Error::invalid(
                "code",
                format!("WeChat refused it (errcode {code}); call wx.login again"),
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
