//! RSA keys for one test run or local session: our app's key pair (we sign
//! gateway requests, the fake verifies them) and "Alipay's" (the fake signs
//! answers and notifications, we verify). 2048 bits as Alipay issues them;
//! generated once per process, never written to disk.

use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use std::sync::OnceLock;

/// Both key pairs as PKCS#8 / SPKI PEM.
pub struct TestKeys {
    /// Our app's private key: the `alipay_app_private_key` variable.
    pub app_private_pem: String,
    /// Its public half, which the fake gateway verifies requests with.
    pub app_public_pem: String,
    /// "Alipay's" private key, which signs answers and notifications.
    pub alipay_private_pem: String,
    /// Its public half: the `alipay_public_key` variable.
    pub alipay_public_pem: String,
}

fn pair() -> (String, String) {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation");
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PKCS#8 encoding")
        .to_string();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("SPKI encoding");
    (private, public)
}

/// The keys of this process.
pub fn test_keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (app_private_pem, app_public_pem) = pair();
        let (alipay_private_pem, alipay_public_pem) = pair();
        TestKeys {
            app_private_pem,
            app_public_pem,
            alipay_private_pem,
            alipay_public_pem,
        }
    })
}
