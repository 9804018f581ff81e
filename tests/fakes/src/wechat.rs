//! WeChat's mini-program sign-in (`GET /sns/jscode2session`), the access
//! token (`GET /cgi-bin/token`) and subscription messages
//! (`POST /cgi-bin/message/subscribe/send`), with a record of what was sent;
//! and, for the official account (its own appid and secret, its own
//! token), the follower's user info (`GET /cgi-bin/user/info`) with the
//! unionid; and the official account's web authorisation: its page
//! (`/connect/oauth2/authorize`, snsapi_base) hands out the codes of the
//! web users added, which `GET /sns/oauth2/access_token` exchanges.

use crate::authorize::{self, Choice};
use crate::server::{Handler, Request, Response, Server};
use crate::Mode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    users: HashMap<String, (String, Option<String>)>,
    web_users: HashMap<String, (String, Option<String>)>,
    calls: usize,
    tokens_issued: usize,
    valid_token: Option<String>,
    send_errcode: Option<i64>,
    sent: Vec<serde_json::Value>,
    official: Option<(String, String)>,
    official_token: Option<String>,
    followers: HashMap<String, Option<String>>,
    user_info_calls: usize,
}

/// The fake WeChat API.
pub struct FakeWechat {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeWechat {
    /// Starts it, accepting only `appid` with `secret`.
    pub fn start(appid: &str, secret: &str) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let (appid, secret, shared) = (appid.to_string(), secret.to_string(), state.clone());
        let handler: Handler = Arc::new(move |request, _| match request.path.as_str() {
            "/cgi-bin/token" => token(&shared, &appid, &secret, request),
            "/cgi-bin/message/subscribe/send" => subscribe_send(&shared, request),
            "/cgi-bin/user/info" => user_info(&shared, request),
            "/sns/oauth2/access_token" => oauth2_access_token(&shared, request),
            authorize::WECHAT_PATH => authorize_page(&shared, request),
            _ => code2session(&shared, &appid, &secret, request),
        });
        Ok(FakeWechat {
            server: Server::start(handler)?,
            state,
        })
    }

    /// Origin to put in `wechat_origin`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// How it answers from now on (`BadSignature` answers normally: WeChat
    /// does not sign these answers).
    pub fn set_mode(&self, mode: Mode) {
        self.server.set_mode(mode);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `code` now stands for this user (reusable).
    pub fn add_user(&self, code: &str, openid: &str, unionid: Option<&str>) {
        self.state().users.insert(
            code.to_string(),
            (openid.to_string(), unionid.map(str::to_string)),
        );
    }

    /// `code` now stands for this user of the official account on the web
    /// (reusable), and the authorisation page offers it; `openid` is the
    /// official account's, so it should differ from the same person's
    /// mini-program openid, with the same unionid when bound. The web
    /// exchange answers the unionid only when given one here (WeChat
    /// answers it only for `snsapi_userinfo`).
    pub fn add_web_user(&self, code: &str, openid: &str, unionid: Option<&str>) {
        self.state().web_users.insert(
            code.to_string(),
            (openid.to_string(), unionid.map(str::to_string)),
        );
    }

    /// How many exchanges arrived (both kinds).
    pub fn calls(&self) -> usize {
        self.state().calls
    }

    /// From now on, subscription sends answer this `errcode` (43101: the
    /// user refused; 40001: bad token), or succeed with `None`.
    pub fn set_send_errcode(&self, errcode: Option<i64>) {
        self.state().send_errcode = errcode;
    }

    /// The subscription messages accepted so far, as sent.
    pub fn sent_messages(&self) -> Vec<serde_json::Value> {
        self.state().sent.clone()
    }

    /// How many access tokens were handed out.
    pub fn tokens_issued(&self) -> usize {
        self.state().tokens_issued
    }

    /// Forgets the current token, as when WeChat expires it early.
    /// The official account's credentials, which get a token of their own.
    pub fn set_official_account(&self, appid: &str, secret: &str) {
        self.state().official = Some((appid.to_string(), secret.to_string()));
    }

    /// `openid` follows the official account, with this unionid (or none).
    pub fn add_follower(&self, openid: &str, unionid: Option<&str>) {
        self.state()
            .followers
            .insert(openid.to_string(), unionid.map(str::to_string));
    }

    /// How many user-info calls came with a valid token.
    pub fn user_info_calls(&self) -> usize {
        self.state().user_info_calls
    }

    pub fn expire_token(&self) {
        self.state().valid_token = None;
    }
}

fn query_of(request: &Request) -> HashMap<String, String> {
    form_urlencoded::parse(request.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn token(state: &Mutex<State>, appid: &str, secret: &str, request: &Request) -> Response {
    let query = query_of(request);
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    if request.method != "GET" || get("grant_type") != "client_credential" {
        return Response::json(200, r#"{"errcode":40002,"errmsg":"invalid grant_type"}"#);
    }
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let official = state
        .official
        .as_ref()
        .is_some_and(|(id, key)| get("appid") == id && get("secret") == key);
    if official {
        state.tokens_issued += 1;
        let token = format!("OA_ACCESS_TOKEN_{}", state.tokens_issued);
        state.official_token = Some(token.clone());
        return Response::json(
            200,
            serde_json::json!({"access_token": token, "expires_in": 7200}).to_string(),
        );
    }
    if get("appid") != appid || get("secret") != secret {
        return Response::json(200, r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#);
    }
    state.tokens_issued += 1;
    let token = format!("ACCESS_TOKEN_{}", state.tokens_issued);
    state.valid_token = Some(token.clone());
    Response::json(
        200,
        serde_json::json!({"access_token": token, "expires_in": 7200}).to_string(),
    )
}

fn subscribe_send(state: &Mutex<State>, request: &Request) -> Response {
    let query = query_of(request);
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    if request.method != "POST" {
        return Response::json(404, r#"{"errcode":404,"errmsg":"not found"}"#);
    }
    if query.get("access_token") != state.valid_token.as_ref() {
        return Response::json(
            200,
            r#"{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}"#,
        );
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
        return Response::json(200, r#"{"errcode":47001,"errmsg":"data format error"}"#);
    };
    if !body["touser"].is_string() || !body["template_id"].is_string() || !body["data"].is_object()
    {
        return Response::json(200, r#"{"errcode":47003,"errmsg":"argument invalid!"}"#);
    }
    if let Some(code) = state.send_errcode {
        let answer =
            serde_json::json!({"errcode": code, "errmsg": "user refuse to accept the msg"});
        return Response::json(200, answer.to_string());
    }
    state.sent.push(body);
    Response::json(200, r#"{"errcode":0,"errmsg":"ok"}"#)
}

fn code2session(state: &Mutex<State>, appid: &str, secret: &str, request: &Request) -> Response {
    if request.method != "GET" || request.path != "/sns/jscode2session" {
        return Response::json(404, r#"{"errcode":404,"errmsg":"not found"}"#);
    }
    let query: HashMap<String, String> = form_urlencoded::parse(request.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.calls += 1;
    if get("appid") != appid || get("secret") != secret {
        return Response::json(200, r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#);
    }
    if get("grant_type") != "authorization_code" {
        return Response::json(200, r#"{"errcode":40002,"errmsg":"invalid grant_type"}"#);
    }
    match state.users.get(get("js_code")) {
        Some((openid, unionid)) => {
            let mut answer = serde_json::json!({"openid": openid, "session_key": "c2Vzc2lvbg=="});
            if let Some(unionid) = unionid {
                answer["unionid"] = unionid.as_str().into();
            }
            Response::json(200, answer.to_string())
        }
        None => Response::json(200, r#"{"errcode":40029,"errmsg":"invalid code"}"#),
    }
}

/// The official account's web exchange: `snsapi_base` codes for openids.
fn oauth2_access_token(state: &Mutex<State>, request: &Request) -> Response {
    let query = query_of(request);
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.calls += 1;
    if request.method != "GET" {
        return Response::json(404, r#"{"errcode":404,"errmsg":"not found"}"#);
    }
    let official = state
        .official
        .as_ref()
        .is_some_and(|(id, key)| get("appid") == id && get("secret") == key);
    if !official {
        return Response::json(200, r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#);
    }
    if get("grant_type") != "authorization_code" {
        return Response::json(200, r#"{"errcode":40002,"errmsg":"invalid grant_type"}"#);
    }
    match state.web_users.get(get("code")) {
        Some((openid, unionid)) => {
            let mut answer = serde_json::json!({
                "access_token": "WEB_ACCESS_TOKEN",
                "expires_in": 7200,
                "refresh_token": "WEB_REFRESH_TOKEN",
                "openid": openid,
                "scope": "snsapi_base",
            });
            if let Some(unionid) = unionid {
                answer["unionid"] = unionid.as_str().into();
            }
            Response::json(200, answer.to_string())
        }
        None => Response::json(200, r#"{"errcode":40029,"errmsg":"invalid code"}"#),
    }
}

fn user_info(state: &Mutex<State>, request: &Request) -> Response {
    let query = query_of(request);
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    if request.method != "GET" || query.get("access_token") != state.official_token.as_ref() {
        return Response::json(
            200,
            r#"{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}"#,
        );
    }
    state.user_info_calls += 1;
    let openid = query.get("openid").cloned().unwrap_or_default();
    match state.followers.get(&openid) {
        Some(unionid) => {
            let mut answer =
                serde_json::json!({"subscribe": 1, "openid": openid, "language": "zh_CN"});
            if let Some(unionid) = unionid {
                answer["unionid"] = unionid.clone().into();
            }
            Response::json(200, answer.to_string())
        }
        None => Response::json(200, r#"{"errcode":40003,"errmsg":"invalid openid"}"#),
    }
}

/// The web authorisation page (snsapi_base): every web user added.
fn authorize_page(state: &Mutex<State>, request: &Request) -> Response {
    let state = state.lock().unwrap_or_else(|e| e.into_inner());
    let choices = state
        .web_users
        .keys()
        .map(|code| Choice {
            code: code.clone(),
            label: "WeChat user".to_string(),
        })
        .collect();
    authorize::page("WeChat", "appid", "code", choices, request)
}
