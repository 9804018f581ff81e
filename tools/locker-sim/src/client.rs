//! Carries a simulated locker's requests to the app: signed as the
//! protocol says (a fresh nonce and timestamp for every request, a retry is
//! a new request), answers handed back to the [`SimLocker`].

use crate::locker::{server_time_in, SimLocker};
use anyhow::{Context, Result};
use serde_json::Value;
use std::time::{Duration, Instant};
use wangjie_shared::locker::signing::signed_headers;
use wangjie_shared::locker::{
    path_for, EventsReply, HeartbeatReply, PATH_EVENTS, PATH_HEARTBEAT, PATH_QUERY,
};

/// The real clock, epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One answer from the app.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON (`Null` when it was not JSON).
    pub json: Value,
    /// From sending the request to reading the whole answer.
    pub elapsed: Duration,
}

/// The app's base URL and a pooled HTTP client; cheap to clone.
#[derive(Clone)]
pub struct Link {
    client: reqwest::Client,
    base: String,
}

impl Link {
    /// A link to the app at `base` (`http://127.0.0.1:3000`).
    pub fn new(base: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Link {
            client,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// The app's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn post(&self, locker: &mut SimLocker, template: &str, body: Vec<u8>) -> Result<Sent> {
        let path = path_for(template, &locker.id);
        let at_ms = locker.clock(now_ms());
        let nonce = locker.nonce();
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        for (name, value) in signed_headers(
            &locker.id,
            &locker.secret,
            "POST",
            &path,
            at_ms,
            &nonce,
            &body,
        ) {
            request = request.header(name, value);
        }
        let started = Instant::now();
        let response = request
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let elapsed = started.elapsed();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 400 {
            // A clock outside the window: the detail carries the server's
            // time, and only a correctly signed request learns it.
            if let Some(server_ms) = json["detail"].as_str().and_then(server_time_in) {
                locker.set_clock(server_ms, now_ms());
            }
        }
        Ok(Sent {
            status,
            json,
            elapsed,
        })
    }

    /// Sends one heartbeat and carries out the commands of a 200 reply.
    pub async fn heartbeat(&self, locker: &mut SimLocker) -> Result<Sent> {
        let beat = locker.heartbeat(now_ms());
        let acked = beat.acks.len();
        let sent = self
            .post(locker, PATH_HEARTBEAT, serde_json::to_vec(&beat)?)
            .await?;
        if sent.status == 200 {
            let reply: HeartbeatReply = serde_json::from_value(sent.json.clone())
                .with_context(|| format!("heartbeat reply {}", sent.json))?;
            locker.heartbeat_answered(acked, &reply, now_ms());
        }
        Ok(sent)
    }

    /// Asks what the reader named in `body` (`{"reader_id"}` or
    /// `{"card_number"}`) has at this locker.
    pub async fn query(&self, locker: &mut SimLocker, body: &Value) -> Result<Sent> {
        self.post(locker, PATH_QUERY, serde_json::to_vec(body)?)
            .await
    }

    /// Sends the next batch of unanswered events, if any.
    pub async fn send_events(&self, locker: &mut SimLocker) -> Result<Option<Sent>> {
        let Some(events) = locker.events_to_send() else {
            return Ok(None);
        };
        let body = serde_json::to_vec(&serde_json::json!({ "events": events }))?;
        let sent = self.post(locker, PATH_EVENTS, body).await?;
        if sent.status == 200 {
            let reply: EventsReply = serde_json::from_value(sent.json.clone())
                .with_context(|| format!("events reply {}", sent.json))?;
            locker.events_answered(&events, &reply);
        }
        Ok(Some(sent))
    }

    /// What a locker does on a round: a heartbeat (again at once if its
    /// clock was refused and has now been set), then its events until every
    /// one is answered or a request fails. The answers, heartbeat first.
    pub async fn round(&self, locker: &mut SimLocker) -> Result<Vec<Sent>> {
        let clock_sets = locker.tally.clock_sets;
        let mut answers = vec![self.heartbeat(locker).await?];
        if answers[0].status == 400 && locker.tally.clock_sets > clock_sets {
            answers.push(self.heartbeat(locker).await?);
        }
        // Bounded: a resend on purpose adds one batch per batch at most.
        for _ in 0..20 {
            match self.send_events(locker).await? {
                Some(sent) if sent.status == 200 => answers.push(sent),
                Some(sent) => {
                    answers.push(sent);
                    break;
                }
                None => break,
            }
        }
        Ok(answers)
    }
}
