//! Spin variables, read through one function that says which one failed.

use crate::{Error, Result};
use spin_sdk::variables;

/// A variable the component must have.
pub fn required(name: &'static str) -> Result<String> {
    optional(name)?.ok_or(Error::Config {
        name,
        reason: "not set".into(),
    })
}

/// A variable that may be absent from this component's manifest entry.
pub fn optional(name: &'static str) -> Result<Option<String>> {
    match variables::get(name) {
        Ok(value) => Ok(Some(value)),
        Err(variables::Error::Undefined(_)) => Ok(None),
        Err(other) => Err(Error::Config {
            name,
            reason: other.to_string(),
        }),
    }
}

/// A numeric variable, with the default used when the component lacks it.
pub fn number(name: &'static str, default: u64) -> Result<u64> {
    match optional(name)? {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| Error::Config {
            name,
            reason: format!("{text:?} is not a whole number"),
        }),
    }
}
