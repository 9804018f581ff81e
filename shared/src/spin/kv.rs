//! The key-value store, with its errors mapped to the domain's, in two
//! bindings of one labelled store: `fermyon:spin/key-value@2.0.0` (every
//! component) and `wasi:keyvalue@0.2.0-draft2`, whose atomic `increment`
//! the lockers' replay guard needs, and whose batch delete prunes its
//! keys. Its compare-and-swap is not used:
//! Spin 4.0.2's Redis store reports every swap as failed after writing.

use crate::kv::{CountingKv, Kv};
use crate::{Error, Result};
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi};

/// Opens the component's default store.
pub fn open_default() -> Result<Store> {
    Store::open_default().map_err(unavailable)
}

/// Wraps a store failure as a retryable unavailability.
pub fn unavailable(error: spin_sdk::key_value::Error) -> Error {
    Error::KeyValueUnavailable(anyhow::anyhow!("{error}"))
}

impl Kv for Store {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Store::get(self, key).map_err(unavailable)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        Store::set(self, key, value).map_err(unavailable)
    }
    fn delete(&self, key: &str) -> Result<()> {
        Store::delete(self, key).map_err(unavailable)
    }
}

/// The default store through `wasi:keyvalue`.
pub struct Bucket(wasi::Bucket);

fn wasi_unavailable(error: wasi::Error) -> Error {
    Error::KeyValueUnavailable(anyhow::anyhow!("{error:?}"))
}

impl Bucket {
    /// Opens the store labelled `default`.
    pub fn open_default() -> Result<Self> {
        wasi::open("default").map(Bucket).map_err(wasi_unavailable)
    }
}

impl Kv for Bucket {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.0.get(key).map_err(wasi_unavailable)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        self.0.set(key, value).map_err(wasi_unavailable)
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).map_err(wasi_unavailable)
    }
    /// `delete-many`: Redis `DEL k...`, one SQLite statement (Spin 4.0.2;
    /// its Redis `get-many` sends `KEYS` and is not used).
    fn delete_many(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        batch::delete_many(&self.0, keys).map_err(wasi_unavailable)
    }
}

impl CountingKv for Bucket {
    fn increment(&self, key: &str, delta: i64) -> Result<i64> {
        atomics::increment(&self.0, key, delta).map_err(wasi_unavailable)
    }
}
