//! How a locker proves a request is its own: an HMAC-SHA256 over the
//! *canonical string* of the request with the locker's own secret.
//!
//! ```text
//! WJL1\n<METHOD>\n<path>\n<timestamp ms>\n<nonce>\n<hex sha256(body)>
//! ```
//!
//! Errors, and why they differ: a missing or malformed header (including
//! `X-Locker-Protocol`) is [`Error::Invalid`] naming the header, since the
//! vendor needs to know what to fix and the format of a header is no
//! secret. The signature is the credential: missing, malformed or not
//! verifying, it is [`Error::BadSignature`] (`what = "locker request"`,
//! a 401 like any missing or wrong credential, RFC 9110 15.5.2); so
//! should the caller answer for an unknown locker id, so that ids cannot
//! be probed. A correctly signed request
//! whose timestamp lies outside the window is [`Error::Invalid`] on
//! `X-Locker-Timestamp` with the server's time in the reason: the
//! signature is checked first, so only the genuine locker learns it, and
//! a locker whose clock drifted can set it and retry.

use crate::{Error, Result};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The protocol version this code speaks, in `X-Locker-Protocol`.
pub const PROTOCOL_VERSION: &str = "1";
/// The locker's id, as registered.
pub const HEADER_ID: &str = "X-Locker-Id";
/// When the request was signed, epoch milliseconds.
pub const HEADER_TIMESTAMP: &str = "X-Locker-Timestamp";
/// A string never used twice by one locker within the window.
pub const HEADER_NONCE: &str = "X-Locker-Nonce";
/// Hex HMAC-SHA256 of the canonical string.
pub const HEADER_SIGNATURE: &str = "X-Locker-Signature";
/// The protocol version the request follows.
pub const HEADER_PROTOCOL: &str = "X-Locker-Protocol";

/// The first line of the canonical string: signatures of protocol 1
/// cannot be mistaken for anything else signed with the same secret.
const CANONICAL_PREFIX: &str = "WJL1";

/// The shortest locker secret accepted: 32 bytes, the HMAC output's size.
pub const MIN_SECRET_BYTES: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// One locker's secret, shared with it when it was registered.
#[derive(Clone)]
pub struct LockerSecret(Vec<u8>);

// Written by hand so that the secret never reaches a log through `{:?}`.
impl std::fmt::Debug for LockerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockerSecret(..)")
    }
}

impl LockerSecret {
    /// Takes the secret's bytes as they are; shorter than
    /// [`MIN_SECRET_BYTES`] is refused.
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(Error::invalid(
                "locker secret",
                format!("shorter than {MIN_SECRET_BYTES} bytes"),
            ));
        }
        Ok(LockerSecret(bytes.to_vec()))
    }

    fn mac(&self, canonical: &str) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(canonical.as_bytes());
        mac
    }
}

/// Hex digits only (`hex` takes no sign, so one signature has one
/// spelling, give or take case).
fn unhex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// `[A-Za-z0-9_-]` with a length in `range`: ids and nonces end up inside
/// key-value keys, so nothing else is allowed in them.
fn is_token(text: &str, range: std::ops::RangeInclusive<usize>) -> bool {
    range.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The string a locker signs. `path` is the request target as sent (path
/// and `?query`, no scheme or host); `method` is upper-cased.
pub fn canonical(method: &str, path: &str, timestamp_ms: i64, nonce: &str, body: &[u8]) -> String {
    let body_hash = hex::encode(Sha256::digest(body));
    let method = method.to_ascii_uppercase();
    format!("{CANONICAL_PREFIX}\n{method}\n{path}\n{timestamp_ms}\n{nonce}\n{body_hash}")
}

/// The hex signature of a request, as the locker computes it.
pub fn sign(
    secret: &LockerSecret,
    method: &str,
    path: &str,
    timestamp_ms: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    let mac = secret.mac(&canonical(method, path, timestamp_ms, nonce, body));
    hex::encode(mac.finalize().into_bytes())
}

/// The five headers of a signed request, for lockers' simulators and tests.
pub fn signed_headers(
    locker_id: &str,
    secret: &LockerSecret,
    method: &str,
    path: &str,
    timestamp_ms: i64,
    nonce: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    vec![
        (HEADER_ID, locker_id.to_string()),
        (HEADER_TIMESTAMP, timestamp_ms.to_string()),
        (HEADER_NONCE, nonce.to_string()),
        (
            HEADER_SIGNATURE,
            sign(secret, method, path, timestamp_ms, nonce, body),
        ),
        (HEADER_PROTOCOL, PROTOCOL_VERSION.to_string()),
    ]
}

/// The authentication headers of a request, read but not yet verified:
/// the caller looks up the secret of [`LockerHeaders::locker_id`], then
/// calls [`LockerHeaders::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockerHeaders {
    /// `X-Locker-Id`: 1 to 64 of `[A-Za-z0-9_-]`.
    pub locker_id: String,
    /// `X-Locker-Timestamp`, epoch milliseconds.
    pub timestamp_ms: i64,
    /// `X-Locker-Nonce`: 16 to 64 of `[A-Za-z0-9_-]`.
    pub nonce: String,
    signature: Vec<u8>,
}

/// A request whose signature and time verified. The nonce is the caller's
/// to check: set [`VerifiedRequest::nonce_key`] in the key-value store only
/// if absent, expiring at [`VerifiedRequest::nonce_expires_at_ms`], and
/// refuse the request as replayed when it was already there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The locker that signed.
    pub locker_id: String,
    /// When it signed, epoch milliseconds.
    pub timestamp_ms: i64,
    /// Its `X-Locker-Nonce`.
    pub nonce: String,
    /// `locker:nonce:{locker_id}:{nonce}`.
    pub nonce_key: String,
    /// The first instant the request would be refused for its age anyway,
    /// after which the key may be forgotten.
    pub nonce_expires_at_ms: i64,
}

impl LockerHeaders {
    /// Reads the headers through `header` (a case-insensitive look-up by
    /// name), checking their format and the protocol version.
    pub fn parse<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Result<Self> {
        let get = |name: &'static str| {
            header(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::invalid(name, "missing"))
        };
        let protocol = get(HEADER_PROTOCOL)?;
        if protocol != PROTOCOL_VERSION {
            return Err(Error::invalid(
                HEADER_PROTOCOL,
                format!("version {protocol:?} is not spoken here; this server speaks {PROTOCOL_VERSION}"),
            ));
        }
        let locker_id = get(HEADER_ID)?;
        if !is_token(locker_id, 1..=64) {
            return Err(Error::invalid(HEADER_ID, "not 1 to 64 of [A-Za-z0-9_-]"));
        }
        let timestamp = get(HEADER_TIMESTAMP)?;
        let timestamp_ms = timestamp
            .parse::<i64>()
            .ok()
            .filter(|t| *t > 0 && timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| Error::invalid(HEADER_TIMESTAMP, "not epoch milliseconds"))?;
        let nonce = get(HEADER_NONCE)?;
        if !is_token(nonce, 16..=64) {
            return Err(Error::invalid(
                HEADER_NONCE,
                "not 16 to 64 of [A-Za-z0-9_-]",
            ));
        }
        let signature = header(HEADER_SIGNATURE)
            .map(str::trim)
            .and_then(unhex)
            .filter(|s| s.len() == 32)
            .ok_or(Error::BadSignature {
                what: "locker request",
            })?;
        Ok(LockerHeaders {
            locker_id: locker_id.to_string(),
            timestamp_ms,
            nonce: nonce.to_string(),
            signature,
        })
    }

    /// Verifies the signature in constant time, then that the timestamp is
    /// less than `window_ms` from `now_ms` either way.
    pub fn verify(
        &self,
        secret: &LockerSecret,
        method: &str,
        path: &str,
        body: &[u8],
        now_ms: i64,
        window_ms: i64,
    ) -> Result<VerifiedRequest> {
        let mac = secret.mac(&canonical(
            method,
            path,
            self.timestamp_ms,
            &self.nonce,
            body,
        ));
        mac.verify_slice(&self.signature)
            .map_err(|_| Error::BadSignature {
                what: "locker request",
            })?;
        if self.timestamp_ms.abs_diff(now_ms) >= window_ms.unsigned_abs() {
            return Err(Error::invalid(
                HEADER_TIMESTAMP,
                format!(
                    "{} is {} ms or more from server time {now_ms}; set the clock and sign again",
                    self.timestamp_ms, window_ms
                ),
            ));
        }
        Ok(VerifiedRequest {
            locker_id: self.locker_id.clone(),
            timestamp_ms: self.timestamp_ms,
            nonce: self.nonce.clone(),
            nonce_key: format!("locker:nonce:{}:{}", self.locker_id, self.nonce),
            nonce_expires_at_ms: self.timestamp_ms.saturating_add(window_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of docs/locker-protocol.md.
    const SECRET: &[u8] = b"locker-0001-secret-0123456789abcdef";
    const NOW: i64 = 1_764_331_200_000;
    const NONCE: &str = "3f9c1e7a5b2d4c60";
    const PATH: &str = "/api/lockers/SZ-LIB-0001/heartbeat";
    const BODY: &[u8] = br#"{"clock_ms":1764331200000}"#;
    const WINDOW: i64 = 300_000;

    fn secret() -> LockerSecret {
        LockerSecret::new(SECRET).unwrap()
    }

    fn headers_of(list: &[(&'static str, String)]) -> Result<LockerHeaders> {
        LockerHeaders::parse(|name| {
            list.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        })
    }

    fn signed(body: &[u8]) -> Vec<(&'static str, String)> {
        signed_headers("SZ-LIB-0001", &secret(), "POST", PATH, NOW, NONCE, body)
    }

    #[test]
    fn the_documented_example_signs_as_written() {
        let canonical = canonical("post", PATH, NOW, NONCE, BODY);
        assert_eq!(
            canonical,
            "WJL1\nPOST\n/api/lockers/SZ-LIB-0001/heartbeat\n1764331200000\n3f9c1e7a5b2d4c60\n\
             652413d0263ae6191a7018665975ff6efd4ef454c4979a6552a30143354044c7"
        );
        assert_eq!(
            sign(&secret(), "POST", PATH, NOW, NONCE, BODY),
            "92cf2aee404abb7472627a18412784f87433e96519cb457562cd610a0a83163f"
        );
    }

    #[test]
    fn a_signed_request_verifies_with_its_nonce_key() {
        let headers = headers_of(&signed(BODY)).unwrap();
        let verified = headers
            .verify(&secret(), "POST", PATH, BODY, NOW + 1, WINDOW)
            .unwrap();
        assert_eq!(verified.locker_id, "SZ-LIB-0001");
        assert_eq!(
            verified.nonce_key,
            "locker:nonce:SZ-LIB-0001:3f9c1e7a5b2d4c60"
        );
        assert_eq!(verified.nonce_expires_at_ms, NOW + WINDOW);
    }

    #[test]
    fn any_change_to_what_was_signed_is_a_bad_signature() {
        let headers = headers_of(&signed(BODY)).unwrap();
        let other = LockerSecret::new(&[b'x'; 32]).unwrap();
        let attempts = [
            headers.verify(&other, "POST", PATH, BODY, NOW, WINDOW),
            headers.verify(&secret(), "PUT", PATH, BODY, NOW, WINDOW),
            headers.verify(
                &secret(),
                "POST",
                "/api/lockers/SZ-LIB-0001/events",
                BODY,
                NOW,
                WINDOW,
            ),
            headers.verify(&secret(), "POST", PATH, b"{}", NOW, WINDOW),
        ];
        for attempt in attempts {
            assert!(matches!(
                attempt,
                Err(Error::BadSignature {
                    what: "locker request"
                })
            ));
        }
        let mut forged = signed(BODY);
        forged[1].1 = (NOW + 1).to_string();
        let forged = headers_of(&forged).unwrap();
        assert!(forged
            .verify(&secret(), "POST", PATH, BODY, NOW, WINDOW)
            .is_err());
    }

    #[test]
    fn a_request_outside_the_window_is_refused_with_the_server_time() {
        let headers = headers_of(&signed(BODY)).unwrap();
        for now in [NOW + WINDOW, NOW - WINDOW, NOW + 10 * WINDOW] {
            let result = headers.verify(&secret(), "POST", PATH, BODY, now, WINDOW);
            let Err(Error::Invalid { field, reason }) = result else {
                panic!("{result:?}")
            };
            assert_eq!(field, HEADER_TIMESTAMP);
            assert!(reason.contains(&now.to_string()));
        }
        assert!(headers
            .verify(&secret(), "POST", PATH, BODY, NOW + WINDOW - 1, WINDOW)
            .is_ok());
        assert!(headers
            .verify(&secret(), "POST", PATH, BODY, NOW - WINDOW + 1, WINDOW)
            .is_ok());
    }

    #[test]
    fn malformed_or_missing_headers_name_the_header() {
        let cases: [(usize, &str, &str); 6] = [
            (4, "2", HEADER_PROTOCOL),
            (4, "", HEADER_PROTOCOL),
            (0, "id with spaces", HEADER_ID),
            (1, "-5", HEADER_TIMESTAMP),
            (2, "short", HEADER_NONCE),
            (2, "nonce/with/slashes!", HEADER_NONCE),
        ];
        for (index, value, header) in cases {
            let mut list = signed(BODY);
            list[index].1 = value.to_string();
            let result = headers_of(&list);
            assert!(
                matches!(&result, Err(Error::Invalid { field, .. }) if field == header),
                "{header}={value:?}: {result:?}"
            );
        }
        let reason = match headers_of(&signed(BODY)[..4]) {
            Err(Error::Invalid { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason, "missing");
    }

    #[test]
    fn a_missing_or_malformed_signature_is_a_bad_signature() {
        for value in ["", "abcd", &"g".repeat(64), &"ab".repeat(33)] {
            let mut list = signed(BODY);
            list[3].1 = value.to_string();
            let result = headers_of(&list);
            assert!(
                matches!(result, Err(Error::BadSignature { .. })),
                "{value:?}: {result:?}"
            );
        }
        let mut list = signed(BODY);
        list.remove(3);
        assert!(matches!(headers_of(&list), Err(Error::BadSignature { .. })));
    }

    #[test]
    fn a_short_secret_is_refused_and_never_printed() {
        assert!(LockerSecret::new(b"short").is_err());
        assert_eq!(format!("{:?}", secret()), "LockerSecret(..)");
    }

    /// Found by fuzzing (fuzz/regressions/locker_signing/): the documented
    /// example's signature with one `0a` written `+a` verified, since
    /// `u8::from_str_radix` takes a sign. A signature has one spelling.
    #[test]
    fn a_signature_with_a_sign_character_is_malformed() {
        const SIGNATURE: &[u8] =
            b"92cf2aee404abb7472627a18412784f87433e96519cb457562cd610a+a83163f";
        let mut list = signed(BODY);
        list[3].1 = String::from_utf8(SIGNATURE.to_vec()).unwrap();
        let result = headers_of(&list);
        assert!(
            // A malformed signature is a bad one (401), as any other.
            matches!(&result, Err(Error::BadSignature { .. })),
            "{result:?}"
        );
    }
}
