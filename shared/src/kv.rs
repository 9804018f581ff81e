//! The key-value store as the domain sees it: plain reads and writes, and
//! for what must not be lost to a concurrent writer, a conditional write.
//! `crate::spin::kv` implements these over Spin's interfaces; the tests
//! here use [`MemoryKv`].

use crate::{Error, Result};

/// Reads and writes of single keys.
pub trait Kv {
    #[allow(missing_docs)]
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    #[allow(missing_docs)]
    fn set(&self, key: &str, value: &[u8]) -> Result<()>;
    #[allow(missing_docs)]
    fn delete(&self, key: &str) -> Result<()>;
}

/// A store that can write a key only if nobody wrote it since it was read.
pub trait AtomicKv: Kv {
    /// What [`AtomicKv::swap`] needs to know the key is unchanged.
    type Watch;
    /// Reads `key` for a later [`AtomicKv::swap`].
    fn watch(&self, key: &str) -> Result<(Option<Vec<u8>>, Self::Watch)>;
    /// Writes `value` if the watched key is unchanged; `false` if it changed.
    fn swap(&self, watch: Self::Watch, value: &[u8]) -> Result<bool>;
}

/// Rounds of read-change-write before [`update`] gives up: only writers of
/// the same key race, and a locker sends one request at a time.
pub const UPDATE_TRIES: usize = 5;

/// Reads `key`, asks `change` for its new value (and a result), and writes
/// it back unless someone wrote the key meanwhile, then starts again. An
/// error from `change` is returned and nothing is written.
pub fn update<K: AtomicKv, T>(
    kv: &K,
    key: &str,
    mut change: impl FnMut(Option<&[u8]>) -> Result<(Vec<u8>, T)>,
) -> Result<T> {
    for _ in 0..UPDATE_TRIES {
        let (current, watch) = kv.watch(key)?;
        let (value, out) = change(current.as_deref())?;
        if kv.swap(watch, &value)? {
            return Ok(out);
        }
    }
    Err(Error::KeyValueUnavailable(anyhow::anyhow!(
        "key {key:?} changed under each of {UPDATE_TRIES} writes"
    )))
}

/// A writer that runs between a watch and its swap, in tests.
#[cfg(test)]
pub type Interference = Box<dyn FnMut(&MemoryKv)>;

/// A store in memory, for tests. `swap` compares values.
#[cfg(test)]
#[derive(Default)]
pub struct MemoryKv {
    keys: std::cell::RefCell<std::collections::HashMap<String, Vec<u8>>>,
    /// Called between a watch and its swap: a concurrent writer.
    pub interfere: std::cell::RefCell<Option<Interference>>,
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
impl AtomicKv for MemoryKv {
    type Watch = (String, Option<Vec<u8>>);
    fn watch(&self, key: &str) -> Result<(Option<Vec<u8>>, Self::Watch)> {
        let current = self.get(key)?;
        Ok((current.clone(), (key.into(), current)))
    }
    fn swap(&self, (key, seen): Self::Watch, value: &[u8]) -> Result<bool> {
        let interfere = self.interfere.borrow_mut().take();
        if let Some(mut interfere) = interfere {
            interfere(self);
        }
        if self.get(&key)? != seen {
            return Ok(false);
        }
        self.set(&key, value)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_retries_over_a_concurrent_write_and_keeps_it() {
        let kv = MemoryKv::default();
        kv.set("n", b"1").unwrap();
        *kv.interfere.borrow_mut() = Some(Box::new(|kv: &MemoryKv| kv.set("n", b"5").unwrap()));
        let rounds = std::cell::Cell::new(0);
        let seen = update(&kv, "n", |now| {
            rounds.set(rounds.get() + 1);
            let n: i64 = std::str::from_utf8(now.unwrap()).unwrap().parse().unwrap();
            Ok(((n + 1).to_string().into_bytes(), n))
        })
        .unwrap();
        assert_eq!((seen, rounds.get()), (5, 2));
        assert_eq!(kv.get("n").unwrap().unwrap(), b"6");
    }

    #[test]
    fn a_refusing_change_writes_nothing() {
        let kv = MemoryKv::default();
        let out: Result<()> = update(&kv, "k", |_| Err(Error::Conflict("no".into())));
        assert!(out.is_err());
        assert_eq!(kv.get("k").unwrap(), None);
    }
}
