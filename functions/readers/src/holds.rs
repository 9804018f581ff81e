//! The reader's holds: join a title's queue, follow it, leave it
//! (`/api/me/holds`).

use serde::Deserialize;
use wangjie_shared::holds::{self, HoldRules};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::{now_ms, Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Join {
    record_id: i64,
    point_code: String,
}

/// `POST /api/me/holds {"record_id", "point_code"}`: 201 with the hold
/// and its place in the queue.
pub fn join(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let body: Join = request.json()?;
    let point = body.point_code.trim();
    if point.is_empty() || point.chars().count() > 32 {
        return Err(Error::invalid("point_code", "a service point's code"));
    }
    let rules = HoldRules {
        limit: config::number("hold_limit", 5)? as i64,
    };
    let db = db::connect()?;
    let hold = holds::join(
        db.as_ref(),
        claims.reader_id,
        body.record_id,
        point,
        rules,
        now,
    )?;
    Ok(Reply::json(201, &hold))
}

/// `GET /api/me/holds`: the reader's holds, newest first.
pub fn list(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let holds = holds::list(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(200, &serde_json::json!({ "holds": holds })))
}

/// `GET /api/me/holds/{id}`.
pub fn show(request: &Request, id: &str) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let hold = holds::get(db::connect()?.as_ref(), claims.reader_id, hold_id(id)?)?;
    Ok(Reply::json(200, &hold))
}

/// `DELETE /api/me/holds/{id}`: leaves the queue; 200 with the hold.
pub fn cancel(request: &Request, id: &str) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let hold = holds::cancel(db::connect()?.as_ref(), claims.reader_id, hold_id(id)?, now)?;
    Ok(Reply::json(200, &hold))
}

fn hold_id(text: &str) -> Result<i64> {
    wangjie_shared::request::path_id(text, "a hold number")
}
