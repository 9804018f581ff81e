//! Who may call what. Operators reach `/admin/*` with a bearer token from
//! the `admin_token` variable; the comparison runs in constant time so the
//! answer's timing says nothing about how much of a guess was right.

use crate::request::Request;
use crate::{Error, Result};
use subtle::ConstantTimeEq;

/// Accepts the request only if it carries `Authorization: Bearer <expected>`.
pub fn require_bearer(request: &Request, expected: &str) -> Result<()> {
    if expected.is_empty() {
        // An empty configured token would let an empty header through.
        return Err(Error::Config {
            name: "admin_token",
            reason: "is empty".into(),
        });
    }
    let presented = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(Error::Unauthenticated)?;
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(Error::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: Option<&str>) -> Request {
        let headers = value
            .map(|v| vec![("Authorization".to_string(), v.to_string())])
            .unwrap_or_default();
        Request::new(http::Method::POST, "/admin/migrate", headers, vec![])
    }

    #[test]
    fn the_right_token_is_accepted() {
        assert!(require_bearer(&with_auth(Some("Bearer s3cret")), "s3cret").is_ok());
    }

    #[test]
    fn a_missing_or_wrong_token_is_unauthenticated() {
        assert!(matches!(
            require_bearer(&with_auth(None), "s3cret"),
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            require_bearer(&with_auth(Some("Bearer s3cre")), "s3cret"),
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            require_bearer(&with_auth(Some("s3cret")), "s3cret"),
            Err(Error::Unauthenticated)
        ));
    }

    #[test]
    fn an_empty_configured_token_lets_nobody_in() {
        assert!(matches!(
            require_bearer(&with_auth(Some("Bearer ")), ""),
            Err(Error::Config { .. })
        ));
    }
}
