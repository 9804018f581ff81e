//! MARC: the ISO 2709 exchange format and the CNMARC fields wangjie reads.
//!
//! ISO 2709 is a small fixed structure, parsed here by hand so that a bad
//! record is reported with its byte offset and the next one still read: a
//! 24-byte leader (record length at 0..5, base address of data at 12..17),
//! a directory of 12-byte entries (tag, field length, start), then the
//! fields, each ending with 0x1E; subfields start with 0x1F and a code;
//! the record ends with 0x1D. Only UTF-8 records are accepted.
//!
//! CNMARC mapping ([`to_import`]): control number 001; ISBN 010$a; title
//! 200$a; responsibility 200$f, else 701$a; publisher 210$c (214$c);
//! year 210$d (214$d); language 101$a; subjects 606$a; call number 690$a;
//! set 461$a with volume 200$h. Copies come from the Chinese holdings field
//! 905, one per occurrence: $b barcode, $c branch (service point code),
//! $d class number and $e book number, joined `$d/$e` as the call number.

use super::{normalize_isbn, ImportCopy, ImportRecord, Offsets, Parsed, Position};

/// Ends a field.
pub const FIELD_END: u8 = 0x1E;
/// Starts a subfield.
pub const SUBFIELD: u8 = 0x1F;
/// Ends a record.
pub const RECORD_END: u8 = 0x1D;

/// One MARC record, format-neutral (ISO 2709 and MARCXML both read into it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarcRecord {
    /// Control fields (tags 001-009): tag and value.
    pub control: Vec<(String, String)>,
    /// Data fields, in order.
    pub fields: Vec<DataField>,
}

/// A data field: its tag and subfields (indicators are not used here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataField {
    /// Three-character tag.
    pub tag: String,
    /// Subfield codes and values, in order.
    pub subfields: Vec<(char, String)>,
}

impl DataField {
    /// The first value of subfield `code`, trimmed, if not empty.
    pub fn first(&self, code: char) -> Option<&str> {
        self.subfields
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

impl MarcRecord {
    /// The first value of `tag`$`code` over all occurrences of the field.
    pub fn first(&self, tag: &str, code: char) -> Option<&str> {
        self.fields
            .iter()
            .filter(|f| f.tag == tag)
            .find_map(|f| f.first(code))
    }

    /// A control field's value.
    pub fn control(&self, tag: &str) -> Option<&str> {
        self.control
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Reads an ISO 2709 batch: records end at 0x1D; each is read on its own.
pub fn parse(body: &[u8], offsets: Offsets) -> Parsed {
    let mut parsed = Parsed::default();
    let mut start = 0;
    let mut index = 0u64;
    while start < body.len() {
        let end = body[start..]
            .iter()
            .position(|&b| b == RECORD_END)
            .map_or(body.len(), |i| start + i + 1);
        let chunk = &body[start..end];
        // Line breaks between records are a common export habit, not data.
        if chunk.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        index += 1;
        let skipped = chunk.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let position = Position {
            record: offsets.records + index,
            line: None,
            byte: Some(offsets.bytes + (start + skipped) as u64),
        };
        match read_iso2709(&chunk[skipped..]).and_then(|marc| to_import(&marc)) {
            Ok(record) => parsed.push(position, record),
            Err(reason) => parsed.reject(position, None, reason),
        }
        start = end;
    }
    parsed
}

/// Reads one ISO 2709 record, its terminator included.
pub fn read_iso2709(record: &[u8]) -> Result<MarcRecord, String> {
    if record.len() < 25 {
        return Err(format!(
            "{} bytes is too short for a MARC record",
            record.len()
        ));
    }
    let number = |range: std::ops::Range<usize>, what: &str| -> Result<usize, String> {
        std::str::from_utf8(&record[range])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("leader: {what} is not a number"))
    };
    let length = number(0..5, "record length")?;
    if length != record.len() {
        return Err(format!(
            "leader says {length} bytes, the record ends after {}",
            record.len()
        ));
    }
    if record[record.len() - 1] != RECORD_END {
        return Err("the record does not end with 0x1D".into());
    }
    let base = number(12..17, "base address")?;
    if base < 25 || base > record.len() || record[base - 1] != FIELD_END {
        return Err(format!(
            "leader: base address {base} does not follow the directory"
        ));
    }
    let directory = &record[24..base - 1];
    if !directory.len().is_multiple_of(12) {
        return Err("directory length is not a multiple of 12".into());
    }
    let mut marc = MarcRecord::default();
    for entry in directory.chunks(12) {
        // ASCII, not merely UTF-8: the tag and numbers are sliced by byte.
        let text = std::str::from_utf8(entry)
            .ok()
            .filter(|text| text.is_ascii())
            .ok_or_else(|| "directory is not ASCII".to_string())?;
        let tag = text[0..3].to_string();
        let bad = || format!("directory entry {text:?} is malformed");
        let field_length: usize = text[3..7].parse().map_err(|_| bad())?;
        let field_start: usize = text[7..12].parse().map_err(|_| bad())?;
        let from = base + field_start;
        let to = from + field_length;
        if field_length == 0 || to > record.len() - 1 {
            return Err(format!("field {tag} runs past the end of the record"));
        }
        // The stated length includes the field terminator.
        let data = record[from..to]
            .strip_suffix(&[FIELD_END])
            .unwrap_or(&record[from..to]);
        let text = std::str::from_utf8(data)
            .map_err(|_| format!("field {tag} is not UTF-8 (only UTF-8 MARC is accepted)"))?;
        if tag.as_str() < "010" {
            marc.control.push((tag, text.to_string()));
        } else {
            marc.fields.push(DataField {
                tag,
                subfields: subfields(text),
            });
        }
    }
    Ok(marc)
}

/// Writes `marc` as one ISO 2709 record that [`read_iso2709`] reads back
/// as it is: control fields first, then data fields with blank indicators.
/// Tags must be 3 bytes; a field longer than 9,998 bytes or a record
/// longer than 99,999 is refused, as the leader and directory cannot say
/// so. For tests and the fuzz targets; wangjie does not export MARC.
pub fn write_iso2709(marc: &MarcRecord) -> Result<Vec<u8>, String> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    let mut add = |tag: &str, mut bytes: Vec<u8>| -> Result<(), String> {
        if tag.len() != 3 {
            return Err(format!("tag {tag:?} is not 3 bytes"));
        }
        bytes.push(FIELD_END);
        if bytes.len() > 9999 || data.len() > 99_999 {
            return Err(format!("field {tag} does not fit a directory entry"));
        }
        directory.extend(format!("{tag}{:04}{:05}", bytes.len(), data.len()).bytes());
        data.extend(bytes);
        Ok(())
    };
    for (tag, value) in &marc.control {
        add(tag, value.as_bytes().to_vec())?;
    }
    for field in &marc.fields {
        let mut bytes = b"  ".to_vec();
        for (code, value) in &field.subfields {
            bytes.push(SUBFIELD);
            bytes.extend(code.to_string().bytes());
            bytes.extend(value.bytes());
        }
        add(&field.tag, bytes)?;
    }
    directory.push(FIELD_END);
    data.push(RECORD_END);
    let base = 24 + directory.len();
    let length = base + data.len();
    if length > 99_999 {
        return Err(format!("{length} bytes is too long for a MARC record"));
    }
    let mut record = format!("{length:05}nam a22{base:05}   4500").into_bytes();
    record.extend(directory);
    record.extend(data);
    Ok(record)
}

/// Splits a data field's text (indicators first) into subfields.
fn subfields(text: &str) -> Vec<(char, String)> {
    text.split(char::from(SUBFIELD))
        .skip(1)
        .filter_map(|s| {
            let mut chars = s.chars();
            chars.next().map(|code| (code, chars.as_str().to_string()))
        })
        .collect()
}

/// Maps a CNMARC record to what wangjie stores.
pub fn to_import(marc: &MarcRecord) -> Result<ImportRecord, String> {
    let text = |tag: &str, code: char| marc.first(tag, code).map(str::to_string);
    let isbn13 = marc
        .first("010", 'a')
        .map(|isbn| normalize_isbn(isbn).map_err(|e| format!("010$a: {e}")))
        .transpose()?;
    let year = marc
        .first("210", 'd')
        .or(marc.first("214", 'd'))
        .map(|d| super::csv::parse_year(d).map_err(|e| format!("210$d: {e}")))
        .transpose()?;
    let volume = match (marc.first("461", 'a'), marc.first("200", 'h')) {
        (Some(_), Some(h)) => Some(
            h.trim_matches(|c: char| !c.is_ascii_digit())
                .parse::<i64>()
                .map_err(|_| format!("200$h: volume {h:?} is not a number"))?,
        ),
        _ => None,
    };
    let copies = marc
        .fields
        .iter()
        .filter(|f| f.tag == "905")
        .map(|f| ImportCopy {
            barcode: f.first('b').unwrap_or_default().to_string(),
            branch: f.first('c').unwrap_or_default().to_string(),
            call_number: match (f.first('d'), f.first('e')) {
                (Some(class), Some(book)) => Some(format!("{class}/{book}")),
                (Some(class), None) => Some(class.to_string()),
                _ => None,
            },
            // CNMARC has no agreed subfield for it; tags come by CSV.
            rfid: None,
        })
        .collect::<Vec<_>>();
    Ok(ImportRecord {
        source_id: marc.control("001").map(str::to_string),
        isbn13,
        title: text("200", 'a').unwrap_or_default(),
        responsibility: text("200", 'f').or(text("701", 'a')).unwrap_or_default(),
        publisher: text("210", 'c').or(text("214", 'c')).unwrap_or_default(),
        year,
        language: text("101", 'a').unwrap_or_else(|| "chi".into()),
        subjects: marc
            .fields
            .iter()
            .filter(|f| f.tag == "606")
            .filter_map(|f| f.first('a').map(str::to_string))
            .collect(),
        call_number: text("690", 'a').or_else(|| copies.iter().find_map(|c| c.call_number.clone())),
        set_key: volume.and(text("461", 'a')),
        volume,
        copies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an ISO 2709 record from control and data fields.
    pub fn write(control: &[(&str, &str)], fields: &[(&str, &[(char, &str)])]) -> Vec<u8> {
        let marc = MarcRecord {
            control: control
                .iter()
                .map(|(tag, value)| (tag.to_string(), value.to_string()))
                .collect(),
            fields: fields
                .iter()
                .map(|(tag, subs)| DataField {
                    tag: tag.to_string(),
                    subfields: subs.iter().map(|(c, v)| (*c, v.to_string())).collect(),
                })
                .collect(),
        };
        write_iso2709(&marc).unwrap()
    }

    fn santi() -> Vec<u8> {
        write(
            &[("001", "CN0001")],
            &[
                ("010", &[('a', "978-7-5366-9293-0")]),
                ("200", &[('a', "三体"), ('f', "刘慈欣著")]),
                ("210", &[('c', "重庆出版社"), ('d', "2008")]),
                (
                    "905",
                    &[('b', "B0001"), ('c', "BR01"), ('d', "I247.5"), ('e', "1")],
                ),
            ],
        )
    }

    #[test]
    fn a_cnmarc_record_maps_to_title_author_isbn_and_copies() {
        let parsed = parse(&santi(), Offsets::default());
        assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
        let record = &parsed.records[0].1;
        assert_eq!(record.source_id.as_deref(), Some("CN0001"));
        assert_eq!(record.title, "三体");
        assert_eq!(record.responsibility, "刘慈欣著");
        assert_eq!(record.isbn13.as_deref(), Some("9787536692930"));
        assert_eq!(record.year, Some(2008));
        assert_eq!(record.copies[0].call_number.as_deref(), Some("I247.5/1"));
    }

    #[test]
    fn a_broken_record_is_rejected_at_its_byte_offset_and_the_next_one_read() {
        let good = santi();
        let mut broken = santi();
        broken[0..5].copy_from_slice(b"00099");
        let mut body = broken.clone();
        body.extend(&good);
        let parsed = parse(&body, Offsets::default());
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].0.byte, Some(broken.len() as u64));
        assert_eq!(parsed.rejections[0].position.byte, Some(0));
        assert!(parsed.rejections[0].reason.contains("leader"));
    }

    #[test]
    fn line_breaks_between_records_are_skipped_and_offsets_point_at_the_leader() {
        let record = santi();
        let body = [
            record.clone(),
            b"\r\n".to_vec(),
            record.clone(),
            b"\n".to_vec(),
        ]
        .concat();
        let parsed = parse(&body, Offsets::default());
        assert_eq!(parsed.records.len(), 2, "{:?}", parsed.rejections);
        assert_eq!(parsed.records[1].0.byte, Some(record.len() as u64 + 2));
    }

    #[test]
    fn responsibility_falls_back_to_701() {
        let marc = write(
            &[("001", "X")],
            &[("200", &[('a', "活着")]), ("701", &[('a', "余华")])],
        );
        let record = to_import(&read_iso2709(&marc).unwrap()).unwrap();
        assert_eq!(record.responsibility, "余华");
    }

    /// Found by fuzzing (fuzz/regressions/marc/directory-not-ascii): a
    /// directory of valid UTF-8 but not ASCII, with a character across a
    /// tag or length boundary, panicked slicing it. (The leader's length
    /// is read trimmed, so the carriage return before it is allowed.)
    #[test]
    fn a_directory_that_is_not_ascii_is_rejected_not_a_panic() {
        const INPUT: &[u8] = b"\x0d0086nam a2200061   450000100020000020000f\xe5\x88\x98\xe6\
          \x85\x88\xe6\xac\xa3\xe8\x91\x97\x1e  \x1f13\x1eX\x1e  \x1f!\xe6\
          \xb4\xbb\x00\x00\x00\x00\x00\x00\x02\x19\xe4\xbd\x8d\x99\xe5\x8e\
          \x1e\x1d";
        assert_eq!(read_iso2709(INPUT).unwrap_err(), "directory is not ASCII");
        let parsed = parse(INPUT, Offsets::default());
        assert_eq!((parsed.records.len(), parsed.rejections.len()), (0, 1));
    }
}
