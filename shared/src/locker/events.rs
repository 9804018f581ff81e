//! *Events*: what happened at a locker that the platform must act on (a
//! courier's deposit, a reader's pickup, a return, an on-the-spot borrow, a
//! fault), sent in batches to `POST /api/lockers/{id}/events`.
//!
//! A locker keeps each event until an answer names it, and sends it again
//! otherwise, so the same event can arrive twice and events can arrive out
//! of order. Each carries an `event_id`, unique per locker forever, by
//! which the platform records it once ([`LockerEvent::dedupe_key`]), and
//! `at_ms`, when it happened, by which the platform orders what it knows.

use super::messages::{check_cell, check_id, check_text, from_json};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most events one batch may carry.
pub const MAX_BATCH: usize = 100;

/// A batch of events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to [`MAX_BATCH`] events.
    pub events: Vec<LockerEvent>,
}

/// One event: its id, its time and what happened, in one flat object
/// (`{"event_id": .., "at_ms": .., "kind": "courier_deposit", "cell": ..}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct LockerEvent {
    /// Unique per locker, forever: 1 to 64 of `[A-Za-z0-9_-]`.
    pub event_id: String,
    /// When it happened, epoch milliseconds on the locker's clock.
    pub at_ms: i64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened at the locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// A courier put a copy, by its barcode, into a cell. Only now is the
    /// reader told the order is ready.
    CourierDeposit {
        /// The cell.
        cell: u16,
        /// The copy's barcode.
        barcode: String,
    },
    /// A reader took their order out of a cell.
    ReaderPickup {
        /// The cell.
        cell: u16,
        /// The order collected, as given in the `open_cell` command.
        order_id: i64,
    },
    /// A copy was dropped into the return slot; at least one of barcode and
    /// RFID tag is read.
    ReturnDrop {
        /// The copy's barcode, when scanned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        barcode: Option<String>,
        /// The copy's RFID tag, when read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rfid: Option<String>,
    },
    /// A reader identified at the locker took a copy on display there.
    OnsiteBorrow {
        /// The cell.
        cell: u16,
        /// The copy's barcode.
        barcode: String,
        /// The reader (`readers.id`).
        reader_id: i64,
    },
    /// Something broke: a cell's lock, a sensor, the whole locker.
    Fault {
        /// The cell at fault, absent when the fault is the locker's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cell: Option<u16>,
        /// The vendor's code, 1 to 32 of `[A-Za-z0-9_-]`.
        code: String,
        /// What the locker knows, 1 to 500 characters.
        detail: String,
    },
}

// `flatten` and `deny_unknown_fields` do not combine in serde, so the two
// common fields are taken out by hand and the rest must be exactly one
// kind's fields.
impl TryFrom<Map<String, Value>> for LockerEvent {
    type Error = String;

    fn try_from(mut map: Map<String, Value>) -> std::result::Result<Self, String> {
        let event_id = match map.remove("event_id") {
            Some(Value::String(id)) => id,
            _ => return Err("event_id: missing or not a string".into()),
        };
        let at_ms = map
            .remove("at_ms")
            .and_then(|v| v.as_i64())
            .ok_or("at_ms: missing or not an integer")?;
        let kind = serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())?;
        Ok(LockerEvent {
            event_id,
            at_ms,
            kind,
        })
    }
}

/// A barcode: 1 to 64 printable ASCII characters, no spaces.
fn check_barcode(field: &str, barcode: &str) -> Result<()> {
    if (1..=64).contains(&barcode.len()) && barcode.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "not 1 to 64 printable ASCII characters",
        ))
    }
}

/// An RFID tag: 1 to 128 printable ASCII characters (an EPC in hex, or
/// the item id of an ISO 28560 tag).
fn check_rfid(field: &str, rfid: &str) -> Result<()> {
    if (1..=128).contains(&rfid.len()) && rfid.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "not 1 to 128 printable ASCII characters",
        ))
    }
}

fn check_positive(field: &str, id: i64) -> Result<()> {
    if id > 0 {
        Ok(())
    } else {
        Err(Error::invalid(field, "not a positive id"))
    }
}

impl LockerEvent {
    /// The key under which this event is recorded once for `locker_id`.
    pub fn dedupe_key(&self, locker_id: &str) -> String {
        format!("locker:event:{locker_id}:{}", self.event_id)
    }

    /// Checks what serde cannot; `at` prefixes the field names
    /// (`events[3]`).
    pub fn validate(&self, at: &str) -> Result<()> {
        let field = |name: &str| format!("{at}.{name}");
        check_id(&field("event_id"), &self.event_id)?;
        if self.at_ms <= 0 {
            return Err(Error::invalid(field("at_ms"), "not epoch milliseconds"));
        }
        match &self.kind {
            EventKind::CourierDeposit { cell, barcode } => {
                check_cell(&field("cell"), *cell)?;
                check_barcode(&field("barcode"), barcode)
            }
            EventKind::ReaderPickup { cell, order_id } => {
                check_cell(&field("cell"), *cell)?;
                check_positive(&field("order_id"), *order_id)
            }
            EventKind::ReturnDrop { barcode, rfid } => {
                if barcode.is_none() && rfid.is_none() {
                    return Err(Error::invalid(
                        field("barcode"),
                        "neither barcode nor rfid given",
                    ));
                }
                if let Some(barcode) = barcode {
                    check_barcode(&field("barcode"), barcode)?;
                }
                match rfid {
                    Some(rfid) => check_rfid(&field("rfid"), rfid),
                    None => Ok(()),
                }
            }
            EventKind::OnsiteBorrow {
                cell,
                barcode,
                reader_id,
            } => {
                check_cell(&field("cell"), *cell)?;
                check_barcode(&field("barcode"), barcode)?;
                check_positive(&field("reader_id"), *reader_id)
            }
            EventKind::Fault { cell, code, detail } => {
                if let Some(cell) = cell {
                    check_cell(&field("cell"), *cell)?;
                }
                if code.len() > 32 {
                    return Err(Error::invalid(field("code"), "longer than 32 characters"));
                }
                check_id(&field("code"), code)?;
                check_text(&field("detail"), detail, 500)
            }
        }
    }
}

impl EventBatch {
    /// Reads and validates an events body.
    pub fn parse(body: &[u8]) -> Result<EventBatch> {
        let batch: EventBatch = from_json(body)?;
        if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
            return Err(Error::invalid(
                "events",
                format!("not 1 to {MAX_BATCH} events"),
            ));
        }
        for (i, event) in batch.events.iter().enumerate() {
            event.validate(&format!("events[{i}]"))?;
        }
        Ok(batch)
    }
}

/// The answer to a batch: one result per event, so the locker can forget
/// each one named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsReply {
    /// In the batch's order.
    pub results: Vec<EventResult>,
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    /// The event's id.
    pub event_id: String,
    /// What the platform did with it.
    pub outcome: EventOutcome,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What the platform did with an event. All three mean "do not send again".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// Recorded now.
    Recorded,
    /// Recorded before: a resend.
    Duplicate,
    /// Well formed but contrary to what the platform knows (an unknown
    /// barcode, a pickup for another cell); kept for staff to look at.
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch(events: Value) -> Result<EventBatch> {
        EventBatch::parse(&serde_json::to_vec(&json!({ "events": events })).unwrap())
    }

    fn invalid_field(events: Value) -> String {
        match batch(events) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    fn event(kind: Value) -> Value {
        let mut event = json!({"event_id": "e-1", "at_ms": 1_764_331_200_000_i64});
        event
            .as_object_mut()
            .unwrap()
            .extend(kind.as_object().unwrap().clone());
        event
    }

    #[test]
    fn every_kind_of_event_is_read_from_one_flat_object() {
        let events = json!([
            event(json!({"kind": "courier_deposit", "cell": 12, "barcode": "31990012345678"})),
            event(json!({"kind": "reader_pickup", "cell": 12, "order_id": 9001})),
            event(json!({"kind": "return_drop", "rfid": "E2801160600002084A4B3C21"})),
            event(json!({"kind": "onsite_borrow", "cell": 3, "barcode": "B-1", "reader_id": 42})),
            event(json!({"kind": "fault", "code": "LOCK_JAM", "detail": "cell 5 lock stuck"})),
        ]);
        let parsed = batch(events.clone()).unwrap();
        assert_eq!(
            parsed.events[1].kind,
            EventKind::ReaderPickup {
                cell: 12,
                order_id: 9001
            }
        );
        assert_eq!(parsed.events[0].dedupe_key("SZ-1"), "locker:event:SZ-1:e-1");
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            json!({ "events": events })
        );
    }

    #[test]
    fn fields_of_another_kind_or_unknown_fields_are_refused() {
        let wrong =
            event(json!({"kind": "courier_deposit", "cell": 1, "barcode": "B", "order_id": 1}));
        assert_eq!(invalid_field(json!([wrong])), "body");
        let unknown = event(json!({"kind": "teleport", "cell": 1}));
        assert_eq!(invalid_field(json!([unknown])), "body");
        let no_id = json!({"at_ms": 1, "kind": "fault", "code": "X", "detail": "d"});
        assert_eq!(invalid_field(json!([no_id])), "body");
        let extra = json!({"events": [], "locker": "SZ-1"});
        assert!(EventBatch::parse(&serde_json::to_vec(&extra).unwrap()).is_err());
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (
                json!({"kind": "courier_deposit", "cell": 241, "barcode": "B"}),
                "events[0].cell",
            ),
            (
                json!({"kind": "courier_deposit", "cell": 1, "barcode": ""}),
                "events[0].barcode",
            ),
            (
                json!({"kind": "courier_deposit", "cell": 1, "barcode": "x".repeat(65)}),
                "events[0].barcode",
            ),
            (
                json!({"kind": "reader_pickup", "cell": 1, "order_id": 0}),
                "events[0].order_id",
            ),
            (json!({"kind": "return_drop"}), "events[0].barcode"),
            (
                json!({"kind": "return_drop", "rfid": "a b"}),
                "events[0].rfid",
            ),
            (
                json!({"kind": "fault", "code": "X", "detail": ""}),
                "events[0].detail",
            ),
            (
                json!({"kind": "fault", "code": "X".repeat(33), "detail": "d"}),
                "events[0].code",
            ),
            (
                json!({"kind": "fault", "cell": 0, "code": "X", "detail": "d"}),
                "events[0].cell",
            ),
        ];
        for (kind, field) in cases {
            assert_eq!(invalid_field(json!([event(kind.clone())])), field, "{kind}");
        }
        let mut bad_id = event(json!({"kind": "fault", "code": "X", "detail": "d"}));
        bad_id["event_id"] = json!("e 1");
        assert_eq!(invalid_field(json!([bad_id])), "events[0].event_id");
    }

    #[test]
    fn a_batch_holds_one_to_a_hundred_events() {
        assert_eq!(invalid_field(json!([])), "events");
        let one = event(json!({"kind": "return_drop", "barcode": "B"}));
        let many: Vec<Value> = (0..=MAX_BATCH).map(|_| one.clone()).collect();
        assert_eq!(invalid_field(json!(many)), "events");
        assert!(batch(json!([one])).is_ok());
    }
}
