//! PostgreSQL values to and from `spin:postgres@4.0.0`, with the same Rust
//! types Spin 4.0.2 uses (chrono, uuid, serde_json, rust_decimal), so that
//! a value Spin cannot convert fails here too: e.g. a `timestamptz` column
//! (Spin reads both timestamp types as `chrono::NaiveDateTime`, which only
//! accepts `timestamp`) or an `int8` parameter bound to a `bigint`
//! placeholder (`int8` is PostgreSQL's one-byte `"char"`).

use super::bindings::spin::postgres::postgres::{
    Column, DbDataType, DbValue, Interval, ParameterValue,
};
use super::postgres_ranges::{decimal_range_from_wit, decimal_range_to_wit, PgRange};
use anyhow::{anyhow, Context, Result};
use bytes::{BufMut, BytesMut};
use chrono::{Datelike, Timelike};
use std::error::Error as StdError;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::Row;

type BoxError = Box<dyn StdError + Sync + Send>;

/// A column's WIT type, by PostgreSQL type (Spin's `convert_data_type`).
pub fn data_type(pg_type: &Type) -> DbDataType {
    match *pg_type {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(pg_type.name().to_owned()),
    }
}

/// Spin takes the columns from the first row, so a query with no rows
/// reports no columns either.
pub fn columns(rows: &[Row]) -> Vec<Column> {
    rows.first()
        .map(|row| {
            row.columns()
                .iter()
                .map(|c| Column {
                    name: c.name().to_owned(),
                    data_type: data_type(c.type_()),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn row(row: &Row) -> Result<Vec<DbValue>> {
    (0..row.len()).map(|index| value(row, index)).collect()
}

fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    wrap: impl FnOnce(T) -> Result<DbValue>,
) -> Result<DbValue> {
    match row.try_get::<_, Option<T>>(index)? {
        Some(v) => wrap(v),
        None => Ok(DbValue::DbNull),
    }
}

fn value(row: &Row, index: usize) -> Result<DbValue> {
    let pg_type = row.columns()[index].type_().clone();
    match pg_type {
        Type::BOOL => get(row, index, |v| Ok(DbValue::Boolean(v))),
        Type::BYTEA => get(row, index, |v| Ok(DbValue::Binary(v))),
        Type::FLOAT4 => get(row, index, |v| Ok(DbValue::Floating32(v))),
        Type::FLOAT8 => get(row, index, |v| Ok(DbValue::Floating64(v))),
        Type::INT2 => get(row, index, |v| Ok(DbValue::Int16(v))),
        Type::INT4 => get(row, index, |v| Ok(DbValue::Int32(v))),
        Type::INT8 => get(row, index, |v| Ok(DbValue::Int64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => get(row, index, |v| Ok(DbValue::Str(v))),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => get(row, index, |v: chrono::NaiveDateTime| {
            Ok(DbValue::Datetime((
                v.year(),
                v.month().try_into()?,
                v.day().try_into()?,
                v.hour().try_into()?,
                v.minute().try_into()?,
                v.second().try_into()?,
                v.nanosecond(),
            )))
        }),
        Type::DATE => get(row, index, |v: chrono::NaiveDate| {
            Ok(DbValue::Date((
                v.year(),
                v.month().try_into()?,
                v.day().try_into()?,
            )))
        }),
        Type::TIME => get(row, index, |v: chrono::NaiveTime| {
            Ok(DbValue::Time((
                v.hour().try_into()?,
                v.minute().try_into()?,
                v.second().try_into()?,
                v.nanosecond(),
            )))
        }),
        Type::UUID => get(row, index, |v: uuid::Uuid| Ok(DbValue::Uuid(v.to_string()))),
        Type::JSONB => get(row, index, |v: serde_json::Value| {
            Ok(DbValue::Jsonb(
                serde_json::to_vec(&v).context("invalid JSON from database")?,
            ))
        }),
        Type::NUMERIC => get(row, index, |v: rust_decimal::Decimal| {
            Ok(DbValue::Decimal(v.to_string()))
        }),
        Type::INT4_ARRAY => get(row, index, |v| Ok(DbValue::ArrayInt32(v))),
        Type::INT8_ARRAY => get(row, index, |v| Ok(DbValue::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => get(row, index, |v: Vec<Option<rust_decimal::Decimal>>| {
            Ok(DbValue::ArrayDecimal(
                v.iter().map(|d| d.map(|d| d.to_string())).collect(),
            ))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            get(row, index, |v| Ok(DbValue::ArrayStr(v)))
        }
        Type::INTERVAL => get(row, index, |v: PgInterval| Ok(DbValue::Interval(v.0))),
        Type::INT4_RANGE => get(row, index, |v: PgRange<i32>| Ok(DbValue::RangeInt32(v.0))),
        Type::INT8_RANGE => get(row, index, |v: PgRange<i64>| Ok(DbValue::RangeInt64(v.0))),
        Type::NUM_RANGE => get(row, index, |v| {
            Ok(DbValue::RangeDecimal(decimal_range_to_wit(v)))
        }),
        _ => get(row, index, |v: Raw| Ok(DbValue::Unsupported(v.0))),
    }
}

/// A guest parameter as a `ToSql` value (Spin's `to_sql_parameter`).
pub fn parameter(value: &ParameterValue) -> Result<Box<dyn ToSql + Send + Sync>> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date((y, m, d)) => Box::new(
            chrono::NaiveDate::from_ymd_opt(*y, (*m).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date y={y}, m={m}, d={d}"))?,
        ),
        ParameterValue::Time((h, min, s, ns)) => Box::new(time(*h, *min, *s, *ns)?),
        ParameterValue::Datetime((y, mon, d, h, min, s, ns)) => {
            let date = chrono::NaiveDate::from_ymd_opt(*y, (*mon).into(), (*d).into())
                .ok_or_else(|| anyhow!("invalid date y={y}, m={mon}, d={d}"))?;
            Box::new(chrono::NaiveDateTime::new(date, time(*h, *min, *s, *ns)?))
        }
        ParameterValue::Timestamp(v) => Box::new(
            chrono::DateTime::<chrono::Utc>::from_timestamp(*v, 0)
                .ok_or_else(|| anyhow!("invalid epoch timestamp {v}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).with_context(|| format!("invalid UUID {v}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(decimal(v)?),
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(decimal).transpose())
                .collect::<Result<Vec<_>>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(PgInterval(*v)),
        ParameterValue::DbNull => Box::new(PgNull),
        ParameterValue::RangeInt32(v) => Box::new(PgRange(*v)),
        ParameterValue::RangeInt64(v) => Box::new(PgRange(*v)),
        ParameterValue::RangeDecimal(v) => Box::new(decimal_range_from_wit(v)?),
    })
}

fn time(h: u8, min: u8, s: u8, ns: u32) -> Result<chrono::NaiveTime> {
    chrono::NaiveTime::from_hms_nano_opt(h.into(), min.into(), s.into(), ns)
        .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))
}

fn decimal(text: &str) -> Result<rust_decimal::Decimal> {
    rust_decimal::Decimal::from_str_exact(text).with_context(|| format!("invalid decimal {text}"))
}

/// NULL of whatever type the placeholder has (a typed `Option::None` would
/// be refused by placeholders of another type).
#[derive(Debug)]
struct PgNull;

impl ToSql for PgNull {
    fn to_sql(&self, _ty: &Type, _out: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `interval` in PostgreSQL's binary layout: micros, days, months.
#[derive(Debug)]
struct PgInterval(Interval);

impl ToSql for PgInterval {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl FromSql<'_> for PgInterval {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        let bytes: [u8; 16] = raw
            .try_into()
            .map_err(|_| "unexpected binary format for Postgres INTERVAL")?;
        let (micros, rest) = bytes.split_at(8);
        let (days, months) = rest.split_at(4);
        let micros = i64::from_be_bytes(micros.try_into()?);
        let days = i32::from_be_bytes(days.try_into()?);
        let months = i32::from_be_bytes(months.try_into()?);
        Ok(Self(Interval {
            micros,
            days,
            months,
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// Any other type: its binary wire form, for `db-value::unsupported`.
struct Raw(Vec<u8>);

impl FromSql<'_> for Raw {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Self, BoxError> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

#[cfg(test)]
#[path = "postgres_types_tests.rs"]
mod tests;
