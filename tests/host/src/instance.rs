//! The process-wide engine and linker, compiled components (cached in memory
//! and on disk by content hash), and the per-instance store state.
//!
//! Everything here is process-wide because the end-to-end tests start one app
//! per test in the same process: compiling a component costs seconds, an
//! instance from an `InstancePre` microseconds.

use crate::capabilities::{self, Capabilities};
use crate::outbound::OutboundHooks;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Keep in step with the `=` pin in Cargo.toml; part of the cache key.
const WASMTIME_VERSION: &str = "48.0.8";

/// Env var that moves the compiled-component cache.
pub const CACHE_DIR_ENV: &str = "WANGJIE_HOST_CACHE_DIR";

/// WASI 0.2 packages that `wasmtime_wasi::p2` and `wasmtime_wasi_http::p2` provide.
const WASI_PACKAGES: &[&str] = &[
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
    "wasi:sockets/",
    "wasi:http/",
];

/// The cron trigger's types-only interface.
const CRON_TYPES: &str = "fermyon:spin-cron/cron-types@2.0.0";

/// The data of one instance's store: one per request or cron run.
pub struct HostState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: OutboundHooks,
    capabilities: Capabilities,
}

impl HostState {
    /// State for one instance of a component with the given environment.
    pub(crate) fn new(
        environment: &[(String, String)],
        hooks: OutboundHooks,
        capabilities: Capabilities,
    ) -> Self {
        // Spin gives a guest its stdout/stderr and its manifest environment,
        // nothing else: no args, no preopened directories.
        let wasi = WasiCtx::builder()
            .inherit_stdout()
            .inherit_stderr()
            .envs(environment)
            .build();
        Self {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            hooks,
            capabilities,
        }
    }

    fn capabilities(&mut self) -> &mut Capabilities {
        &mut self.capabilities
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// The process-wide engine.
pub fn engine() -> Result<&'static Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine);
    }
    let pooled = match std::env::var(POOLING_ENV).as_deref() {
        Ok("0") => None,
        _ => {
            match Engine::new(&config(true)) {
                Ok(engine) => Some(engine),
                Err(error) => {
                    eprintln!("note: pooling allocator unavailable ({error}); instances use mmap per request");
                    None
                }
            }
        }
    };
    let engine = match pooled {
        Some(engine) => engine,
        None => Engine::new(&config(false))
            .map_err(anyhow::Error::from)
            .context("creating the wasmtime engine")?,
    };
    // A racing thread may have set it first; either engine is equivalent,
    // but only one may be used, since components belong to their engine.
    Ok(ENGINE.get_or_init(|| engine))
}

/// Env var: `0` turns the pooling allocator off.
pub const POOLING_ENV: &str = "WANGJIE_HOST_POOLING";

fn config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    if pooling {
        // Spin's own defaults (spin-core), with 1000 instances: a fresh
        // instance per request then costs no mmap/munmap, which is most of
        // the per-request cost otherwise.
        const MB: usize = 1 << 20;
        let instances = 1000;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            .total_memories(instances)
            .total_tables(2 * instances)
            .total_stacks(instances)
            .total_core_instances(4 * instances)
            .table_elements(100_000)
            .max_component_instance_size(10 * MB)
            .max_core_instance_size(10 * MB)
            .max_core_instances_per_component(200)
            .max_tables_per_component(64)
            .max_memories_per_component(32)
            .max_tables_per_module(2)
            .max_memories_per_module(2)
            .max_memory_size(4 << 30)
            // Nothing kept resident by default: an instance's memory goes
            // back with madvise, not a memset of its first megabytes.
            // Measured on the locker heartbeat (docs/benchmarks.md): 2 MB
            // kept was 18% of the host's CPU in memset, and 0.66 ms of
            // host CPU per heartbeat against 0.62 ms with nothing kept.
            // Spin's variables for the two knobs (Spin's defaults: 2 MB
            // and 512 KB) set them here too.
            .linear_memory_keep_resident(env_bytes("SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT"))
            .table_keep_resident(env_bytes("SPIN_WASMTIME_TABLE_KEEP_RESIDENT"));
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// A byte count from the environment variable `name`, 0 when unset or
/// not a number.
fn env_bytes(name: &str) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The process-wide linker: WASI 0.2, wasi-http and the Spin interfaces.
pub fn linker() -> Result<&'static Linker<HostState>> {
    static LINKER: OnceLock<Linker<HostState>> = OnceLock::new();
    if let Some(linker) = LINKER.get() {
        return Ok(linker);
    }
    let mut linker = Linker::new(engine()?);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)
        .context("adding WASI 0.2 to the linker")?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)
        .context("adding wasi:http to the linker")?;
    capabilities::add_to_linker(&mut linker, HostState::capabilities)
        .context("adding the Spin interfaces to the linker")?;
    // Types only, but a cron guest built with wit-bindgen imports it anyway.
    linker
        .instance(CRON_TYPES)
        .map_err(anyhow::Error::from)
        .context("adding the cron types to the linker")?;
    Ok(LINKER.get_or_init(|| linker))
}

/// Where compiled components are kept.
pub fn cache_dir(state_dir: &Path) -> PathBuf {
    match std::env::var_os(CACHE_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => state_dir.join("cache"),
    }
}

type ComponentCache = tokio::sync::Mutex<HashMap<String, Component>>;

/// Loads the component at `path`, compiling it only if neither this process
/// nor the disk cache has seen these exact bytes with this engine.
pub async fn load_component(path: &Path, cache_dir: &Path) -> Result<Component> {
    static CACHE: OnceLock<ComponentCache> = OnceLock::new();
    let bytes = tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    let engine = engine()?;
    let key = cache_key(engine, &bytes);
    // Held across the compile on purpose: two apps starting together should
    // compile a component once, not race to do it twice on two cores.
    let mut cache = CACHE.get_or_init(Default::default).lock().await;
    if let Some(component) = cache.get(&key) {
        return Ok(component.clone());
    }
    let file = cache_dir.join(format!("{key}.cwasm"));
    let component = match deserialize(engine, &file) {
        Some(component) => component,
        None => {
            let name = path.display().to_string();
            let compiled = tokio::task::spawn_blocking(move || compile(engine, &bytes))
                .await
                .context("the compiler task failed")?
                .with_context(|| format!("compiling {name}"))?;
            store_compiled(cache_dir, &file, &compiled);
            // Loading from the file maps the code instead of copying it.
            match deserialize(engine, &file) {
                Some(component) => component,
                None => unsafe_deserialize_bytes(engine, &compiled)?,
            }
        }
    };
    cache.insert(key, component.clone());
    Ok(component)
}

fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{hex}-wasmtime-{WASMTIME_VERSION}-{:016x}", hasher.finish())
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Vec<u8>> {
    Ok(engine.precompile_component(bytes)?)
}

fn store_compiled(cache_dir: &Path, file: &Path, compiled: &[u8]) {
    // The cache is an optimisation: failing to write it is only worth a warning.
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let result = std::fs::create_dir_all(cache_dir)
        .and_then(|()| std::fs::write(&tmp, compiled))
        .and_then(|()| std::fs::rename(&tmp, file));
    if let Err(error) = result {
        eprintln!(
            "warning: cannot cache the compiled component at {}: {error}",
            file.display()
        );
    }
}

fn deserialize(engine: &Engine, file: &Path) -> Option<Component> {
    if !file.exists() {
        return None;
    }
    // SAFETY: the file is one this host wrote with `precompile_component`
    // (renamed into place atomically), under a key that includes the engine's
    // compatibility hash; wasmtime still checks the header and refuses a
    // mismatch, which leads to a recompile.
    match unsafe { Component::deserialize_file(engine, file) } {
        Ok(component) => Some(component),
        Err(error) => {
            eprintln!(
                "note: recompiling, cached {} unusable: {error}",
                file.display()
            );
            None
        }
    }
}

fn unsafe_deserialize_bytes(engine: &Engine, compiled: &[u8]) -> Result<Component> {
    // SAFETY: the bytes come straight from `precompile_component` on this engine.
    Ok(unsafe { Component::deserialize(engine, compiled) }?)
}

/// Refuses a component importing an interface this host does not provide,
/// naming every such import, rather than failing later at instantiation.
pub fn check_imports(component_id: &str, component: &Component) -> Result<()> {
    let engine = engine()?;
    let unsupported: Vec<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .filter(|name| !is_supported_import(name))
        .collect();
    if !unsupported.is_empty() {
        bail!(
            "component `{component_id}` imports interfaces this host does not provide: {}",
            unsupported.join(", ")
        );
    }
    Ok(())
}

fn is_supported_import(name: &str) -> bool {
    let wasi_02 = WASI_PACKAGES.iter().any(|p| name.starts_with(p)) && name.contains("@0.2.");
    wasi_02 || name == CRON_TYPES || capabilities::SUPPORTED_IMPORTS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_02_imports_are_supported_others_not() {
        assert!(is_supported_import("wasi:http/types@0.2.0"));
        assert!(is_supported_import("wasi:io/streams@0.2.6"));
        assert!(!is_supported_import("wasi:http/types@0.3.0"));
        assert!(is_supported_import("wasi:keyvalue/atomics@0.2.0-draft2"));
        assert!(is_supported_import("wasi:keyvalue/batch@0.2.0-draft2"));
        assert!(!is_supported_import("wasi:keyvalue/watcher@0.2.0-draft2"));
        assert!(!is_supported_import("fermyon:spin/mqtt@2.0.0"));
    }
}
