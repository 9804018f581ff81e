//! The cron trigger, as the `spin-trigger-cron` plugin runs it: six-field
//! expressions (seconds first, UTC), each firing a fresh instance's
//! `handle-cron-event` with the Unix time in seconds.

use crate::app::App;
use anyhow::{anyhow, Context, Result};
use chrono::Utc;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit/deps/spin-cron@2.0.0",
        world: "fermyon:spin-cron/spin-cron",
        exports: { default: async },
    });
}

use bindings::fermyon::spin_cron::cron_types::{Error as CronError, Metadata};
pub(crate) use bindings::SpinCronPre;

/// Parses a cron expression; only the six- (or seven-, with years) field
/// form is accepted, so a five-field crontab line is refused as Spin would.
pub fn parse_schedule(expression: &str) -> Result<cron::Schedule> {
    let fields = expression.split_whitespace().count();
    anyhow::ensure!(
        fields == 6 || fields == 7,
        "cron_expression {expression:?} has {fields} fields; six are expected, seconds first (e.g. \"0 0 2 * * *\")"
    );
    cron::Schedule::from_str(expression)
        .with_context(|| format!("invalid cron_expression {expression:?}"))
}

/// One `[[trigger.cron]]`.
pub(crate) struct CronEntry {
    pub(crate) component: String,
    pub(crate) expression: String,
    schedule: cron::Schedule,
}

impl CronEntry {
    pub(crate) fn new(component: &str, expression: &str) -> Result<Self> {
        Ok(Self {
            component: component.to_string(),
            expression: expression.to_string(),
            schedule: parse_schedule(expression)?,
        })
    }
}

impl App {
    /// Runs a cron component once, now, as its schedule would.
    pub async fn run_cron(self: &Arc<Self>, component: &str) -> Result<()> {
        let loaded = self
            .components
            .get(component)
            .with_context(|| format!("no triggered component `{component}`"))?;
        let pre = loaded
            .cron
            .clone()
            .with_context(|| format!("component `{component}` has no cron trigger"))?;
        let mut store = self.store(loaded)?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let started = Instant::now();
        let outcome = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .call_handle_cron_event(&mut store, Metadata { timestamp })
                .await
        }
        .await
        .map_err(|trap| {
            anyhow::Error::from(trap).context(format!("cron component `{component}` trapped"))
        });
        let result = match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(CronError::Other(message))) => {
                Err(anyhow!("cron component `{component}` failed: {message}"))
            }
            Err(error) => Err(error),
        };
        let status = if result.is_ok() { "ok" } else { "failed" };
        eprintln!(
            "CRON -> {component} {status} {}us",
            started.elapsed().as_micros()
        );
        result
    }
}

/// Starts one task per cron trigger; they run until aborted.
pub(crate) fn spawn_schedules(app: &Arc<App>) -> Vec<tokio::task::JoinHandle<()>> {
    app.crons
        .iter()
        .map(|entry| {
            let app = app.clone();
            let component = entry.component.clone();
            let schedule = entry.schedule.clone();
            tokio::spawn(async move {
                for next in schedule.upcoming(Utc) {
                    let wait = (next - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                    // A failing run is logged and the schedule goes on, as
                    // the plugin does.
                    if let Err(error) = app.run_cron(&component).await {
                        eprintln!("{}", crate::app::describe(&error));
                    }
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_fields_seconds_first() {
        assert!(parse_schedule("0 0 2 * * *").is_ok());
        assert!(parse_schedule("*/10 * * * * *").is_ok());
        let error = parse_schedule("0 2 * * *")
            .map(|_| ())
            .expect_err("five fields");
        assert!(format!("{error:#}").contains("six"));
        assert!(parse_schedule("0 0 25 * * *").is_err());
    }
}
