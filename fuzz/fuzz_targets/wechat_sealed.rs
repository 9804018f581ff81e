//! WeChat server messages in safe mode (`/webhooks/wechat?encrypt_type=aes`):
//! `msg_signature`, `timestamp` and `nonce` from the query, then the
//! `<xml><Encrypt>..</Encrypt></xml>` body. The keys are WeChat's own
//! published sample (token, EncodingAESKey, app id).
//!
//! Input: those three lines, then the body.
//!
//! Properties: opening a body never panics, nor does reading what it opens
//! to; decryption agrees with an independent reading of the format (the
//! body's bytes are taken as plaintext, encrypted and signed here, so the
//! padding, length and app id checks see any bytes the fuzzer likes); and
//! a message sealed with `seal` opens to itself.
#![no_main]

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use wangjie_fuzz::{lines, text};
use wangjie_shared::wechat::crypto::{sha1_signature, SafeMode};
use wangjie_shared::wechat::server::Inbound;
use wangjie_shared::Error;

const TOKEN: &str = "QDG6eK";
const APP_ID: &str = "wx5823bf96d3bd56c7";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fn key_bytes() -> [u8; 32] {
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    lenient
        .decode(format!("{KEY}="))
        .unwrap()
        .try_into()
        .unwrap()
}

/// What WeChat's format says `plain` (decrypted, still padded) holds: the
/// message, if the padding, the length and the app id are right.
fn expected(plain: &[u8]) -> Option<String> {
    let n = *plain.last()? as usize;
    if n == 0 || n > 32 || n > plain.len() {
        return None;
    }
    let (body, padding) = plain.split_at(plain.len() - n);
    if padding.iter().any(|&b| b as usize != n) || body.len() < 20 {
        return None;
    }
    let length = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
    let rest = &body[20..];
    if length > rest.len() || &rest[length..] != APP_ID.as_bytes() {
        return None;
    }
    String::from_utf8(rest[..length].to_vec()).ok()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap() + open.len();
    let end = start + text[start..].find(close).unwrap();
    &text[start..end]
}

fuzz_target!(|data: &[u8]| {
    let (fields, body) = lines(data, 3);
    let [msg_signature, timestamp, nonce] = &fields[..] else {
        unreachable!()
    };
    let keys = SafeMode::new(TOKEN, KEY, APP_ID).unwrap();

    if let Some(xml) = text(body) {
        if let Ok(opened) = keys.open(msg_signature, timestamp, nonce, xml) {
            let _ = Inbound::parse(&opened);
        }
    }

    // The body's bytes as plaintext, whole 32-byte blocks of it.
    let whole = body.len() / 32 * 32;
    if whole > 0 {
        let key = key_bytes();
        let mut plain = body[..whole].to_vec();
        let cipher = cbc::Encryptor::<aes::Aes256>::new((&key).into(), key[..16].into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, whole)
            .unwrap();
        let encrypt = STANDARD.encode(cipher);
        let signature = sha1_signature(&[TOKEN, timestamp, nonce, &encrypt]);
        let result = keys.decrypt(&signature, timestamp, nonce, &encrypt);
        match (result, expected(&body[..whole])) {
            (Ok(message), Some(expected)) => assert_eq!(message, expected),
            (Err(Error::BadSignature { .. }), None) => {}
            (result, expected) => panic!("decrypt gave {result:?}, the format says {expected:?}"),
        }
    }

    // Seal and open again.
    if let Some(message) = text(body) {
        if let Ok(envelope) = keys.seal(message, timestamp, nonce) {
            let signature = between(&envelope, "<MsgSignature><![CDATA[", "]]>");
            let opened = keys
                .open(signature, timestamp, nonce, &envelope)
                .expect("a sealed message opens");
            assert_eq!(opened, message);
        }
    }
});
