//! One module per command group.

pub mod audit;
pub mod depots;
pub mod items;
pub mod stock;
pub mod token;

use reserve_core::tier::Tier;

/// Tier names as shown in tables.
pub fn tier_label(raw: i32) -> String {
    Tier::from_number(i64::from(raw))
        .map(|t| format!("{} {}", t.name_zh(), t.name()))
        .unwrap_or_else(|| "-".into())
}

/// A fresh idempotency key for a change, unless the user gave one to retry.
pub fn request_id(given: &Option<String>) -> String {
    given
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Tier choices on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierArg {
    /// 省级 provincial sub-depot.
    Province,
    /// 市级 city base.
    City,
    /// 县级 county depot.
    County,
    /// 乡镇 township point.
    Township,
}

impl TierArg {
    /// The wire number.
    pub fn number(self) -> i32 {
        match self {
            TierArg::Province => 1,
            TierArg::City => 2,
            TierArg::County => 3,
            TierArg::Township => 4,
        }
    }
}
