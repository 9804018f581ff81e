//! The `admin` component: the health check everyone may read, and the
//! operator's endpoints that migrate the schema, load demo data, manage
//! staff accounts and feed the console (statistics, lockers, jobs,
//! notices).
//! Migrations run here, when an operator asks, never on a request path.
#![warn(missing_docs)]

mod console;
mod handlers;
mod notices;
mod private;

use http::Method;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use wangjie_shared::auth::Access;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::operator::authorize;
use wangjie_shared::{Error, Result};

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    wangjie_shared::spin::http::serve(incoming, out, route).await
}

/// The route table. Every `/admin/*` route first authorizes: the operator
/// token, or a staff session whose role allows the access (reads of the
/// console's figures for supervisors too).
fn route(request: &Request) -> Result<Reply> {
    let write = || handlers::authorize(request);
    let read = || authorize(request, Access::Read);
    let path = request.path.trim_end_matches('/');
    match path {
        "/api/health" => {
            request.allow(&[Method::GET, Method::HEAD])?;
            handlers::report_health()
        }
        "/admin/schema" => {
            request.allow(&[Method::GET])?;
            write()?;
            handlers::show_schema()
        }
        "/admin/migrate" => {
            request.allow(&[Method::POST])?;
            write()?;
            handlers::apply_migrations()
        }
        "/admin/demo" => {
            request.allow(&[Method::POST])?;
            write()?;
            handlers::load_demo(request)
        }
        "/admin/staff" => {
            request.allow(&[Method::GET, Method::POST])?;
            write()?;
            if request.method == Method::POST {
                console::create_staff(request)
            } else {
                handlers::list_staff(request)
            }
        }
        "/admin/stats" => {
            request.allow(&[Method::GET])?;
            read()?;
            console::show_stats(request)
        }
        "/admin/lockers" => {
            request.allow(&[Method::GET])?;
            read()?;
            console::list_lockers()
        }
        "/admin/jobs" => {
            request.allow(&[Method::GET])?;
            read()?;
            console::list_jobs()
        }
        "/admin/jobs/run" => {
            request.allow(&[Method::POST])?;
            write()?;
            handlers::run_jobs(request)
        }
        "/admin/jobs/send-notices" => {
            request.allow(&[Method::POST])?;
            write()?;
            notices::send(request)
        }
        "/admin/notices" => {
            request.allow(&[Method::GET])?;
            read()?;
            notices::list(request)
        }
        "/admin/jobs/sync-sesame" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            let batch = request.count_param::<u32>("batch", 100, 1, 100)?;
            // Up to four gateway calls per row, each bounded by the timeout.
            let timeout_ms = (4
                * wangjie_shared::spin::config::number("provider_timeout_ms", 3000)?
                * u64::from(batch)
                + 5000)
                .min(600_000);
            let url = format!("http://credit.spin.internal/sesame-orders/sync?batch={batch}");
            private::forward("POST", &url, timeout_ms)
        }
        "/admin/jobs/expire-payments" => {
            request.allow(&[Method::POST])?;
            write()?;
            handlers::expire_payments()
        }
        "/admin/jobs/lockers-offline" => {
            request.allow(&[Method::POST])?;
            write()?;
            handlers::lockers_offline(request)
        }
        path => staff_route(request, path),
    }
}

/// `/admin/staff/{id}/session`, `/password`, `/code`.
fn staff_route(request: &Request, path: &str) -> Result<Reply> {
    let Some((id, action)) = path
        .strip_prefix("/admin/staff/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Err(Error::NotFound { what: "route" });
    };
    match action {
        "session" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::open_staff_session(id)
        }
        "password" => {
            request.allow(&[Method::PUT])?;
            handlers::authorize(request)?;
            console::set_password(request, console::staff_id(id)?)
        }
        "code" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            console::issue_code(console::staff_id(id)?)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
