//! Stock: lots, balances, the ledger, and the rules of every movement and
//! document.
//!
//! Each operation has its own module with its request, field rules and a pure
//! planner; each document (adjustment, scrap application, count) has one
//! transition function. The store loads the rows an operation touches, the
//! planner returns the entries to post (with their asset moves) and the
//! document's next state, and the store writes exactly that in one
//! transaction.

pub mod adjustment;
pub mod balance;
pub mod count;
pub mod document;
pub mod entry;
pub mod error;
pub mod fields;
pub mod hold;
pub mod issue;
pub mod lot;
pub mod minimum;
pub mod pick;
pub mod receipt;
pub mod report;
pub mod reversal;
pub mod scrap;
#[cfg(test)]
pub(crate) mod testing;

pub use balance::{Balance, Delta};
pub use document::{Acting, ApprovalStatus, Decision, DocKind, DocPlan, DocRef};
pub use entry::{AssetStatus, EntryDraft, EntryType, LedgerEntry};
pub use error::StockError;
pub use lot::{Day, FundingSource, Lot, LotId, LotNumber, SerialNumber};
