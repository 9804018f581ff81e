//! Writes a demo history ([`super::history`]) through the [`Db`] seam:
//! orders, their lines and loans in batches, then the copies that orders
//! in flight and open loans hold, and the marker event.

use super::history::{HistoryReport, PastLoan, PastOrder, Pools, HOLD_MS, LOAN_PERIOD_MS};
use super::load::Writer;
use super::tables::Table;
use crate::db::{Db, Value};
use crate::{Error, Result};
use std::collections::HashMap;

const ORDERS: Table = Table {
    name: "orders",
    columns: &[
        "reader_id",
        "fulfilment",
        "pickup_point",
        "delivery_address",
        "fee_fen",
        "state",
        "idempotency_key",
        "channel",
        "paid_at_ms",
        "ready_at_ms",
        "pickup_deadline_at_ms",
        "parcel_point",
        "created_at_ms",
        "updated_at_ms",
    ],
};
const LINES: Table = Table {
    name: "order_lines",
    columns: &[
        "order_id",
        "record_id",
        "copy_barcode",
        "state",
        "pick_point",
        "picked_at_ms",
        "updated_at_ms",
    ],
};
const LOANS: Table = Table {
    name: "loans",
    columns: &[
        "copy_barcode",
        "reader_id",
        "order_line_id",
        "started_at_ms",
        "due_at_ms",
        "returned_at_ms",
        "return_point",
    ],
};

pub(super) fn write(
    db: &dyn Db,
    pools: &Pools,
    orders: &[PastOrder],
    loans: &[PastLoan],
    now_ms: i64,
) -> Result<HistoryReport> {
    let mut writer = Writer { db, statements: 0 };
    let order_rows = orders.iter().map(|o| {
        let door = o.point.is_none();
        let state = match (o.in_flight, o.ready_at_ms) {
            (None, _) => "picked_up",
            (Some(_), Some(_)) => "awaiting_pickup",
            (Some(_), None) => "in_transit",
        };
        let parcel_point = o.in_flight.map(|copy| pools.copies[copy].2.as_str());
        let deadline = o.in_flight.and(o.ready_at_ms).map(|ready| ready + HOLD_MS);
        Ok(vec![
            o.reader.into(),
            (if door { "door" } else { "pickup" }).into(),
            o.point.clone().into(),
            door.then_some("杭州市上城区 演示路 1 号").into(),
            (if door { 500 } else { 0 }).into(),
            state.into(),
            o.key.as_str().into(),
            o.channel.into(),
            door.then_some(o.created_at_ms).into(),
            o.ready_at_ms.into(),
            deadline.into(),
            parcel_point.into(),
            o.created_at_ms.into(),
            o.created_at_ms.into(),
        ])
    });
    let order_ids: HashMap<String, i64> = writer
        .insert_returning(&ORDERS, "id, idempotency_key", order_rows)?
        .into_iter()
        .map(|(id, key)| (key, id))
        .collect();
    let loan_of: HashMap<usize, &PastLoan> = loans
        .iter()
        .filter_map(|l| l.order.map(|i| (i, l)))
        .collect();
    let line_rows = orders.iter().enumerate().filter_map(|(i, order)| {
        let (copy, state, at) = match (order.in_flight, loan_of.get(&i)) {
            (Some(copy), _) => (copy, "picked", order.created_at_ms),
            (None, Some(loan)) => (loan.copy, "collected", loan.started_at_ms),
            (None, None) => return None,
        };
        let (barcode, record, home) = &pools.copies[copy];
        Some(id_of(&order_ids, &order.key).map(|order_id| {
            vec![
                order_id.into(),
                (*record).into(),
                barcode.as_str().into(),
                state.into(),
                home.as_str().into(),
                order.created_at_ms.into(),
                at.into(),
            ]
        }))
    });
    let line_ids: HashMap<String, i64> = writer
        .insert_returning(&LINES, "id, CAST(order_id AS TEXT) AS order_key", line_rows)?
        .into_iter()
        .map(|(id, order)| (order, id))
        .collect();
    let loan_rows = loans.iter().map(|l| {
        let (barcode, _, home) = &pools.copies[l.copy];
        let line = match l.order {
            Some(i) => {
                let order_id = id_of(&order_ids, &orders[i].key)?;
                Some(id_of(&line_ids, &order_id.to_string())?)
            }
            None => None,
        };
        Ok(vec![
            barcode.as_str().into(),
            l.reader.into(),
            line.into(),
            l.started_at_ms.into(),
            (l.started_at_ms + LOAN_PERIOD_MS).into(),
            l.returned_at_ms.into(),
            l.returned_at_ms.map(|_| home.as_str()).into(),
        ])
    });
    let written = writer.insert(&LOANS, loan_rows)?;
    let open = db.execute(
        "UPDATE copies SET status = 'on_loan', current_point = NULL, updated_at_ms = $1 \
         WHERE status = 'on_shelf' AND barcode IN \
           (SELECT copy_barcode FROM loans WHERE returned_at_ms IS NULL)",
        &[now_ms.into()],
    )?;
    // Orders in flight: held on the pickup point's shelf, or on their way.
    db.execute(
        "UPDATE copies SET status = 'on_hold', updated_at_ms = $1, current_point = \
           (SELECT o.pickup_point FROM order_lines l JOIN orders o ON o.id = l.order_id \
            WHERE l.copy_barcode = copies.barcode AND l.state = 'picked' \
              AND o.state = 'awaiting_pickup') \
         WHERE barcode IN (SELECT l.copy_barcode FROM order_lines l JOIN orders o ON o.id = l.order_id \
           WHERE l.state = 'picked' AND o.state = 'awaiting_pickup' \
             AND o.idempotency_key LIKE 'demo-history-%')",
        &[now_ms.into()],
    )?;
    db.execute(
        "UPDATE copies SET status = 'in_transit', current_point = NULL, updated_at_ms = $1 \
         WHERE barcode IN (SELECT l.copy_barcode FROM order_lines l JOIN orders o ON o.id = l.order_id \
           WHERE l.state = 'picked' AND o.state = 'in_transit' \
             AND o.idempotency_key LIKE 'demo-history-%')",
        &[now_ms.into()],
    )?;
    // Demo readers come with a credit decision but no standing; give them
    // the one the default policy (Sesame 600, Osmanthus 100) makes of it, so
    // that readers by standing count.
    db.execute(
        "UPDATE readers SET standing = CASE \
           WHEN credit_source = 'sesame' AND credit_score >= 600 THEN 'sesame_deposit_free' \
           WHEN credit_source = 'osmanthus' AND credit_score >= 100 THEN 'osmanthus_virtual_card' \
           ELSE 'deposit' END, updated_at_ms = $1 \
         WHERE standing IS NULL AND credit_source IN ('sesame', 'osmanthus') \
           AND credit_score IS NOT NULL",
        &[now_ms.into()],
    )?;
    let detail = serde_json::json!({ "orders": orders.len(), "loans": written }).to_string();
    db.execute(
        "INSERT INTO events (at_ms, actor, subject_kind, subject_id, event, detail) \
         VALUES ($1, 'system:demo', 'demo', 'history', 'demo_history_loaded', $2)",
        &[now_ms.into(), Value::from(detail)],
    )?;
    Ok(HistoryReport {
        already_loaded: false,
        orders: order_ids.len() as u64,
        loans: written,
        open_loans: open,
        days_rolled_up: 0,
    })
}

fn id_of(ids: &HashMap<String, i64>, key: &str) -> Result<i64> {
    ids.get(key)
        .copied()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("demo history row {key} was not inserted")))
}
