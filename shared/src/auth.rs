//! Who may call what. Operators reach `/admin/*` with a bearer token from
//! the `admin_token` variable; the comparison runs in constant time so the
//! answer's timing says nothing about how much of a guess was right. Staff
//! signed in to the console reach it too, as far as their role allows
//! ([`admit_role`]); `crate::spin::operator` puts the two together.

use crate::request::Request;
use crate::{Error, Result};
use subtle::ConstantTimeEq;

/// What an `/admin/*` request does, for deciding which roles may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads the console's figures: statistics, lockers, notices, jobs.
    Read,
    /// Anything else: writes, and reads that only operators need.
    Write,
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is
/// matched without regard to case (RFC 9110, section 11.1).
pub fn bearer_token(request: &Request) -> Option<&str> {
    let value = request.header("authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// Whether a member of staff with `role` may do what `access` says:
/// operators anything, supervisors [`Access::Read`], nobody else anything
/// (403).
pub fn admit_role(role: &str, access: Access) -> Result<()> {
    match (role, access) {
        ("operator", _) | ("supervisor", Access::Read) => Ok(()),
        ("supervisor", Access::Write) => Err(Error::Forbidden(
            "supervisors may read the console's figures, not change anything".into(),
        )),
        (role, _) => Err(Error::Forbidden(format!(
            "the {role} role has no access to the operator's console"
        ))),
    }
}

/// Accepts the request only if it carries `Authorization: Bearer <expected>`.
pub fn require_bearer(request: &Request, expected: &str) -> Result<()> {
    if expected.is_empty() {
        // An empty configured token would let an empty header through.
        return Err(Error::Config {
            name: "admin_token",
            reason: "is empty".into(),
        });
    }
    let presented = bearer_token(request).ok_or(Error::Unauthenticated)?;
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
    fn the_scheme_is_matched_in_any_case() {
        for header in ["bearer s3cret", "BEARER s3cret", "Bearer  s3cret "] {
            assert!(
                require_bearer(&with_auth(Some(header)), "s3cret").is_ok(),
                "{header}"
            );
        }
        assert_eq!(bearer_token(&with_auth(Some("Basic s3cret"))), None);
        assert_eq!(bearer_token(&with_auth(Some("Bearer "))), None);
    }

    #[test]
    fn operators_may_do_anything_supervisors_only_read_and_others_nothing() {
        assert!(admit_role("operator", Access::Write).is_ok());
        assert!(admit_role("operator", Access::Read).is_ok());
        assert!(admit_role("supervisor", Access::Read).is_ok());
        for (role, access) in [
            ("supervisor", Access::Write),
            ("librarian", Access::Read),
            ("picker", Access::Write),
            ("courier", Access::Read),
        ] {
            assert!(
                matches!(admit_role(role, access), Err(Error::Forbidden(_))),
                "{role} {access:?}"
            );
        }
    }

    #[test]
    fn an_empty_configured_token_lets_nobody_in() {
        assert!(matches!(
            require_bearer(&with_auth(Some("Bearer x")), ""),
            Err(Error::Config { .. })
        ));
    }
}
