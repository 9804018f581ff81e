//! The Spin host interfaces ("capabilities") of the world
//! `wangjie:platform/spin-imports`: key-value, SQLite, variables and
//! PostgreSQL, with Spin 4.0.2's semantics, so that an app that works here
//! works under `spin up` and fails here where it would fail there.
//!
//! The host core builds one [`AppResources`] at start, one
//! [`ComponentGrants`] per component, and one [`Capabilities`] per instance
//! (per request), and calls [`add_to_linker`] once.

pub mod allowed_hosts;
mod bindings;
mod key_value;
mod postgres;
mod postgres_ranges;
mod postgres_types;
mod runtime_config;
mod sqlite;
mod variables;
mod wasi_keyvalue;

pub use key_value::KeyValueBackend;
pub use runtime_config::{KeyValueStoreConfig, RuntimeConfig, SqliteDatabaseConfig};
pub use variables::validate_name as validate_variable_name;

use allowed_hosts::AllowedHosts;
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use wasmtime::component::{HasData, Linker, ResourceTable};

/// Spin's file for the `default` key-value store, in the state directory.
const DEFAULT_KEY_VALUE_FILE: &str = "sqlite_key_value.db";
/// Spin's file for the `default` SQLite database, in the state directory.
const DEFAULT_SQLITE_FILE: &str = "sqlite_db.db";

/// App-wide resources, built once at start from the runtime config and
/// state dir: store and database backends by label, PostgreSQL pools.
pub struct AppResources {
    key_value: HashMap<String, Arc<dyn KeyValueBackend>>,
    sqlite: HashMap<String, Arc<sqlite::SqliteDatabase>>,
    postgres: postgres::Pools,
}

impl AppResources {
    /// Nothing connects or opens a file here; backends do on first use, as
    /// in Spin, so an unused Redis store does not stop the app starting.
    pub async fn new(runtime_config: &RuntimeConfig, state_dir: &Path) -> Result<Arc<Self>> {
        let mut stores = runtime_config.key_value_stores.clone();
        stores
            .entry("default".to_owned())
            .or_insert_with(|| KeyValueStoreConfig::Spin {
                path: Some(state_dir.join(DEFAULT_KEY_VALUE_FILE)),
            });
        let mut key_value: HashMap<String, Arc<dyn KeyValueBackend>> = HashMap::new();
        for (label, config) in stores {
            let backend: Arc<dyn KeyValueBackend> = match config {
                KeyValueStoreConfig::Spin { path } => Arc::new(key_value::SqliteBackend::new(path)),
                KeyValueStoreConfig::Redis { url } => Arc::new(key_value::RedisBackend::new(&url)?),
            };
            key_value.insert(label, backend);
        }

        let mut databases = runtime_config.sqlite_databases.clone();
        databases
            .entry("default".to_owned())
            .or_insert_with(|| SqliteDatabaseConfig::Spin {
                path: Some(state_dir.join(DEFAULT_SQLITE_FILE)),
                allow_attach_file: false,
            });
        let sqlite = databases
            .into_iter()
            .map(|(label, config)| {
                let SqliteDatabaseConfig::Spin {
                    path,
                    allow_attach_file,
                } = config;
                (
                    label,
                    Arc::new(sqlite::SqliteDatabase::new(path, allow_attach_file)),
                )
            })
            .collect();

        Ok(Arc::new(Self {
            key_value,
            sqlite,
            postgres: postgres::Pools::default(),
        }))
    }

    /// Validates that every label a component lists exists (Spin fails at
    /// start for an undefined store or database label).
    pub fn check_labels(&self, component: &str, grants: &ComponentGrants) -> Result<()> {
        for label in &grants.key_value_stores {
            if !self.key_value.contains_key(label) {
                bail!("unknown key_value_stores label {label:?} for component {component:?}: define it as [key_value_store.{label}] in the runtime config");
            }
        }
        for label in &grants.sqlite_databases {
            if !self.sqlite.contains_key(label) {
                bail!("component {component} uses SQLite database '{label}', which is not defined: define it as [sqlite_database.{label}] in the runtime config");
            }
        }
        Ok(())
    }
}

/// What one component may use, from its manifest entry (labels, resolved
/// variables, allowed hosts). The host core fills it.
pub struct ComponentGrants {
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    pub allowed_hosts: Arc<AllowedHosts>,
    pub variables: HashMap<String, String>,
}

/// Per-instance state (one instance per request), with its own resource
/// table for the Spin resources.
pub struct Capabilities {
    app: Arc<AppResources>,
    grants: Arc<ComponentGrants>,
    table: ResourceTable,
    /// Open key-value stores and SQLite connections, for Spin's limits.
    kv_open: usize,
    sqlite_open: usize,
}

impl Capabilities {
    pub fn new(app: Arc<AppResources>, grants: Arc<ComponentGrants>) -> Self {
        Self {
            app,
            grants,
            table: ResourceTable::new(),
            kv_open: 0,
            sqlite_open: 0,
        }
    }
}

/// Selects `&mut Capabilities` out of the store's data for the bindings.
struct HasCapabilities;

impl HasData for HasCapabilities {
    type Data<'a> = &'a mut Capabilities;
}

/// Adds every Spin interface of the world `wangjie:platform/spin-imports`
/// to the linker (async host functions: the engine has async_support on).
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut Capabilities,
) -> Result<()> {
    bindings::SpinImports::add_to_linker::<T, HasCapabilities>(linker, get)?;
    Ok(())
}

/// Fully-qualified names of the interfaces implemented, for the host's
/// "unsupported import" check at start.
pub const SUPPORTED_IMPORTS: &[&str] = &[
    "fermyon:spin/key-value@2.0.0",
    "fermyon:spin/sqlite@2.0.0",
    "fermyon:spin/variables@2.0.0",
    "spin:postgres/postgres@4.0.0",
    "wasi:keyvalue/store@0.2.0-draft2",
    "wasi:keyvalue/atomics@0.2.0-draft2",
    "wasi:keyvalue/batch@0.2.0-draft2",
];

#[cfg(test)]
mod test_support;
