//! The four tiers of the reserve network and how they stack.

use serde::{Deserialize, Serialize};

/// Tier of a depot, top (province) to bottom (township).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Provincial sub-depot (省备灾分库): a root.
    Province,
    /// City reserve base (市级储备库/基地).
    City,
    /// County depot (县级储备库).
    County,
    /// Township point (乡镇储备点).
    Township,
}

impl Tier {
    /// Every tier, top to bottom.
    pub const ALL: [Tier; 4] = [Tier::Province, Tier::City, Tier::County, Tier::Township];

    /// The stored and wire number of the tier (1 = province .. 4 = township).
    pub fn number(self) -> i64 {
        match self {
            Tier::Province => 1,
            Tier::City => 2,
            Tier::County => 3,
            Tier::Township => 4,
        }
    }

    /// The tier with that number, if any.
    pub fn from_number(n: i64) -> Option<Tier> {
        match n {
            1 => Some(Tier::Province),
            2 => Some(Tier::City),
            3 => Some(Tier::County),
            4 => Some(Tier::Township),
            _ => None,
        }
    }

    /// The tier a parent must have: exactly one up; none for a province.
    pub fn parent(self) -> Option<Tier> {
        match self {
            Tier::Province => None,
            Tier::City => Some(Tier::Province),
            Tier::County => Some(Tier::City),
            Tier::Township => Some(Tier::County),
        }
    }

    /// Lower-case English name used in messages and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Province => "province",
            Tier::City => "city",
            Tier::County => "county",
            Tier::Township => "township",
        }
    }

    /// Chinese name, as depot staff say it.
    pub fn name_zh(self) -> &'static str {
        match self {
            Tier::Province => "省级",
            Tier::City => "市级",
            Tier::County => "县级",
            Tier::Township => "乡镇",
        }
    }

    /// Whether this tier is `other` or above it.
    pub fn at_or_above(self, other: Tier) -> bool {
        self <= other
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tier_has_the_one_above_it_as_parent() {
        assert_eq!(Tier::Province.parent(), None);
        assert_eq!(Tier::City.parent(), Some(Tier::Province));
        assert_eq!(Tier::County.parent(), Some(Tier::City));
        assert_eq!(Tier::Township.parent(), Some(Tier::County));
    }

    #[test]
    fn tier_numbers_round_trip() {
        for t in Tier::ALL {
            assert_eq!(Tier::from_number(t.number()), Some(t));
        }
        assert_eq!(Tier::from_number(0), None);
        assert_eq!(Tier::from_number(5), None);
    }

    #[test]
    fn higher_tiers_compare_as_above() {
        assert!(Tier::City.at_or_above(Tier::County));
        assert!(Tier::City.at_or_above(Tier::City));
        assert!(!Tier::Township.at_or_above(Tier::County));
    }
}
