//! *Orders*: a reader's online request for one or more titles (a
//! multi-volume set is one order), to collect at a service point or to
//! have brought to the door, and the work from shelf to pickup.
//!
//! - An *order line* is one title; it is *promised* a physical copy at
//!   placing ([`place`]), *picked* off the shelf, and *collected* when the
//!   loan starts, or left *unfilled* or *cancelled*.
//! - The order's *state* moves only through [`state::OrderState::next`];
//!   every move is written to the event log with its actor ([`log`]).
//! - *Fulfilment* is the staff's side: pick lists per branch, scan-to-pick,
//!   "not on shelf" ([`fulfil`]); packing at the delivery centre, dispatch,
//!   arrival, hand-over, and delivery at the door ([`delivery`]).
//! - A door delivery's *fee* is an Alipay trade ([`payment`]).
//! - A retried placement replays the first answer only for the same
//!   request ([`idempotency`]).
//! - Placing is one statement on PostgreSQL and a few on SQLite, with the
//!   same checks and refusals ([`place`], [`refusal`]).

pub mod cancel;
pub mod delivery;
pub mod fulfil;
pub mod idempotency;
pub mod log;
mod one_trip;
pub mod payment;
pub mod place;
pub mod refusal;
pub mod state;
mod steps;
pub mod view;
pub mod worklist;

pub use place::{Fulfilment, OrderSettings, Placement};
pub use state::{OrderState, Transition};
pub use view::OrderView;
