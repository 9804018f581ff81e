//! WeChat's signatures over server messages and its *safe mode* (安全模式,
//! documented as 消息加解密): how we know a push came from WeChat and how
//! its body is sealed.
//!
//! The *handshake* (and every plain-mode POST) carries `signature`, the hex
//! SHA1 of `token`, `timestamp` and `nonce` sorted and concatenated. In safe
//! mode the body is `<xml><Encrypt>..</Encrypt></xml>` and the query adds
//! `msg_signature`, the same SHA1 over the four strings `token`,
//! `timestamp`, `nonce` and the ciphertext. The ciphertext is base64 of
//! AES-256-CBC (key = the 43-character `EncodingAESKey` decoded as base64,
//! IV = the key's first 16 bytes) over `16 random bytes || u32 big-endian
//! length || message || app id`, padded PKCS#7-style to a multiple of
//! **32** bytes (WeChat's choice, not AES's 16), so the cipher runs with
//! `NoPadding` and the padding is ours.
//!
//! Every failure to authenticate or open a message (bad signature, bad
//! padding, bad length, another app's id) is [`Error::BadSignature`] with
//! `what = "wechat message"`: the body did not come sealed with our keys,
//! and the caller learns nothing finer. A body that is not XML at all is
//! [`Error::Invalid`].

use super::server::parse_document;
use crate::{Error, Result};
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// The variables holding the server-message settings of the official
/// account, as configured on WeChat's platform.
pub const VAR_TOKEN: &str = "wechat_token";
/// See [`VAR_TOKEN`].
pub const VAR_ENCODING_AES_KEY: &str = "wechat_encoding_aes_key";

/// The `what` of every [`Error::BadSignature`] this module returns.
const WHAT: &str = "wechat message";

/// WeChat pads to this many bytes, twice the AES block.
const PAD_BLOCK: usize = 32;

/// 16 random bytes and the 4-byte length precede the message.
const HEADER: usize = 20;

/// Standard base64 that ignores the bits past the last whole byte, as the
/// decoders of WeChat's SDKs do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

fn bad() -> Error {
    Error::BadSignature { what: WHAT }
}

/// Hex SHA1 of `parts` sorted byte-wise and concatenated: the signature
/// scheme of every WeChat server message.
pub fn sha1_signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let digest = Sha1::digest(sorted.concat().as_bytes());
    hex::encode(digest)
}

/// Compares hex signatures in constant time; WeChat sends lower case.
fn signature_matches(expected: &str, given: &str) -> bool {
    bool::from(
        expected
            .as_bytes()
            .ct_eq(given.to_ascii_lowercase().as_bytes()),
    )
}

/// Checks the `GET` handshake (and the `signature` of a plain-mode POST)
/// and returns `echostr`, the body the answer must carry verbatim.
pub fn verify_handshake<'a>(
    token: &str,
    signature: &str,
    timestamp: &str,
    nonce: &str,
    echostr: &'a str,
) -> Result<&'a str> {
    if signature_matches(&sha1_signature(&[token, timestamp, nonce]), signature) {
        Ok(echostr)
    } else {
        Err(bad())
    }
}

/// The keys of safe mode for one official account.
#[derive(Clone)]
pub struct SafeMode {
    token: String,
    key: [u8; 32],
    app_id: String,
}

// Written by hand so that the key never reaches a log through `{:?}`.
impl std::fmt::Debug for SafeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SafeMode {{ app_id: {:?}, .. }}", self.app_id)
    }
}

impl SafeMode {
    /// Reads the token, the 43-character `EncodingAESKey` and our app id.
    pub fn new(token: &str, encoding_aes_key: &str, app_id: &str) -> Result<Self> {
        let config = |name, reason: &str| Error::Config {
            name,
            reason: reason.into(),
        };
        if token.is_empty() {
            return Err(config(VAR_TOKEN, "empty"));
        }
        if encoding_aes_key.len() != 43 {
            return Err(config(VAR_ENCODING_AES_KEY, "not 43 characters"));
        }
        // 43 base64 characters carry 258 bits: the '=' makes it 44, whole,
        // and the 2 bits past the key are not zero in WeChat's keys.
        let bytes = LENIENT
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| config(VAR_ENCODING_AES_KEY, "not base64"))?;
        let key = <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| config(VAR_ENCODING_AES_KEY, "not 32 bytes once decoded"))?;
        Ok(SafeMode {
            token: token.to_string(),
            key,
            app_id: app_id.to_string(),
        })
    }

    /// Opens a safe-mode POST: checks `msg_signature` over the body's
    /// `Encrypt` element in constant time, decrypts it and returns the
    /// plain message XML, refusing one sealed for another app.
    pub fn open(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &str,
    ) -> Result<String> {
        let document = parse_document(body)?;
        let encrypt = document
            .child_text("Encrypt")
            .ok_or_else(|| Error::invalid("Encrypt", "missing from a safe-mode message"))?;
        self.decrypt(msg_signature, timestamp, nonce, encrypt)
    }

    /// Checks the signature over `encrypt` (base64 ciphertext) and
    /// decrypts it.
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<String> {
        let expected = sha1_signature(&[&self.token, timestamp, nonce, encrypt]);
        if !signature_matches(&expected, msg_signature) {
            return Err(bad());
        }
        let mut buffer = STANDARD.decode(encrypt).map_err(|_| bad())?;
        if buffer.is_empty() || !buffer.len().is_multiple_of(PAD_BLOCK) {
            return Err(bad());
        }
        let plain = Aes256CbcDec::new((&self.key).into(), self.iv().into())
            .decrypt_padded_mut::<NoPadding>(&mut buffer)
            .map_err(|_| bad())?;
        let unpadded = unpad(plain).ok_or_else(bad)?;
        if unpadded.len() < HEADER {
            return Err(bad());
        }
        let length = u32::from_be_bytes([unpadded[16], unpadded[17], unpadded[18], unpadded[19]]);
        let (message, app_id) = unpadded[HEADER..]
            .split_at_checked(length as usize)
            .ok_or_else(bad)?;
        // Constant time is not needed for the app id (it is public), but
        // the check is what stops another account's sealed message.
        if app_id != self.app_id.as_bytes() {
            return Err(bad());
        }
        String::from_utf8(message.to_vec()).map_err(|_| bad())
    }

    /// Seals `reply_xml` as the answer to a safe-mode POST: the
    /// `<xml><Encrypt>..</Encrypt><MsgSignature>..` envelope.
    pub fn seal(&self, reply_xml: &str, timestamp: &str, nonce: &str) -> Result<String> {
        let mut random = [0u8; 16];
        OsRng
            .try_fill_bytes(&mut random)
            .map_err(|e| Error::Internal(anyhow::anyhow!("no randomness: {e}")))?;
        self.seal_with(reply_xml, timestamp, nonce, random)
    }

    /// [`SafeMode::seal`] with the 16 leading bytes given, for tests.
    fn seal_with(
        &self,
        reply_xml: &str,
        timestamp: &str,
        nonce: &str,
        random: [u8; 16],
    ) -> Result<String> {
        // Base64 and hex need no escaping in the envelope, but the
        // timestamp and nonce come from the query string: only digits and
        // letters (all WeChat sends) go into the XML unescaped.
        for (field, value) in [("timestamp", timestamp), ("nonce", nonce)] {
            if !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::invalid(field, "not alphanumeric"));
            }
        }
        let encrypt = self.encrypt(reply_xml, random)?;
        let signature = sha1_signature(&[&self.token, timestamp, nonce, &encrypt]);
        Ok(format!(
            "<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>\
             <MsgSignature><![CDATA[{signature}]]></MsgSignature>\
             <TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        ))
    }

    fn encrypt(&self, message: &str, random: [u8; 16]) -> Result<String> {
        let length = u32::try_from(message.len())
            .map_err(|_| Error::invalid("reply", "longer than 4 GiB"))?;
        let mut plain = Vec::with_capacity(HEADER + message.len() + self.app_id.len() + PAD_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&length.to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.app_id.as_bytes());
        pad(&mut plain);
        let len = plain.len();
        let cipher = Aes256CbcEnc::new((&self.key).into(), self.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .map_err(|e| Error::Internal(anyhow::anyhow!("aes: {e}")))?;
        Ok(STANDARD.encode(cipher))
    }

    fn iv(&self) -> &[u8; 16] {
        self.key[..16]
            .try_into()
            .expect("a 32-byte key has 16 leading bytes")
    }
}

/// Pads to a multiple of 32 bytes with 1..=32 bytes, each the pad length.
fn pad(plain: &mut Vec<u8>) {
    let n = PAD_BLOCK - plain.len() % PAD_BLOCK;
    plain.resize(plain.len() + n, n as u8);
}

/// Undoes [`pad`], checking every pad byte; `None` when malformed.
fn unpad(plain: &[u8]) -> Option<&[u8]> {
    let n = *plain.last()? as usize;
    if n == 0 || n > PAD_BLOCK || n > plain.len() {
        return None;
    }
    let (body, padding) = plain.split_at(plain.len() - n);
    padding.iter().all(|&b| b as usize == n).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    // WeChat's own sample (the SDKs' Sample.cs / Sample.py): token, app id,
    // key, a sealed push and the URL-check echo.
    const TOKEN: &str = "QDG6eK";
    const APP_ID: &str = "wx5823bf96d3bd56c7";
    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const SAMPLE_SIGNATURE: &str = "477715d11cdb4164915debcba66cb864d751f3e6";
    const SAMPLE_TIMESTAMP: &str = "1409659813";
    const SAMPLE_NONCE: &str = "1372623149";
    const SAMPLE_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";

    fn keys() -> SafeMode {
        SafeMode::new(TOKEN, KEY, APP_ID).unwrap()
    }

    fn sample_body() -> String {
        format!("<xml><ToUserName><![CDATA[{APP_ID}]]></ToUserName><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>")
    }

    fn is_bad(result: Result<String>) -> bool {
        matches!(result, Err(Error::BadSignature { what: WHAT }))
    }

    #[test]
    fn wechats_sample_push_opens_to_its_message() {
        let message = keys()
            .open(
                SAMPLE_SIGNATURE,
                SAMPLE_TIMESTAMP,
                SAMPLE_NONCE,
                &sample_body(),
            )
            .unwrap();
        assert!(message.starts_with("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]>"));
        assert!(message.contains("<Content><![CDATA[hello]]></Content>"));
        assert!(message.contains("<MsgId>4561255354251345929</MsgId>"));
        assert!(message.ends_with("</xml>"));
    }

    #[test]
    fn wechats_sample_url_check_opens_to_its_echo() {
        let echo = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
        let plain = keys()
            .decrypt(
                "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
                "1409659589",
                "263014780",
                echo,
            )
            .unwrap();
        assert_eq!(plain, "1616140317555161061");
    }

    #[test]
    fn the_handshake_answers_echostr_only_when_signed() {
        let signature = sha1_signature(&["tok", "1700000000", "42"]);
        assert_eq!(
            verify_handshake("tok", &signature, "1700000000", "42", "echo").unwrap(),
            "echo"
        );
        let upper = signature.to_ascii_uppercase();
        assert!(verify_handshake("tok", &upper, "1700000000", "42", "echo").is_ok());
        assert!(verify_handshake("tok", &signature, "1700000001", "42", "echo").is_err());
        assert!(verify_handshake("other", &signature, "1700000000", "42", "echo").is_err());
        assert!(verify_handshake("tok", "", "1700000000", "42", "echo").is_err());
    }

    #[test]
    fn signatures_sort_their_parts() {
        // sha1("abc"), whatever the order the parts come in.
        let expected = "a9993e364706816aba3e25717850c26c9cd0d89d";
        assert_eq!(sha1_signature(&["c", "a", "b"]), expected);
        assert_eq!(sha1_signature(&["b", "c", "a"]), expected);
    }

    #[test]
    fn a_sealed_reply_opens_again_whatever_its_length() {
        for n in [0, 1, 11, 12, 13, 31, 32, 33, 100] {
            let reply = format!("<xml>{}中</xml>", "x".repeat(n));
            let sealed = keys().seal(&reply, "1409659813", "1372623149").unwrap();
            let document = parse_document(&sealed).unwrap();
            let signature = document.child_text("MsgSignature").unwrap();
            assert_eq!(document.child_text("TimeStamp"), Some("1409659813"));
            let opened = keys().open(signature, "1409659813", "1372623149", &sealed);
            assert_eq!(opened.unwrap(), reply);
        }
    }

    #[test]
    fn sealing_is_deterministic_given_the_random_bytes() {
        let a = keys().seal_with("<xml/>", "1", "2", [7; 16]).unwrap();
        assert_eq!(a, keys().seal_with("<xml/>", "1", "2", [7; 16]).unwrap());
        assert_ne!(a, keys().seal_with("<xml/>", "1", "2", [8; 16]).unwrap());
        assert!(keys().seal("<xml/>", "1", "2]]>").is_err());
    }

    #[test]
    fn a_tampered_push_is_refused() {
        let k = keys();
        let (s, t, n) = (SAMPLE_SIGNATURE, SAMPLE_TIMESTAMP, SAMPLE_NONCE);
        assert!(is_bad(k.decrypt(s, "1409659814", n, SAMPLE_ENCRYPT)));
        assert!(is_bad(k.decrypt(
            "0".repeat(40).as_str(),
            t,
            n,
            SAMPLE_ENCRYPT
        )));
        let flipped = SAMPLE_ENCRYPT.replacen('R', "S", 1);
        assert!(is_bad(k.decrypt(s, t, n, &flipped)));
    }

    #[test]
    fn a_push_signed_but_sealed_wrongly_is_refused() {
        let k = keys();
        let sign = |encrypt: &str| sha1_signature(&[TOKEN, "1", "2", encrypt]);
        // Another account's push, sealed with the same key and token.
        let other = SafeMode::new(TOKEN, KEY, "wx0000000000000000").unwrap();
        let foreign = other.encrypt("<xml/>", [1; 16]).unwrap();
        assert!(is_bad(k.decrypt(&sign(&foreign), "1", "2", &foreign)));
        // Not base64, not a whole number of blocks, garbage padding.
        for encrypt in ["!!!", "AAAA", &STANDARD.encode([0u8; 32])] {
            assert!(
                is_bad(k.decrypt(&sign(encrypt), "1", "2", encrypt)),
                "{encrypt}"
            );
        }
    }

    #[test]
    fn a_length_past_the_end_is_refused() {
        let k = keys();
        let mut plain = vec![0u8; 16];
        plain.extend_from_slice(&1000u32.to_be_bytes());
        plain.extend_from_slice(b"short");
        pad(&mut plain);
        let len = plain.len();
        let cipher = Aes256CbcEnc::new((&k.key).into(), k.iv().into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .unwrap();
        let encrypt = STANDARD.encode(cipher);
        let signature = sha1_signature(&[TOKEN, "1", "2", &encrypt]);
        assert!(is_bad(k.decrypt(&signature, "1", "2", &encrypt)));
    }

    #[test]
    fn padding_is_to_32_bytes_and_checked() {
        for n in 0..70 {
            let mut plain = vec![9u8; n];
            pad(&mut plain);
            assert_eq!(plain.len() % 32, 0);
            assert!(plain.len() > n && plain.len() <= n + 32);
            assert_eq!(unpad(&plain), Some(&vec![9u8; n][..]));
        }
        assert_eq!(unpad(&[]), None);
        assert_eq!(unpad(&[0; 32]), None);
        assert_eq!(unpad(&[33; 64]), None);
        assert_eq!(unpad(&[1, 2, 3, 3]), None);
    }

    #[test]
    fn bad_settings_are_configuration_errors() {
        for (token, key) in [("", KEY), (TOKEN, "short"), (TOKEN, &"!".repeat(43))] {
            assert!(matches!(
                SafeMode::new(token, key, APP_ID),
                Err(Error::Config { .. })
            ));
        }
        assert!(!format!("{:?}", keys()).contains(KEY));
    }

    #[test]
    fn a_body_without_encrypt_is_invalid() {
        let result = keys().open(
            SAMPLE_SIGNATURE,
            SAMPLE_TIMESTAMP,
            SAMPLE_NONCE,
            "<xml></xml>",
        );
        assert!(matches!(result, Err(Error::Invalid { .. })));
        let result = keys().open(SAMPLE_SIGNATURE, SAMPLE_TIMESTAMP, SAMPLE_NONCE, "<xml>");
        assert!(matches!(result, Err(Error::Invalid { .. })));
    }
}
