//! `fermyon:spin/key-value@2.0.0` over a backend per store label: SQLite
//! (Spin's `type = "spin"`, the default) or Redis.

mod redis;
mod sqlite;

pub use self::redis::RedisBackend;
pub use self::sqlite::SqliteBackend;

use super::bindings::fermyon::spin::key_value::{Error, Host, HostStore};
use super::Capabilities;
use std::sync::Arc;
use wasmtime::component::Resource;

/// Spin's limit on stores open at once in one instance.
const MAX_OPEN_STORES: usize = 256;

/// A key-value backend, shared app-wide. `store` is the label: the SQLite
/// backend keeps labels apart in one table, Redis ignores it (Spin puts
/// every Redis-backed label in the server's one keyspace).
#[async_trait::async_trait]
pub trait KeyValueBackend: Send + Sync {
    async fn get(&self, store: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    async fn set(&self, store: &str, key: &str, value: &[u8]) -> anyhow::Result<()>;
    async fn delete(&self, store: &str, key: &str) -> anyhow::Result<()>;
    async fn exists(&self, store: &str, key: &str) -> anyhow::Result<bool>;
    async fn get_keys(&self, store: &str) -> anyhow::Result<Vec<String>>;
    /// `wasi:keyvalue/batch` `get-many`: the keys present, with their
    /// values, in one command where the backend has one.
    async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> anyhow::Result<Vec<(String, Option<Vec<u8>>)>>;
    /// `set-many`: every pair written, not atomically (as the interface says).
    async fn set_many(&self, store: &str, pairs: Vec<(String, Vec<u8>)>) -> anyhow::Result<()>;
    /// `delete-many`: every key removed, absent ones skipped.
    async fn delete_many(&self, store: &str, keys: Vec<String>) -> anyhow::Result<()>;
    /// Adds `delta` to the key's number (0 when absent) and returns it;
    /// stored as decimal text, as Redis's INCRBY stores it.
    async fn increment(&self, store: &str, key: &str, delta: i64) -> anyhow::Result<i64>;
    /// Writes `value` only if the key holds `expected` (`None`: absent);
    /// `false` when it held something else. Atomic.
    async fn swap_if(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> anyhow::Result<bool>;
    /// Whether `wasi:keyvalue/atomics` `swap` reports `cas-failed` even
    /// when it wrote, as Spin 4.0.2's Redis store does: it ends each swap
    /// with `UNWATCH key`, which Redis refuses (`UNWATCH` takes no
    /// argument). The host keeps the defect so that an app relying on swap
    /// fails here as it would on Spin.
    fn swap_reports_failure_after_writing(&self) -> bool {
        false
    }
    /// Called on every `open`, for backends that connect lazily.
    async fn ready(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The guest's `store` resource.
pub struct KvStore {
    label: String,
    backend: Arc<dyn KeyValueBackend>,
}

fn other(err: anyhow::Error) -> Error {
    Error::Other(format!("{err:#}"))
}

impl Capabilities {
    pub(super) fn kv_store(
        &self,
        store: &Resource<KvStore>,
    ) -> wasmtime::Result<(Arc<dyn KeyValueBackend>, String)> {
        let store = self.table.get(store)?;
        Ok((store.backend.clone(), store.label.clone()))
    }
}

impl Host for Capabilities {}

impl HostStore for Capabilities {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<KvStore>, Error>> {
        // Spin checks the grant first, so an ungranted label is
        // access-denied whether or not it exists.
        if !self.grants.key_value_stores.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(backend) = self.app.key_value.get(&label).cloned() else {
            return Ok(Err(Error::NoSuchStore));
        };
        if let Err(err) = backend.ready().await {
            return Ok(Err(other(err)));
        }
        if self.kv_open >= MAX_OPEN_STORES {
            return Ok(Err(Error::StoreTableFull));
        }
        let store = self.table.push(KvStore { label, backend })?;
        self.kv_open += 1;
        Ok(Ok(store))
    }

    async fn get(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let (backend, label) = self.kv_store(&store)?;
        Ok(backend.get(&label, &key).await.map_err(other))
    }

    async fn set(
        &mut self,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (backend, label) = self.kv_store(&store)?;
        Ok(backend.set(&label, &key, &value).await.map_err(other))
    }

    async fn delete(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (backend, label) = self.kv_store(&store)?;
        Ok(backend.delete(&label, &key).await.map_err(other))
    }

    async fn exists(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let (backend, label) = self.kv_store(&store)?;
        Ok(backend.exists(&label, &key).await.map_err(other))
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStore>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let (backend, label) = self.kv_store(&store)?;
        Ok(backend.get_keys(&label).await.map_err(other))
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(store)
    }
}

impl Capabilities {
    /// Drops a store or bucket: both count against [`MAX_OPEN_STORES`].
    pub(super) fn close_store(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        self.kv_open = self.kv_open.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
#[path = "key_value_tests.rs"]
mod tests;
