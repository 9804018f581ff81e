//! Staff: librarians, pickers, couriers at a branch or the delivery
//! centre. A member of staff acts only for their own point
//! (`staff.home_point`); the orders' fulfilment checks it on every step.
//! Each has a *staff number* (`staff_no`, "S0001"), with which they sign
//! in to the staff console by password or one-time code ([`accounts`],
//! [`credentials`]).

pub mod accounts;
pub mod credentials;

use crate::db::Db;
use crate::{Error, Result};
use serde::Serialize;

/// The roles a member of staff may have, as `staff.role` holds them.
pub const ROLES: &[&str] = &["librarian", "picker", "courier", "supervisor", "operator"];

/// The columns [`from_row`] reads.
const COLUMNS: &str = "id, staff_no, name, home_point, role";

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Staff {
    /// `staff.id`.
    pub id: i64,
    /// Their staff number, what they sign in with ("S0001").
    pub staff_no: String,
    /// Their name.
    pub name: String,
    /// The point they work at.
    pub home_point: String,
    /// `librarian`, `picker`, `courier`, `supervisor` or `operator`.
    pub role: String,
}

impl Staff {
    /// Refuses unless the member of staff works at `point`.
    pub fn must_work_at(&self, point: &str) -> Result<()> {
        if self.home_point == point {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "staff of {} act only for their own point, not {point}",
                self.home_point
            )))
        }
    }

    /// The actor text of the event log.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.id)
    }
}

/// Member of staff `id`.
pub fn get(db: &dyn Db, id: i64) -> Result<Staff> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM staff WHERE id = $1"),
        &[id.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound { what: "staff" })?;
    from_row(&row)
}

/// The member of staff a session token names. One who is no longer on
/// the staff holds no credential any more (401, as a revoked token), not
/// a missing resource: the token named them, not the path.
pub fn signed_in(db: &dyn Db, id: i64) -> Result<Staff> {
    match get(db, id) {
        Err(Error::NotFound { .. }) => Err(Error::Unauthenticated),
        found => found,
    }
}

fn from_row(row: &crate::db::Row<'_>) -> Result<Staff> {
    Ok(Staff {
        id: row.i64("id")?,
        staff_no: row.opt_text("staff_no")?.unwrap_or_default().to_string(),
        name: row.text("name")?.to_string(),
        home_point: row.text("home_point")?.to_string(),
        role: row.text("role")?.to_string(),
    })
}

/// Everyone at `point`, by id.
pub fn at(db: &dyn Db, point: &str) -> Result<Vec<Staff>> {
    let rows = db.query(
        &format!("SELECT {COLUMNS} FROM staff WHERE home_point = $1 ORDER BY id"),
        &[point.into()],
    )?;
    rows.iter().map(|row| from_row(&row)).collect()
}
