//! A small Spin-compatible host on wasmtime: runs a Spin app from its
//! `spin.toml` as `spin up` would (HTTP and cron triggers, Spin's routing,
//! key-value, SQLite, variables, PostgreSQL, outbound HTTP with
//! `allowed_outbound_hosts` and service chaining), for local use and
//! end-to-end tests.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let app = wangjie_host::start(wangjie_host::HostConfig {
//!     manifest: "spin.toml".into(),
//!     variables: [("admin_token".to_string(), "x".to_string())].into(),
//!     ..Default::default()
//! })
//! .await?;
//! println!("{}", app.url());
//! app.shutdown().await;
//! # Ok(()) }
//! ```

mod app;
pub mod capabilities;
pub mod cron;
mod instance;
pub mod manifest;
mod outbound;
pub mod router;
mod server;
pub mod variables;

pub use app::App;
pub use instance::CACHE_DIR_ENV;

use anyhow::{Context, Result};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// How to run an app.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// `spin.toml`, or the directory holding it.
    pub manifest: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `--runtime-config-file`.
    pub runtime_config: Option<PathBuf>,
    /// Where stores, databases and the compile cache live (default `.spin`
    /// beside the manifest).
    pub state_dir: Option<PathBuf>,
    /// Variable values by lower-case name, as `SPIN_VARIABLE_*` would give.
    pub variables: HashMap<String, String>,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            manifest: PathBuf::from("spin.toml"),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            runtime_config: None,
            state_dir: None,
            variables: HashMap::new(),
        }
    }
}

/// An app serving HTTP (and running its cron schedules) until shut down or
/// dropped.
pub struct RunningApp {
    addr: SocketAddr,
    app: Arc<App>,
    tasks: Vec<JoinHandle<()>>,
}

/// Loads the app, binds `config.listen` and starts serving.
pub async fn start(config: HostConfig) -> Result<RunningApp> {
    let app = App::load(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let mut tasks = cron::spawn_schedules(&app);
    tasks.push(tokio::spawn(server::serve(app.clone(), listener)));
    Ok(RunningApp { addr, app, tasks })
}

impl RunningApp {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The loaded app.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// What `spin up` prints: the address, then the public routes.
    pub fn banner(&self) -> String {
        let base = self.url();
        let mut text = format!("Serving {base}\nAvailable Routes:\n");
        for entry in self.app.router.entries() {
            let _ = writeln!(text, "  {}: {base}{}", entry.component, entry.pattern);
            if let Some(component) = self.app.components.get(&entry.component) {
                if !component.description.is_empty() {
                    let _ = writeln!(text, "    {}", component.description);
                }
            }
        }
        if !self.app.crons.is_empty() {
            text.push_str("Cron Triggers:\n");
            for entry in &self.app.crons {
                let _ = writeln!(text, "  {}: {}", entry.component, entry.expression);
            }
        }
        text
    }

    /// Stops serving, closing open connections and cron schedules.
    pub async fn shutdown(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Serves until the server task ends (it does not, unless it panics).
    pub async fn wait(mut self) {
        if let Some(server) = self.tasks.pop() {
            let _ = server.await;
        }
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
