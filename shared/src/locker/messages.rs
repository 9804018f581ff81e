//! The heartbeat: what a locker reports every minute or so (its cells, its
//! health, its clock, which commands it carried out) and what it is told
//! back (the commands still pending, when to call again).
//!
//! Bodies a locker sends refuse unknown fields: the protocol is versioned
//! by `X-Locker-Protocol`, so a field we do not know is a vendor's typo,
//! better refused than silently dropped. Bodies we send may grow within a
//! version; lockers must ignore fields they do not know.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The highest cell number: a locker has at most 240 cells, numbered from 1.
pub const MAX_CELL: u16 = 240;

/// A heartbeat body, `POST /api/lockers/{id}/heartbeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The locker's clock, epoch milliseconds, when it built the body.
    pub clock_ms: i64,
    /// Every cell the locker has, once each.
    pub cells: Vec<CellReport>,
    /// The locker's health.
    pub health: Health,
    /// The outcome of commands carried out since the last heartbeat that
    /// was answered 200; absent means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acks: Vec<CommandAck>,
}

/// One cell as the locker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellReport {
    /// The cell's number, 1 to [`MAX_CELL`].
    pub no: u16,
    /// What the cell holds or how it is.
    pub state: CellState,
}

/// What the locker's sensors say of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// Closed, nothing inside.
    Empty,
    /// Held for a dispatched order, still empty.
    Reserved,
    /// Closed with something inside.
    Occupied,
    /// Lock or sensor broken; no order goes to it.
    Fault,
    /// Open now.
    DoorOpen,
}

/// How the locker is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// 4G mobile data.
    #[serde(rename = "4g")]
    FourG,
    /// 5G mobile data.
    #[serde(rename = "5g")]
    FiveG,
    /// Wi-Fi.
    Wifi,
    /// A cable.
    Ethernet,
}

/// Where the locker's power comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// The grid.
    Mains,
    /// Its battery: the grid is gone, the locker will stop before long.
    Battery,
}

/// The locker's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// How it is connected.
    pub network: Network,
    /// Signal strength in dBm (-140 to 0); absent on a cable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i16>,
    /// Where its power comes from.
    pub power: Power,
    /// Battery charge, 0 to 100, when it has a battery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_pct: Option<u8>,
    /// Temperature inside the cabinet, -50 to 100 degrees Celsius.
    pub temperature_c: f32,
    /// The firmware's version string, 1 to 64 characters.
    pub firmware: String,
}

/// What became of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandAck {
    /// The command's [`Command::id`].
    pub id: String,
    /// Whether it was carried out.
    pub outcome: AckOutcome,
    /// When, epoch milliseconds on the locker's clock.
    pub at_ms: i64,
    /// Why it failed, up to 500 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Whether a command was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckOutcome {
    /// Carried out.
    Done,
    /// Could not be carried out (`detail` says why); not retried.
    Failed,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// Commands not yet acknowledged, oldest first. A command is sent again
    /// in every reply until its ack arrives, so a locker must remember the
    /// ids it carried out and acknowledge a repeat without doing it again.
    pub commands: Vec<Command>,
    /// Seconds until the next heartbeat.
    pub next_heartbeat_s: u32,
}

/// Something the server asks a locker to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Unique per locker, forever; the key of its ack.
    pub id: String,
    /// What to do.
    #[serde(flatten)]
    pub kind: CommandKind,
}

/// What a command asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandKind {
    /// Open a cell: for a reader collecting an order, or for staff.
    OpenCell {
        /// The cell.
        cell: u16,
        /// The reader it opens for (`readers.id`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reader_id: Option<i64>,
        /// The order it opens for, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_id: Option<i64>,
    },
    /// Stop holding a reserved cell: its order was cancelled or rerouted.
    ReleaseCell {
        /// The cell.
        cell: u16,
    },
    /// Set the locker's clock.
    SyncClock {
        /// The server's time when the reply was built, epoch milliseconds.
        server_ms: i64,
    },
}

/// Refuses a cell number outside 1..=[`MAX_CELL`].
pub(super) fn check_cell(field: &str, cell: u16) -> Result<()> {
    if (1..=MAX_CELL).contains(&cell) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("cell {cell} is not 1 to {MAX_CELL}"),
        ))
    }
}

/// Refuses text that is empty, longer than `max` characters or holds
/// control characters.
pub(super) fn check_text(field: &str, text: &str, max: usize) -> Result<()> {
    if text.is_empty() || text.chars().count() > max {
        return Err(Error::invalid(field, format!("not 1 to {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(field, "holds control characters"));
    }
    Ok(())
}

/// Refuses an id that is not 1 to 64 of `[A-Za-z0-9_-]`: command and event
/// ids end up inside keys.
pub(super) fn check_id(field: &str, id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(field, "not 1 to 64 of [A-Za-z0-9_-]"))
    }
}

/// Reads a JSON body, mapping serde's complaint to [`Error::Invalid`]; a
/// number with no fraction is an integer (`12.0`), as in JSON Schema.
pub(super) fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    crate::request::json_from_slice(body)
}

impl Heartbeat {
    /// Reads and validates a heartbeat body.
    pub fn parse(body: &[u8]) -> Result<Heartbeat> {
        let heartbeat: Heartbeat = from_json(body)?;
        heartbeat.validate()?;
        Ok(heartbeat)
    }

    /// Checks what serde cannot: ranges, uniqueness, lengths.
    pub fn validate(&self) -> Result<()> {
        if self.clock_ms <= 0 {
            return Err(Error::invalid("clock_ms", "not epoch milliseconds"));
        }
        let mut seen = [false; MAX_CELL as usize + 1];
        for (i, cell) in self.cells.iter().enumerate() {
            // The field's name is written only for an error: 240 cells a
            // heartbeat, thousands of heartbeats a second.
            let field = || format!("cells[{i}].no");
            if !(1..=MAX_CELL).contains(&cell.no) {
                return check_cell(&field(), cell.no);
            }
            if std::mem::replace(&mut seen[cell.no as usize], true) {
                return Err(Error::invalid(
                    field(),
                    format!("cell {} reported twice", cell.no),
                ));
            }
        }
        let health = &self.health;
        if health.signal.is_some_and(|s| !(-140..=0).contains(&s)) {
            return Err(Error::invalid("health.signal", "not -140 to 0 dBm"));
        }
        if health.battery_pct.is_some_and(|p| p > 100) {
            return Err(Error::invalid("health.battery_pct", "not 0 to 100"));
        }
        if !(-50.0..=100.0).contains(&health.temperature_c) {
            return Err(Error::invalid("health.temperature_c", "not -50 to 100"));
        }
        check_text("health.firmware", &health.firmware, 64)?;
        for (i, ack) in self.acks.iter().enumerate() {
            check_id(&format!("acks[{i}].id"), &ack.id)?;
            if let Some(detail) = &ack.detail {
                check_text(&format!("acks[{i}].detail"), detail, 500)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body() -> serde_json::Value {
        json!({
            "clock_ms": 1_764_331_200_000_i64,
            "cells": [{"no": 1, "state": "empty"}, {"no": 2, "state": "door_open"}],
            "health": {"network": "4g", "signal": -71, "power": "mains",
                       "temperature_c": 21.5, "firmware": "wj-2.3.1"},
            "acks": [{"id": "c-17", "outcome": "done", "at_ms": 1_764_331_190_000_i64}]
        })
    }

    fn parse(value: &serde_json::Value) -> Result<Heartbeat> {
        Heartbeat::parse(&serde_json::to_vec(value).unwrap())
    }

    fn invalid_field(value: serde_json::Value) -> String {
        match parse(&value) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_heartbeat_is_read_whole() {
        let heartbeat = parse(&body()).unwrap();
        assert_eq!(
            heartbeat.cells[1],
            CellReport {
                no: 2,
                state: CellState::DoorOpen
            }
        );
        assert_eq!(heartbeat.health.network, Network::FourG);
        assert_eq!(heartbeat.acks[0].outcome, AckOutcome::Done);
        let again = serde_json::to_value(&heartbeat).unwrap();
        assert_eq!(parse(&again).unwrap(), heartbeat);
    }

    #[test]
    fn unknown_fields_and_values_are_refused() {
        let mut extra = body();
        extra["colour"] = json!("red");
        assert_eq!(invalid_field(extra), "body");
        let mut state = body();
        state["cells"][0]["state"] = json!("full");
        assert_eq!(invalid_field(state), "body");
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        let cases = [
            ("/cells/0/no", json!(0), "cells[0].no"),
            ("/cells/1/no", json!(1), "cells[1].no"),
            ("/health/signal", json!(12), "health.signal"),
            (
                "/health/temperature_c",
                json!(300.0),
                "health.temperature_c",
            ),
            ("/health/firmware", json!(""), "health.firmware"),
            ("/acks/0/id", json!("c 17"), "acks[0].id"),
            ("/clock_ms", json!(0), "clock_ms"),
        ];
        for (pointer, value, field) in cases {
            let mut changed = body();
            *changed.pointer_mut(pointer).unwrap() = value;
            assert_eq!(invalid_field(changed), field, "{pointer}");
        }
        let mut battery = body();
        battery["health"]["battery_pct"] = json!(101);
        assert_eq!(invalid_field(battery), "health.battery_pct");
        let mut cell = body();
        cell["cells"][0]["no"] = json!(241);
        assert_eq!(invalid_field(cell), "cells[0].no");
    }

    #[test]
    fn a_reply_carries_flat_tagged_commands() {
        let reply = HeartbeatReply {
            commands: vec![
                Command {
                    id: "c-18".into(),
                    kind: CommandKind::OpenCell {
                        cell: 7,
                        reader_id: Some(42),
                        order_id: None,
                    },
                },
                Command {
                    id: "c-19".into(),
                    kind: CommandKind::ReleaseCell { cell: 8 },
                },
                Command {
                    id: "c-20".into(),
                    kind: CommandKind::SyncClock { server_ms: 5 },
                },
            ],
            next_heartbeat_s: 60,
        };
        let value = serde_json::to_value(&reply).unwrap();
        assert_eq!(
            value,
            json!({"commands": [
                {"id": "c-18", "kind": "open_cell", "cell": 7, "reader_id": 42},
                {"id": "c-19", "kind": "release_cell", "cell": 8},
                {"id": "c-20", "kind": "sync_clock", "server_ms": 5}
            ], "next_heartbeat_s": 60})
        );
        assert_eq!(
            serde_json::from_value::<HeartbeatReply>(value).unwrap(),
            reply
        );
    }
}
