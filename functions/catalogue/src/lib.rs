//! The `catalogue` component: the operator's catalogue import and search
//! index upkeep. Each import request is one batch of a file (CSV, MARC ISO
//! 2709 or MARCXML) that the `wangjie-import` client cut; the answer counts
//! what the batch did. A reindex request rebuilds the keys of the next
//! records in id order.
#![warn(missing_docs)]

mod handlers;

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
        "/admin/catalogue/import" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::import_batch(request)
        }
        "/admin/catalogue/reindex" => {
            request.allow(&[Method::POST])?;
            handlers::authorize(request)?;
            handlers::reindex(request)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
