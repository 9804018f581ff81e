//! A retried placement: the same `Idempotency-Key` with the same request
//! answers the order placed the first time; with another request it is a
//! conflict, since answering the first order would tell the client that
//! what it asked for now was placed.

use super::place::{Fulfilment, Placement};
use super::view::OrderView;
use crate::{Error, Result};

impl Placement {
    /// Whether `order` is what this request asks for: the same titles in
    /// the same order, and the same pickup point or address.
    pub fn asks_for(&self, order: &OrderView) -> bool {
        let fulfilment = match &self.fulfilment {
            Fulfilment::Pickup { point_code } => {
                order.fulfilment == "pickup" && order.pickup_point.as_ref() == Some(point_code)
            }
            Fulfilment::Door { address } => {
                order.fulfilment == "door" && order.delivery_address.as_ref() == Some(address)
            }
        };
        fulfilment
            && order
                .lines
                .iter()
                .map(|l| l.record_id)
                .eq(self.record_ids.iter().copied())
    }
}

/// The answer to a retry of `placement` that found `order` under its key.
pub fn replay(placement: &Placement, order: OrderView) -> Result<OrderView> {
    if placement.asks_for(&order) {
        Ok(order)
    } else {
        Err(Error::Conflict(format!(
            "this Idempotency-Key placed order {} with other titles or another destination; \
             send a new key for a new order",
            order.id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::view::LineView;

    fn placed(
        fulfilment: &str,
        point: Option<&str>,
        address: Option<&str>,
        records: &[i64],
    ) -> OrderView {
        OrderView {
            id: 7,
            reader_id: 1,
            state: "picking".into(),
            fulfilment: fulfilment.into(),
            pickup_point: point.map(str::to_string),
            delivery_address: address.map(str::to_string),
            fee_fen: 0,
            payment_ref: None,
            payment_due_at_ms: None,
            consolidate: false,
            parcel_point: None,
            locker_cell: None,
            pickup_deadline_at_ms: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            lines: records
                .iter()
                .enumerate()
                .map(|(n, &record_id)| LineView {
                    id: n as i64 + 1,
                    record_id,
                    title: String::new(),
                    // A line's state changes after placing; what was asked for does not.
                    state: "unfilled".into(),
                    copy_barcode: None,
                    pick_point: None,
                    note: None,
                })
                .collect(),
        }
    }

    fn pickup(records: &[i64], point: &str) -> Placement {
        Placement {
            record_ids: records.to_vec(),
            fulfilment: Fulfilment::Pickup {
                point_code: point.into(),
            },
            idempotency_key: "k".into(),
            channel: "web",
        }
    }

    #[test]
    fn the_same_request_replays_the_first_order() {
        let order = placed("pickup", Some("B001"), None, &[3, 4]);
        assert_eq!(
            replay(&pickup(&[3, 4], "B001"), order.clone()).unwrap(),
            order
        );
        let door = Placement {
            fulfilment: Fulfilment::Door {
                address: "文三路 1 号".into(),
            },
            ..pickup(&[3], "-")
        };
        assert!(door.asks_for(&placed("door", None, Some("文三路 1 号"), &[3])));
    }

    #[test]
    fn another_request_under_the_same_key_is_a_conflict() {
        let order = placed("pickup", Some("B001"), None, &[3, 4]);
        for other in [
            pickup(&[3], "B001"),
            pickup(&[3, 4, 5], "B001"),
            pickup(&[4, 3], "B001"),
            pickup(&[3, 4], "B002"),
        ] {
            match replay(&other, order.clone()) {
                Err(Error::Conflict(reason)) => assert!(reason.contains("order 7"), "{reason}"),
                got => panic!("{:?}: {got:?}", other.record_ids),
            }
        }
        let door = Placement {
            fulfilment: Fulfilment::Door {
                address: "B001".into(),
            },
            ..pickup(&[3, 4], "-")
        };
        assert!(!door.asks_for(&order));
    }
}
