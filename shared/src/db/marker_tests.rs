use super::*;

fn tail() -> &'static str {
    " SELECT r.* FROM (VALUES (1)) AS wj_one__ (x) \
     LEFT JOIN (SELECT *, TRUE AS wj_present__ FROM wj_rows__) AS r ON TRUE"
}

#[test]
fn a_plain_statement_becomes_the_one_cte() {
    assert_eq!(
        wrap("SELECT id FROM orders WHERE id = $1;\n"),
        format!(
            "WITH wj_rows__ AS (SELECT id FROM orders WHERE id = $1){}",
            tail()
        )
    );
    assert_eq!(
        wrap("update t set a = 1 returning a"),
        format!(
            "WITH wj_rows__ AS (update t set a = 1 returning a){}",
            tail()
        )
    );
}

#[test]
fn a_statement_with_its_own_ctes_gets_one_more() {
    let sql = "WITH RECURSIVE claimed (id) AS (UPDATE copies SET s = 'x' WHERE id IN (SELECT id FROM c) RETURNING id), \
               other AS MATERIALIZED (SELECT 1) \
               INSERT INTO t SELECT id FROM claimed RETURNING id";
    let wrapped = wrap(sql);
    assert!(wrapped.starts_with(
        "WITH RECURSIVE claimed (id) AS (UPDATE copies SET s = 'x' WHERE id IN (SELECT id FROM c) RETURNING id), \
         other AS MATERIALIZED (SELECT 1), wj_rows__ AS (INSERT INTO t SELECT id FROM claimed RETURNING id)"
    ), "{wrapped}");
    assert!(wrapped.ends_with(tail()));
}

#[test]
fn keywords_inside_quotes_comments_and_dollar_strings_do_not_end_the_list() {
    let sql = "WITH a AS (SELECT ')select(' AS \"select\" /* ) select */ -- ) select\n, $1::text, $q$ ) select $q$) \
               SELECT * FROM a";
    let wrapped = wrap(sql);
    assert!(
        wrapped.contains("$q$ ) select $q$), wj_rows__ AS (SELECT * FROM a)"),
        "{wrapped}"
    );
}

#[test]
fn multibyte_text_is_stepped_over_whole() {
    let wrapped = wrap("WITH a AS (SELECT '三体' AS t) SELECT t FROM a WHERE t <> 'é'");
    assert!(wrapped.contains("wj_rows__ AS (SELECT t FROM a WHERE t <> 'é')"));
}

fn rows(columns: &[&str], rows: Vec<Vec<Value>>) -> Rows {
    Rows {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

#[test]
fn the_marker_row_of_an_empty_result_is_removed() {
    let empty = strip(rows(&["id", PRESENT], vec![vec![Value::Null, Value::Null]]));
    assert_eq!(empty, rows(&["id"], vec![]));
}

#[test]
fn real_rows_lose_only_the_marker_column() {
    let found = strip(rows(
        &["id", "name", PRESENT],
        vec![
            vec![Value::Int(1), Value::Null, Value::Int(1)],
            vec![Value::Int(2), "b".into(), Value::Int(1)],
        ],
    ));
    assert_eq!(
        found,
        rows(
            &["id", "name"],
            vec![
                vec![Value::Int(1), Value::Null],
                vec![Value::Int(2), "b".into()]
            ]
        )
    );
}

#[test]
fn rows_without_the_marker_are_left_alone() {
    let plain = rows(&["n"], vec![vec![Value::Null]]);
    assert_eq!(strip(plain.clone()), plain);
}
