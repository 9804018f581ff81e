//! Which runtime serves the app under test, chosen at run time: the local
//! host in this process (the default), or a `spin` binary when
//! `WANGJIE_RUNTIME` names one (`WANGJIE_RUNTIME=/path/to/spin cargo test
//! -p wangjie-e2e`). Both get the same manifest, state directory,
//! variables and runtime config, so a test cannot tell them apart but by
//! their behaviour; that is the point: the host counts as evidence only
//! where it answers as Spin does.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wangjie_host::{HostConfig, RunningApp};

/// The variable naming a `spin` binary to run the app with.
pub const RUNTIME_VAR: &str = "WANGJIE_RUNTIME";

/// How long a runtime may take to answer its first request: Spin compiles
/// every component at start.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// What is needed to start the app.
pub struct Launch<'a> {
    /// `spin.toml`.
    pub manifest: PathBuf,
    /// Spin's `--state-dir`.
    pub state_dir: &'a Path,
    /// Variables by lower-case name.
    pub variables: HashMap<String, String>,
    /// `--runtime-config-file`.
    pub runtime_config: Option<PathBuf>,
}

/// A running app.
pub enum Server {
    /// The local host, in this process.
    Host(RunningApp),
    /// A `spin up` child process on a loopback port.
    Spin {
        /// The process group, killed when dropped.
        process: SpinProcess,
        /// `http://127.0.0.1:<port>`.
        url: String,
    },
}

/// `spin up` and what it starts: `spin up` runs the HTTP trigger as a child
/// process of its own, which outlives a killed parent, so the whole
/// process group is killed, on stop and on drop (a failed test) alike.
pub struct SpinProcess {
    child: tokio::process::Child,
}

impl SpinProcess {
    fn kill_group(&mut self) {
        if let Some(pid) = self.child.id() {
            // The group's id is the leader's pid (`process_group(0)`).
            let _gone = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _reaped = self.child.start_kill();
    }
}

impl Drop for SpinProcess {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// The `spin` binary named by [`RUNTIME_VAR`], if any.
fn spin_binary() -> Option<PathBuf> {
    std::env::var_os(RUNTIME_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Server {
    /// Starts the app on the runtime this run was asked for.
    pub async fn start(launch: Launch<'_>) -> Result<Server> {
        match spin_binary() {
            None => wangjie_host::start(HostConfig {
                manifest: launch.manifest,
                listen: "127.0.0.1:0".parse()?,
                runtime_config: launch.runtime_config,
                state_dir: Some(launch.state_dir.to_path_buf()),
                variables: launch.variables,
            })
            .await
            .map(Server::Host)
            .context("starting the app; are the components built? (scripts/test builds them)"),
            Some(spin) => start_spin(&spin, launch).await,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        match self {
            Server::Host(app) => app.url(),
            Server::Spin { url, .. } => url.clone(),
        }
    }

    /// Stops the app.
    pub async fn shutdown(self) {
        match self {
            Server::Host(app) => app.shutdown().await,
            Server::Spin { mut process, .. } => {
                process.kill_group();
                let _reaped = process.child.wait().await;
            }
        }
    }
}

async fn start_spin(spin: &Path, launch: Launch<'_>) -> Result<Server> {
    // A free port: Spin takes an address, not port 0.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let log_path = launch.state_dir.join("spin.log");
    let log = std::fs::File::create(&log_path)?;
    let mut command = tokio::process::Command::new(spin);
    command
        .arg("up")
        .arg("-f")
        .arg(&launch.manifest)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--state-dir")
        .arg(launch.state_dir)
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true);
    if let Some(file) = &launch.runtime_config {
        command.arg("--runtime-config-file").arg(file);
    }
    for (name, value) in &launch.variables {
        command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
    }
    let mut process = SpinProcess {
        child: command
            .spawn()
            .with_context(|| format!("starting {}", spin.display()))?,
    };
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Some(status) = process.child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("{} exited with {status}:\n{log}", spin.display());
        }
        // Any answer will do: health is 503 until the schema is migrated.
        if client.get(format!("{url}/api/health")).send().await.is_ok() {
            return Ok(Server::Spin { process, url });
        }
        if started.elapsed() > START_TIMEOUT {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!(
                "{} did not answer within {START_TIMEOUT:?}:\n{log}",
                spin.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
