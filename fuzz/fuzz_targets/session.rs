//! Session tokens (`Authorization: Bearer v1.<claims>.<tag>`).
//!
//! Input: one line, the `Authorization` header's value; the rest is taken
//! as claims JSON, which this target signs with the key itself, so the
//! claims reader runs on any bytes and not only behind a good tag.
//!
//! Properties: nothing panics; a token that verifies is unexpired and not
//! issued in the future; a verified reader token's claims, issued again
//! with `issue_with_id`, give a token that verifies to the same claims.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use wangjie_fuzz::lines;
use wangjie_shared::auth::bearer_token;
use wangjie_shared::request::Request;
use wangjie_shared::session::{issue_with_id, verify, SessionClaims, SessionKey, Subject};

const KEY: &str = "fuzz-session-key-0123456789abcdef";
const NOW: i64 = 1_764_331_200_000;

/// `v1.<claims>.<tag>` over any claims bytes, as the format defines it.
fn forged(claims: &[u8]) -> String {
    let signed = format!("v1.{}", URL_SAFE_NO_PAD.encode(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn check(claims: &SessionClaims) {
    assert!(NOW < claims.expires_at_ms);
    assert!(claims.issued_at_ms <= NOW + 60_000);
}

fuzz_target!(|data: &[u8]| {
    let key = SessionKey::parse("session_key", KEY).unwrap();
    let (fields, claims) = lines(data, 1);
    let request = Request::new(
        http::Method::GET,
        "/api/me",
        vec![("Authorization".into(), fields[0].clone())],
        vec![],
    );
    if let Some(token) = bearer_token(&request) {
        assert!(!token.is_empty() && token.trim() == token);
        if let Ok(verified) = verify(token, NOW, &key) {
            check(&verified);
        }
    }

    let Ok(verified) = verify(&forged(claims), NOW, &key) else {
        return;
    };
    check(&verified);
    if verified.subject == Subject::Reader && verified.via.is_none() {
        let Some(ttl) = verified.expires_at_ms.checked_sub(verified.issued_at_ms) else {
            return;
        };
        let token = issue_with_id(
            verified.reader_id,
            verified.token_id.clone(),
            verified.issued_at_ms,
            ttl,
            &key,
        );
        // Tokens past 1,024 characters are refused unread; ours are ~200.
        if let Some(token) = token.ok().filter(|t| t.len() <= 1024) {
            assert_eq!(verify(&token, NOW, &key).unwrap(), verified);
        }
    }
});
