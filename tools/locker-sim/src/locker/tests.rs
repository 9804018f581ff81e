use super::*;
use wangjie_shared::locker::{EventResult, HeartbeatReply};

fn locker(chaos: Chaos) -> SimLocker {
    let secret = LockerSecret::new(&[7; 32]).unwrap();
    SimLocker::new("SIM-1", secret, 4, chaos, 42)
}

fn reply(commands: Vec<Command>) -> HeartbeatReply {
    HeartbeatReply {
        commands,
        next_heartbeat_s: 30,
    }
}

fn open(id: &str, cell: u16, order: i64) -> Command {
    Command {
        id: id.into(),
        kind: CommandKind::OpenCell {
            cell,
            reader_id: Some(9),
            order_id: Some(order),
        },
    }
}

fn answer_all(events: &[LockerEvent], outcome: EventOutcome) -> EventsReply {
    EventsReply {
        results: events
            .iter()
            .map(|e| EventResult {
                event_id: e.event_id.clone(),
                outcome,
                detail: None,
            })
            .collect(),
    }
}

#[test]
fn a_heartbeat_reports_every_cell_and_validates() {
    let mut l = locker(Chaos::default());
    l.deposit(1_000, 2, "B-1");
    let beat = l.heartbeat(1_000);
    assert_eq!(beat.cells.len(), 4);
    assert_eq!(beat.cells[1].state, CellState::Occupied);
    beat.validate().unwrap();
}

#[test]
fn an_open_cell_for_a_reader_empties_the_cell_reports_the_pickup_and_is_acked_once_done() {
    let mut l = locker(Chaos::default());
    l.deposit(1_000, 2, "B-1");
    let sent = l.events_to_send().unwrap();
    l.events_answered(&sent, &answer_all(&sent, EventOutcome::Recorded));
    l.heartbeat_answered(0, &reply(vec![open("c-1", 2, 77)]), 2_000);
    assert_eq!(l.holding(2), None);
    let events = l.events_to_send().unwrap();
    assert_eq!(
        events[0].kind,
        EventKind::ReaderPickup {
            cell: 2,
            order_id: 77
        }
    );
    let beat = l.heartbeat(3_000);
    assert_eq!(beat.acks.len(), 1);
    assert_eq!(beat.acks[0].outcome, AckOutcome::Done);
    // The reply to that heartbeat lost: the command comes again and is
    // acknowledged again, without a second pickup.
    l.heartbeat_answered(0, &reply(vec![open("c-1", 2, 77)]), 4_000);
    assert_eq!(l.tally.pickups, 1);
    assert_eq!(l.tally.commands_repeated, 1);
    let beat = l.heartbeat(5_000);
    assert_eq!(beat.acks.len(), 2);
    l.heartbeat_answered(beat.acks.len(), &reply(vec![]), 5_000);
    assert!(l.heartbeat(6_000).acks.is_empty());
}

#[test]
fn opening_an_empty_cell_for_a_reader_fails_with_a_reason() {
    let mut l = locker(Chaos::default());
    l.heartbeat_answered(0, &reply(vec![open("c-2", 3, 5)]), 1_000);
    let ack = &l.heartbeat(1_000).acks[0];
    assert_eq!(ack.outcome, AckOutcome::Failed);
    assert_eq!(ack.detail.as_deref(), Some("the cell is empty"));
    assert!(l.events_to_send().is_none());
}

#[test]
fn sync_clock_sets_the_clock_and_stamps_later_events() {
    let mut l = locker(Chaos::default());
    l.skew_ms = -120_000;
    let sync = Command {
        id: "t-1".into(),
        kind: CommandKind::SyncClock { server_ms: 10_000 },
    };
    l.heartbeat_answered(0, &reply(vec![sync]), 9_000);
    assert_eq!(l.clock(9_000), 10_000);
    l.return_drop(9_500, "B-9");
    assert_eq!(l.events_to_send().unwrap()[0].at_ms, 10_500);
}

#[test]
fn events_stay_until_named_and_a_lost_answer_sends_the_batch_again() {
    let mut l = locker(Chaos {
        duplicate_pct: 100,
        ..Chaos::default()
    });
    l.return_drop(1, "B-1");
    l.return_drop(2, "B-2");
    let sent = l.events_to_send().unwrap();
    // An answer naming only the first leaves the second waiting.
    let partial = EventsReply {
        results: answer_all(&sent, EventOutcome::Recorded).results[..1].to_vec(),
    };
    l.events_answered(&sent[..1], &partial);
    let again = l.events_to_send().unwrap();
    assert_eq!(again[0].event_id, sent[0].event_id, "resent once");
    assert_eq!(again[1].event_id, sent[1].event_id);
    l.events_answered(&again, &answer_all(&again, EventOutcome::Duplicate));
    // Only batches sent for the first time are duplicated on purpose.
    assert!(l.events_to_send().is_none(), "{:?}", l.events_to_send());
    assert_eq!(l.tally.resent_batches, 1);
}

#[test]
fn late_events_wait_for_the_next_heartbeat() {
    let mut l = locker(Chaos {
        late_pct: 100,
        ..Chaos::default()
    });
    l.return_drop(1, "B-1");
    assert!(l.events_to_send().is_none());
    assert_eq!(l.unanswered(), 1);
    l.heartbeat_answered(0, &reply(vec![]), 2);
    assert_eq!(l.events_to_send().unwrap().len(), 1);
}

#[test]
fn faults_are_reported_and_repaired() {
    let mut l = locker(Chaos::default());
    l.fault(1, 1, 2);
    assert_eq!(l.heartbeat(1).cells[0].state, CellState::Fault);
    l.heartbeat_answered(0, &reply(vec![]), 2);
    assert_eq!(l.heartbeat(2).cells[0].state, CellState::Fault);
    l.heartbeat_answered(0, &reply(vec![]), 3);
    assert_eq!(l.heartbeat(3).cells[0].state, CellState::Empty);
}

#[test]
fn the_server_time_is_read_from_a_window_refusal() {
    let detail = "invalid X-Locker-Timestamp: 1764331200000 is 300000 ms or more from server time 1764331800450; set the clock and sign again";
    assert_eq!(server_time_in(detail), Some(1_764_331_800_450));
    assert_eq!(server_time_in("bad signature"), None);
}
