//! WeChat's server APIs as we use them: the mini-program sign-in
//! (`jscode2session`) now; server messages and subscription messages with
//! the notifications.

pub mod crypto;
pub mod inbox;
pub mod login;
pub mod server;
