//! Maintenance (养护与维修): upkeep plans, records of upkeep, inspection,
//! quality tests and repairs, when each unit is next due, and repairs that
//! hold their asset until they end.
//!
//! - [`calendar`]: intervals in days or calendar months and their arithmetic.
//! - [`plan`]: upkeep plans and which one applies to a unit ([`plan::Schedule`]).
//! - [`record`]: records and the next due date each sets.
//! - [`due`]: due and overdue, for lists, roll-ups and the issue guard.
//! - [`repair`]: the repair document and its one transition function.

pub mod calendar;
pub mod due;
pub mod plan;
pub mod record;
pub mod repair;

use serde::{Deserialize, Serialize};

/// Largest cost of one record or repair, in fen (100 million yuan).
pub const MAX_COST_FEN: i64 = 10_000_000_000;

/// What kind of work a record (or a plan) is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UpkeepKind {
    /// Airing (晾晒): quilts, tents, clothing.
    Airing,
    /// Restacking (翻垛/倒垛).
    Restacking,
    /// A test run of an engine or pump (试机).
    TestRun,
    /// Charging batteries (充电).
    BatteryCharge,
    /// A general inspection (检查): damp, mould, pests, damage.
    Inspection,
    /// A quality test against the standard.
    QualityTest,
    /// A repair.
    Repair,
}

impl UpkeepKind {
    /// Every kind.
    pub const ALL: [UpkeepKind; 7] = [
        UpkeepKind::Airing,
        UpkeepKind::Restacking,
        UpkeepKind::TestRun,
        UpkeepKind::BatteryCharge,
        UpkeepKind::Inspection,
        UpkeepKind::QualityTest,
        UpkeepKind::Repair,
    ];

    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            UpkeepKind::Airing => 1,
            UpkeepKind::Restacking => 2,
            UpkeepKind::TestRun => 3,
            UpkeepKind::BatteryCharge => 4,
            UpkeepKind::Inspection => 5,
            UpkeepKind::QualityTest => 6,
            UpkeepKind::Repair => 7,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.number() == n)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            UpkeepKind::Airing => "airing",
            UpkeepKind::Restacking => "restacking",
            UpkeepKind::TestRun => "test run",
            UpkeepKind::BatteryCharge => "battery charge",
            UpkeepKind::Inspection => "inspection",
            UpkeepKind::QualityTest => "quality test",
            UpkeepKind::Repair => "repair",
        }
    }

    /// Parses a wire number at `field`.
    pub fn parse(field: &str, n: i32) -> Result<Self, String> {
        match n {
            0 => Err(format!(
                "{field} is required: airing, restacking, test run, battery charge, inspection, quality test or repair"
            )),
            n => {
                Self::from_number(i64::from(n)).ok_or_else(|| format!("{n} is not an upkeep kind"))
            }
        }
    }
}

/// What a record found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpkeepResult {
    /// Fit for use.
    Pass,
    /// Failed the check; the upkeep is still owed.
    Fail,
    /// Needs a repair.
    NeedsRepair,
}

impl UpkeepResult {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            UpkeepResult::Pass => 1,
            UpkeepResult::Fail => 2,
            UpkeepResult::NeedsRepair => 3,
        }
    }

    /// The result with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(UpkeepResult::Pass),
            2 => Some(UpkeepResult::Fail),
            3 => Some(UpkeepResult::NeedsRepair),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            UpkeepResult::Pass => "pass",
            UpkeepResult::Fail => "fail",
            UpkeepResult::NeedsRepair => "needs repair",
        }
    }
}

/// The condition of an asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// Good.
    Good,
    /// Worn but serviceable.
    Worn,
    /// Needs repair.
    NeedsRepair,
    /// Unserviceable.
    Unserviceable,
}

impl Condition {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            Condition::Good => 1,
            Condition::Worn => 2,
            Condition::NeedsRepair => 3,
            Condition::Unserviceable => 4,
        }
    }

    /// The condition with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Condition::Good),
            2 => Some(Condition::Worn),
            3 => Some(Condition::NeedsRepair),
            4 => Some(Condition::Unserviceable),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Condition::Good => "good",
            Condition::Worn => "worn",
            Condition::NeedsRepair => "needs repair",
            Condition::Unserviceable => "unserviceable",
        }
    }
}

/// Checks a cost in fen: 0 to [`MAX_COST_FEN`].
pub fn cost(raw: i64) -> Result<i64, String> {
    if (0..=MAX_COST_FEN).contains(&raw) {
        Ok(raw)
    } else {
        Err(format!("must be 0 to {MAX_COST_FEN} fen"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_zero_is_refused() {
        for k in UpkeepKind::ALL {
            assert_eq!(UpkeepKind::from_number(k.number()), Some(k));
        }
        assert!(UpkeepKind::parse("kind", 0).is_err());
        assert!(UpkeepKind::parse("kind", 99).is_err());
        assert!(cost(-1).is_err());
        assert!(cost(MAX_COST_FEN + 1).is_err());
        assert_eq!(cost(0), Ok(0));
    }
}
