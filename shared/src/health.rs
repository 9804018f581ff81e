//! The health report operators and load balancers read: whether the
//! database and the key-value store answer, and whether the schema is
//! current. Healthy means every check passed.

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Whether it answered as expected.
    pub ok: bool,
    /// What was found, or what went wrong.
    pub detail: String,
}

impl Check {
    /// Builds a check from a result, keeping the error text.
    pub fn from_result<T, E: std::fmt::Display>(
        result: Result<T, E>,
        describe: impl FnOnce(T) -> String,
    ) -> Check {
        match result {
            Ok(value) => Check {
                ok: true,
                detail: describe(value),
            },
            Err(error) => Check {
                ok: false,
                detail: error.to_string(),
            },
        }
    }
}

/// Every check, by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `"sqlite"` or `"postgres"`.
    pub backend: &'static str,
    /// The database answered and its schema is current.
    pub database: Check,
    /// The key-value store answered a write and a read.
    pub key_value: Check,
}

impl Report {
    /// Whether every check passed.
    pub fn healthy(&self) -> bool {
        self.database.ok && self.key_value.ok
    }
}
