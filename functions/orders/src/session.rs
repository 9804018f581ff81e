//! Staff signing in to the console and out again, and who is signed in.
//! The token is the same staff session token the operator can hand out
//! (`POST /admin/staff/{id}/session`), so every staff route accepts it.

use serde::{Deserialize, Serialize};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{db, rate, session};
use wangjie_shared::staff::accounts::{self, Credential};
use wangjie_shared::staff::{self, Staff};
use wangjie_shared::{now_ms, Error, Result};

/// `POST /api/staff/session`'s body: a staff number and one of password
/// or code.
#[derive(Deserialize)]
struct SignIn {
    staff_no: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Serialize)]
struct SignedIn {
    token: String,
    expires_at_ms: i64,
    staff: Staff,
}

/// `POST /api/staff/session {staff_no, password}` or `{staff_no, code}`:
/// 201 with a token for one shift. Every failure, a malformed body
/// included, is the same 401; only a body not sent as JSON is a 415.
pub fn sign_in(request: &Request) -> Result<Reply> {
    // A body that is not declared JSON says nothing about credentials.
    let body: SignIn = request.json().map_err(|error| match error {
        Error::UnsupportedMediaType { .. } => error,
        _ => Error::Unauthenticated,
    })?;
    rate::admit_staff_sign_in(request, &body.staff_no)?;
    let credential = match (body.password, body.code) {
        (Some(password), None) => Credential::Password(password),
        (None, Some(code)) => Credential::Code(code),
        _ => return Err(Error::Unauthenticated),
    };
    let now = now_ms();
    let staff = accounts::sign_in(db::connect()?.as_ref(), &body.staff_no, &credential, now)?;
    let (token, expires_at_ms) = session::issue_staff(staff.id, now)?;
    Ok(Reply::json(
        201,
        &SignedIn {
            token,
            expires_at_ms,
            staff,
        },
    ))
}

/// `DELETE /api/staff/session`: this staff token stops working at once; 204.
pub fn sign_out(request: &Request) -> Result<Reply> {
    let claims = session::authenticate_staff(request, now_ms())?;
    session::revoke(&claims)?;
    Ok(Reply {
        status: 204,
        content_type: "application/json",
        headers: Vec::new(),
        body: Vec::new(),
    })
}

/// `GET /api/staff/me`: the signed-in member of staff and their point.
pub fn me(request: &Request) -> Result<Reply> {
    let claims = session::authenticate_staff(request, now_ms())?;
    let db = db::connect()?;
    let member = staff::signed_in(db.as_ref(), claims.reader_id)?;
    Ok(Reply::json(200, &accounts::me(db.as_ref(), member)?))
}
