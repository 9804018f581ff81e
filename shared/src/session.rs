//! A *session* is a signed-in reader's right to call the API for a while,
//! carried as a *session token*: a bearer string the reader's mini-program
//! sends back on every request.
//!
//! A token is `v1.<claims>.<tag>`: the claims as JSON in unpadded base64url,
//! and an HMAC-SHA256 tag over `v1.<claims>` with the deployment's session
//! key. The claims name the reader, a random *token id* (so one token can be
//! revoked by writing its id to the key-value store, see
//! [`SessionClaims::revocation_key`]), when it was issued and when it
//! expires. Nothing secret is in the claims: they are signed, not hidden.
//!
//! Every failure to verify (malformed, tampered, signed with another key,
//! expired) is [`Error::Unauthenticated`]: a token that does not verify is
//! no credential at all, and the caller learns nothing about why.

use crate::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The variable holding the session key.
pub const VAR_SESSION_KEY: &str = "session_key";

/// The shortest session key accepted: 32 bytes, the size of the HMAC-SHA256
/// output, below which the key is the weak point.
pub const MIN_KEY_BYTES: usize = 32;

/// Tokens longer than this are refused before any decoding; real ones are
/// about 200 characters.
const MAX_TOKEN_CHARS: usize = 1024;

/// How far in the future an issue time may lie: clocks of two instances
/// differ a little, never by minutes.
const MAX_CLOCK_SKEW_MS: i64 = 60_000;

/// The version prefix, so that the format can change without old tokens
/// being misread.
const VERSION: &str = "v1";

type HmacSha256 = Hmac<Sha256>;

/// The secret that signs session tokens; every instance holds the same one.
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

// Written by hand so that the key never reaches a log through `{:?}`.
impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// Reads the key held in the variable `name`; its bytes are used as
    /// they are, so any long random string will do.
    pub fn parse(name: &'static str, text: &str) -> Result<Self> {
        if text.len() < MIN_KEY_BYTES {
            return Err(Error::Config {
                name,
                reason: format!("shorter than {MIN_KEY_BYTES} bytes"),
            });
        }
        Ok(SessionKey(text.as_bytes().to_vec()))
    }

    fn mac(&self) -> Result<HmacSha256> {
        // HMAC takes keys of any length; the error cannot happen.
        HmacSha256::new_from_slice(&self.0).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))
    }
}

/// Who a token speaks for. Reader tokens predate the field, so it is left
/// out for readers and read as `Reader` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A reader; the id is `readers.id`.
    #[default]
    Reader,
    /// A member of staff; the id is `staff.id`.
    Staff,
}

impl Subject {
    fn is_reader(&self) -> bool {
        *self == Subject::Reader
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The signed-in reader (`readers.id`), or the member of staff
    /// (`staff.id`) when [`SessionClaims::subject`] says so.
    #[serde(rename = "rid")]
    pub reader_id: i64,
    /// Whose id `reader_id` is.
    #[serde(rename = "sub", default, skip_serializing_if = "Subject::is_reader")]
    pub subject: Subject,
    /// How a reader signed in (`alipay`, `wechat`), so that what they do
    /// can be counted per channel; absent on older tokens and staff's.
    #[serde(rename = "via", default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// This token's random identifier, 32 hex digits.
    #[serde(rename = "jti")]
    pub token_id: String,
    /// When the token was issued, epoch milliseconds.
    #[serde(rename = "iat")]
    pub issued_at_ms: i64,
    /// The first instant the token is no longer accepted.
    #[serde(rename = "exp")]
    pub expires_at_ms: i64,
}

impl SessionClaims {
    /// The key-value key that, when present, revokes this token; it should
    /// live until [`SessionClaims::expires_at_ms`], after which the token
    /// is refused anyway.
    pub fn revocation_key(&self) -> String {
        format!("session:revoked:{}", self.token_id)
    }
}

/// Claims whose signature and expiry are verified but whose revocation is
/// not yet checked: what a handler holds when the statement that acts on
/// them checks `session_revocations` itself, in the same round trip
/// (placing an order, docs/orders.md). A separate type, so that it is
/// never taken for a checked [`SessionClaims`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrevoked(SessionClaims);

impl Unrevoked {
    /// Wraps claims that [`verify`] accepted.
    pub fn new(claims: SessionClaims) -> Self {
        Unrevoked(claims)
    }

    /// The claims, for the statement that checks their revocation.
    pub fn pending(&self) -> &SessionClaims {
        &self.0
    }
}

/// Issues a token for `reader_id`, valid for `ttl_ms` from `now_ms`, with a
/// fresh random token id.
pub fn issue(reader_id: i64, now_ms: i64, ttl_ms: i64, key: &SessionKey) -> Result<String> {
    issue_with_id(reader_id, crate::random::hex_id(16)?, now_ms, ttl_ms, key)
}

/// [`issue`] for a reader who signed in through `via` (`alipay`, `wechat`).
pub fn issue_via(
    reader_id: i64,
    via: &str,
    now_ms: i64,
    ttl_ms: i64,
    key: &SessionKey,
) -> Result<String> {
    let claims = claims(
        reader_id,
        Subject::Reader,
        crate::random::hex_id(16)?,
        now_ms,
        ttl_ms,
    )?;
    sign_claims(
        &SessionClaims {
            via: Some(via.to_string()),
            ..claims
        },
        key,
    )
}

/// [`issue`] with the token id given, for callers (and tests) that have one.
pub fn issue_with_id(
    reader_id: i64,
    token_id: String,
    now_ms: i64,
    ttl_ms: i64,
    key: &SessionKey,
) -> Result<String> {
    sign_claims(
        &claims(reader_id, Subject::Reader, token_id, now_ms, ttl_ms)?,
        key,
    )
}

/// Issues a token for member of staff `staff_id`: the same format and key
/// as a reader's, told apart by its subject, so one revocation list serves
/// both.
pub fn issue_staff(staff_id: i64, now_ms: i64, ttl_ms: i64, key: &SessionKey) -> Result<String> {
    let token_id = crate::random::hex_id(16)?;
    sign_claims(
        &claims(staff_id, Subject::Staff, token_id, now_ms, ttl_ms)?,
        key,
    )
}

/// The claims of a new token, without a sign-in channel; `ttl_ms` must be
/// positive.
fn claims(
    id: i64,
    subject: Subject,
    token_id: String,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<SessionClaims> {
    if ttl_ms <= 0 {
        return Err(Error::invalid("ttl_ms", "must be positive"));
    }
    Ok(SessionClaims {
        reader_id: id,
        subject,
        via: None,
        token_id,
        issued_at_ms: now_ms,
        expires_at_ms: now_ms.saturating_add(ttl_ms),
    })
}

fn sign_claims(claims: &SessionClaims, key: &SessionKey) -> Result<String> {
    let json = serde_json::to_vec(claims).map_err(anyhow::Error::from)?;
    let signed = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
    let mut mac = key.mac()?;
    mac.update(signed.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(format!("{signed}.{tag}"))
}

/// Verifies `token` at `now_ms`: the tag in constant time first, then the
/// claims, then the expiry. Revocation is the caller's to check, with
/// [`SessionClaims::revocation_key`].
pub fn verify(token: &str, now_ms: i64, key: &SessionKey) -> Result<SessionClaims> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(Error::Unauthenticated);
    }
    let (signed, tag) = token.rsplit_once('.').ok_or(Error::Unauthenticated)?;
    let (version, payload) = signed.split_once('.').ok_or(Error::Unauthenticated)?;
    if version != VERSION {
        return Err(Error::Unauthenticated);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Error::Unauthenticated)?;
    let mut mac = key.mac()?;
    mac.update(signed.as_bytes());
    mac.verify_slice(&tag).map_err(|_| Error::Unauthenticated)?;
    // Past this point the claims are ours: a failure to read them is a bug
    // or a key shared with something else, and either way no credential.
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Error::Unauthenticated)?;
    let claims: SessionClaims =
        serde_json::from_slice(&json).map_err(|_| Error::Unauthenticated)?;
    let issued_in_future = claims.issued_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS);
    if now_ms >= claims.expires_at_ms || issued_in_future {
        return Err(Error::Unauthenticated);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staff_token_says_so_and_a_reader_token_stays_as_it_was() {
        let key = SessionKey::parse(VAR_SESSION_KEY, &"k".repeat(32)).unwrap();
        let staff = verify(&issue_staff(7, NOW, HOUR, &key).unwrap(), NOW, &key).unwrap();
        assert_eq!((staff.subject, staff.reader_id), (Subject::Staff, 7));
        let reader_token = issue(7, NOW, HOUR, &key).unwrap();
        let reader = verify(&reader_token, NOW, &key).unwrap();
        assert_eq!(reader.subject, Subject::Reader);
        let claims = reader_token.split('.').nth(1).unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert!(!json.contains("sub"), "{json}");
        let via = issue_via(7, "wechat", NOW, HOUR, &key).unwrap();
        assert_eq!(
            verify(&via, NOW, &key).unwrap().via.as_deref(),
            Some("wechat")
        );
    }

    const NOW: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    fn key(text: &str) -> SessionKey {
        SessionKey::parse(VAR_SESSION_KEY, &text.repeat(32)).unwrap()
    }

    fn is_unauthenticated(result: Result<SessionClaims>) -> bool {
        matches!(result, Err(Error::Unauthenticated))
    }

    #[test]
    fn an_issued_token_verifies_to_its_reader() {
        let token = issue(42, NOW, HOUR, &key("k")).unwrap();
        let claims = verify(&token, NOW + 1, &key("k")).unwrap();
        assert_eq!(claims.reader_id, 42);
        assert_eq!(
            (claims.issued_at_ms, claims.expires_at_ms),
            (NOW, NOW + HOUR)
        );
        assert_eq!(claims.token_id.len(), 32);
        assert_eq!(
            claims.revocation_key(),
            format!("session:revoked:{}", claims.token_id)
        );
    }

    #[test]
    fn two_tokens_for_one_reader_have_different_ids() {
        let a = verify(&issue(42, NOW, HOUR, &key("k")).unwrap(), NOW, &key("k")).unwrap();
        let b = verify(&issue(42, NOW, HOUR, &key("k")).unwrap(), NOW, &key("k")).unwrap();
        assert_ne!(a.token_id, b.token_id);
    }

    #[test]
    fn a_token_is_refused_from_its_expiry_on() {
        let token = issue(42, NOW, HOUR, &key("k")).unwrap();
        assert!(verify(&token, NOW + HOUR - 1, &key("k")).is_ok());
        assert!(is_unauthenticated(verify(&token, NOW + HOUR, &key("k"))));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let token = issue(42, NOW, HOUR, &key("k")).unwrap();
        assert!(is_unauthenticated(verify(&token, NOW, &key("j"))));
    }

    #[test]
    fn a_token_whose_claims_were_changed_is_refused() {
        let token = issue_with_id(42, "t1".into(), NOW, HOUR, &key("k")).unwrap();
        let forged_claims = SessionClaims {
            reader_id: 43,
            subject: Subject::Reader,
            via: None,
            token_id: "t1".into(),
            issued_at_ms: NOW,
            expires_at_ms: NOW + HOUR,
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        let tag = token.rsplit_once('.').unwrap().1;
        let forged = format!("v1.{forged_payload}.{tag}");
        assert!(is_unauthenticated(verify(&forged, NOW, &key("k"))));
    }

    #[test]
    fn a_garbled_token_is_refused() {
        let token = issue(42, NOW, HOUR, &key("k")).unwrap();
        let mut flipped = token.clone().into_bytes();
        // A character inside the tag: the last one also holds padding bits.
        let inside = flipped.len() - 10;
        flipped[inside] = if flipped[inside] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let v2 = token.replacen("v1.", "v2.", 1);
        let long = "a".repeat(MAX_TOKEN_CHARS + 1);
        for bad in ["", "v1", "v1.x", "v1..", &flipped, &v2, &long] {
            assert!(is_unauthenticated(verify(bad, NOW, &key("k"))), "{bad:?}");
        }
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let token = issue(42, NOW + 10 * 60_000, HOUR, &key("k")).unwrap();
        assert!(is_unauthenticated(verify(&token, NOW, &key("k"))));
    }

    #[test]
    fn a_short_key_or_lifetime_is_refused() {
        assert!(matches!(
            SessionKey::parse(VAR_SESSION_KEY, "short"),
            Err(Error::Config {
                name: VAR_SESSION_KEY,
                ..
            })
        ));
        assert!(issue(42, NOW, 0, &key("k")).is_err());
        assert_eq!(format!("{:?}", key("k")), "SessionKey(..)");
    }
}
