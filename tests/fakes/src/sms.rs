//! The SMS gateway of docs/providers.md: `POST /v1/sms`, the JSON body
//! signed with HMAC-SHA256 of the app secret in `x-sms-signature`.

use crate::server::{Handler, Request, Response, Server};
use crate::Mode;
use std::sync::{Arc, Mutex};
use wangjie_shared::osmanthus::verify;

#[derive(Default)]
struct State {
    sent: Vec<serde_json::Value>,
    calls: usize,
    fail_code: Option<String>,
}

/// The fake SMS gateway.
pub struct FakeSms {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeSms {
    /// Starts it for one app and its secret.
    pub fn start(app_id: &str, secret: &[u8]) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let (app_id, secret, shared) = (app_id.to_string(), secret.to_vec(), state.clone());
        let handler: Handler = Arc::new(move |request, _| send(&shared, &app_id, &secret, request));
        Ok(FakeSms {
            server: Server::start(handler)?,
            state,
        })
    }

    /// Origin to put in `sms_origin`.
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

    /// From now on, refuse every message with this code (`None`: accept).
    pub fn set_fail_code(&self, code: Option<&str>) {
        self.state().fail_code = code.map(str::to_string);
    }

    /// The messages accepted so far, as sent.
    pub fn sent(&self) -> Vec<serde_json::Value> {
        self.state().sent.clone()
    }

    /// How many requests arrived.
    pub fn calls(&self) -> usize {
        self.state().calls
    }
}

fn send(state: &Mutex<State>, app_id: &str, secret: &[u8], request: &Request) -> Response {
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.calls += 1;
    if request.method != "POST" || request.path != "/v1/sms" {
        return Response::json(404, r#"{"code":"NOT_FOUND","message":"no such path"}"#);
    }
    let signature = request.header("x-sms-signature").unwrap_or_default();
    if !verify(secret, &request.body, signature) {
        return Response::json(401, r#"{"code":"BAD_SIGNATURE","message":"signature"}"#);
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&request.body) else {
        return Response::json(400, r#"{"code":"BAD_REQUEST","message":"not JSON"}"#);
    };
    if body["app_id"] != app_id || !body["phone"].is_string() || !body["text"].is_string() {
        return Response::json(400, r#"{"code":"BAD_REQUEST","message":"fields"}"#);
    }
    if let Some(code) = state.fail_code.clone() {
        let answer = serde_json::json!({"code": code, "message": "refused"});
        return Response::json(200, answer.to_string());
    }
    let id = format!("sms-{}", state.sent.len() + 1);
    state.sent.push(body);
    Response::json(
        200,
        serde_json::json!({"code": "OK", "message_id": id}).to_string(),
    )
}
