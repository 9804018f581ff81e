//! Fake providers for end-to-end tests and local runs: Alipay's
//! open-platform gateway, WeChat's mini-program sign-in and the city's
//! Osmanthus credit service. Each is a real HTTP server on loopback that
//! speaks the documented request and response shapes and signatures
//! (keys generated at start, [`keys::test_keys`]), verifies what we send,
//! counts the calls, and can be told to misbehave ([`Mode`]).
//!
//! The protocol code is the app's own (`wangjie_shared::alipay`,
//! `::osmanthus`) used from the other side, so a fake and the app cannot
//! disagree about a canonical string; the tests of that code check it
//! against the providers' documentation.

pub mod alipay;
pub mod alipay_rent;
pub mod authorize;
pub mod keys;
pub mod osmanthus;
mod server;
pub mod sms;
pub mod wechat;

pub use alipay::{forge_notification, FakeAlipay};
pub use osmanthus::FakeOsmanthus;
pub use sms::FakeSms;
pub use wechat::FakeWechat;

use std::time::Duration;

/// How a fake answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// As documented.
    Normal,
    /// This status with an HTML error page, as a proxy in front would.
    Status(u16),
    /// Waits this long, then answers normally.
    Slow(Duration),
    /// 200 with a body that is not the documented JSON.
    Garbage,
    /// The documented answer, signed with the wrong key (Alipay,
    /// Osmanthus; WeChat's answers are unsigned and ignore this).
    BadSignature,
}
