//! The `jobs` component: the scheduled jobs (docs/jobs.md), run by the
//! `spin-trigger-cron` plugin through `handle-cron-event`. The same code is
//! behind `POST /admin/jobs/run` for schedulers without the plugin.
#![warn(missing_docs)]

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "wangjie:platform/cron-job",
        generate_all,
    });
}

use bindings::fermyon::spin_cron::cron_types::{Error as CronError, Metadata};
use wangjie_shared::jobs::{self, Job};
use wangjie_shared::spin::db;

struct Jobs;

impl bindings::Guest for Jobs {
    fn handle_cron_event(metadata: Metadata) -> Result<(), CronError> {
        run(metadata.timestamp).map_err(|error| CronError::Other(error.to_string()))
    }
}

/// Runs every job; the trigger's timestamp (seconds) is only logged, the
/// jobs use the clock (a late run still sees the present).
fn run(timestamp: u64) -> wangjie_shared::Result<()> {
    let settings = jobs::settings_from_variables()?;
    let db = db::connect()?;
    wangjie_shared::db::migrate::ensure_current(db.as_ref())?;
    let kv = wangjie_shared::spin::kv::open_default()?;
    let report = jobs::run(
        db.as_ref(),
        &kv,
        Job::All,
        &settings,
        wangjie_shared::now_ms(),
    )?;
    println!(
        "jobs at {timestamp}: {}",
        serde_json::to_string(&report).unwrap_or_default()
    );
    Ok(())
}

bindings::export!(Jobs with_types_in bindings);
