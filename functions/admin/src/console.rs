//! The operator's console: staff accounts, the dashboard's figures, the
//! lockers and the jobs. Parse, call the domain, answer.

use serde::Deserialize;
use serde_json::json;
use wangjie_shared::db::migrate;
use wangjie_shared::jobs::{figures, ledger};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{db, kv};
use wangjie_shared::staff::accounts::{self, NewStaff};
use wangjie_shared::{now_ms, Result};

/// A numeric path segment naming a member of staff.
pub fn staff_id(text: &str) -> Result<i64> {
    wangjie_shared::request::path_id(text, "a staff id (a number)")
}

/// `POST /admin/staff {staff_no, name, home_point, role, password?}`: 201
/// with the member of staff.
pub fn create_staff(request: &Request) -> Result<Reply> {
    let new: NewStaff = request.json()?;
    let db = db::connect()?;
    let staff = accounts::create(db.as_ref(), &new, now_ms())?;
    Ok(Reply::json(201, &staff))
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

/// `PUT /admin/staff/{id}/password {password}`: 204.
pub fn set_password(request: &Request, id: i64) -> Result<Reply> {
    let body: NewPassword = request.json()?;
    accounts::set_password(db::connect()?.as_ref(), id, &body.password)?;
    Ok(Reply {
        status: 204,
        content_type: "application/json",
        headers: Vec::new(),
        body: Vec::new(),
    })
}

/// `POST /admin/staff/{id}/code`: 201 `{code, expires_at_ms}`, a one-time
/// code valid for ten minutes and one sign-in.
pub fn issue_code(id: i64) -> Result<Reply> {
    let code = accounts::issue_code(db::connect()?.as_ref(), id, now_ms())?;
    Ok(Reply::json(201, &code))
}

/// `GET /admin/stats?from=YYYY-MM-DD&to=YYYY-MM-DD`: the daily figures
/// (the last 30 days by default, at most 400).
pub fn show_stats(request: &Request) -> Result<Reply> {
    let days = figures::days_asked(request.param("from"), request.param("to"), now_ms())?;
    let db = db::connect()?;
    migrate::ensure_current(db.as_ref())?;
    Ok(Reply::json(200, &figures::read(db.as_ref(), &days)?))
}

/// `GET /admin/lockers`: every locker, its cells and pending commands.
pub fn list_lockers() -> Result<Reply> {
    let lockers =
        wangjie_shared::locker::fleet::list(db::connect()?.as_ref(), &kv::open_default()?)?;
    Ok(Reply::json(200, &json!({ "lockers": lockers })))
}

/// `GET /admin/jobs`: each scheduled job's last run.
pub fn list_jobs() -> Result<Reply> {
    let db = db::connect()?;
    migrate::ensure_current(db.as_ref())?;
    Ok(Reply::json(
        200,
        &json!({ "jobs": ledger::list(db.as_ref())? }),
    ))
}
