//! The SQL of a search: the matched set (records whose keys match every
//! group, after the filters), one page of it in rank order, its facets, and
//! the availability of the page's records. Statements are named templates:
//! `{terms}`, `{filters}` and `{ids}` are filled with our own fragments and
//! numbered parameters, never with the reader's text.

use super::index::placeholders;
use super::query::{Group, SearchQuery};
use super::summary::RecordSummary;
use crate::db::{Db, Value};
use crate::geo::Coordinates;
use crate::point::{self, LockerStatus, PointKind, ServicePoint};
use crate::{Error, Result};
use serde::Serialize;
use std::collections::BTreeMap;

/// The matched set as CTEs: `q` the query's keys with their group (-1 for
/// bonus keys), `d` the records of the driving group (the one with the
/// fewest postings), `m` each of those records' score per group, its own
/// postings for the driving group and one index probe per record and key
/// for the others, `hits` the records that match every group, `matched`
/// those that pass the filters. A record outside the driving group's
/// postings cannot match every group, so this is the same set as joining
/// every key's whole posting list, at the cost of the rarest one.
const SQL_MATCHED: &str = "WITH q (term, field, grp) AS ({terms}), \
     d AS (SELECT t.record_id, SUM(t.weight) AS w FROM q \
       JOIN record_terms t ON t.term = q.term AND t.field = q.field WHERE q.grp = {driver} \
       GROUP BY t.record_id), \
     m AS (SELECT record_id, {driver} AS grp, w FROM d \
       UNION ALL SELECT d.record_id, q.grp, SUM(t.weight) FROM d CROSS JOIN q \
       JOIN record_terms t ON t.term = q.term AND t.field = q.field AND t.record_id = d.record_id \
       WHERE q.grp <> {driver} GROUP BY d.record_id, q.grp), \
     hits AS (SELECT record_id, CAST(SUM(w) AS BIGINT) AS score, \
       MAX(CASE WHEN grp < 0 THEN 1 ELSE 0 END) AS exact FROM m GROUP BY record_id \
       HAVING SUM(CASE WHEN grp >= 0 THEN 1 ELSE 0 END) = {groups}), \
     matched AS (SELECT h.record_id, h.score, h.exact FROM hits h WHERE 1 = 1{filters})";
/// Postings counted per key to choose the driving group: past this a group
/// is common, and which common group drives matters little.
const GROUP_SIZE_CAP: i64 = 5_000;
/// One key's postings, counted up to [`GROUP_SIZE_CAP`] + 1; `{n}` is the
/// parameter of the term, `{field}` and `{grp}` are ours.
const SQL_KEY_SIZE: &str =
    "SELECT {grp} AS grp, (SELECT COUNT(*) FROM (SELECT 1 FROM record_terms \
     WHERE term = CAST(${n} AS TEXT) AND field = '{field}' LIMIT {cap}) AS p) AS n";

/// The answer in one statement, so that the matched set is computed once
/// (a CTE used several times is evaluated once): one page in rank order
/// (exact title matches, then score, then id, so that pages neither repeat
/// nor skip a record) as `hit` rows, cut from the matched set before its
/// records are read (joining first read all 58,903 records of 文化 at
/// 1,000,000 to show 20), then the size of the matched set and
/// its facets over its best [`FACET_SAMPLE`] records (all of them when it
/// is no larger) as `facet` rows. The CROSS JOIN makes SQLite walk those
/// records and look their copies up by record, rather than scan every copy
/// in branch order (PostgreSQL plans it as any join).
const SQL_ANSWER: &str = ", sample AS (SELECT record_id FROM matched \
       ORDER BY exact DESC, score DESC, record_id LIMIT {sample}) \
     SELECT 'hit' AS part, p.* FROM (SELECT r.id, r.title, r.responsibility, r.publisher, \
       r.year, r.isbn13, r.language, h.score, h.exact, CAST(NULL AS TEXT) AS facet, \
       CAST(NULL AS TEXT) AS value, CAST(NULL AS BIGINT) AS n \
       FROM (SELECT record_id, score, exact FROM matched \
         ORDER BY exact DESC, score DESC, record_id LIMIT {limit} OFFSET {offset}) AS h \
       JOIN records r ON r.id = h.record_id) AS p \
     UNION ALL SELECT 'facet', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
       f.facet, f.value, f.n FROM ( \
       SELECT 'total' AS facet, '' AS value, COUNT(*) AS n FROM matched \
       UNION ALL SELECT 'year', CAST(r.year AS TEXT), COUNT(*) FROM sample h \
         JOIN records r ON r.id = h.record_id GROUP BY r.year \
       UNION ALL SELECT 'language', r.language, COUNT(*) FROM sample h \
         JOIN records r ON r.id = h.record_id GROUP BY r.language \
       UNION ALL SELECT 'branch', c.home_point, COUNT(DISTINCT c.record_id) FROM sample h \
         CROSS JOIN copies c WHERE c.record_id = h.record_id GROUP BY c.home_point) AS f";
/// Facets count at most this many records, the best ranked, unless the
/// `search_facet_sample` variable says otherwise: past it, a common query
/// (文化 matches a tenth of a catalogue) would spend most of its time
/// counting branches of records nobody pages to.
pub const FACET_SAMPLE: i64 = 1000;
/// Copies on the shelf now, per record and the point where they stand.
const SQL_ON_SHELF: &str = "SELECT record_id, current_point AS point, COUNT(*) AS n FROM copies \
     WHERE status = 'on_shelf' AND current_point IS NOT NULL AND record_id IN ({ids}) \
     GROUP BY record_id, current_point ORDER BY record_id, current_point";
/// Filter fragments, each with its own parameter number `{n}`.
const FILTER_BRANCH: &str = " AND EXISTS (SELECT 1 FROM copies c WHERE c.record_id = h.record_id \
     AND (c.home_point = ${n} OR c.current_point = ${n}))";
const FILTER_ON_SHELF: &str =
    " AND EXISTS (SELECT 1 FROM copies c WHERE c.record_id = h.record_id \
     AND c.status = 'on_shelf')";

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
    /// Records in the whole matched set.
    pub total: i64,
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

/// Runs a search; the facets count the best `facet_sample` matches.
pub fn search(db: &dyn Db, query: &SearchQuery, facet_sample: i64) -> Result<SearchAnswer> {
    let facet_sample = facet_sample.max(1);
    let needs_points = query.branch.is_some() || query.point.is_some() || query.from.is_some();
    let points = if needs_points {
        point::list_points(db, None)?
    } else {
        Vec::new()
    };
    let (matched, mut params) = matched_sql(query, &points, driving_group(db, query)?)?;
    let n = params.len();
    let answer_sql = SQL_ANSWER
        .replace("{sample}", &facet_sample.to_string())
        .replace("{limit}", &format!("${}", n + 1))
        .replace("{offset}", &format!("${}", n + 2));
    params.push(Value::Int(i64::from(query.per_page)));
    params.push(Value::Int(
        i64::from(query.page - 1) * i64::from(query.per_page),
    ));
    let mut total = 0;
    let mut facets: BTreeMap<String, Vec<FacetValue>> = BTreeMap::new();
    let mut hits = Vec::new();
    for row in db.query(&format!("{matched}{answer_sql}"), &params)?.iter() {
        if row.text("part")? == "hit" {
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
        let (facet, count) = (row.text("facet")?, row.i64("n")?);
        match (facet, row.opt_text("value")?) {
            ("total", _) => total = count,
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
    add_availability(db, &mut hits, &points, query.from)?;
    Ok(SearchAnswer {
        total,
        page: query.page,
        per_page: query.per_page,
        truncated: query.truncated,
        hits,
        facets,
        facets_sampled: total > facet_sample,
    })
}

/// The CTEs of the matched set and their parameters.
fn matched_sql(
    query: &SearchQuery,
    points: &[ServicePoint],
    driver: usize,
) -> Result<(String, Vec<Value>)> {
    let mut params: Vec<Value> = Vec::new();
    let mut terms: Vec<String> = Vec::new();
    let keyed = query
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (i as i64, &g.0));
    let bonus = std::iter::once((-1, &query.bonus));
    for (group, keys) in keyed.chain(bonus) {
        for (term, field) in keys {
            params.push(Value::Text(term.clone()));
            // The field and group are ours; only the term is the reader's.
            terms.push(format!(
                "SELECT CAST(${} AS TEXT), '{}', {group}",
                params.len(),
                field.as_str()
            ));
        }
    }
    let mut filters = String::new();
    if let Some(branch) = &query.branch {
        if !points.iter().any(|p| &p.code == branch) {
            return Err(Error::invalid(
                "branch",
                format!("{branch:?} is not a service point"),
            ));
        }
        params.push(Value::Text(branch.clone()));
        filters.push_str(&FILTER_BRANCH.replace("{n}", &params.len().to_string()));
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
    // A reachable pickup point can be sent any copy that is on a shelf.
    if query.available || query.point.is_some() {
        filters.push_str(FILTER_ON_SHELF);
    }
    let sql = SQL_MATCHED
        .replace("{terms}", &terms.join(" UNION ALL "))
        .replace("{groups}", &query.groups.len().to_string())
        .replace("{driver}", &driver.to_string())
        .replace("{filters}", &filters);
    Ok((sql, params))
}

/// The group with the fewest postings (each key counted up to
/// [`GROUP_SIZE_CAP`]), in one statement; the first of equals.
fn driving_group(db: &dyn Db, query: &SearchQuery) -> Result<usize> {
    if query.groups.len() < 2 {
        return Ok(0);
    }
    let mut params: Vec<Value> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    for (group, Group(keys)) in query.groups.iter().enumerate() {
        for (term, field) in keys {
            params.push(Value::Text(term.clone()));
            counts.push(
                SQL_KEY_SIZE
                    .replace("{grp}", &group.to_string())
                    .replace("{n}", &params.len().to_string())
                    .replace("{field}", field.as_str())
                    .replace("{cap}", &(GROUP_SIZE_CAP + 1).to_string()),
            );
        }
    }
    let mut sizes = vec![0i64; query.groups.len()];
    for row in db.query(&counts.join(" UNION ALL "), &params)?.iter() {
        let group = usize::try_from(row.i64("grp")?).map_err(anyhow::Error::from)?;
        if let Some(size) = sizes.get_mut(group) {
            *size += row.i64("n")?;
        }
    }
    Ok(sizes
        .iter()
        .enumerate()
        .min_by_key(|(i, n)| (**n, *i))
        .map_or(0, |(i, _)| i))
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

fn add_availability(
    db: &dyn Db,
    hits: &mut [Hit],
    points: &[ServicePoint],
    from: Option<Coordinates>,
) -> Result<()> {
    if hits.is_empty() {
        return Ok(());
    }
    let params: Vec<Value> = hits.iter().map(|h| Value::Int(h.record.id)).collect();
    let sql = SQL_ON_SHELF.replace("{ids}", &placeholders(1, hits.len()));
    for row in db.query(&sql, &params)?.iter() {
        let id = row.i64("record_id")?;
        if let Some(hit) = hits.iter_mut().find(|h| h.record.id == id) {
            hit.on_shelf
                .insert(row.text("point")?.into(), row.i64("n")?);
        }
    }
    let Some(from) = from else { return Ok(()) };
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::{SearchParams, SearchQuery};

    #[test]
    fn the_reader_text_is_bound_never_spliced() {
        let params = SearchParams {
            q: Some("三体'; DROP TABLE records; --"),
            ..Default::default()
        };
        let query = SearchQuery::parse(&params).unwrap();
        let (sql, values) = matched_sql(&query, &[], 0).unwrap();
        assert!(!sql.contains("DROP"), "{sql}");
        assert!(values.contains(&Value::Text("三体".into())));
    }

    #[test]
    fn the_group_count_is_what_a_record_must_match() {
        let params = SearchParams {
            q: Some("三体 santi"),
            ..Default::default()
        };
        let query = SearchQuery::parse(&params).unwrap();
        let (sql, _) = matched_sql(&query, &[], 0).unwrap();
        assert!(sql.contains("ELSE 0 END) = 2)"), "{sql}");
    }

    #[test]
    fn the_driving_group_is_the_one_whose_postings_are_read_whole() {
        let params = SearchParams {
            q: Some("三体 santi"),
            ..Default::default()
        };
        let query = SearchQuery::parse(&params).unwrap();
        let (sql, _) = matched_sql(&query, &[], 1).unwrap();
        assert!(
            sql.contains("WHERE q.grp = 1 GROUP BY t.record_id"),
            "{sql}"
        );
        assert!(sql.contains("WHERE q.grp <> 1 GROUP BY"), "{sql}");
    }

    #[test]
    fn an_unknown_branch_is_a_clear_400() {
        let params = SearchParams {
            q: Some("三体"),
            branch: Some("NOPE"),
            ..Default::default()
        };
        let query = SearchQuery::parse(&params).unwrap();
        let error = matched_sql(&query, &[], 0).unwrap_err();
        assert!(error.to_string().starts_with("invalid branch"), "{error}");
    }
}
