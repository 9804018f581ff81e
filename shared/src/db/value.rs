//! Backend-neutral parameter and column values, and the rows a query
//! returns, with typed getters that turn a wrong column into an error
//! rather than a panic.

use crate::{Error, Result};

/// A parameter or a column value.
///
/// There is no boolean: SQLite has none, so flags are stored as small
/// integers or, better, as the state they stand for.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (`BIGINT`, `INTEGER`).
    Int(i64),
    /// A double (`DOUBLE PRECISION`, `REAL`).
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes (`BYTEA`, `BLOB`).
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The rows a query returned, with their column names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Each row's values, in column order.
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Iterates over the rows.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One row of [`Rows`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl<'a> Row<'a> {
    /// The value of a column, by name.
    pub fn value(&self, column: &str) -> Result<&'a Value> {
        self.columns
            .iter()
            .position(|c| c == column)
            .map(|i| &self.values[i])
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no column {column} in result")))
    }

    /// A non-null integer column.
    pub fn i64(&self, column: &str) -> Result<i64> {
        self.opt_i64(column)?.ok_or_else(|| null_in(column))
    }

    /// An integer column that may be null.
    pub fn opt_i64(&self, column: &str) -> Result<Option<i64>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            other => Err(wrong_type(column, "integer", other)),
        }
    }

    /// A non-null floating-point column (integers are widened).
    pub fn f64(&self, column: &str) -> Result<f64> {
        self.opt_f64(column)?.ok_or_else(|| null_in(column))
    }

    /// A floating-point column that may be null.
    pub fn opt_f64(&self, column: &str) -> Result<Option<f64>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Float(v) => Ok(Some(*v)),
            Value::Int(v) => Ok(Some(*v as f64)),
            other => Err(wrong_type(column, "number", other)),
        }
    }

    /// A non-null text column.
    pub fn text(&self, column: &str) -> Result<&'a str> {
        self.opt_text(column)?.ok_or_else(|| null_in(column))
    }

    /// A text column that may be null.
    pub fn opt_text(&self, column: &str) -> Result<Option<&'a str>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.as_str())),
            other => Err(wrong_type(column, "text", other)),
        }
    }
}

fn null_in(column: &str) -> Error {
    Error::Internal(anyhow::anyhow!("column {column} is null"))
}

fn wrong_type(column: &str, wanted: &str, got: &Value) -> Error {
    Error::Internal(anyhow::anyhow!(
        "column {column}: wanted {wanted}, got {got:?}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rows {
        Rows {
            columns: vec!["id".into(), "name".into(), "lat".into()],
            rows: vec![vec![
                Value::Int(7),
                Value::Text("西湖".into()),
                Value::Int(30),
            ]],
        }
    }

    #[test]
    fn typed_getters_read_columns_by_name() {
        let rows = sample();
        let row = rows.first().unwrap();
        assert_eq!(row.i64("id").unwrap(), 7);
        assert_eq!(row.text("name").unwrap(), "西湖");
        assert_eq!(row.f64("lat").unwrap(), 30.0);
    }

    #[test]
    fn a_wrong_or_missing_column_is_an_error_not_a_panic() {
        let rows = sample();
        let row = rows.first().unwrap();
        assert!(row.text("id").is_err());
        assert!(row.i64("nope").is_err());
    }
}
