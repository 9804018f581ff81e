//! The key-value store, with its errors mapped to the domain's, in two
//! bindings of one labelled store: `fermyon:spin/key-value@2.0.0` (every
//! component, the cron job too) and `wasi:keyvalue@0.2.0-draft2`, whose
//! compare-and-swap the lockers' replay guard needs (HTTP components only:
//! the cron plugin's embedded Spin offers its jobs the first alone).

use crate::kv::{AtomicKv, Kv};
use crate::{Error, Result};
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, store as wasi};

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
}

impl AtomicKv for Bucket {
    type Watch = atomics::Cas;

    fn watch(&self, key: &str) -> Result<(Option<Vec<u8>>, Self::Watch)> {
        let cas = atomics::Cas::new(&self.0, key).map_err(wasi_unavailable)?;
        Ok((cas.current().map_err(wasi_unavailable)?, cas))
    }

    fn swap(&self, watch: Self::Watch, value: &[u8]) -> Result<bool> {
        match atomics::swap(watch, value) {
            Ok(()) => Ok(true),
            Err(atomics::CasError::CasFailed(_)) => Ok(false),
            Err(atomics::CasError::StoreError(error)) => Err(wasi_unavailable(error)),
        }
    }
}
