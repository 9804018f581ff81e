//! Requests as every handler reads them: the target's query, headers and
//! a JSON body (`Request::json`), as for `POST /api/orders`.
//!
//! Input: a method line, a target line (`/path?query`), header lines
//! (`Name: value`) up to an empty line, then the body.
//!
//! Properties: nothing panics; `refuse_nul` passes only requests without
//! a NUL in path, query or header values; query counts stay in their
//! bounds; a path id reads back as the text it came from; a JSON body that
//! reads is an object without NUL, and reads the same once re-encoded;
//! an order body that reads is also read as plain JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;
use wangjie_shared::auth::bearer_token;
use wangjie_shared::request::{is_json_media_type, path_id, Request};

/// The shape of an order (functions/orders/src/reader.rs): a list and a
/// tagged enum refusing unknown fields, serde's most particular path.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct OrderBody {
    lines: Vec<i64>,
    fulfilment: Fulfilment,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
enum Fulfilment {
    Pickup { point_code: String },
    Door { address: String },
}

/// Whether any key or string in `value` holds a NUL.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(members) => members.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Equal, but for floats within a few units in the last place: serde_json
/// reads floats fast, not always to the nearest double.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-15
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let mut line = || {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let text = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = rest.get(end + 1..).unwrap_or(&[]);
        text
    };
    let method = http::Method::from_bytes(line().as_bytes()).unwrap_or(http::Method::POST);
    let target = line();
    let mut headers = Vec::new();
    loop {
        let header = line();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((&header, ""));
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let body = rest.to_vec();
    let request = Request::new(method, &target, headers.clone(), body.clone());

    if request.refuse_nul().is_ok() {
        assert!(!request.path.contains('\0'));
        assert!(headers.iter().all(|(_, v)| !v.contains('\0')));
    }
    if let Ok(limit) = request.count_param::<u32>("limit", 20, 1, 100) {
        assert!((1..=100).contains(&limit));
    }
    let _ = request.parse_param::<f64>("lat", "a number");
    for segment in request.path.split('/') {
        if let Ok(id) = path_id(segment, "an order number") {
            assert!(id > 0);
            // An integer in any decimal spelling: "03" is order 3.
            assert_eq!(id.to_string(), segment.trim_start_matches('0'));
        }
    }
    if let Some(declared) = request.header("content-type") {
        let _ = is_json_media_type(declared);
    }
    let _ = bearer_token(&request);

    let value = request.json::<Value>();
    if let Ok(value) = &value {
        assert!(value.is_object());
        assert!(!has_nul(value));
        let again = Request::new(
            http::Method::POST,
            "/",
            vec![("Content-Type".into(), "application/json".into())],
            serde_json::to_vec(value).unwrap(),
        );
        let reread = again.json::<Value>().unwrap();
        assert!(same(&reread, value), "{value} reads back as {reread}");
    }
    if request.json::<OrderBody>().is_ok() {
        assert!(value.is_ok());
    }
});
