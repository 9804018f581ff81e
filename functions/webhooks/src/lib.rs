//! The `webhooks` component: what Alipay and WeChat post to us.
//! Each entry verifies its sender first, is idempotent, and acknowledges
//! only once the effect is stored.
#![warn(missing_docs)]

mod alipay;
mod wechat;

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
    match request.path.trim_end_matches('/') {
        "/webhooks/alipay" => {
            request.allow(&[Method::POST])?;
            alipay::notification(request)
        }
        "/webhooks/wechat" => {
            request.allow(&[Method::GET, Method::POST])?;
            if request.method == Method::GET {
                wechat::handshake(request)
            } else {
                wechat::push(request)
            }
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
