//! `wangjie-locker-sim`: runs simulated lockers against a running app.
//!
//! ```sh
//! # every locker of the app, a heartbeat each every 30 s, for 5 minutes,
//! # with some resent batches, late events, faults and drifting clocks:
//! wangjie-locker-sim --url http://127.0.0.1:3000 --master-key "$KEY" \
//!     --duration 300 --duplicate-pct 10 --late-pct 10 --fault-pct 2 --skew-ms 90000
//! # a courier's deposit and a return before the run:
//! wangjie-locker-sim ... --deposit P042:17:31990012345678 --return P042:31990012345679
//! # the benchmark: back to back, 16 in flight, 20 s after 5 s warm-up:
//! wangjie-locker-sim ... --interval 0 --concurrency 16 --duration 20 --warmup 5
//! ```
//!
//! The last lines printed are the report; `RESULT ...` is for scripts.
//! Exits 1 when a request got no answer or a 5xx.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::time::Duration;
use wangjie_locker_sim::client::now_ms;
use wangjie_locker_sim::fleet::{self, FleetConfig};
use wangjie_locker_sim::{Chaos, Link};

#[derive(Parser)]
#[command(
    version,
    about = "Simulated smart lockers against a running wangjie app"
)]
struct Cli {
    /// The app's base URL.
    #[arg(long, env = "WANGJIE_URL", default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The app's locker_master_key variable.
    #[arg(long, env = "SPIN_VARIABLE_LOCKER_MASTER_KEY", hide_env_values = true)]
    master_key: String,
    /// Locker ids, comma-separated (240 cells each); default: every point
    /// with a locker that `GET /api/points` lists.
    #[arg(long, value_delimiter = ',')]
    lockers: Vec<String>,
    /// Use only the first N lockers.
    #[arg(long)]
    count: Option<usize>,
    /// Workers, each a closed loop over its share of the lockers.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds to run (after the warm-up).
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Seconds at the start not measured.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Seconds between one locker's heartbeats; 0: back to back.
    #[arg(long, default_value_t = 30.0)]
    interval: f64,
    /// Percent of answered event batches sent once more (a lost answer).
    #[arg(long, default_value_t = 0)]
    duplicate_pct: u8,
    /// Percent of events held back until after the next heartbeat.
    #[arg(long, default_value_t = 0)]
    late_pct: u8,
    /// Percent of heartbeats preceded by a fault on a random empty cell.
    #[arg(long, default_value_t = 0)]
    fault_pct: u8,
    /// Every fourth locker's clock starts this many milliseconds off.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    skew_ms: i64,
    /// Seed of the chaos.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A courier deposit before the run, LOCKER:CELL:BARCODE (repeatable).
    #[arg(long = "deposit")]
    deposits: Vec<String>,
    /// A return drop before the run, LOCKER:BARCODE (repeatable).
    #[arg(long = "return")]
    returns: Vec<String>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    for (name, pct) in [
        ("--duplicate-pct", cli.duplicate_pct),
        ("--late-pct", cli.late_pct),
        ("--fault-pct", cli.fault_pct),
    ] {
        if pct > 100 {
            bail!("{name} is a percentage, 0 to 100");
        }
    }
    let link = Link::new(&cli.url)?;
    let mut lockers = if cli.lockers.is_empty() {
        fleet::discover(&link).await?
    } else {
        cli.lockers.iter().map(|id| (id.clone(), 240)).collect()
    };
    lockers.truncate(cli.count.unwrap_or(usize::MAX));
    let config = FleetConfig {
        url: cli.url.clone(),
        master_key: cli.master_key.clone(),
        lockers,
        concurrency: cli.concurrency,
        duration: Duration::from_secs_f64(cli.duration),
        warmup: Duration::from_secs_f64(cli.warmup),
        interval: (cli.interval > 0.0).then(|| Duration::from_secs_f64(cli.interval)),
        chaos: Chaos {
            duplicate_pct: cli.duplicate_pct,
            late_pct: cli.late_pct,
            fault_pct: cli.fault_pct,
        },
        skew_ms: cli.skew_ms,
        seed: cli.seed,
    };
    let mut sims = fleet::build(&config)?;
    for deposit in &cli.deposits {
        let [id, cell, barcode] = split::<3>(deposit, "--deposit LOCKER:CELL:BARCODE")?;
        let cell: u16 = cell.parse().context("--deposit: the cell is a number")?;
        find(&mut sims, id)?.deposit(now_ms(), cell, barcode);
    }
    for drop in &cli.returns {
        let [id, barcode] = split::<2>(drop, "--return LOCKER:BARCODE")?;
        find(&mut sims, id)?.return_drop(now_ms(), barcode);
    }
    eprintln!(
        "{} lockers against {}, {} workers, {} s{}",
        sims.len(),
        cli.url,
        config.concurrency,
        cli.duration,
        match config.interval {
            Some(every) => format!(", a heartbeat each every {} s", every.as_secs_f64()),
            None => ", heartbeats back to back".into(),
        }
    );
    let (report, _) = fleet::run(&config, sims).await?;
    println!("{}", report.summary());
    for why in &report.tally.rejections {
        println!("rejected {why}");
    }
    for error in &report.errors {
        eprintln!("no answer: {error}");
    }
    let server_errors: u64 = report
        .statuses
        .iter()
        .chain(&report.event_statuses)
        .filter(|(status, _)| **status >= 500)
        .map(|(_, n)| n)
        .sum();
    if report.transport_errors > 0 || server_errors > 0 {
        bail!(
            "{} requests without an answer, {server_errors} answered 5xx",
            report.transport_errors
        );
    }
    Ok(())
}

fn split<'a, const N: usize>(text: &'a str, usage: &str) -> Result<[&'a str; N]> {
    let parts: Vec<&str> = text.splitn(N, ':').collect();
    parts
        .try_into()
        .ok()
        .filter(|p: &[&str; N]| p.iter().all(|s| !s.is_empty()))
        .with_context(|| format!("{text:?}: expected {usage}"))
}

fn find<'a>(
    sims: &'a mut [wangjie_locker_sim::SimLocker],
    id: &str,
) -> Result<&'a mut wangjie_locker_sim::SimLocker> {
    sims.iter_mut()
        .find(|l| l.id == id)
        .with_context(|| format!("locker {id} is not in the fleet"))
}
