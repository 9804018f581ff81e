//! Parse, call the domain, answer.

use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::search::query::{SearchParams, SearchQuery};
use wangjie_shared::search::{detail, store};
use wangjie_shared::spin::{config, db};
use wangjie_shared::Result;

/// `GET /api/search?q=&title=&author=&isbn=&branch=&available=&point=&language=&year=&lat=&lon=&page=&per_page=`.
pub fn search_records(request: &Request) -> Result<Reply> {
    let params = SearchParams {
        q: request.param("q"),
        title: request.param("title"),
        author: request.param("author"),
        isbn: request.param("isbn"),
        branch: request.param("branch"),
        available: request.param("available"),
        point: request.param("point"),
        language: request.param("language"),
        year: request.param("year"),
        lat: request.param("lat"),
        lon: request.param("lon"),
        page: request.param("page"),
        per_page: request.param("per_page"),
    };
    // Parse before connecting: a malformed request costs no connection.
    let query = SearchQuery::parse(&params)?;
    let limits = store::Limits {
        facet_sample: config::number("search_facet_sample", store::FACET_SAMPLE as u64)? as i64,
        candidates: config::number("search_candidates", store::CANDIDATES as u64)? as i64,
    };
    let answer = store::search(db::connect()?.as_ref(), &query, limits)?;
    Ok(Reply::json(200, &answer))
}

/// `GET /api/records/{id}`.
pub fn show_record(id: &str) -> Result<Reply> {
    let id = wangjie_shared::request::path_id(id, "a record number")?;
    let record = detail::record_detail(db::connect()?.as_ref(), id)?;
    Ok(Reply::json(200, &record))
}
