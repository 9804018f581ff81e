//! The HTTP/1.1 listener: one task per connection, one fresh component
//! instance per request, one log line per request.

use crate::app::App;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Accepts connections until the task is aborted; aborting it also drops
/// every open connection, since they live in its `JoinSet`.
pub(crate) async fn serve(app: Arc<App>, listener: TcpListener) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, client) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Typically out of file descriptors: back off instead of spinning.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small request/response exchanges: do not wait to coalesce packets.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(app.clone(), request, client));
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                if !error.is_incomplete_message() {
                    eprintln!("connection from {client}: {error}");
                }
            }
        });
    }
}

async fn handle(
    app: Arc<App>,
    request: hyper::Request<Incoming>,
    client: SocketAddr,
) -> Result<hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>, Infallible> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let handled = app.handle_public(request, &client.to_string()).await;
    eprintln!(
        "{method} {path} -> {} {} {}us",
        handled.component.as_deref().unwrap_or("(no route)"),
        handled.response.status().as_u16(),
        started.elapsed().as_micros()
    );
    Ok(handled.response)
}
