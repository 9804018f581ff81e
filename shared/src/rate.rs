//! Abuse limits. A *rate limit* caps how many times one *subject* (a
//! reader, a staff number, a client address) may do one costly thing (its
//! *scope*: a sign-in, which costs a provider call or an argon2 hash; a
//! credit check, which costs a provider call) in a fixed window of time.
//!
//! Each attempt adds one to the counter `rate/{scope}/{subject}/{window}`
//! in the key-value store with the atomic increment the lockers' replay
//! guard uses ([`crate::kv::CountingKv`]), so replicas racing on the same
//! subject count every attempt once. The window is the number of whole
//! windows since the Unix epoch, so a key is never written again once its
//! window is over; Spin's store has no expiry, so the first attempt of a
//! window deletes the subject's previous window's key, leaving at most one
//! stale key per subject and scope.

use crate::kv::CountingKv;
use crate::{Error, Result};

/// One limit: at most `max` attempts per subject per `window_ms`.
/// A `max` of 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is limited, a key segment (`sign-in-ip`, `credit-reader`).
    pub scope: &'static str,
    /// Attempts allowed in one window.
    pub max: u64,
    /// The window's length in milliseconds.
    pub window_ms: i64,
}

/// A minute, in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// An hour, in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// The fixed window `now_ms` falls in: its number since the epoch, and the
/// whole seconds until it ends (at least 1, for `Retry-After`).
pub fn window(now_ms: i64, window_ms: i64) -> (i64, u64) {
    let window_ms = window_ms.max(1);
    let index = now_ms.div_euclid(window_ms);
    let ends_at_ms = (index + 1) * window_ms;
    let left_ms = (ends_at_ms - now_ms).max(0) as u64;
    (index, left_ms.div_ceil(1000).max(1))
}

/// The counter's key for `subject` in window `index`. A subject that is
/// not short and plain (a staff number as typed, say) is replaced by a
/// digest of it, so no input can reach into another key.
pub fn key(scope: &str, subject: &str, index: i64) -> String {
    format!("rate/{scope}/{}/{index}", plain(subject))
}

fn plain(subject: &str) -> String {
    let clean = !subject.is_empty()
        && subject.len() <= 64
        && subject
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if clean {
        subject.to_string()
    } else {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(subject.as_bytes());
        format!("h-{}", hex::encode(&digest[..16]))
    }
}

/// Counts one attempt of `subject` under `limit` at `now_ms`:
/// [`Error::TooManyRequests`], with the seconds to the window's end, once
/// the window's attempts pass `limit.max`.
pub fn admit(kv: &impl CountingKv, limit: &Limit, subject: &str, now_ms: i64) -> Result<()> {
    if limit.max == 0 {
        return Ok(());
    }
    let (index, retry_after_s) = window(now_ms, limit.window_ms);
    let count = kv.increment(&key(limit.scope, subject, index), 1)?;
    if count == 1 {
        // The previous window is over for good: its key would never be read.
        kv.delete(&key(limit.scope, subject, index - 1))?;
    }
    if count > limit.max as i64 {
        return Err(Error::TooManyRequests { retry_after_s });
    }
    Ok(())
}

/// The client's IP address from Spin's `spin-client-addr` header
/// (`ip:port`, or `[ip]:port` for IPv6): the address alone, so that every
/// connection from one address counts together.
pub fn client_ip(client_addr: &str) -> Option<&str> {
    let addr = client_addr.trim();
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().filter(|ip| !ip.is_empty());
    }
    match addr.rsplit_once(':') {
        // One colon: IPv4 with its port.
        Some((ip, _port)) if !ip.contains(':') => Some(ip).filter(|ip| !ip.is_empty()),
        // Several: a bare IPv6 address.
        Some(_) => Some(addr),
        None => Some(addr).filter(|ip| !ip.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{Kv, MemoryKv};

    const SIGN_IN: Limit = Limit {
        scope: "sign-in-ip",
        max: 3,
        window_ms: MINUTE_MS,
    };

    #[test]
    fn a_window_is_numbered_from_the_epoch_and_ends_on_its_boundary() {
        assert_eq!(window(0, MINUTE_MS), (0, 60));
        assert_eq!(window(59_001, MINUTE_MS), (0, 1));
        assert_eq!(window(60_000, MINUTE_MS), (1, 60));
        assert_eq!(window(61_500, MINUTE_MS), (1, 59));
        assert_eq!(window(3 * HOUR_MS - 1, HOUR_MS), (2, 1));
    }

    #[test]
    fn the_attempt_after_the_limit_is_refused_until_the_window_ends() {
        let kv = MemoryKv::default();
        let now = 10 * MINUTE_MS + 15_000;
        for _ in 0..3 {
            admit(&kv, &SIGN_IN, "10.0.0.1", now).unwrap();
        }
        match admit(&kv, &SIGN_IN, "10.0.0.1", now + 200) {
            Err(Error::TooManyRequests { retry_after_s }) => assert_eq!(retry_after_s, 45),
            other => panic!("{other:?}"),
        }
        admit(&kv, &SIGN_IN, "10.0.0.1", 11 * MINUTE_MS).unwrap();
    }

    #[test]
    fn subjects_and_scopes_are_counted_apart() {
        let kv = MemoryKv::default();
        for _ in 0..3 {
            admit(&kv, &SIGN_IN, "10.0.0.1", 0).unwrap();
        }
        admit(&kv, &SIGN_IN, "10.0.0.2", 0).unwrap();
        let other = Limit {
            scope: "credit-ip",
            ..SIGN_IN
        };
        admit(&kv, &other, "10.0.0.1", 0).unwrap();
    }

    #[test]
    fn a_limit_of_zero_is_no_limit() {
        let kv = MemoryKv::default();
        let off = Limit { max: 0, ..SIGN_IN };
        for _ in 0..100 {
            admit(&kv, &off, "10.0.0.1", 0).unwrap();
        }
        assert_eq!(kv.get("rate/sign-in-ip/10.0.0.1/0").unwrap(), None);
    }

    #[test]
    fn the_first_attempt_of_a_window_removes_the_last_windows_key() {
        let kv = MemoryKv::default();
        admit(&kv, &SIGN_IN, "10.0.0.1", 0).unwrap();
        assert!(kv.get("rate/sign-in-ip/10.0.0.1/0").unwrap().is_some());
        admit(&kv, &SIGN_IN, "10.0.0.1", MINUTE_MS).unwrap();
        assert_eq!(kv.get("rate/sign-in-ip/10.0.0.1/0").unwrap(), None);
        assert!(kv.get("rate/sign-in-ip/10.0.0.1/1").unwrap().is_some());
    }

    #[test]
    fn a_subject_that_is_not_plain_is_hashed_into_its_key() {
        assert_eq!(
            key("sign-in-staff", "S0002", 7),
            "rate/sign-in-staff/S0002/7"
        );
        let odd = key("sign-in-staff", "S0002/../x", 7);
        assert!(odd.starts_with("rate/sign-in-staff/h-"), "{odd}");
        assert_eq!(odd.matches('/').count(), 3);
        assert_ne!(key("s", "ab/", 1), key("s", "ab?", 1));
    }

    #[test]
    fn the_client_ip_is_the_address_without_its_port() {
        assert_eq!(client_ip("127.0.0.1:5"), Some("127.0.0.1"));
        assert_eq!(client_ip("[::1]:8080"), Some("::1"));
        assert_eq!(client_ip("2001:db8::1"), Some("2001:db8::1"));
        assert_eq!(client_ip("10.1.2.3"), Some("10.1.2.3"));
        assert_eq!(client_ip(""), None);
    }
}
