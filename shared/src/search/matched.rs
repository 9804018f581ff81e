//! The SQL of a search's matched set: the records that have a key of every
//! group and pass the filters, with their scores, as CTEs the answer reads
//! (`store`). Statements are named templates: `{...}` are filled with our
//! own fragments and numbered parameters, never with the reader's text.
//!
//! The work is bounded by the *candidates*: the best `cap` postings of the
//! driving group (the one with the fewest postings), read in rank order
//! from `search_postings_ranked`, then filtered. Every other group is read
//! whole and joined when it is small, else probed per candidate through
//! the primary key. When the driving group has more than `cap` postings,
//! the set is what its best `cap` hold and `total` is a lower bound
//! (docs/search.md).

use super::keys::Field;
use super::query::{Group, SearchQuery};
use crate::db::Value;

/// The driving group's best `{cap}` postings (`w`), and those of them
/// that pass the filters (`d0`): a single term of all word fields reads
/// `search_postings_ranked` in order and stops there, so a common term or
/// a rare filter costs no more than `{cap}` postings.
const SQL_DRIVER_RANKED: &str = "w AS (SELECT t.record_id, t.score AS s FROM search_postings t \
       WHERE t.term = {terms} ORDER BY t.score DESC, t.record_id LIMIT {cap}), \
     d0 AS (SELECT t.record_id, t.s FROM w t WHERE 1 = 1{filters})";
/// The same for several terms or fewer fields: every posting of the group
/// is read and scored before the best `{cap}` are kept.
const SQL_DRIVER_SUMMED: &str = "w AS (SELECT t.record_id, SUM({score}) AS s \
       FROM search_postings t WHERE t.term IN ({terms}){mask} \
       GROUP BY t.record_id ORDER BY 2 DESC, 1 LIMIT {cap}), \
     d0 AS (SELECT t.record_id, t.s FROM w t WHERE 1 = 1{filters})";
/// Records whose whole title is what was typed (`ex`), and those of them
/// that match the driving group and pass the filters (`dx`): candidates
/// however far down the driving group's rank order they stand. `exa` is
/// all of them, read only to flag the candidates that have the title.
/// When the driving group was not cut, `d0` already holds every one of
/// them, and `dx` is skipped whole (one test of `w`'s size, evaluated
/// once). At most `{exact_cap}` of them are read, as many as the page and
/// the facet sample can show, since they rank first: 2,293 records share
/// the title 小狐狸去旅行 at 1,000,000.
const SQL_EXACT: &str = "ex AS (SELECT e.record_id, e.score FROM search_postings e \
       WHERE e.term IN ({exact}) ORDER BY e.score DESC, e.record_id LIMIT {exact_cap}), \
     dx AS (SELECT x.record_id, SUM({score}) AS s FROM ex x \
       JOIN search_postings t ON t.record_id = x.record_id AND t.term IN ({terms}){mask} \
       WHERE (SELECT COUNT(*) FROM w) > {cap} \
       AND x.record_id NOT IN (SELECT record_id FROM d0){filters} GROUP BY x.record_id), \
     d AS (SELECT record_id, s FROM d0 UNION ALL SELECT record_id, s FROM dx), \
     exa AS (SELECT e.record_id, SUM(e.score) AS s FROM search_postings e \
       WHERE e.term IN ({exact}) GROUP BY e.record_id)";
/// A group read whole: each record's score for it (one posting per record
/// for a group of one term, so no grouping).
const SQL_GROUP_WHOLE: &str = "g{i} AS (SELECT t.record_id, SUM({score}) AS s \
     FROM search_postings t WHERE t.term IN ({terms}){mask} GROUP BY t.record_id)";
const SQL_TERM_WHOLE: &str = "g{i} AS (SELECT t.record_id, {score} AS s \
     FROM search_postings t WHERE t.term = {terms}{mask})";
/// The score of one group for the candidate `d`, `NULL` when it has none
/// of the group's keys.
const SQL_PROBE: &str = "SELECT SUM({score}) FROM search_postings t \
     WHERE t.record_id = d.record_id AND t.term IN ({terms}){mask}";
/// Filter fragments on the record `{r}`, each with its own parameter `{n}`.
const FILTER_BRANCH: &str =
    " AND EXISTS (SELECT 1 FROM copies c WHERE c.record_id = {r}.record_id \
     AND (c.home_point = ${n} OR c.current_point = ${n}))";
const FILTER_ON_SHELF: &str =
    " AND EXISTS (SELECT 1 FROM copies c WHERE c.record_id = {r}.record_id \
     AND c.status = 'on_shelf')";

const FILTER_LANGUAGE: &str =
    " AND EXISTS (SELECT 1 FROM records lr WHERE lr.id = {r}.record_id AND lr.language = ${n})";
const FILTER_YEAR: &str =
    " AND EXISTS (SELECT 1 FROM records yr WHERE yr.id = {r}.record_id AND yr.year = ${n})";

/// Filters a search applies to every candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// A copy whose home or current point is this code.
    pub branch: Option<String>,
    /// A copy on a shelf now.
    pub on_shelf: bool,
    /// The record's language.
    pub language: Option<String>,
    /// The record's year of publication.
    pub year: Option<i64>,
}

/// How a matched set is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The group whose postings are walked.
    pub driver: usize,
    /// How many of them at most.
    pub cap: i64,
    /// How many records whose whole title was typed at most: they rank
    /// first, so as many as a page and the facet sample show.
    pub exact_cap: i64,
    /// Other groups small enough to be read whole and joined, rather than
    /// probed once per candidate (a probe costs about forty times the read
    /// of one posting from the ranked index).
    pub whole: Vec<usize>,
}

impl Plan {
    /// Walks the first group, probes every other.
    pub fn first(cap: i64, exact_cap: i64) -> Plan {
        Plan {
            driver: 0,
            cap,
            exact_cap,
            whole: Vec::new(),
        }
    }
}

/// The `WITH` clause of the matched set (`w` the driving group's postings
/// read, `matched (record_id, score, exact)`), and its parameters. `w`
/// reads one posting past `cap`, so that more than `cap` can be told from
/// exactly `cap`.
pub fn matched_sql(query: &SearchQuery, filters: &Filters, plan: &Plan) -> (String, Vec<Value>) {
    let (driver, cap) = (plan.driver, plan.cap);
    let mut params: Vec<Value> = Vec::new();
    let groups: Vec<Terms> = query.groups.iter().map(Terms::of).collect();
    let lead = &groups[driver.min(groups.len() - 1)];
    let lead_terms = lead.bind(&mut params);
    let lead_filters = filter_sql(filters, &mut params, "t");
    let mut ctes = vec![if lead.terms.len() == 1 && lead.all_fields() {
        SQL_DRIVER_RANKED.replace("{terms}", &lead_terms)
    } else {
        SQL_DRIVER_SUMMED
            .replace("{terms}", &lead_terms)
            .replace("{mask}", &lead.mask_sql())
            .replace("{score}", &lead.score_sql())
    }
    .replace("{filters}", &lead_filters)
    .replace("{cap}", &(cap + 1).to_string())];
    let exact: Vec<String> = query
        .bonus
        .iter()
        .map(|(term, field)| super::keys::stored_term(term, *field))
        .collect();
    if exact.is_empty() {
        ctes.push("d AS (SELECT record_id, s FROM d0)".into());
    } else {
        let exact_terms: Vec<String> = exact.iter().map(|t| bind(&mut params, t)).collect();
        let exact_filters = filter_sql(filters, &mut params, "x");
        ctes.push(
            SQL_EXACT
                .replace("{exact}", &exact_terms.join(", "))
                .replace("{score}", &lead.score_sql())
                .replace("{terms}", &lead_terms)
                .replace("{mask}", &lead.mask_sql())
                .replace("{cap}", &cap.to_string())
                .replace("{exact_cap}", &plan.exact_cap.to_string())
                .replace("{filters}", &exact_filters),
        );
    }
    let mut columns = vec!["d.record_id".to_string(), "d.s".to_string()];
    let mut sum = vec!["p.s".to_string()];
    let mut all = String::new();
    let mut from = "d".to_string();
    for (i, group) in groups.iter().enumerate().filter(|(i, _)| *i != driver) {
        let terms = group.bind(&mut params);
        if plan.whole.contains(&i) {
            let sql = if group.terms.len() == 1 {
                SQL_TERM_WHOLE
            } else {
                SQL_GROUP_WHOLE
            };
            ctes.push(
                sql.replace("{i}", &i.to_string())
                    .replace("{score}", &group.score_sql())
                    .replace("{terms}", &terms)
                    .replace("{mask}", &group.mask_sql()),
            );
            from.push_str(&format!(" LEFT JOIN g{i} ON g{i}.record_id = d.record_id"));
            columns.push(format!("g{i}.s AS s{i}"));
        } else {
            columns.push(format!("({}) AS s{i}", group.probe_sql(&terms)));
        }
        sum.push(format!("p.s{i}"));
        all.push_str(&format!(" AND p.s{i} IS NOT NULL"));
    }
    let exact_flag = if exact.is_empty() {
        "0".to_string()
    } else {
        columns.push("x.s AS sx".into());
        sum.push("COALESCE(p.sx, 0)".into());
        from.push_str(" LEFT JOIN exa x ON x.record_id = d.record_id");
        "CASE WHEN p.sx IS NULL THEN 0 ELSE 1 END".to_string()
    };
    // Materialized, so that each probe runs once per candidate: inlined,
    // PostgreSQL ran each twice, for its value and for `IS NOT NULL`.
    ctes.push(format!(
        "p AS MATERIALIZED (SELECT {} FROM {from}), \
         matched AS (SELECT p.record_id, CAST({} AS BIGINT) AS score, {exact_flag} AS exact \
         FROM p WHERE 1 = 1{all})",
        columns.join(", "),
        sum.join(" + "),
    ));
    (format!("WITH {}", ctes.join(", ")), params)
}

/// The SQL that counts each key's postings, up to `cap` + 1 (past that a
/// group is common, and which common group drives matters little), as
/// rows `(grp, n)`; `None` for a query of one group. The caller counts
/// further than it reads candidates.
pub fn key_sizes_sql(query: &SearchQuery, cap: i64) -> Option<(String, Vec<Value>)> {
    if query.groups.len() < 2 {
        return None;
    }
    let mut params: Vec<Value> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    for (i, group) in query.groups.iter().enumerate() {
        let group = Terms::of(group);
        for term in &group.terms {
            params.push(Value::Text(term.clone()));
            counts.push(format!(
                "SELECT {i} AS grp, (SELECT COUNT(*) FROM (SELECT 1 FROM search_postings t \
                 WHERE t.term = ${}{} LIMIT {}) AS k) AS n",
                params.len(),
                group.mask_sql(),
                cap + 1
            ));
        }
    }
    Some((counts.join(" UNION ALL "), params))
}

/// A group as the store reads it: its distinct terms and the fields any of
/// them may match in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Terms {
    terms: Vec<String>,
    mask: i64,
}

impl Terms {
    fn of(group: &Group) -> Terms {
        let mut terms: Vec<String> = Vec::new();
        let mut mask = 0;
        for (term, field) in &group.0 {
            if !terms.contains(term) {
                terms.push(term.clone());
            }
            mask |= field.bit();
        }
        Terms { terms, mask }
    }

    /// Whether the group takes every field a word or n-gram can stand in,
    /// so that a posting's whole score is the group's score. (Exact-title
    /// keys are marked terms and ISBN keys are the only 13-digit ones.)
    fn all_fields(&self) -> bool {
        self.mask | Field::Exact.bit() | Field::Isbn.bit() == all_bits()
    }

    /// Binds the terms; their parameter names, comma-separated.
    fn bind(&self, params: &mut Vec<Value>) -> String {
        let names: Vec<String> = self.terms.iter().map(|t| bind(params, t)).collect();
        names.join(", ")
    }

    /// The condition on `t.fields`, empty when every field counts.
    fn mask_sql(&self) -> String {
        if self.all_fields() {
            String::new()
        } else {
            format!(" AND t.fields & {} <> 0", self.mask)
        }
    }

    /// The group's score of the posting `t`: its own score, or the weights
    /// of only the fields the group takes.
    fn score_sql(&self) -> String {
        if self.all_fields() {
            return "t.score".into();
        }
        let parts: Vec<String> = Field::ALL
            .iter()
            .filter(|f| self.mask & f.bit() != 0)
            .map(|f| {
                format!(
                    "CASE WHEN t.fields & {} <> 0 THEN {} ELSE 0 END",
                    f.bit(),
                    f.weight()
                )
            })
            .collect();
        format!("({})", parts.join(" + "))
    }

    /// The probe of this group for the candidate `d`.
    fn probe_sql(&self, terms: &str) -> String {
        SQL_PROBE
            .replace("{score}", &self.score_sql())
            .replace("{terms}", terms)
            .replace("{mask}", &self.mask_sql())
    }
}

/// Binds one text parameter; its name.
fn bind(params: &mut Vec<Value>, value: &str) -> String {
    params.push(Value::Text(value.to_string()));
    format!("${}", params.len())
}

/// The filter fragments on the record `alias`, their parameters bound.
fn filter_sql(filters: &Filters, params: &mut Vec<Value>, alias: &str) -> String {
    let mut sql = String::new();
    if let Some(branch) = &filters.branch {
        let n = bind(params, branch);
        sql.push_str(&FILTER_BRANCH.replace("${n}", &n));
    }
    if filters.on_shelf {
        sql.push_str(FILTER_ON_SHELF);
    }
    if let Some(language) = &filters.language {
        let n = bind(params, language);
        sql.push_str(&FILTER_LANGUAGE.replace("${n}", &n));
    }
    if let Some(year) = filters.year {
        params.push(Value::Int(year));
        let n = format!("${}", params.len());
        sql.push_str(&FILTER_YEAR.replace("${n}", &n));
    }
    sql.replace("{r}", alias)
}

fn all_bits() -> i64 {
    Field::ALL.iter().fold(0, |bits, f| bits | f.bit())
}

#[cfg(test)]
#[path = "matched_tests.rs"]
mod tests;
