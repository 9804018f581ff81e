//! `wangjie-host up`: runs a Spin app from its `spin.toml` like `spin up`.

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use wangjie_host::{App, HostConfig};

#[derive(Parser)]
#[command(version, about = "Runs a Spin app locally, like `spin up`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app's HTTP routes and run its cron schedules.
    Up {
        #[command(flatten)]
        app: AppArgs,
        /// Address to listen on (port 0 picks one).
        #[arg(long, default_value = "127.0.0.1:3000", env = "SPIN_HTTP_LISTEN_ADDR")]
        listen: SocketAddr,
    },
    /// Run one cron component once, now, and exit (non-zero if it fails).
    Cron {
        #[command(flatten)]
        app: AppArgs,
        /// The component id of a `[[trigger.cron]]`.
        component: String,
    },
}

#[derive(Args)]
struct AppArgs {
    /// The manifest, or a directory containing `spin.toml`. As with
    /// `spin up`, also `--from-file` or `--file`.
    #[arg(
        short = 'f',
        long = "from",
        aliases = ["from-file", "file"],
        default_value = "spin.toml"
    )]
    from: PathBuf,
    /// Runtime configuration (key-value stores, SQLite databases).
    #[arg(long = "runtime-config-file")]
    runtime_config_file: Option<PathBuf>,
    /// State directory (default: `.spin` beside the manifest).
    #[arg(long = "state-dir")]
    state_dir: Option<PathBuf>,
}

impl AppArgs {
    fn config(self, listen: SocketAddr) -> HostConfig {
        HostConfig {
            manifest: self.from,
            listen,
            runtime_config: self.runtime_config_file,
            state_dir: self.state_dir,
            variables: wangjie_host::variables::from_env(),
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One readable chain, not a backtrace: these are operator errors.
            eprintln!("Error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Up { app, listen } => {
            let running = wangjie_host::start(app.config(listen)).await?;
            println!("{}", running.banner());
            tokio::select! {
                () = running.wait() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Command::Cron { app, component } => {
            let app = App::load(&app.config(SocketAddr::from(([127, 0, 0, 1], 0)))).await?;
            app.run_cron(&component).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(args: &[&str]) -> (PathBuf, SocketAddr, Option<PathBuf>) {
        let cli = Cli::try_parse_from(args).expect("parses");
        match cli.command {
            Command::Up { app, listen } => (app.from, listen, app.state_dir),
            Command::Cron { .. } => panic!("not `up`"),
        }
    }

    #[test]
    fn accepts_spin_up_flags() {
        let (from, listen, state_dir) = up(&[
            "wangjie-host",
            "up",
            "-f",
            "app/spin.toml",
            "--listen",
            "127.0.0.1:3001",
            "--state-dir",
            "state",
        ]);
        assert_eq!(from, PathBuf::from("app/spin.toml"));
        assert_eq!(listen, SocketAddr::from(([127, 0, 0, 1], 3001)));
        assert_eq!(state_dir, Some(PathBuf::from("state")));
    }

    #[test]
    fn file_and_from_file_are_aliases_of_from() {
        for flag in ["--from", "--from-file", "--file"] {
            let (from, _, _) = up(&["wangjie-host", "up", flag, "x/spin.toml"]);
            assert_eq!(from, PathBuf::from("x/spin.toml"), "{flag}");
        }
    }
}
