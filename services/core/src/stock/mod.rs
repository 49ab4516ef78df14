//! Stock: lots, balances, the ledger, and the rules of every movement.
//!
//! The store loads the rows a movement touches, these functions decide what
//! the movement does, and the store writes exactly that in one transaction.

pub mod approval;
pub mod balance;
pub mod count;
pub mod entry;
pub mod error;
pub mod lot;
pub mod movement;
pub mod report;

pub use balance::{Balance, Delta};
pub use entry::{AssetStatus, EntryType, LedgerEntry};
pub use error::StockError;
pub use lot::{Day, FundingSource, Lot, LotId, LotNumber, SerialNumber};
