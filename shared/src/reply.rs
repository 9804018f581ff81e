//! What a handler answers: a status, a content type and bytes. Errors
//! become replies only through [`Reply::from_error`], which uses the one
//! mapping in [`crate::problem`].

use crate::problem::{self, Problem};
use crate::Error;
use serde::Serialize;

/// An HTTP response before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The media type of the body.
    pub content_type: &'static str,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON body.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status,
                content_type: "application/json",
                headers: Vec::new(),
                body,
            },
            Err(e) => Reply::from_error(&Error::Internal(e.into()), None),
        }
    }

    /// A problem details body.
    pub fn problem(problem: &Problem) -> Reply {
        Reply {
            status: problem.status,
            content_type: problem::CONTENT_TYPE,
            headers: Vec::new(),
            body: problem.to_json(),
        }
    }

    /// The problem details answer for an error, with the headers HTTP
    /// asks for beside some statuses (RFC 9110: `Allow` on 405,
    /// `WWW-Authenticate` on 401; RFC 6585: `Retry-After` on 429).
    pub fn from_error(error: &Error, instance: Option<&str>) -> Reply {
        let mut reply = Reply::problem(&Problem::from_error(error, instance));
        match error {
            Error::MethodNotAllowed { allowed, .. } => {
                reply.headers.push(("allow".into(), allowed.clone()));
            }
            Error::Unauthenticated => {
                reply
                    .headers
                    .push(("www-authenticate".into(), "Bearer".into()));
            }
            Error::TooManyRequests { retry_after_s } => {
                reply
                    .headers
                    .push(("retry-after".into(), retry_after_s.to_string()));
            }
            _ => {}
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_says_when_to_retry() {
        let reply = Reply::from_error(&Error::TooManyRequests { retry_after_s: 17 }, None);
        assert_eq!(reply.status, 429);
        assert!(reply
            .headers
            .contains(&("retry-after".to_string(), "17".to_string())));
    }
}
