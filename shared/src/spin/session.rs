//! Who is calling: the reader behind a session token, checked against the
//! key-value store's revocations. Every reader endpoint starts here; placing
//! an order checks the revocation in its own statement instead
//! ([`authenticate_signed`]).

use crate::request::Request;
use crate::session::{self, SessionClaims, SessionKey, Subject, Unrevoked, VAR_SESSION_KEY};
use crate::spin::{config, kv};
use crate::{Error, Result};

/// The variable holding how long a session lasts, in milliseconds.
pub const VAR_SESSION_TTL_MS: &str = "session_ttl_ms";

/// A week: a reader opens the mini-program a few times a week and should
/// not sign in each time; a lost phone's session is revoked by signing out
/// elsewhere or waits out at most this.
pub const DEFAULT_SESSION_TTL_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// The deployment's session key.
pub fn key() -> Result<SessionKey> {
    SessionKey::parse(VAR_SESSION_KEY, &config::required(VAR_SESSION_KEY)?)
}

/// The signed-in reader's claims, or `Unauthenticated` when the bearer
/// token is absent, does not verify, has expired, was revoked, or is a
/// staff token.
pub fn authenticate(request: &Request, now_ms: i64) -> Result<SessionClaims> {
    let claims = claims(request, now_ms)?;
    if claims.subject != Subject::Reader {
        return Err(Error::Unauthenticated);
    }
    Ok(claims)
}

/// The signed-in member of staff's id, refusing reader tokens.
pub fn authenticate_staff(request: &Request, now_ms: i64) -> Result<SessionClaims> {
    let claims = claims(request, now_ms)?;
    if claims.subject != Subject::Staff {
        return Err(Error::Unauthenticated);
    }
    Ok(claims)
}

/// Whoever the bearer token speaks for, reader or member of staff: for
/// signing out, which revokes whichever token was presented.
pub fn authenticate_any(request: &Request, now_ms: i64) -> Result<SessionClaims> {
    claims(request, now_ms)
}

/// A staff token for `staff_id`, with its expiry: a working shift.
pub fn issue_staff(staff_id: i64, now_ms: i64) -> Result<(String, i64)> {
    const SHIFT_MS: i64 = 12 * 60 * 60 * 1000;
    let token = session::issue_staff(staff_id, now_ms, SHIFT_MS, &key()?)?;
    Ok((token, now_ms + SHIFT_MS))
}

/// The signed-in reader by the token's signature and expiry alone, with
/// no read of the key-value store: for a handler whose one statement
/// checks the revocation itself (`POST /api/orders`; [`crate::revocations`]),
/// hence the claims come as [`Unrevoked`]. Staff tokens are refused.
pub fn authenticate_signed(request: &Request, now_ms: i64) -> Result<Unrevoked> {
    let claims = signed(request, now_ms)?;
    if claims.subject != Subject::Reader {
        return Err(Error::Unauthenticated);
    }
    Ok(Unrevoked::new(claims))
}

/// Whether the key-value store holds a revocation of the token `claims`
/// came from.
pub fn revoked_in_store(claims: &SessionClaims) -> Result<bool> {
    let store = kv::open_default()?;
    store
        .exists(&claims.revocation_key())
        .map_err(kv::unavailable)
}

fn signed(request: &Request, now_ms: i64) -> Result<SessionClaims> {
    let token = crate::auth::bearer_token(request).ok_or(Error::Unauthenticated)?;
    session::verify(token, now_ms, &key()?)
}

fn claims(request: &Request, now_ms: i64) -> Result<SessionClaims> {
    let claims = signed(request, now_ms)?;
    if revoked_in_store(&claims)? {
        return Err(Error::Unauthenticated);
    }
    Ok(claims)
}

/// A new token for `reader_id`, with its expiry.
pub fn issue(reader_id: i64, now_ms: i64) -> Result<(String, i64)> {
    let ttl = config::number(VAR_SESSION_TTL_MS, DEFAULT_SESSION_TTL_MS)? as i64;
    let token = session::issue(reader_id, now_ms, ttl, &key()?)?;
    Ok((token, now_ms.saturating_add(ttl)))
}

/// [`issue`] for a reader who signed in through `via` (`alipay`, `wechat`).
pub fn issue_via(reader_id: i64, via: &str, now_ms: i64) -> Result<(String, i64)> {
    let ttl = config::number(VAR_SESSION_TTL_MS, DEFAULT_SESSION_TTL_MS)? as i64;
    let token = session::issue_via(reader_id, via, now_ms, ttl, &key()?)?;
    Ok((token, now_ms.saturating_add(ttl)))
}

/// Revokes the token `claims` came from: its id goes into the store with
/// its expiry, after which the token is refused anyway and a cleanup may
/// drop the key; and into `session_revocations`, which placing an order
/// checks in its own statement. The store first, so every other route
/// refuses the token at once; should the database fail, the sign-out
/// fails and its retry writes both again (each write is idempotent).
pub fn revoke(claims: &SessionClaims) -> Result<()> {
    let store = kv::open_default()?;
    store
        .set(
            &claims.revocation_key(),
            claims.expires_at_ms.to_string().as_bytes(),
        )
        .map_err(kv::unavailable)?;
    crate::revocations::record(crate::spin::db::connect()?.as_ref(), claims)
}
