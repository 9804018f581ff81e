//! `GET`/`POST /webhooks/wechat`: the official account's server messages
//! (docs/wechat.md). The handshake answers `echostr`; a push is verified,
//! opened when sealed, handled once by `wechat::inbox`, and answered with a
//! text reply (sealed again in safe mode) or the bare `success`.

use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db, wechat_api};
use wangjie_shared::wechat::crypto::{verify_handshake, SafeMode, VAR_ENCODING_AES_KEY, VAR_TOKEN};
use wangjie_shared::wechat::inbox::{self, VAR_OFFICIAL_APPID};
use wangjie_shared::wechat::server::{text_reply, Inbound};
use wangjie_shared::{now_ms, Error, Result};

/// What WeChat takes as "received, nothing to say".
const SUCCESS: &str = "success";

/// `GET`: WeChat checks the URL when the account is configured.
pub fn handshake(request: &Request) -> Result<Reply> {
    let token = token()?;
    let echostr = verify_handshake(
        &token,
        param(request, "signature"),
        param(request, "timestamp"),
        param(request, "nonce"),
        param(request, "echostr"),
    )?;
    Ok(text(echostr.as_bytes().to_vec()))
}

/// `POST`: a message or an event.
pub fn push(request: &Request) -> Result<Reply> {
    let token = token()?;
    let (timestamp, nonce) = (param(request, "timestamp"), param(request, "nonce"));
    let body =
        std::str::from_utf8(&request.body).map_err(|_| Error::invalid("body", "not UTF-8"))?;
    let safe_mode = safe_mode(&token)?;
    // Plain mode's `signature` covers the query, not the body: whoever saw
    // one signed URL could post any body under it. So once an
    // EncodingAESKey is configured, only sealed pushes are believed, and a
    // plain one is refused like a forged one.
    let xml = match (&safe_mode, request.param("encrypt_type")) {
        (Some(keys), Some("aes")) => {
            keys.open(param(request, "msg_signature"), timestamp, nonce, body)?
        }
        (None, None | Some("raw")) => {
            verify_handshake(&token, param(request, "signature"), timestamp, nonce, "")?;
            body.to_string()
        }
        _ => {
            return Err(Error::BadSignature {
                what: "wechat message",
            })
        }
    };
    let now = now_ms();
    inbox::check_fresh(timestamp, now)?;
    let inbound = Inbound::parse(&xml)?;
    let db = db::connect()?;
    if inbox::wants_unionid(&inbound) {
        learn_unionid(db.as_ref(), inbound.from());
    }
    let Some(content) = inbox::receive(db.as_ref(), &inbound, now)? else {
        return Ok(text(SUCCESS.as_bytes().to_vec()));
    };
    let (reader, account) = match &inbound {
        Inbound::Text { from, to, .. } | Inbound::Event { from, to, .. } => (from, to),
        // receive() has nothing to say to other message types.
        Inbound::Other { .. } => return Ok(text(SUCCESS.as_bytes().to_vec())),
    };
    let reply = text_reply(reader, account, &content, now / 1000);
    let reply = match &safe_mode {
        Some(keys) => keys.seal(&reply, timestamp, nonce)?,
        None => reply,
    };
    Ok(Reply {
        status: 200,
        content_type: "application/xml; charset=utf-8",
        headers: Vec::new(),
        body: reply.into_bytes(),
    })
}

/// Looks up and stores the follower's unionid when it is not known yet.
/// Best effort: a WeChat that fails leaves the reply to say "sign in
/// first", and the next message tries again.
fn learn_unionid(db: &dyn wangjie_shared::db::Db, openid: &str) {
    let learnt = inbox::known_unionid(db, openid).and_then(|known| match known {
        Some(_) => Ok(()),
        None => match wechat_api::follower_unionid(openid)? {
            Some(unionid) => inbox::learn_unionid(db, openid, &unionid),
            None => Ok(()),
        },
    });
    if let Err(error) = learnt {
        eprintln!("wechat: no unionid for a follower: {error}");
    }
}

/// The token; the default `""` means the account is not configured, which
/// is the operator's to fix, not WeChat's.
fn token() -> Result<String> {
    let token = config::required(VAR_TOKEN)?;
    if token.is_empty() {
        return Err(Error::Config {
            name: VAR_TOKEN,
            reason: "empty".into(),
        });
    }
    Ok(token)
}

/// The safe-mode keys when an EncodingAESKey is configured.
fn safe_mode(token: &str) -> Result<Option<SafeMode>> {
    let key = config::optional(VAR_ENCODING_AES_KEY)?.unwrap_or_default();
    if key.is_empty() {
        return Ok(None);
    }
    let app_id = config::required(VAR_OFFICIAL_APPID)?;
    if app_id.is_empty() {
        return Err(Error::Config {
            name: VAR_OFFICIAL_APPID,
            reason: "empty, but safe mode checks it".into(),
        });
    }
    SafeMode::new(token, &key, &app_id).map(Some)
}

/// A query parameter, `""` when absent: a missing signature fails to verify
/// like a wrong one.
fn param<'a>(request: &'a Request, name: &str) -> &'a str {
    request.param(name).unwrap_or("")
}

fn text(body: Vec<u8>) -> Reply {
    Reply {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        headers: Vec::new(),
        body,
    }
}
