//! A loaded app: its components pre-instantiated, its router, and how one
//! HTTP request becomes one fresh component instance.

use crate::capabilities::allowed_hosts::AllowedHosts;
use crate::capabilities::{AppResources, Capabilities, ComponentGrants, RuntimeConfig};
use crate::cron::{CronEntry, SpinCronPre};
use crate::instance::{self, HostState};
use crate::manifest::Manifest;
use crate::outbound::OutboundHooks;
use crate::router::{RouteMatch, Router};
use crate::variables::AppVariables;
use crate::HostConfig;
use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONNECTION, HOST};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Body;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Component;
use wasmtime::Store;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

/// Spin gives chained requests this client address.
const CHAINED_CLIENT_ADDR: &str = "0.0.0.0:0";

/// One component, ready to instantiate.
pub(crate) struct LoadedComponent {
    pub(crate) id: String,
    pub(crate) description: String,
    http: Option<ProxyPre<HostState>>,
    pub(crate) cron: Option<SpinCronPre<HostState>>,
    grants: Arc<ComponentGrants>,
    environment: Vec<(String, String)>,
}

/// A running app's immutable state.
pub struct App {
    pub(crate) router: Router,
    pub(crate) components: HashMap<String, LoadedComponent>,
    pub(crate) crons: Vec<CronEntry>,
    resources: Arc<AppResources>,
}

/// What the server logs about one request.
pub(crate) struct Handled {
    pub(crate) response: Response<HyperOutgoingBody>,
    pub(crate) component: Option<String>,
}

impl App {
    /// Reads the manifest and runtime config, resolves variables, and
    /// compiles (or loads from cache) every triggered component.
    pub async fn load(config: &HostConfig) -> Result<Arc<Self>> {
        let (manifest, manifest_file) = Manifest::load(&config.manifest)?;
        let app_dir = manifest_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let runtime_config = match &config.runtime_config {
            Some(file) => RuntimeConfig::from_file(file)?,
            None => RuntimeConfig::default(),
        };
        let state_dir = config
            .state_dir
            .clone()
            .unwrap_or_else(|| app_dir.join(".spin"));
        std::fs::create_dir_all(&state_dir)
            .with_context(|| format!("creating the state directory {}", state_dir.display()))?;
        let resources = AppResources::new(&runtime_config, &state_dir)
            .await
            .context("opening the app's stores and databases")?;
        let variables = AppVariables::resolve(&manifest.variables, &config.variables)?;

        let (router, replaced) = Router::from_manifest(&manifest)?;
        for warning in replaced {
            eprintln!("warning: {warning}");
        }

        let cache_dir = instance::cache_dir(&state_dir);
        let mut components = HashMap::new();
        for id in manifest.triggered_components() {
            let loaded =
                load_component(&manifest, id, &app_dir, &cache_dir, &variables, &resources)
                    .await
                    .with_context(|| format!("loading component `{id}`"))?;
            components.insert(id.to_string(), loaded);
        }
        for id in manifest.component.keys() {
            if !components.contains_key(id) {
                eprintln!("warning: component `{id}` has no trigger and is not loaded");
            }
        }
        let crons = manifest
            .trigger
            .cron
            .iter()
            .map(|t| CronEntry::new(&t.component, &t.cron_expression))
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Self {
            router,
            components,
            crons,
            resources,
        }))
    }

    /// A store for one instance of `component`.
    pub(crate) fn store(self: &Arc<Self>, component: &LoadedComponent) -> Result<Store<HostState>> {
        let hooks = OutboundHooks::new(
            Arc::downgrade(self),
            component.id.clone(),
            component.grants.allowed_hosts.clone(),
        );
        let capabilities = Capabilities::new(self.resources.clone(), component.grants.clone());
        let state = HostState::new(&component.environment, hooks, capabilities);
        Ok(Store::new(instance::engine()?, state))
    }

    /// Serves a request from the network. Never fails: errors become a 404
    /// (no route) or a 500 (the component failed), as in Spin.
    pub(crate) async fn handle_public<B>(
        self: &Arc<Self>,
        request: Request<B>,
        client_addr: &str,
    ) -> Handled
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let Some(route) = self.router.route(request.uri().path()) else {
            return Handled {
                response: plain(StatusCode::NOT_FOUND, ""),
                component: None,
            };
        };
        let component = route.component.clone();
        let response = match self.execute(request, route, client_addr).await {
            Ok(response) => response,
            Err(error) => {
                eprintln!("component `{component}` failed: {}", describe(&error));
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
            }
        };
        Handled {
            response,
            component: Some(component),
        }
    }

    /// Serves `http://<component>.spin.internal/...` for `caller`, in-process.
    pub(crate) async fn handle_chained(
        self: &Arc<Self>,
        caller: &str,
        component: &str,
        mut request: Request<WasiBody>,
    ) -> Result<Response<WasiBody>, wasmtime_wasi_http::Error> {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let callable = matches!(self.components.get(component), Some(c) if c.http.is_some());
        if !callable {
            eprintln!("component `{caller}` called {component}.spin.internal, but no HTTP component has that id");
            return Err(wasmtime_wasi_http::Error::DestinationNotFound);
        }
        // The chaining host means nothing to the callee (Spin strips it too).
        request.headers_mut().remove(HOST);
        let route = RouteMatch::synthetic(component, &path);
        let result = self.execute(request, route, CHAINED_CLIENT_ADDR).await;
        let status = result.as_ref().map_or(500, |r| r.status().as_u16());
        eprintln!(
            "{method} {path} -> {component} (from {caller}) {status} {}us",
            started.elapsed().as_micros()
        );
        result.map_err(|error| {
            eprintln!("component `{component}` failed: {}", describe(&error));
            wasmtime_wasi_http::Error::InternalError(Some(format!(
                "component `{component}` failed"
            )))
        })
    }

    /// Runs `route.component` on a fresh instance and returns its response
    /// once the headers are set; the body streams from a task that owns the
    /// instance until the guest finishes it.
    async fn execute<B>(
        self: &Arc<Self>,
        request: Request<B>,
        route: RouteMatch,
        client_addr: &str,
    ) -> Result<Response<HyperOutgoingBody>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let component = self
            .components
            .get(&route.component)
            .with_context(|| format!("no component `{}`", route.component))?;
        let pre = component
            .http
            .clone()
            .with_context(|| format!("component `{}` has no HTTP trigger", component.id))?;
        let (mut parts, body) = request.into_parts();
        let authority = match parts.uri.authority() {
            Some(authority) => authority.to_string(),
            None => parts
                .headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
                .to_string(),
        };
        let scheme = parts.uri.scheme_str().unwrap_or("http").to_string();
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let full_url = format!("{scheme}://{authority}{path_and_query}");
        parts.uri = full_url
            .parse()
            .with_context(|| format!("request URL {full_url:?}"))?;
        // Transport information for this hop only; it confuses a guest that
        // forwards the request.
        parts.headers.remove(CONNECTION);
        for (name, value) in route.headers(&full_url, client_addr) {
            let name = HeaderName::from_bytes(name.as_bytes())
                .with_context(|| format!("header {name}"))?;
            let value =
                HeaderValue::from_str(&value).with_context(|| format!("value of {name}"))?;
            parts.headers.insert(name, value);
        }

        let mut store = self.store(component)?;
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, Request::from_parts(parts, body))?;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(anyhow!("the component answered with the error {code:?}")),
            // The sender is dropped with the store: the guest returned or
            // trapped without setting a response.
            Err(_) => match task.await {
                Ok(Ok(())) => bail!("the component returned without setting a response"),
                Ok(Err(trap)) => Err(anyhow::Error::from(trap).context("the component trapped")),
                Err(join) => Err(anyhow::Error::from(join).context("the instance task panicked")),
            },
        }
    }
}

/// An error chain on one line, without the wasm backtrace wasmtime adds to
/// a trap: the guest has usually printed its panic message already.
pub(crate) fn describe(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|e| e.to_string())
        .filter(|e| !e.starts_with("error while executing at wasm backtrace"))
        .collect::<Vec<_>>()
        .join(": ")
}

/// A short text response.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if !text.is_empty() {
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain"),
        );
    }
    response
}

async fn load_component(
    manifest: &Manifest,
    id: &str,
    app_dir: &Path,
    cache_dir: &Path,
    variables: &AppVariables,
    resources: &AppResources,
) -> Result<LoadedComponent> {
    let spec = manifest
        .component
        .get(id)
        .with_context(|| format!("no [component.{id}] table"))?;
    let grants = ComponentGrants {
        key_value_stores: spec.key_value_stores.clone(),
        sqlite_databases: spec.sqlite_databases.clone(),
        allowed_hosts: Arc::new(
            AllowedHosts::parse(&variables.hosts(id, &spec.allowed_outbound_hosts)?)
                .context("in allowed_outbound_hosts")?,
        ),
        variables: variables.for_component(id, &spec.variables)?,
    };
    resources.check_labels(id, &grants)?;

    let source = app_dir.join(&spec.source);
    if !source.is_file() {
        let hint = match &spec.build {
            Some(build) => format!("run the build first: {}", build.command.joined()),
            None => "build it first".to_string(),
        };
        bail!("the wasm file {} does not exist; {hint}", source.display());
    }
    let component: Component = instance::load_component(&source, cache_dir).await?;
    instance::check_imports(id, &component)?;
    let pre = instance::linker()?
        .instantiate_pre(&component)
        .map_err(anyhow::Error::from)
        .context("linking the component's imports")?;
    let is_http = manifest.trigger.http.iter().any(|t| t.component == id);
    let is_cron = manifest.trigger.cron.iter().any(|t| t.component == id);
    let http = match is_http {
        true => Some(
            ProxyPre::new(pre.clone())
                .map_err(anyhow::Error::from)
                .context("an HTTP component must export wasi:http/incoming-handler@0.2.x")?,
        ),
        false => None,
    };
    let cron =
        match is_cron {
            true => Some(SpinCronPre::new(pre).map_err(anyhow::Error::from).context(
                "a cron component must export handle-cron-event (fermyon:spin-cron@2.0.0)",
            )?),
            false => None,
        };
    Ok(LoadedComponent {
        id: id.to_string(),
        description: spec.description.clone(),
        http,
        cron,
        grants: Arc::new(grants),
        environment: spec
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests;
