//! wangjie's domain crate: the library's nouns (service points, records,
//! copies, readers, orders, loans, notices), the rules that govern them, the
//! SQL that stores them and the one error type every component maps to HTTP.
//!
//! Everything here is plain Rust and unit-tested natively. The `spin`
//! feature adds the thin adapters that run this code over Spin's host
//! interfaces; components turn it on, tests of the rules do not need it.
#![warn(missing_docs)]

pub mod alipay;
pub mod auth;
pub mod card;
pub mod catalogue;
pub mod compensation;
pub mod credit;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod geo;
pub mod health;
pub mod holds;
pub mod jobs;
pub mod kv;
pub mod loans;
pub mod locker;
pub mod notices;
pub mod orders;
pub mod osmanthus;
pub mod point;
pub mod problem;
pub mod random;
pub mod rate;
pub mod readers;
pub mod reply;
pub mod request;
pub mod revocations;
pub mod search;
pub mod sesame_orders;
pub mod session;
pub mod site;
pub mod staff;
pub mod suggestions;
pub mod wechat;

#[cfg(feature = "spin")]
pub mod spin;

pub use error::{Error, Result};

/// Now, in milliseconds since the Unix epoch: the unit every `*_at_ms`
/// column stores.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
