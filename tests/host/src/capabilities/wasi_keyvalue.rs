//! `wasi:keyvalue/store`, `atomics` and `batch` (0.2.0-draft2) over
//! the same labelled backends as `fermyon:spin/key-value`, as Spin serves
//! both from one store per label. A bucket is the same resource type as a
//! Spin store and counts against the same limit.
//!
//! Compare-and-swap compares values: a `cas` remembers what the key held
//! when it was made, and `swap` writes only if the key still holds that
//! (Spin's Redis store watches the key instead; for a guest the outcome is
//! the same, short of a value changed and changed back in between). On a
//! Redis store every swap then reports `cas-failed`, written or not, as
//! Spin 4.0.2's does ([`KeyValueBackend::swap_reports_failure_after_writing`]).

use super::bindings::wasi::keyvalue::atomics::{self, CasError, HostCas};
use super::bindings::wasi::keyvalue::batch;
use super::bindings::wasi::keyvalue::store::{self, Error, HostBucket, KeyResponse};
use super::key_value::{KeyValueBackend, KvStore};
use super::Capabilities;
use std::sync::Arc;
use wasmtime::component::Resource;

/// A compare-and-swap under way: the key and what it held when read.
pub struct Cas {
    backend: Arc<dyn KeyValueBackend>,
    label: String,
    key: String,
    seen: Option<Vec<u8>>,
}

fn other(err: anyhow::Error) -> Error {
    Error::Other(format!("{err:#}"))
}

impl Capabilities {
    /// Reads `key` into a new `cas` resource.
    async fn watch(
        &mut self,
        backend: Arc<dyn KeyValueBackend>,
        label: String,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let seen = match backend.get(&label, &key).await {
            Ok(seen) => seen,
            Err(err) => return Ok(Err(other(err))),
        };
        Ok(Ok(self.table.push(Cas {
            backend,
            label,
            key,
            seen,
        })?))
    }
}

impl store::Host for Capabilities {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<KvStore>, Error>> {
        use super::bindings::fermyon::spin::key_value::{Error as SpinError, HostStore};
        Ok(HostStore::open(self, identifier)
            .await?
            .map_err(|e| match e {
                SpinError::AccessDenied => Error::AccessDenied,
                SpinError::NoSuchStore => Error::NoSuchStore,
                SpinError::StoreTableFull => Error::Other("too many stores open".into()),
                SpinError::Other(text) => Error::Other(text),
            }))
    }
}

impl HostBucket for Capabilities {
    async fn get(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        Ok(backend.get(&label, &key).await.map_err(other))
    }

    async fn set(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        Ok(backend.set(&label, &key, &value).await.map_err(other))
    }

    async fn delete(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        Ok(backend.delete(&label, &key).await.map_err(other))
    }

    async fn exists(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        Ok(backend.exists(&label, &key).await.map_err(other))
    }

    /// Every key in one answer (no cursor), as Spin answers.
    async fn list_keys(
        &mut self,
        bucket: Resource<KvStore>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<KeyResponse, Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        Ok(backend
            .get_keys(&label)
            .await
            .map(|keys| KeyResponse { keys, cursor: None })
            .map_err(other))
    }

    async fn drop(&mut self, bucket: Resource<KvStore>) -> wasmtime::Result<()> {
        self.close_store(bucket)
    }
}

/// Empty lists answer at once, as Spin's do, without a backend call.
impl batch::Host for Capabilities {
    async fn get_many(
        &mut self,
        bucket: Resource<KvStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        if keys.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        Ok(backend.get_many(&label, keys).await.map_err(other))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<KvStore>,
        pairs: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        if pairs.is_empty() {
            return Ok(Ok(()));
        }
        Ok(backend.set_many(&label, pairs).await.map_err(other))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<KvStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        Ok(backend.delete_many(&label, keys).await.map_err(other))
    }
}

impl atomics::Host for Capabilities {
    async fn increment(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        Ok(backend.increment(&label, &key, delta).await.map_err(other))
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), CasError>> {
        let Cas {
            backend,
            label,
            key,
            seen,
        } = self.table.delete(cas)?;
        let defect = backend.swap_reports_failure_after_writing();
        match backend.swap_if(&label, &key, seen.as_deref(), &value).await {
            Ok(true) if !defect => Ok(Ok(())),
            Ok(_) => Ok(Err(match self.watch(backend, label, key).await? {
                Ok(fresh) => CasError::CasFailed(fresh),
                Err(err) => CasError::StoreError(err),
            })),
            Err(err) => Ok(Err(CasError::StoreError(other(err)))),
        }
    }
}

impl HostCas for Capabilities {
    async fn new(
        &mut self,
        bucket: Resource<KvStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let (backend, label) = self.kv_store(&bucket)?;
        self.watch(backend, label, key).await
    }

    async fn current(
        &mut self,
        cas: Resource<Cas>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(Ok(self.table.get(&cas)?.seen.clone()))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "wasi_keyvalue_tests.rs"]
mod tests;
