//! The locker protocol's signing headers (`X-Locker-*`) and signature.
//!
//! Input: lines `X-Locker-Id`, `X-Locker-Timestamp`, `X-Locker-Nonce`,
//! `X-Locker-Signature`, `X-Locker-Protocol`, method, path; the rest is
//! the body. The secret is the one of docs/locker-protocol.md's example.
//!
//! Properties: reading and verifying never panic; headers that verify
//! carry the signature `sign` computes; and the round trip: what
//! `signed_headers` makes of the same id, time, nonce, method, path and
//! body parses whenever the id, nonce and time are well formed (once
//! trimmed, as HTTP delivers header values), verifies
//! at its own time, and fails as a bad signature once the body changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_fuzz::lines;
use wangjie_shared::locker::signing::{sign, signed_headers};
use wangjie_shared::locker::{LockerHeaders, LockerSecret, DEFAULT_WINDOW_MS};
use wangjie_shared::Error;

const SECRET: &[u8] = b"locker-0001-secret-0123456789abcdef";

fn is_token(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A case-insensitive look-up in `list`, as HTTP header names are.
fn header<'a>(list: &[(&'static str, &'a String)], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fuzz_target!(|data: &[u8]| {
    let (fields, body) = lines(data, 7);
    let [id, timestamp, nonce, signature, protocol, method, path] = &fields[..] else {
        unreachable!()
    };
    let secret = LockerSecret::new(SECRET).unwrap();
    let given = [
        ("X-Locker-Id", id),
        ("X-Locker-Timestamp", timestamp),
        ("X-Locker-Nonce", nonce),
        ("X-Locker-Signature", signature),
        ("X-Locker-Protocol", protocol),
    ];
    if let Ok(headers) = LockerHeaders::parse(|name| header(&given, name)) {
        let now = headers.timestamp_ms;
        if headers
            .verify(&secret, method, path, body, now, DEFAULT_WINDOW_MS)
            .is_ok()
        {
            let expected = sign(&secret, method, path, now, &headers.nonce, body);
            assert!(expected.eq_ignore_ascii_case(signature.trim()));
        }
    }

    // The round trip, with the timestamp read as a number when it is one.
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return;
    };
    let made = signed_headers(id, &secret, method, path, ts, nonce, body);
    let made: Vec<(&'static str, &String)> = made.iter().map(|(n, v)| (*n, v)).collect();
    let parsed = LockerHeaders::parse(|name| header(&made, name));
    // Header values are read trimmed, as HTTP delivers them.
    let well_formed = is_token(id.trim(), 1, 64) && is_token(nonce.trim(), 16, 64) && ts > 0;
    assert_eq!(parsed.is_ok(), well_formed, "{parsed:?}");
    if let (Ok(headers), true) = (parsed, nonce.trim() == nonce) {
        let verified = headers
            .verify(&secret, method, path, body, ts, DEFAULT_WINDOW_MS)
            .unwrap();
        assert_eq!(verified.locker_id, id.trim());
        assert_eq!(verified.nonce, *nonce);
        let mut changed = body.to_vec();
        changed.push(b'x');
        assert!(matches!(
            headers.verify(&secret, method, path, &changed, ts, DEFAULT_WINDOW_MS),
            Err(Error::BadSignature { .. })
        ));
    }
});
