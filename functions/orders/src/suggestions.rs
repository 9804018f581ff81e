//! The librarian's console for purchase suggestions
//! (`/api/staff/suggestions`): the list to work through, approve at a
//! price, decline with a reason.

use serde::Deserialize;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::staff;
use wangjie_shared::suggestions::{review, SuggestionRules, SuggestionState};
use wangjie_shared::{now_ms, Error, Result};

fn signed_in(request: &Request, db: &dyn wangjie_shared::db::Db) -> Result<staff::Staff> {
    let claims = session::authenticate_staff(request, now_ms())?;
    staff::signed_in(db, claims.reader_id)
}

fn id(text: &str) -> Result<i64> {
    wangjie_shared::request::path_id(text, "a suggestion number")
}

/// `GET /api/staff/suggestions[?state=proposed]`: oldest first.
pub fn list(request: &Request) -> Result<Reply> {
    let db = db::connect()?;
    signed_in(request, db.as_ref())?;
    let state = SuggestionState::parse(request.param("state").unwrap_or("proposed"))?;
    let all = review::list(db.as_ref(), state)?;
    Ok(Reply::json(200, &serde_json::json!({ "suggestions": all })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Approve {
    price_fen: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decline {
    reason: String,
}

/// `POST /api/staff/suggestions/{id}/approve {"price_fen"}` and
/// `.../decline {"reason"}`.
pub fn decide(request: &Request, suggestion: &str, step: &str) -> Result<Reply> {
    let db = db::connect()?;
    let staff = signed_in(request, db.as_ref())?;
    let suggestion = id(suggestion)?;
    let now = now_ms();
    let decided = match step {
        "approve" => {
            let body: Approve = request.json()?;
            let rules = SuggestionRules::from_settings(config::optional)?;
            review::approve(db.as_ref(), &staff, suggestion, body.price_fen, &rules, now)?
        }
        "decline" => {
            let body: Decline = request.json()?;
            review::decline(db.as_ref(), &staff, suggestion, &body.reason, now)?
        }
        _ => return Err(Error::NotFound { what: "route" }),
    };
    Ok(Reply::json(200, &decided))
}
