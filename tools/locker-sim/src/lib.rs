//! Simulated smart lockers that speak docs/locker-protocol.md to a running
//! wangjie app, for the end-to-end tests, the demo and the heartbeat
//! benchmark (`bench/lockers.sh`).
//!
//! - [`locker`]: one locker as a vendor would build it, without I/O: cells,
//!   a clock that drifts, events kept until answered, commands carried out
//!   once, and the misbehaviour of a real fleet ([`Chaos`]: resent batches,
//!   late events, faults; clock skew).
//! - [`client`]: signs and sends its requests and hands the answers back.
//! - [`fleet`]: many lockers at once, paced or back to back, with a report
//!   of heartbeats per second and latency quantiles.
#![warn(missing_docs)]

pub mod client;
pub mod fleet;
pub mod locker;

pub use client::{Link, Sent};
pub use fleet::{FleetConfig, Report};
pub use locker::{Chaos, SimLocker, Tally};
