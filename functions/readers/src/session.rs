//! Sign-in, sign-out and linking a second identity.

use serde::{Deserialize, Serialize};
use wangjie_shared::readers::authorize::{self, AuthorizeSettings, ReturnTo};
use wangjie_shared::readers::{store, Identity, Reader};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::providers::{self, Alipay};
use wangjie_shared::spin::{config, db, rate, session, wechat_api};
use wangjie_shared::wechat::inbox;
use wangjie_shared::wechat::login::WechatApp;
use wangjie_shared::{now_ms, Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlipayCode {
    auth_code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WechatCode {
    code: String,
    /// Where the code came from: the mini-program's `wx.login` (absent, or
    /// `miniprogram`) or the official account's web authorisation (`web`).
    #[serde(default)]
    via: WechatVia,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum WechatVia {
    #[default]
    Miniprogram,
    Web,
}

#[derive(Serialize)]
struct SignedIn {
    token: String,
    expires_at_ms: i64,
    /// Whether this sign-in created the reader.
    registered: bool,
    reader: Reader,
}

/// A code as the mini-program hands it over: one-use, short, printable.
fn code(value: &str, field: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be the 1 to 256 character code the mini-program received",
        ));
    }
    Ok(value.to_string())
}

fn alipay_identity(request: &Request) -> Result<Identity> {
    let body: AlipayCode = request.json()?;
    let user =
        Alipay::from_variables()?.user(&code(&body.auth_code, "auth_code")?, "alipay", now_ms())?;
    Ok(Identity::Alipay {
        user_id: user.user_id,
    })
}

fn wechat_identity(request: &Request) -> Result<Identity> {
    let body: WechatCode = request.json()?;
    let code = code(&body.code, "code")?;
    Ok(match body.via {
        WechatVia::Miniprogram => {
            let user = providers::wechat_user_of(WechatApp::MiniProgram, &code)?;
            Identity::Wechat {
                openid: user.openid,
                unionid: user.unionid,
            }
        }
        WechatVia::Web => {
            let user = providers::wechat_user_of(WechatApp::OfficialAccount, &code)?;
            let unionid = match user.unionid {
                Some(unionid) => Some(unionid),
                None => follower_unionid(&user.openid),
            };
            Identity::WechatWeb {
                openid: user.openid,
                unionid,
            }
        }
    })
}

/// The unionid of the official account's user `openid`, which the web
/// exchange gives only for `snsapi_userinfo`: the one learnt from the
/// account's server messages (`wechat_followers`), else asked of
/// `cgi-bin/user/info`. Best effort: without it the reader is still signed
/// in, only not joined to their mini-program self yet.
fn follower_unionid(openid: &str) -> Option<String> {
    let known = db::connect()
        .and_then(|db| inbox::known_unionid(db.as_ref(), openid))
        .and_then(|known| match known {
            Some(unionid) => Ok(Some(unionid)),
            None => wechat_api::follower_unionid(openid),
        });
    known.unwrap_or_else(|error| {
        eprintln!("wechat: no unionid for a web sign-in: {error}");
        None
    })
}

fn sign_in(identity: Identity) -> Result<Reply> {
    let now = now_ms();
    let via = match &identity {
        Identity::Alipay { .. } => "alipay",
        Identity::Wechat { .. } | Identity::WechatWeb { .. } => "wechat",
    };
    let (reader, registered) = store::sign_in(db::connect()?.as_ref(), &identity, now)?;
    let (token, expires_at_ms) = session::issue_via(reader.id, via, now)?;
    let status = if registered { 201 } else { 200 };
    Ok(Reply::json(
        status,
        &SignedIn {
            token,
            expires_at_ms,
            registered,
            reader,
        },
    ))
}

/// `POST /api/session/alipay {"auth_code"}`.
pub fn sign_in_alipay(request: &Request) -> Result<Reply> {
    rate::admit_sign_in(request)?;
    sign_in(alipay_identity(request)?)
}

/// `POST /api/session/wechat {"code", "via"?}`: `via` `web` for a code
/// from the official account's web authorisation.
pub fn sign_in_wechat(request: &Request) -> Result<Reply> {
    rate::admit_sign_in(request)?;
    sign_in(wechat_identity(request)?)
}

/// `DELETE /api/session`: this token, a reader's or a member of staff's,
/// stops working at once.
pub fn sign_out(request: &Request) -> Result<Reply> {
    let claims = session::authenticate_any(request, now_ms())?;
    session::revoke(&claims)?;
    Ok(Reply::json(200, &serde_json::json!({ "signed_out": true })))
}

/// `POST /api/me/links/alipay {"auth_code"}`.
pub fn link_alipay(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let identity = alipay_identity(request)?;
    link(claims.reader_id, &identity)
}

/// `POST /api/me/links/wechat {"code", "via"?}`.
pub fn link_wechat(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let identity = wechat_identity(request)?;
    link(claims.reader_id, &identity)
}

fn link(reader_id: i64, identity: &Identity) -> Result<Reply> {
    let reader = store::link(db::connect()?.as_ref(), reader_id, identity, now_ms())?;
    Ok(Reply::json(200, &reader))
}

/// A variable that may be absent or empty, as the empty string.
fn setting(name: &'static str, default: &str) -> Result<String> {
    Ok(config::optional(name)?.unwrap_or_else(|| default.to_string()))
}

/// The host (and port) this request came to: from `spin-full-url`, which
/// Spin sets on every request, else the `Host` header.
fn this_host(request: &Request) -> Result<String> {
    let from_url = request.header("spin-full-url").and_then(|url| {
        let rest = url.split_once("://")?.1;
        Some(rest.split(['/', '?', '#']).next()?.to_string())
    });
    from_url
        .filter(|host| !host.is_empty())
        .or_else(|| request.header("host").map(str::to_string))
        .ok_or_else(|| Error::invalid("host", "the request names no host"))
}

/// `GET /api/session/providers?redirect_uri=&state=`: the authorize page of
/// each configured provider, for a reader on the web who comes back to
/// `redirect_uri` (the reader app on this origin) with their code.
pub fn providers(request: &Request) -> Result<Reply> {
    let to = ReturnTo::parse(
        request.param("redirect_uri").unwrap_or_default(),
        &this_host(request)?,
    )?;
    let state = authorize::parse_state(request.param("state").unwrap_or_default())?;
    let settings = AuthorizeSettings {
        alipay_url: setting("alipay_authorize_url", authorize::ALIPAY_AUTHORIZE_URL)?,
        alipay_app_id: setting("alipay_app_id", "")?,
        wechat_url: setting("wechat_authorize_url", authorize::WECHAT_AUTHORIZE_URL)?,
        // The web page authorises for the official account, whose code
        // only its own appid can exchange.
        wechat_appid: setting("wechat_official_appid", "")?,
        osmanthus_url: setting("osmanthus_authorize_url", "")?,
        osmanthus_app_id: setting("osmanthus_app_id", "")?,
    };
    let providers = authorize::links(&settings, &to, &state);
    Ok(Reply::json(
        200,
        &serde_json::json!({ "providers": providers }),
    ))
}
