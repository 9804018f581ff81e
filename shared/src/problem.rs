//! RFC 9457 problem details: the single place where an [`Error`] becomes an
//! HTTP status and a body. Internal causes are logged here with their whole
//! chain and never sent to the caller.

use crate::error::Error;
use serde::Serialize;

/// The media type of every error answer.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// Base of the `type` URIs; each one is documented in `docs/errors.md`.
const TYPE_BASE: &str = "https://wangjie.example/problems/";

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary that does not change between occurrences.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened this time.
    pub detail: String,
    /// The request path the problem concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// Extension members (RFC 9457 section 3.2), such as a health report.
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// A problem that is not an [`Error`], such as a failed health check.
    pub fn new(status: u16, slug: &str, title: &str, detail: &str, retryable: bool) -> Problem {
        Problem {
            kind: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status,
            detail: detail.to_string(),
            instance: None,
            retryable,
            extensions: serde_json::Map::new(),
        }
    }

    /// Maps an error to its problem, logging internal causes.
    pub fn from_error(error: &Error, instance: Option<&str>) -> Problem {
        let (status, slug, title, retryable) = classify(error);
        if status >= 500 {
            eprintln!("{status} {}: {}", instance.unwrap_or("-"), chain(error));
        }
        Problem {
            kind: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status,
            detail: error.to_string(),
            instance: instance.map(str::to_string),
            retryable,
            extensions: serde_json::Map::new(),
        }
    }

    /// Adds an extension member.
    pub fn with(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_string(), value);
        self
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }
}

/// Status, type slug, title and retryability of each error kind.
fn classify(error: &Error) -> (u16, &'static str, &'static str, bool) {
    match error {
        Error::NotFound { .. } => (404, "not-found", "Not found", false),
        Error::Invalid { .. } => (400, "invalid-request", "Invalid request", false),
        Error::BodyTooLarge { .. } => (413, "body-too-large", "Request body too large", false),
        Error::UnsupportedMediaType { .. } => (
            415,
            "unsupported-media-type",
            "Unsupported media type",
            false,
        ),
        Error::MethodNotAllowed { .. } => (405, "method-not-allowed", "Method not allowed", false),
        Error::Unauthenticated => (401, "unauthenticated", "Authentication required", false),
        Error::Forbidden(_) => (403, "forbidden", "Forbidden", false),
        Error::CompensationUnpaid { .. } => {
            (403, "compensation-unpaid", "Compensation unpaid", false)
        }
        Error::Conflict(_) => (409, "conflict", "Conflict", false),
        Error::TooManyRequests { .. } => (429, "too-many-requests", "Too many requests", true),
        Error::DatabaseUnavailable(_) => {
            (503, "database-unavailable", "Database unavailable", true)
        }
        Error::KeyValueUnavailable(_) => (
            503,
            "key-value-unavailable",
            "Key-value store unavailable",
            true,
        ),
        Error::SchemaNotMigrated => (503, "schema-not-migrated", "Schema not migrated", true),
        Error::CreditUnavailable { .. } => (
            503,
            "credit-unavailable",
            "Credit provider unavailable",
            true,
        ),
        Error::ProviderUnavailable { .. } => {
            (503, "provider-unavailable", "Provider unavailable", true)
        }
        Error::BadSignature { .. } => (401, "bad-signature", "Bad signature", false),
        Error::Config { .. } => (500, "configuration", "Configuration error", false),
        Error::Internal(_) => (500, "internal", "Internal error", true),
    }
}

/// The error and every `Caused by:` below it, on one line for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(" | caused by: ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_input_is_a_400_that_names_the_field() {
        let problem =
            Problem::from_error(&Error::invalid("lat", "not a number"), Some("/api/points"));
        assert_eq!(problem.status, 400);
        assert_eq!(problem.detail, "invalid lat: not a number");
        assert!(problem.kind.ends_with("/invalid-request"));
        assert_eq!(problem.instance.as_deref(), Some("/api/points"));
    }

    #[test]
    fn internal_causes_are_not_shown_to_the_caller() {
        let error = Error::Internal(anyhow::anyhow!("password=hunter2 rejected"));
        let problem = Problem::from_error(&error, None);
        assert_eq!(problem.status, 500);
        assert!(!String::from_utf8(problem.to_json())
            .unwrap()
            .contains("hunter2"));
    }

    #[test]
    fn an_unreachable_database_is_a_retryable_503() {
        let error = Error::DatabaseUnavailable(anyhow::anyhow!("connection refused"));
        let problem = Problem::from_error(&error, None);
        assert_eq!((problem.status, problem.retryable), (503, true));
    }

    #[test]
    fn an_unavailable_credit_provider_is_a_retryable_503() {
        let error = Error::CreditUnavailable {
            provider: "sesame",
            reason: "timed out".into(),
        };
        let problem = Problem::from_error(&error, None);
        assert_eq!((problem.status, problem.retryable), (503, true));
        assert!(problem.kind.ends_with("/credit-unavailable"));
    }

    #[test]
    fn a_body_of_the_wrong_type_is_a_415_that_is_not_retried() {
        let error = Error::UnsupportedMediaType {
            declared: "text/plain".into(),
            expected: "application/json",
        };
        let problem = Problem::from_error(&error, None);
        assert_eq!((problem.status, problem.retryable), (415, false));
        assert!(problem.kind.ends_with("/unsupported-media-type"));
    }

    #[test]
    fn too_many_attempts_are_a_retryable_429() {
        let error = Error::TooManyRequests { retry_after_s: 42 };
        let problem = Problem::from_error(&error, None);
        assert_eq!((problem.status, problem.retryable), (429, true));
        assert!(problem.kind.ends_with("/too-many-requests"));
        assert_eq!(problem.detail, "too many attempts: try again in 42 s");
    }

    #[test]
    fn a_bad_signature_is_a_401_that_is_not_retried() {
        let error = Error::BadSignature {
            what: "alipay notification",
        };
        let problem = Problem::from_error(&error, None);
        assert_eq!((problem.status, problem.retryable), (401, false));
        assert_eq!(problem.detail, "bad signature on alipay notification");
    }
}
