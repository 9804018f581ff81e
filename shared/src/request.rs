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
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::invalid("body", e.to_string()))
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

    #[test]
    fn malformed_json_is_invalid_input() {
        let request = Request::new(http::Method::POST, "/", vec![], b"{nope".to_vec());
        assert!(matches!(
            request.json::<serde_json::Value>(),
            Err(Error::Invalid { .. })
        ));
    }
}
