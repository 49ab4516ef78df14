//! Domain types and rules of the emergency reserve network.
//!
//! Everything here is pure: no database, no network, no clock reads outside
//! [`time::Clock`]. The store loads rows, asks these functions what to do, and
//! writes the result; the API turns wire messages into these types and back.

pub mod allocation;
pub mod audit;
pub mod authz;
pub mod compensation;
pub mod depot;
pub mod enterprise;
pub mod error;
pub mod events;
pub mod incident;
pub mod item;
pub mod lease;
pub mod maintenance;
pub mod norm;
pub mod request;
pub mod requisition;
pub mod sourcing;
pub mod stock;
pub mod text;
pub mod tier;
pub mod time;
pub mod violation;

pub use error::{ErrorKind, Failure};
pub use violation::{FieldViolation, Violations};
