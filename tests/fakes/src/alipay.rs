//! Alipay's open-platform gateway (`POST /gateway.do`) for sign-in,
//! Sesame (scores and credit-borrowing orders, [`crate::alipay_rent`]) and
//! template messages, and the signer of asynchronous notifications.
//!
//! Keys play the roles Alipay's do, through the app's own key types: the
//! fake verifies our requests with our public key (parsed as the
//! "verifying" type) and signs with "Alipay's" private key (parsed as the
//! "signing" type).
//!
//! Each rule is Alipay's, as its SDKs apply it (the contract suite,
//! `tests/contract`, checks this fake against python-alipay-sdk): a request
//! is verified over everything but `sign` (`sign_type` included), a
//! notification is signed over everything but `sign` and `sign_type`, and
//! a POST must say its `Content-Length`.

use crate::authorize::{self, Choice};
use crate::keys::test_keys;
use crate::server::{Handler, Request, Response, Server};
use crate::Mode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wangjie_shared::alipay::sign::{sign_content, VAR_ALIPAY_PUBLIC_KEY, VAR_APP_PRIVATE_KEY};
use wangjie_shared::alipay::{sign_notification, verify_request, AlipayKey, AppKey};

#[derive(Default)]
struct State {
    users: HashMap<String, String>,
    tokens: HashMap<String, String>,
    scores: HashMap<String, Option<i64>>,
    calls: HashMap<String, usize>,
    template_messages: Vec<serde_json::Value>,
    template_error: Option<String>,
    rent: crate::alipay_rent::RentBook,
}

/// The fake gateway.
pub struct FakeAlipay {
    server: Server,
    state: Arc<Mutex<State>>,
}

fn alipay_signer() -> AppKey {
    AppKey::parse(VAR_APP_PRIVATE_KEY, &test_keys().alipay_private_pem).expect("test key")
}

/// A key that is not Alipay's: our own app key signs "forgeries".
fn wrong_signer() -> AppKey {
    AppKey::parse(VAR_APP_PRIVATE_KEY, &test_keys().app_private_pem).expect("test key")
}

impl FakeAlipay {
    /// Starts the gateway on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let app_key = AlipayKey::parse(VAR_ALIPAY_PUBLIC_KEY, &test_keys().app_public_pem)?;
        let (signer, wrong) = (alipay_signer(), wrong_signer());
        let shared = state.clone();
        let handler: Handler = Arc::new(move |request, bad_signature| {
            if request.method == "GET" && request.path == authorize::ALIPAY_PATH {
                return authorize_page(&shared, request);
            }
            let key = if bad_signature { &wrong } else { &signer };
            gateway(&shared, &app_key, key, request)
        });
        Ok(FakeAlipay {
            server: Server::start(handler)?,
            state,
        })
    }

    /// Origin to put in `alipay_origin`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// How it answers from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.server.set_mode(mode);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `auth_code` now stands for `user_id` (reusable, unlike Alipay's, so
    /// a test can sign in twice with one code).
    pub fn add_user(&self, auth_code: &str, user_id: &str) {
        self.state()
            .users
            .insert(auth_code.to_string(), user_id.to_string());
    }

    /// The user's Sesame score; `None`: Sesame has none for them.
    pub fn set_score(&self, user_id: &str, score: Option<i64>) {
        self.state().scores.insert(user_id.to_string(), score);
    }

    /// How many calls of `method` arrived with a good signature.
    pub fn calls(&self, method: &str) -> usize {
        self.state().calls.get(method).copied().unwrap_or(0)
    }

    /// The mini-program template messages accepted, as their `biz_content`.
    pub fn template_messages(&self) -> Vec<serde_json::Value> {
        self.state().template_messages.clone()
    }

    /// Refuse template messages with this `sub_code` from now on (such as
    /// `USER_TEMPLATE_ILLEGAL`), or accept them again with `None`.
    pub fn set_template_error(&self, sub_code: Option<&str>) {
        self.state().template_error = sub_code.map(str::to_string);
    }

    /// The Sesame credit-borrowing order created for `out_order_no`.
    pub fn rent_order(&self, out_order_no: &str) -> Option<crate::alipay_rent::RentOrder> {
        self.state().rent.get(out_order_no)
    }

    /// A notification's form body as Alipay posts it: `params` plus
    /// `sign_type` and `sign` by Alipay's key.
    pub fn sign_notification(&self, params: &[(&str, &str)]) -> String {
        signed_form(params, &alipay_signer())
    }
}

/// A notification signed by a key that is not Alipay's.
pub fn forge_notification(params: &[(&str, &str)]) -> String {
    signed_form(params, &wrong_signer())
}

fn signed_form(params: &[(&str, &str)], key: &AppKey) -> String {
    let mut params = params.to_vec();
    params.push(("sign_type", "RSA2"));
    let signature = sign_notification(&params, key).expect("signing");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(params.iter().copied());
    form.append_pair("sign", &signature);
    form.finish()
}

/// The web authorisation page: every user added, with their Sesame score.
fn authorize_page(state: &Mutex<State>, request: &Request) -> Response {
    let state = state.lock().unwrap_or_else(|e| e.into_inner());
    let choices = state
        .users
        .iter()
        .map(|(code, user_id)| Choice {
            code: code.clone(),
            label: match state.scores.get(user_id).copied().flatten() {
                Some(score) => format!("Sesame {score}"),
                None => "no Sesame score".to_string(),
            },
        })
        .collect();
    authorize::page("Alipay", "app_id", "auth_code", choices, request)
}

fn gateway(
    state: &Mutex<State>,
    app_key: &AlipayKey,
    signer: &AppKey,
    request: &Request,
) -> Response {
    if request.method != "POST" || request.path != "/gateway.do" {
        return Response::json(404, r#"{"error":"not found"}"#);
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let method = get("method").to_string();
    let answer = |member: serde_json::Value, name: &str| {
        let text = member.to_string();
        let signature = sign_content(&text, signer).expect("signing");
        Response::json(
            200,
            format!(
                "{{\"{name}\":{text},\"sign\":{}}}",
                serde_json::Value::from(signature)
            ),
        )
    };
    let error = |code: &str, sub_code: &str, message: &str| {
        answer(
            serde_json::json!({"code": code, "msg": "Invalid Arguments", "sub_code": sub_code, "sub_msg": message}),
            "error_response",
        )
    };
    if request.header("content-length").is_none() {
        return Response::json(411, r#"{"error":"length required"}"#);
    }
    if get("sign").is_empty() {
        return error("40001", "isv.missing-signature", "缺少签名参数");
    }
    if get("sign_type").is_empty() {
        return error("40001", "isv.missing-signature-type", "缺少签名类型参数");
    }
    if get("sign_type") != "RSA2" {
        return error("40002", "isv.invalid-signature-type", "无效签名类型");
    }
    if verify_request(&params, app_key).is_err() {
        return error(
            "40002",
            "isv.invalid-signature",
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
        );
    }
    if get("app_id").is_empty() {
        return error("40001", "isv.missing-app-id", "缺少AppID参数");
    }
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    *state.calls.entry(method.clone()).or_default() += 1;
    let response_name = format!("{}_response", method.replace('.', "_"));
    match method.as_str() {
        "alipay.system.oauth.token" => {
            let Some(user_id) = state.users.get(get("code")).cloned() else {
                return error("40002", "isv.code-invalid", "授权码code无效");
            };
            let token = format!("tok-{user_id}");
            state.tokens.insert(token.clone(), user_id.clone());
            answer(
                serde_json::json!({
                    "user_id": user_id, "access_token": token, "expires_in": 1296000,
                    "refresh_token": format!("ref-{user_id}"), "re_expires_in": 2592000,
                }),
                &response_name,
            )
        }
        "zhima.credit.score.get" | "zhima.credit.score.brief.get" => {
            let Some(user_id) = state.tokens.get(get("auth_token")).cloned() else {
                return error("20001", "aop.invalid-auth-token", "无效的访问令牌");
            };
            let Some(score) = state.scores.get(&user_id).copied().flatten() else {
                return answer(
                    serde_json::json!({"code": "40004", "msg": "Business Failed", "sub_code": "ZHIMA_NO_SCORE", "sub_msg": "无芝麻分"}),
                    &response_name,
                );
            };
            let biz: serde_json::Value =
                serde_json::from_str(get("biz_content")).unwrap_or_default();
            let member = if method == "zhima.credit.score.get" {
                serde_json::json!({"code": "10000", "msg": "Success", "biz_no": "ZM-1", "zm_score": score.to_string()})
            } else {
                let threshold = biz["admittance_score"].as_i64().unwrap_or(i64::MAX);
                let admitted = if score >= threshold { "Y" } else { "N" };
                serde_json::json!({"code": "10000", "msg": "Success", "biz_no": "ZM-2", "is_admittance": admitted})
            };
            answer(member, &response_name)
        }
        "alipay.open.app.mini.templatemessage.send" => {
            let biz: serde_json::Value =
                serde_json::from_str(get("biz_content")).unwrap_or_default();
            let data_is_json = biz["data"]
                .as_str()
                .is_some_and(|d| serde_json::from_str::<serde_json::Value>(d).is_ok());
            let complete = ["to_user_id", "user_template_id", "page"]
                .iter()
                .all(|k| biz[k].as_str().is_some_and(|v| !v.is_empty()));
            if !complete || !data_is_json {
                return answer(
                    serde_json::json!({"code": "40004", "msg": "Business Failed", "sub_code": "INVALID_PARAMETER", "sub_msg": "参数有误"}),
                    &response_name,
                );
            }
            if let Some(sub_code) = state.template_error.clone() {
                return answer(
                    serde_json::json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": "模板消息发送失败"}),
                    &response_name,
                );
            }
            state.template_messages.push(biz);
            answer(
                serde_json::json!({"code": "10000", "msg": "Success"}),
                &response_name,
            )
        }
        _ => {
            let biz: serde_json::Value =
                serde_json::from_str(get("biz_content")).unwrap_or_default();
            match state.rent.answer(&method, &biz) {
                Some(member) => answer(member, &response_name),
                None => error("40004", "isv.invalid-method", "不存在的方法名"),
            }
        }
    }
}
