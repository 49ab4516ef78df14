//! The reserve network server: configuration, assembly of the gRPC services,
//! the demo network, and the commands beside serving (seed, check, backup, restore).

pub mod app;
pub mod backup;
pub mod calllog;
pub mod config;
pub mod console;
pub mod lock;
pub mod metrics;
pub mod overload;
pub mod seed;

pub use app::{App, serve, serve_with};
