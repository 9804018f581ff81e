//! What waits for the staff of one point at each step of the line after
//! picking: parcels to pack and dispatch, parcels arriving, orders on the
//! hold shelf to hand over, and door deliveries out with the courier. The
//! console's screens read these lists; the steps themselves are in
//! [`super::delivery`].

use super::view::{self, OrderView};
use crate::db::Db;
use crate::staff::Staff;
use crate::{Error, Result};
use serde::Serialize;

/// A list a point works through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Every open line picked, at the parcel point: pack, then dispatch.
    Parcel,
    /// In transit to this staffed pickup point: shelve on arrival.
    Arrive,
    /// On this point's hold shelf: hand over at the counter.
    HandOver,
    /// Door deliveries this point dispatched: record the delivery.
    Deliver,
}

impl Stage {
    /// `parcel`, `arrive`, `hand_over` or `deliver`.
    pub fn parse(text: &str) -> Result<Stage> {
        match text {
            "parcel" => Ok(Stage::Parcel),
            "arrive" => Ok(Stage::Arrive),
            "hand_over" => Ok(Stage::HandOver),
            "deliver" => Ok(Stage::Deliver),
            _ => Err(Error::invalid(
                "stage",
                "one of parcel, arrive, hand_over, deliver",
            )),
        }
    }

    /// The rows of this stage at point `$1`, oldest first.
    fn condition(self) -> &'static str {
        match self {
            Stage::Parcel => {
                "state = 'picking' AND parcel_point = $1 \
                 AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id \
                 AND l.state = 'promised') \
                 AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = orders.id \
                 AND l.state = 'picked')"
            }
            Stage::Arrive => "state = 'in_transit' AND fulfilment = 'pickup' AND pickup_point = $1",
            Stage::HandOver => "state = 'awaiting_pickup' AND pickup_point = $1",
            Stage::Deliver => "state = 'in_transit' AND fulfilment = 'door' AND parcel_point = $1",
        }
    }
}

/// An order on a work list, with whether its parcel is packed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    /// The order.
    #[serde(flatten)]
    pub order: OrderView,
    /// Whether `parcel_packed` was logged for it.
    pub packed: bool,
}

/// The most a list shows; older work first, so nothing waits unseen.
const LIMIT: i64 = 200;

/// The orders at `stage` for `staff`'s own point, optionally only those of
/// one reader (the hand-over counter after scanning a virtual card).
pub fn list(
    db: &dyn Db,
    staff: &Staff,
    stage: Stage,
    reader_id: Option<i64>,
) -> Result<Vec<WorkItem>> {
    let mut sql = format!("SELECT id FROM orders WHERE {}", stage.condition());
    let mut params = vec![staff.home_point.as_str().into()];
    if let Some(reader) = reader_id {
        sql.push_str(" AND reader_id = $2");
        params.push(reader.into());
    }
    sql.push_str(&format!(" ORDER BY updated_at_ms, id LIMIT {LIMIT}"));
    let rows = db.query(&sql, &params)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.i64("id")).collect::<Result<_>>()?;
    ids.into_iter()
        .map(|id| {
            let order = view::get(db, id)?;
            let packed = super::delivery::was_packed(db, id)?;
            Ok(WorkItem { order, packed })
        })
        .collect()
}

/// Order `id` for staff of a point it passes through (where it is packed
/// or collected): what a parcel label prints. Others get 404, as readers
/// do for orders not theirs.
pub fn for_staff(db: &dyn Db, staff: &Staff, id: i64) -> Result<OrderView> {
    let order = view::get(db, id)?;
    let mine = |point: &Option<String>| point.as_deref() == Some(staff.home_point.as_str());
    if mine(&order.parcel_point) || mine(&order.pickup_point) {
        Ok(order)
    } else {
        Err(Error::NotFound { what: "order" })
    }
}

/// The reader holding virtual card `number`: 404 when no reader has it.
pub fn card_holder(db: &dyn Db, number: &str) -> Result<i64> {
    let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    if number.len() != 16 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("card", "a 16-digit virtual card number"));
    }
    let rows = db.query(
        "SELECT id FROM readers WHERE card_number = $1",
        &[number.as_str().into()],
    )?;
    rows.first()
        .map(|r| r.i64("id"))
        .transpose()?
        .ok_or(Error::NotFound { what: "card" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_and_refuse_others() {
        assert_eq!(Stage::parse("hand_over").unwrap(), Stage::HandOver);
        assert!(matches!(Stage::parse("pick"), Err(Error::Invalid { .. })));
    }
}
