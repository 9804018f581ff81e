//! The operator's way to the private `notifications` component (send due
//! notices now), and the outbox read straight from the database.

use wangjie_shared::notices;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db};
use wangjie_shared::Result;

const NOTIFICATIONS: &str = "http://notifications.spin.internal";

fn forward(method: &str, path: &str) -> Result<Reply> {
    // Each notice may try three providers, each bounded by the timeout.
    let timeout_ms = 3 * config::number("provider_timeout_ms", 3000)? + 5000;
    crate::private::forward(method, &format!("{NOTIFICATIONS}{path}"), timeout_ms)
}

/// `POST /admin/jobs/send-notices?batch=N`.
pub fn send(request: &Request) -> Result<Reply> {
    let batch = request.count_param::<u32>("batch", 50, 1, 500)?;
    forward("POST", &format!("/send?batch={batch}"))
}

/// `GET /admin/notices?reader=ID&status=queued|sent|failed|superseded&limit=N`:
/// a reader's notices, or every notice in a state, newest first, with
/// their attempts and the reason of a failure.
pub fn list(request: &Request) -> Result<Reply> {
    let filter = notices::list::Filter {
        reader: request.parse_param::<i64>("reader", "a reader number")?,
        state: request.param("status").map(str::to_string),
        limit: request.count_param("limit", 100, 1, notices::list::MAX_LIMIT)?,
    };
    let db = db::connect()?;
    Ok(Reply::json(
        200,
        &notices::list::list(db.as_ref(), &filter)?,
    ))
}
