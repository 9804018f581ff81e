//! The demo's service points (59 branches, 31 self-service points, 8 metro
//! points, 5 partner sites and the delivery centre), their locker cells and
//! their staff.

use super::places::{
    self, Landmark, CENTRAL_LIBRARY, DELIVERY_CENTRE, DISTRICTS, METRO, PARTNERS, SELF_SERVICE,
};
use super::words::{person_name, pick};
use crate::geo::Coordinates;
use crate::point::{LockerInfo, LockerStatus, Opening, PointKind, ServicePoint, Weekday};
use fastrand::Rng;

/// Branches besides the central library and the district libraries.
const STREET_BRANCHES: usize = 59 - 1 - 13;
/// The standard smart credit locker.
pub const CELLS_PER_LOCKER: u16 = 240;
/// The code of the delivery centre, whose presence marks a loaded demo.
pub const DELIVERY_CENTRE_CODE: &str = "DC01";

/// One locker cell as the demo leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCell {
    /// The locker's point.
    pub point_code: String,
    /// 1..=240.
    pub cell_no: u16,
    /// empty, occupied (a returned book awaiting collection) or fault.
    pub state: &'static str,
}

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStaff {
    /// Full name.
    pub name: String,
    /// Where they work.
    pub home_point: String,
    /// librarian, picker, courier, supervisor or operator.
    pub role: &'static str,
}

/// Every service point, in code order within each kind.
pub fn service_points(rng: &mut Rng, now_ms: i64) -> Vec<ServicePoint> {
    let mut points = branches(rng);
    for (i, landmark) in SELF_SERVICE.iter().enumerate() {
        let name = format!("{}自助图书馆", landmark.0);
        let mut point = at_landmark(
            rng,
            format!("SS{:02}", i + 1),
            name,
            PointKind::SelfService,
            landmark,
        );
        // The first ten opened in 2014 with first-generation lockers.
        let generation = if i < 10 { 1 } else { 2 };
        point.opening = Opening::always();
        point.locker = Some(locker(rng, generation, now_ms));
        points.push(point);
    }
    for (i, station) in METRO.iter().enumerate() {
        let name = format!("地铁{}站借阅点", station.0);
        let mut point = at_landmark(
            rng,
            format!("M{:02}", i + 1),
            name,
            PointKind::Metro,
            station,
        );
        // Inside the paid area: the locker is reachable while trains run.
        point.opening = Opening::on(&Weekday::ALL, "06:00", "23:30");
        point.locker = Some(locker(rng, 2, now_ms));
        points.push(point);
    }
    for (i, (site, shop_hours)) in PARTNERS.iter().enumerate() {
        let name = format!("{}合作借阅点", site.0);
        let mut point = at_landmark(
            rng,
            format!("P{:02}", i + 1),
            name,
            PointKind::Partner,
            site,
        );
        point.opening = if *shop_hours {
            Opening::on(&Weekday::ALL, "10:00", "22:00")
        } else {
            Opening::on(&Weekday::ALL[..5], "09:00", "17:00")
        };
        points.push(point);
    }
    let mut centre = at_landmark(
        rng,
        DELIVERY_CENTRE_CODE.into(),
        DELIVERY_CENTRE.0.into(),
        PointKind::DeliveryCentre,
        &DELIVERY_CENTRE,
    );
    centre.opening = Opening::on(&Weekday::ALL[..6], "08:00", "20:00");
    points.push(centre);
    points
}

/// The central library, one library per district, then street branches
/// handed out round-robin over the districts' streets.
fn branches(rng: &mut Rng) -> Vec<ServicePoint> {
    let mut points = Vec::with_capacity(59);
    let mut central = at_landmark(
        rng,
        "B001".into(),
        format!("{}（总馆）", CENTRAL_LIBRARY.0),
        PointKind::Branch,
        &CENTRAL_LIBRARY,
    );
    central.opening = Opening::on(&Weekday::ALL, "09:00", "21:00");
    points.push(central);
    for district in DISTRICTS {
        let code = format!("B{:03}", points.len() + 1);
        let name = format!("{}图书馆", district.name);
        points.push(in_district(rng, code, name, district, branch_opening()));
    }
    let mut round = 0;
    while points.len() < 1 + DISTRICTS.len() + STREET_BRANCHES {
        for district in DISTRICTS.iter().filter(|d| round < d.streets.len()) {
            if points.len() == 1 + DISTRICTS.len() + STREET_BRANCHES {
                break;
            }
            let code = format!("B{:03}", points.len() + 1);
            let name = format!("{}图书馆{}分馆", district.name, district.streets[round]);
            points.push(in_district(rng, code, name, district, branch_opening()));
        }
        round += 1;
    }
    points
}

/// Closed on Monday morning for shelving, as many branches are.
fn branch_opening() -> Opening {
    let mut opening = Opening::on(&[Weekday::Mon], "13:00", "21:00");
    opening
        .hours
        .extend(Opening::on(&Weekday::ALL[1..], "09:00", "21:00").hours);
    opening
}

fn in_district(
    rng: &mut Rng,
    code: String,
    name: String,
    district: &places::District,
    opening: Opening,
) -> ServicePoint {
    let lat = district.lat + (rng.f64() - 0.5) * 2.0 * district.spread;
    let lon = district.lon + (rng.f64() - 0.5) * 2.0 * district.spread;
    ServicePoint {
        code,
        name,
        kind: PointKind::Branch,
        address: address(rng, district),
        district: district.name.into(),
        coordinates: Coordinates { lat, lon },
        opening,
        locker: None,
    }
}

fn at_landmark(
    rng: &mut Rng,
    code: String,
    name: String,
    kind: PointKind,
    landmark: &Landmark,
) -> ServicePoint {
    let (place, district_name, lat, lon) = *landmark;
    let district = places::district(district_name);
    ServicePoint {
        code,
        name,
        kind,
        address: format!("{} {}", address(rng, district), place),
        district: district.name.into(),
        coordinates: Coordinates { lat, lon },
        opening: Opening::default(),
        locker: None,
    }
}

fn address(rng: &mut Rng, district: &places::District) -> String {
    format!(
        "杭州市{}{}{}号",
        district.name,
        pick(rng, district.roads),
        rng.u16(1..=999)
    )
}

/// A locker; about one in twelve has stopped answering.
fn locker(rng: &mut Rng, generation: u8, now_ms: i64) -> LockerInfo {
    let online = rng.u8(..12) != 0;
    let silence_ms = if online {
        rng.i64(1_000..60_000)
    } else {
        rng.i64(3_600_000..86_400_000)
    };
    LockerInfo {
        generation,
        cells: CELLS_PER_LOCKER,
        status: if online {
            LockerStatus::Online
        } else {
            LockerStatus::Offline
        },
        last_heartbeat_at_ms: Some(now_ms - silence_ms),
    }
}

/// Every cell of every locker: mostly empty, some holding returned books,
/// a few out of order.
pub fn locker_cells(rng: &mut Rng, points: &[ServicePoint]) -> Vec<DemoCell> {
    let mut cells = Vec::new();
    for point in points {
        let Some(locker) = &point.locker else {
            continue;
        };
        for cell_no in 1..=locker.cells {
            let state = match rng.u8(..100) {
                0 => "fault",
                1..=10 => "occupied",
                _ => "empty",
            };
            cells.push(DemoCell {
                point_code: point.code.clone(),
                cell_no,
                state,
            });
        }
    }
    cells
}

/// A few staff per staffed point; the delivery centre has the pickers,
/// couriers and operators.
pub fn staff(rng: &mut Rng, points: &[ServicePoint]) -> Vec<DemoStaff> {
    let mut staff = Vec::new();
    for point in points {
        let roles: &[(&'static str, usize)] = match point.kind {
            PointKind::Branch if point.code == "B001" => {
                &[("supervisor", 1), ("librarian", 3), ("picker", 2)]
            }
            // u32, not usize: usize draws differ between wasm32 and 64-bit
            // hosts, and the staff numbers (S0001 in this order) must not.
            PointKind::Branch => &[("librarian", 1 + rng.u32(..2) as usize), ("picker", 1)],
            PointKind::Partner => &[("librarian", 1)],
            PointKind::DeliveryCentre => &[
                ("supervisor", 2),
                ("picker", 6),
                ("courier", 6),
                ("operator", 2),
            ],
            PointKind::SelfService | PointKind::Metro => &[],
        };
        for &(role, count) in roles {
            for _ in 0..count {
                staff.push(DemoStaff {
                    name: person_name(rng),
                    home_point: point.code.clone(),
                    role,
                });
            }
        }
    }
    staff
}
