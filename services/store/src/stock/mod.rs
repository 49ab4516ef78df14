//! Stock: lots, balances, the ledger, and the documents that post to it.
//!
//! One module per operation, named as in core. Every write op is load /
//! plan (core) / post ([`post`]) / audit; no entry type, quantity or status is
//! chosen here.

pub mod adjustment;
pub mod count;
pub mod hold;
pub mod integrity;
pub mod issue;
pub mod ledger;
pub mod lookup;
pub(crate) mod post;
pub mod receipt;
pub mod report;
pub mod reversal;
pub(crate) mod rows;
pub mod scrap;
pub(crate) mod summary;

pub use adjustment::AdjustmentPosted;
pub use count::CountPosted;
pub use integrity::{IntegrityFigure, IntegrityIssue, IntegrityReport};
pub use ledger::LedgerFilter;
pub use lookup::AssetView;
pub use post::Posted;
pub use report::{RollUpOf, RotationRow, ShortfallRow, TierTotals};
pub use rows::LineView;
pub use scrap::ScrapPosted;

use crate::error::OpError;
use reserve_core::stock::StockError;

/// Refuses with a stock rule.
pub(crate) fn rule<T>(e: impl Into<StockError>) -> Result<T, OpError<StockError>> {
    Err(OpError::Rule(e.into()))
}
