//! The locker protocol's bodies: heartbeats, event batches and queries
//! (`POST /api/lockers/{id}/heartbeat|events|query`).
//!
//! Properties: reading never panics; a body that reads is re-encoded by
//! serde and reads back equal (nothing a locker sends is lost or changed
//! by our own encoding); every event of a batch has a usable dedupe key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_shared::locker::query::Query;
use wangjie_shared::locker::{EventBatch, Heartbeat};

fuzz_target!(|data: &[u8]| {
    if let Ok(heartbeat) = Heartbeat::parse(data) {
        let json = serde_json::to_vec(&heartbeat).unwrap();
        assert_eq!(Heartbeat::parse(&json).unwrap(), heartbeat);
    }
    if let Ok(batch) = EventBatch::parse(data) {
        let json = serde_json::to_vec(&batch).unwrap();
        assert_eq!(EventBatch::parse(&json).unwrap(), batch);
        for event in &batch.events {
            let key = event.dedupe_key("SZ-LIB-0001");
            assert_eq!(key.matches(':').count(), 3, "{key}");
        }
    }
    if let Ok(query) = Query::parse(data) {
        assert!(query.reader_id.is_some() != query.card_number.is_some());
    }
});
