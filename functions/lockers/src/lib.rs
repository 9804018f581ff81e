//! The `lockers` component: smart lockers call in (signed heartbeats and
//! events, `docs/locker-protocol.md`), and readers ask a locker to open the
//! cell of their order. The rules are `wangjie_shared::locker`.
#![warn(missing_docs)]

use http::Method;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use wangjie_shared::locker::beat_cache::{self, Admission, Synced};
use wangjie_shared::locker::events_store::{self, EventSettings};
use wangjie_shared::locker::query::{self, Query};
use wangjie_shared::locker::{store, EventBatch, Heartbeat, VerifiedRequest};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::kv::Bucket;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::{now_ms, Error, Result};

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    wangjie_shared::spin::http::serve(incoming, out, route).await
}

/// The route table.
fn route(request: &Request) -> Result<Reply> {
    let path = request.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    match segments.as_slice() {
        ["lockers", locker, "heartbeat"] => {
            request.allow(&[Method::POST])?;
            heartbeat(request, locker)
        }
        ["lockers", locker, "events"] => {
            request.allow(&[Method::POST])?;
            events(request, locker)
        }
        ["lockers", locker, "query"] => {
            request.allow(&[Method::POST])?;
            query(request, locker)
        }
        ["lockers", locker, "pickups"] => {
            request.allow(&[Method::POST])?;
            pickup(request, locker)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}

/// Verifies the locker's signature and time, touching no store. The path
/// signed is the request target, `?query` included.
fn verify(request: &Request, locker: &str, now: i64) -> Result<VerifiedRequest> {
    let master = config::optional("locker_master_key")?.unwrap_or_default();
    store::verify(
        &master,
        locker,
        |name| request.header(name),
        request.method.as_str(),
        &request.target,
        &request.body,
        now,
    )
}

/// Verifies the locker's signature and its nonce in SQL; returns the
/// database.
fn authenticate(
    request: &Request,
    locker: &str,
    now: i64,
) -> Result<Box<dyn wangjie_shared::db::Db>> {
    let verified = verify(request, locker, now)?;
    let db = db::connect()?;
    store::remember_nonce(db.as_ref(), &verified)?;
    Ok(db)
}

/// `POST /api/lockers/{id}/heartbeat`: 200 with the pending commands. Its
/// nonce is checked in the key-value store, and a heartbeat that says what
/// the last one the database took said is answered from there
/// (`beat_cache`).
fn heartbeat(request: &Request, locker: &str) -> Result<Reply> {
    let now = now_ms();
    let verified = verify(request, locker, now)?;
    let beat = Heartbeat::parse(&request.body)?;
    beat.validate()?;
    let digest = beat_cache::beat_digest(&beat, locker, now);
    let kv = Bucket::open_default()?;
    let admission = beat_cache::admit(
        &kv,
        locker,
        &verified.nonce,
        verified.nonce_expires_at_ms,
        &digest,
        !beat.acks.is_empty(),
        now,
    )?;
    let reply = match admission {
        Admission::Steady => store::steady_reply(&beat, now),
        Admission::Sync { change } => {
            let reply = store::heartbeat(db::connect()?.as_ref(), locker, &beat, now)?;
            // Commands a clock sync aside are stored; while any waits,
            // every heartbeat goes to the database to carry it again.
            let stored = reply.commands.iter().any(|c| !c.id.starts_with("t-"));
            let synced = (!stored).then_some(Synced { digest, change });
            beat_cache::synced(&kv, locker, synced, now)?;
            reply
        }
    };
    Ok(Reply::json(200, &reply))
}

/// `POST /api/lockers/{id}/events`: 200 with one result per event.
fn events(request: &Request, locker: &str) -> Result<Reply> {
    let now = now_ms();
    let db = authenticate(request, locker, now)?;
    let batch = EventBatch::parse(&request.body)?;
    let settings = EventSettings {
        pickup_hold_ms: config::number("pickup_hold_ms", 7 * 24 * 3_600_000)? as i64,
        loan_period_ms: config::number("loan_period_ms", 30 * 24 * 3_600_000)? as i64,
    };
    let reply = events_store::apply_batch(db.as_ref(), locker, &batch, settings, now)?;
    Ok(Reply::json(200, &reply))
}

/// `POST /api/lockers/{id}/query`: 200 with what the reader has here.
fn query(request: &Request, locker: &str) -> Result<Reply> {
    let now = now_ms();
    let db = authenticate(request, locker, now)?;
    let asked = Query::parse(&request.body)?;
    Ok(Reply::json(
        200,
        &query::answer(db.as_ref(), locker, &asked, now)?,
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PickupBody {
    order_id: i64,
}

/// `POST /api/lockers/{id}/pickups {"order_id"}`: the reader's session;
/// 202 once the `open_cell` command waits for the locker's next heartbeat.
fn pickup(request: &Request, locker: &str) -> Result<Reply> {
    wangjie_shared::locker::check_path_id(locker)?;
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let body: PickupBody = request.json()?;
    let db = db::connect()?;
    let cell = store::request_pickup(db.as_ref(), locker, claims.reader_id, body.order_id, now)?;
    beat_cache::note_change(&Bucket::open_default()?, locker)?;
    Ok(Reply::json(
        202,
        &serde_json::json!({ "order_id": body.order_id, "point_code": locker, "cell": cell, "state": "queued" }),
    ))
}
