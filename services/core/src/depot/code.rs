//! Depot codes and administrative division codes.

use crate::tier::Tier;
use serde::{Deserialize, Serialize};

/// Stable depot code: 2 to 32 characters of `A-Z`, `0-9` and `-`, starting
/// with a letter or digit. Used in paths, so it can never hold `/`, `%` or `_`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DepotCode(String);

impl DepotCode {
    /// Parses a code as a client sent it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_len = (2..=32).contains(&raw.len());
        let ok_first = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if raw.is_empty() {
            Err("is required".into())
        } else if ok_len && ok_first && ok_chars {
            Ok(Self(raw.to_string()))
        } else {
            Err(
                "must be 2 to 32 characters of A-Z, 0-9 and '-', starting with a letter or digit"
                    .into(),
            )
        }
    }

    /// Wraps a code read from storage (already valid).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DepotCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// GB/T 2260 province-level prefixes (the first two digits of every division code).
const PROVINCE_PREFIXES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// Administrative division code (GB/T 2260): six digits down to county level,
/// nine for a township.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parses a code; its level must suit a depot of tier `tier`.
    pub fn parse_for(raw: &str, tier: Tier) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        if !(raw.len() == 6 || raw.len() == 9) || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 6 digits (province, city, county) or 9 digits (township)".into());
        }
        if !PROVINCE_PREFIXES.contains(&&raw[0..2]) {
            return Err(format!(
                "must start with a GB/T 2260 province code; '{}' is none",
                &raw[0..2]
            ));
        }
        let code = Self(raw.to_string());
        let level = code.level();
        if level != tier {
            return Err(format!(
                "is a {} code but the depot is a {} depot ({})",
                level.name(),
                tier.name(),
                Self::shape_of(tier)
            ));
        }
        Ok(code)
    }

    /// Wraps a code read from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    fn shape_of(tier: Tier) -> &'static str {
        match tier {
            Tier::Province => "six digits ending 0000",
            Tier::City => "six digits ending 00",
            Tier::County => "six digits not ending 00",
            Tier::Township => "nine digits",
        }
    }

    /// The tier of government the code names.
    pub fn level(&self) -> Tier {
        let s = &self.0;
        if s.len() == 9 {
            Tier::Township
        } else if s.ends_with("0000") {
            Tier::Province
        } else if s.ends_with("00") {
            Tier::City
        } else {
            Tier::County
        }
    }

    /// Whether this division lies inside `parent`'s division. County-level
    /// units administered directly by the province (digits 3-4 are `90`, e.g.
    /// 仙桃 429004) count as inside any city of that province.
    pub fn within(&self, parent: &DivisionCode) -> bool {
        let (s, p) = (&self.0, &parent.0);
        match parent.level() {
            Tier::Province => s[0..2] == p[0..2],
            Tier::City => {
                if self.level() == Tier::County && &s[2..4] == "90" {
                    s[0..2] == p[0..2]
                } else {
                    s[0..4] == p[0..4]
                }
            }
            Tier::County => s.len() == 9 && s[0..6] == p[0..6],
            Tier::Township => false,
        }
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
