//! Lost books and what the reader owes: declare a loan lost, follow the
//! compensations, get the Alipay order string to pay one.

use serde::Serialize;
use wangjie_shared::compensation::{self, CompensationRules, CompensationView};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::providers::Alipay;
use wangjie_shared::spin::{config, db, session};
use wangjie_shared::{now_ms, Error, Result};

#[derive(Serialize)]
struct Payable {
    compensation: CompensationView,
    /// What `my.tradePay({ orderStr })` takes, while unpaid.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_str: Option<String>,
}

/// Alipay, or the 503 that says the compensation cannot be taken now.
fn alipay() -> Result<Alipay> {
    Alipay::from_variables().map_err(|cause| {
        eprintln!("compensation refused: {cause}");
        Error::ProviderUnavailable {
            provider: "alipay",
            reason: "compensation cannot be paid now; try again later".into(),
        }
    })
}

fn payable(alipay: &Alipay, compensation: CompensationView, now: i64) -> Result<Payable> {
    let order_str = (compensation.state == "awaiting_payment")
        .then(|| {
            alipay.order_string(
                &compensation.out_trade_no,
                compensation.amount_fen,
                "网借 图书赔偿",
                now,
            )
        })
        .transpose()?;
    Ok(Payable {
        compensation,
        order_str,
    })
}

/// `POST /api/me/loans/{id}/lost`: 201 with the compensation and its order
/// string; 200 with the same for a retry.
pub fn declare_lost(request: &Request, id: &str) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let loan = wangjie_shared::request::path_id(id, "a loan number")?;
    // Refused before anything is stored when it could not be paid.
    let alipay = alipay()?;
    let rules = CompensationRules::from_settings(config::optional)?;
    let (opened, first) =
        compensation::declare_lost(db::connect()?.as_ref(), claims.reader_id, loan, rules, now)?;
    Ok(Reply::json(
        if first { 201 } else { 200 },
        &payable(&alipay, opened, now)?,
    ))
}

/// `GET /api/me/compensations`.
pub fn list(request: &Request) -> Result<Reply> {
    let claims = session::authenticate(request, now_ms())?;
    let all = compensation::list(db::connect()?.as_ref(), claims.reader_id)?;
    Ok(Reply::json(
        200,
        &serde_json::json!({ "compensations": all }),
    ))
}

/// `POST /api/me/compensations/{id}/pay`: the order string again.
pub fn pay(request: &Request, id: &str) -> Result<Reply> {
    let now = now_ms();
    let claims = session::authenticate(request, now)?;
    let id = wangjie_shared::request::path_id(id, "a compensation number")?;
    let alipay = alipay()?;
    let found = compensation::get(db::connect()?.as_ref(), claims.reader_id, id)?;
    if found.state != "awaiting_payment" {
        return Err(Error::Conflict(format!(
            "compensation {id} is paid already"
        )));
    }
    Ok(Reply::json(200, &payable(&alipay, found, now)?))
}
