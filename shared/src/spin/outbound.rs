//! Outbound HTTP to the providers (Alipay's gateway, WeChat, the city's
//! credit service) with timeouts, over `wasi:http/outgoing-handler`.
//!
//! spin-sdk's `send` passes no request options, so a provider that accepts
//! the connection and never answers would hold the request until the
//! runtime's own limit. Here every call sets connect, first-byte and
//! between-bytes timeouts, which Spin and the local host both honour, and
//! the call blocks on one pollable: the handlers are synchronous.
//!
//! A body is sent with its `Content-Length`. `wasi:http` streams an
//! outgoing body, and a runtime that is not told its length sends it
//! `Transfer-Encoding: chunked` (wasmtime's hyper client does, so Spin and
//! the local host both would); Alipay's gateway wants the length (issue 15),
//! and every body here is whole in memory before it is sent anyway. The
//! runtime holds the stream to that length: writing more, or finishing
//! short, fails the call.

use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingResponse, Method, OutgoingBody, OutgoingRequest, RequestOptions,
    Scheme,
};
use wasi::io::streams::StreamError;

/// Answers larger than this are cut off as malformed: provider answers are
/// a few kilobytes.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A request to send.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The absolute URL.
    pub url: &'a str,
    /// Headers to send.
    pub headers: Vec<(&'a str, String)>,
    /// The body; empty for `GET`.
    pub body: &'a [u8],
    /// The longest wait for the connection, then for each part of the answer.
    pub timeout_ms: u64,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `call` and waits for the whole answer. The error says what failed
/// in words fit to show a reader ("timed out after 3000 ms"), never what
/// the provider said.
pub fn send(call: &Call<'_>) -> Result<Answer, String> {
    let url = url::Url::parse(call.url).map_err(|e| format!("bad provider URL: {e}"))?;
    let headers = with_content_length(call);
    let fields = Fields::from_list(&headers).map_err(|e| format!("bad header: {e:?}"))?;
    let request = OutgoingRequest::new(fields);
    let method = match call.method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => Method::Other(other.to_string()),
    };
    let scheme = if url.scheme() == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let authority = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => return Err("provider URL has no host".into()),
    };
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    fn refused(what: &'static str) -> impl Fn(()) -> String {
        move |()| format!("could not build the request ({what})")
    }
    request.set_method(&method).map_err(refused("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(refused("scheme"))?;
    request
        .set_authority(Some(&authority))
        .map_err(refused("authority"))?;
    request
        .set_path_with_query(Some(&path))
        .map_err(refused("path"))?;
    let body = request.body().map_err(refused("body"))?;

    let options = RequestOptions::new();
    let timeout_ns = Some(call.timeout_ms.saturating_mul(1_000_000));
    // A runtime may refuse an option it does not support; the others still
    // bound the wait.
    let _ = options.set_connect_timeout(timeout_ns);
    let _ = options.set_first_byte_timeout(timeout_ns);
    let _ = options.set_between_bytes_timeout(timeout_ns);

    let pending =
        outgoing_handler::handle(request, Some(options)).map_err(|e| describe(&e, call))?;
    write_body(&body, call.body)?;
    OutgoingBody::finish(body, None).map_err(|e| describe(&e, call))?;

    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or("no answer")?
        .map_err(|_| "the answer was taken twice".to_string())?
        .map_err(|e| describe(&e, call))?;
    read(response, call)
}

/// The call's headers, with `content-length` set to the body's length for
/// a body or a method that carries one (any given by the caller is
/// replaced: only the bytes decide it).
fn with_content_length(call: &Call<'_>) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = call
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    let bodiless = matches!(call.method, "GET" | "HEAD" | "DELETE" | "OPTIONS");
    if !call.body.is_empty() || !bodiless {
        headers.push((
            "content-length".to_string(),
            call.body.len().to_string().into_bytes(),
        ));
    }
    headers
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body
        .write()
        .map_err(|_| "could not write the request body".to_string())?;
    // blocking-write-and-flush takes at most 4096 bytes a call.
    for chunk in bytes.chunks(4096) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| format!("could not send the request body: {e:?}"))?;
    }
    Ok(())
}

fn read(response: IncomingResponse, call: &Call<'_>) -> Result<Answer, String> {
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| {
            (
                n.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    let incoming = response
        .consume()
        .map_err(|_| "the answer has no body".to_string())?;
    let stream = incoming
        .stream()
        .map_err(|_| "the answer's body could not be read".to_string())?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ANSWER_BYTES {
                    return Err(format!("answer larger than {MAX_ANSWER_BYTES} bytes"));
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(_)) => {
                return Err(format!(
                    "the answer stopped half-way (timeout {} ms?)",
                    call.timeout_ms
                ))
            }
        }
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn describe(error: &ErrorCode, call: &Call<'_>) -> String {
    match error {
        ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout => {
            format!("timed out after {} ms", call.timeout_ms)
        }
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) => "name lookup failed".into(),
        ErrorCode::HttpRequestDenied => {
            "the runtime refused the request: check allowed_outbound_hosts".into()
        }
        other => format!("request failed: {other:?}"),
    }
}
