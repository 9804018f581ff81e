//! The `points` component: the service points where readers collect and
//! return books (branches, locker points, metro stations, partner sites),
//! nearest first when the reader says where they are.
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
    match path.strip_prefix("/api/points") {
        Some("") => {
            request.allow(&[Method::GET])?;
            handlers::list_points(request)
        }
        Some(rest) => match rest.strip_prefix('/') {
            Some(code) if !code.contains('/') => {
                request.allow(&[Method::GET])?;
                handlers::show_point(code)
            }
            _ => Err(Error::NotFound { what: "route" }),
        },
        None => Err(Error::NotFound { what: "route" }),
    }
}
