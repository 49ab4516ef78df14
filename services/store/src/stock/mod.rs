//! Stock: lots, balances, the ledger, and the documents that post to it.

pub mod counts;
pub mod documents;
pub mod integrity;
pub mod movements;
pub mod queries;
pub(crate) mod rows;

pub use counts::CountPosted;
pub use documents::{AdjustmentPosted, Decider, ScrapPosted};
pub use integrity::{IntegrityIssue, IntegrityReport};
pub use movements::Posted;
pub use queries::{AssetView, LedgerFilter, RollUpOf, RotationRow, ShortfallRow, TierTotals};
pub use rows::LineView;
