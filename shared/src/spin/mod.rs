//! Adapters between the domain and Spin's host interfaces: the [`crate::db::Db`]
//! seam over `spin:postgres@4.0.0` and `fermyon:spin/sqlite@2.0.0`, Spin
//! variables, the key-value store, and the one HTTP wrapper every component
//! runs its handlers in. Only components compile this (feature `spin`).

pub mod config;
pub mod db;
pub mod http;
pub mod kv;
pub mod operator;
pub mod outbound;
pub mod providers;
pub mod rate;
pub mod session;
pub mod wechat_api;
