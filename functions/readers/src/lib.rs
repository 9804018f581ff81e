//! The `readers` component: sign-in through Alipay or WeChat, the signed-in
//! reader's own record, credit checks (through the private `credit`
//! component), the virtual card, the deposit, holds, compensation for
//! lost books and purchase suggestions. Every `/api/me` route acts
//! on the reader the session token names and no other.
#![warn(missing_docs)]

mod compensation;
mod deposit;
mod holds;
mod me;
mod session;
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

/// The route table.
fn route(request: &Request) -> Result<Reply> {
    let path = request.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    match segments.as_slice() {
        ["session"] => {
            request.allow(&[Method::DELETE])?;
            session::sign_out(request)
        }
        ["session", "providers"] => {
            request.allow(&[Method::GET])?;
            session::providers(request)
        }
        ["session", "alipay"] => {
            request.allow(&[Method::POST])?;
            session::sign_in_alipay(request)
        }
        ["session", "wechat"] => {
            request.allow(&[Method::POST])?;
            session::sign_in_wechat(request)
        }
        ["me"] => {
            request.allow(&[Method::GET])?;
            me::show(request)
        }
        ["me", "links", "alipay"] => {
            request.allow(&[Method::POST])?;
            session::link_alipay(request)
        }
        ["me", "links", "wechat"] => {
            request.allow(&[Method::POST])?;
            session::link_wechat(request)
        }
        ["me", "credit"] => {
            request.allow(&[Method::GET, Method::POST])?;
            if request.method == Method::GET {
                me::show_credit(request)
            } else {
                me::check_credit(request)
            }
        }
        ["me", "loans"] => {
            request.allow(&[Method::GET])?;
            me::loans(request)
        }
        ["me", "loans", id, "renew"] => {
            request.allow(&[Method::POST])?;
            me::renew(request, id)
        }
        ["me", "notices"] => {
            request.allow(&[Method::GET])?;
            me::notices(request)
        }
        ["me", "holds"] => {
            request.allow(&[Method::GET, Method::POST])?;
            if request.method == Method::POST {
                holds::join(request)
            } else {
                holds::list(request)
            }
        }
        ["me", "holds", id] => {
            request.allow(&[Method::GET, Method::DELETE])?;
            if request.method == Method::DELETE {
                holds::cancel(request, id)
            } else {
                holds::show(request, id)
            }
        }
        ["me", "loans", id, "lost"] => {
            request.allow(&[Method::POST])?;
            compensation::declare_lost(request, id)
        }
        ["me", "compensations"] => {
            request.allow(&[Method::GET])?;
            compensation::list(request)
        }
        ["me", "compensations", id, "pay"] => {
            request.allow(&[Method::POST])?;
            compensation::pay(request, id)
        }
        ["me", "suggestions"] => {
            request.allow(&[Method::GET, Method::POST])?;
            if request.method == Method::POST {
                suggestions::propose(request)
            } else {
                suggestions::list(request)
            }
        }
        ["me", "card"] => {
            request.allow(&[Method::POST])?;
            me::issue_card(request)
        }
        ["me", "deposit"] => {
            request.allow(&[Method::GET, Method::POST])?;
            if request.method == Method::GET {
                deposit::show_current(request)
            } else {
                deposit::open(request)
            }
        }
        ["me", "deposits", id] => {
            request.allow(&[Method::GET])?;
            deposit::show(request, id)
        }
        ["readers", id] => {
            request.allow(&[Method::GET])?;
            me::show_reader(request, id)
        }
        _ => Err(Error::NotFound { what: "route" }),
    }
}
