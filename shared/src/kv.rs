//! The key-value store as the domain sees it: plain reads and writes, and
//! for what must happen once, an atomic counter.
//! `crate::spin::kv` implements these over Spin's interfaces; the tests
//! here use [`MemoryKv`].

use crate::Result;

/// Reads and writes of single keys.
pub trait Kv {
    #[allow(missing_docs)]
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    #[allow(missing_docs)]
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    #[allow(missing_docs)]
    fn delete(&self, key: &str) -> Result<()>;
    /// Deletes every key of `keys`, absent ones skipped; one store call
    /// where the store has a batch (`wasi:keyvalue/batch`), not atomic.
    fn delete_many(&self, keys: &[String]) -> Result<()> {
        keys.iter().try_for_each(|key| self.delete(key))
    }
}

/// A store with an atomic counter: the one guard that every store Spin
/// offers implements correctly. (Spin 4.0.2's Redis store reports every
/// `wasi:keyvalue/atomics` `swap` as failed, after writing the value:
/// compare-and-swap cannot be trusted there.)
pub trait CountingKv: Kv {
    /// Adds `delta` to the number held at `key` (0 when absent) and
    /// returns the sum, atomically.
    fn increment(&self, key: &str, delta: i64) -> Result<i64>;
}

/// Whether this caller is the first to claim `key`: the first increment
/// of a key is the only one that sees 1, however many race.
pub fn claim_once(kv: &impl CountingKv, key: &str) -> Result<bool> {
    Ok(kv.increment(key, 1)? == 1)
}

/// A store in memory, for tests.
#[cfg(test)]
#[derive(Default)]
pub struct MemoryKv {
    keys: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>>,
}

#[cfg(test)]
impl Kv for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.keys.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.keys.borrow_mut().insert(key.into(), value.into());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.keys.borrow_mut().remove(key);
        Ok(())
    }
}

#[cfg(test)]
impl CountingKv for MemoryKv {
    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        let current = self
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).parse::<i64>())
            .transpose()
            .map_err(|e| crate::Error::KeyValueUnavailable(e.into()))?
            .unwrap_or(0);
        self.set(key, (current + delta).to_string().as_bytes())?;
        Ok(current + delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_claim_of_a_key_wins() {
        let kv = MemoryKv::default();
        assert!(claim_once(&kv, "nonce/1").unwrap());
        assert!(!claim_once(&kv, "nonce/1").unwrap());
        assert!(claim_once(&kv, "nonce/2").unwrap());
    }
}
