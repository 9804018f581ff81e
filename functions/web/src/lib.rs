//! The `web` component: the two browser apps built from `web/` and
//! embedded at build time, the staff console under `/console/` and the
//! reader's app under `/m/`. Both speak only to the public API on the
//! same origin; this component holds no data and reaches nothing.
#![warn(missing_docs)]

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::site::{Asset, Site};
use wangjie_shared::{Error, Result};

mod built {
    //! The tables build.rs writes from web/dist.
    use super::Asset;
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

const CONSOLE: Site = Site {
    mount: "/console/",
    assets: built::CONSOLE,
};

const READER: Site = Site {
    mount: "/m/",
    assets: built::READER,
};

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    wangjie_shared::spin::http::serve(incoming, out, route).await
}

fn route(request: &Request) -> Result<Reply> {
    let path = request.path.as_str();
    if path == "/" {
        // A reader who types the bare address wants the app.
        request.allow(&[http::Method::GET, http::Method::HEAD])?;
        return Ok(Reply {
            status: 302,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("location".into(), READER.mount.into())],
            body: Vec::new(),
        });
    }
    for site in [CONSOLE, READER] {
        if path == site.mount.trim_end_matches('/') || path.starts_with(site.mount) {
            return site.answer(request);
        }
    }
    Err(Error::NotFound { what: "route" })
}
