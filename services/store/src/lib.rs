//! Persistence of the reserve network on SQLite or PostgreSQL.
//!
//! One [`Store`] serves both engines through sqlx's `Any` driver: every query
//! is one SQL text with `$N` placeholders, the schemas differ only in their
//! migrations (`migrations/sqlite`, `migrations/postgres`). Each write runs
//! in one transaction together with its audit event, which also records the
//! request id and the answer given (see [`write`]); rules come from
//! `reserve-core` and are decided inside the transaction on the rows it has
//! just read.

pub mod allocation;
pub mod audit;
pub mod backup;
pub mod calltrace;
pub mod catalog;
pub mod compensation;
pub mod db;
pub mod enterprise;
pub mod error;
pub mod events;
pub mod incident;
pub mod lease;
pub mod maintenance;
pub mod network;
pub mod page;
pub mod requisition;
pub mod sealed;
pub mod sourcing;
mod sql;
pub mod stock;
pub mod vitals;
pub mod write;

pub use db::{Backend, Store, StoreOptions};
pub use error::{OpError, StoreError};
pub use page::Page;
pub use write::{WriteMeta, Written};
