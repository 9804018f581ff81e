//! Shared pieces of the capability tests: real backends, temp dirs.

use super::allowed_hosts::AllowedHosts;
use super::{AppResources, Capabilities, ComponentGrants, KeyValueStoreConfig, RuntimeConfig};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub fn grants(key_value: &[&str], sqlite: &[&str], hosts: &[&str]) -> Arc<ComponentGrants> {
    let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    Arc::new(ComponentGrants {
        key_value_stores: key_value.iter().map(|s| s.to_string()).collect(),
        sqlite_databases: sqlite.iter().map(|s| s.to_string()).collect(),
        allowed_hosts: Arc::new(AllowedHosts::parse(&hosts).expect("test hosts parse")),
        variables: HashMap::new(),
    })
}

pub async fn app(config: &RuntimeConfig, state_dir: &Path) -> Arc<AppResources> {
    AppResources::new(config, state_dir)
        .await
        .expect("app resources")
}

pub async fn capabilities(
    config: &RuntimeConfig,
    state_dir: &Path,
    grants: Arc<ComponentGrants>,
) -> Capabilities {
    Capabilities::new(app(config, state_dir).await, grants)
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

/// A runtime config whose `default` key-value store is the Redis at `url`.
pub fn redis_config(url: &str) -> RuntimeConfig {
    let mut config = RuntimeConfig::default();
    config.key_value_stores.insert(
        "default".into(),
        KeyValueStoreConfig::Redis { url: url.into() },
    );
    config
}
