//! The reserve network server: configuration, assembly of the gRPC services,
//! the demo network, and the commands beside serving (seed, check).

pub mod app;
pub mod config;
pub mod seed;

pub use app::{App, serve};
