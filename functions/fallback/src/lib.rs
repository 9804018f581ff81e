//! The `fallback` component: routes nothing else claims land here, so an
//! unknown path gets a problem+json 404 like every other error, not Spin's
//! empty one.
#![warn(missing_docs)]

use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use wangjie_shared::Error;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    wangjie_shared::spin::http::serve(incoming, out, |_| Err(Error::NotFound { what: "route" }))
        .await
}
