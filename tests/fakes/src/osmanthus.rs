//! The city's Osmanthus credit service: `POST /v1/credit/score`, signed
//! both ways with the app secret (docs/providers.md).

use crate::authorize::{self, Choice};
use crate::server::{Handler, Request, Response, Server};
use crate::Mode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wangjie_shared::osmanthus::{signature, verify};

#[derive(Default)]
struct State {
    citizens: HashMap<String, (String, i64)>,
    calls: usize,
}

/// The fake service.
pub struct FakeOsmanthus {
    server: Server,
    state: Arc<Mutex<State>>,
}

impl FakeOsmanthus {
    /// Starts it for one app and its secret.
    pub fn start(app_id: &str, secret: &[u8]) -> anyhow::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let (app_id, secret, shared) = (app_id.to_string(), secret.to_vec(), state.clone());
        let handler: Handler = Arc::new(move |request, bad_signature| {
            if request.method == "GET" && request.path == authorize::OSMANTHUS_PATH {
                return authorize_page(&shared, request);
            }
            let (status, body) = score(&shared, &app_id, &secret, request);
            // A bad signature is the right answer signed with another secret.
            let key: &[u8] = if bad_signature {
                b"not-the-city-secret"
            } else {
                &secret
            };
            let mut response = Response::json(status, body.clone());
            response.headers.push((
                "x-osmanthus-signature".into(),
                signature(key, body.as_bytes()),
            ));
            response
        });
        Ok(FakeOsmanthus {
            server: Server::start(handler)?,
            state,
        })
    }

    /// Origin to put in `osmanthus_origin`.
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

    /// `auth_code` now stands for this citizen and score (reusable).
    pub fn add_citizen(&self, auth_code: &str, citizen_ref: &str, score: i64) {
        self.state()
            .citizens
            .insert(auth_code.to_string(), (citizen_ref.to_string(), score));
    }

    /// How many signed requests arrived.
    pub fn calls(&self) -> usize {
        self.state().calls
    }
}

fn refused(code: &str, message: &str) -> String {
    serde_json::json!({"code": code, "message": message}).to_string()
}

fn score(state: &Mutex<State>, app_id: &str, secret: &[u8], request: &Request) -> (u16, String) {
    if request.method != "POST" || request.path != "/v1/credit/score" {
        return (404, refused("NOT_FOUND", "no such interface"));
    }
    let signed = request
        .header("x-osmanthus-signature")
        .is_some_and(|s| verify(secret, &request.body, s));
    if !signed {
        return (401, refused("SIGNATURE_INVALID", "签名错误"));
    }
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    state.calls += 1;
    if body["app_id"] != app_id {
        return (200, refused("APP_INVALID", "应用不存在"));
    }
    match body["auth_code"]
        .as_str()
        .and_then(|code| state.citizens.get(code))
    {
        Some((citizen_ref, score)) => (
            200,
            serde_json::json!({
                "code": "0", "message": "ok",
                "data": {"citizen_ref": citizen_ref, "score": score, "evaluated_at_ms": body["timestamp_ms"]},
            })
            .to_string(),
        ),
        None => (200, refused("AUTH_CODE_INVALID", "授权码无效或已使用")),
    }
}

/// The city's web authorisation page: every citizen added, with their score.
fn authorize_page(state: &Mutex<State>, request: &Request) -> Response {
    let state = state.lock().unwrap_or_else(|e| e.into_inner());
    let choices = state
        .citizens
        .iter()
        .map(|(code, (_, score))| Choice {
            code: code.clone(),
            label: format!("Osmanthus {score}"),
        })
        .collect();
    authorize::page("Osmanthus", "app_id", "auth_code", choices, request)
}
