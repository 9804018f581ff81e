//! What a member of staff signs in with, and how it is kept: a *password*,
//! stored only as an argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`,
//! the OWASP minimum, a fresh random salt each time), or a *one-time code*
//! of six digits that an operator hands out (`POST /admin/staff/{id}/code`),
//! stored only as a SHA-256 hash bound to the staff number, valid for
//! [`CODE_TTL_MS`] and for [`MAX_CODE_ATTEMPTS`] guesses at most.
//!
//! A code has only a million values, so its hash is no secret against
//! someone who reads the database; what protects it is its short life,
//! its single use and the few guesses allowed. A password's hash is the
//! slow kind on purpose.

use crate::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest: hashing is bounded, and nobody types more.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// How long a one-time code is valid: ten minutes.
pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// Wrong codes after which the code is refused even when right.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// A PHC string of a password nobody knows, with the same parameters as
/// real ones: verified against when a staff number has no password, so
/// the answer takes as long as a wrong password's.
pub const UNUSABLE_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtcmVhbC1zYWx0$0Wy5oISsBfuP0YN4PjlMkRb/UZzI9ZRTSQwsINnC0YA";

/// Refuses a password shorter than [`MIN_PASSWORD_CHARS`] or longer than
/// [`MAX_PASSWORD_CHARS`] characters.
pub fn check_strength(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("too weak: at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(Error::invalid(
            "password",
            format!("at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|e| Error::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` is the one `phc` was made from. A malformed stored
/// hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fresh one-time code: six decimal digits, uniformly drawn.
pub fn new_code() -> Result<String> {
    // The largest multiple of a million below 2^32: above it, draw again,
    // so that every code is equally likely.
    const LIMIT: u32 = 4_294_000_000;
    loop {
        let mut bytes = [0u8; 4];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| Error::Internal(anyhow::anyhow!("no randomness: {e}")))?;
        let n = u32::from_le_bytes(bytes);
        if n < LIMIT {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// What is stored of `code` for `staff_no`: the same code given to two
/// members of staff has two different hashes.
pub fn code_hash(staff_no: &str, code: &str) -> String {
    let digest = Sha256::digest(format!("wangjie-staff-code:v1:{staff_no}:{code}").as_bytes());
    hex::encode(digest)
}

/// Whether `code` looks like a one-time code at all (six digits).
pub fn is_code_shaped(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Reads a staff number: 1 to 32 letters, digits or hyphens, kept in
/// upper case ("s0001" is "S0001").
pub fn parse_staff_no(text: &str) -> Result<String> {
    let text = text.trim();
    let shaped = (1..=32).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !shaped {
        return Err(Error::invalid(
            "staff_no",
            "1 to 32 letters, digits or hyphens, like S0001",
        ));
    }
    Ok(text.to_ascii_uppercase())
}

/// The demo staff number of the `n`th member of staff (from 1): S0001.
pub fn numbered(n: u64) -> String {
    format!("S{n:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let phc = hash_password("wangjie-demo").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("wangjie-demo", &phc));
        assert!(!verify_password("wangjie-dem0", &phc));
        assert!(!verify_password("wangjie-demo", "not a phc string"));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        assert_ne!(
            hash_password("same-password").unwrap(),
            hash_password("same-password").unwrap()
        );
    }

    #[test]
    fn the_unusable_hash_parses_and_matches_no_likely_password() {
        assert!(PasswordHash::new(UNUSABLE_HASH).is_ok());
        for guess in ["", "password", "wangjie-demo", "12345678"] {
            assert!(!verify_password(guess, UNUSABLE_HASH));
        }
    }

    #[test]
    fn weak_or_overlong_passwords_are_refused() {
        assert!(check_strength("1234567").is_err());
        assert!(check_strength("12345678").is_ok());
        // Characters, not bytes: eight Chinese characters are enough.
        assert!(check_strength("网借网借网借网借").is_ok());
        assert!(check_strength(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: Vec<String> = (0..20).map(|_| new_code().unwrap()).collect();
        assert!(codes.iter().all(|c| is_code_shaped(c)), "{codes:?}");
        assert!(codes.iter().any(|c| c != &codes[0]));
        assert!(!is_code_shaped("12345"));
        assert!(!is_code_shaped("12345a"));
    }

    #[test]
    fn a_code_hash_is_bound_to_its_staff_number() {
        assert_eq!(code_hash("S0001", "123456"), code_hash("S0001", "123456"));
        assert_ne!(code_hash("S0001", "123456"), code_hash("S0002", "123456"));
        assert_eq!(code_hash("S0001", "123456").len(), 64);
    }

    #[test]
    fn staff_numbers_are_read_in_upper_case() {
        assert_eq!(parse_staff_no(" s0001 ").unwrap(), "S0001");
        for bad in ["", "S 1", "S0001;", &"S".repeat(33)] {
            assert!(parse_staff_no(bad).is_err(), "{bad:?}");
        }
        assert_eq!(numbered(7), "S0007");
        assert_eq!(numbered(12345), "S12345");
    }
}
