//! PostgreSQL range values (`int4range`, `int8range`, `numrange`) to and
//! from `spin:postgres@4.0.0`'s `range-*` tuples.
//!
//! Spin 4.0.2 goes through the `postgres_range` crate; this host writes the
//! same binary wire form by hand (a flags byte, then each finite bound as a
//! length-prefixed element) rather than carry another crate. It keeps the
//! two behaviours a guest can see: a range whose lower bound lies past its
//! upper bound is sent as `empty` (where PostgreSQL alone would refuse it),
//! and an empty range reads back as `(none, none)`, the same tuple as an
//! unbounded one.

use super::bindings::spin::postgres::postgres::RangeBoundKind;
use anyhow::{Context, Result};
use bytes::{BufMut, BytesMut};
use std::error::Error as StdError;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, Kind, ToSql, Type};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A range as the WIT has it: `(lower, upper)`, `None` for an infinite bound.
pub type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

// PostgreSQL's `rangetypes.h` flags.
const EMPTY: u8 = 0x01;
const LOWER_INCLUSIVE: u8 = 0x02;
const UPPER_INCLUSIVE: u8 = 0x04;
const LOWER_INFINITE: u8 = 0x08;
const UPPER_INFINITE: u8 = 0x10;

/// A range of `T` (`i32`, `i64` or `rust_decimal::Decimal`), in the range
/// type whose element type `T` accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct PgRange<T>(pub WitRange<T>);

fn element_type(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<T: PartialOrd> PgRange<T> {
    /// `postgres_range::Range::new`'s emptiness rule: both bounds finite and
    /// the lower past the upper (or equal, unless both are inclusive).
    fn is_empty(&self) -> bool {
        match &self.0 {
            (Some((lower, lower_kind)), Some((upper, upper_kind))) => {
                match (lower_kind, upper_kind) {
                    (RangeBoundKind::Inclusive, RangeBoundKind::Inclusive) => lower > upper,
                    _ => lower >= upper,
                }
            }
            _ => false,
        }
    }
}

fn write_bound<T: ToSql>(value: &T, element: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    let at = out.len();
    out.put_i32(0);
    if let IsNull::Yes = value.to_sql(element, out)? {
        return Err("a range bound cannot be NULL".into());
    }
    let len = i32::try_from(out.len() - at - 4)?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

impl<T: ToSql + PartialOrd + std::fmt::Debug> ToSql for PgRange<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = element_type(ty).ok_or_else(|| format!("{ty} is not a range type"))?;
        if self.is_empty() {
            out.put_u8(EMPTY);
            return Ok(IsNull::No);
        }
        let (lower, upper) = &self.0;
        let mut flags = 0;
        match lower {
            None => flags |= LOWER_INFINITE,
            Some((_, RangeBoundKind::Inclusive)) => flags |= LOWER_INCLUSIVE,
            Some((_, RangeBoundKind::Exclusive)) => {}
        }
        match upper {
            None => flags |= UPPER_INFINITE,
            Some((_, RangeBoundKind::Inclusive)) => flags |= UPPER_INCLUSIVE,
            Some((_, RangeBoundKind::Exclusive)) => {}
        }
        out.put_u8(flags);
        for (value, _) in [lower, upper].into_iter().flatten() {
            write_bound(value, element, out)?;
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        element_type(ty).is_some_and(T::accepts)
    }

    to_sql_checked!();
}

fn read_bound<'a, T: FromSql<'a>>(element: &Type, raw: &mut &'a [u8]) -> Result<T, BoxError> {
    let (len, rest) = raw
        .split_first_chunk::<4>()
        .ok_or("truncated range bound length")?;
    let len = usize::try_from(i32::from_be_bytes(*len)).map_err(|_| "NULL range bound")?;
    if rest.len() < len {
        return Err("truncated range bound".into());
    }
    let (value, rest) = rest.split_at(len);
    *raw = rest;
    T::from_sql(element, value)
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = element_type(ty).ok_or_else(|| format!("{ty} is not a range type"))?;
        let (&flags, mut rest) = raw.split_first().ok_or("empty range value")?;
        if flags & EMPTY != 0 {
            return Ok(Self((None, None)));
        }
        let kind = |inclusive: u8| {
            if flags & inclusive != 0 {
                RangeBoundKind::Inclusive
            } else {
                RangeBoundKind::Exclusive
            }
        };
        let lower = if flags & LOWER_INFINITE != 0 {
            None
        } else {
            Some((read_bound(element, &mut rest)?, kind(LOWER_INCLUSIVE)))
        };
        let upper = if flags & UPPER_INFINITE != 0 {
            None
        } else {
            Some((read_bound(element, &mut rest)?, kind(UPPER_INCLUSIVE)))
        };
        if !rest.is_empty() {
            return Err("trailing bytes after a range value".into());
        }
        Ok(Self((lower, upper)))
    }

    fn accepts(ty: &Type) -> bool {
        element_type(ty).is_some_and(T::accepts)
    }
}

/// A `numrange` read from PostgreSQL, its bounds as decimal strings.
pub fn decimal_range_to_wit(range: PgRange<rust_decimal::Decimal>) -> WitRange<String> {
    let (lower, upper) = range.0;
    let text = |bound: Option<(rust_decimal::Decimal, RangeBoundKind)>| {
        bound.map(|(value, kind)| (value.to_string(), kind))
    };
    (text(lower), text(upper))
}

/// A guest's `range-decimal`, each bound parsed as Spin does (exactly).
pub fn decimal_range_from_wit(range: &WitRange<String>) -> Result<PgRange<rust_decimal::Decimal>> {
    let parse = |bound: &Option<(String, RangeBoundKind)>| {
        bound
            .as_ref()
            .map(|(value, kind)| {
                rust_decimal::Decimal::from_str_exact(value)
                    .with_context(|| format!("invalid decimal {value}"))
                    .map(|value| (value, *kind))
            })
            .transpose()
    };
    Ok(PgRange((parse(&range.0)?, parse(&range.1)?)))
}

#[cfg(test)]
#[path = "postgres_ranges_tests.rs"]
mod tests;
