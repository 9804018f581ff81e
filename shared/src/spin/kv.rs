//! The key-value store (`fermyon:spin/key-value@2.0.0`), with its errors
//! mapped to the domain's.

use crate::{Error, Result};
use spin_sdk::key_value::Store;

/// Opens the component's default store.
pub fn open_default() -> Result<Store> {
    Store::open_default().map_err(unavailable)
}

/// Wraps a store failure as a retryable unavailability.
pub fn unavailable(error: spin_sdk::key_value::Error) -> Error {
    Error::KeyValueUnavailable(anyhow::anyhow!("{error}"))
}
