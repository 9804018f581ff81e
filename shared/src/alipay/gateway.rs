//! Calls to Alipay's open-platform gateway (`gateway.do`): the signed form
//! of a request, and the verified reading of its answer.
//!
//! A request is a form POST of the common parameters (`app_id`, `method`,
//! `format`, `charset`, `sign_type`, `timestamp` in Beijing time, `version`)
//! and the method's own, signed RSA2 over their request sign content
//! ([`super::request_sign_content`]: everything but `sign`). The
//! answer is `{"<method with '.' as '_'>_response": {...}, "sign": "..."}`,
//! or `{"error_response": {...}, "sign": "..."}`, where `sign` covers the
//! exact text of the response member: it is cut out of the body byte for
//! byte (serde_json's `RawValue`) before it is parsed. Only an
//! `error_response` may come unsigned (the gateway does not sign a refusal
//! of a request it could not verify); a signature that is there must verify.

use super::sign::{sign_request, verify_content, VAR_APP_PRIVATE_KEY};
use super::{AlipayKey, AppKey, RSA2};
use crate::credit::ProviderOutcome;
use crate::{Error, Result};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The Sesame score product.
const PRODUCT_SCORE: &str = "w1010100100000000001";
/// The Sesame admit-decision product (credit borrowing).
const PRODUCT_ADMIT: &str = "w1010100000000002733";

/// One gateway method with its own parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayCall {
    /// `alipay.system.oauth.token`, ...
    pub method: &'static str,
    /// The method's parameters (`code`, `auth_token`, `biz_content`, ...).
    pub params: Vec<(String, String)>,
}

/// `alipay.system.oauth.token`: a mini-program `auth_code` for the user.
pub fn oauth_token(auth_code: &str) -> GatewayCall {
    GatewayCall {
        method: "alipay.system.oauth.token",
        params: vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), auth_code.into()),
        ],
    }
}

/// `zhima.credit.score.get`: the user's Sesame score.
pub fn sesame_score(auth_token: &str, transaction_id: &str) -> GatewayCall {
    let biz = serde_json::json!({
        "transaction_id": transaction_id,
        "product_code": PRODUCT_SCORE,
    });
    GatewayCall {
        method: "zhima.credit.score.get",
        params: vec![
            ("auth_token".into(), auth_token.into()),
            ("biz_content".into(), biz.to_string()),
        ],
    }
}

/// `zhima.credit.score.brief.get`: whether the user's score reaches
/// `threshold`, without the score itself.
pub fn sesame_admit(auth_token: &str, transaction_id: &str, threshold: u16) -> GatewayCall {
    let biz = serde_json::json!({
        "transaction_id": transaction_id,
        "product_code": PRODUCT_ADMIT,
        "admittance_score": threshold,
    });
    GatewayCall {
        method: "zhima.credit.score.brief.get",
        params: vec![
            ("auth_token".into(), auth_token.into()),
            ("biz_content".into(), biz.to_string()),
        ],
    }
}

/// The common and method parameters of `call`, signed: what is form-encoded
/// into the request body (and, for `alipay.trade.app.pay`, the order string
/// the mini-program pays with).
pub fn signed_params(
    call: &GatewayCall,
    app_id: &str,
    now_ms: i64,
    key: &AppKey,
) -> Result<Vec<(String, String)>> {
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), app_id.into()),
        ("method".into(), call.method.into()),
        ("format".into(), "JSON".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), RSA2.into()),
        ("timestamp".into(), beijing_time(now_ms)?),
        ("version".into(), "1.0".into()),
    ];
    params.extend(call.params.iter().cloned());
    let signature = sign_request(&params, key)?;
    params.push(("sign".into(), signature));
    Ok(params)
}

/// The signed, form-encoded body of `call`.
pub fn request_form(call: &GatewayCall, app_id: &str, now_ms: i64, key: &AppKey) -> Result<String> {
    let params = signed_params(call, app_id, now_ms, key)?;
    Ok(form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish())
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time, as the gateway wants it.
pub fn beijing_time(now_ms: i64) -> Result<String> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("bad UTC+8 offset")))?;
    let at = chrono::DateTime::from_timestamp_millis(now_ms)
        .ok_or_else(|| Error::invalid("now_ms", "out of range"))?;
    Ok(at
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string())
}

/// Why a gateway call gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayFailure {
    /// 5xx, or a status the gateway never sends on success.
    Unavailable(String),
    /// Not the documented JSON.
    Malformed(String),
    /// The answer's signature did not verify.
    BadSignature,
    /// The gateway refused the request: `error_response`, or a business
    /// `code` other than 10000 (an expired or foreign `auth_code`, say).
    Refused {
        /// `code`, such as 40002.
        code: String,
        /// `sub_code`, such as `isv.code-invalid`.
        sub_code: String,
        /// `sub_msg` or `msg`.
        message: String,
    },
}

/// The gateway's `sub_code`s that blame our own set-up, not the reader:
/// our signature, key, app id or the products our app has signed for, from
/// Alipay's public error codes (opendocs.alipay.com/open/common/105806:
/// 40001 missing, 40002 invalid, 40006 insufficient permissions), with the
/// Spin variable an operator should look at first. Compared ignoring case.
const OUR_FAULT: &[(&str, &str)] = &[
    ("isv.invalid-signature", VAR_APP_PRIVATE_KEY),
    ("isv.missing-signature", VAR_APP_PRIVATE_KEY),
    ("isv.invalid-signature-type", VAR_APP_PRIVATE_KEY),
    ("isv.missing-signature-type", VAR_APP_PRIVATE_KEY),
    ("isv.missing-signature-key", VAR_APP_PRIVATE_KEY),
    ("isv.missing-signature-config", VAR_APP_PRIVATE_KEY),
    ("aop.invalid-app-cert", VAR_APP_PRIVATE_KEY),
    ("isv.invalid-app-id", VAR_APP_ID),
    ("isv.missing-app-id", VAR_APP_ID),
    ("isv.app-unauthorized", VAR_APP_ID),
    ("isv.insufficient-isv-permissions", VAR_APP_ID),
    ("aop.no-product-reg-by-partner", VAR_APP_ID),
];

/// The variable holding our app id at Alipay.
pub const VAR_APP_ID: &str = "alipay_app_id";

impl GatewayFailure {
    /// The Spin variable to look at when the gateway refused *our* request
    /// (our signature, key, app id or permissions), not what the reader
    /// brought: such a refusal is ours to fix, and no retry by the reader
    /// helps.
    pub fn misconfigured(&self) -> Option<&'static str> {
        let GatewayFailure::Refused { sub_code, .. } = self else {
            return None;
        };
        OUR_FAULT
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(sub_code.trim()))
            .map(|(_, variable)| *variable)
    }

    /// When the gateway refused our own set-up ([`Self::misconfigured`]):
    /// logs it for the operator, with the gateway's message (for a bad
    /// signature, the string it checked, which is for the operator, not the
    /// reader), and gives the variable to look at. `what` names our request.
    pub fn log_if_misconfigured(&self, what: &str) -> Option<&'static str> {
        let name = self.misconfigured()?;
        if let GatewayFailure::Refused {
            code,
            sub_code,
            message,
        } = self
        {
            eprintln!(
                "alipay refused our {what} ({code} {sub_code}: {message}); \
                 check {name} and the app's key pair at Alipay"
            );
        }
        Some(name)
    }

    /// The domain error: a provider failure is `CreditUnavailable` (never a
    /// grant, retryable); a refusal of our own set-up is a configuration
    /// error (500, logged with the gateway's code for the operator); any
    /// other refusal means the code the reader brought was bad, which a
    /// retry with the same code will not fix.
    pub fn into_error(self, provider: &'static str) -> Error {
        let unavailable = |reason: String| Error::provider_unavailable(provider, reason);
        let misconfigured = self.log_if_misconfigured("request");
        match self {
            GatewayFailure::Unavailable(reason) => unavailable(reason),
            GatewayFailure::Malformed(reason) => unavailable(format!("malformed answer: {reason}")),
            GatewayFailure::BadSignature => unavailable("answer failed signature check".into()),
            GatewayFailure::Refused { code, sub_code, .. } => match misconfigured {
                Some(name) => Error::Config {
                    name,
                    reason: format!("Alipay refused our request ({code} {sub_code})"),
                },
                None => Error::invalid(
                    "auth_code",
                    format!(
                        "{provider} refused it ({code} {sub_code}); ask the reader to authorise again"
                    ),
                ),
            },
        }
    }
}

/// Reads and verifies the gateway's answer to `method`, giving its
/// response member.
pub fn read_answer(
    method: &str,
    status: u16,
    body: &[u8],
    key: &AlipayKey,
) -> Result<serde_json::Value, GatewayFailure> {
    if status >= 500 {
        return Err(GatewayFailure::Unavailable(format!("answered {status}")));
    }
    if status != 200 {
        return Err(GatewayFailure::Malformed(format!("status {status}")));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| GatewayFailure::Malformed("not UTF-8".into()))?;
    // Every member kept as raw text, so the signed one is verified exactly
    // as it was sent.
    let members: BTreeMap<String, &RawValue> = serde_json::from_str(text)
        .map_err(|_| GatewayFailure::Malformed("not the gateway's JSON".into()))?;
    let name = format!("{}_response", method.replace('.', "_"));
    let (member, is_error) = match (members.get(&name), members.get("error_response")) {
        (Some(member), _) => (*member, false),
        (None, Some(member)) => (*member, true),
        (None, None) => return Err(GatewayFailure::Malformed(format!("no {name}"))),
    };
    let signature: Option<String> = members
        .get("sign")
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .filter(|sign: &String| !sign.trim().is_empty());
    match signature {
        Some(signature) => verify_content(member.get(), &signature, key, "alipay gateway answer")
            .map_err(|_| GatewayFailure::BadSignature)?,
        // The gateway leaves an `error_response` unsigned when it refuses
        // the request before it gets that far (a bad signature of ours,
        // say; Alipay's SDKs read such a refusal without checking). A
        // refusal grants nothing, so it is read; any other answer must be
        // signed.
        None if is_error => {}
        None => return Err(GatewayFailure::BadSignature),
    }
    let value: serde_json::Value = serde_json::from_str(member.get())
        .map_err(|_| GatewayFailure::Malformed("response member is not JSON".into()))?;
    let code = value
        .get("code")
        .and_then(|c| c.as_str())
        .unwrap_or("10000");
    if is_error || code != "10000" {
        let text = |name: &str| {
            value
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        return Err(GatewayFailure::Refused {
            code: code.to_string(),
            sub_code: text("sub_code"),
            message: if text("sub_msg").is_empty() {
                text("msg")
            } else {
                text("sub_msg")
            },
        });
    }
    Ok(value)
}

/// The user an `alipay.system.oauth.token` answer names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayUser {
    /// Alipay's `user_id` (2088...).
    pub user_id: String,
    /// The token that authorises user-scoped calls such as Sesame.
    pub access_token: String,
}

fn text_field(member: &serde_json::Value, name: &str) -> Result<String, GatewayFailure> {
    member
        .get(name)
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_string)
        .ok_or_else(|| GatewayFailure::Malformed(format!("no {name}")))
}

/// Reads `alipay.system.oauth.token`'s response member.
pub fn read_oauth_token(member: &serde_json::Value) -> Result<AlipayUser, GatewayFailure> {
    Ok(AlipayUser {
        user_id: text_field(member, "user_id")?,
        access_token: text_field(member, "access_token")?,
    })
}

/// Reads a Sesame response member: `zm_score` (text or number) as a score,
/// `is_admittance` (`Y`/`N`) as an admit decision. The range is checked
/// later, by the decision.
pub fn read_sesame(member: &serde_json::Value) -> Result<ProviderOutcome, GatewayFailure> {
    if let Some(score) = member.get("zm_score") {
        let value = match score {
            serde_json::Value::String(text) => text.trim().parse::<i64>().ok(),
            serde_json::Value::Number(number) => number.as_i64(),
            _ => None,
        };
        return value
            .map(ProviderOutcome::Score)
            .ok_or_else(|| GatewayFailure::Malformed("zm_score is not a whole number".into()));
    }
    match member.get("is_admittance").and_then(|v| v.as_str()) {
        Some("Y") => Ok(ProviderOutcome::Admit(true)),
        Some("N") => Ok(ProviderOutcome::Admit(false)),
        _ => Err(GatewayFailure::Malformed(
            "neither zm_score nor is_admittance".into(),
        )),
    }
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
