//! A *locker* is a cabinet of up to 240 numbered *cells* at a service
//! point, behind NAT on 4G or Wi-Fi: nobody can call into it, so it calls
//! us. This module is the locker protocol as plain Rust (the full contract
//! for vendors is `docs/locker-protocol.md`):
//!
//! - [`signing`]: every request is signed with the locker's own secret
//!   (HMAC-SHA256 over method, path, timestamp, nonce and body hash);
//! - [`messages`]: the heartbeat (cells, health, acks) and its reply (the
//!   commands still pending);
//! - [`events`]: deposits, pickups, returns, on-the-spot borrows and
//!   faults, idempotent by `event_id`.
//!
//! - [`query`]: what a reader identified at the locker has there;
//! - [`store`]: secrets, the nonce guard, heartbeats, commands, offline
//!   detection in SQL; [`events_store`]: applying events.

pub mod beat_cache;
pub mod events;
pub mod events_store;
pub mod fleet;
pub mod messages;
pub mod query;
pub mod signing;
pub mod store;

pub use events::{EventBatch, EventKind, EventOutcome, EventResult, EventsReply, LockerEvent};
pub use messages::{
    AckOutcome, CellReport, CellState, Command, CommandAck, CommandKind, Health, Heartbeat,
    HeartbeatReply, Network, Power,
};
pub use signing::{LockerHeaders, LockerSecret, VerifiedRequest};

/// Where a locker sends its heartbeat; `{id}` is its `X-Locker-Id`.
pub const PATH_HEARTBEAT: &str = "/api/lockers/{id}/heartbeat";
/// Where a locker sends its events; `{id}` is its `X-Locker-Id`.
pub const PATH_EVENTS: &str = "/api/lockers/{id}/events";

/// Where a locker asks what a reader has there; `{id}` is its `X-Locker-Id`.
pub const PATH_QUERY: &str = "/api/lockers/{id}/query";

/// A path template above with the locker's id in it.
pub fn path_for(template: &str, locker_id: &str) -> String {
    template.replace("{id}", locker_id)
}

/// Refuses a locker id from a path that is not 1 to 64 of
/// `[A-Za-z0-9_-]` (`LockerId` in docs/openapi.yaml): 400 naming `id`.
/// Signed routes check the id through `X-Locker-Id`, which the path must
/// equal; routes a reader calls check it here.
pub fn check_path_id(id: &str) -> crate::Result<()> {
    messages::check_id("id", id)
}

/// How far a request's timestamp may lie from the server's clock, either
/// way: five minutes, wide enough for a slow 4G link, narrow enough that
/// nonces need not be kept long.
pub const DEFAULT_WINDOW_MS: i64 = 300_000;
