//! Helpers shared by the fuzz targets (`fuzz_targets/`).
//!
//! Targets that take more than one piece of outside input (a signed
//! request's headers and its body, a WeChat push's query and its XML) read
//! the fuzzer's bytes as text lines followed by a body, so that seeds are
//! readable files: the first `n` lines (lossily UTF-8, without their
//! `\n`), then every byte after the `n`-th newline as the body. Missing
//! lines are empty.

/// The first `n` lines of `data` and the rest.
pub fn lines(data: &[u8], n: usize) -> (Vec<String>, &[u8]) {
    let mut fields = Vec::with_capacity(n);
    let mut rest = data;
    for _ in 0..n {
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                fields.push(String::from_utf8_lossy(&rest[..end]).into_owned());
                rest = &rest[end + 1..];
            }
            None => {
                fields.push(String::from_utf8_lossy(rest).into_owned());
                rest = &[];
            }
        }
    }
    (fields, rest)
}

/// The body as text, the way a handler that insists on UTF-8 sees it.
pub fn text(body: &[u8]) -> Option<&str> {
    std::str::from_utf8(body).ok()
}

/// A deterministic RSA key, so that a crash found with it reproduces; made
/// once per process. 512 bits: the targets test how the app forms and
/// checks what is signed, not RSA, and a 1,024-bit signature costs ~15 ms
/// under the fuzzer's comparison tracing (the unit tests use 1,024).
pub fn rsa_key() -> &'static rsa::RsaPrivateKey {
    use rand::SeedableRng;
    static KEY: std::sync::OnceLock<rsa::RsaPrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(18);
        rsa::RsaPrivateKey::new(&mut rng, 512).expect("an RSA key")
    })
}

/// [`rsa_key`] as our app key and as Alipay's, read through the app's
/// own key parsers (PKCS#8 PEM).
pub fn alipay_keys() -> &'static (
    wangjie_shared::alipay::AppKey,
    wangjie_shared::alipay::AlipayKey,
) {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    use wangjie_shared::alipay::sign::{VAR_ALIPAY_PUBLIC_KEY, VAR_APP_PRIVATE_KEY};
    use wangjie_shared::alipay::{AlipayKey, AppKey};
    static KEYS: std::sync::OnceLock<(AppKey, AlipayKey)> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let key = rsa_key();
        let private = key.to_pkcs8_pem(LineEnding::LF).expect("PEM");
        let public = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM");
        (
            AppKey::parse(VAR_APP_PRIVATE_KEY, &private).expect("app key"),
            AlipayKey::parse(VAR_ALIPAY_PUBLIC_KEY, &public).expect("alipay key"),
        )
    })
}
