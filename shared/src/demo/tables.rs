//! The tables the demo fills, the columns it writes in each, and how a
//! demo value becomes a row of parameters. Kept apart from the loader so
//! the column lists can be read against the migration side by side.

use super::{DemoReader, DemoRecord};
use crate::db::Value;
use crate::point::ServicePoint;
use crate::Result;

/// A table the demo fills: its name and the columns it writes, in order.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

pub const POINTS: Table = Table {
    name: "service_points",
    columns: &[
        "code",
        "name",
        "kind",
        "address",
        "district",
        "lat",
        "lon",
        "opening",
        "locker_generation",
        "locker_cell_count",
        "locker_status",
        "last_heartbeat_at_ms",
        "created_at_ms",
        "updated_at_ms",
    ],
};
pub const CELLS: Table = Table {
    name: "locker_cells",
    columns: &["point_code", "cell_no", "state", "updated_at_ms"],
};
pub const STAFF: Table = Table {
    name: "staff",
    columns: &[
        "staff_no",
        "name",
        "home_point",
        "role",
        "password_hash",
        "created_at_ms",
    ],
};
pub const RECORDS: Table = Table {
    name: "records",
    columns: &[
        "title",
        "responsibility",
        "publisher",
        "year",
        "isbn13",
        "language",
        "subjects",
        "call_number",
        "set_key",
        "volume",
        "created_at_ms",
    ],
};
pub const COPIES: Table = Table {
    name: "copies",
    columns: &[
        "barcode",
        "record_id",
        "home_point",
        "current_point",
        "call_number",
        "status",
        "in_online_stack",
        "updated_at_ms",
    ],
};
pub const READERS: Table = Table {
    name: "readers",
    columns: &[
        "alipay_user_id",
        "wechat_openid",
        "wechat_unionid",
        "card_number",
        "display_name",
        "credit_source",
        "credit_score",
        "credit_decided_at_ms",
        "credit_valid_until_ms",
        "status",
        "loan_quota",
        "created_at_ms",
        "updated_at_ms",
    ],
};
pub const LOANS: Table = Table {
    name: "loans",
    columns: &[
        "copy_barcode",
        "reader_id",
        "started_at_ms",
        "due_at_ms",
        "renewals",
    ],
};
pub const EVENTS: Table = Table {
    name: "events",
    columns: &[
        "at_ms",
        "actor",
        "subject_kind",
        "subject_id",
        "event",
        "detail",
    ],
};

/// A service point as a `service_points` row.
pub fn point_row(p: &ServicePoint, now_ms: i64) -> Result<Vec<Value>> {
    let locker = p.locker.as_ref();
    let opening = serde_json::to_string(&p.opening).map_err(anyhow::Error::from)?;
    Ok(vec![
        p.code.as_str().into(),
        p.name.as_str().into(),
        p.kind.as_str().into(),
        p.address.as_str().into(),
        p.district.as_str().into(),
        p.coordinates.lat.into(),
        p.coordinates.lon.into(),
        opening.into(),
        locker.map(|l| i64::from(l.generation)).into(),
        locker.map(|l| i64::from(l.cells)).into(),
        locker.map(|l| l.status.as_str()).into(),
        locker.and_then(|l| l.last_heartbeat_at_ms).into(),
        now_ms.into(),
        now_ms.into(),
    ])
}

/// A record as a `records` row.
pub fn record_row(r: &DemoRecord, now_ms: i64) -> Result<Vec<Value>> {
    let subjects = serde_json::to_string(&r.subjects).map_err(anyhow::Error::from)?;
    Ok(vec![
        r.title.as_str().into(),
        r.responsibility.as_str().into(),
        r.publisher.into(),
        r.year.into(),
        r.isbn13.as_str().into(),
        "chi".into(),
        subjects.into(),
        r.call_number.as_str().into(),
        r.set.as_ref().map(|(key, _)| key.as_str()).into(),
        r.set.as_ref().map(|(_, volume)| *volume).into(),
        now_ms.into(),
    ])
}

/// A reader as a `readers` row.
pub fn reader_row(r: &DemoReader) -> Result<Vec<Value>> {
    Ok(vec![
        r.alipay_user_id.as_deref().into(),
        r.wechat_openid.as_deref().into(),
        r.wechat_unionid.as_deref().into(),
        r.card_number.as_deref().into(),
        r.display_name.as_str().into(),
        r.credit_source.into(),
        r.credit_score.into(),
        r.credit_decided_at_ms.into(),
        r.credit_valid_until_ms.into(),
        r.status.into(),
        r.loan_quota.into(),
        r.created_at_ms.into(),
        r.created_at_ms.into(),
    ])
}

/// `INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ...` for `rows` rows.
pub fn insert_sql(table: &Table, rows: usize, returning: Option<&str>) -> String {
    let width = table.columns.len();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        table.name,
        table.columns.join(", ")
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * width + column + 1).to_string());
        }
        sql.push(')');
    }
    if let Some(returning) = returning {
        sql.push_str(" RETURNING ");
        sql.push_str(returning);
    }
    sql
}
