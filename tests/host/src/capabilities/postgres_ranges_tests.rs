//! The range wire form, byte for byte, and each range type end to end
//! against the server at 127.0.0.1:5432 in a scratch database.

use super::super::bindings::spin::postgres::postgres::{
    DbDataType, DbValue, ParameterValue as P, RangeBoundKind::*,
};
use super::super::postgres::tests::{caps, exec, open_ok, query, Scratch};
use super::*;

fn encode<T: ToSql + PartialOrd + std::fmt::Debug>(range: WitRange<T>, ty: &Type) -> Vec<u8> {
    let mut out = BytesMut::new();
    PgRange(range).to_sql(ty, &mut out).expect("encodes");
    out.to_vec()
}

#[test]
fn finite_bounds_are_length_prefixed_after_the_flags() {
    let bytes = encode(
        (Some((1i32, Inclusive)), Some((5, Exclusive))),
        &Type::INT4_RANGE,
    );
    assert_eq!(
        bytes,
        [
            LOWER_INCLUSIVE,
            0,
            0,
            0,
            4,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            4,
            0,
            0,
            0,
            5
        ]
    );
}

#[test]
fn a_missing_bound_is_infinite_and_has_no_element() {
    let bytes = encode((None, Some((7i64, Inclusive))), &Type::INT8_RANGE);
    let mut expected = vec![LOWER_INFINITE | UPPER_INCLUSIVE, 0, 0, 0, 8];
    expected.extend_from_slice(&7i64.to_be_bytes());
    assert_eq!(bytes, expected);
    assert_eq!(
        encode::<i32>((None, None), &Type::INT4_RANGE),
        [LOWER_INFINITE | UPPER_INFINITE]
    );
}

#[test]
fn a_lower_bound_past_the_upper_is_sent_as_empty_like_spin() {
    assert_eq!(
        encode(
            (Some((9i32, Inclusive)), Some((3, Inclusive))),
            &Type::INT4_RANGE
        ),
        [EMPTY]
    );
    assert_eq!(
        encode(
            (Some((3i32, Inclusive)), Some((3, Exclusive))),
            &Type::INT4_RANGE
        ),
        [EMPTY]
    );
    assert_ne!(
        encode(
            (Some((3i32, Inclusive)), Some((3, Inclusive))),
            &Type::INT4_RANGE
        ),
        [EMPTY]
    );
}

#[test]
fn decoding_reverses_encoding_and_empty_reads_as_unbounded() {
    let range = (Some((-4i64, Exclusive)), None);
    let bytes = encode(range, &Type::INT8_RANGE);
    let decoded = PgRange::<i64>::from_sql(&Type::INT8_RANGE, &bytes).expect("decodes");
    assert_eq!(decoded.0, range);
    let empty = PgRange::<i32>::from_sql(&Type::INT4_RANGE, &[EMPTY]).expect("decodes");
    assert_eq!(empty.0, (None, None));
    assert!(PgRange::<i32>::from_sql(&Type::INT4_RANGE, &[0, 0, 0]).is_err());
}

#[test]
fn only_range_types_of_the_element_are_accepted() {
    assert!(<PgRange<i32> as ToSql>::accepts(&Type::INT4_RANGE));
    assert!(!<PgRange<i32> as ToSql>::accepts(&Type::INT8_RANGE));
    assert!(!<PgRange<i32> as ToSql>::accepts(&Type::INT4));
    assert!(<PgRange<rust_decimal::Decimal> as FromSql>::accepts(
        &Type::NUM_RANGE
    ));
}

#[test]
fn decimal_bounds_are_parsed_exactly() {
    let range = (Some(("1234.56".to_string(), Exclusive)), None);
    let parsed = decimal_range_from_wit(&range).expect("parses");
    assert_eq!(decimal_range_to_wit(parsed), range);
    assert!(decimal_range_from_wit(&(Some(("1e3".to_string(), Inclusive)), None)).is_err());
}

#[tokio::test]
async fn ranges_round_trip_through_postgres() {
    let db = Scratch::new().await;
    let (mut caps, _dir) = caps().await;
    let c = open_ok(&mut caps, &db.address()).await;
    exec(
        &mut caps,
        &c,
        "CREATE TABLE r (id int4, r4 int4range, r8 int8range, rn numrange)",
        vec![],
    )
    .await
    .expect("create");
    exec(
        &mut caps,
        &c,
        "INSERT INTO r VALUES (1, '(1, 40]', '[123456789012, 234567890123)', numrange(NULL, 100))",
        vec![],
    )
    .await
    .expect("insert literal");
    let inserted = exec(
        &mut caps,
        &c,
        "INSERT INTO r VALUES (2, $1, $2, $3)",
        vec![
            P::RangeInt32((Some((30, Exclusive)), Some((12341234, Exclusive)))),
            P::RangeInt64((Some((123123123123, Inclusive)), None)),
            P::RangeDecimal((
                Some(("1234.56".into(), Exclusive)),
                Some(("456789012345.789123".into(), Inclusive)),
            )),
        ],
    )
    .await
    .expect("insert parameters");
    assert_eq!(inserted, 1);

    let rows = query(
        &mut caps,
        &c,
        "SELECT r4, r8, rn FROM r ORDER BY id",
        vec![],
    )
    .await
    .expect("select");
    let types: Vec<DbDataType> = rows.columns.iter().map(|c| c.data_type.clone()).collect();
    assert_eq!(
        format!("{types:?}"),
        format!(
            "{:?}",
            [
                DbDataType::RangeInt32,
                DbDataType::RangeInt64,
                DbDataType::RangeDecimal
            ]
        )
    );
    // PostgreSQL normalises discrete ranges to `[lower, upper)`; numeric
    // ranges keep their bounds.
    let expected = vec![
        vec![
            DbValue::RangeInt32((Some((2, Inclusive)), Some((41, Exclusive)))),
            DbValue::RangeInt64((
                Some((123456789012, Inclusive)),
                Some((234567890123, Exclusive)),
            )),
            DbValue::RangeDecimal((None, Some(("100".into(), Exclusive)))),
        ],
        vec![
            DbValue::RangeInt32((Some((31, Inclusive)), Some((12341234, Exclusive)))),
            DbValue::RangeInt64((Some((123123123123, Inclusive)), None)),
            DbValue::RangeDecimal((
                Some(("1234.56".into(), Exclusive)),
                Some(("456789012345.789123".into(), Inclusive)),
            )),
        ],
    ];
    assert_eq!(format!("{:?}", rows.rows), format!("{expected:?}"));

    let empty = query(&mut caps, &c, "SELECT 'empty'::int4range", vec![])
        .await
        .expect("empty range");
    assert_eq!(
        format!("{:?}", empty.rows),
        format!("{:?}", vec![vec![DbValue::RangeInt32((None, None))]])
    );
    let contained = query(
        &mut caps,
        &c,
        "SELECT id FROM r WHERE $1::int4 <@ r4 ORDER BY id",
        vec![P::Int32(40)],
    )
    .await
    .expect("containment");
    assert_eq!(contained.rows.len(), 2);
    drop(caps);
    drop(db);
}
