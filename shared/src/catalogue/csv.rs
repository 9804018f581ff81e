//! The CSV import format: UTF-8, comma-separated, a header row naming the
//! columns (any order; `title` and one of `record_id` or `isbn` required):
//!
//! | column | meaning |
//! | --- | --- |
//! | `record_id` | the ILS control number (MARC 001) |
//! | `isbn` | ISBN-10 or -13, hyphens allowed, check digit verified |
//! | `title`, `responsibility`, `publisher` | as catalogued |
//! | `year` | four digits (the first run of four digits is taken: `2008.1` reads 2008) |
//! | `language` | ISO 639-2 code, `chi` when empty |
//! | `subjects` | headings separated by `;` |
//! | `call_number` | the record's call number |
//! | `set_key`, `volume` | a multi-volume set and this record's volume in it |
//! | `barcode`, `branch`, `copy_call_number` | one copy: its barcode, home service point code, call number |
//! | `rfid` | the copy's RFID tag, if it has one |
//!
//! One row per copy: rows with the same `record_id` (else the same ISBN)
//! are one record, its fields taken from the first row. A record with no
//! copies has an empty `barcode`.

use super::{normalize_isbn, ImportCopy, ImportRecord, Offsets, Parsed, Position};
use crate::{Error, Result};
use std::collections::HashMap;

/// Every column the format knows.
pub const COLUMNS: &[&str] = &[
    "record_id",
    "isbn",
    "title",
    "responsibility",
    "publisher",
    "year",
    "language",
    "subjects",
    "call_number",
    "set_key",
    "volume",
    "barcode",
    "branch",
    "copy_call_number",
    "rfid",
];

/// Reads a CSV batch. A header that lacks `title`, lacks both keys or names
/// an unknown column refuses the whole batch: no row could be read right.
pub fn parse(body: &[u8], offsets: Offsets) -> Result<Parsed> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| Error::invalid("header", format!("unreadable CSV header: {e}")))?
        .clone();
    let index = column_index(&header)?;
    let mut parsed = Parsed::default();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut records: Vec<(Position, ImportRecord)> = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let mut position = Position {
            record: offsets.records + n as u64 + 1,
            line: None,
            byte: None,
        };
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                position.line = e.position().map(|p| p.line() + offsets.lines);
                parsed.reject(position, None, format!("unreadable row: {e}"));
                continue;
            }
        };
        position.line = row.position().map(|p| p.line() + offsets.lines);
        let field = |name: &str| {
            index
                .get(name)
                .and_then(|&i| row.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let record = match read_row(&field) {
            Ok(record) => record,
            Err(reason) => {
                let key = field("record_id").or(field("isbn")).map(str::to_string);
                parsed.reject(position, key, reason);
                continue;
            }
        };
        // Later rows of a record already seen only add their copies.
        match record.key().and_then(|key| by_key.get(&key)) {
            Some(&first) => records[first].1.copies.extend(record.copies),
            None => {
                if let Some(key) = record.key() {
                    by_key.insert(key, records.len());
                }
                records.push((position, record));
            }
        }
    }
    for (position, record) in records {
        parsed.push(position, record);
    }
    Ok(parsed)
}

fn column_index(header: &::csv::StringRecord) -> Result<HashMap<String, usize>> {
    let mut index = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        if !COLUMNS.contains(&name.as_str()) {
            return Err(Error::invalid(
                "header",
                format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ));
        }
        if index.insert(name.clone(), i).is_some() {
            return Err(Error::invalid(
                "header",
                format!("column {name:?} appears twice"),
            ));
        }
    }
    if !index.contains_key("title") {
        return Err(Error::invalid("header", "no title column"));
    }
    if !index.contains_key("record_id") && !index.contains_key("isbn") {
        return Err(Error::invalid(
            "header",
            "needs a record_id or an isbn column",
        ));
    }
    Ok(index)
}

fn read_row<'a>(
    field: &impl Fn(&str) -> Option<&'a str>,
) -> std::result::Result<ImportRecord, String> {
    let text = |name: &str| field(name).map(str::to_string);
    let isbn13 = field("isbn").map(normalize_isbn).transpose()?;
    let year = field("year").map(parse_year).transpose()?;
    let volume = field("volume")
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| format!("volume {v:?} is not a whole number"))
        })
        .transpose()?;
    let copies = match field("barcode") {
        None => Vec::new(),
        Some(barcode) => vec![ImportCopy {
            barcode: barcode.to_string(),
            branch: text("branch").unwrap_or_default(),
            call_number: text("copy_call_number"),
            rfid: text("rfid"),
        }],
    };
    Ok(ImportRecord {
        source_id: text("record_id"),
        isbn13,
        title: text("title").unwrap_or_default(),
        responsibility: text("responsibility").unwrap_or_default(),
        publisher: text("publisher").unwrap_or_default(),
        year,
        language: text("language").unwrap_or_else(|| "chi".into()),
        subjects: field("subjects")
            .map(|s| {
                s.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        call_number: text("call_number"),
        set_key: text("set_key"),
        volume,
        copies,
    })
}

/// The first run of four digits in a date as catalogues write it
/// (`2008`, `2008.1`, `[1998]`, `c2001`).
pub fn parse_year(text: &str) -> std::result::Result<i64, String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(3))
        .find(|&i| bytes[i..i + 4].iter().all(u8::is_ascii_digit))
        .and_then(|i| text[i..i + 4].parse().ok())
        .ok_or_else(|| format!("year {text:?} has no four-digit year"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "record_id,isbn,title,responsibility,publisher,year,barcode,branch,copy_call_number\n";

    fn read(rows: &str) -> Parsed {
        parse(format!("{HEADER}{rows}").as_bytes(), Offsets::default()).unwrap()
    }

    #[test]
    fn rows_of_one_record_become_one_record_with_its_copies() {
        let parsed = read(
            "R1,978-7-5366-9293-0,三体,刘慈欣著,重庆出版社,2008.1,B1,BR01,I247.5/1\n\
             R1,,,,,,B2,BR02,I247.5/1\n",
        );
        assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
        let (position, record) = &parsed.records[0];
        assert_eq!(position.line, Some(2));
        assert_eq!(record.isbn13.as_deref(), Some("9787536692930"));
        assert_eq!(record.year, Some(2008));
        assert_eq!(record.copies.len(), 2);
    }

    #[test]
    fn a_bad_row_is_rejected_with_its_line_and_the_others_kept() {
        let parsed = read("R1,9787536692931,三体,,,,,,\nR2,,活着,余华,,1993,,,\n");
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.rejections[0].position.line, Some(2));
        assert!(parsed.rejections[0].reason.contains("ISBN"));
    }

    #[test]
    fn a_cell_with_a_nul_rejects_its_record_and_keeps_the_others() {
        let parsed = read("R1,,三\0体,,,,B1,BR01,I1\nR2,,活着,余华,,1993,B2,BR01,I2\n");
        assert_eq!(parsed.records.len(), 1, "{:?}", parsed.rejections);
        assert_eq!(parsed.records[0].1.title, "活着");
        let rejection = &parsed.rejections[0];
        assert_eq!(rejection.position.line, Some(2));
        assert!(
            rejection.reason.contains("title holds a NUL"),
            "{rejection:?}"
        );
    }

    #[test]
    fn a_copy_may_carry_an_rfid_tag_of_printable_ascii() {
        let body = "record_id,title,call_number,barcode,branch,rfid\n\
                    R1,三体,I247/1,B1,BR01,E2801160600002084A4B3C21\n\
                    R2,活着,I247/2,B2,BR01,\n\
                    R3,平凡的世界,I247/3,B3,BR01,bad tag\n";
        let parsed = parse(body.as_bytes(), Offsets::default()).unwrap();
        let tags: Vec<_> = parsed
            .records
            .iter()
            .map(|(_, r)| r.copies[0].rfid.as_deref())
            .collect();
        assert_eq!(tags, [Some("E2801160600002084A4B3C21"), None]);
        assert!(
            parsed.rejections[0].reason.contains("RFID"),
            "{:?}",
            parsed.rejections
        );
    }

    #[test]
    fn a_header_without_a_title_refuses_the_batch() {
        let error = parse(b"record_id,isbn\nR1,\n", Offsets::default()).unwrap_err();
        assert!(error.to_string().contains("title"));
        assert!(parse(b"record_id,title,colour\n", Offsets::default()).is_err());
    }

    #[test]
    fn batch_offsets_give_positions_in_the_whole_file() {
        let offsets = Offsets {
            records: 100,
            lines: 100,
            bytes: 0,
        };
        let body = format!("{HEADER}R1,,,,,,,,\n");
        let parsed = parse(body.as_bytes(), offsets).unwrap();
        assert_eq!(parsed.rejections[0].position.record, 101);
        assert_eq!(parsed.rejections[0].position.line, Some(102));
    }
}
