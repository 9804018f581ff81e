//! A fleet: many simulated lockers calling one app at once, for the demo
//! (a heartbeat per locker every interval, as real lockers do) and for the
//! benchmark (no interval: each worker sends its lockers' heartbeats back
//! to back, `concurrency` requests in flight).

use crate::client::{now_ms, Link};
use crate::locker::{Chaos, SimLocker, Tally};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wangjie_shared::locker::store::derive_secret;

/// What a fleet run does.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The app's base URL.
    pub url: String,
    /// The app's `locker_master_key`, from which each locker's secret comes.
    pub master_key: String,
    /// The lockers' ids and their cell counts.
    pub lockers: Vec<(String, u16)>,
    /// Workers, each a closed loop over its share of the lockers.
    pub concurrency: usize,
    /// How long to run after the warm-up.
    pub duration: Duration,
    /// Not measured at the start.
    pub warmup: Duration,
    /// A heartbeat per locker this often; `None`: back to back.
    pub interval: Option<Duration>,
    /// Misbehaviour.
    pub chaos: Chaos,
    /// Every fourth locker starts with its clock this far off (a negative
    /// value: behind).
    pub skew_ms: i64,
    /// Makes the chaos repeatable.
    pub seed: u64,
}

/// What a fleet run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Heartbeats answered within the measured window.
    pub heartbeats: u64,
    /// Their statuses.
    pub statuses: BTreeMap<u16, u64>,
    /// Event requests within the window and their statuses.
    pub event_statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection refused, timeout).
    pub transport_errors: u64,
    /// The first few of those.
    pub errors: Vec<String>,
    /// Heartbeat latencies within the window, microseconds.
    pub latencies_us: Vec<u64>,
    /// The measured window.
    pub elapsed: Duration,
    /// Summed over every locker (the whole run, warm-up included).
    pub tally: Tally,
    /// Events no answer named when the run stopped.
    pub unanswered: usize,
}

impl Report {
    /// Heartbeats per second in the window.
    pub fn rate(&self) -> f64 {
        self.heartbeats as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p` quantile (0 to 1) of the heartbeat latency, milliseconds.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        match sorted.len() {
            0 => 0.0,
            n => sorted[((p * n as f64) as usize).min(n - 1)] as f64 / 1000.0,
        }
    }

    /// One line for scripts (`key=value`), then a readable summary.
    pub fn summary(&self) -> String {
        let t = &self.tally;
        let statuses = |m: &BTreeMap<u16, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "RESULT heartbeats={} seconds={:.1} rate={:.1} p50={:.2} p95={:.2} p99={:.2} max={:.2} statuses={} event_statuses={} transport_errors={}\n\
             events: {} recorded, {} duplicate, {} rejected, {} unanswered at the end; {} batches resent on purpose, {} events sent late\n\
             commands: {} carried out, {} repeated by the server and acknowledged again, {} failed; {} pickups; clock set {} times",
            self.heartbeats,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.quantile_ms(0.50),
            self.quantile_ms(0.95),
            self.quantile_ms(0.99),
            self.quantile_ms(1.0),
            statuses(&self.statuses),
            statuses(&self.event_statuses),
            self.transport_errors,
            t.recorded,
            t.duplicate,
            t.rejected,
            self.unanswered,
            t.resent_batches,
            t.late_events,
            t.commands_done,
            t.commands_repeated,
            t.commands_failed,
            t.pickups,
            t.clock_sets,
        )
    }

    fn absorb(&mut self, other: Report) {
        self.heartbeats += other.heartbeats;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (k, v) in other.event_statuses {
            *self.event_statuses.entry(k).or_default() += v;
        }
        self.transport_errors += other.transport_errors;
        self.errors.extend(other.errors.into_iter().take(5));
        self.latencies_us.extend(other.latencies_us);
        self.unanswered += other.unanswered;
    }
}

/// Adds `b`'s counts to `a`.
pub fn add_tally(a: &mut Tally, b: &Tally) {
    a.recorded += b.recorded;
    a.duplicate += b.duplicate;
    a.rejected += b.rejected;
    a.rejections.extend(
        b.rejections
            .iter()
            .take(20 - a.rejections.len().min(20))
            .cloned(),
    );
    a.commands_done += b.commands_done;
    a.commands_repeated += b.commands_repeated;
    a.commands_failed += b.commands_failed;
    a.pickups += b.pickups;
    a.clock_sets += b.clock_sets;
    a.resent_batches += b.resent_batches;
    a.late_events += b.late_events;
}

/// The lockers of the app at `link`: every service point with a locker,
/// from the public `GET /api/points`.
pub async fn discover(link: &Link) -> Result<Vec<(String, u16)>> {
    let answer: serde_json::Value = reqwest::get(format!("{}/api/points?limit=1000", link.base()))
        .await?
        .error_for_status()?
        .json()
        .await?;
    let mut lockers = Vec::new();
    for point in answer["points"].as_array().into_iter().flatten() {
        if let (Some(code), Some(cells)) =
            (point["code"].as_str(), point["locker"]["cells"].as_u64())
        {
            lockers.push((code.to_string(), cells.min(240) as u16));
        }
    }
    if lockers.is_empty() {
        bail!("the app at {} lists no point with a locker", link.base());
    }
    Ok(lockers)
}

/// Makes the fleet's lockers, their secrets derived from the master key.
pub fn build(config: &FleetConfig) -> Result<Vec<SimLocker>> {
    let mut lockers = Vec::with_capacity(config.lockers.len());
    for (i, (id, cells)) in config.lockers.iter().enumerate() {
        let secret = derive_secret(&config.master_key, id)?;
        let mut locker = SimLocker::new(id, secret, *cells, config.chaos, config.seed + i as u64);
        if i % 4 == 0 {
            locker.skew_ms = config.skew_ms;
        }
        lockers.push(locker);
    }
    Ok(lockers)
}

/// Runs `lockers` against the app as `config` says; the report, and the
/// lockers as they ended (their cells, tallies and unanswered events).
pub async fn run(
    config: &FleetConfig,
    lockers: Vec<SimLocker>,
) -> Result<(Report, Vec<SimLocker>)> {
    let link = Link::new(&config.url)?;
    let workers = config.concurrency.clamp(1, lockers.len().max(1));
    let mut shares: Vec<Vec<SimLocker>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, locker) in lockers.into_iter().enumerate() {
        shares[i % workers].push(locker);
    }
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let stop = measure_from + config.duration;
    let mut tasks = Vec::new();
    for share in shares {
        let link = link.clone();
        let interval = config.interval;
        tasks.push(tokio::spawn(async move {
            worker(link, share, interval, measure_from, stop).await
        }));
    }
    let mut report = Report {
        elapsed: config.duration,
        ..Report::default()
    };
    let mut ended = Vec::new();
    for task in tasks {
        let (part, share) = task.await?;
        report.absorb(part);
        ended.extend(share);
    }
    for locker in &ended {
        add_tally(&mut report.tally, &locker.tally);
    }
    Ok((report, ended))
}

async fn worker(
    link: Link,
    mut lockers: Vec<SimLocker>,
    interval: Option<Duration>,
    measure_from: Instant,
    stop: Instant,
) -> (Report, Vec<SimLocker>) {
    let mut report = Report::default();
    // Spread the first heartbeats of a paced fleet over one interval.
    let mut due: Vec<Instant> = (0..lockers.len())
        .map(|i| match interval {
            Some(every) => Instant::now() + every.mul_f64(i as f64 / lockers.len() as f64),
            None => Instant::now(),
        })
        .collect();
    'run: loop {
        for (i, locker) in lockers.iter_mut().enumerate() {
            if Instant::now() >= stop {
                break 'run;
            }
            if let Some(every) = interval {
                tokio::time::sleep_until(due[i].into()).await;
                due[i] += every;
            }
            let measured = Instant::now() >= measure_from;
            match link.round(locker).await {
                Ok(answers) => {
                    let mut answers = answers.into_iter();
                    if let (true, Some(beat)) = (measured && Instant::now() <= stop, answers.next())
                    {
                        report.heartbeats += 1;
                        *report.statuses.entry(beat.status).or_default() += 1;
                        report.latencies_us.push(beat.elapsed.as_micros() as u64);
                        for events in answers {
                            *report.event_statuses.entry(events.status).or_default() += 1;
                        }
                    }
                }
                Err(error) => {
                    report.transport_errors += 1;
                    if report.errors.len() < 5 {
                        report
                            .errors
                            .push(format!("{} at {}: {error:#}", locker.id, now_ms()));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    report.unanswered = lockers.iter().map(SimLocker::unanswered).sum();
    (report, lockers)
}
