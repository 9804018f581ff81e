use super::*;
use crate::db::migrate::{split_statements, MIGRATIONS};
use crate::db::Dialect;
use std::collections::HashSet;

const NOW_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn small() -> DemoLibrary {
    generate(
        &DemoSize {
            records: 3_000,
            readers: 800,
        },
        NOW_MS,
    )
    .unwrap()
}

fn count(library: &DemoLibrary, kind: PointKind) -> usize {
    library.points.iter().filter(|p| p.kind == kind).count()
}

#[test]
fn the_demo_has_the_seeds_103_points_and_a_delivery_centre() {
    let library = small();
    assert_eq!(count(&library, PointKind::Branch), 59);
    assert_eq!(count(&library, PointKind::SelfService), 31);
    assert_eq!(count(&library, PointKind::Metro), 8);
    assert_eq!(count(&library, PointKind::Partner), 5);
    assert_eq!(count(&library, PointKind::DeliveryCentre), 1);
    let codes: HashSet<&str> = library.points.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes.len(), 104);
    assert!(codes.contains(DELIVERY_CENTRE_CODE));
}

#[test]
fn every_point_lies_in_the_city() {
    for point in small().points {
        let c = point.coordinates;
        assert!(
            (29.4..30.6).contains(&c.lat) && (118.9..120.5).contains(&c.lon),
            "{}: {c:?}",
            point.name
        );
        assert!(point.address.starts_with("杭州市"), "{}", point.address);
    }
}

#[test]
fn self_service_and_metro_points_have_240_cell_lockers_and_no_one_else_does() {
    let library = small();
    for point in &library.points {
        let has_locker = matches!(point.kind, PointKind::SelfService | PointKind::Metro);
        assert_eq!(point.locker.is_some(), has_locker, "{}", point.code);
        if let Some(locker) = &point.locker {
            assert_eq!(locker.cells, CELLS_PER_LOCKER);
            let cells: Vec<u16> = library
                .cells
                .iter()
                .filter(|c| c.point_code == point.code)
                .map(|c| c.cell_no)
                .collect();
            assert_eq!(cells, (1..=240).collect::<Vec<_>>(), "{}", point.code);
        }
    }
    assert_eq!(library.cells.len(), 39 * 240);
    let generations: HashSet<u8> = library
        .points
        .iter()
        .filter_map(|p| p.locker.as_ref())
        .map(|l| l.generation)
        .collect();
    assert_eq!(generations, HashSet::from([1, 2]));
}

#[test]
fn lockers_are_always_open_and_branches_open_late_on_monday() {
    use crate::point::Weekday;
    let library = small();
    let locker = library
        .points
        .iter()
        .find(|p| p.kind == PointKind::SelfService)
        .unwrap();
    assert!(locker.opening.always_open);
    let branch = library.points.iter().find(|p| p.code == "B002").unwrap();
    let monday = branch
        .opening
        .hours
        .iter()
        .find(|h| h.day == Weekday::Mon)
        .unwrap();
    assert_eq!(monday.open, "13:00");
    assert_eq!(branch.opening.hours.len(), 7);
}

#[test]
fn isbn13_check_digits_match_published_books() {
    // 三体, 重庆出版社 2008: 978-7-5366-9293-0.
    assert_eq!(isbn13_check_digit("978753669293").unwrap(), '0');
    // The standard's own example: 978-0-306-40615-7.
    assert_eq!(isbn13_check_digit("978030640615").unwrap(), '7');
    assert!(isbn13_check_digit("97803064061").is_err());
    assert!(isbn13_check_digit("97803064061x").is_err());
}

#[test]
fn every_demo_isbn_is_valid_and_unique() {
    let records = generate(
        &DemoSize {
            records: 30_000,
            readers: 0,
        },
        NOW_MS,
    )
    .unwrap()
    .records;
    let mut seen = HashSet::new();
    for record in &records {
        let isbn = &record.isbn13;
        assert_eq!(isbn.len(), 13, "{isbn}");
        assert!(isbn.starts_with("9787"), "{isbn}");
        assert_eq!(
            isbn13_check_digit(&isbn[..12]).unwrap(),
            isbn.chars().last().unwrap(),
            "{isbn}"
        );
        assert!(seen.insert(isbn.clone()), "duplicate {isbn}");
    }
}

#[test]
fn famous_titles_come_first_with_their_own_publishers() {
    let library = small();
    assert_eq!(library.records[0].title, "三体");
    assert!(library.records.iter().any(|r| r.title == "活着"));
    for classic in classics::CLASSICS {
        assert!(
            words::PUBLISHERS
                .iter()
                .any(|(name, _)| *name == classic.publisher),
            "{} has unknown publisher {}",
            classic.title,
            classic.publisher
        );
    }
}

#[test]
fn sets_number_their_volumes_from_one() {
    let library = small();
    let mut sets: std::collections::HashMap<&str, Vec<i64>> = Default::default();
    for (key, volume) in library.records.iter().filter_map(|r| r.set.as_ref()) {
        sets.entry(key).or_default().push(*volume);
    }
    assert!(!sets.is_empty());
    for (key, volumes) in sets {
        assert!((3..=8).contains(&volumes.len()), "{key}");
        assert_eq!(
            volumes,
            (1..=volumes.len() as i64).collect::<Vec<_>>(),
            "{key}"
        );
    }
}

#[test]
fn copies_have_unique_barcodes_and_about_three_per_record() {
    let library = small();
    let barcodes: HashSet<&str> = library.copies.iter().map(|c| c.barcode.as_str()).collect();
    assert_eq!(barcodes.len(), library.copies.len());
    assert!(barcodes.iter().all(|b| b.len() == 11 && b.starts_with('A')));
    let per_record = library.copies.len() as f64 / library.records.len() as f64;
    assert!((2.5..3.5).contains(&per_record), "{per_record}");
    let stacked = library.copies.iter().filter(|c| c.in_online_stack).count();
    assert!(stacked > 0);
    assert!(library
        .copies
        .iter()
        .filter(|c| c.in_online_stack)
        .all(|c| c.home_point == DELIVERY_CENTRE_CODE));
}

#[test]
fn copies_on_loan_have_exactly_one_loan_to_an_active_reader() {
    let library = small();
    let on_loan = library
        .copies
        .iter()
        .filter(|c| c.status == "on_loan")
        .count();
    assert_eq!(on_loan, library.loans.len());
    assert!(on_loan > 0);
    let mut held = vec![0; library.readers.len()];
    for loan in &library.loans {
        assert_eq!(library.copies[loan.copy].status, "on_loan");
        assert_eq!(library.readers[loan.reader].status, "active");
        assert!(loan.due_at_ms > loan.started_at_ms);
        held[loan.reader] += 1;
    }
    assert!(held.iter().all(|&n| n <= 3));
}

#[test]
fn without_readers_nothing_is_on_loan() {
    let library = generate(
        &DemoSize {
            records: 500,
            readers: 0,
        },
        NOW_MS,
    )
    .unwrap();
    assert!(library.loans.is_empty());
    assert!(library.copies.iter().all(|c| c.status != "on_loan"));
}

#[test]
fn readers_have_unique_identities_and_credit_on_both_sides_of_the_thresholds() {
    let library = small();
    let identities: HashSet<&str> = library
        .readers
        .iter()
        .map(|r| r.identity().unwrap())
        .collect();
    assert_eq!(identities.len(), library.readers.len());
    let share_below = |source: &str, threshold: i64| {
        let scores: Vec<i64> = library
            .readers
            .iter()
            .filter(|r| r.credit_source == source)
            .filter_map(|r| r.credit_score)
            .collect();
        scores.iter().filter(|&&s| s < threshold).count() as f64 / scores.len() as f64
    };
    let sesame = share_below("sesame", 600);
    let osmanthus = share_below("osmanthus", 100);
    assert!((0.05..0.35).contains(&sesame), "{sesame}");
    assert!((0.03..0.35).contains(&osmanthus), "{osmanthus}");
    for reader in &library.readers {
        if let Some(id) = &reader.alipay_user_id {
            assert!(id.len() == 16 && id.starts_with("2088"), "{id}");
        }
        if let Some(openid) = &reader.wechat_openid {
            assert!(openid.len() == 28 && openid.starts_with('o'), "{openid}");
        }
    }
}

#[test]
fn the_same_size_and_clock_give_the_same_library() {
    let size = DemoSize {
        records: 1_000,
        readers: 200,
    };
    let (a, b) = (
        generate(&size, NOW_MS).unwrap(),
        generate(&size, NOW_MS).unwrap(),
    );
    assert_eq!(a.points, b.points);
    assert_eq!(a.cells, b.cells);
    assert_eq!(a.staff, b.staff);
    assert_eq!(a.records, b.records);
    assert_eq!(a.copies, b.copies);
    assert_eq!(a.readers, b.readers);
    assert_eq!(a.loans, b.loans);
    let more_readers = generate(
        &DemoSize {
            records: 1_000,
            readers: 300,
        },
        NOW_MS,
    )
    .unwrap();
    assert_eq!(a.records, more_readers.records);
}

#[test]
fn sizes_outside_the_limits_are_refused() {
    assert!(DemoSize::default().validate().is_ok());
    assert_eq!(
        DemoSize::default(),
        DemoSize {
            records: 20_000,
            readers: 5_000
        }
    );
    for bad in [
        DemoSize {
            records: 0,
            readers: 1,
        },
        DemoSize {
            records: MAX_RECORDS + 1,
            readers: 1,
        },
    ] {
        assert!(
            matches!(bad.validate(), Err(Error::Invalid { ref field, .. }) if field == "records")
        );
    }
    assert!(DemoSize {
        records: 1,
        readers: MAX_READERS + 1
    }
    .validate()
    .is_err());
}

#[test]
fn both_dialects_of_the_domain_migration_split_into_the_same_tables_and_indexes() {
    let migration = MIGRATIONS.iter().find(|m| m.name == "0001_domain").unwrap();
    let objects = |dialect| {
        let mut names: Vec<String> = split_statements(migration.sql(dialect))
            .iter()
            .filter(|s| s.starts_with("CREATE TABLE") || s.contains("INDEX"))
            .map(|s| {
                s.split_whitespace()
                    .take(5)
                    .filter(|w| *w != "UNIQUE")
                    .nth(2)
                    .unwrap()
                    .to_string()
            })
            .collect();
        names.sort();
        names
    };
    let postgres = objects(Dialect::Postgres);
    assert_eq!(postgres, objects(Dialect::Sqlite));
    assert!(postgres.contains(&"copies_one_open_promise".to_string()));
    let sqlite = split_statements(migration.sql(Dialect::Sqlite));
    let triggers: Vec<&&str> = sqlite
        .iter()
        .filter(|s| s.starts_with("CREATE TRIGGER"))
        .collect();
    assert_eq!(triggers.len(), 2);
    assert!(triggers.iter().all(|t| t.ends_with("END")), "{triggers:?}");
    let pg = split_statements(migration.sql(Dialect::Postgres));
    let function = pg
        .iter()
        .find(|s| s.starts_with("CREATE FUNCTION"))
        .unwrap();
    assert!(
        function.ends_with("$$ LANGUAGE plpgsql") || function.ends_with("$$"),
        "{function}"
    );
}

/// `scripts/up` and docs/operations.md print these staff numbers for the
/// demo's sign-in; they depend only on the seed and the points.
#[test]
fn the_demo_staff_numbers_printed_for_sign_in_stay_put() {
    let library = small();
    let at = |no: &str| {
        let n: usize = no[1..].parse().unwrap();
        let s = &library.staff[n - 1];
        (s.home_point.as_str(), s.role)
    };
    assert_eq!(at("S0002"), ("B001", "librarian"));
    assert_eq!(at("S0156"), (DELIVERY_CENTRE_CODE, "picker"));
    assert_eq!(at("S0168"), (DELIVERY_CENTRE_CODE, "operator"));
    assert_eq!(at("S0001"), ("B001", "supervisor"));
}
