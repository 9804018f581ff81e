//! The scheduled jobs (docs/jobs.md): due-soon notices, overdue reminders,
//! pickup expiry, reader suspensions and the daily statistics roll-up.
//!
//! The cron component and `POST /admin/jobs/run` both call [`run`]. Every
//! job is idempotent and works in batches, each batch committed on its own
//! (one atomic statement, or one small transaction per order or reader):
//! an interrupted run loses nothing, and the next run finishes the work.
//! Notices carry dedup keys, so a second run queues nothing new.

pub mod figures;
pub mod ledger;
mod loans;
mod pickup;
mod retention;
pub mod stats;

use crate::db::Db;
use crate::kv::Kv;
use crate::{Error, Result};
use serde::Serialize;

pub use stats::beijing_day;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// One job, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Every job, in the order below.
    All,
    /// Due-soon notices.
    DueSoon,
    /// Overdue reminders.
    Overdue,
    /// Orders not collected in time.
    PickupExpiry,
    /// Readers with a loan long overdue are suspended.
    Suspensions,
    /// The daily statistics roll-up.
    Stats,
    /// Lockers silent too long go offline (and old nonces are forgotten).
    LockersOffline,
    /// Expired raw credit scores cleared, old WeChat message ids and
    /// revocations of expired session tokens pruned.
    Retention,
    /// Sesame orders of loans late beyond the grace are owed a report.
    SesameOverdue,
}

impl Job {
    /// Reads `all`, `due_soon`, `overdue`, `pickup_expiry`, `suspensions`, `stats`.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "all" => Job::All,
            "due_soon" => Job::DueSoon,
            "overdue" => Job::Overdue,
            "pickup_expiry" => Job::PickupExpiry,
            "suspensions" => Job::Suspensions,
            "stats" => Job::Stats,
            "lockers_offline" => Job::LockersOffline,
            "retention" => Job::Retention,
            "sesame_overdue" => Job::SesameOverdue,
            _ => return Err(Error::invalid(
                "job",
                "one of all, due_soon, overdue, pickup_expiry, suspensions, stats, lockers_offline, \
                 retention, sesame_overdue",
            )),
        })
    }

    fn includes(self, other: Job) -> bool {
        self == Job::All || self == other
    }

    /// Every single job, in the order [`run`] runs them.
    pub const EACH: [Job; 8] = [
        Job::DueSoon,
        Job::Overdue,
        Job::PickupExpiry,
        Job::Suspensions,
        Job::LockersOffline,
        Job::Retention,
        Job::SesameOverdue,
        Job::Stats,
    ];

    /// The name [`Job::parse`] reads.
    pub fn name(self) -> &'static str {
        match self {
            Job::All => "all",
            Job::DueSoon => "due_soon",
            Job::Overdue => "overdue",
            Job::PickupExpiry => "pickup_expiry",
            Job::Suspensions => "suspensions",
            Job::Stats => "stats",
            Job::LockersOffline => "lockers_offline",
            Job::Retention => "retention",
            Job::SesameOverdue => "sesame_overdue",
        }
    }
}

/// The jobs' policy, from the Spin variables of the same names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A loan due within this gets a due-soon notice (3 days).
    pub due_soon_ms: i64,
    /// Days overdue at which reminders 1, 2, 3 go out (1, 7, 14).
    pub overdue_steps_days: Vec<i64>,
    /// A reader with a loan this many days overdue is suspended (30).
    pub suspend_after_overdue_days: i64,
    /// Rows per batch.
    pub batch: i64,
    /// Milliseconds without a heartbeat after which a locker is offline.
    pub locker_offline_after_ms: i64,
    /// How long after its due date a Sesame loan still out is reported (3 days).
    pub sesame_overdue_grace_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            due_soon_ms: 3 * DAY_MS,
            overdue_steps_days: vec![1, 7, 14],
            suspend_after_overdue_days: 30,
            batch: 1000,
            locker_offline_after_ms: 3 * i64::from(crate::locker::store::NEXT_HEARTBEAT_S) * 1000,
            sesame_overdue_grace_ms: 3 * DAY_MS,
        }
    }
}

/// Parses `overdue_steps_days` ("1,7,14"): one to three strictly
/// increasing whole numbers of days (the notice kinds are overdue_1..3).
pub fn parse_steps(text: &str) -> Result<Vec<i64>> {
    let bad = || {
        Error::invalid(
            "overdue_steps_days",
            format!("{text:?} is not 1 to 3 increasing day counts like \"1,7,14\""),
        )
    };
    let steps = text
        .split(',')
        .map(|s| s.trim().parse::<i64>().map_err(|_| bad()))
        .collect::<Result<Vec<_>>>()?;
    let increasing = steps.windows(2).all(|w| w[0] < w[1]);
    if steps.is_empty() || steps.len() > 3 || !increasing || steps[0] < 0 {
        return Err(bad());
    }
    Ok(steps)
}

/// The settings from this component's Spin variables (`due_soon_ms`,
/// `overdue_steps_days`, `suspend_after_overdue_days`), defaults where a
/// variable is absent.
#[cfg(feature = "spin")]
pub fn settings_from_variables() -> Result<Settings> {
    use crate::spin::config;
    let defaults = Settings::default();
    let whole = |name: &'static str, default: i64| -> Result<i64> {
        let value = config::number(name, u64::try_from(default).unwrap_or_default())?;
        i64::try_from(value).map_err(|_| Error::Config {
            name,
            reason: "too large".into(),
        })
    };
    Ok(Settings {
        due_soon_ms: whole("due_soon_ms", defaults.due_soon_ms)?,
        overdue_steps_days: match config::optional("overdue_steps_days")? {
            Some(text) => parse_steps(&text)?,
            None => defaults.overdue_steps_days,
        },
        suspend_after_overdue_days: whole(
            "suspend_after_overdue_days",
            defaults.suspend_after_overdue_days,
        )?,
        batch: defaults.batch,
        locker_offline_after_ms: whole(
            "locker_offline_after_ms",
            defaults.locker_offline_after_ms,
        )?,
        sesame_overdue_grace_ms: whole(
            "sesame_overdue_grace_ms",
            defaults.sesame_overdue_grace_ms,
        )?,
    })
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Due-soon notices queued by this run.
    pub due_soon: u64,
    /// Overdue reminders queued by this run.
    pub overdue: u64,
    /// Orders moved to pickup_expired.
    pub pickup_expired: u64,
    /// Readers suspended.
    pub suspended: u64,
    /// Days whose statistics were (re)computed.
    pub stats_days: Vec<String>,
    /// Lockers marked offline by this run.
    pub lockers_offline: Vec<String>,
    /// Raw credit scores cleared (decisions and readers).
    pub scores_cleared: u64,
    /// WeChat message ids pruned.
    pub wechat_messages_pruned: u64,
    /// Revocations of expired session tokens forgotten.
    pub session_revocations_pruned: u64,
    /// Sesame orders of late loans now owed a report (sent by the `credit`
    /// component, `POST /admin/jobs/sync-sesame`).
    pub sesame_late: u64,
}

/// Runs `job` (or all of them) at `now_ms`, recording each job's run in
/// [`ledger`]; the first failure stops the run, recorded as a failure. The
/// key-value store is where lockers' steady heartbeats land
/// ([`crate::locker::beat_cache`]).
pub fn run(db: &dyn Db, kv: &dyn Kv, job: Job, settings: &Settings, now_ms: i64) -> Result<Report> {
    let mut report = Report::default();
    for one in Job::EACH.into_iter().filter(|&one| job.includes(one)) {
        let done = run_one(db, kv, one, settings, now_ms, &mut report);
        let summary = match &done {
            Ok(summary) => summary.clone(),
            Err(error) => serde_json::json!({ "error": error.to_string() }),
        };
        ledger::record(db, one, now_ms, done.is_ok(), &summary)?;
        done?;
    }
    Ok(report)
}

/// Runs one job, fills its part of `report` and answers that part alone.
fn run_one(
    db: &dyn Db,
    kv: &dyn Kv,
    job: Job,
    settings: &Settings,
    now_ms: i64,
    report: &mut Report,
) -> Result<serde_json::Value> {
    use serde_json::json;
    Ok(match job {
        Job::DueSoon => {
            report.due_soon = loans::due_soon(db, settings, now_ms)?;
            json!({ "due_soon": report.due_soon })
        }
        Job::Overdue => {
            report.overdue = loans::overdue(db, settings, now_ms)?;
            json!({ "overdue": report.overdue })
        }
        Job::PickupExpiry => {
            report.pickup_expired = pickup::expire(db, kv, settings.batch, now_ms)?;
            json!({ "pickup_expired": report.pickup_expired })
        }
        Job::Suspensions => {
            report.suspended = loans::suspend(db, settings, now_ms)?;
            json!({ "suspended": report.suspended })
        }
        Job::LockersOffline => {
            report.lockers_offline = crate::locker::store::mark_offline(
                db,
                kv,
                now_ms,
                settings.locker_offline_after_ms,
            )?;
            json!({ "lockers_offline": report.lockers_offline })
        }
        Job::Retention => {
            (report.scores_cleared, report.wechat_messages_pruned) =
                retention::clear(db, settings.batch, now_ms)?;
            report.session_revocations_pruned = crate::revocations::prune(db, now_ms)?;
            json!({
                "scores_cleared": report.scores_cleared,
                "wechat_messages_pruned": report.wechat_messages_pruned,
                "session_revocations_pruned": report.session_revocations_pruned,
            })
        }
        Job::SesameOverdue => {
            report.sesame_late = crate::sesame_orders::mark_late(
                db,
                settings.sesame_overdue_grace_ms,
                settings.batch,
                now_ms,
            )?;
            json!({ "sesame_late": report.sesame_late })
        }
        Job::Stats => {
            report.stats_days = stats::roll_up(db, now_ms)?;
            json!({ "stats_days": report.stats_days })
        }
        Job::All => json!({}),
    })
}

/// Queues a notice about a `subject_kind`/`subject_id` for a reader, once
/// per `dedup_key`, on the reader's channel of first choice. `true` when
/// it was queued now.
pub(crate) fn notice(
    db: &dyn Db,
    at_ms: i64,
    reader_id: i64,
    kind: &str,
    dedup_key: &str,
    subject: (&str, String),
    payload: serde_json::Value,
) -> Result<bool> {
    let queued = db.execute(
        "INSERT INTO notices (reader_id, kind, channel, dedup_key, subject_kind, subject_id, \
         payload, state, next_attempt_at_ms, created_at_ms, updated_at_ms) \
         SELECT id, $2, CASE WHEN wechat_openid IS NOT NULL THEN 'wechat' \
           WHEN alipay_user_id IS NOT NULL THEN 'alipay' ELSE 'sms' END, \
           $3, $4, $5, $6, 'queued', $7, $7, $7 FROM readers WHERE id = $1 \
         ON CONFLICT DO NOTHING",
        &[
            reader_id.into(),
            kind.into(),
            dedup_key.into(),
            subject.0.into(),
            subject.1.into(),
            payload.to_string().into(),
            at_ms.into(),
        ],
    )?;
    Ok(queued == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_and_are_checked() {
        assert_eq!(parse_steps("1,7,14").unwrap(), vec![1, 7, 14]);
        assert_eq!(parse_steps(" 2 , 5 ").unwrap(), vec![2, 5]);
        for bad in ["", "7,1", "1,1", "1,2,3,4", "x", "-1"] {
            assert!(parse_steps(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jobs_parse() {
        assert_eq!(Job::parse("all").unwrap(), Job::All);
        assert_eq!(Job::parse("stats").unwrap(), Job::Stats);
        assert!(Job::parse("everything").is_err());
        assert!(Job::All.includes(Job::Stats));
        assert!(!Job::Overdue.includes(Job::DueSoon));
        for job in Job::EACH {
            assert_eq!(Job::parse(job.name()).unwrap(), job);
        }
    }
}
