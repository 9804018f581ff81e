//! The `admin` component: the health check everyone may read, and the
//! operator's endpoints that migrate the schema and load demo data.
//! Migrations run here, when an operator asks, never on a request path.
#![warn(missing_docs)]

mod handlers;
mod notices;
mod private;

use http::Method;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::{Error, Result};

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    wangjie_shared::spin::http::serve(incoming, out, route).await
}

/// The route table.
fn route(request: &Request) -> Result<Reply> {
    match request.path.as_str() {
        "/api/health" => {
            request.allow(&[Method::GET, Method::HEAD])?;
            handlers::report_health()
        }
        "/admin/schema" => {
            request.allow(&[Method::GET])?;
            handlers::authorize(request)?;
            handlers::show_schema()
        }
        "/admin/migrate" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::apply_migrations()
        }
        "/admin/demo" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::load_demo(request)
        }
        "/admin/staff" => {
            request.allow(&[Method::GET])?;
            handlers::authorize(request)?;
            handlers::list_staff(request)
        }
        "/admin/jobs/run" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::run_jobs(request)
        }
        "/admin/jobs/send-notices" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            notices::send(request)
        }
        "/admin/notices" => {
            request.allow(&[Method::GET])?;
            handlers::authorize(request)?;
            notices::list(request)
        }
        "/admin/jobs/sync-sesame" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            let batch = request.parse_param::<u32>("batch", "a whole number")?;
            // Up to four gateway calls per row, each bounded by the timeout.
            let timeout_ms = (4
                * wangjie_shared::spin::config::number("provider_timeout_ms", 3000)?
                * u64::from(batch.unwrap_or(100).clamp(1, 100))
                + 5000)
                .min(600_000);
            let url = match batch {
                Some(n) => format!("http://credit.spin.internal/sesame-orders/sync?batch={n}"),
                None => "http://credit.spin.internal/sesame-orders/sync".to_string(),
            };
            private::forward("POST", &url, timeout_ms)
        }
        "/admin/jobs/expire-payments" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::expire_payments()
        }
        "/admin/jobs/lockers-offline" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::lockers_offline(request)
        }
        path => match path
            .strip_prefix("/admin/staff/")
            .and_then(|rest| rest.strip_suffix("/session"))
        {
            Some(id) => {
                request.allow(&[Method::POST])?;
                handlers::authorize(request)?;
                handlers::open_staff_session(id)
            }
            None => Err(Error::NotFound { what: "route" }),
        },
    }
}
