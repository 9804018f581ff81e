//! MARCXML (the MARC 21 slim schema, any namespace prefix): `record`
//! elements holding `leader`, `controlfield tag=` and `datafield tag=`
//! with `subfield code=`, read with `quick-xml` into a
//! [`MarcRecord`] and mapped like ISO 2709 ([`super::marc::to_import`]).
//!
//! A record whose content is wrong is rejected and the next one read. XML
//! that is not well formed cannot be resynchronised, so the rest of the
//! batch is rejected in one entry at the byte where the parser stopped.

use super::marc::{to_import, DataField, MarcRecord};
use super::{Offsets, Parsed, Position};
use crate::{Error, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Where the reader is inside a record.
enum Slot {
    None,
    Control(String),
    Subfield(char),
}

/// Reads a MARCXML batch. A body that is not XML before its first record,
/// or holds no `record` at all, is not MARCXML: the batch is refused (400),
/// as a wrong `format` usually is the cause.
pub fn parse(body: &[u8], offsets: Offsets) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut index = 0u64;
    // The record being read, where it started, and its first content error.
    let mut current: Option<(MarcRecord, Position, Option<String>)> = None;
    let mut slot = Slot::None;
    let mut text = String::new();
    loop {
        let at = reader.buffer_position();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) if index == 0 => {
                return Err(Error::invalid(
                    "body",
                    format!("not MARCXML: {e} at byte {}", reader.error_position()),
                ));
            }
            Err(e) => {
                let position = match &current {
                    Some((_, position, _)) => *position,
                    None => Position {
                        record: offsets.records + index + 1,
                        line: None,
                        byte: Some(offsets.bytes + at),
                    },
                };
                parsed.reject(
                    position,
                    None,
                    format!("XML is not well formed at byte {}: {e}; the rest of the batch was not read", offsets.bytes + reader.error_position()),
                );
                break;
            }
        };
        match event {
            Event::Eof => break,
            Event::Start(e) => match e.local_name().as_ref() {
                b"record" => {
                    index += 1;
                    let position = Position {
                        record: offsets.records + index,
                        line: None,
                        byte: Some(offsets.bytes + at),
                    };
                    current = Some((MarcRecord::default(), position, None));
                }
                b"controlfield" => {
                    slot = Slot::Control(attribute(&e, b"tag").unwrap_or_default());
                    text.clear();
                }
                b"datafield" => {
                    if let Some((marc, _, _)) = current.as_mut() {
                        marc.fields.push(DataField {
                            tag: attribute(&e, b"tag").unwrap_or_default(),
                            subfields: Vec::new(),
                        });
                    }
                }
                b"subfield" => {
                    let code = attribute(&e, b"code").and_then(|c| c.chars().next());
                    slot = code.map_or(Slot::None, Slot::Subfield);
                    text.clear();
                }
                _ => {}
            },
            Event::Text(t) if !matches!(slot, Slot::None) => match t.unescape() {
                Ok(value) => text.push_str(&value),
                Err(e) => {
                    if let Some((_, _, error @ None)) = current.as_mut() {
                        *error = Some(format!("bad character reference: {e}"));
                    }
                }
            },
            Event::CData(t) if !matches!(slot, Slot::None) => {
                text.push_str(&String::from_utf8_lossy(&t));
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"controlfield" | b"subfield" => {
                    if let Some((marc, _, _)) = current.as_mut() {
                        match std::mem::replace(&mut slot, Slot::None) {
                            Slot::Control(tag) => marc.control.push((tag, text.clone())),
                            Slot::Subfield(code) => {
                                if let Some(field) = marc.fields.last_mut() {
                                    field.subfields.push((code, text.clone()));
                                }
                            }
                            Slot::None => {}
                        }
                    }
                }
                b"record" => {
                    if let Some((marc, position, error)) = current.take() {
                        match error.map_or_else(|| to_import(&marc), Err) {
                            Ok(record) => parsed.push(position, record),
                            Err(reason) => parsed.reject(
                                position,
                                marc.control("001").map(str::to_string),
                                reason,
                            ),
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    if index == 0 {
        return Err(Error::invalid("body", "not MARCXML: no record element"));
    }
    Ok(parsed)
}

fn attribute(element: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok())
        .map(|v| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim">
<marc:record><marc:leader>00000nam a2200000   4500</marc:leader>
<marc:controlfield tag="001">CN1</marc:controlfield>
<marc:datafield tag="010" ind1=" " ind2=" "><marc:subfield code="a">7536692935</marc:subfield></marc:datafield>
<marc:datafield tag="200" ind1="1" ind2=" "><marc:subfield code="a">三体 &amp; 续</marc:subfield><marc:subfield code="f">刘慈欣</marc:subfield></marc:datafield>
<marc:datafield tag="905" ind1=" " ind2=" "><marc:subfield code="b">B1</marc:subfield><marc:subfield code="c">BR01</marc:subfield><marc:subfield code="d">I247.5</marc:subfield></marc:datafield>
</marc:record>
<marc:record><marc:controlfield tag="001">CN2</marc:controlfield></marc:record>
</marc:collection>"#;

    #[test]
    fn records_are_read_whatever_the_namespace_prefix() {
        let parsed = parse(TWO.as_bytes(), Offsets::default()).unwrap();
        let record = &parsed.records[0].1;
        assert_eq!(record.title, "三体 & 续");
        assert_eq!(record.isbn13.as_deref(), Some("9787536692930"));
        assert_eq!(record.copies[0].branch, "BR01");
        assert_eq!(record.copies[0].call_number.as_deref(), Some("I247.5"));
    }

    #[test]
    fn a_record_without_a_title_is_rejected_with_its_index_and_offset() {
        let parsed = parse(TWO.as_bytes(), Offsets::default()).unwrap();
        assert_eq!(parsed.rejections.len(), 1);
        let rejection = &parsed.rejections[0];
        assert_eq!(rejection.position.record, 2);
        assert_eq!(
            rejection.position.byte,
            TWO.find("<marc:record><marc:controlfield")
                .map(|b| b as u64)
        );
        assert_eq!(rejection.key.as_deref(), Some("CN2"));
    }

    #[test]
    fn xml_that_is_not_well_formed_rejects_the_rest_of_the_batch() {
        let parsed = parse(
            b"<collection><record><controlfield tag=\"001\">X</oops></record></collection>",
            Offsets::default(),
        )
        .unwrap();
        assert_eq!(parsed.records.len(), 0);
        assert!(parsed.rejections[0].reason.contains("not well formed"));
    }

    #[test]
    fn a_body_that_is_not_marcxml_refuses_the_batch() {
        assert!(parse(b"title,isbn\n</a>", Offsets::default()).is_err());
        assert!(parse(b"<collection></collection>", Offsets::default()).is_err());
    }
}
