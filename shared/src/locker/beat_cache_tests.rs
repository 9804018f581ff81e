use super::*;
use crate::kv::MemoryKv;
use crate::locker::messages::{CellReport, Health};

const NOW: i64 = 1_800_000_000_000;

fn beat(temperature_c: f32) -> Heartbeat {
    Heartbeat {
        clock_ms: NOW,
        cells: vec![CellReport {
            no: 1,
            state: CellState::Empty,
        }],
        health: Health {
            network: Network::FourG,
            signal: Some(-71),
            power: Power::Mains,
            battery_pct: None,
            temperature_c,
            firmware: "2.1.0".into(),
        },
        acks: Vec::new(),
    }
}

fn admit_at(kv: &MemoryKv, nonce: &str, digest: &str, now: i64) -> Result<Admission> {
    admit(kv, "SZ-1", nonce, now + 300_000, digest, false, now)
}

fn sync(kv: &MemoryKv, nonce: &str, digest: &str) {
    let Admission::Sync { change } = admit_at(kv, nonce, digest, NOW).unwrap() else {
        panic!("expected the database path");
    };
    let synced_to = Synced {
        digest: digest.into(),
        change,
    };
    super::synced(kv, "SZ-1", Some(synced_to), NOW).unwrap();
}

#[test]
fn the_first_heartbeat_goes_to_the_database_and_the_next_same_one_does_not() {
    let kv = MemoryKv::default();
    sync(&kv, "nonce-aaaaaaaaaaaa1", "d1");
    assert_eq!(
        admit_at(&kv, "nonce-aaaaaaaaaaaa2", "d1", NOW + 30_000).unwrap(),
        Admission::Steady
    );
    assert_eq!(seen_ms(&kv, "SZ-1").unwrap(), Some(NOW + 30_000));
}

#[test]
fn a_reused_nonce_is_a_conflict_and_changes_nothing() {
    let kv = MemoryKv::default();
    sync(&kv, "nonce-aaaaaaaaaaaa1", "d1");
    let before = kv.get("locker-beat/SZ-1").unwrap();
    let again = admit_at(&kv, "nonce-aaaaaaaaaaaa1", "d1", NOW + 1_000);
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    assert_eq!(kv.get("locker-beat/SZ-1").unwrap(), before);
}

#[test]
fn nonces_past_the_window_are_forgotten_a_batch_at_a_time() {
    let kv = MemoryKv::default();
    let nonce = |i: usize| format!("nonce-{i:014}");
    let guard = |i: usize| kv.get(&format!("locker-nonce/SZ-1/{}", nonce(i))).unwrap();
    for i in 0..PRUNE_AT {
        admit_at(&kv, &nonce(i), "d1", NOW + i as i64).unwrap();
    }
    let kept = |kv: &MemoryKv| -> Vec<String> {
        let state: BeatState =
            serde_json::from_slice(&kv.get("locker-beat/SZ-1").unwrap().unwrap()).unwrap();
        state.nonces.into_iter().map(|(_, n)| n).collect()
    };
    // Past the window, one short of a batch: they wait, guards and all.
    admit_at(&kv, &nonce(100), "d1", NOW + 300_000 + PRUNE_AT as i64 - 1).unwrap();
    assert_eq!(kept(&kv).len(), PRUNE_AT + 1);
    assert!(guard(0).is_some());
    // A batch: every expired nonce goes, with its guard's key; live ones stay.
    admit_at(&kv, &nonce(101), "d1", NOW + 400_000).unwrap();
    assert_eq!(kept(&kv), [nonce(100), nonce(101)]);
    assert!((0..PRUNE_AT).all(|i| guard(i).is_none()));
    assert!(guard(100).is_some() && guard(101).is_some());
}

#[test]
fn a_change_noted_after_the_sync_sends_the_next_heartbeat_to_the_database() {
    let kv = MemoryKv::default();
    sync(&kv, "nonce-aaaaaaaaaaaa1", "d1");
    note_change(&kv, "SZ-1").unwrap();
    let next = admit_at(&kv, "nonce-aaaaaaaaaaaa2", "d1", NOW + 30_000).unwrap();
    assert!(
        matches!(next, Admission::Sync { change: Some(_) }),
        "{next:?}"
    );
}

#[test]
fn a_change_noted_while_the_database_path_runs_is_not_missed() {
    let kv = MemoryKv::default();
    let Admission::Sync { change } = admit_at(&kv, "nonce-aaaaaaaaaaaa1", "d1", NOW).unwrap()
    else {
        panic!("expected the database path");
    };
    // A command committed after the heartbeat read the database.
    note_change(&kv, "SZ-1").unwrap();
    let synced_to = Synced {
        digest: "d1".into(),
        change,
    };
    synced(&kv, "SZ-1", Some(synced_to), NOW).unwrap();
    let next = admit_at(&kv, "nonce-aaaaaaaaaaaa2", "d1", NOW + 30_000).unwrap();
    assert!(matches!(next, Admission::Sync { .. }), "{next:?}");
}

#[test]
fn pending_commands_or_acks_or_a_new_digest_go_to_the_database() {
    let kv = MemoryKv::default();
    let Admission::Sync { .. } = admit_at(&kv, "nonce-aaaaaaaaaaaa1", "d1", NOW).unwrap() else {
        panic!()
    };
    synced(&kv, "SZ-1", None, NOW).unwrap();
    let pending = admit_at(&kv, "nonce-aaaaaaaaaaaa2", "d1", NOW + 1).unwrap();
    assert!(matches!(pending, Admission::Sync { .. }));
    sync(&kv, "nonce-aaaaaaaaaaaa3", "d1");
    let acks = admit(
        &kv,
        "SZ-1",
        "nonce-aaaaaaaaaaaa4",
        NOW + 300_000,
        "d1",
        true,
        NOW + 2,
    );
    assert!(matches!(acks.unwrap(), Admission::Sync { .. }));
    let other = admit_at(&kv, "nonce-aaaaaaaaaaaa5", "d2", NOW + 3).unwrap();
    assert!(matches!(other, Admission::Sync { .. }));
}

#[test]
fn the_guard_does_not_depend_on_the_state_record() {
    // The record is written last-writer-wins; a racing heartbeat that
    // overwrites it must not reopen a nonce.
    let kv = MemoryKv::default();
    sync(&kv, "nonce-aaaaaaaaaaaa1", "d1");
    kv.delete("locker-beat/SZ-1").unwrap();
    let replay = admit_at(&kv, "nonce-aaaaaaaaaaaa1", "d1", NOW + 3);
    assert!(matches!(replay, Err(Error::Conflict(_))), "{replay:?}");
}

#[test]
fn the_digest_ignores_health_within_its_bands_but_not_cells_or_time() {
    let digest = |beat: &Heartbeat, now| beat_digest(beat, "SZ-1", now);
    let a = digest(&beat(21.0), NOW);
    assert_eq!(a, digest(&beat(39.5), NOW));
    assert_ne!(a, digest(&beat(41.0), NOW));
    assert_ne!(a, digest(&beat(-1.0), NOW));
    let mut weak = beat(21.0);
    weak.health.signal = Some(-80);
    assert_eq!(a, digest(&weak, NOW));
    weak.health.signal = Some(-96);
    assert_ne!(a, digest(&weak, NOW));
    let mut full = beat(21.0);
    full.cells[0].state = CellState::Occupied;
    assert_ne!(a, digest(&full, NOW));
    assert_ne!(a, digest(&beat(21.0), NOW + SYNC_EVERY_MS));
    let mut on_battery = beat(21.0);
    on_battery.health.power = Power::Battery;
    assert_ne!(a, digest(&on_battery, NOW));
}

#[test]
fn lockers_reach_the_database_at_their_own_times() {
    // Over one bucket's length, a locker's digest changes exactly once,
    // and not at the same instant for every locker.
    let changes = |locker: &str| {
        let at = |t: i64| beat_digest(&beat(21.0), locker, t);
        (1..=300)
            .filter(|s| at(NOW + (s - 1) * 1_000) != at(NOW + s * 1_000))
            .collect::<Vec<i64>>()
    };
    let (a, b) = (changes("SZ-1"), changes("SZ-2"));
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_ne!(a, b);
}
