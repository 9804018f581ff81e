//! WeChat's mini-program sign-in: `GET /sns/jscode2session`.

use crate::server::{Handler, Request, Response, Server};
use crate::Mode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    users: HashMap<String, (String, Option<String>)>,
    calls: usize,
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
        let handler: Handler =
            Arc::new(move |request, _| code2session(&shared, &appid, &secret, request));
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

    /// How many exchanges arrived.
    pub fn calls(&self) -> usize {
        self.state().calls
    }
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
