//! The `notifications` component: sends due notices from the outbox over
//! WeChat, Alipay or SMS (docs/notifications.md). Private
//! (`notifications.spin.internal`): the scheduler and the operator's
//! `POST /admin/jobs/send-notices` call it.
#![warn(missing_docs)]

mod channels;

use http::Method;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use wangjie_shared::notices::{self, Settings};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db};
use wangjie_shared::{now_ms, Error, Result};

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    wangjie_shared::spin::http::serve(incoming, out, route).await
}

/// The route table.
fn route(request: &Request) -> Result<Reply> {
    match request.path.trim_end_matches('/') {
        "/send" => {
            request.allow(&[Method::POST])?;
            send(request)
        }
        "/notices" => {
            request.allow(&[Method::GET])?;
            let reader = request
                .parse_param::<i64>("reader", "a reader number")?
                .ok_or_else(|| Error::invalid("reader", "required"))?;
            let db = db::connect()?;
            Ok(Reply::json(
                200,
                &notices::list_for_reader(db.as_ref(), reader)?,
            ))
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}

/// `POST /send?batch=N`: sends up to N (default 50, at most 500) due notices.
fn send(request: &Request) -> Result<Reply> {
    let batch = request
        .parse_param::<i64>("batch", "a whole number")?
        .unwrap_or(50)
        .clamp(1, 500);
    let settings = Settings {
        max_attempts: config::number("notice_max_attempts", 5)?.max(1) as i64,
        quiet_start: config::optional("quiet_hours_start")?.unwrap_or_default(),
        quiet_end: config::optional("quiet_hours_end")?.unwrap_or_default(),
    };
    let db = db::connect()?;
    let providers = channels::Providers::from_variables()?;
    let counts = notices::send_due(db.as_ref(), &providers, &settings, batch, now_ms())?;
    Ok(Reply::json(200, &counts))
}
