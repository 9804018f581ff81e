//! MARCXML batches (`POST /admin/catalogue/import?format=marcxml`).
//!
//! Properties: reading never panics; a batch either is refused whole or
//! yields records that pass validation and rejections, numbered from 1 in
//! the order of their `record` elements, at byte offsets inside the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_shared::catalogue::{marcxml, parse, Format, Offsets};

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = marcxml::parse(data, Offsets::default()) else {
        return;
    };
    for (position, record) in &parsed.records {
        assert_eq!(record.validate(), Ok(()));
        assert!(position.record >= 1);
        assert!(position.byte.unwrap() < data.len() as u64);
    }
    for rejection in &parsed.rejections {
        assert!(rejection.position.record >= 1);
        assert!(rejection.position.byte.unwrap() <= data.len() as u64);
        assert!(!rejection.reason.contains('\0'));
    }
    // The dispatch the import handler calls reads the same.
    let again = parse(Format::MarcXml, data, Offsets::default()).unwrap();
    assert_eq!(again.records, parsed.records);
    assert_eq!(again.rejections, parsed.rejections);
});
