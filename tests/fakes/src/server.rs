//! The HTTP server under every fake: its own thread and tokio runtime (so
//! any test, async or not, can use it), a port on 127.0.0.1 chosen by the
//! system, the [`Mode`] applied before the fake's handler, and a clean stop
//! on drop (the port is closed when drop returns).

use crate::Mode;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A request as a fake sees it.
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a fake answers.
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json;charset=utf-8".into(),
            )],
            body: body.into(),
        }
    }
}

/// Given the request and whether to sign badly, the answer.
pub(crate) type Handler = Arc<dyn Fn(&Request, bool) -> Response + Send + Sync>;

pub(crate) struct Server {
    url: String,
    mode: Arc<Mutex<Mode>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(handler: Handler) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let (shutdown, stopped) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let serving_mode = mode.clone();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    _ = accept(listener, handler, serving_mode) => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime cancels the connections still open.
        });
        Ok(Server {
            url,
            mode,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(listener: tokio::net::TcpListener, handler: Handler, mode: Arc<Mutex<Mode>>) {
    while let Ok((stream, _)) = listener.accept().await {
        let (handler, mode) = (handler.clone(), mode.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let (handler, mode) = (handler.clone(), mode.clone());
                async move { Ok::<_, std::convert::Infallible>(answer(request, handler, mode).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    handler: Handler,
    mode: Arc<Mutex<Mode>>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let request = Request {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let mode = mode.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let response = match mode {
        Mode::Status(status) => Response {
            status,
            headers: vec![("content-type".into(), "text/html".into())],
            body: format!("<html><body><h1>{status}</h1>nginx</body></html>").into_bytes(),
        },
        Mode::Garbage => Response {
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<html>maintenance: {\"partial".to_vec(),
        },
        Mode::Slow(wait) => {
            tokio::time::sleep(wait).await;
            handler(&request, false)
        }
        Mode::BadSignature => handler(&request, true),
        Mode::Normal => handler(&request, false),
    };
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}
