//! One module per command group.

pub mod agreements;
pub mod audit;
pub mod choices;
pub mod claims;
pub mod depots;
pub mod export;
pub mod import;
pub mod incidents;
pub mod items;
pub mod leases;
pub mod maintenance;
pub mod norms;
pub mod orders;
pub mod propose;
pub mod readiness;
pub mod requisitions;
pub mod stock;
pub mod token;
pub mod watch;

/// A fresh idempotency key for a change, unless the user gave one to retry.
pub fn request_id(given: &Option<String>) -> String {
    given
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
