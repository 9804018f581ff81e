//! One simulated locker as docs/locker-protocol.md asks a vendor to build
//! it: cells, a clock that may be off, the events not yet answered (kept
//! and sent again until a reply names them), the commands carried out (a
//! repeated command is acknowledged again, never done twice). No I/O here:
//! [`crate::client`] carries what this builds to the app and hands the
//! answers back, so the behaviour is unit-tested without a server.

use std::collections::{HashSet, VecDeque};
use wangjie_shared::locker::{
    AckOutcome, CellReport, CellState, Command, CommandAck, CommandKind, EventKind, EventOutcome,
    EventsReply, Health, Heartbeat, HeartbeatReply, LockerEvent, LockerSecret, Network, Power,
};

/// The most events one request carries (the protocol's limit).
const BATCH: usize = wangjie_shared::locker::events::MAX_BATCH;
/// How many carried-out command ids a locker remembers.
const REMEMBERED_COMMANDS: usize = 1_000;

/// The misbehaviour a real fleet shows, in percent of chances.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chaos {
    /// An answered batch is sent once more, as after a lost reply.
    pub duplicate_pct: u8,
    /// An event is held back and sent only after the next heartbeat, as
    /// after a network outage: later than newer state.
    pub late_pct: u8,
    /// Per heartbeat, a fault on a random empty cell (repaired a few
    /// heartbeats later).
    pub fault_pct: u8,
}

/// What a cell holds, as the locker knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cell {
    Empty,
    Holding(String),
    /// Broken; repaired after this many more heartbeats.
    Fault(u32),
}

/// What the locker saw happen, for reports and assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events answered `recorded`, `duplicate`, `rejected`.
    pub recorded: u64,
    /// See [`Tally::recorded`].
    pub duplicate: u64,
    /// See [`Tally::recorded`].
    pub rejected: u64,
    /// The reasons given for rejected events, the last 20.
    pub rejections: Vec<String>,
    /// Commands carried out (`open_cell`, `release_cell`, `sync_clock`).
    pub commands_done: u64,
    /// Commands repeated by the server after being carried out, acknowledged
    /// again without doing them again.
    pub commands_repeated: u64,
    /// Commands that could not be carried out.
    pub commands_failed: u64,
    /// Cells opened for readers, each followed by a `reader_pickup` event.
    pub pickups: u64,
    /// Times the clock was set: by `sync_clock`, or from the server time in
    /// a 400 for a timestamp out of the window.
    pub clock_sets: u64,
    /// Batches sent again on purpose ([`Chaos::duplicate_pct`]).
    pub resent_batches: u64,
    /// Events held back ([`Chaos::late_pct`]).
    pub late_events: u64,
}

/// One simulated locker.
pub struct SimLocker {
    /// Its id, `X-Locker-Id`.
    pub id: String,
    pub(crate) secret: LockerSecret,
    cells: Vec<Cell>,
    /// Added to the real clock to give the locker's clock.
    pub skew_ms: i64,
    /// Its misbehaviour, which a test may change between rounds.
    pub chaos: Chaos,
    rng: fastrand::Rng,
    // Nonces must never repeat, even across runs with the same seed.
    nonce_rng: fastrand::Rng,
    next_event: u64,
    outbox: VecDeque<LockerEvent>,
    held: Vec<LockerEvent>,
    acks: Vec<CommandAck>,
    carried_out: VecDeque<String>,
    resent: HashSet<String>,
    /// What happened so far.
    pub tally: Tally,
}

impl SimLocker {
    /// A locker with `cells` empty cells (1 to 240) whose clock is
    /// `skew_ms` off; `seed` makes its chaos repeatable.
    pub fn new(id: &str, secret: LockerSecret, cells: u16, chaos: Chaos, seed: u64) -> Self {
        SimLocker {
            id: id.to_string(),
            secret,
            cells: vec![Cell::Empty; usize::from(cells.clamp(1, 240))],
            skew_ms: 0,
            chaos,
            rng: fastrand::Rng::with_seed(seed),
            nonce_rng: fastrand::Rng::new(),
            next_event: 1,
            outbox: VecDeque::new(),
            held: Vec::new(),
            acks: Vec::new(),
            carried_out: VecDeque::new(),
            resent: HashSet::new(),
            tally: Tally::default(),
        }
    }

    /// The locker's clock, given the real one.
    pub fn clock(&self, real_ms: i64) -> i64 {
        real_ms + self.skew_ms
    }

    /// A fresh nonce: 16 random bytes in hex, from an unseeded generator.
    pub fn nonce(&mut self) -> String {
        format!(
            "{:016x}{:016x}",
            self.nonce_rng.u64(..),
            self.nonce_rng.u64(..)
        )
    }

    fn event(&mut self, real_ms: i64, kind: EventKind) {
        let event = LockerEvent {
            event_id: format!("e-{:08}", self.next_event),
            at_ms: self.clock(real_ms),
            kind,
        };
        self.next_event += 1;
        if self.rng.u8(..100) < self.chaos.late_pct {
            self.tally.late_events += 1;
            self.held.push(event);
        } else {
            self.outbox.push_back(event);
        }
    }

    /// A courier put copy `barcode` in `cell`.
    pub fn deposit(&mut self, real_ms: i64, cell: u16, barcode: &str) {
        if let Some(slot) = self.cells.get_mut(usize::from(cell).wrapping_sub(1)) {
            *slot = Cell::Holding(barcode.to_string());
        }
        self.event(
            real_ms,
            EventKind::CourierDeposit {
                cell,
                barcode: barcode.to_string(),
            },
        );
    }

    /// A reader dropped copy `barcode` in the return slot.
    pub fn return_drop(&mut self, real_ms: i64, barcode: &str) {
        self.event(
            real_ms,
            EventKind::ReturnDrop {
                barcode: Some(barcode.to_string()),
                rfid: None,
            },
        );
    }

    /// A return slot that reads only RFID got a copy with tag `rfid`.
    pub fn return_tag(&mut self, real_ms: i64, rfid: &str) {
        self.event(
            real_ms,
            EventKind::ReturnDrop {
                barcode: None,
                rfid: Some(rfid.to_string()),
            },
        );
    }

    /// `cell` breaks, seen only in heartbeats, and is repaired after
    /// `heartbeats` answered ones.
    pub fn break_cell(&mut self, cell: u16, heartbeats: u32) {
        if let Some(slot) = self.cells.get_mut(usize::from(cell).wrapping_sub(1)) {
            *slot = Cell::Fault(heartbeats);
        }
    }

    /// `cell`'s lock jammed: a fault event; repaired after `heartbeats`.
    pub fn fault(&mut self, real_ms: i64, cell: u16, heartbeats: u32) {
        self.break_cell(cell, heartbeats);
        self.event(
            real_ms,
            EventKind::Fault {
                cell: Some(cell),
                code: "LOCK_JAM".into(),
                detail: "lock did not engage".into(),
            },
        );
    }

    /// What the locker's sensors say of every cell.
    fn reports(&self) -> Vec<CellReport> {
        (1..)
            .zip(&self.cells)
            .map(|(no, cell)| CellReport {
                no,
                state: match cell {
                    Cell::Empty => CellState::Empty,
                    Cell::Holding(_) => CellState::Occupied,
                    Cell::Fault(_) => CellState::Fault,
                },
            })
            .collect()
    }

    /// The next heartbeat's body. Its acks stay pending until
    /// [`SimLocker::heartbeat_answered`] is given a 200 reply.
    pub fn heartbeat(&mut self, real_ms: i64) -> Heartbeat {
        if self.rng.u8(..100) < self.chaos.fault_pct {
            let cell = self.rng.u16(1..=self.cells.len() as u16);
            if self.cells[usize::from(cell) - 1] == Cell::Empty {
                let repair_after = self.rng.u32(2..6);
                self.fault(real_ms, cell, repair_after);
            }
        }
        Heartbeat {
            clock_ms: self.clock(real_ms),
            cells: self.reports(),
            health: Health {
                network: Network::FourG,
                signal: Some(-60 - self.rng.i16(0..30)),
                power: Power::Mains,
                battery_pct: Some(100),
                temperature_c: 18.0 + f32::from(self.rng.u8(0..80)) / 10.0,
                firmware: "wj-sim-1.0".into(),
            },
            acks: self.acks.clone(),
        }
    }

    /// The app answered a heartbeat 200 with `reply`, received at real time
    /// `real_ms`: the acks it carried are done with; carry out the commands.
    pub fn heartbeat_answered(&mut self, acked: usize, reply: &HeartbeatReply, real_ms: i64) {
        self.acks.drain(..acked.min(self.acks.len()));
        for cell in &mut self.cells {
            if let Cell::Fault(left) = cell {
                *cell = if *left <= 1 {
                    Cell::Empty
                } else {
                    Cell::Fault(*left - 1)
                };
            }
        }
        for command in &reply.commands {
            self.carry_out(command, real_ms);
        }
        // Held-back events go out now, after newer state reached the app.
        for event in self.held.drain(..) {
            self.outbox.push_back(event);
        }
    }

    fn carry_out(&mut self, command: &Command, real_ms: i64) {
        let at_ms = self.clock(real_ms);
        if self.carried_out.contains(&command.id) {
            self.tally.commands_repeated += 1;
            self.ack(&command.id, AckOutcome::Done, at_ms, None);
            return;
        }
        let failure = match &command.kind {
            CommandKind::OpenCell { cell, order_id, .. } => self.open(real_ms, *cell, *order_id),
            CommandKind::ReleaseCell { cell } => (usize::from(*cell) <= self.cells.len())
                .then_some(())
                .ok_or("no such cell"),
            CommandKind::SyncClock { server_ms } => {
                self.set_clock(*server_ms, real_ms);
                Ok(())
            }
        };
        self.carried_out.push_back(command.id.clone());
        if self.carried_out.len() > REMEMBERED_COMMANDS {
            self.carried_out.pop_front();
        }
        match failure {
            Ok(()) => {
                self.tally.commands_done += 1;
                self.ack(&command.id, AckOutcome::Done, at_ms, None);
            }
            Err(why) => {
                self.tally.commands_failed += 1;
                self.ack(&command.id, AckOutcome::Failed, at_ms, Some(why.into()));
            }
        }
    }

    /// Opens `cell`; for a reader's order, the reader takes it out.
    fn open(&mut self, real_ms: i64, cell: u16, order_id: Option<i64>) -> Result<(), &'static str> {
        let slot = self
            .cells
            .get_mut(usize::from(cell).wrapping_sub(1))
            .ok_or("no such cell")?;
        match (order_id, &*slot) {
            (Some(order_id), Cell::Holding(_)) => {
                *slot = Cell::Empty;
                self.tally.pickups += 1;
                self.event(real_ms, EventKind::ReaderPickup { cell, order_id });
                Ok(())
            }
            (Some(_), _) => Err("the cell is empty"),
            (None, Cell::Fault(_)) => Err("lock jammed"),
            (None, _) => Ok(()),
        }
    }

    fn ack(&mut self, id: &str, outcome: AckOutcome, at_ms: i64, detail: Option<String>) {
        self.acks.push(CommandAck {
            id: id.to_string(),
            outcome,
            at_ms,
            detail,
        });
    }

    /// Sets the clock to `server_ms`, read at real time `real_ms`.
    pub fn set_clock(&mut self, server_ms: i64, real_ms: i64) {
        self.skew_ms = server_ms - real_ms;
        self.tally.clock_sets += 1;
    }

    /// The next batch of events to send, oldest first, if any.
    pub fn events_to_send(&self) -> Option<Vec<LockerEvent>> {
        (!self.outbox.is_empty()).then(|| self.outbox.iter().take(BATCH).cloned().collect())
    }

    /// The app answered a batch 200: the events it names are done with.
    /// Sometimes ([`Chaos::duplicate_pct`]) the answer is "lost" and the
    /// batch goes once more.
    pub fn events_answered(&mut self, sent: &[LockerEvent], reply: &EventsReply) {
        let named: HashSet<&str> = reply.results.iter().map(|r| r.event_id.as_str()).collect();
        self.outbox.retain(|e| !named.contains(e.event_id.as_str()));
        for result in &reply.results {
            match result.outcome {
                EventOutcome::Recorded => self.tally.recorded += 1,
                EventOutcome::Duplicate => self.tally.duplicate += 1,
                EventOutcome::Rejected => {
                    self.tally.rejected += 1;
                    if self.tally.rejections.len() < 20 {
                        let detail = result.detail.clone().unwrap_or_default();
                        self.tally
                            .rejections
                            .push(format!("{}: {detail}", result.event_id));
                    }
                }
            }
        }
        let first_time = sent.iter().all(|e| !self.resent.contains(&e.event_id));
        if first_time && self.rng.u8(..100) < self.chaos.duplicate_pct {
            self.tally.resent_batches += 1;
            for event in sent.iter().rev() {
                self.resent.insert(event.event_id.clone());
                self.outbox.push_front(event.clone());
            }
        }
    }

    /// Events still waiting for an answer (sent or held back).
    pub fn unanswered(&self) -> usize {
        self.outbox.len() + self.held.len()
    }

    /// The barcode in `cell`, if it holds one.
    pub fn holding(&self, cell: u16) -> Option<&str> {
        match self.cells.get(usize::from(cell).wrapping_sub(1)) {
            Some(Cell::Holding(barcode)) => Some(barcode),
            _ => None,
        }
    }
}

/// The server time in a `400` for a timestamp out of the window: the
/// detail ends "... from server time <ms>; set the clock and sign again".
pub fn server_time_in(detail: &str) -> Option<i64> {
    let (_, after) = detail.split_once("server time ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests;
