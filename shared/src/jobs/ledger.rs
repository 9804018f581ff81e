//! The jobs' *ledger* (`job_runs`): per job, when it last ran, whether it
//! succeeded and what it reported, for the console (`GET /admin/jobs`).
//! Only the last run is kept; the history is in the operator's scheduler
//! logs.

use super::Job;
use crate::db::Db;
use crate::Result;
use serde::Serialize;

/// One job's last run, or nulls for a job that never ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    /// The job's name (`due_soon`, `stats`, …).
    pub job: &'static str,
    /// When it last ran, epoch milliseconds.
    pub last_run_ms: Option<i64>,
    /// Whether that run succeeded.
    pub last_ok: Option<bool>,
    /// What that run did (`{"due_soon": 3}`), or `{"error": …}`.
    pub last_report: Option<serde_json::Value>,
}

/// Records a run of `job` at `at_ms`, replacing the previous one.
pub fn record(
    db: &dyn Db,
    job: Job,
    at_ms: i64,
    ok: bool,
    report: &serde_json::Value,
) -> Result<()> {
    db.execute(
        "INSERT INTO job_runs (job, last_run_ms, last_ok, last_report) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (job) DO UPDATE SET last_run_ms = excluded.last_run_ms, \
           last_ok = excluded.last_ok, last_report = excluded.last_report",
        &[
            job.name().into(),
            at_ms.into(),
            i64::from(ok).into(),
            report.to_string().into(),
        ],
    )?;
    Ok(())
}

/// Every job's last run, in the order the jobs run.
pub fn list(db: &dyn Db) -> Result<Vec<LastRun>> {
    let rows = db.query(
        "SELECT job, last_run_ms, last_ok, last_report FROM job_runs",
        &[],
    )?;
    let mut runs: Vec<LastRun> = Job::EACH
        .iter()
        .map(|job| LastRun {
            job: job.name(),
            last_run_ms: None,
            last_ok: None,
            last_report: None,
        })
        .collect();
    for row in rows.iter() {
        let name = row.text("job")?;
        if let Some(run) = runs.iter_mut().find(|run| run.job == name) {
            run.last_run_ms = Some(row.i64("last_run_ms")?);
            run.last_ok = Some(row.i64("last_ok")? == 1);
            run.last_report = serde_json::from_str(row.text("last_report")?).ok();
        }
    }
    Ok(runs)
}
