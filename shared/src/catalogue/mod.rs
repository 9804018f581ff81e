//! *Catalogue import*: bibliographic records and their copies as a
//! library's ILS exports them (CSV, MARC ISO 2709, MARCXML; CNMARC
//! tags), read into [`ImportRecord`]s and written idempotently.
//!
//! An import arrives in *batches* (one HTTP request each; the `wangjie-import`
//! command-line client splits a file). Parsing never fails a whole batch
//! for one bad record: the record is *rejected* with its [`Position`] in
//! the file and a reason, and the good ones go on. Only a batch whose
//! framing is unusable (a CSV header without a title column) is refused.
//!
//! - [`csv`]: the CSV columns and their reading.
//! - [`marc`]: ISO 2709 framing and the CNMARC mapping shared with MARCXML.
//! - [`marcxml`]: MARCXML (MARC 21 slim schema) read with a real XML parser.
//! - [`store`]: the upsert (by control number, else ISBN; copies by barcode).

pub mod csv;
pub mod marc;
pub mod marcxml;
mod matching;
pub mod store;

use crate::{Error, Result};
use serde::Serialize;
use std::str::FromStr;

/// The file formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row ([`csv`]).
    Csv,
    /// MARC exchange format, ISO 2709, UTF-8 ([`marc`]).
    Marc,
    /// MARCXML ([`marcxml`]).
    MarcXml,
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "csv" => Ok(Format::Csv),
            "marc" | "iso2709" | "mrc" => Ok(Format::Marc),
            "marcxml" | "xml" => Ok(Format::MarcXml),
            other => Err(Error::invalid(
                "format",
                format!("{other:?} is not one of csv, marc, marcxml"),
            )),
        }
    }
}

/// Where a record sits in the imported file, so an operator can find it.
///
/// Batches carry offsets (`record_offset`, `line_offset`, `byte_offset`)
/// from the client, so positions are in the whole file, not in the batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Position {
    /// 1-based index of the record in the file.
    pub record: u64,
    /// 1-based line (CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset of the record's first byte (MARC, MARCXML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte: Option<u64>,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}", self.record)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if let Some(byte) = self.byte {
            write!(f, ", byte {byte}")?;
        }
        Ok(())
    }
}

/// How far into the file a batch starts: added to batch-relative positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offsets {
    /// Records before this batch.
    pub records: u64,
    /// Added to batch line numbers (CSV: file line of the batch's header row, minus 1).
    pub lines: u64,
    /// Added to batch byte offsets.
    pub bytes: u64,
}

/// A record that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Where it is in the file.
    pub position: Position,
    /// Its control number or ISBN when it was readable that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why it was refused, in words an operator can act on.
    pub reason: String,
}

/// One bibliographic record as read from a file, before it is stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportRecord {
    /// The ILS control number (MARC 001, CSV `record_id`).
    pub source_id: Option<String>,
    /// ISBN-13 digits, already validated.
    pub isbn13: Option<String>,
    /// Title proper.
    pub title: String,
    /// Statement of responsibility (authors, translators).
    pub responsibility: String,
    /// Publisher.
    pub publisher: String,
    /// Year of publication, 1000..=2100.
    pub year: Option<i64>,
    /// ISO 639-2 language code; `chi` when the file says nothing.
    pub language: String,
    /// Subject headings.
    pub subjects: Vec<String>,
    /// The record's call number.
    pub call_number: Option<String>,
    /// Key tying the volumes of a multi-volume set together.
    pub set_key: Option<String>,
    /// Volume number within the set.
    pub volume: Option<i64>,
    /// Physical copies.
    pub copies: Vec<ImportCopy>,
}

/// One barcoded copy of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportCopy {
    /// The barcode: the copy's identity.
    pub barcode: String,
    /// Code of the service point that owns it (its home branch).
    pub branch: String,
    /// The copy's own call number, when it differs from the record's.
    pub call_number: Option<String>,
    /// Its RFID tag, when it has one (1 to 128 printable ASCII characters).
    pub rfid: Option<String>,
}

impl ImportRecord {
    /// The key a rejection names the record by.
    pub fn key(&self) -> Option<String> {
        self.source_id.clone().or_else(|| self.isbn13.clone())
    }

    /// Checks the rules that do not depend on stored state.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if let Some(field) = self.field_with_nul() {
            return Err(format!(
                "{field} holds a NUL character (U+0000), which cannot be stored"
            ));
        }
        if self.title.trim().is_empty() {
            return Err("no title".into());
        }
        if self.source_id.is_none() && self.isbn13.is_none() {
            return Err(
                "neither a record id (001) nor an ISBN: it could not be matched on re-import"
                    .into(),
            );
        }
        if let Some(year) = self.year {
            if !(1000..=2100).contains(&year) {
                return Err(format!("year {year} is not between 1000 and 2100"));
            }
        }
        if self.set_key.is_some() != self.volume.is_some() {
            return Err("a set key needs a volume number and a volume a set key".into());
        }
        if self.volume.is_some_and(|v| v < 1) {
            return Err("volume numbers start at 1".into());
        }
        for copy in &self.copies {
            if copy.barcode.trim().is_empty() {
                return Err("a copy has no barcode".into());
            }
            if copy.branch.trim().is_empty() {
                return Err(format!("copy {} has no branch", copy.barcode));
            }
            if let Some(rfid) = &copy.rfid {
                if !(1..=128).contains(&rfid.len()) || !rfid.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(format!(
                        "copy {}: RFID tag {rfid:?} is not 1 to 128 printable ASCII characters",
                        copy.barcode
                    ));
                }
            }
            if copy.call_number.is_none() && self.call_number.is_none() {
                return Err(format!(
                    "copy {} has no call number, nor has its record",
                    copy.barcode
                ));
            }
        }
        Ok(())
    }
}

impl ImportRecord {
    /// The first field holding a NUL character, by its CSV column name.
    fn field_with_nul(&self) -> Option<&'static str> {
        let has = |text: &str| text.contains('\0');
        let has_opt = |text: &Option<String>| text.as_deref().is_some_and(has);
        let record = [
            ("record_id", has_opt(&self.source_id)),
            ("isbn", has_opt(&self.isbn13)),
            ("title", has(&self.title)),
            ("responsibility", has(&self.responsibility)),
            ("publisher", has(&self.publisher)),
            ("language", has(&self.language)),
            ("subjects", self.subjects.iter().any(|s| has(s))),
            ("call_number", has_opt(&self.call_number)),
            ("set_key", has_opt(&self.set_key)),
        ];
        let copies = self.copies.iter().flat_map(|copy| {
            [
                ("barcode", has(&copy.barcode)),
                ("branch", has(&copy.branch)),
                ("copy_call_number", has_opt(&copy.call_number)),
                ("rfid", has_opt(&copy.rfid)),
            ]
        });
        record
            .into_iter()
            .chain(copies)
            .find(|(_, nul)| *nul)
            .map(|(field, _)| field)
    }
}

/// Reads an ISBN in any written form (ISBN-10 or -13, hyphens, spaces) as
/// ISBN-13 digits, refusing a wrong check digit.
pub fn normalize_isbn(text: &str) -> std::result::Result<String, String> {
    crate::search::isbn::parse(text.trim())
        .ok_or_else(|| format!("{:?} is not a valid ISBN-10 or ISBN-13", text.trim()))
}

/// What reading a batch gave: good records with their positions, and
/// rejections.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Records that read well, in file order.
    pub records: Vec<(Position, ImportRecord)>,
    /// Records that did not.
    pub rejections: Vec<Rejection>,
}

impl Parsed {
    /// Keeps `record` if it passes [`ImportRecord::validate`], else rejects it.
    pub fn push(&mut self, position: Position, record: ImportRecord) {
        match record.validate() {
            Ok(()) => self.records.push((position, record)),
            Err(reason) => self.reject(position, record.key(), reason),
        }
    }

    /// Records a rejection.
    /// A NUL in the key or reason is shown as U+FFFD: the report is stored.
    pub fn reject(&mut self, position: Position, key: Option<String>, reason: String) {
        let visible = |text: String| text.replace('\0', "\u{FFFD}");
        self.rejections.push(Rejection {
            position,
            key: key.map(visible),
            reason: visible(reason),
        });
    }
}

/// Reads one batch in `format`. Fails only when the batch as a whole is
/// unusable (400); bad records become rejections.
pub fn parse(format: Format, body: &[u8], offsets: Offsets) -> Result<Parsed> {
    match format {
        Format::Csv => csv::parse(body, offsets),
        Format::Marc => Ok(marc::parse(body, offsets)),
        Format::MarcXml => marcxml::parse(body, offsets),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns_are_read_in_any_form_and_checked() {
        assert_eq!(
            normalize_isbn("978-7-5366-9293-0").unwrap(),
            "9787536692930"
        );
        assert_eq!(normalize_isbn("7536692935").unwrap(), "9787536692930");
        assert!(normalize_isbn("978-7-5366-9293-1").is_err());
    }

    #[test]
    fn a_record_without_a_title_or_any_key_is_refused() {
        let mut record = ImportRecord {
            source_id: Some("1".into()),
            ..ImportRecord::default()
        };
        assert_eq!(record.validate().unwrap_err(), "no title");
        record.title = "三体".into();
        record.source_id = None;
        assert!(record.validate().unwrap_err().contains("neither"));
    }

    #[test]
    fn positions_read_as_an_operator_would_look_for_them() {
        let position = Position {
            record: 3,
            line: Some(4),
            byte: None,
        };
        assert_eq!(position.to_string(), "record 3, line 4");
    }
}
