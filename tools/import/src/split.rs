//! Cutting a catalogue file into batches the server reads on its own,
//! while streaming: a file is never held whole in memory.
//!
//! Each batch carries the offsets that turn its positions into positions
//! in the file (`record_offset`, `line_offset`, `byte_offset`), so a
//! rejection names the record where the operator will find it.

use anyhow::{Context, Result};
use std::io::{BufRead, Read};

/// One request's worth of records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The request body: a well-formed file of its own.
    pub body: Vec<u8>,
    /// Records in the batch.
    pub records: u64,
    /// Records of the file before this batch.
    pub record_offset: u64,
    /// Added to the batch's line numbers to get the file's.
    pub line_offset: u64,
    /// Added to the batch's byte offsets to get the file's.
    pub byte_offset: u64,
    /// How far into the file this batch ends, for the progress bar.
    pub file_position: u64,
}

/// CSV: `size` rows per batch, each batch starting with the file's header.
/// Rows are re-written by the `csv` crate, which keeps quoting valid; the
/// server checks the rows themselves.
///
/// The rows of one record (same `record_id`, else `isbn`) stay in one
/// batch, even past `size`: only a record's first row carries its fields,
/// so a batch that began with its later rows would have a record with no
/// title.
pub fn csv_batches(input: impl Read, size: u64) -> impl Iterator<Item = Result<Batch>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader
        .byte_headers()
        .cloned()
        .context("reading the CSV header");
    let key_column = header.as_ref().ok().and_then(|header| {
        let position = |name: &[u8]| header.iter().position(|column| column == name);
        position(b"record_id").or_else(|| position(b"isbn"))
    });
    let mut records = reader.into_byte_records().peekable();
    let mut seen = 0u64;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let header = match &header {
            Ok(header) => header.clone(),
            Err(e) => {
                done = true;
                return Some(Err(anyhow::anyhow!("{e:#}")));
            }
        };
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut batch = Batch {
            record_offset: seen,
            ..Batch::default()
        };
        let written = (|| -> Result<()> {
            writer.write_byte_record(&header)?;
            while batch.records < size {
                let Some(row) = records.next() else {
                    done = true;
                    break;
                };
                let row = row.context("reading the CSV file")?;
                if batch.records == 0 {
                    // The batch's first row is its line 2 (after the header).
                    let line = row.position().map_or(2, |p| p.line());
                    batch.line_offset = line.saturating_sub(2);
                }
                batch.file_position = row.position().map_or(0, |p| p.byte());
                writer.write_byte_record(&row)?;
                batch.records += 1;
                let key = |row: &csv::ByteRecord| {
                    key_column
                        .and_then(|i| row.get(i))
                        .filter(|key| !key.is_empty())
                        .map(<[u8]>::to_vec)
                };
                if batch.records == size {
                    // Take the rest of this record's rows too.
                    let last = key(&row);
                    while last.is_some()
                        && records
                            .peek()
                            .is_some_and(|next| next.as_ref().is_ok_and(|next| key(next) == last))
                    {
                        let Some(Ok(next)) = records.next() else {
                            break;
                        };
                        batch.file_position = next.position().map_or(0, |p| p.byte());
                        writer.write_byte_record(&next)?;
                        batch.records += 1;
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = written {
            done = true;
            return Some(Err(e));
        }
        seen += batch.records;
        if batch.records == 0 {
            return None;
        }
        Some(
            writer
                .into_inner()
                .map_err(|e| anyhow::anyhow!("{e}"))
                .map(|body| Batch { body, ..batch }),
        )
    })
}

/// MARC ISO 2709: `size` records per batch, cut after each 0x1D.
pub fn marc_batches(mut input: impl BufRead, size: u64) -> impl Iterator<Item = Result<Batch>> {
    let mut position = 0u64;
    let mut seen = 0u64;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut batch = Batch {
            record_offset: seen,
            byte_offset: position,
            ..Batch::default()
        };
        while batch.records < size {
            let before = batch.body.len();
            match input.read_until(0x1D, &mut batch.body) {
                Ok(0) => {
                    done = true;
                    break;
                }
                Ok(n) => {
                    position += n as u64;
                    if batch.body[before..]
                        .iter()
                        .any(|b| !b.is_ascii_whitespace())
                    {
                        batch.records += 1;
                    }
                }
                Err(e) => {
                    done = true;
                    return Some(Err(anyhow::Error::from(e).context("reading the MARC file")));
                }
            }
        }
        seen += batch.records;
        batch.file_position = position;
        (batch.records > 0).then_some(Ok(batch))
    })
}

/// MARCXML: `size` `record` elements per batch, each batch wrapped in the
/// file's own prologue and root element (namespace declarations included)
/// and closed with the root's end tag.
pub fn marcxml_batches(mut input: impl BufRead, size: u64) -> impl Iterator<Item = Result<Batch>> {
    let mut position = 0u64;
    let mut seen = 0u64;
    let mut prologue: Vec<u8> = Vec::new();
    let mut closing: Option<Vec<u8>> = None;
    let mut done = false;
    // The start of the next batch's first record, when already read.
    let mut carried: Option<(u64, Vec<u8>)> = None;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut region: Vec<u8> = Vec::new();
        let mut start = None;
        let mut records = 0u64;
        if let Some((at, bytes)) = carried.take() {
            start = Some(at);
            region = bytes;
        }
        loop {
            let mut token = Vec::new();
            match input.read_until(b'>', &mut token) {
                Ok(0) => {
                    done = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    done = true;
                    return Some(Err(
                        anyhow::Error::from(e).context("reading the MARCXML file")
                    ));
                }
            }
            let token_at = position;
            position += token.len() as u64;
            let lt = token.iter().rposition(|&b| b == b'<');
            let tag = lt.map(|i| &token[i..]).unwrap_or_default();
            let is_start = is_record_tag(tag, false);
            if is_start {
                let lt = lt.unwrap_or(0);
                if start.is_none() {
                    start = Some(token_at + lt as u64);
                    region.extend(&token[lt..]);
                } else if records >= size {
                    // This record opens the next batch.
                    carried = Some((token_at + lt as u64, token[lt..].to_vec()));
                    break;
                } else {
                    region.extend(&token);
                }
                continue;
            }
            match start {
                None => {
                    // Before the first record: the prologue and the root.
                    if seen == 0 && records == 0 && closing.is_none() {
                        prologue.extend(&token);
                        closing = root_end_tag(&prologue);
                    }
                }
                Some(_) => {
                    region.extend(&token);
                    if is_record_tag(tag, true) {
                        records += 1;
                    }
                }
            }
        }
        let start = start?;
        if records == 0 && region.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        // Anything after the last record (the root's end tag) is not sent twice.
        if let Some(end) = last_record_end(&region) {
            region.truncate(end);
        }
        let mut body = prologue.clone();
        body.extend(&region);
        body.extend(closing.clone().unwrap_or_default());
        let batch = Batch {
            body,
            records,
            record_offset: seen,
            line_offset: 0,
            byte_offset: start.saturating_sub(prologue.len() as u64),
            file_position: position,
        };
        seen += records;
        Some(Ok(batch))
    })
}

/// Whether `tag` (from `<` to `>`) opens (or, with `end`, closes) a `record`
/// element under any namespace prefix.
fn is_record_tag(tag: &[u8], end: bool) -> bool {
    let Some(rest) = tag.strip_prefix(if end { b"</" as &[u8] } else { b"<" }) else {
        return false;
    };
    if !end && matches!(rest.first(), Some(b'/' | b'?' | b'!')) {
        return false;
    }
    let name_end = rest
        .iter()
        .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
        .unwrap_or(rest.len());
    let name = &rest[..name_end];
    let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
    local == b"record"
}

/// The end tag of the prologue's root element, once it has been read.
fn root_end_tag(prologue: &[u8]) -> Option<Vec<u8>> {
    let mut rest = prologue;
    while let Some(lt) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[lt + 1..];
        if matches!(rest.first(), Some(b'?' | b'!' | b'/')) {
            continue;
        }
        let end = rest
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))?;
        let mut tag = b"</".to_vec();
        tag.extend(&rest[..end]);
        tag.push(b'>');
        return Some(tag);
    }
    None
}

/// Where the last `</record>` of a region ends.
fn last_record_end(region: &[u8]) -> Option<usize> {
    let mut end = None;
    let mut from = 0;
    while let Some(lt) = region[from..].iter().position(|&b| b == b'<') {
        let at = from + lt;
        let gt = region[at..]
            .iter()
            .position(|&b| b == b'>')
            .map(|g| at + g + 1)?;
        if is_record_tag(&region[at..gt], true) {
            end = Some(gt);
        }
        from = gt;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_batches_repeat_the_header_and_carry_line_offsets() {
        let file = "title,isbn\na,1\nb,2\nc,3\n";
        let batches: Vec<Batch> = csv_batches(file.as_bytes(), 2)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].body, b"title,isbn\nc,3\n");
        assert_eq!((batches[1].record_offset, batches[1].line_offset), (2, 2));
    }

    #[test]
    fn csv_batches_keep_the_rows_of_one_record_together() {
        let file = "record_id,title,barcode\nr1,A,b1\nr1,,b2\nr1,,b3\nr2,B,b4\n";
        let batches: Vec<Batch> = csv_batches(file.as_bytes(), 2)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].records, 3);
        assert_eq!(batches[1].body, b"record_id,title,barcode\nr2,B,b4\n");
        assert_eq!(batches[1].record_offset, 3);
    }

    #[test]
    fn marc_batches_cut_after_record_terminators() {
        let file = b"aaa\x1Dbb\x1Dc\x1D\n";
        let batches: Vec<Batch> = marc_batches(&file[..], 2).collect::<Result<_>>().unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].body, b"c\x1D\n");
        assert_eq!((batches[1].record_offset, batches[1].byte_offset), (2, 7));
    }

    #[test]
    fn marcxml_batches_are_wrapped_in_the_files_root() {
        let file = "<?xml version=\"1.0\"?>\n<m:collection xmlns:m=\"x\">\n<m:record><m:leader>1</m:leader></m:record>\n<m:record>2</m:record>\n<m:record>3</m:record>\n</m:collection>\n";
        let batches: Vec<Batch> = marcxml_batches(file.as_bytes(), 2)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(batches.len(), 2);
        let second = String::from_utf8(batches[1].body.clone()).unwrap();
        assert_eq!(second, "<?xml version=\"1.0\"?>\n<m:collection xmlns:m=\"x\"><m:record>3</m:record></m:collection>");
        // The batch's byte + offset = the file's byte.
        let in_batch = second.find("<m:record>3").unwrap();
        let in_file = file.find("<m:record>3").unwrap();
        assert_eq!(batches[1].byte_offset as usize + in_batch, in_file);
        assert_eq!(batches[0].records + batches[1].records, 3);
    }
}
