//! A request as a handler sees it: already read, size-checked, with typed
//! access to its query parameters, headers and JSON body that turns bad
//! input into [`Error::Invalid`] naming the culprit.

use crate::{Error, Result};
use serde::de::DeserializeOwned;
use std::str::FromStr;

/// An HTTP request whose body has been read.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: http::Method,
    /// The path, without the query.
    pub path: String,
    /// The request target as sent: the path and `?query` if any (what a
    /// locker signs).
    pub target: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// Builds a request from its parts; `path_with_query` is the request
    /// target (`/api/points?kind=metro`).
    pub fn new(
        method: http::Method,
        path_with_query: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Self {
        let (path, query) = path_with_query
            .split_once('?')
            .unwrap_or((path_with_query, ""));
        Request {
            method,
            path: path.to_string(),
            target: path_with_query.to_string(),
            query: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            headers: headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
            body,
        }
    }

    /// A header's value (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter as text; an empty value counts as absent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A query parameter parsed as `T`, refusing text that does not parse.
    pub fn parse_param<T: FromStr>(&self, name: &str, what: &str) -> Result<Option<T>> {
        self.param(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| Error::invalid(name, format!("{text:?} is not {what}")))
            })
            .transpose()
    }

    /// A whole-number query parameter within `min..=max`, `default` when
    /// absent; out of range or not a number is a 400 naming it.
    pub fn count_param<T>(&self, name: &str, default: T, min: T, max: T) -> Result<T>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let value = self
            .parse_param::<T>(name, "a whole number")?
            .unwrap_or(default);
        if value < min || value > max {
            return Err(Error::invalid(
                name,
                format!("must be between {min} and {max}"),
            ));
        }
        Ok(value)
    }

    /// The body as JSON of type `T`.
    ///
    /// The body must be declared JSON ([`Error::UnsupportedMediaType`]
    /// otherwise, when there is a body), must be a JSON object (serde
    /// would read a struct from an array too) and must hold no NUL
    /// character in any key or string, which PostgreSQL cannot store; the
    /// 400 names the field. A number with no fraction (`12.0`, `1e3`) is
    /// an integer, as JSON Schema (and so docs/openapi.yaml) has it.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if !self.body.is_empty() {
            self.require_json_content_type()?;
        }
        // Most bodies are objects with no NUL escape that read as `T` as
        // written: one typed pass. Anything else takes the careful path,
        // whose answers (and error texts) are the same as before.
        let object = self.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let maybe_nul = self.body.windows(6).any(|w| w == b"\\u0000");
        if object && !maybe_nul {
            if let Ok(read) = serde_json::from_slice(&self.body) {
                return Ok(read);
            }
        }
        let mut value: serde_json::Value = serde_json::from_slice(&self.body)
            .map_err(|e| Error::invalid("body", e.to_string()))?;
        if !value.is_object() {
            return Err(Error::invalid("body", "must be a JSON object"));
        }
        refuse_nul_in_json(&value, "body")?;
        if integral_floats_to_integers(&mut value) {
            // Read from the value: the bytes hold a float where an
            // integer may be wanted (errors then carry no line number).
            return serde_json::from_value(value)
                .map_err(|e| Error::invalid("body", e.to_string()));
        }
        serde_json::from_slice(&self.body).map_err(|e| Error::invalid("body", e.to_string()))
    }

    /// Refuses a body whose `Content-Type` is missing or not JSON
    /// (`application/json` or `application/*+json`, any parameters).
    fn require_json_content_type(&self) -> Result<()> {
        let declared = self.header("content-type").unwrap_or("").trim();
        if is_json_media_type(declared) {
            Ok(())
        } else {
            Err(Error::UnsupportedMediaType {
                declared: declared.to_string(),
                expected: "application/json",
            })
        }
    }

    /// Refuses a NUL character (U+0000) in the path, a query parameter's
    /// name or value, or a header value: no text we store may hold one
    /// (PostgreSQL refuses it), so it is bad input whichever backend runs.
    /// Called once for every request, before its handler.
    pub fn refuse_nul(&self) -> Result<()> {
        if self.path.contains('\0') {
            return Err(nul_in("path"));
        }
        for (name, value) in &self.query {
            if name.contains('\0') {
                return Err(nul_in("query"));
            }
            if value.contains('\0') {
                return Err(nul_in(name));
            }
        }
        for (name, value) in &self.headers {
            if value.contains('\0') {
                return Err(nul_in(name));
            }
        }
        Ok(())
    }

    /// Refuses methods other than those listed.
    pub fn allow(&self, methods: &[http::Method]) -> Result<()> {
        if methods.contains(&self.method) {
            Ok(())
        } else {
            Err(Error::MethodNotAllowed {
                method: self.method.to_string(),
                allowed: methods
                    .iter()
                    .map(http::Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }
}

/// A numeric path segment naming something stored (`/api/orders/{id}`):
/// a positive 64-bit integer written in decimal digits, else a 400
/// `invalid id: must be <what>` (`"an order number"`).
pub fn path_id(text: &str, what: &str) -> Result<i64> {
    text.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| text.parse::<i64>().ok())
        .flatten()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::invalid("id", format!("must be {what}")))
}

/// Whether `declared` (a `Content-Type` value) names JSON:
/// `application/json` or `application/<anything>+json`, in any case, with
/// any parameters.
pub fn is_json_media_type(declared: &str) -> bool {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", "json")) => true,
        Some(("application", subtype)) => {
            subtype.len() > "+json".len() && subtype.ends_with("+json")
        }
        _ => false,
    }
}

/// The 400 for a NUL character in `field`.
fn nul_in(field: &str) -> Error {
    Error::invalid(field, "holds a NUL character (U+0000)")
}

/// Refuses a NUL in any key or string of `value`, naming the field by its
/// path from the body (`body.fulfilment.address`, `body.lines[0]`).
/// Reads JSON bytes as `T`, a number with no fraction being an integer
/// (as in [`Request::json`]); serde's complaint is a 400 on `body`.
pub fn json_from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let invalid = |e: serde_json::Error| Error::invalid("body", e.to_string());
    // As written first: only a body refused that way can be helped by
    // reading its integral floats as integers (a locker's heartbeat is
    // 240 cells; a detour through `Value` was a third of its cost).
    serde_json::from_slice(bytes).or_else(|as_written| {
        let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(invalid)?;
        if integral_floats_to_integers(&mut value) {
            serde_json::from_value(value).map_err(invalid)
        } else {
            Err(invalid(as_written))
        }
    })
}

/// Turns every float of `value` with no fraction and at most 2^53 in size
/// (`501104.0`, `-3e2`) into that integer; whether there was one. Larger
/// floats stay floats: serde reads an integer literal beyond 64 bits as
/// one, and it must stay refused.
fn integral_floats_to_integers(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            if float.fract() == 0.0 && float.abs() <= EXACT {
                *value = Value::from(float as i64);
                true
            } else {
                false
            }
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, item| {
            integral_floats_to_integers(item) | changed
        }),
        Value::Object(members) => members.values_mut().fold(false, |changed, member| {
            integral_floats_to_integers(member) | changed
        }),
        _ => false,
    }
}

fn refuse_nul_in_json(value: &serde_json::Value, at: &str) -> Result<()> {
    use serde_json::Value;
    match value {
        Value::String(text) if text.contains('\0') => Err(nul_in(at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(n, item)| refuse_nul_in_json(item, &format!("{at}[{n}]"))),
        Value::Object(members) => members.iter().try_for_each(|(key, member)| {
            if key.contains('\0') {
                return Err(nul_in(at));
            }
            let at = if at == "body" {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            refuse_nul_in_json(member, &at)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str) -> Request {
        Request::new(
            http::Method::GET,
            target,
            vec![("X-Token".into(), "t".into())],
            vec![],
        )
    }

    #[test]
    fn query_parameters_are_decoded() {
        let request = get("/api/points?kind=metro&q=%E4%B8%89%E4%BD%93");
        assert_eq!(request.path, "/api/points");
        assert_eq!(request.param("kind"), Some("metro"));
        assert_eq!(request.param("q"), Some("三体"));
        assert_eq!(request.header("x-token"), Some("t"));
    }

    #[test]
    fn a_parameter_that_does_not_parse_names_itself() {
        let error = get("/?lat=north")
            .parse_param::<f64>("lat", "a number")
            .unwrap_err();
        assert_eq!(error.to_string(), "invalid lat: \"north\" is not a number");
    }

    fn post_json(body: &str) -> Request {
        Request::new(
            http::Method::POST,
            "/",
            vec![("Content-Type".into(), "application/json".into())],
            body.as_bytes().to_vec(),
        )
    }

    fn field_of(error: Error) -> String {
        match error {
            Error::Invalid { field, .. } => field,
            other => panic!("not invalid input: {other:?}"),
        }
    }

    #[test]
    fn a_nul_in_a_json_string_is_refused_naming_the_field() {
        let request = post_json(r#"{"fulfilment": {"address": "a\u0000b"}, "lines": [1]}"#);
        let error = request.json::<serde_json::Value>().unwrap_err();
        assert_eq!(field_of(error), "fulfilment.address");
        let request = post_json(r#"{"tags": ["ok", "x\u0000"]}"#);
        let error = request.json::<serde_json::Value>().unwrap_err();
        assert_eq!(field_of(error), "tags[1]");
    }

    #[test]
    fn a_nul_in_a_query_parameter_or_header_is_refused_naming_it() {
        assert_eq!(
            field_of(get("/api/search?q=a%00b").refuse_nul().unwrap_err()),
            "q"
        );
        let request = Request::new(
            http::Method::GET,
            "/",
            vec![("X-Note".into(), "a\0b".into())],
            vec![],
        );
        assert_eq!(field_of(request.refuse_nul().unwrap_err()), "x-note");
        assert!(get("/api/search?q=ok").refuse_nul().is_ok());
    }

    #[test]
    fn a_json_array_is_not_an_object() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Order {
            lines: Vec<i64>,
            note: String,
        }
        let error = post_json(r#"[[3], "x"]"#).json::<Order>().unwrap_err();
        assert_eq!(error.to_string(), "invalid body: must be a JSON object");
        assert!(post_json(r#"{"lines": [3], "note": "x"}"#)
            .json::<Order>()
            .is_ok());
    }

    #[test]
    fn a_number_with_no_fraction_is_an_integer() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Price {
            price_fen: i64,
            lines: Vec<i64>,
            lat: f64,
        }
        let price = post_json(r#"{"price_fen": 501104.0, "lines": [3e2, -1.0], "lat": 30.5}"#)
            .json::<Price>()
            .unwrap();
        assert_eq!(
            price,
            Price {
                price_fen: 501104,
                lines: vec![300, -1],
                lat: 30.5
            }
        );
        for body in [
            r#"{"price_fen": 1.5, "lines": [], "lat": 0}"#,
            r#"{"price_fen": 1e19, "lines": [], "lat": 0}"#,
            r#"{"price_fen": -9223372036854775809, "lines": [], "lat": 0}"#,
            r#"{"price_fen": 1, "lines": [18446744073709551616], "lat": 0}"#,
        ] {
            let error = post_json(body).json::<Price>().unwrap_err();
            assert!(error.to_string().starts_with("invalid body: "), "{error}");
        }
    }

    #[test]
    fn a_body_not_declared_json_is_an_unsupported_media_type() {
        let body = br#"{"a": 1}"#.to_vec();
        for declared in [None, Some("text/plain"), Some("application/jsonx")] {
            let headers = declared
                .map(|t| vec![("Content-Type".to_string(), t.to_string())])
                .unwrap_or_default();
            let request = Request::new(http::Method::POST, "/", headers, body.clone());
            assert!(
                matches!(
                    request.json::<serde_json::Value>(),
                    Err(Error::UnsupportedMediaType { .. })
                ),
                "{declared:?}"
            );
        }
        for declared in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            let request = Request::new(
                http::Method::POST,
                "/",
                vec![("content-type".into(), declared.into())],
                body.clone(),
            );
            assert!(request.json::<serde_json::Value>().is_ok(), "{declared}");
        }
    }

    #[test]
    fn a_path_id_is_a_positive_64_bit_integer() {
        assert_eq!(path_id("42", "an order number").unwrap(), 42);
        assert_eq!(path_id("9223372036854775807", "x").unwrap(), i64::MAX);
        for bad in [
            "0",
            "-1",
            "+1",
            "",
            "1e3",
            "9223372036854775808",
            "18446744073709551616",
        ] {
            let error = path_id(bad, "an order number").unwrap_err();
            assert_eq!(
                error.to_string(),
                "invalid id: must be an order number",
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_json_is_invalid_input() {
        let request = post_json("{nope");
        assert!(matches!(
            request.json::<serde_json::Value>(),
            Err(Error::Invalid { .. })
        ));
    }
}
