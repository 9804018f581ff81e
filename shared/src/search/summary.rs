//! The bibliographic fields of a record that both a search hit and the
//! record detail show, read from a row in one place.

use crate::db::Row;
use crate::Result;
use serde::Serialize;

/// A record's identity and its main bibliographic fields.
#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    #[allow(missing_docs)]
    pub id: i64,
    #[allow(missing_docs)]
    pub title: String,
    /// Statement of responsibility (author and role).
    pub responsibility: String,
    #[allow(missing_docs)]
    pub publisher: String,
    #[allow(missing_docs)]
    pub year: Option<i64>,
    #[allow(missing_docs)]
    pub isbn13: Option<String>,
    #[allow(missing_docs)]
    pub language: String,
}

impl RecordSummary {
    /// Reads the columns `id, title, responsibility, publisher, year,
    /// isbn13, language` of a row.
    pub fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(RecordSummary {
            id: row.i64("id")?,
            title: row.text("title")?.into(),
            responsibility: row.text("responsibility")?.into(),
            publisher: row.text("publisher")?.into(),
            year: row.opt_i64("year")?,
            isbn13: row.opt_text("isbn13")?.map(str::to_string),
            language: row.text("language")?.into(),
        })
    }
}
