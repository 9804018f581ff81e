//! The demo history's generator: volume, order of events, open loans.

use super::*;

fn pools() -> Pools {
    pools_of(50)
}

fn pools_of(copies: i64) -> Pools {
    let mut points = HashMap::new();
    for (kind, code) in [
        ("branch", "B001"),
        ("self_service", "SS01"),
        ("metro", "M01"),
    ] {
        points.insert(kind.to_string(), vec![code.to_string()]);
    }
    Pools {
        readers: vec![(1, "alipay"), (2, "wechat"), (3, "alipay")],
        copies: (0..copies)
            .map(|i| (format!("C{i}"), i, "B001".into()))
            .collect(),
        points,
    }
}

#[test]
fn a_history_has_about_the_asked_volume_and_nothing_in_the_future() {
    let now = 1_795_896_000_000; // noon in Beijing
    let (orders, loans) = generate(&pools(), 10, 100, now, 7);
    assert!((800..1_400).contains(&loans.len()), "{}", loans.len());
    let online = loans.iter().filter(|l| l.order.is_some()).count();
    let settled = orders.iter().filter(|o| o.in_flight.is_none()).count();
    assert_eq!(online, settled);
    assert!(online * 10 > loans.len() * 4 && online * 10 < loans.len() * 8);
    for l in &loans {
        assert!(l.started_at_ms < now);
        if let Some(back) = l.returned_at_ms {
            assert!(back > l.started_at_ms && back < now, "{l:?}");
        }
        if let Some(i) = l.order {
            let o = &orders[i];
            assert!(o.created_at_ms < l.started_at_ms);
            if let Some(ready) = o.ready_at_ms {
                assert!(o.created_at_ms < ready && ready < l.started_at_ms);
            }
        }
    }
}

#[test]
fn at_most_one_open_loan_per_copy() {
    let now = 1_795_896_000_000;
    let (_, loans) = generate(&pools(), 20, 50, now, 3);
    let open: Vec<usize> = loans
        .iter()
        .filter(|l| l.returned_at_ms.is_none())
        .map(|l| l.copy)
        .collect();
    let distinct: HashSet<_> = open.iter().collect();
    assert!(!open.is_empty());
    assert_eq!(distinct.len(), open.len());
}

#[test]
fn no_readers_or_copies_make_no_history() {
    let (orders, loans) = generate(&Pools::default(), 10, 100, 1_795_896_000_000, 1);
    assert!(orders.is_empty() && loans.is_empty());
}

#[test]
fn orders_placed_lately_are_in_flight_on_copies_of_their_own() {
    let now = 1_795_896_000_000;
    let (orders, loans) = generate(&pools_of(5_000), 10, 100, now, 5);
    let flying: Vec<&PastOrder> = orders.iter().filter(|o| o.in_flight.is_some()).collect();
    assert!(!flying.is_empty());
    let mut held: Vec<usize> = flying.iter().filter_map(|o| o.in_flight).collect();
    held.extend(
        loans
            .iter()
            .filter(|l| l.returned_at_ms.is_none())
            .map(|l| l.copy),
    );
    let distinct: HashSet<_> = held.iter().collect();
    assert_eq!(distinct.len(), held.len(), "{held:?}");
    for o in &orders {
        assert!(o.created_at_ms < now);
        assert!(o.ready_at_ms.is_none_or(|ready| ready < now), "{o:?}");
    }
    // Ready in flight only on a hold shelf (the test's branch), never at a locker.
    for o in flying.iter().filter(|o| o.ready_at_ms.is_some()) {
        assert_eq!(o.point.as_deref(), Some("B001"), "{o:?}");
    }
}
