//! PostgreSQL value conversions, end to end against the server at
//! 127.0.0.1:5432 in a scratch database.

use super::super::bindings::spin::postgres::postgres::{
    DbDataType, DbValue, Error, Interval, ParameterValue as P, QueryError,
};
use super::super::postgres::tests::{caps, exec, open_ok, query, Scratch};

#[tokio::test]
async fn types_round_trip() {
    let db = Scratch::new().await;
    let (mut caps, _dir) = caps().await;
    let c = open_ok(&mut caps, &db.address()).await;
    exec(
        &mut caps,
        &c,
        "CREATE TABLE v (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, s text, vc varchar(9),
         bin bytea, j jsonb, d date, t time, ts timestamp, u uuid, n numeric, iv interval,
         ai int4[], bi int8[], at text[], nothing text)",
        vec![],
    )
    .await
    .expect("create");
    let params = vec![
        P::Boolean(true),
        P::Int16(-2),
        P::Int32(40_000),
        P::Int64(-5_000_000_000),
        P::Floating32(1.5),
        P::Floating64(-0.25),
        P::Str("网借".into()),
        P::Str("short".into()),
        P::Binary(vec![0, 255]),
        P::Jsonb(br#"{"a":[1,true]}"#.to_vec()),
        P::Date((2024, 2, 29)),
        P::Time((23, 59, 58, 123_000)),
        P::Datetime((2024, 1, 2, 3, 4, 5, 6_000)),
        P::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
        P::Decimal("12345.6789".into()),
        P::Interval(Interval {
            micros: 1_500_000,
            days: 2,
            months: 3,
        }),
        P::ArrayInt32(vec![Some(1), None]),
        P::ArrayInt64(vec![Some(i64::MAX)]),
        P::ArrayStr(vec![Some("x".into()), None]),
        P::DbNull,
    ];
    let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
    let insert = format!("INSERT INTO v VALUES ({})", placeholders.join(", "));
    assert_eq!(
        exec(&mut caps, &c, &insert, params).await.expect("insert"),
        1
    );

    let rows = query(&mut caps, &c, "SELECT * FROM v", vec![])
        .await
        .expect("select");
    let types: Vec<DbDataType> = rows.columns.iter().map(|c| c.data_type.clone()).collect();
    let expected_types = [
        DbDataType::Boolean,
        DbDataType::Int16,
        DbDataType::Int32,
        DbDataType::Int64,
        DbDataType::Floating32,
        DbDataType::Floating64,
        DbDataType::Str,
        DbDataType::Str,
        DbDataType::Binary,
        DbDataType::Jsonb,
        DbDataType::Date,
        DbDataType::Time,
        DbDataType::Datetime,
        DbDataType::Uuid,
        DbDataType::Decimal,
        DbDataType::Interval,
        DbDataType::ArrayInt32,
        DbDataType::ArrayInt64,
        DbDataType::ArrayStr,
        DbDataType::Str,
    ];
    assert_eq!(format!("{types:?}"), format!("{expected_types:?}"));
    assert_eq!(rows.columns[0].name, "b");
    let expected = vec![
        DbValue::Boolean(true),
        DbValue::Int16(-2),
        DbValue::Int32(40_000),
        DbValue::Int64(-5_000_000_000),
        DbValue::Floating32(1.5),
        DbValue::Floating64(-0.25),
        DbValue::Str("网借".into()),
        DbValue::Str("short".into()),
        DbValue::Binary(vec![0, 255]),
        DbValue::Jsonb(br#"{"a":[1,true]}"#.to_vec()),
        DbValue::Date((2024, 2, 29)),
        DbValue::Time((23, 59, 58, 123_000)),
        DbValue::Datetime((2024, 1, 2, 3, 4, 5, 6_000)),
        DbValue::Uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()),
        DbValue::Decimal("12345.6789".into()),
        DbValue::Interval(Interval {
            micros: 1_500_000,
            days: 2,
            months: 3,
        }),
        DbValue::ArrayInt32(vec![Some(1), None]),
        DbValue::ArrayInt64(vec![Some(i64::MAX)]),
        DbValue::ArrayStr(vec![Some("x".into()), None]),
        DbValue::DbNull,
    ];
    assert_eq!(format!("{:?}", rows.rows), format!("{:?}", vec![expected]));

    // Spin's quirks, kept (an empty result is an error: postgres_tests.rs):
    // an unknown type comes back raw; timestamptz cannot be read (Spin
    // decodes it as a naive timestamp); an epoch `timestamp` parameter
    // binds only to timestamptz.
    let inet = query(&mut caps, &c, "SELECT '10.0.0.1'::inet AS a", vec![])
        .await
        .expect("inet");
    assert!(matches!(&inet.columns[0].data_type, DbDataType::Other(name) if name == "inet"));
    assert!(matches!(&inet.rows[0][0], DbValue::Unsupported(raw) if !raw.is_empty()));
    let tz = query(&mut caps, &c, "SELECT now() AS at", vec![]).await;
    assert!(
        matches!(tz, Err(Error::QueryFailed(QueryError::Text(_)))),
        "{tz:?}"
    );
    let epoch = query(
        &mut caps,
        &c,
        "SELECT extract(epoch FROM $1::timestamptz)::int8",
        vec![P::Timestamp(86_400)],
    )
    .await
    .expect("timestamp parameter");
    assert!(matches!(epoch.rows[0][0], DbValue::Int64(86_400)));

    let bad = query(
        &mut caps,
        &c,
        "SELECT $1::uuid",
        vec![P::Uuid("not-a-uuid".into())],
    )
    .await;
    assert!(matches!(bad, Err(Error::BadParameter(_))), "{bad:?}");
    let bad = exec(
        &mut caps,
        &c,
        "SELECT $1::jsonb",
        vec![P::Jsonb(b"{".to_vec())],
    )
    .await;
    assert!(
        matches!(bad, Err(Error::ValueConversionFailed(_))),
        "{bad:?}"
    );
    let mismatch = query(&mut caps, &c, "SELECT $1::int8", vec![P::Int8(1)]).await;
    assert!(
        matches!(mismatch, Err(Error::QueryFailed(_))),
        "{mismatch:?}"
    );
    drop(caps);
    drop(db);
}
