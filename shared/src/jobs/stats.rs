//! The daily statistics roll-up (`daily_stats`): per Beijing-time day,
//! the figures of [`super::figures::DayFigures`]. Each run recomputes only
//! the days not yet final, yesterday and today, and replaces their rows,
//! so re-runs and late returns are harmless. Every count reads the day's
//! rows through an index on a time column (`loans_by_start`,
//! `loans_by_return`, `orders_by_created`, `orders_by_ready`, the open
//! loans' partial index), never a whole table: a province's year is a
//! million loans. Snapshots (locker cells, readers by standing) are taken
//! while the day is current and kept once it is past.

use super::figures::{open_at, percentile, ByChannel, ByPointKind, DayFigures};
use super::DAY_MS;
use crate::db::{Db, Value};
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
    roll_up_since(db, today - DAY_MS, now_ms)
}

/// Recomputes every day from the one holding `first_ms` to today: for a
/// backfill (the demo's history), not for the scheduled run.
pub fn roll_up_since(db: &dyn Db, first_ms: i64, now_ms: i64) -> Result<Vec<String>> {
    let (_, today) = beijing_day(now_ms);
    let (_, mut start) = beijing_day(first_ms);
    let mut days = Vec::new();
    while start <= today {
        let (day, _) = beijing_day(start);
        one_day(db, &day, start, now_ms)?;
        days.push(day);
        start += DAY_MS;
    }
    Ok(days)
}

fn count(db: &dyn Db, sql: &str, params: &[Value]) -> Result<i64> {
    let rows = db.query(sql, params)?;
    rows.first().map_or(Ok(0), |row| row.i64("n"))
}

/// Which of a day's figures are snapshots of the moment.
struct Snapshot {
    cells: (i64, i64, i64),
    readers: (i64, i64),
}

fn snapshot_now(db: &dyn Db) -> Result<Snapshot> {
    let rows = db.query(
        "SELECT COUNT(*) AS total, \
           COUNT(CASE WHEN state IN ('reserved', 'occupied', 'door_open') THEN 1 END) AS used, \
           COUNT(CASE WHEN state = 'fault' THEN 1 END) AS faulty FROM locker_cells",
        &[],
    )?;
    let cells = match rows.first() {
        Some(row) => (row.i64("total")?, row.i64("used")?, row.i64("faulty")?),
        None => (0, 0, 0),
    };
    let mut readers = (0, 0);
    let standings = db.query(
        "SELECT standing, COUNT(*) AS n FROM readers WHERE standing IS NOT NULL GROUP BY standing",
        &[],
    )?;
    for row in standings.iter() {
        match row.text("standing")? {
            "sesame_deposit_free" | "osmanthus_virtual_card" => readers.0 += row.i64("n")?,
            "deposit" => readers.1 += row.i64("n")?,
            _ => {}
        }
    }
    Ok(Snapshot { cells, readers })
}

fn snapshot_kept(db: &dyn Db, day: &str) -> Result<Option<Snapshot>> {
    let rows = db.query(
        "SELECT locker_cells_total, locker_cells_used, locker_cells_faulty, readers_credit, \
         readers_deposit FROM daily_stats WHERE day = $1",
        &[day.into()],
    )?;
    rows.first()
        .map(|row| {
            Ok(Snapshot {
                cells: (
                    row.i64("locker_cells_total")?,
                    row.i64("locker_cells_used")?,
                    row.i64("locker_cells_faulty")?,
                ),
                readers: (row.i64("readers_credit")?, row.i64("readers_deposit")?),
            })
        })
        .transpose()
}

/// Loans open, and of them overdue, at `at_ms` (now or in the past).
fn open_and_overdue(db: &dyn Db, at_ms: i64) -> Result<(i64, i64)> {
    let at = [at_ms.into()];
    let open_now = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE returned_at_ms IS NULL",
        &[],
    )?;
    let returned_since = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE returned_at_ms >= $1",
        &at,
    )?;
    let started_since = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE started_at_ms >= $1",
        &at,
    )?;
    // A loan started after the instant falls due after it, so only these two.
    let overdue_open = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE returned_at_ms IS NULL AND due_at_ms < $1",
        &at,
    )?;
    let overdue_returned_since = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE returned_at_ms >= $1 AND due_at_ms < $1",
        &at,
    )?;
    Ok((
        open_at(open_now, returned_since, started_since),
        overdue_open + overdue_returned_since,
    ))
}

/// The figures of the day `[start, start + DAY_MS)` that come from its rows.
fn day_rows(db: &dyn Db, figures: &mut DayFigures, start: i64) -> Result<()> {
    let range = [start.into(), (start + DAY_MS).into()];
    figures.loans = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE started_at_ms >= $1 AND started_at_ms < $2",
        &range,
    )?;
    figures.online_loans = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE started_at_ms >= $1 AND started_at_ms < $2 \
         AND order_line_id IS NOT NULL",
        &range,
    )?;
    figures.returns = count(
        db,
        "SELECT COUNT(*) AS n FROM loans WHERE returned_at_ms >= $1 AND returned_at_ms < $2",
        &range,
    )?;
    figures.active_readers = count(
        db,
        "SELECT COUNT(*) AS n FROM ( \
           SELECT reader_id FROM loans WHERE started_at_ms >= $1 AND started_at_ms < $2 \
           UNION SELECT reader_id FROM loans WHERE returned_at_ms >= $1 AND returned_at_ms < $2 \
           UNION SELECT reader_id FROM orders WHERE created_at_ms >= $1 AND created_at_ms < $2 \
         ) AS active",
        &range,
    )?;
    let channels = db.query(
        "SELECT channel, COUNT(*) AS n FROM orders \
         WHERE created_at_ms >= $1 AND created_at_ms < $2 GROUP BY channel",
        &range,
    )?;
    let mut by_channel = ByChannel::default();
    for row in channels.iter() {
        by_channel.add(row.text("channel")?, row.i64("n")?);
    }
    figures.orders_by_channel = by_channel;
    let kinds = db.query(
        "SELECT CASE WHEN o.fulfilment = 'door' THEN 'door' ELSE COALESCE(p.kind, 'branch') END \
           AS kind, COUNT(*) AS n FROM orders o LEFT JOIN service_points p ON p.code = o.pickup_point \
         WHERE o.created_at_ms >= $1 AND o.created_at_ms < $2 GROUP BY 1",
        &range,
    )?;
    let mut by_kind = ByPointKind::default();
    for row in kinds.iter() {
        by_kind.add(row.text("kind")?, row.i64("n")?);
    }
    figures.orders_by_point_kind = by_kind;
    let ready = db.query(
        "SELECT ready_at_ms - created_at_ms AS ms FROM orders \
         WHERE ready_at_ms >= $1 AND ready_at_ms < $2",
        &range,
    )?;
    let mut waits = ready
        .iter()
        .map(|row| row.i64("ms"))
        .collect::<Result<Vec<_>>>()?;
    figures.ready_p50_ms = percentile(&mut waits, 50);
    figures.ready_p90_ms = percentile(&mut waits, 90);
    Ok(())
}

/// Loans per kind of point (the pickup point's for online loans, `door`
/// for door deliveries, the copy's home point's at the counter), kept in
/// the older `by_point_kind` column.
fn loans_by_point_kind(db: &dyn Db, start: i64) -> Result<String> {
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
    Ok(serde_json::Value::Object(by_kind).to_string())
}

const SQL_UPSERT: &str = "INSERT INTO daily_stats (day, loans, online_loans, returns, \
     by_point_kind, orders, active_readers, orders_by_channel, orders_by_point_kind, \
     ready_p50_ms, ready_p90_ms, locker_cells_total, locker_cells_used, locker_cells_faulty, \
     open_loans, overdue_loans, readers_credit, readers_deposit, computed_at_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
     ON CONFLICT (day) DO UPDATE SET loans = excluded.loans, \
       online_loans = excluded.online_loans, returns = excluded.returns, \
       by_point_kind = excluded.by_point_kind, orders = excluded.orders, \
       active_readers = excluded.active_readers, orders_by_channel = excluded.orders_by_channel, \
       orders_by_point_kind = excluded.orders_by_point_kind, \
       ready_p50_ms = excluded.ready_p50_ms, ready_p90_ms = excluded.ready_p90_ms, \
       locker_cells_total = excluded.locker_cells_total, \
       locker_cells_used = excluded.locker_cells_used, \
       locker_cells_faulty = excluded.locker_cells_faulty, open_loans = excluded.open_loans, \
       overdue_loans = excluded.overdue_loans, readers_credit = excluded.readers_credit, \
       readers_deposit = excluded.readers_deposit, computed_at_ms = excluded.computed_at_ms";

fn one_day(db: &dyn Db, day: &str, start: i64, now_ms: i64) -> Result<()> {
    let end = start + DAY_MS;
    let mut f = DayFigures {
        day: day.to_string(),
        ..DayFigures::default()
    };
    day_rows(db, &mut f, start)?;
    (f.open_loans, f.overdue_loans) = open_and_overdue(db, end.min(now_ms))?;
    let current = (start..end).contains(&now_ms);
    let snapshot = match current {
        true => snapshot_now(db)?,
        false => match snapshot_kept(db, day)? {
            Some(kept) => kept,
            None => snapshot_now(db)?,
        },
    };
    (
        f.locker_cells_total,
        f.locker_cells_used,
        f.locker_cells_faulty,
    ) = snapshot.cells;
    (f.readers_credit, f.readers_deposit) = snapshot.readers;
    let json = |v: serde_json::Result<String>| v.map_err(anyhow::Error::from);
    let orders = f.orders_by_channel.alipay + f.orders_by_channel.wechat + f.orders_by_channel.web;
    db.execute(
        SQL_UPSERT,
        &[
            day.into(),
            f.loans.into(),
            f.online_loans.into(),
            f.returns.into(),
            loans_by_point_kind(db, start)?.into(),
            orders.into(),
            f.active_readers.into(),
            json(serde_json::to_string(&f.orders_by_channel))?.into(),
            json(serde_json::to_string(&f.orders_by_point_kind))?.into(),
            f.ready_p50_ms.into(),
            f.ready_p90_ms.into(),
            f.locker_cells_total.into(),
            f.locker_cells_used.into(),
            f.locker_cells_faulty.into(),
            f.open_loans.into(),
            f.overdue_loans.into(),
            f.readers_credit.into(),
            f.readers_deposit.into(),
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
