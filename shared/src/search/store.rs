//! A search run against the database: the driving group chosen, the
//! matched set (`matched`), one page of it in rank order, its size and
//! facets, and the availability of the page's records. Statements are
//! named templates: `{...}` are filled with our own fragments and numbered
//! parameters, never with the reader's text.

use super::matched::{key_sizes_sql, matched_sql, Filters, Plan};
use super::query::SearchQuery;
use super::summary::RecordSummary;
use crate::db::{Db, Value};
use crate::geo::Coordinates;
use crate::point::{self, LockerStatus, PointKind, ServicePoint};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// The answer in one statement, so that the matched set is computed once
/// (a CTE used several times is evaluated once): one page in rank order
/// (exact title matches, then score, then id, so that pages neither repeat
/// nor skip a record) as `hit` rows, cut from the matched set before its
/// records are read (joining first read all 58,903 records of 文化 at
/// 1,000,000 to show 20); the page's copies on a shelf now, by record and
/// the point where they stand, as `shelf` rows; then the size of the
/// matched set, how many candidates the driving group gave, and the facets
/// over the best [`FACET_SAMPLE`] matches (all of them when there are no
/// more) as `facet` rows. The sample's records are read once for both
/// their facets. The CROSS JOINs make SQLite walk the page or the sample
/// and look copies up by record, rather than scan every copy in branch
/// order (PostgreSQL plans them as any join).
const SQL_ANSWER: &str = ", page AS (SELECT record_id, score, exact FROM matched \
       ORDER BY exact DESC, score DESC, record_id LIMIT {limit} OFFSET {offset}), \
     sample AS (SELECT record_id FROM matched \
       ORDER BY exact DESC, score DESC, record_id LIMIT {sample}), \
     sampled AS (SELECT r.year, r.language FROM sample h JOIN records r ON r.id = h.record_id) \
     SELECT 'hit' AS part, r.id, r.title, r.responsibility, r.publisher, \
       r.year, r.isbn13, r.language, h.score, h.exact, CAST(NULL AS TEXT) AS facet, \
       CAST(NULL AS TEXT) AS value, CAST(NULL AS BIGINT) AS n \
       FROM page h JOIN records r ON r.id = h.record_id \
     UNION ALL SELECT 'shelf', c.record_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
       NULL, c.current_point, COUNT(*) FROM page h CROSS JOIN copies c \
       WHERE c.record_id = h.record_id AND c.status = 'on_shelf' \
       AND c.current_point IS NOT NULL GROUP BY c.record_id, c.current_point \
     UNION ALL SELECT 'facet', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
       f.facet, f.value, f.n FROM ( \
       SELECT 'total' AS facet, '' AS value, COUNT(*) AS n FROM matched \
       UNION ALL SELECT 'candidates', '', COUNT(*) FROM w \
       UNION ALL SELECT 'year', CAST(year AS TEXT), COUNT(*) FROM sampled GROUP BY year \
       UNION ALL SELECT 'language', language, COUNT(*) FROM sampled GROUP BY language \
       UNION ALL SELECT 'branch', c.home_point, COUNT(DISTINCT c.record_id) FROM sample h \
         CROSS JOIN copies c WHERE c.record_id = h.record_id GROUP BY c.home_point) AS f";
/// Facets count at most this many records, the best ranked, unless the
/// `search_facet_sample` variable says otherwise: past it, a common query
/// (文化 matches a tenth of a catalogue) would spend most of its time
/// counting branches of records nobody pages to.
pub const FACET_SAMPLE: i64 = 200;
/// Candidates a search reads from its driving group, unless the
/// `search_candidates` variable says otherwise: what bounds the work of a
/// common query (docs/search.md). A page deeper than this reads as many as
/// it needs.
pub const CANDIDATES: i64 = 500;
/// How far past the candidates each key of a query of several groups is
/// counted, to choose the driving group and the groups read whole.
const KEY_COUNT_FACTOR: i64 = 20;

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The record's main fields, flattened into this object.
    #[serde(flatten)]
    pub record: RecordSummary,
    /// Sum of the weights of the matched keys.
    pub score: i64,
    /// Whether the whole title matched what was typed.
    pub exact_title: bool,
    /// Copies on the shelf now, by the point where they stand.
    pub on_shelf: BTreeMap<String, i64>,
    /// Given lat/lon: the nearest point with a copy on its shelf now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest_copy: Option<Nearby>,
    /// Given lat/lon and a copy on a shelf somewhere: the nearest pickup
    /// point the library can send it to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest_pickup: Option<Nearby>,
}

/// A point and how far it is.
#[derive(Debug, Clone, Serialize)]
pub struct Nearby {
    #[allow(missing_docs)]
    pub code: String,
    #[allow(missing_docs)]
    pub name: String,
    #[allow(missing_docs)]
    pub distance_m: u64,
}

/// One value of a facet and how many matched records have it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FacetValue {
    #[allow(missing_docs)]
    pub value: String,
    #[allow(missing_docs)]
    pub count: i64,
}

/// The answer to a search.
#[derive(Debug, Clone, Serialize)]
pub struct SearchAnswer {
    /// Records in the matched set: all of them when `total_exact`, else
    /// those among the driving group's best candidates, a lower bound.
    pub total: i64,
    /// Whether `total` counts every match (see [`CANDIDATES`]).
    pub total_exact: bool,
    #[allow(missing_docs)]
    pub page: u32,
    #[allow(missing_docs)]
    pub per_page: u32,
    /// Whether the query text was cut (see `query::MAX_QUERY_CHARS`).
    pub truncated: bool,
    #[allow(missing_docs)]
    pub hits: Vec<Hit>,
    /// `branch` (home branch of a copy), `year` and `language`, each most
    /// frequent first, over the best matches (by default [`FACET_SAMPLE`]).
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    /// Whether the facets counted only the best of more matches (`total`
    /// is always the whole set).
    pub facets_sampled: bool,
}

/// How much of the matched set a search reads (spin.toml variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Best matches the facets count (`search_facet_sample`).
    pub facet_sample: i64,
    /// Candidates read from the driving group (`search_candidates`).
    pub candidates: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            facet_sample: FACET_SAMPLE,
            candidates: CANDIDATES,
        }
    }
}

/// Runs a search within these limits.
pub fn search(db: &dyn Db, query: &SearchQuery, limits: Limits) -> Result<SearchAnswer> {
    let facet_sample = limits.facet_sample.max(1);
    let needs_points = query.branch.is_some() || query.point.is_some() || query.from.is_some();
    let points = if needs_points {
        point::list_points(db, None)?
    } else {
        Vec::new()
    };
    let filters = filters(query, &points)?;
    let offset = i64::from(query.page - 1) * i64::from(query.per_page);
    let page_end = offset + i64::from(query.per_page);
    // A deep page reads as many candidates as it needs; exact titles rank
    // first, so as many of them as the page and the facet sample show.
    let cap = limits.candidates.max(1).max(page_end);
    let plan = plan(db, query, cap, page_end.max(facet_sample))?;
    let (matched, mut params) = matched_sql(query, &filters, &plan);
    let n = params.len();
    let answer_sql = SQL_ANSWER
        .replace("{sample}", &facet_sample.to_string())
        .replace("{limit}", &format!("${}", n + 1))
        .replace("{offset}", &format!("${}", n + 2));
    params.push(Value::Int(i64::from(query.per_page)));
    params.push(Value::Int(offset));
    let (mut total, mut candidates) = (0, 0);
    let mut facets: BTreeMap<String, Vec<FacetValue>> = BTreeMap::new();
    let mut hits = Vec::new();
    let mut shelves: Vec<(i64, String, i64)> = Vec::new();
    for row in db.query(&format!("{matched}{answer_sql}"), &params)?.iter() {
        match row.text("part")? {
            "hit" => {
                hits.push(Hit {
                    record: RecordSummary::from_row(&row)?,
                    score: row.i64("score")?,
                    exact_title: row.i64("exact")? == 1,
                    on_shelf: BTreeMap::new(),
                    nearest_copy: None,
                    nearest_pickup: None,
                });
                continue;
            }
            "shelf" => {
                shelves.push((row.i64("id")?, row.text("value")?.into(), row.i64("n")?));
                continue;
            }
            _ => {}
        }
        let (facet, count) = (row.text("facet")?, row.i64("n")?);
        match (facet, row.opt_text("value")?) {
            ("total", _) => total = count,
            ("candidates", _) => candidates = count,
            (_, Some(value)) => facets.entry(facet.into()).or_default().push(FacetValue {
                value: value.into(),
                count,
            }),
            (_, None) => {}
        }
    }
    // A UNION ALL keeps no order: the page's rank order again.
    hits.sort_by(|a, b| {
        (b.exact_title, b.score)
            .cmp(&(a.exact_title, a.score))
            .then(a.record.id.cmp(&b.record.id))
    });
    for values in facets.values_mut() {
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    }
    for (id, point, n) in shelves {
        if let Some(hit) = hits.iter_mut().find(|h| h.record.id == id) {
            hit.on_shelf.insert(point, n);
        }
    }
    add_nearest(&mut hits, &points, query.from);
    Ok(SearchAnswer {
        total,
        total_exact: candidates <= cap,
        page: query.page,
        per_page: query.per_page,
        truncated: query.truncated,
        hits,
        facets,
        facets_sampled: total > facet_sample,
    })
}

/// The filters of a query, its codes checked against the service points.
fn filters(query: &SearchQuery, points: &[ServicePoint]) -> Result<Filters> {
    if let Some(branch) = &query.branch {
        if !points.iter().any(|p| &p.code == branch) {
            return Err(Error::invalid(
                "branch",
                format!("{branch:?} is not a service point"),
            ));
        }
    }
    if let Some(code) = &query.point {
        let pickup = points
            .iter()
            .find(|p| &p.code == code)
            .filter(|p| can_receive(p));
        if pickup.is_none() {
            return Err(Error::invalid(
                "point",
                format!("{code:?} is not a pickup point open to orders"),
            ));
        }
    }
    Ok(Filters {
        branch: query.branch.clone(),
        // A reachable pickup point can be sent any copy that is on a shelf.
        on_shelf: query.available || query.point.is_some(),
        language: query.language.clone(),
        year: query.year,
    })
}

/// How to read the matched set, from one statement counting each key's
/// postings: the group with the fewest drives (the first of equals), and
/// the others small enough to read whole are joined. Keys are counted well
/// past the candidates (x [`KEY_COUNT_FACTOR`]): counted only to the cap,
/// 人工智能 (15,110 postings at 1,000,000) and 智能入门 (1,903) tied, and
/// the first drove, so the candidates held few records with both.
fn plan(db: &dyn Db, query: &SearchQuery, cap: i64, exact_cap: i64) -> Result<Plan> {
    let counted = cap.saturating_mul(KEY_COUNT_FACTOR);
    let Some((sql, params)) = key_sizes_sql(query, counted) else {
        return Ok(Plan::first(cap, exact_cap));
    };
    let mut sizes = vec![0i64; query.groups.len()];
    for row in db.query(&sql, &params)?.iter() {
        let group = usize::try_from(row.i64("grp")?).map_err(anyhow::Error::from)?;
        if let Some(size) = sizes.get_mut(group) {
            *size += row.i64("n")?;
        }
    }
    let driver = sizes
        .iter()
        .enumerate()
        .min_by_key(|(i, n)| (**n, *i))
        .map_or(0, |(i, _)| i);
    // A probe costs about forty reads of a posting: a group with up to
    // twenty postings per candidate is cheaper read whole.
    let candidates = sizes[driver].min(cap);
    let whole = (0..sizes.len())
        .filter(|&i| i != driver && sizes[i] <= counted && sizes[i] <= candidates * 20)
        .collect();
    Ok(Plan {
        driver,
        cap,
        exact_cap,
        whole,
    })
}

/// Whether orders may be routed to this point now: not the delivery
/// centre, and not a locker that has stopped reporting.
pub fn can_receive(point: &ServicePoint) -> bool {
    point.kind != PointKind::DeliveryCentre
        && point
            .locker
            .as_ref()
            .is_none_or(|l| l.status == LockerStatus::Online)
}

/// Given where the reader is, the nearest point with a copy of each hit on
/// its shelf, and the nearest point that can receive an order.
fn add_nearest(hits: &mut [Hit], points: &[ServicePoint], from: Option<Coordinates>) {
    let Some(from) = from else { return };
    let nearest = |candidates: &mut dyn Iterator<Item = &ServicePoint>| {
        candidates
            .map(|p| (p, from.distance_m(&p.coordinates)))
            .min_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.code.cmp(&b.0.code)))
            .map(|(p, d)| Nearby {
                code: p.code.clone(),
                name: p.name.clone(),
                distance_m: d.round() as u64,
            })
    };
    for hit in hits.iter_mut().filter(|h| !h.on_shelf.is_empty()) {
        hit.nearest_copy =
            nearest(&mut points.iter().filter(|p| hit.on_shelf.contains_key(&p.code)));
        hit.nearest_pickup = nearest(&mut points.iter().filter(|p| can_receive(p)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::SearchParams;

    #[test]
    fn an_unknown_branch_is_a_clear_400() {
        let params = SearchParams {
            q: Some("三体"),
            branch: Some("NOPE"),
            ..Default::default()
        };
        let query = SearchQuery::parse(&params).unwrap();
        let error = filters(&query, &[]).unwrap_err();
        assert!(error.to_string().starts_with("invalid branch"), "{error}");
    }
}
