//! The abuse limits ([`crate::rate`]) as components apply them: the
//! limits read from variables, the client's address from Spin's
//! `spin-client-addr` header, the counters in the default store. Each
//! `admit_*` runs before the costly work and before anything is stored,
//! so a refused attempt costs one counter increment and nothing else.

use crate::rate::{self, Limit, HOUR_MS, MINUTE_MS};
use crate::request::Request;
use crate::spin::{config, kv::Bucket};
use crate::{now_ms, Result};

/// Counts one attempt for each `(limit, subject)`, in order; the first
/// exceeded refuses the request.
fn admit_all(checks: &[(Limit, &str)]) -> Result<()> {
    let store = Bucket::open_default()?;
    let now = now_ms();
    for (limit, subject) in checks {
        rate::admit(&store, limit, subject, now)?;
    }
    Ok(())
}

fn limit(
    scope: &'static str,
    variable: &'static str,
    default: u64,
    window_ms: i64,
) -> Result<Limit> {
    Ok(Limit {
        scope,
        max: config::number(variable, default)?,
        window_ms,
    })
}

/// The client's IP address, or `unknown` when the runtime gave none (every
/// such request then shares one counter).
fn client_ip(request: &Request) -> String {
    request
        .header("spin-client-addr")
        .and_then(rate::client_ip)
        .unwrap_or("unknown")
        .to_string()
}

/// A reader's sign-in through Alipay or WeChat (a provider call each):
/// `sign_in_per_ip_per_minute` per client address. The reader is not
/// known before the provider answers, so the address is the subject.
pub fn admit_sign_in(request: &Request) -> Result<()> {
    let ip = client_ip(request);
    admit_all(&[(
        limit("sign-in-ip", "sign_in_per_ip_per_minute", 30, MINUTE_MS)?,
        &ip,
    )])
}

/// A staff sign-in (an argon2 hash): `sign_in_per_ip_per_minute` per
/// client address and `staff_sign_in_per_staff_no_per_hour` per staff
/// number, so one account cannot be guessed at from many addresses.
pub fn admit_staff_sign_in(request: &Request, staff_no: &str) -> Result<()> {
    let ip = client_ip(request);
    admit_all(&[
        (
            limit("sign-in-ip", "sign_in_per_ip_per_minute", 30, MINUTE_MS)?,
            &ip,
        ),
        (
            limit(
                "sign-in-staff",
                "staff_sign_in_per_staff_no_per_hour",
                20,
                HOUR_MS,
            )?,
            staff_no,
        ),
    ])
}

/// A credit check (a provider call): `credit_checks_per_reader_per_hour`
/// per reader and `credit_checks_per_ip_per_hour` per client address.
pub fn admit_credit_check(request: &Request, reader_id: i64) -> Result<()> {
    let ip = client_ip(request);
    let reader = reader_id.to_string();
    admit_all(&[
        (
            limit(
                "credit-reader",
                "credit_checks_per_reader_per_hour",
                10,
                HOUR_MS,
            )?,
            &reader,
        ),
        (
            limit("credit-ip", "credit_checks_per_ip_per_hour", 100, HOUR_MS)?,
            &ip,
        ),
    ])
}
