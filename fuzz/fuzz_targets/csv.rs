//! CSV import batches (`POST /admin/catalogue/import?format=csv`).
//!
//! Properties: reading never panics; records kept pass validation and are
//! keyed uniquely (rows of one record are merged); every row is either a
//! record's first row, merged, or rejected; lines and record numbers are
//! in the body; the year parser finds four digits that are in the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use wangjie_shared::catalogue::csv::{parse, parse_year};
use wangjie_shared::catalogue::Offsets;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = parse(data, Offsets::default()) {
        let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
        let mut keys = HashSet::new();
        for (position, record) in &parsed.records {
            assert_eq!(record.validate(), Ok(()));
            assert!(position.line.unwrap() <= lines, "{position:?}");
            if let Some(key) = record.key() {
                assert!(keys.insert(key), "one record per key");
            }
        }
        for rejection in &parsed.rejections {
            assert!(rejection.position.record >= 1);
            assert!(!rejection.reason.contains('\0'));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(year) = parse_year(text) {
            assert!((0..=9999).contains(&year));
            assert!(text.contains(&format!("{year:04}")));
        }
    }
});
