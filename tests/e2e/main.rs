//! End-to-end tests of the reserve network service: one binary, a real
//! server per test on 127.0.0.1:0 over its own database. Runs on SQLite by
//! default and on PostgreSQL when `RESERVE_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod absurd;
pub mod allocation;
mod authz;
mod authz_reserves;
mod authz_stock;
mod catalog;
mod cli;
mod console;
mod defects;
mod events;
mod group_commit;
mod import;
mod lease;
mod maintenance;
mod metrics;
mod model;
mod network;
mod overload;
mod race;
mod requisition;
mod retries;
mod retries_reserves;
mod seed;
mod server;
mod sourcing;
mod stock;
mod tree_races;
mod validation;
