//! The operator's way to the private `notifications` component: send due
//! notices now, and read a reader's notices with every attempt.

use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::config;
use wangjie_shared::{Error, Result};

const NOTIFICATIONS: &str = "http://notifications.spin.internal";

fn forward(method: &str, path: &str) -> Result<Reply> {
    // Each notice may try three providers, each bounded by the timeout.
    let timeout_ms = 3 * config::number("provider_timeout_ms", 3000)? + 5000;
    crate::private::forward(method, &format!("{NOTIFICATIONS}{path}"), timeout_ms)
}

/// `POST /admin/jobs/send-notices?batch=N`.
pub fn send(request: &Request) -> Result<Reply> {
    let batch = request.parse_param::<u32>("batch", "a whole number")?;
    match batch {
        Some(n) => forward("POST", &format!("/send?batch={n}")),
        None => forward("POST", "/send"),
    }
}

/// `GET /admin/notices?reader=ID`.
pub fn list(request: &Request) -> Result<Reply> {
    let reader = request
        .parse_param::<i64>("reader", "a reader number")?
        .ok_or_else(|| Error::invalid("reader", "required"))?;
    forward("GET", &format!("/notices?reader={reader}"))
}
