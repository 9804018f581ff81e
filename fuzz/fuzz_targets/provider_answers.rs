//! What the credit and sign-in providers answer us: Alipay's gateway
//! (`alipay.system.oauth.token`, Sesame), WeChat's code exchanges, the
//! Osmanthus score service. Outside bytes too, though from a party we
//! called.
//!
//! Input: a status line, an `X-Osmanthus-Signature` line, then the body.
//!
//! Properties: nothing panics; a user or score read is plausible (ids 1
//! to 128 characters); and round trips: an Alipay response member that
//! is JSON, signed by "Alipay" in a gateway answer, is never refused as
//! badly signed or malformed; an Osmanthus body signed with our secret
//! passes the signature check, and a signature that passes is the hex of
//! the HMAC, in one spelling.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_fuzz::{alipay_keys, lines};
use wangjie_shared::alipay::gateway::{read_answer, read_oauth_token, read_sesame, GatewayFailure};
use wangjie_shared::alipay::sign::sign_content;
use wangjie_shared::osmanthus::{read_score, signature, verify, OsmanthusFailure};
use wangjie_shared::wechat::login::{read_code2session, read_oauth2_access_token};

const METHOD: &str = "alipay.system.oauth.token";
const OSMANTHUS_SECRET: &[u8] = b"osmanthus-fuzz-secret";

fuzz_target!(|data: &[u8]| {
    let (fields, body) = lines(data, 2);
    let status = fields[0].trim().parse::<u16>().unwrap_or(200);
    let (app_key, alipay_key) = alipay_keys();

    for user in [
        read_code2session(status, body),
        read_oauth2_access_token(status, body),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!user.openid.trim().is_empty() && user.openid.len() <= 128);
    }

    if let Ok(member) = read_answer(METHOD, status, body, alipay_key) {
        if let Ok(user) = read_oauth_token(&member) {
            assert!(!user.user_id.is_empty() && user.user_id.len() <= 128);
        }
        let _ = read_sesame(&member);
    }

    let _ = read_score(status, Some(&fields[1]), body, OSMANTHUS_SECRET);
    if verify(OSMANTHUS_SECRET, body, &fields[1]) {
        // One spelling per signature (hex, either case).
        let expected = signature(OSMANTHUS_SECRET, body);
        assert!(fields[1].trim().eq_ignore_ascii_case(&expected));
    }
    let signed = read_score(
        status,
        Some(&signature(OSMANTHUS_SECRET, body)),
        body,
        OSMANTHUS_SECRET,
    );
    assert!(!matches!(signed, Err(OsmanthusFailure::BadSignature)));

    // The body as a response member, in a gateway answer Alipay signed.
    let Ok(member) = std::str::from_utf8(body) else {
        return;
    };
    let member = member.trim();
    if serde_json::from_str::<serde_json::Value>(member).is_err() {
        return;
    }
    let sign = sign_content(member, app_key).unwrap();
    let answer = format!(r#"{{"alipay_system_oauth_token_response":{member},"sign":"{sign}"}}"#);
    match read_answer(METHOD, 200, answer.as_bytes(), alipay_key) {
        Err(GatewayFailure::BadSignature) => panic!("a signed answer {answer:?} is refused"),
        Err(GatewayFailure::Malformed(why)) => panic!("{answer:?} is malformed: {why}"),
        _ => {}
    }
});
