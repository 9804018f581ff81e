//! The dashboard's *figures*: one [`DayFigures`] per Beijing day as the
//! roll-up ([`super::stats`]) stores it in `daily_stats`, read back for
//! `GET /admin/stats?from=&to=` with the totals over the range, and the
//! arithmetic both need (percentiles, loans open at an instant).

use super::stats::beijing_day;
use crate::db::{Db, Row};
use crate::{Error, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Most days one request may ask for.
pub const MAX_DAYS: i64 = 400;
/// Days shown when the request names none.
pub const DEFAULT_DAYS: i64 = 30;

/// Orders placed per channel: how the reader's session was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ByChannel {
    /// Signed in through Alipay.
    pub alipay: i64,
    /// Signed in through WeChat.
    pub wechat: i64,
    /// Anything else (the web, older sessions).
    pub web: i64,
}

impl ByChannel {
    /// Adds `n` orders of `channel` (unknown channels count as web).
    pub fn add(&mut self, channel: &str, n: i64) {
        match channel {
            "alipay" => self.alipay += n,
            "wechat" => self.wechat += n,
            _ => self.web += n,
        }
    }

    fn sum(&self) -> i64 {
        self.alipay + self.wechat + self.web
    }
}

/// Orders placed per kind of destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ByPointKind {
    /// Collected at a branch (the delivery centre counts as one).
    pub branch: i64,
    /// Collected from a self-service locker.
    pub locker: i64,
    /// Collected at a metro point.
    pub metro: i64,
    /// Collected at a partner site.
    pub partner: i64,
    /// Delivered to the door.
    pub door: i64,
}

impl ByPointKind {
    /// Adds `n` orders whose pickup point is of `point_kind`
    /// (`service_points.kind`), or `door`.
    pub fn add(&mut self, point_kind: &str, n: i64) {
        match point_kind {
            "self_service" | "locker" => self.locker += n,
            "metro" => self.metro += n,
            "partner" => self.partner += n,
            "door" => self.door += n,
            _ => self.branch += n,
        }
    }

    fn plus(&self, other: &ByPointKind) -> ByPointKind {
        ByPointKind {
            branch: self.branch + other.branch,
            locker: self.locker + other.locker,
            metro: self.metro + other.metro,
            partner: self.partner + other.partner,
            door: self.door + other.door,
        }
    }
}

/// One Beijing day's figures, as `GET /admin/stats` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD`, Beijing time.
    pub day: String,
    /// Loans started.
    pub loans: i64,
    /// Of which from an order line.
    pub online_loans: i64,
    /// Loans returned.
    pub returns: i64,
    /// Distinct readers with a loan start, an order or a return.
    pub active_readers: i64,
    /// Orders placed, per channel.
    pub orders_by_channel: ByChannel,
    /// Orders placed, per kind of destination.
    pub orders_by_point_kind: ByPointKind,
    /// Median time from placing to ready at the point or cell, for the
    /// orders that became ready that day; null when none did.
    pub ready_p50_ms: Option<i64>,
    /// The 90th percentile of the same.
    pub ready_p90_ms: Option<i64>,
    /// Locker cells, as seen while the day was current.
    pub locker_cells_total: i64,
    /// Cells reserved, occupied or open.
    pub locker_cells_used: i64,
    /// Cells reported faulty.
    pub locker_cells_faulty: i64,
    /// Loans open at the day's end (at the roll-up, for today).
    pub open_loans: i64,
    /// Of which past due.
    pub overdue_loans: i64,
    /// Readers lending on credit (Sesame or Osmanthus), as seen that day.
    pub readers_credit: i64,
    /// Readers whose standing is the deposit.
    pub readers_deposit: i64,
}

/// The sums over a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Loans started.
    pub loans: i64,
    /// Of which online.
    pub online_loans: i64,
    /// Loans returned.
    pub returns: i64,
    /// Orders placed.
    pub orders: i64,
    /// Orders per channel.
    pub orders_by_channel: ByChannel,
    /// Orders per kind of destination.
    pub orders_by_point_kind: ByPointKind,
}

/// `GET /admin/stats`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    /// The first day.
    pub from: String,
    /// The last day, included.
    pub to: String,
    /// Every day from `from` to `to`, zeros where nothing was rolled up.
    pub days: Vec<DayFigures>,
    /// Sums over the days.
    pub totals: Totals,
}

/// The value at percentile `p` (0 < p <= 100) of `values` by the
/// nearest-rank method; `None` for no values.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() || p == 0 || p > 100 {
        return None;
    }
    values.sort_unstable();
    let rank = (u64::from(p) * values.len() as u64).div_ceil(100).max(1);
    values.get(rank as usize - 1).copied()
}

/// Loans open at an instant T in the past, from three counts each read
/// through one index: loans open now, loans returned at or after T, loans
/// started at or after T. A loan started after T is open now or returned
/// after T, so it is counted once and taken away once.
pub fn open_at(open_now: i64, returned_since: i64, started_since: i64) -> i64 {
    (open_now + returned_since - started_since).max(0)
}

fn parse_day(text: &str, field: &'static str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Error::invalid(field, "a date like 2026-11-28"))
}

/// The days asked for: `from` and `to` as given, else the last
/// [`DEFAULT_DAYS`] up to today (Beijing time). At most [`MAX_DAYS`].
pub fn days_asked(from: Option<&str>, to: Option<&str>, now_ms: i64) -> Result<Vec<String>> {
    let to = match to {
        Some(text) => parse_day(text, "to")?,
        None => parse_day(&beijing_day(now_ms).0, "to")?,
    };
    let from = match from {
        Some(text) => parse_day(text, "from")?,
        None => to - chrono::Duration::days(DEFAULT_DAYS - 1),
    };
    let count = (to - from).num_days() + 1;
    if count < 1 {
        return Err(Error::invalid("from", "must not be after to"));
    }
    if count > MAX_DAYS {
        return Err(Error::invalid(
            "to",
            format!("at most {MAX_DAYS} days at once"),
        ));
    }
    Ok(from
        .iter_days()
        .take(count as usize)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect())
}

fn json_column<T: Default + for<'de> Deserialize<'de>>(row: &Row<'_>, column: &str) -> Result<T> {
    Ok(serde_json::from_str(row.text(column)?).unwrap_or_default())
}

fn from_row(row: &Row<'_>) -> Result<DayFigures> {
    Ok(DayFigures {
        day: row.text("day")?.to_string(),
        loans: row.i64("loans")?,
        online_loans: row.i64("online_loans")?,
        returns: row.i64("returns")?,
        active_readers: row.i64("active_readers")?,
        orders_by_channel: json_column(row, "orders_by_channel")?,
        orders_by_point_kind: json_column(row, "orders_by_point_kind")?,
        ready_p50_ms: row.opt_i64("ready_p50_ms")?,
        ready_p90_ms: row.opt_i64("ready_p90_ms")?,
        locker_cells_total: row.i64("locker_cells_total")?,
        locker_cells_used: row.i64("locker_cells_used")?,
        locker_cells_faulty: row.i64("locker_cells_faulty")?,
        open_loans: row.i64("open_loans")?,
        overdue_loans: row.i64("overdue_loans")?,
        readers_credit: row.i64("readers_credit")?,
        readers_deposit: row.i64("readers_deposit")?,
    })
}

/// The stored figures of `days` (consecutive, oldest first), one range of
/// the primary key, with zeros for days never rolled up.
pub fn read(db: &dyn Db, days: &[String]) -> Result<Range> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Err(Error::invalid("from", "no days asked for"));
    };
    let rows = db.query(
        "SELECT day, loans, online_loans, returns, active_readers, orders_by_channel, \
         orders_by_point_kind, ready_p50_ms, ready_p90_ms, locker_cells_total, locker_cells_used, \
         locker_cells_faulty, open_loans, overdue_loans, readers_credit, readers_deposit \
         FROM daily_stats WHERE day >= $1 AND day <= $2 ORDER BY day",
        &[first.as_str().into(), last.as_str().into()],
    )?;
    let mut stored = rows
        .iter()
        .map(|row| from_row(&row))
        .collect::<Result<Vec<_>>>()?;
    stored.reverse();
    let mut out = Vec::with_capacity(days.len());
    for day in days {
        match stored.last() {
            Some(found) if &found.day == day => out.push(stored.pop().unwrap_or_default()),
            _ => out.push(DayFigures {
                day: day.clone(),
                ..DayFigures::default()
            }),
        }
    }
    let totals = totals(&out);
    Ok(Range {
        from: first.clone(),
        to: last.clone(),
        days: out,
        totals,
    })
}

/// The sums of the additive figures.
pub fn totals(days: &[DayFigures]) -> Totals {
    days.iter().fold(Totals::default(), |t, d| Totals {
        loans: t.loans + d.loans,
        online_loans: t.online_loans + d.online_loans,
        returns: t.returns + d.returns,
        orders: t.orders + d.orders_by_channel.sum(),
        orders_by_channel: ByChannel {
            alipay: t.orders_by_channel.alipay + d.orders_by_channel.alipay,
            wechat: t.orders_by_channel.wechat + d.orders_by_channel.wechat,
            web: t.orders_by_channel.web + d.orders_by_channel.web,
        },
        orders_by_point_kind: t.orders_by_point_kind.plus(&d.orders_by_point_kind),
    })
}

/// The start (epoch ms) of the Beijing day `day` names.
pub fn day_start(day: &str) -> Result<i64> {
    let date = parse_day(day, "day")?;
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Ok(midnight.timestamp_millis() - 8 * 3_600_000)
}

#[cfg(test)]
mod tests {
    use super::super::DAY_MS;
    use super::*;

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let mut ten: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut ten, 50), Some(5));
        assert_eq!(percentile(&mut ten, 90), Some(9));
        assert_eq!(percentile(&mut ten, 100), Some(10));
        assert_eq!(percentile(&mut [42], 50), Some(42));
        assert_eq!(percentile(&mut [42], 90), Some(42));
        assert_eq!(percentile(&mut [], 50), None);
        assert_eq!(percentile(&mut [7, 1, 3], 50), Some(3));
    }

    #[test]
    fn loans_open_at_an_instant_count_each_loan_once() {
        // Loans: a open across T, b started and returned before T,
        // c returned after T, d started after T and open, e started and
        // returned after T. Open at T: a and c.
        let open_now = 2; // a, d
        let returned_since = 2; // c, e
        let started_since = 2; // d, e
        assert_eq!(open_at(open_now, returned_since, started_since), 2);
    }

    #[test]
    fn orders_fall_into_the_five_kinds_and_three_channels() {
        let mut kinds = ByPointKind::default();
        for kind in [
            "branch",
            "delivery_centre",
            "self_service",
            "metro",
            "partner",
            "door",
        ] {
            kinds.add(kind, 1);
        }
        assert_eq!(
            (
                kinds.branch,
                kinds.locker,
                kinds.metro,
                kinds.partner,
                kinds.door
            ),
            (2, 1, 1, 1, 1)
        );
        let mut channels = ByChannel::default();
        channels.add("alipay", 2);
        channels.add("wechat", 1);
        channels.add("telegraph", 1);
        assert_eq!((channels.alipay, channels.wechat, channels.web), (2, 1, 1));
    }

    #[test]
    fn a_range_defaults_to_thirty_days_and_is_bounded() {
        // 2026-11-29T04:00:00Z is noon in Beijing.
        let now = 1_795_896_000_000;
        let days = days_asked(None, None, now).unwrap();
        assert_eq!((days.len(), days[29].as_str()), (30, "2026-11-29"));
        assert_eq!(days[0], "2026-10-31");
        let one = days_asked(Some("2026-02-28"), Some("2026-03-01"), now).unwrap();
        assert_eq!(one, ["2026-02-28", "2026-03-01"]);
        assert!(days_asked(Some("2026-03-02"), Some("2026-03-01"), now).is_err());
        assert!(days_asked(Some("2025-01-01"), Some("2026-03-01"), now).is_err());
        assert_eq!(
            days_asked(Some("2025-01-26"), Some("2026-03-01"), now)
                .unwrap()
                .len(),
            400
        );
        assert!(days_asked(Some("2026-13-01"), None, now).is_err());
    }

    #[test]
    fn a_day_starts_at_beijing_midnight() {
        let start = day_start("2026-11-29").unwrap();
        assert_eq!(beijing_day(start), ("2026-11-29".to_string(), start));
        assert_eq!(beijing_day(start - 1).0, "2026-11-28");
        assert_eq!(start % DAY_MS, DAY_MS - 8 * 3_600_000);
    }

    #[test]
    fn totals_add_the_days_up() {
        let day = DayFigures {
            loans: 3,
            online_loans: 2,
            returns: 1,
            orders_by_channel: ByChannel {
                alipay: 1,
                wechat: 2,
                web: 0,
            },
            orders_by_point_kind: ByPointKind {
                locker: 3,
                ..ByPointKind::default()
            },
            ..DayFigures::default()
        };
        let t = totals(&[day.clone(), day]);
        assert_eq!((t.loans, t.online_loans, t.returns, t.orders), (6, 4, 2, 6));
        assert_eq!(t.orders_by_point_kind.locker, 6);
        assert_eq!(t.orders_by_channel.wechat, 4);
    }
}
