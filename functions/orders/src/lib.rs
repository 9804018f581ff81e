//! The `orders` component: readers place, follow and cancel their orders;
//! staff run the fulfilment line for their own point (pick list,
//! scan-to-pick, not on shelf, packing, dispatch, arrival, hand-over,
//! delivery at the door, returns, damaged copies), decide purchase
//! suggestions, and sign in to the staff console and out again.
#![warn(missing_docs)]

mod reader;
mod session;
mod staff;
mod suggestions;

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

/// A numeric path segment.
fn id(text: &str, what: &str) -> Result<i64> {
    wangjie_shared::request::path_id(text, &format!("{what} number"))
}

/// The route table.
fn route(request: &Request) -> Result<Reply> {
    let path = request.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    match segments.as_slice() {
        ["orders"] => {
            request.allow(&[Method::GET, Method::POST])?;
            if request.method == Method::POST {
                reader::place(request)
            } else {
                reader::list(request)
            }
        }
        ["orders", order] => {
            request.allow(&[Method::GET])?;
            reader::show(request, id(order, "an order")?)
        }
        ["orders", order, "cancel"] => {
            request.allow(&[Method::POST])?;
            reader::cancel(request, id(order, "an order")?)
        }
        ["staff", "session"] => {
            request.allow(&[Method::POST, Method::DELETE])?;
            if request.method == Method::POST {
                session::sign_in(request)
            } else {
                session::sign_out(request)
            }
        }
        ["staff", "me"] => {
            request.allow(&[Method::GET])?;
            session::me(request)
        }
        ["staff", "picklist"] => {
            request.allow(&[Method::GET])?;
            staff::pick_list(request)
        }
        ["staff", "returns"] => {
            request.allow(&[Method::POST])?;
            staff::check_in(request)
        }
        ["staff", "picks"] => {
            request.allow(&[Method::POST])?;
            staff::pick(request)
        }
        ["staff", "suggestions"] => {
            request.allow(&[Method::GET])?;
            suggestions::list(request)
        }
        ["staff", "suggestions", suggestion, step] => {
            request.allow(&[Method::POST])?;
            suggestions::decide(request, suggestion, step)
        }
        ["staff", "copies", barcode, "damaged"] => {
            request.allow(&[Method::POST])?;
            staff::mark_damaged(request, barcode)
        }
        ["staff", "lines", line, "missing"] => {
            request.allow(&[Method::POST])?;
            staff::not_on_shelf(request, id(line, "an order line")?)
        }
        ["staff", "orders"] => {
            request.allow(&[Method::GET])?;
            staff::work_list(request)
        }
        ["staff", "orders", order] => {
            request.allow(&[Method::GET])?;
            staff::show(request, id(order, "an order")?)
        }
        ["staff", "orders", order, step] => {
            request.allow(&[Method::POST])?;
            staff::step(request, id(order, "an order")?, step)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
