//! The one wrapper every component's HTTP entry runs in: it reads the
//! request with a size limit, calls the handler, and writes its reply or
//! its error as problem+json. Handlers never touch Spin's HTTP types.

use crate::reply::Reply;
use crate::request::Request;
use crate::spin::config;
use crate::{Error, Result};
use futures::{SinkExt, StreamExt};
use spin_sdk::http::{Fields, IncomingRequest, Method, OutgoingResponse, ResponseOutparam};

/// Bodies larger than this are refused unless `max_body_bytes` says otherwise.
const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Reads `incoming`, runs `handle`, and answers through `out`.
pub async fn serve(
    incoming: IncomingRequest,
    out: ResponseOutparam,
    handle: impl FnOnce(&Request) -> Result<Reply>,
) {
    let target = incoming.path_with_query().unwrap_or_else(|| "/".into());
    let path = target.split('?').next().unwrap_or("/").to_string();
    let reply = match read(incoming, &target).await {
        Ok(request) => handle(&request),
        Err(error) => Err(error),
    }
    .unwrap_or_else(|error| Reply::from_error(&error, Some(&path)));
    write(out, reply).await;
}

async fn read(incoming: IncomingRequest, target: &str) -> Result<Request> {
    let limit = config::number("max_body_bytes", DEFAULT_MAX_BODY_BYTES)? as usize;
    let headers: Vec<(String, String)> = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let declared = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    // Refuse early when the sender says how much it will send.
    if declared.is_some_and(|length| length > limit) {
        return Err(Error::BodyTooLarge { limit });
    }
    let method = method(&incoming.method())?;
    let mut body = Vec::new();
    let mut stream = std::pin::pin!(incoming.into_body_stream());
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Error::invalid("body", format!("could not be read: {e:?}")))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    let request = Request::new(method, target, headers, body);
    request.refuse_nul()?;
    Ok(request)
}

fn method(method: &Method) -> Result<http::Method> {
    http::Method::from_bytes(method.to_string().as_bytes())
        .map_err(|_| Error::invalid("method", "not an HTTP method"))
}

async fn write(out: ResponseOutparam, reply: Reply) {
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        (
            "content-type".into(),
            reply.content_type.as_bytes().to_vec(),
        ),
        (
            "content-length".into(),
            reply.body.len().to_string().into_bytes(),
        ),
    ];
    headers.extend(reply.headers.into_iter().map(|(n, v)| (n, v.into_bytes())));
    let response =
        OutgoingResponse::new(Fields::from_list(&headers).unwrap_or_else(|_| Fields::new()));
    // A status outside 100..=999 cannot come from our own replies.
    let _ = response.set_status_code(reply.status);
    let mut body = std::pin::pin!(response.take_body());
    out.set(response);
    if let Err(error) = body.send(reply.body).await {
        eprintln!("could not write the response body: {error:?}");
    }
}
