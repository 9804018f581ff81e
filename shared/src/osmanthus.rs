//! The city's Osmanthus citizen-credit service (桂花分). It publishes no
//! public interface, so this is the contract we wrote down with the city
//! (docs/providers.md), in the shape of a Chinese government open
//! platform: the citizen authorises us in the city's app, which hands the
//! reader's app a one-use `auth_code`; we exchange it for the citizen's
//! score in one call.
//!
//! Request: `POST {origin}/v1/credit/score`, JSON
//! `{"app_id","auth_code","timestamp_ms","nonce"}`, header
//! `X-Osmanthus-Signature` = hex HMAC-SHA256 of the body with our app
//! secret. Answer: `{"code":"0","message":"ok","data":{"citizen_ref",
//! "score","evaluated_at_ms"}}` or `{"code":"AUTH_CODE_INVALID",...}`,
//! signed the same way over the answer's body.

use crate::credit::ProviderOutcome;
use crate::Error;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// Hex HMAC-SHA256 of `body` under `secret`: the signature both ways.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is `body`'s, compared in constant time.
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature.trim()) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// A signed request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsmanthusRequest {
    /// The JSON body.
    pub body: Vec<u8>,
    /// Its `X-Osmanthus-Signature`.
    pub signature: String,
}

/// The score request for the citizen behind `auth_code`.
pub fn score_request(
    app_id: &str,
    secret: &[u8],
    auth_code: &str,
    now_ms: i64,
    nonce: &str,
) -> OsmanthusRequest {
    let body = serde_json::json!({
        "app_id": app_id,
        "auth_code": auth_code,
        "timestamp_ms": now_ms,
        "nonce": nonce,
    })
    .to_string()
    .into_bytes();
    let signature = signature(secret, &body);
    OsmanthusRequest { body, signature }
}

/// A verified answer: who the citizen is, and their score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsmanthusAnswer {
    /// The city's stable, opaque reference for the citizen.
    pub citizen_ref: String,
    /// Always a [`ProviderOutcome::Score`].
    pub outcome: ProviderOutcome,
}

/// Why the service gave no score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsmanthusFailure {
    /// Unreachable, slow, or 5xx.
    Unavailable(String),
    /// Not the documented JSON.
    Malformed(String),
    /// Missing or wrong `X-Osmanthus-Signature` on the answer.
    BadSignature,
    /// The service refused: a bad or used `auth_code`, or our signature.
    Refused {
        /// The service's `code`.
        code: String,
        /// Its `message`.
        message: String,
    },
}

impl OsmanthusFailure {
    /// The domain error: failures are `CreditUnavailable` (never a grant);
    /// a refused code is the reader's to fetch again.
    pub fn into_error(self, provider: &'static str) -> Error {
        let unavailable = |reason: String| Error::provider_unavailable(provider, reason);
        match self {
            OsmanthusFailure::Unavailable(reason) => unavailable(reason),
            OsmanthusFailure::Malformed(reason) => {
                unavailable(format!("malformed answer: {reason}"))
            }
            OsmanthusFailure::BadSignature => unavailable("answer failed signature check".into()),
            OsmanthusFailure::Refused { code, .. } if code == "SIGNATURE_INVALID" => {
                Error::Config {
                    name: "osmanthus_secret",
                    reason: "the city refused our request signature".into(),
                }
            }
            OsmanthusFailure::Refused { code, .. } => Error::invalid(
                "auth_code",
                format!("{provider} refused it ({code}); authorise again in the city's app"),
            ),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    citizen_ref: String,
    score: i64,
}

/// Reads and verifies the service's answer. The signature is checked
/// before anything in the body is believed, refusals included.
pub fn read_score(
    status: u16,
    signature: Option<&str>,
    body: &[u8],
    secret: &[u8],
) -> Result<OsmanthusAnswer, OsmanthusFailure> {
    if status >= 500 {
        return Err(OsmanthusFailure::Unavailable(format!("answered {status}")));
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|_| {
        OsmanthusFailure::Malformed(format!("status {status}, not the service's JSON"))
    })?;
    if !signature.is_some_and(|s| verify(secret, body, s)) {
        return Err(OsmanthusFailure::BadSignature);
    }
    if answer.code != "0" {
        return Err(OsmanthusFailure::Refused {
            code: answer.code,
            message: answer.message,
        });
    }
    let data = answer
        .data
        .ok_or_else(|| OsmanthusFailure::Malformed("no data".into()))?;
    let citizen_ref = data.citizen_ref.trim().to_string();
    if citizen_ref.is_empty() || citizen_ref.len() > 128 {
        return Err(OsmanthusFailure::Malformed("no citizen_ref".into()));
    }
    Ok(OsmanthusAnswer {
        citizen_ref,
        outcome: ProviderOutcome::Score(data.score),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"city-secret";

    fn signed(body: &str) -> (String, Vec<u8>) {
        (signature(SECRET, body.as_bytes()), body.as_bytes().to_vec())
    }

    #[test]
    fn a_request_is_signed_over_its_body() {
        let request = score_request("wangjie", SECRET, "code-1", 1_800_000_000_000, "n1");
        assert!(verify(SECRET, &request.body, &request.signature));
        assert!(!verify(b"other", &request.body, &request.signature));
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["auth_code"], "code-1");
        assert_eq!(body["timestamp_ms"], 1_800_000_000_000i64);
    }

    #[test]
    fn a_signed_answer_gives_the_citizen_and_score() {
        let (sig, body) = signed(
            r#"{"code":"0","message":"ok","data":{"citizen_ref":"c-1","score":100,"evaluated_at_ms":1}}"#,
        );
        let answer = read_score(200, Some(&sig), &body, SECRET).unwrap();
        assert_eq!(answer.citizen_ref, "c-1");
        assert_eq!(answer.outcome, ProviderOutcome::Score(100));
    }

    #[test]
    fn failures_are_told_apart() {
        let (sig, body) = signed(r#"{"code":"0","data":{"citizen_ref":"c-1","score":100}}"#);
        assert_eq!(
            read_score(200, None, &body, SECRET),
            Err(OsmanthusFailure::BadSignature)
        );
        let other = signature(b"other", &body);
        assert_eq!(
            read_score(200, Some(&other), &body, SECRET),
            Err(OsmanthusFailure::BadSignature)
        );
        assert_eq!(
            read_score(200, Some("zz"), &body, SECRET),
            Err(OsmanthusFailure::BadSignature)
        );
        assert!(matches!(
            read_score(502, Some(&sig), &body, SECRET),
            Err(OsmanthusFailure::Unavailable(_))
        ));
        assert!(matches!(
            read_score(200, Some(&sig), b"<html>", SECRET),
            Err(OsmanthusFailure::Malformed(_))
        ));
        let (sig, body) = signed(r#"{"code":"AUTH_CODE_INVALID","message":"used"}"#);
        let refused = read_score(200, Some(&sig), &body, SECRET).unwrap_err();
        assert!(
            matches!(refused, OsmanthusFailure::Refused { ref code, .. } if code == "AUTH_CODE_INVALID")
        );
        assert!(matches!(
            refused.into_error("osmanthus"),
            Error::Invalid { .. }
        ));
        let (sig, body) = signed(r#"{"code":"0","data":{"citizen_ref":" ","score":1}}"#);
        assert!(matches!(
            read_score(200, Some(&sig), &body, SECRET),
            Err(OsmanthusFailure::Malformed(_))
        ));
        assert!(matches!(
            OsmanthusFailure::BadSignature.into_error("osmanthus"),
            Error::CreditUnavailable {
                provider: "osmanthus",
                ..
            }
        ));
    }

    /// The locker signature's fuzz finding, in the same hex reader: a
    /// signature whose `0a` is written `+a` is not a signature.
    #[test]
    fn a_signature_with_a_sign_character_is_refused() {
        let (sig, body) = signed(r#"{"code":"0","data":{"citizen_ref":"c-1","score":100}}"#);
        let at = (0..sig.len())
            .step_by(2)
            .find(|&i| sig.as_bytes()[i] == b'0')
            .expect("a byte below 0x10 in this signature");
        let plus = format!("{}+{}", &sig[..at], &sig[at + 1..]);
        assert!(verify(SECRET, &body, &sig));
        assert!(!verify(SECRET, &body, &plus));
    }
}
