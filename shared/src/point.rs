//! A *service point* is a place where a reader can collect or return a
//! book: a branch library (staffed, with a hold shelf), a self-service
//! point or a metro station point (each a smart locker of up to 240 cells),
//! a partner site (a staffed counter in someone else's building), or the
//! delivery centre, where online orders are packed and the online-lending
//! stack stands. Each has a stable code, an address, coordinates and an
//! opening calendar.

use crate::db::{Db, Row};
use crate::geo::Coordinates;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// What sort of place a service point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PointKind {
    /// A branch library, the central library included.
    Branch,
    /// A self-service point: a smart locker in a public place.
    SelfService,
    /// A locker point in a metro station.
    Metro,
    /// A counter at a partner's site (a bookshop, a service hall).
    Partner,
    /// The online-lending delivery centre: packing, dispatch and the
    /// dedicated online-lending stack. Not a pickup point.
    DeliveryCentre,
}

impl PointKind {
    /// Every kind, in the order listings show them.
    pub const ALL: [PointKind; 5] = [
        PointKind::Branch,
        PointKind::SelfService,
        PointKind::Metro,
        PointKind::Partner,
        PointKind::DeliveryCentre,
    ];

    /// The name stored in `service_points.kind` and used by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PointKind::Branch => "branch",
            PointKind::SelfService => "self_service",
            PointKind::Metro => "metro",
            PointKind::Partner => "partner",
            PointKind::DeliveryCentre => "delivery_centre",
        }
    }

    /// Reads a kind as [`PointKind::as_str`] writes it.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "kind",
                    format!("{text:?} is not one of branch, self_service, metro, partner, delivery_centre"),
                )
            })
    }
}

/// A day of the week, as opening calendars name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Monday to Sunday.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
}

/// The hours of one day, local time, "HH:MM".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    /// Which day.
    pub day: Weekday,
    /// Opening time, "09:00".
    pub open: String,
    /// Closing time, "21:00".
    pub close: String,
}

/// When a point is open: stored as JSON in `service_points.opening`.
///
/// A day missing from `hours` is a closed day; a point that is
/// `always_open` (a 24-hour locker) has no hours.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Opening {
    /// Open day and night, every day.
    pub always_open: bool,
    /// The opening hours of each open day.
    #[serde(default)]
    pub hours: Vec<DayHours>,
}

impl Opening {
    /// Open around the clock.
    pub fn always() -> Self {
        Opening {
            always_open: true,
            hours: Vec::new(),
        }
    }

    /// The same hours on each of `days`.
    pub fn on(days: &[Weekday], open: &str, close: &str) -> Self {
        Opening {
            always_open: false,
            hours: days
                .iter()
                .map(|&day| DayHours {
                    day,
                    open: open.into(),
                    close: close.into(),
                })
                .collect(),
        }
    }

    /// Whether the point opens at all on `day`.
    pub fn opens_on(&self, day: Weekday) -> bool {
        self.always_open || self.hours.iter().any(|h| h.day == day)
    }
}

/// Whether a locker answers its heartbeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockerStatus {
    /// Heartbeats arrive; orders may be routed here.
    Online,
    /// Heartbeats stopped; no new orders are routed here.
    Offline,
}

impl LockerStatus {
    /// The name stored in `service_points.locker_status`.
    pub fn as_str(self) -> &'static str {
        match self {
            LockerStatus::Online => "online",
            LockerStatus::Offline => "offline",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "online" => Ok(LockerStatus::Online),
            "offline" => Ok(LockerStatus::Offline),
            other => Err(Error::Internal(anyhow::anyhow!(
                "unknown locker status {other:?}"
            ))),
        }
    }
}

/// The smart locker at a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockerInfo {
    /// 1: returns and pickup of online loans; 2: also borrowing on the spot.
    pub generation: u8,
    /// How many cells it has (240 for the standard credit locker).
    pub cells: u16,
    /// Online or offline, from heartbeats.
    pub status: LockerStatus,
    /// When the last heartbeat arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_at_ms: Option<i64>,
}

/// A place where books are collected or returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServicePoint {
    /// Stable identifier ("B001", "SS07", "M03").
    pub code: String,
    /// Name as shown to readers.
    pub name: String,
    /// What sort of place it is.
    pub kind: PointKind,
    /// Street address.
    pub address: String,
    /// The city district it lies in.
    pub district: String,
    /// Where it is.
    pub coordinates: Coordinates,
    /// When it is open.
    pub opening: Opening,
    /// Its smart locker, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locker: Option<LockerInfo>,
}

/// The columns [`point_from_row`] reads, then a filter.
macro_rules! select_points {
    ($filter:literal) => {
        concat!(
            "SELECT code, name, kind, address, district, lat, lon, opening, ",
            "locker_generation, locker_cell_count, locker_status, last_heartbeat_at_ms ",
            "FROM service_points ",
            $filter
        )
    };
}

/// Every service point, or those of one kind (`$1`, NULL for all), in code
/// order. The CAST gives PostgreSQL a type for `$1` when it is NULL.
pub const SQL_LIST_POINTS: &str =
    select_points!("WHERE (CAST($1 AS TEXT) IS NULL OR kind = $1) ORDER BY code");

/// Lists service points, all or of one kind, in code order.
pub fn list_points(db: &dyn Db, kind: Option<PointKind>) -> Result<Vec<ServicePoint>> {
    let rows = db.query(SQL_LIST_POINTS, &[kind.map(PointKind::as_str).into()])?;
    rows.iter().map(|row| point_from_row(&row)).collect()
}

/// One service point by its code.
pub const SQL_FIND_POINT: &str = select_points!("WHERE code = $1");

/// Finds one service point by its code.
pub fn find_point(db: &dyn Db, code: &str) -> Result<Option<ServicePoint>> {
    let rows = db.query(SQL_FIND_POINT, &[code.into()])?;
    rows.first().map(|row| point_from_row(&row)).transpose()
}

/// Reads one row of [`SQL_LIST_POINTS`] or [`SQL_FIND_POINT`]; a stored value that does not parse
/// is a bug, hence internal errors.
fn point_from_row(row: &Row<'_>) -> Result<ServicePoint> {
    let opening = serde_json::from_str(row.text("opening")?).map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "opening of point {:?}: {e}",
            row.text("code")
        ))
    })?;
    let locker = match row.opt_i64("locker_generation")? {
        None => None,
        Some(generation) => Some(LockerInfo {
            generation: u8::try_from(generation).map_err(anyhow::Error::from)?,
            cells: u16::try_from(row.i64("locker_cell_count")?).map_err(anyhow::Error::from)?,
            status: LockerStatus::parse(row.text("locker_status")?)?,
            last_heartbeat_at_ms: row.opt_i64("last_heartbeat_at_ms")?,
        }),
    };
    Ok(ServicePoint {
        code: row.text("code")?.to_string(),
        name: row.text("name")?.to_string(),
        kind: PointKind::parse(row.text("kind")?).map_err(|e| Error::Internal(e.into()))?,
        address: row.text("address")?.to_string(),
        district: row.text("district")?.to_string(),
        coordinates: Coordinates::new(row.f64("lat")?, row.f64("lon")?)
            .map_err(|e| Error::Internal(e.into()))?,
        opening,
        locker,
    })
}

/// Empty cells of every locker that has any, for "is there room?" in
/// point listings (`locker_cells.state = 'empty'`; a locker whose cells
/// were never reported has no row and so no room).
pub const SQL_FREE_CELLS: &str = "SELECT point_code, COUNT(*) AS n FROM locker_cells \
     WHERE state = 'empty' GROUP BY point_code";

/// How many empty cells each locker has, by point code; a locker missing
/// from the map has none.
pub fn free_cells(db: &dyn Db) -> Result<std::collections::HashMap<String, i64>> {
    let rows = db.query(SQL_FREE_CELLS, &[])?;
    rows.iter()
        .map(|row| Ok((row.text("point_code")?.to_string(), row.i64("n")?)))
        .collect()
}

/// Orders points nearest first from `from`, each with its great-circle
/// distance in metres; equal distances keep their code order.
pub fn sort_by_distance(points: Vec<ServicePoint>, from: Coordinates) -> Vec<(ServicePoint, f64)> {
    let mut measured: Vec<(ServicePoint, f64)> = points
        .into_iter()
        .map(|point| {
            let metres = from.distance_m(&point.coordinates);
            (point, metres)
        })
        .collect();
    measured.sort_by(|a, b| a.1.total_cmp(&b.1));
    measured
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Dialect, Rows, Value};
    use std::cell::RefCell;

    /// Answers every query with the rows it was given and remembers the
    /// parameters it saw.
    struct CannedDb {
        rows: Rows,
        seen: RefCell<Vec<Vec<Value>>>,
    }

    impl Db for CannedDb {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        fn query(&self, _sql: &str, params: &[Value]) -> Result<Rows> {
            self.seen.borrow_mut().push(params.to_vec());
            Ok(self.rows.clone())
        }
        fn execute(&self, _sql: &str, _params: &[Value]) -> Result<u64> {
            Ok(0)
        }
    }

    fn point(code: &str, lat: f64, lon: f64) -> ServicePoint {
        ServicePoint {
            code: code.into(),
            name: code.into(),
            kind: PointKind::Branch,
            address: String::new(),
            district: String::new(),
            coordinates: Coordinates::new(lat, lon).unwrap(),
            opening: Opening::always(),
            locker: None,
        }
    }

    fn locker_row(kind: &str, generation: Value) -> Rows {
        let columns = [
            "code",
            "name",
            "kind",
            "address",
            "district",
            "lat",
            "lon",
            "opening",
            "locker_generation",
            "locker_cell_count",
            "locker_status",
            "last_heartbeat_at_ms",
        ];
        Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: vec![vec![
                "SS01".into(),
                "市民中心自助图书馆".into(),
                kind.into(),
                "上城区解放东路18号".into(),
                "上城区".into(),
                Value::Float(30.245),
                Value::Float(120.211),
                r#"{"always_open":true,"hours":[]}"#.into(),
                generation,
                Value::Int(240),
                "online".into(),
                Value::Int(1_700_000_000_000),
            ]],
        }
    }

    #[test]
    fn kinds_read_back_what_they_write() {
        for kind in PointKind::ALL {
            assert_eq!(PointKind::parse(kind.as_str()).unwrap(), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }

    #[test]
    fn an_unknown_kind_is_an_invalid_kind() {
        let error = PointKind::parse("castle").unwrap_err();
        assert!(
            matches!(error, Error::Invalid { ref field, .. } if field == "kind"),
            "{error}"
        );
    }

    #[test]
    fn nearest_point_comes_first_with_its_distance() {
        let from = Coordinates::new(30.27, 120.16).unwrap();
        let far = point("FAR", 30.05, 119.96);
        let near = point("NEAR", 30.271, 120.161);
        let sorted = sort_by_distance(vec![far, near], from);
        assert_eq!(sorted[0].0.code, "NEAR");
        assert!(sorted[0].1 < 200.0, "{}", sorted[0].1);
        assert!(sorted[1].1 > 20_000.0, "{}", sorted[1].1);
    }

    #[test]
    fn a_row_with_a_locker_becomes_a_point_with_a_locker() {
        let db = CannedDb {
            rows: locker_row("self_service", Value::Int(2)),
            seen: RefCell::default(),
        };
        let points = list_points(&db, Some(PointKind::SelfService)).unwrap();
        assert_eq!(db.seen.borrow()[0], vec![Value::from("self_service")]);
        let locker = points[0].locker.as_ref().unwrap();
        assert_eq!(
            (locker.generation, locker.cells, locker.status),
            (2, 240, LockerStatus::Online)
        );
        assert!(points[0].opening.always_open);
    }

    #[test]
    fn listing_every_kind_passes_null() {
        let db = CannedDb {
            rows: locker_row("branch", Value::Null),
            seen: RefCell::default(),
        };
        let points = list_points(&db, None).unwrap();
        assert_eq!(db.seen.borrow()[0], vec![Value::Null]);
        assert!(points[0].locker.is_none());
    }

    #[test]
    fn a_stored_kind_the_code_does_not_know_is_an_internal_error() {
        let db = CannedDb {
            rows: locker_row("castle", Value::Null),
            seen: RefCell::default(),
        };
        assert!(matches!(list_points(&db, None), Err(Error::Internal(_))));
    }

    #[test]
    fn opening_hours_name_their_days() {
        let opening = Opening::on(&Weekday::ALL[1..], "09:00", "21:00");
        assert!(!opening.opens_on(Weekday::Mon));
        assert!(opening.opens_on(Weekday::Sun));
        let json = serde_json::to_value(&opening).unwrap();
        assert_eq!(json["hours"][0]["day"], "tue");
        assert!(Opening::always().opens_on(Weekday::Mon));
    }
}
