//! Outgoing HTTP (`wasi:http/outgoing-handler`): `allowed_outbound_hosts`
//! enforcement, service chaining to `<component>.spin.internal` in-process,
//! and real requests for everything the component may reach.

use crate::app::App;
use crate::capabilities::allowed_hosts::AllowedHosts;
use http_body_util::BodyExt;
use std::future::Future;
use std::sync::{Arc, Weak};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

const SPIN_INTERNAL: &str = ".spin.internal";

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type SendFuture =
    Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send>;

/// Per-instance outbound policy: who is asking, and what it may reach.
pub struct OutboundHooks {
    /// Weak, so an instance never keeps a stopped app alive.
    app: Weak<App>,
    component: String,
    allowed: Arc<AllowedHosts>,
}

enum Target {
    Component(String),
    Network,
    Denied(String),
}

impl OutboundHooks {
    pub(crate) fn new(app: Weak<App>, component: String, allowed: Arc<AllowedHosts>) -> Self {
        Self {
            app,
            component,
            allowed,
        }
    }

    fn target(&self, uri: &http::Uri) -> Target {
        let url = match url::Url::parse(&uri.to_string()) {
            Ok(url) => url,
            Err(e) => return Target::Denied(format!("{uri} is not a valid URL: {e}")),
        };
        let host = url.host_str().unwrap_or_default();
        if let Some(component) = host.strip_suffix(SPIN_INTERNAL) {
            if self.allowed.allows_spin_internal(component) {
                return Target::Component(component.to_string());
            }
            return Target::Denied(format!(
                "{url}: add \"http://{component}{SPIN_INTERNAL}\" to allowed_outbound_hosts of component `{}`",
                self.component
            ));
        }
        if self.allowed.allows(&url) {
            Target::Network
        } else {
            let origin = url.origin().ascii_serialization();
            Target::Denied(format!(
                "{url}: add \"{origin}\" to allowed_outbound_hosts of component `{}`",
                self.component
            ))
        }
    }
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> SendFuture {
        let target = self.target(request.uri());
        let app = self.app.clone();
        let caller = self.component.clone();
        Box::new(async move {
            match target {
                Target::Denied(why) => {
                    // Spin also tells the operator, since the guest often
                    // swallows the error code.
                    eprintln!("outbound request denied for component `{caller}`: {why}");
                    Err(Error::HttpRequestDenied)
                }
                Target::Component(component) => {
                    let app = app
                        .upgrade()
                        .ok_or_else(|| Error::InternalError(Some("the app has stopped".into())))?;
                    let response = app.handle_chained(&caller, &component, request).await?;
                    let io: IoFuture = Box::new(async { Ok(()) });
                    Ok((response, io))
                }
                Target::Network => {
                    let (response, io) =
                        wasmtime_wasi_http::default_send_request(request, options).await?;
                    let io: IoFuture = Box::new(io);
                    Ok((response.map(BodyExt::boxed_unsync), io))
                }
            }
        })
    }
}
