//! MARC ISO 2709 batches (`POST /admin/catalogue/import?format=marc`).
//!
//! Properties: reading never panics; every record kept passes
//! validation; positions count records from 1 and point inside the body;
//! a record that reads is written back by `write_iso2709` and reads the
//! same, and maps to the same import record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_shared::catalogue::marc::{parse, read_iso2709, to_import, write_iso2709};
use wangjie_shared::catalogue::Offsets;

fuzz_target!(|data: &[u8]| {
    let parsed = parse(data, Offsets::default());
    let mut positions: Vec<_> = parsed
        .records
        .iter()
        .map(|(p, _)| *p)
        .chain(parsed.rejections.iter().map(|r| r.position))
        .collect();
    positions.sort_by_key(|p| p.record);
    for (i, position) in positions.iter().enumerate() {
        assert_eq!(position.record, i as u64 + 1, "records are counted from 1");
        assert!(position.byte.unwrap() < data.len() as u64);
    }
    for (_, record) in &parsed.records {
        assert_eq!(record.validate(), Ok(()));
    }
    for rejection in &parsed.rejections {
        assert!(!rejection.reason.contains('\0'));
    }

    if let Ok(marc) = read_iso2709(data) {
        let import = to_import(&marc);
        if let Ok(written) = write_iso2709(&marc) {
            let again = read_iso2709(&written).expect("a written record reads back");
            assert_eq!(again, marc);
            assert_eq!(to_import(&again), import);
        }
    }
});
