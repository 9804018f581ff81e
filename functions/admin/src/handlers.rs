//! Parse, call the domain, answer.

use serde_json::json;
use wangjie_shared::db::{migrate, Dialect};
use wangjie_shared::demo::{self, DemoSize};
use wangjie_shared::health::{Check, Report};
use wangjie_shared::problem::Problem;
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::{config, db, kv, operator};
use wangjie_shared::{auth, now_ms, Error, Result};

const HEALTH_PROBE_KEY: &str = "health:probe";

/// Lets an operator through (the admin token, or an operator's staff
/// session): what every `/admin/*` route that changes something asks;
/// the console's reads admit supervisors too (`lib.rs`).
pub fn authorize(request: &Request) -> Result<()> {
    operator::authorize(request, auth::Access::Write)
}

/// `GET /api/health`: 200 when the database and the key-value store
/// answer and the schema is current, otherwise a 503 problem that carries
/// the same report.
pub fn report_health() -> Result<Reply> {
    let (backend, database) = match db::connect() {
        Ok(db) => {
            let backend = match db.dialect() {
                Dialect::Postgres => "postgres",
                Dialect::Sqlite => "sqlite",
            };
            let check = Check::from_result(
                migrate::ensure_current(db.as_ref())
                    .and_then(|()| migrate::current_version(db.as_ref())),
                |version| format!("schema version {version}"),
            );
            (backend, check)
        }
        Err(error) => (
            configured_backend(),
            Check::from_result::<(), _>(Err(error), |_| String::new()),
        ),
    };
    let key_value = Check::from_result(probe_key_value(), |_| "read back what was written".into());
    let report = Report {
        backend,
        database,
        key_value,
    };
    if report.healthy() {
        return Ok(Reply::json(
            200,
            &json!({ "status": "ok", "checks": report }),
        ));
    }
    let problem = Problem::new(
        503,
        "unhealthy",
        "Unhealthy",
        "one or more checks failed",
        true,
    )
    .with(
        "checks",
        serde_json::to_value(&report).map_err(anyhow::Error::from)?,
    );
    Ok(Reply::problem(&problem))
}

fn configured_backend() -> &'static str {
    match config::optional("database_url") {
        Ok(Some(url)) if !url.trim().is_empty() => "postgres",
        _ => "sqlite",
    }
}

fn probe_key_value() -> Result<()> {
    let store = kv::open_default()?;
    let written = now_ms().to_string();
    store
        .set(HEALTH_PROBE_KEY, written.as_bytes())
        .map_err(kv::unavailable)?;
    let read = store.get(HEALTH_PROBE_KEY).map_err(kv::unavailable)?;
    if read.as_deref() == Some(written.as_bytes()) {
        Ok(())
    } else {
        Err(Error::KeyValueUnavailable(anyhow::anyhow!(
            "read back a different value"
        )))
    }
}

/// `GET /admin/schema`: the database's schema version and the code's.
pub fn show_schema() -> Result<Reply> {
    let db = db::connect()?;
    let version = migrate::current_version(db.as_ref())?;
    Ok(Reply::json(
        200,
        &json!({ "version": version, "latest": migrate::latest_version() }),
    ))
}

/// `POST /admin/migrate`: applies what the database lacks; idempotent.
pub fn apply_migrations() -> Result<Reply> {
    let db = db::connect()?;
    let report = migrate::apply_pending(db.as_ref(), now_ms())?;
    Ok(Reply::json(200, &report))
}

/// `POST /admin/demo?records=N&readers=M&history_days=D&history_per_day=L`:
/// loads the demo library once, and then (once) D days of past loans,
/// orders and returns, about L loans a day (none unless asked), rolled up
/// into the daily statistics.
pub fn load_demo(request: &Request) -> Result<Reply> {
    let defaults = DemoSize::default();
    let size = DemoSize {
        records: request
            .parse_param("records", "a whole number")?
            .unwrap_or(defaults.records),
        readers: request
            .parse_param("readers", "a whole number")?
            .unwrap_or(defaults.readers),
    };
    let db = db::connect()?;
    migrate::ensure_current(db.as_ref())?;
    let history_days = request.count_param("history_days", 0, 0, demo::history::MAX_DAYS)?;
    let per_day = request.count_param(
        "history_per_day",
        demo::history::DEFAULT_PER_DAY,
        1,
        demo::history::MAX_PER_DAY,
    )?;
    let report = demo::load(db.as_ref(), &size, now_ms())?;
    let history = demo::load_history(db.as_ref(), history_days, per_day, now_ms())?;
    let mut body = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
    body["history"] = serde_json::to_value(&history).map_err(anyhow::Error::from)?;
    Ok(Reply::json(200, &body))
}

/// `POST /admin/staff/{id}/session`: a staff token for one shift, handed
/// out by the operator (staff sign-in through the library's directory is
/// not built; this is the seam it will replace).
pub fn open_staff_session(id: &str) -> Result<Reply> {
    let id = wangjie_shared::request::path_id(id, "a staff number")?;
    let staff = wangjie_shared::staff::get(db::connect()?.as_ref(), id)?;
    let (token, expires_at_ms) = wangjie_shared::spin::session::issue_staff(staff.id, now_ms())?;
    Ok(Reply::json(
        201,
        &json!({ "token": token, "expires_at_ms": expires_at_ms, "staff": staff }),
    ))
}

/// `POST /admin/jobs/expire-payments`: door orders whose fee was not paid
/// in time are cancelled and their copies released, a batch at a time
/// (the scheduler calls it; safe to run twice).
pub fn expire_payments() -> Result<Reply> {
    let expired =
        wangjie_shared::orders::payment::expire_unpaid(db::connect()?.as_ref(), now_ms(), 500)?;
    Ok(Reply::json(200, &json!({ "expired": expired })))
}

/// `GET /admin/staff?point=B001`: who works at a point, for the operator
/// who hands out staff sessions.
pub fn list_staff(request: &Request) -> Result<Reply> {
    let point = request
        .param("point")
        .ok_or_else(|| Error::invalid("point", "required: a service point code"))?;
    let staff = wangjie_shared::staff::at(db::connect()?.as_ref(), point)?;
    Ok(Reply::json(200, &json!({ "point": point, "staff": staff })))
}

/// `POST /admin/jobs/run?job=all|due_soon|overdue|pickup_expiry|suspensions|stats|lockers_offline|retention`:
/// the scheduled jobs, called every ten minutes from outside the app (a
/// Kubernetes CronJob, a crontab line; decision 0007), safe to run twice.
pub fn run_jobs(request: &Request) -> Result<Reply> {
    use wangjie_shared::jobs;
    let job = jobs::Job::parse(request.param("job").unwrap_or("all"))?;
    let settings = jobs::settings_from_variables()?;
    let db = db::connect()?;
    migrate::ensure_current(db.as_ref())?;
    let kv = kv::open_default()?;
    let report = jobs::run(db.as_ref(), &kv, job, &settings, now_ms())?;
    Ok(Reply::json(200, &report))
}

/// `POST /admin/jobs/lockers-offline[?after_ms=]`: lockers silent for
/// longer than `after_ms` (by default the `locker_offline_after_ms`
/// variable, as the scheduled job) go offline, so no order is routed to
/// them; staff see their orders.
pub fn lockers_offline(request: &Request) -> Result<Reply> {
    // A negative grace puts the cut-off in the future and takes every
    // locker offline, even one that beat a moment ago: read unsigned, "-1"
    // is refused as any malformed number is.
    let asked =
        request.parse_param::<u64>("after_ms", "a whole number of milliseconds, 0 or more")?;
    let after_ms = match asked {
        Some(ms) => i64::try_from(ms).map_err(|_| Error::invalid("after_ms", "too large"))?,
        None => wangjie_shared::jobs::settings_from_variables()?.locker_offline_after_ms,
    };
    let lockers = wangjie_shared::locker::store::mark_offline(
        db::connect()?.as_ref(),
        &kv::open_default()?,
        now_ms(),
        after_ms,
    )?;
    Ok(Reply::json(200, &json!({ "lockers": lockers })))
}
