//! wangjie's end-to-end tests: the local host runs the app from the real
//! `spin.toml`, and each test talks HTTP to the real wasm components, most
//! of them once on SQLite and once on PostgreSQL.

mod admin;
mod authz_matrix;
mod console;
mod credit;
mod deposit;
mod door;
mod edges;
mod holds;
mod hostile;
mod import;
mod jobs;
mod limits;
mod loans;
mod locker_sim;
mod locker_steady;
mod lockers;
mod lockers_offline;
mod lost;
mod notices;
mod orders;
mod orders_one_trip;
mod points;
mod reader_app;
mod readers;
mod retries;
mod search;
mod sesame;
mod staff;
mod suggestions;
mod wechat;
mod wechat_web;
mod worklist;
