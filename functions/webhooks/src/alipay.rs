//! `POST /webhooks/alipay`: Alipay's asynchronous notifications, verified
//! (RSA2 with Alipay's public key, our app id), recorded once by
//! `notify_id`, and routed by our trade number to the flow that owns it.

use wangjie_shared::alipay::notify::{self, Notification, ACK};
use wangjie_shared::alipay::verify_notification;
use wangjie_shared::compensation;
use wangjie_shared::credit::CreditPolicy;
use wangjie_shared::db::{in_transaction, Db};
use wangjie_shared::orders::payment;
use wangjie_shared::readers::deposit::{self, TRADE_PREFIX};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::providers::Alipay;
use wangjie_shared::spin::{config, db};
use wangjie_shared::{now_ms, Error, Result};

/// Verifies, records and applies one notification.
pub fn notification(request: &Request) -> Result<Reply> {
    let params: Vec<(String, String)> = form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let alipay = Alipay::from_variables()?;
    verify_notification(&params, alipay.alipay_key())?;
    let notification = Notification::from_params(&params)?;
    if notification.app_id != alipay.app_id() {
        return Err(Error::Forbidden(
            "the notification is for another app".into(),
        ));
    }
    let now = now_ms();
    let db = db::connect()?;
    in_transaction(db.as_ref(), |db| apply(db, &notification, now))?;
    Ok(Reply {
        status: 200,
        content_type: "text/plain; charset=utf-8",
        headers: Vec::new(),
        body: ACK.as_bytes().to_vec(),
    })
}

/// The effect, in the caller's transaction: nothing at all for a replay.
fn apply(db: &dyn Db, notification: &Notification, now: i64) -> Result<()> {
    let outcome = if !notification.is_paid() {
        "not_paid"
    } else if notification.out_trade_no.starts_with(TRADE_PREFIX) {
        "deposit"
    } else if notification.out_trade_no.starts_with(payment::TRADE_PREFIX) {
        "order_fee"
    } else if notification
        .out_trade_no
        .starts_with(compensation::TRADE_PREFIX)
    {
        "compensation"
    } else {
        return Err(Error::NotFound { what: "trade" });
    };
    if !notify::record_once(db, notification, outcome, now)? {
        return Ok(());
    }
    if outcome == "order_fee" {
        payment::pay(
            db,
            &notification.out_trade_no,
            &notification.total_amount,
            now,
        )?;
    }
    if outcome == "compensation" {
        compensation::pay(
            db,
            &notification.out_trade_no,
            &notification.trade_no,
            &notification.total_amount,
            now,
        )?;
    }
    if outcome == "deposit" {
        let policy = CreditPolicy::from_settings(config::optional)?;
        deposit::confirm(
            db,
            &notification.out_trade_no,
            &notification.trade_no,
            &notification.total_amount,
            policy.quota_deposit,
            now,
        )?;
    }
    Ok(())
}
