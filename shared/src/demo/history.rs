//! The demo's *history*: loans, orders and returns over the past days, so
//! that the console's dashboard has figures to show (`POST
//! /admin/demo?history_days=30&history_per_day=300`). About 60% of loans
//! come from online orders (through Alipay, WeChat or the web, to
//! branches, lockers, metro and partner points or the door), the rest are
//! counter loans; loans run 3 to 30 days, and those whose return would lie
//! in the future are still open (their copies on loan). Orders placed
//! lately whose loan would start after now are still in flight: ready on
//! the hold shelf of a branch or partner site (`awaiting_pickup`, the copy
//! `on_hold` there, staff can hand it over), or on their way
//! (`in_transit`). Demo readers with a credit decision and no standing get
//! the standing the default policy makes of it. Written once, in one
//! transaction, then the roll-up computes every day's figures.

use super::history_write::write;
use crate::db::{in_transaction, Db};
use crate::jobs::{stats, DAY_MS};
use crate::{Error, Result};
use fastrand::Rng;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Most days of history one load may make.
pub const MAX_DAYS: u32 = 400;
/// Most loans per day.
pub const MAX_PER_DAY: u32 = 5_000;
/// Loans per day unless asked otherwise (the seed's service has ten times
/// as many; the demo stays quick to load).
pub const DEFAULT_PER_DAY: u32 = 300;

const HOUR_MS: i64 = 3_600_000;
pub(super) const LOAN_PERIOD_MS: i64 = 30 * DAY_MS;
/// How long a ready order waits on a hold shelf (`pickup_hold_ms`).
pub(super) const HOLD_MS: i64 = 7 * DAY_MS;
/// The marker event (subject `demo`/`history`) that says it was loaded.
const SQL_FIND_MARKER: &str =
    "SELECT id FROM events WHERE subject_kind = 'demo' AND subject_id = 'history'";

/// What a history load did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HistoryReport {
    /// True when a history was already there and nothing was written.
    pub already_loaded: bool,
    /// Orders written.
    pub orders: u64,
    /// Loans written.
    pub loans: u64,
    /// Of which still open.
    pub open_loans: u64,
    /// The days whose figures were rolled up.
    pub days_rolled_up: u64,
}

/// The readers, copies and points a history is made from.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    /// Reader ids with the channel each signs in through.
    pub readers: Vec<(i64, &'static str)>,
    /// On-shelf copies: barcode, record id, home point.
    pub copies: Vec<(String, i64, String)>,
    /// Pickup points by kind (`branch`, `self_service`, `metro`, `partner`).
    pub points: HashMap<String, Vec<String>>,
}

/// An order of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastOrder {
    /// `demo-history-N`.
    pub key: String,
    /// Who placed it, and through what.
    pub reader: i64,
    /// `alipay`, `wechat` or `web`.
    pub channel: &'static str,
    /// The pickup point, or `None` for the door.
    pub point: Option<String>,
    /// When it was placed.
    pub created_at_ms: i64,
    /// When it was ready at the point (never for the door, never after now).
    pub ready_at_ms: Option<i64>,
    /// For an order still in flight (no loan yet), its copy's index.
    pub in_flight: Option<usize>,
}

/// A loan of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastLoan {
    /// Index into the copies.
    pub copy: usize,
    /// The borrower.
    pub reader: i64,
    /// Index into the orders, for online loans.
    pub order: Option<usize>,
    /// When it started.
    pub started_at_ms: i64,
    /// When it came back, if it did.
    pub returned_at_ms: Option<i64>,
}

/// Makes `days` days (today included, up to `now_ms`) of about `per_day`
/// loans each from `pools`; deterministic for one seed.
pub fn generate(
    pools: &Pools,
    days: u32,
    per_day: u32,
    now_ms: i64,
    seed: u64,
) -> (Vec<PastOrder>, Vec<PastLoan>) {
    let (mut orders, mut loans) = (Vec::new(), Vec::new());
    if pools.readers.is_empty() || pools.copies.is_empty() {
        return (orders, loans);
    }
    let mut rng = Rng::with_seed(seed);
    // Copies out on a loan still open or with an order in flight.
    let mut taken = HashSet::new();
    let (_, today) = stats::beijing_day(now_ms);
    // Three days past today too: the loans of orders placed lately start
    // after now, and those orders are still in flight.
    for back in (-3..i64::from(days)).rev() {
        let start = today - back * DAY_MS;
        // Weekends are busier; every day a little different.
        let weekday = (start.div_euclid(DAY_MS) + 4) % 7; // 0 = Monday (1970-01-05 was one)
        let busy = if weekday >= 5 { 1.3 } else { 1.0 } * (0.85 + 0.3 * rng.f64());
        let count = (f64::from(per_day) * busy) as usize;
        for _ in 0..count {
            // Between 08:00 and 22:00, Beijing time.
            let started = start + 8 * HOUR_MS + rng.i64(0..14 * HOUR_MS);
            let (reader, channel) = pools.readers[rng.usize(..pools.readers.len())];
            let online = rng.f64() < 0.6;
            let (point, latency, kind) = pickup(&mut rng, pools);
            let wait = rng.i64(HOUR_MS..48 * HOUR_MS);
            let created = started - latency - wait;
            let channel = if rng.f64() < 0.1 { "web" } else { channel };
            let back_at = started + rng.i64(3 * DAY_MS..LOAN_PERIOD_MS);
            let mut copy = rng.usize(..pools.copies.len());
            let in_flight = started >= now_ms - 10 * 60_000;
            if in_flight && !(online && created < now_ms) {
                continue;
            }
            // A loan still open, or an order in flight, needs a copy of its own.
            let mut own_copy = false;
            if in_flight || back_at >= now_ms {
                if let Some(free) = free_copy(&mut rng, pools, &taken) {
                    (copy, own_copy) = (free, true);
                    taken.insert(free);
                } else if in_flight {
                    continue;
                }
            }
            let order = online.then(|| {
                let ready = created + latency;
                orders.push(PastOrder {
                    key: format!("demo-history-{}", orders.len()),
                    reader,
                    channel,
                    // In flight, only a hold shelf's order can be ready: a
                    // locker's would need a cell.
                    ready_at_ms: (point.is_some()
                        && ready < now_ms
                        && (!in_flight || matches!(kind, "branch" | "partner")))
                    .then_some(ready),
                    point: point.clone(),
                    created_at_ms: created,
                    in_flight: in_flight.then_some(copy),
                });
                orders.len() - 1
            });
            if in_flight {
                continue;
            }
            let returned = if !own_copy {
                Some(
                    back_at
                        .min(now_ms - rng.i64(60_000..HOUR_MS))
                        .max(started + 60_000),
                )
            } else {
                None
            };
            loans.push(PastLoan {
                copy,
                reader,
                order,
                started_at_ms: started,
                returned_at_ms: returned,
            });
        }
    }
    (orders, loans)
}

/// A copy no open loan or order in flight holds, if a few draws find one.
fn free_copy(rng: &mut Rng, pools: &Pools, taken: &HashSet<usize>) -> Option<usize> {
    (0..30)
        .map(|_| rng.usize(..pools.copies.len()))
        .find(|copy| !taken.contains(copy))
}

/// A pickup point (None: the door), the time to ready it and its kind.
fn pickup(rng: &mut Rng, pools: &Pools) -> (Option<String>, i64, &'static str) {
    let roll = rng.f64();
    let kind = match roll {
        r if r < 0.40 => "self_service",
        r if r < 0.75 => "branch",
        r if r < 0.87 => "metro",
        r if r < 0.92 => "partner",
        _ => "door",
    };
    let latency = match kind {
        "self_service" | "metro" => rng.i64(3 * HOUR_MS..24 * HOUR_MS),
        "door" => rng.i64(24 * HOUR_MS..48 * HOUR_MS),
        _ => rng.i64(4 * HOUR_MS..30 * HOUR_MS),
    };
    let point = pools
        .points
        .get(kind)
        .filter(|codes| !codes.is_empty())
        .map(|codes| codes[rng.usize(..codes.len())].clone());
    match (kind, point) {
        ("door", _) | (_, None) => (None, latency, "door"),
        (_, point) => (point, latency, kind),
    }
}

/// Reads the pools from a loaded demo.
fn pools(db: &dyn Db) -> Result<Pools> {
    let mut pools = Pools::default();
    let readers = db.query(
        "SELECT id, alipay_user_id, wechat_openid FROM readers WHERE status = 'active' \
         ORDER BY id LIMIT 3000",
        &[],
    )?;
    for row in readers.iter() {
        let channel = match (
            row.opt_text("alipay_user_id")?,
            row.opt_text("wechat_openid")?,
        ) {
            (Some(_), _) => "alipay",
            (None, Some(_)) => "wechat",
            _ => "web",
        };
        pools.readers.push((row.i64("id")?, channel));
    }
    let copies = db.query(
        "SELECT barcode, record_id, home_point FROM copies WHERE status = 'on_shelf' \
         ORDER BY barcode LIMIT 8000",
        &[],
    )?;
    for row in copies.iter() {
        pools.copies.push((
            row.text("barcode")?.to_string(),
            row.i64("record_id")?,
            row.text("home_point")?.to_string(),
        ));
    }
    let points = db.query(
        "SELECT code, kind FROM service_points WHERE kind <> 'delivery_centre' ORDER BY code",
        &[],
    )?;
    for row in points.iter() {
        pools
            .points
            .entry(row.text("kind")?.to_string())
            .or_default()
            .push(row.text("code")?.to_string());
    }
    Ok(pools)
}

/// Loads `days` days of about `per_day` loans each, once, then rolls the
/// days up.
pub fn load_history(db: &dyn Db, days: u32, per_day: u32, now_ms: i64) -> Result<HistoryReport> {
    if days > MAX_DAYS {
        return Err(Error::invalid(
            "history_days",
            format!("at most {MAX_DAYS}"),
        ));
    }
    if per_day > MAX_PER_DAY {
        return Err(Error::invalid(
            "history_per_day",
            format!("at most {MAX_PER_DAY}"),
        ));
    }
    if days == 0 || per_day == 0 {
        return Ok(HistoryReport::default());
    }
    if !db.query(SQL_FIND_MARKER, &[])?.is_empty() {
        return Ok(HistoryReport {
            already_loaded: true,
            ..HistoryReport::default()
        });
    }
    let pools = pools(db)?;
    let (orders, loans) = generate(&pools, days, per_day, now_ms, super::SEED ^ now_ms as u64);
    let mut report = in_transaction(db, |db| write(db, &pools, &orders, &loans, now_ms))?;
    let first = stats::beijing_day(now_ms).1 - (i64::from(days) - 1) * DAY_MS;
    report.days_rolled_up = stats::roll_up_since(db, first, now_ms)?.len() as u64;
    Ok(report)
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
