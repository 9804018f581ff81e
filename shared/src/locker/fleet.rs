//! The *fleet*: every locker as the operator's console shows it (`GET
//! /admin/lockers`): online or not, when it was last heard from, its cells
//! by state and the commands it has not acknowledged yet.

use super::beat_cache;
use crate::db::Db;
use crate::kv::Kv;
use crate::Result;
use serde::Serialize;
use std::collections::HashMap;

/// One locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockerStatus {
    /// The locker's id (its `X-Locker-Id`), which is its point's code.
    pub id: String,
    /// The service point it stands at.
    pub point: String,
    /// The point's name.
    pub name: String,
    /// Whether it counts as online (offline after
    /// `locker_offline_after_ms` of silence).
    pub online: bool,
    /// Its last heartbeat, epoch ms, whether the database or only the
    /// key-value store took it; null when it never beat.
    pub last_heartbeat_ms: Option<i64>,
    /// Cells it has.
    pub cells_total: i64,
    /// Cells empty.
    pub cells_free: i64,
    /// Cells reserved, occupied or open.
    pub cells_used: i64,
    /// Cells reported faulty.
    pub cells_faulty: i64,
    /// Commands queued for it and not yet acknowledged.
    pub pending_commands: i64,
}

/// Every locker, by point code.
pub fn list(db: &dyn Db, kv: &dyn Kv) -> Result<Vec<LockerStatus>> {
    let cells = db.query(
        "SELECT point_code, COUNT(*) AS total, \
           COUNT(CASE WHEN state = 'empty' THEN 1 END) AS free, \
           COUNT(CASE WHEN state IN ('reserved', 'occupied', 'door_open') THEN 1 END) AS used, \
           COUNT(CASE WHEN state = 'fault' THEN 1 END) AS faulty \
         FROM locker_cells GROUP BY point_code",
        &[],
    )?;
    let mut by_point: HashMap<String, [i64; 4]> = HashMap::new();
    for row in cells.iter() {
        by_point.insert(
            row.text("point_code")?.to_string(),
            [
                row.i64("total")?,
                row.i64("free")?,
                row.i64("used")?,
                row.i64("faulty")?,
            ],
        );
    }
    let commands = db.query(
        "SELECT point_code, COUNT(*) AS n FROM locker_commands WHERE acked_at_ms IS NULL \
         GROUP BY point_code",
        &[],
    )?;
    let mut pending: HashMap<String, i64> = HashMap::new();
    for row in commands.iter() {
        pending.insert(row.text("point_code")?.to_string(), row.i64("n")?);
    }
    let points = db.query(
        "SELECT code, name, locker_status, last_heartbeat_at_ms FROM service_points \
         WHERE locker_status IS NOT NULL ORDER BY code",
        &[],
    )?;
    let mut lockers = Vec::with_capacity(points.len());
    for row in points.iter() {
        let code = row.text("code")?.to_string();
        let stored = row.opt_i64("last_heartbeat_at_ms")?;
        let seen = beat_cache::seen_ms(kv, &code)?;
        let [total, free, used, faulty] = by_point.get(&code).copied().unwrap_or_default();
        lockers.push(LockerStatus {
            id: code.clone(),
            point: code.clone(),
            name: row.text("name")?.to_string(),
            online: row.opt_text("locker_status")? == Some("online"),
            last_heartbeat_ms: stored.max(seen),
            cells_total: total,
            cells_free: free,
            cells_used: used,
            cells_faulty: faulty,
            pending_commands: pending.get(&code).copied().unwrap_or(0),
        });
    }
    Ok(lockers)
}
