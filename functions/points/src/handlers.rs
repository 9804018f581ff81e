//! Parse, call the domain, answer.

use serde::Serialize;
use std::collections::HashMap;
use wangjie_shared::geo::Coordinates;
use wangjie_shared::point::{self, PointKind, ServicePoint};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::db;
use wangjie_shared::{Error, Result};

const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 1000;

/// One point in a listing, with its distance when the reader gave a
/// position and, for a locker, how many of its cells are empty.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    point: ServicePoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    free_cells: Option<i64>,
}

impl Listed {
    fn new(point: ServicePoint, distance_m: Option<u64>, free: &HashMap<String, i64>) -> Self {
        let free_cells = point
            .locker
            .as_ref()
            .map(|_| free.get(&point.code).copied().unwrap_or(0));
        Listed {
            point,
            distance_m,
            free_cells,
        }
    }
}

/// `GET /api/points?kind=&lat=&lon=&limit=`.
pub fn list_points(request: &Request) -> Result<Reply> {
    let kind = request.param("kind").map(PointKind::parse).transpose()?;
    let from = match (
        request.parse_param::<f64>("lat", "a number")?,
        request.parse_param::<f64>("lon", "a number")?,
    ) {
        (Some(lat), Some(lon)) => Some(Coordinates::new(lat, lon)?),
        (None, None) => None,
        _ => return Err(Error::invalid("lat", "lat and lon go together")),
    };
    let limit = request.count_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)?;
    let db = db::connect()?;
    let points = point::list_points(db.as_ref(), kind)?;
    let free = point::free_cells(db.as_ref())?;
    let total = points.len();
    let listed: Vec<Listed> = match from {
        Some(from) => point::sort_by_distance(points, from)
            .into_iter()
            .map(|(point, metres)| Listed::new(point, Some(metres.round() as u64), &free))
            .collect(),
        None => points
            .into_iter()
            .map(|point| Listed::new(point, None, &free))
            .collect(),
    };
    let listed: Vec<Listed> = listed.into_iter().take(limit).collect();
    Ok(Reply::json(
        200,
        &serde_json::json!({ "total": total, "points": listed }),
    ))
}

/// `GET /api/points/{code}`.
pub fn show_point(code: &str) -> Result<Reply> {
    let db = db::connect()?;
    let point = point::find_point(db.as_ref(), code)?.ok_or(Error::NotFound {
        what: "service point",
    })?;
    let free = point::free_cells(db.as_ref())?;
    Ok(Reply::json(200, &Listed::new(point, None, &free)))
}
