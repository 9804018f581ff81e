//! The `search` component: catalogue search (`GET /api/search`) and record
//! detail (`GET /api/records/{id}`). The language work (segmentation,
//! pinyin, traditional to simplified) was done when records were indexed;
//! a request only folds its own text and reads the index.
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
    let path = request.path.trim_end_matches('/');
    if path == "/api/search" {
        request.allow(&[Method::GET])?;
        return handlers::search_records(request);
    }
    match path.strip_prefix("/api/records/") {
        Some(id) if !id.contains('/') => {
            request.allow(&[Method::GET])?;
            handlers::show_record(id)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
