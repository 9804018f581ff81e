//! The daily statistics roll-up (`daily_stats`): per Beijing-time day,
//! loans started, how many of them online (from an order line) against at
//! the counter, returns, and loans per kind of point (the pickup point's
//! kind for online loans, `door` for door deliveries, the copy's home
//! point's kind at the counter). Each run recomputes yesterday and today
//! and replaces their rows, so re-runs and late returns are harmless.

use super::DAY_MS;
use crate::db::Db;
use crate::Result;

/// Beijing time is UTC+8 all year.
const BEIJING_OFFSET_MS: i64 = 8 * 3_600_000;

/// The Beijing-time day (`YYYY-MM-DD`) holding `at_ms`, and its start.
pub fn beijing_day(at_ms: i64) -> (String, i64) {
    let start = (at_ms + BEIJING_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - BEIJING_OFFSET_MS;
    let day = chrono::DateTime::from_timestamp_millis(start + BEIJING_OFFSET_MS)
        .map(|t| t.date_naive().format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    (day, start)
}

/// Recomputes yesterday's and today's rows; returns their days.
pub fn roll_up(db: &dyn Db, now_ms: i64) -> Result<Vec<String>> {
    let (_, today) = beijing_day(now_ms);
    let mut days = Vec::new();
    for start in [today - DAY_MS, today] {
        let (day, start) = beijing_day(start);
        one_day(db, &day, start, now_ms)?;
        days.push(day);
    }
    Ok(days)
}

fn count(db: &dyn Db, sql: &str, start: i64) -> Result<i64> {
    let rows = db.query(sql, &[start.into(), (start + DAY_MS).into()])?;
    rows.first().map_or(Ok(0), |row| row.i64("n"))
}

fn one_day(db: &dyn Db, day: &str, start: i64, now_ms: i64) -> Result<()> {
    let loans = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE started_at_ms >= $1 AND started_at_ms < $2",
        start,
    )?;
    let online = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE started_at_ms >= $1 AND started_at_ms < $2 \
         AND order_line_id IS NOT NULL",
        start,
    )?;
    let returns = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE returned_at_ms >= $1 AND returned_at_ms < $2",
        start,
    )?;
    let kinds = db.query(
        "SELECT COALESCE(p.kind, 'door') AS kind, COUNT(*) AS n FROM loans l \
           JOIN copies c ON c.barcode = l.copy_barcode \
           LEFT JOIN order_lines ol ON ol.id = l.order_line_id \
           LEFT JOIN orders o ON o.id = ol.order_id \
           LEFT JOIN service_points p ON p.code = \
             CASE WHEN l.order_line_id IS NULL THEN c.home_point ELSE o.pickup_point END \
         WHERE l.started_at_ms >= $1 AND l.started_at_ms < $2 \
         GROUP BY COALESCE(p.kind, 'door') ORDER BY 1",
        &[start.into(), (start + DAY_MS).into()],
    )?;
    let mut by_kind = serde_json::Map::new();
    for row in kinds.iter() {
        by_kind.insert(row.text("kind")?.to_string(), row.i64("n")?.into());
    }
    db.execute(
        "INSERT INTO daily_stats (day, loans, online_loans, returns, by_point_kind, computed_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (day) DO UPDATE SET loans = excluded.loans, \
           online_loans = excluded.online_loans, returns = excluded.returns, \
           by_point_kind = excluded.by_point_kind, computed_at_ms = excluded.computed_at_ms",
        &[
            day.into(),
            loans.into(),
            online.into(),
            returns.into(),
            serde_json::Value::Object(by_kind).to_string().into(),
            now_ms.into(),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_beijing_days() {
        // 2026-11-28T15:59:59.999Z is 23:59:59.999 in Beijing; a ms later
        // is the 29th.
        let before = 1_795_881_599_999;
        assert_eq!(beijing_day(before).0, "2026-11-28");
        assert_eq!(beijing_day(before + 1).0, "2026-11-29");
        assert_eq!(beijing_day(before + 1).1, before + 1);
        assert_eq!(beijing_day(before).1, before + 1 - DAY_MS);
    }
}
