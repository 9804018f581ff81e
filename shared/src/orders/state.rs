//! The order state machine of the SPEC: the only way an order's state
//! changes is [`OrderState::next`], and a transition the current state
//! does not allow is refused with a clear 409.
//!
//! ```text
//! created ──Place{payment}──> awaiting_payment ──Pay──> picking
//! created ──Place{no payment}──────────────────────────> picking
//! picking ──Dispatch──> in_transit ──Arrive──> awaiting_pickup ──Collect──> picked_up
//! in_transit ──Deliver (at the door)──────────────────────────────────> picked_up
//! created | awaiting_payment | picking ──CancelByReader / CancelByStaff──> cancelled
//! awaiting_payment ──PaymentExpired──> cancelled
//! picking ──AllLinesUnfilled──> unfilled
//! awaiting_pickup ──PickupDeadlinePassed──> pickup_expired
//! ```

use crate::{Error, Result};
use serde::Serialize;

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Placed, before its first step.
    Created,
    /// A door delivery waiting for its fee.
    AwaitingPayment,
    /// Copies being fetched from the shelves.
    Picking,
    /// On the road to the pickup point or the door.
    InTransit,
    /// In a locker cell or on a hold shelf.
    AwaitingPickup,
    /// Collected, or handed over at the door: the loans have started. Closed.
    PickedUp,
    /// Cancelled by the reader or staff, or expired unpaid. Closed.
    Cancelled,
    /// No copy could be found for any line. Closed.
    Unfilled,
    /// Not collected in time. Closed.
    PickupExpired,
}

/// What can happen to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The order is placed; door delivery needs its fee paid first.
    Place {
        /// Whether a fee must be paid before picking.
        needs_payment: bool,
    },
    /// Alipay confirmed the fee.
    Pay,
    /// The fee was not paid in time.
    PaymentExpired,
    /// The reader cancels.
    CancelByReader,
    /// Staff cancel.
    CancelByStaff,
    /// Every line was left unfilled.
    AllLinesUnfilled,
    /// The parcel leaves for the pickup point or the door.
    Dispatch,
    /// The parcel is on the hold shelf, or in its locker cell.
    Arrive,
    /// The reader collects it.
    Collect,
    /// The courier hands a door delivery to the reader at the door: there
    /// is no hold shelf or cell in between, so the loans start at once.
    Deliver,
    /// The pickup deadline passed.
    PickupDeadlinePassed,
}

impl OrderState {
    /// Every state.
    pub const ALL: [OrderState; 9] = [
        OrderState::Created,
        OrderState::AwaitingPayment,
        OrderState::Picking,
        OrderState::InTransit,
        OrderState::AwaitingPickup,
        OrderState::PickedUp,
        OrderState::Cancelled,
        OrderState::Unfilled,
        OrderState::PickupExpired,
    ];

    /// The stored text (`orders.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Created => "created",
            OrderState::AwaitingPayment => "awaiting_payment",
            OrderState::Picking => "picking",
            OrderState::InTransit => "in_transit",
            OrderState::AwaitingPickup => "awaiting_pickup",
            OrderState::PickedUp => "picked_up",
            OrderState::Cancelled => "cancelled",
            OrderState::Unfilled => "unfilled",
            OrderState::PickupExpired => "pickup_expired",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown order state {text:?} stored")))
    }

    /// Whether nothing more can happen to the order.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            OrderState::PickedUp
                | OrderState::Cancelled
                | OrderState::Unfilled
                | OrderState::PickupExpired
        )
    }

    /// The state `transition` leads to, or a 409 naming both.
    pub fn next(self, transition: Transition) -> Result<OrderState> {
        use OrderState as S;
        use Transition as T;
        let to = match (self, transition) {
            (
                S::Created,
                T::Place {
                    needs_payment: true,
                },
            ) => S::AwaitingPayment,
            (
                S::Created,
                T::Place {
                    needs_payment: false,
                },
            ) => S::Picking,
            (S::AwaitingPayment, T::Pay) => S::Picking,
            (S::AwaitingPayment, T::PaymentExpired) => S::Cancelled,
            (
                S::Created | S::AwaitingPayment | S::Picking,
                T::CancelByReader | T::CancelByStaff,
            ) => S::Cancelled,
            (S::Picking, T::AllLinesUnfilled) => S::Unfilled,
            (S::Picking, T::Dispatch) => S::InTransit,
            (S::InTransit, T::Arrive) => S::AwaitingPickup,
            (S::AwaitingPickup, T::Collect) => S::PickedUp,
            (S::InTransit, T::Deliver) => S::PickedUp,
            (S::AwaitingPickup, T::PickupDeadlinePassed) => S::PickupExpired,
            (from, transition) => {
                return Err(Error::Conflict(format!(
                    "an order that is {} cannot {}",
                    from.as_str(),
                    transition.describe()
                )))
            }
        };
        Ok(to)
    }
}

impl Transition {
    /// The transition in words, for refusals.
    fn describe(self) -> &'static str {
        match self {
            Transition::Place { .. } => "be placed",
            Transition::Pay => "be paid",
            Transition::PaymentExpired => "expire unpaid",
            Transition::CancelByReader | Transition::CancelByStaff => "be cancelled",
            Transition::AllLinesUnfilled => "be left unfilled",
            Transition::Dispatch => "be dispatched",
            Transition::Arrive => "arrive",
            Transition::Collect => "be collected",
            Transition::Deliver => "be delivered",
            Transition::PickupDeadlinePassed => "expire uncollected",
        }
    }

    /// Every transition.
    pub const ALL: [Transition; 12] = [
        Transition::Place {
            needs_payment: true,
        },
        Transition::Place {
            needs_payment: false,
        },
        Transition::Pay,
        Transition::PaymentExpired,
        Transition::CancelByReader,
        Transition::CancelByStaff,
        Transition::AllLinesUnfilled,
        Transition::Dispatch,
        Transition::Arrive,
        Transition::Collect,
        Transition::Deliver,
        Transition::PickupDeadlinePassed,
    ];
}

/// Moves stored order `order_id` from `from` by `transition`: the only
/// statement that writes `orders.state`. The update is conditional on the
/// state read, so of two concurrent steps one wins and the other gets
/// `Ok(None)` (the caller says "changed meanwhile" or treats it as done).
pub fn store(
    db: &dyn crate::db::Db,
    order_id: i64,
    from: OrderState,
    transition: Transition,
    now_ms: i64,
) -> Result<Option<OrderState>> {
    let to = from.next(transition)?;
    // The first time an order is ready at its point or cell is kept for
    // the daily statistics (time from placing to ready).
    let ready_at = (to == OrderState::AwaitingPickup).then_some(now_ms);
    let changed = db.execute(
        "UPDATE orders SET state = $1, updated_at_ms = $2, ready_at_ms = COALESCE(ready_at_ms, $5) \
         WHERE id = $3 AND state = $4",
        &[
            to.as_str().into(),
            now_ms.into(),
            order_id.into(),
            from.as_str().into(),
            ready_at.into(),
        ],
    )?;
    Ok((changed == 1).then_some(to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderState as S;
    use Transition as T;

    /// The whole table: exactly these pairs are allowed.
    const ALLOWED: &[(OrderState, Transition, OrderState)] = &[
        (
            S::Created,
            T::Place {
                needs_payment: true,
            },
            S::AwaitingPayment,
        ),
        (
            S::Created,
            T::Place {
                needs_payment: false,
            },
            S::Picking,
        ),
        (S::Created, T::CancelByReader, S::Cancelled),
        (S::Created, T::CancelByStaff, S::Cancelled),
        (S::AwaitingPayment, T::Pay, S::Picking),
        (S::AwaitingPayment, T::PaymentExpired, S::Cancelled),
        (S::AwaitingPayment, T::CancelByReader, S::Cancelled),
        (S::AwaitingPayment, T::CancelByStaff, S::Cancelled),
        (S::Picking, T::CancelByReader, S::Cancelled),
        (S::Picking, T::CancelByStaff, S::Cancelled),
        (S::Picking, T::AllLinesUnfilled, S::Unfilled),
        (S::Picking, T::Dispatch, S::InTransit),
        (S::InTransit, T::Arrive, S::AwaitingPickup),
        (S::AwaitingPickup, T::Collect, S::PickedUp),
        (S::InTransit, T::Deliver, S::PickedUp),
        (S::AwaitingPickup, T::PickupDeadlinePassed, S::PickupExpired),
    ];

    #[test]
    fn every_pair_of_state_and_transition_is_allowed_exactly_as_the_table_says() {
        for from in OrderState::ALL {
            for transition in Transition::ALL {
                let expected = ALLOWED
                    .iter()
                    .find(|(f, t, _)| *f == from && *t == transition)
                    .map(|(_, _, to)| *to);
                match (from.next(transition), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {transition:?}"),
                    (Err(Error::Conflict(reason)), None) => {
                        assert!(reason.contains(from.as_str()), "{reason}")
                    }
                    (got, want) => panic!("{from:?} {transition:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn closed_states_accept_nothing() {
        for from in OrderState::ALL.into_iter().filter(|s| s.is_closed()) {
            assert!(
                Transition::ALL.into_iter().all(|t| from.next(t).is_err()),
                "{from:?}"
            );
        }
    }

    #[test]
    fn states_read_back_what_they_write() {
        for state in OrderState::ALL {
            assert_eq!(OrderState::parse(state.as_str()).unwrap(), state);
        }
        assert!(OrderState::parse("lost").is_err());
    }
}
