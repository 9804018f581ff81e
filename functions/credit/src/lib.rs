//! The `credit` component: asks a reader's credit provider for their
//! standing, decides under the library's policy, caches the decision in the
//! key-value store and records it; sends what Sesame credit-borrowing orders
//! owe (`/sesame-orders/sync`). Private (`credit.spin.internal`): only
//! other components call it, with a reader id they authenticated.
#![warn(missing_docs)]

mod cache;
mod handlers;
mod sesame_orders;

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

/// The route table. A private component sees the path as the caller sent
/// it to `http://credit.spin.internal`.
fn route(request: &Request) -> Result<Reply> {
    match request.path.trim_end_matches('/') {
        "/decisions" => {
            request.allow(&[Method::POST])?;
            handlers::decide(request)
        }
        "/sesame-orders/sync" => {
            request.allow(&[Method::POST])?;
            sesame_orders::sync(request)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
