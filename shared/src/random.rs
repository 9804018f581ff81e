//! Random identifiers from the OS (WASI `random_get` in a component): token
//! ids, nonces, provider transaction ids.

use crate::{Error, Result};
use rand_core::{OsRng, RngCore};

/// `bytes` random bytes as lower-case hex (twice as many characters).
pub fn hex_id(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buffer)
        .map_err(|e| Error::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(hex::encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_of_the_asked_length_and_differ() {
        let a = hex_id(16).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, hex_id(16).unwrap());
    }
}
