//! Staff accounts: an operator creates them, sets passwords and hands out
//! one-time codes; a member of staff signs in with either. Every failure to
//! sign in is the same [`Error::Unauthenticated`], whether the staff
//! number exists or not, and takes about as long.

use super::credentials::{self, CODE_TTL_MS, MAX_CODE_ATTEMPTS};
use super::{from_row, Staff, COLUMNS, ROLES};
use crate::db::Db;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// `POST /admin/staff`'s body.
#[derive(Debug, Clone, Deserialize)]
pub struct NewStaff {
    /// The staff number they will sign in with ("S0107").
    pub staff_no: String,
    /// Their name.
    pub name: String,
    /// The point they work at (a service point code).
    pub home_point: String,
    /// One of [`ROLES`].
    pub role: String,
    /// A first password; without one, they sign in with a one-time code.
    #[serde(default)]
    pub password: Option<String>,
}

/// How a member of staff proves who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Their password.
    Password(String),
    /// A one-time code an operator gave them.
    Code(String),
}

/// A one-time code just issued: shown once, stored only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCode {
    /// Six digits.
    pub code: String,
    /// The first instant it is refused.
    pub expires_at_ms: i64,
}

/// The point a member of staff works at, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HomePoint {
    /// `service_points.code`.
    pub code: String,
    /// Its name.
    pub name: String,
    /// `branch`, `self_service`, `metro`, `partner` or `delivery_centre`.
    pub kind: String,
}

/// `GET /api/staff/me`: who is signed in, and where they work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Me {
    /// The member of staff.
    #[serde(flatten)]
    pub staff: Staff,
    /// Their point.
    pub point: HomePoint,
}

/// Creates a member of staff. 400 for an unknown point or role or a weak
/// password, 409 when the staff number is taken.
pub fn create(db: &dyn Db, new: &NewStaff, now_ms: i64) -> Result<Staff> {
    let staff_no = credentials::parse_staff_no(&new.staff_no)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "1 to 100 characters"));
    }
    if !ROLES.contains(&new.role.as_str()) {
        return Err(Error::invalid(
            "role",
            format!("one of {}", ROLES.join(", ")),
        ));
    }
    let hash = match &new.password {
        Some(password) => {
            credentials::check_strength(password)?;
            Some(credentials::hash_password(password)?)
        }
        None => None,
    };
    let point = db.query(
        "SELECT code FROM service_points WHERE code = $1",
        &[new.home_point.as_str().into()],
    )?;
    if point.is_empty() {
        return Err(Error::invalid("home_point", "no such service point"));
    }
    let rows = db.query(
        &format!(
            "INSERT INTO staff (staff_no, name, home_point, role, password_hash, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (staff_no) DO NOTHING RETURNING {COLUMNS}"
        ),
        &[
            staff_no.as_str().into(),
            name.into(),
            new.home_point.as_str().into(),
            new.role.as_str().into(),
            hash.into(),
            now_ms.into(),
        ],
    )?;
    match rows.first() {
        Some(row) => from_row(&row),
        None => Err(Error::Conflict(format!("staff number {staff_no} is taken"))),
    }
}

/// Sets member of staff `id`'s password (404 when there is no such
/// member of staff).
pub fn set_password(db: &dyn Db, id: i64, password: &str) -> Result<()> {
    credentials::check_strength(password)?;
    let hash = credentials::hash_password(password)?;
    let changed = db.execute(
        "UPDATE staff SET password_hash = $1 WHERE id = $2",
        &[hash.into(), id.into()],
    )?;
    if changed == 0 {
        return Err(Error::NotFound { what: "staff" });
    }
    Ok(())
}

/// A new one-time code for member of staff `id`, replacing any earlier one.
pub fn issue_code(db: &dyn Db, id: i64, now_ms: i64) -> Result<IssuedCode> {
    let staff = super::get(db, id)?;
    let code = credentials::new_code()?;
    let expires_at_ms = now_ms + CODE_TTL_MS;
    db.execute(
        "UPDATE staff SET code_hash = $1, code_expires_at_ms = $2, code_attempts = 0 WHERE id = $3",
        &[
            credentials::code_hash(&staff.staff_no, &code).into(),
            expires_at_ms.into(),
            id.into(),
        ],
    )?;
    Ok(IssuedCode {
        code,
        expires_at_ms,
    })
}

/// The member of staff `staff_no` names, if `credential` is theirs.
pub fn sign_in(db: &dyn Db, staff_no: &str, credential: &Credential, now_ms: i64) -> Result<Staff> {
    let staff_no = credentials::parse_staff_no(staff_no).map_err(|_| Error::Unauthenticated)?;
    match credential {
        Credential::Password(password) => with_password(db, &staff_no, password),
        Credential::Code(code) => with_code(db, &staff_no, code, now_ms),
    }
}

fn with_password(db: &dyn Db, staff_no: &str, password: &str) -> Result<Staff> {
    let rows = db.query(
        &format!("SELECT {COLUMNS}, password_hash FROM staff WHERE staff_no = $1"),
        &[staff_no.into()],
    )?;
    let found = rows.first();
    let stored = match &found {
        Some(row) => row.opt_text("password_hash")?,
        None => None,
    };
    // Verify even when there is nothing to verify against, so that the
    // answer's timing does not say whether the staff number exists.
    let matches =
        credentials::verify_password(password, stored.unwrap_or(credentials::UNUSABLE_HASH));
    match (found, stored.is_some() && matches) {
        (Some(row), true) => from_row(&row),
        _ => Err(Error::Unauthenticated),
    }
}

/// One statement takes the code, so that of two concurrent sign-ins with
/// it only one succeeds; a wrong code counts against the code.
fn with_code(db: &dyn Db, staff_no: &str, code: &str, now_ms: i64) -> Result<Staff> {
    if credentials::is_code_shaped(code) {
        let taken = db.query(
            &format!(
                "UPDATE staff SET code_hash = NULL, code_expires_at_ms = NULL, code_attempts = 0 \
                 WHERE staff_no = $1 AND code_hash = $2 AND code_expires_at_ms > $3 \
                 AND code_attempts < $4 RETURNING {COLUMNS}"
            ),
            &[
                staff_no.into(),
                credentials::code_hash(staff_no, code).into(),
                now_ms.into(),
                MAX_CODE_ATTEMPTS.into(),
            ],
        )?;
        if let Some(row) = taken.first() {
            return from_row(&row);
        }
    }
    db.execute(
        "UPDATE staff SET code_attempts = code_attempts + 1 \
         WHERE staff_no = $1 AND code_hash IS NOT NULL",
        &[staff_no.into()],
    )?;
    Err(Error::Unauthenticated)
}

/// Member of staff `staff` with their point.
pub fn me(db: &dyn Db, staff: Staff) -> Result<Me> {
    let rows = db.query(
        "SELECT code, name, kind FROM service_points WHERE code = $1",
        &[staff.home_point.as_str().into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound {
        what: "service point",
    })?;
    let point = HomePoint {
        code: row.text("code")?.to_string(),
        name: row.text("name")?.to_string(),
        kind: row.text("kind")?.to_string(),
    };
    Ok(Me { staff, point })
}
