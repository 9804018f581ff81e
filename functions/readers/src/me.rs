//! The signed-in reader's own record, loans, credit and card.

use serde::{Deserialize, Serialize};
use wangjie_shared::loans::{self, open_loans, RenewRules};
use wangjie_shared::readers::{notices, store};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::outbound::{self, Call};
use wangjie_shared::spin::{config, db, rate, session};
use wangjie_shared::{now_ms, problem, Error, Result};

/// Where the private credit component answers.
const CREDIT_URL: &str = "http://credit.spin.internal/decisions";

/// `GET /api/me`.
pub fn show(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let reader = store::get(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(200, &reader))
}

/// `GET /api/me/loans`: the reader's open loans, soonest due first.
pub fn loans(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let loans = open_loans(db::connect()?.as_ref(), claims.reader_id, now)?;
    Ok(Reply::json(200, &serde_json::json!({ "loans": loans })))
}

/// `GET /api/me/notices`: what the library told the reader, newest first.
pub fn notices(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let notices = notices::list(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(200, &serde_json::json!({ "notices": notices })))
}

/// `POST /api/me/loans/{id}/renew`: 200 with the loan's new due date.
pub fn renew(request: &Request, id: &str) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let loan = wangjie_shared::request::path_id(id, "a loan number")?;
    let rules = RenewRules {
        loan_period_ms: config::number("loan_period_ms", 30 * 24 * 3_600_000)? as i64,
        max_renewals: config::number("max_renewals", 1)? as i64,
    };
    let renewed = loans::renew(db::connect()?.as_ref(), claims.reader_id, loan, rules, now)?;
    Ok(Reply::json(200, &renewed))
}

/// `GET /api/readers/{id}`: the same as `/api/me` for one's own id; any
/// other reader's is forbidden (ids are sequential, so hiding existence
/// behind a 404 would protect nothing).
pub fn show_reader(request: &Request, id: &str) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let id = wangjie_shared::request::path_id(id, "a reader number")?;
    if id != claims.reader_id {
        return Err(Error::Forbidden(
            "a reader may see only their own record".into(),
        ));
    }
    show(request)
}

#[derive(Serialize)]
struct CreditView {
    standing: Option<wangjie_shared::readers::StandingName>,
    credit_source: Option<String>,
    credit_valid_until_ms: Option<i64>,
    loan_quota: i64,
    may_borrow: bool,
}

/// `GET /api/me/credit`: the stored standing, without asking anyone.
pub fn show_credit(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let reader = store::get(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(
        200,
        &CreditView {
            may_borrow: reader.may_borrow(now),
            standing: reader.standing,
            credit_source: reader.credit_source,
            credit_valid_until_ms: reader.credit_valid_until_ms,
            loan_quota: reader.loan_quota,
        },
    ))
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct CheckCredit {
    source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_code: Option<String>,
    #[serde(default)]
    refresh: bool,
}

/// `POST /api/me/credit {"source", "auth_code"?, "refresh"?}`: asks the
/// credit component for this reader, and answers what it answered.
pub fn check_credit(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    rate::admit_credit_check(request, claims.reader_id)?;
    let check: CheckCredit = request.json()?;
    let mut ask = serde_json::to_value(&check).map_err(anyhow::Error::from)?;
    ask["reader_id"] = claims.reader_id.into();
    let body = serde_json::to_vec(&ask).map_err(anyhow::Error::from)?;
    // Two provider calls (Alipay's token, then Sesame) at most, each with
    // its own timeout, plus a margin.
    let timeout_ms = 2 * config::number("provider_timeout_ms", 3000)? + 1000;
    let answer = outbound::send(&Call {
        method: "POST",
        url: CREDIT_URL,
        headers: vec![("content-type", "application/json".into())],
        body: &body,
        timeout_ms,
    })
    .map_err(|reason| Error::Internal(anyhow::anyhow!("credit component: {reason}")))?;
    let is_problem = answer
        .header("content-type")
        .is_some_and(|t| t.starts_with(problem::CONTENT_TYPE));
    if !is_problem {
        return Ok(Reply {
            status: answer.status,
            content_type: "application/json",
            headers: Vec::new(),
            body: answer.body,
        });
    }
    // The problem's `instance` is the reader's request, not the private
    // component's route (`/decisions`) it was answered on (RFC 9457 3.1.5).
    let mut body = answer.body;
    if let Ok(serde_json::Value::Object(mut members)) = serde_json::from_slice(&body) {
        members.insert("instance".into(), request.path.clone().into());
        body = serde_json::to_vec(&members).unwrap_or(body);
    }
    Ok(Reply {
        status: answer.status,
        content_type: problem::CONTENT_TYPE,
        headers: Vec::new(),
        body,
    })
}

/// `POST /api/me/card`: the virtual card, issued once.
pub fn issue_card(request: &Request) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let (reader, issued) = store::issue_card(db::connect()?.as_ref(), claims.reader_id, now)?;
    Ok(Reply::json(if issued { 201 } else { 200 }, &reader))
}
