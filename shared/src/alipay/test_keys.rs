//! Keys for unit tests: one 1024-bit key per test binary (generation is
//! slow in debug builds, and 1024 bits is enough to test the plumbing),
//! used both as our app key and as "Alipay's".

use super::sign::{VAR_ALIPAY_PUBLIC_KEY, VAR_APP_PRIVATE_KEY};
use super::{AlipayKey, AppKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use std::sync::OnceLock;

/// The test key.
pub fn test_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap())
}

/// The test key as our app key.
pub fn app_key() -> AppKey {
    let pem = test_key().to_pkcs8_pem(LineEnding::LF).unwrap();
    AppKey::parse(VAR_APP_PRIVATE_KEY, &pem).unwrap()
}

/// The test key's public half as Alipay's key.
pub fn alipay_key() -> AlipayKey {
    let pem = test_key()
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    AlipayKey::parse(VAR_ALIPAY_PUBLIC_KEY, &pem).unwrap()
}
