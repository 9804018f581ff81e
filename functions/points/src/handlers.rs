//! Parse, call the domain, answer.

use serde::Serialize;
use wangjie_shared::geo::Coordinates;
use wangjie_shared::point::{self, PointKind, ServicePoint};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::db;
use wangjie_shared::{Error, Result};

const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 1000;

/// One point in a listing, with its distance when the reader gave a position.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    point: ServicePoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<u64>,
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
    let points = point::list_points(db::connect()?.as_ref(), kind)?;
    let total = points.len();
    let listed: Vec<Listed> = match from {
        Some(from) => point::sort_by_distance(points, from)
            .into_iter()
            .map(|(point, metres)| Listed {
                point,
                distance_m: Some(metres.round() as u64),
            })
            .collect(),
        None => points
            .into_iter()
            .map(|point| Listed {
                point,
                distance_m: None,
            })
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
    let point = point::find_point(db::connect()?.as_ref(), code)?.ok_or(Error::NotFound {
        what: "service point",
    })?;
    Ok(Reply::json(200, &point))
}
