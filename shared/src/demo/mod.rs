//! Demo data: a library system shaped like the seed's, so that every
//! endpoint has something real-looking to work on. A Hangzhou-shaped city
//! with 103 service points (59 branches, the central library among them;
//! 31 self-service points and 8 metro points, each with a 240-cell locker;
//! 5 partner sites) plus the delivery centre; a catalogue of famous and
//! composed Chinese titles with valid ISBNs, multi-volume sets and about
//! three copies each; readers with Alipay and WeChat identities and credit
//! scores on both sides of the thresholds; staff; and a few open loans.
//!
//! The same seed, size and clock give the same library ([`generate`]);
//! [`load`] writes it through the [`crate::db::Db`] seam once.

mod catalogue;
mod classics;
pub mod history;
mod history_write;
mod load;
mod places;
mod points;
mod readers;
mod tables;
mod words;

pub use catalogue::{isbn13_check_digit, DemoCopy, DemoRecord};
pub use history::{load_history, HistoryReport};
pub use load::{load, DemoReport};
pub use points::{DemoCell, DemoStaff, CELLS_PER_LOCKER, DELIVERY_CENTRE_CODE};
pub use readers::{DemoLoan, DemoReader};

use crate::point::{PointKind, ServicePoint};
use crate::{Error, Result};
use fastrand::Rng;
use serde::{Deserialize, Serialize};

/// The password of every demo member of staff (their staff numbers are
/// S0001, S0002, … in the order the demo makes them; docs/operations.md).
pub const DEMO_STAFF_PASSWORD: &str = "wangjie-demo";

/// The one seed of the demo library ("wangjie!" in ASCII).
const SEED: u64 = 0x7761_6e67_6a69_6521;
/// Most records a demo may have: enough to feel a province's load, few
/// enough to load in one request.
pub const MAX_RECORDS: u32 = 200_000;
/// Most readers a demo may have.
pub const MAX_READERS: u32 = 1_000_000;

/// How big a demo library to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSize {
    /// Catalogue records, 1 to [`MAX_RECORDS`].
    pub records: u32,
    /// Readers, 0 to [`MAX_READERS`].
    pub readers: u32,
}

impl Default for DemoSize {
    fn default() -> Self {
        DemoSize {
            records: 20_000,
            readers: 5_000,
        }
    }
}

impl DemoSize {
    /// Refuses sizes the loader will not make.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_RECORDS).contains(&self.records) {
            return Err(Error::invalid(
                "records",
                format!("must be between 1 and {MAX_RECORDS}"),
            ));
        }
        if self.readers > MAX_READERS {
            return Err(Error::invalid(
                "readers",
                format!("must be at most {MAX_READERS}"),
            ));
        }
        Ok(())
    }
}

/// Everything the demo loads, before it is written.
#[derive(Debug, Clone)]
pub struct DemoLibrary {
    /// 103 service points and the delivery centre.
    pub points: Vec<ServicePoint>,
    /// Every cell of every locker.
    pub cells: Vec<DemoCell>,
    /// Staff of the staffed points.
    pub staff: Vec<DemoStaff>,
    /// Catalogue records.
    pub records: Vec<DemoRecord>,
    /// Copies of the records.
    pub copies: Vec<DemoCopy>,
    /// Readers.
    pub readers: Vec<DemoReader>,
    /// Open loans of copies on loan.
    pub loans: Vec<DemoLoan>,
}

/// Makes the demo library of `size`, with times relative to `now_ms`.
///
/// Each part draws from its own stream of the seed, so the points and the
/// catalogue do not change when only the number of readers does.
pub fn generate(size: &DemoSize, now_ms: i64) -> Result<DemoLibrary> {
    size.validate()?;
    let stream = |n: u64| Rng::with_seed(SEED ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let points = points::service_points(&mut stream(1), now_ms);
    let cells = points::locker_cells(&mut stream(2), &points);
    let staff = points::staff(&mut stream(3), &points);
    let records = catalogue::records(&mut stream(4), size.records as usize);
    let branches: Vec<String> = points
        .iter()
        .filter(|p| p.kind == PointKind::Branch)
        .map(|p| p.code.clone())
        .collect();
    let mut copies = catalogue::copies(&mut stream(5), &records, &branches, DELIVERY_CENTRE_CODE);
    let readers = readers::readers(&mut stream(6), size.readers as usize, now_ms);
    let loans = readers::loans(&mut stream(7), &mut copies, &readers, now_ms);
    Ok(DemoLibrary {
        points,
        cells,
        staff,
        records,
        copies,
        readers,
        loans,
    })
}

#[cfg(test)]
mod tests;
