//! RSA2 signing and verification, done by the `rsa` crate; this module only
//! reads keys in the forms operators paste and feeds it the right sign
//! content: [`sign_request`] and [`verify_request`] use the request rule,
//! [`sign_notification`] and [`verify_notification`] the notification rule
//! (the module above says how they differ). The fake gateway uses the two
//! that we never need (verifying requests, signing notifications).
//!
//! Keys are accepted as PEM (PKCS#8 `PRIVATE KEY` / SPKI `PUBLIC KEY`, or
//! PKCS#1 `RSA PRIVATE KEY` / `RSA PUBLIC KEY`) and as the bare base64 that
//! Alipay's console and key tool hand out. A PEM pasted into a variable with
//! its line breaks written as `\n` is read too.

use super::{notification_sign_content, request_sign_content, RSA2, SIGN, SIGN_TYPE};
use crate::{Error, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand_core::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// The variable holding our app private key.
pub const VAR_APP_PRIVATE_KEY: &str = "alipay_app_private_key";
/// The variable holding Alipay's public key.
pub const VAR_ALIPAY_PUBLIC_KEY: &str = "alipay_public_key";

/// Our app private key, ready to sign requests to the gateway.
#[derive(Clone)]
pub struct AppKey(SigningKey<Sha256>);

/// Alipay's public key, ready to verify what Alipay sends.
#[derive(Clone)]
pub struct AlipayKey(VerifyingKey<Sha256>);

// Written by hand so that a key never reaches a log through `{:?}`.
impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppKey({} bits)", self.0.as_ref().size() * 8)
    }
}

impl std::fmt::Debug for AlipayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlipayKey({} bits)", self.0.as_ref().size() * 8)
    }
}

impl AppKey {
    /// Reads the private key held in the variable `name`.
    pub fn parse(name: &'static str, text: &str) -> Result<Self> {
        let text = unescape_newlines(text);
        let key = if text.contains("-----BEGIN PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs8_pem(&text).map_err(|e| bad_key(name, e))?
        } else if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(&text).map_err(|e| bad_key(name, e))?
        } else {
            let der = bare_base64(name, &text)?;
            RsaPrivateKey::from_pkcs8_der(&der)
                .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|e| bad_key(name, e))?
        };
        Ok(AppKey(SigningKey::new(key)))
    }
}

impl AlipayKey {
    /// Reads the public key held in the variable `name`.
    pub fn parse(name: &'static str, text: &str) -> Result<Self> {
        let text = unescape_newlines(text);
        let key = if text.contains("-----BEGIN PUBLIC KEY-----") {
            RsaPublicKey::from_public_key_pem(&text).map_err(|e| bad_key(name, e))?
        } else if text.contains("-----BEGIN RSA PUBLIC KEY-----") {
            RsaPublicKey::from_pkcs1_pem(&text).map_err(|e| bad_key(name, e))?
        } else {
            let der = bare_base64(name, &text)?;
            RsaPublicKey::from_public_key_der(&der)
                .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
                .map_err(|e| bad_key(name, e))?
        };
        Ok(AlipayKey(VerifyingKey::new(key)))
    }
}

/// Signs `content` with our key: base64 of the PKCS#1 v1.5 SHA-256
/// signature. The private-key operation is blinded with fresh randomness,
/// which narrows the timing side channel of RSA (RUSTSEC-2023-0071).
pub fn sign_content(content: &str, key: &AppKey) -> Result<String> {
    let signature = key
        .0
        .try_sign_with_rng(&mut OsRng, content.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("rsa2 signing failed: {e}")))?;
    Ok(STANDARD.encode(signature.to_bytes()))
}

/// Checks a base64 RSA2 signature over `content`; `what` names the message
/// in the error. Undecodable signatures are bad signatures, not bad
/// requests: the sender gets the same answer whatever was wrong.
pub fn verify_content(
    content: &str,
    signature_b64: &str,
    key: &AlipayKey,
    what: &'static str,
) -> Result<()> {
    let bad = || Error::BadSignature { what };
    let bytes = STANDARD.decode(signature_b64.trim()).map_err(|_| bad())?;
    let signature = Signature::try_from(bytes.as_slice()).map_err(|_| bad())?;
    key.0
        .verify(content.as_bytes(), &signature)
        .map_err(|_| bad())
}

/// The `sign` value of a gateway request or an order string: `params`
/// must hold `sign_type` (`RSA2`), which is signed with the rest.
pub fn sign_request<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    key: &AppKey,
) -> Result<String> {
    sign_content(&request_sign_content(params)?, key)
}

/// The `sign` value Alipay gives a notification of `params` (the fake
/// gateway's side; `sign_type` is left out of what is signed).
pub fn sign_notification<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    key: &AppKey,
) -> Result<String> {
    sign_content(&notification_sign_content(params)?, key)
}

/// Checks a request as the gateway received it (form-decoded), the fake
/// gateway's side: its `sign_type` must be `RSA2` and its own `sign` must
/// verify over the request's sign content. Anything less is a bad
/// signature.
pub fn verify_request<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    key: &AlipayKey,
) -> Result<()> {
    const WHAT: &str = "alipay request";
    if value_of(params, SIGN_TYPE) != Some(RSA2) {
        return Err(Error::BadSignature { what: WHAT });
    }
    let signature = value_of(params, SIGN).ok_or(Error::BadSignature { what: WHAT })?;
    verify_content(&request_sign_content(params)?, signature, key, WHAT)
}

/// Checks an asynchronous notification as it was posted (form-decoded):
/// its own `sign` parameter must verify over the notification's sign
/// content, and its `sign_type`, when given, must be `RSA2`. Anything less
/// is a bad signature.
pub fn verify_notification<K: AsRef<str>, V: AsRef<str>>(
    params: &[(K, V)],
    key: &AlipayKey,
) -> Result<()> {
    const WHAT: &str = "alipay notification";
    if value_of(params, SIGN_TYPE).is_some_and(|kind| kind != RSA2) {
        return Err(Error::BadSignature { what: WHAT });
    }
    let signature = value_of(params, SIGN).ok_or(Error::BadSignature { what: WHAT })?;
    verify_content(&notification_sign_content(params)?, signature, key, WHAT)
}

/// The first value of `name` in `params`.
fn value_of<'a, K: AsRef<str>, V: AsRef<str>>(params: &'a [(K, V)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.as_ref() == name)
        .map(|(_, v)| v.as_ref())
}

/// Environment variables often carry a PEM on one line with `\n` escapes.
fn unescape_newlines(text: &str) -> String {
    text.trim().replace("\\n", "\n")
}

fn bare_base64(name: &'static str, text: &str) -> Result<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact).map_err(|_| Error::Config {
        name,
        reason: "is neither PEM nor base64".into(),
    })
}

/// The key's own error is kept out of the message: it might quote the key.
fn bad_key(name: &'static str, _error: impl std::fmt::Display) -> Error {
    Error::Config {
        name,
        reason: "is not an RSA key in PKCS#8 or PKCS#1 form".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::{alipay_key, app_key, test_key};
    use super::*;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    fn notification() -> Vec<(String, String)> {
        [
            ("app_id", "2021000000000000"),
            ("out_trade_no", "DEP-42"),
            ("total_amount", "100.00"),
            ("trade_status", "TRADE_SUCCESS"),
            ("notify_time", "2026-11-28 15:00:00"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn signed_notification() -> Vec<(String, String)> {
        let mut params = notification();
        params.push((SIGN_TYPE.into(), RSA2.into()));
        let signature = sign_notification(&params, &app_key()).unwrap();
        params.push((SIGN.into(), signature));
        params
    }

    fn signed_request() -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("app_id", "2021000000000000"),
            ("method", "alipay.system.oauth.token"),
            ("sign_type", "RSA2"),
            ("code", "c1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let signature = sign_request(&params, &app_key()).unwrap();
        params.push((SIGN.into(), signature));
        params
    }

    #[test]
    fn a_signed_request_verifies_only_as_rsa2() {
        let key = alipay_key();
        assert!(verify_request(&signed_request(), &key).is_ok());
        let mut rsa1 = signed_request();
        rsa1[2].1 = "RSA".into();
        assert!(verify_request(&rsa1, &key).is_err());
        let mut none = signed_request();
        none.remove(2);
        assert!(verify_request(&none, &key).is_err());
    }

    #[test]
    fn each_rule_refuses_what_the_other_signed_issue_15() {
        let key = alipay_key();
        // A request signed as we used to, without its sign_type.
        let mut old = signed_request();
        old.pop();
        let signature = sign_notification(&old, &app_key()).unwrap();
        old.push((SIGN.into(), signature));
        assert!(matches!(
            verify_request(&old, &key),
            Err(Error::BadSignature {
                what: "alipay request"
            })
        ));
        // A notification signed with its sign_type, as a request would be.
        let mut wrong = signed_notification();
        wrong.pop();
        let signature = sign_request(&wrong, &app_key()).unwrap();
        wrong.push((SIGN.into(), signature));
        assert!(verify_notification(&wrong, &key).is_err());
    }

    #[test]
    fn a_signed_notification_verifies() {
        assert!(verify_notification(&signed_notification(), &alipay_key()).is_ok());
    }

    #[test]
    fn a_changed_amount_breaks_the_signature() {
        let mut params = signed_notification();
        params[2].1 = "0.01".into();
        assert!(matches!(
            verify_notification(&params, &alipay_key()),
            Err(Error::BadSignature { .. })
        ));
    }

    #[test]
    fn a_missing_garbled_or_non_rsa2_signature_is_bad() {
        let key = alipay_key();
        assert!(verify_notification(&notification(), &key).is_err());
        let mut garbled = signed_notification();
        garbled[6].1 = "not base64!".into();
        assert!(matches!(
            verify_notification(&garbled, &key),
            Err(Error::BadSignature { .. })
        ));
        let mut rsa1 = signed_notification();
        rsa1[5].1 = "RSA".into();
        assert!(verify_notification(&rsa1, &key).is_err());
    }

    #[test]
    fn another_keys_signature_is_bad() {
        let other = RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
        let other = AppKey(SigningKey::new(other));
        let mut params = notification();
        let signature = sign_notification(&params, &other).unwrap();
        params.push((SIGN.into(), signature));
        assert!(verify_notification(&params, &alipay_key()).is_err());
    }

    #[test]
    fn pkcs1_and_bare_base64_keys_sign_and_verify_alike() {
        let private_pkcs1 = test_key().to_pkcs1_pem(LineEnding::LF).unwrap();
        let private_bare = STANDARD.encode(test_key().to_pkcs8_der().unwrap().as_bytes());
        let public = test_key().to_public_key();
        let public_pkcs1 = public.to_pkcs1_pem(LineEnding::LF).unwrap();
        let public_bare = STANDARD.encode(public.to_public_key_der().unwrap().as_bytes());
        let escaped = public
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
            .replace('\n', "\\n");
        for private in [private_pkcs1.as_str(), private_bare.as_str()] {
            let app = AppKey::parse(VAR_APP_PRIVATE_KEY, private).unwrap();
            let signature = sign_content("a=1", &app).unwrap();
            for public in [&public_pkcs1, &public_bare, &escaped] {
                let alipay = AlipayKey::parse(VAR_ALIPAY_PUBLIC_KEY, public).unwrap();
                assert!(verify_content("a=1", &signature, &alipay, "test").is_ok());
            }
        }
    }

    #[test]
    fn a_key_that_does_not_parse_names_its_variable_and_hides_its_text() {
        for text in [
            "",
            "hunter2",
            "-----BEGIN PRIVATE KEY-----\nhunter2\n-----END PRIVATE KEY-----",
        ] {
            match AppKey::parse(VAR_APP_PRIVATE_KEY, text) {
                Err(Error::Config { name, reason }) => {
                    assert_eq!(name, VAR_APP_PRIVATE_KEY);
                    assert!(!reason.contains("hunter2"));
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        assert!(AlipayKey::parse(VAR_ALIPAY_PUBLIC_KEY, "aGVsbG8=").is_err());
    }

    #[test]
    fn a_key_prints_its_size_and_nothing_else() {
        assert_eq!(format!("{:?}", app_key()), "AppKey(1024 bits)");
        assert_eq!(format!("{:?}", alipay_key()), "AlipayKey(1024 bits)");
    }
}
