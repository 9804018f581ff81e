use super::*;
use crate::search::query::{SearchParams, SearchQuery};

fn parse(params: SearchParams) -> SearchQuery {
    SearchQuery::parse(&params).unwrap()
}

fn q(text: &str) -> SearchParams<'_> {
    SearchParams {
        q: Some(text),
        ..Default::default()
    }
}

#[test]
fn the_reader_text_is_bound_never_spliced() {
    let query = parse(q("三体'; DROP TABLE records; --"));
    let (sql, values) = matched_sql(&query, &Filters::default(), &Plan::first(2000, 2000));
    assert!(!sql.contains("DROP"), "{sql}");
    assert!(values.contains(&Value::Text("三体".into())));
}

#[test]
fn one_word_of_every_field_is_read_in_rank_order_and_capped() {
    let (sql, _) = matched_sql(
        &parse(q("santi")),
        &Filters::default(),
        &Plan::first(2000, 2000),
    );
    assert!(
        sql.contains("WHERE t.term = $1 ORDER BY t.score DESC, t.record_id LIMIT 2001"),
        "{sql}"
    );
    // The exact title is looked up on its own, marked.
    assert!(sql.contains("ex AS (SELECT e.record_id"), "{sql}");
}

#[test]
fn a_title_search_scores_only_title_fields() {
    let query = parse(SearchParams {
        title: Some("santi"),
        ..Default::default()
    });
    let (sql, _) = matched_sql(&query, &Filters::default(), &Plan::first(2000, 2000));
    let title = Field::Title.bit() | Field::TitlePinyin.bit() | Field::TitleInitials.bit();
    assert!(sql.contains(&format!("t.fields & {title} <> 0")), "{sql}");
    assert!(sql.contains("GROUP BY t.record_id ORDER BY 2 DESC, 1 LIMIT 2001"));
    assert!(!sql.contains("t.score DESC"), "{sql}");
}

#[test]
fn every_other_group_is_probed_and_must_match() {
    let query = parse(q("三体 santi"));
    let plan = Plan {
        driver: 1,
        cap: 2000,
        exact_cap: 2000,
        whole: Vec::new(),
    };
    let (sql, values) = matched_sql(&query, &Filters::default(), &plan);
    // The second group drives; the first is probed per candidate.
    assert!(sql.contains("WHERE t.term = $1 ORDER BY"), "{sql}");
    assert_eq!(values[0], Value::Text("santi".into()));
    assert!(sql.contains("AS s0"), "{sql}");
    assert!(sql.contains("AND p.s0 IS NOT NULL"), "{sql}");
    assert!(!sql.contains("AS s1"), "{sql}");
}

#[test]
fn filters_are_applied_to_the_postings_read() {
    let query = parse(q("三体"));
    let filters = Filters {
        branch: Some("B012".into()),
        on_shelf: true,
        ..Filters::default()
    };
    let (sql, values) = matched_sql(&query, &filters, &Plan::first(50, 50));
    let (walk, rest) = sql.split_at(sql.find("LIMIT 51").expect("a capped walk"));
    assert!(!walk.contains("copies"), "the walk is not filtered: {sql}");
    let driver = &rest[..rest.find("ex AS").unwrap()];
    assert!(driver.contains("c.record_id = t.record_id"), "{sql}");
    assert!(driver.contains("c.status = 'on_shelf'"), "{sql}");
    // And to the exact-title candidates, which skip the cap.
    assert!(sql.contains("c.record_id = x.record_id"), "{sql}");
    assert!(values.contains(&Value::Text("B012".into())));
}

#[test]
fn key_sizes_are_counted_only_to_choose_between_groups() {
    assert!(key_sizes_sql(&parse(q("文化")), 2000).is_none());
    let (sql, values) = key_sizes_sql(&parse(q("santi 刘慈欣")), 2000).unwrap();
    assert_eq!(sql.matches("LIMIT 2001").count(), 2, "{sql}");
    assert_eq!(values.len(), 2);
}

#[test]
fn a_small_group_is_read_whole_and_joined() {
    let query = parse(q("三体 santi"));
    let plan = Plan {
        driver: 1,
        cap: 2000,
        exact_cap: 2000,
        whole: vec![0],
    };
    let (sql, _) = matched_sql(&query, &Filters::default(), &plan);
    assert!(
        sql.contains("g0 AS (SELECT t.record_id, t.score AS s"),
        "{sql}"
    );
    assert!(
        sql.contains("LEFT JOIN g0 ON g0.record_id = d.record_id"),
        "{sql}"
    );
    assert!(sql.contains("AND p.s0 IS NOT NULL"), "{sql}");
}

#[test]
fn every_candidate_with_the_exact_title_is_flagged_though_few_are_added() {
    let plan = Plan::first(1000, 20);
    let (sql, _) = matched_sql(&parse(q("人工智能入门")), &Filters::default(), &plan);
    assert!(sql.contains("LIMIT 20), dx AS"), "{sql}");
    let flags = &sql[sql.find("exa AS").expect("the exact-title flags")..];
    assert!(
        !flags[..flags.find("GROUP BY").unwrap()].contains("LIMIT"),
        "{sql}"
    );
    assert!(
        sql.contains("LEFT JOIN exa x ON x.record_id = d.record_id"),
        "{sql}"
    );
}

#[test]
fn language_and_year_filter_the_record_and_are_bound() {
    let query = parse(q("三体"));
    let filters = Filters {
        language: Some("eng".into()),
        year: Some(2008),
        ..Filters::default()
    };
    let (sql, values) = matched_sql(&query, &filters, &Plan::first(50, 50));
    assert!(sql.contains("lr.language = $"), "{sql}");
    assert!(sql.contains("yr.year = $"), "{sql}");
    assert!(values.contains(&Value::Text("eng".into())));
    assert!(values.contains(&Value::Int(2008)));
}
