//! Request-level values: idempotency keys, page sizes, etags.

use serde::{Deserialize, Serialize};

/// Client-chosen key that makes a mutating call safe to retry (AIP-155).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestId(String);

impl RequestId {
    /// 1 to 128 printable ASCII characters without spaces; a UUID fits.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err(
                "is required on every change so it can be retried safely (use a UUID)".into(),
            );
        }
        if raw.len() > 128 {
            return Err("must be at most 128 characters".into());
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be printable ASCII without spaces".into());
        }
        Ok(Self(raw.to_string()))
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many rows a list call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// The size used when the caller gives none.
    pub const DEFAULT: u32 = 50;
    /// The largest page a caller may ask for.
    pub const MAX: u32 = 1000;

    /// Zero means the default; above the maximum is cut to the maximum
    /// (AIP-158); negative is refused.
    pub fn parse(raw: i32) -> Result<Self, String> {
        match raw {
            0 => Ok(Self(Self::DEFAULT)),
            n if n < 0 => Err("must not be negative".into()),
            n => Ok(Self((n as u32).min(Self::MAX))),
        }
    }

    /// The size as a number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Version tag of a mutable resource (AIP-154). On the wire it is the
/// version number as text; clients treat it as opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Etag(i64);

impl Etag {
    /// The etag of a resource at `version`.
    pub fn of(version: i64) -> Self {
        Self(version)
    }

    /// Parses an etag sent back by a client; empty means "no check".
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        let raw = raw.trim().trim_matches('"');
        if raw.is_empty() {
            return Ok(None);
        }
        raw.parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .map(|v| Some(Self(v)))
            .ok_or_else(|| "is not an etag this service issued; send back the etag you read".into())
    }

    /// The version this etag stands for.
    pub fn version(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Etag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_to_fifty_and_is_cut_to_a_thousand() {
        assert_eq!(PageSize::parse(0).unwrap().get(), 50);
        assert_eq!(PageSize::parse(1000).unwrap().get(), 1000);
        assert_eq!(PageSize::parse(1001).unwrap().get(), 1000);
        assert_eq!(PageSize::parse(i32::MAX).unwrap().get(), 1000);
        assert!(PageSize::parse(-1).is_err());
    }

    #[test]
    fn request_id_must_be_present_and_printable() {
        assert!(RequestId::parse("").is_err());
        assert!(RequestId::parse("a b").is_err());
        assert!(RequestId::parse(&"x".repeat(129)).is_err());
        assert_eq!(RequestId::parse("7f0c-1").unwrap().as_str(), "7f0c-1");
    }

    #[test]
    fn etag_round_trips_and_rejects_foreign_values() {
        assert_eq!(Etag::parse_optional("").unwrap(), None);
        assert_eq!(Etag::parse_optional("\"3\"").unwrap(), Some(Etag::of(3)));
        assert_eq!(Etag::of(7).to_string(), "7");
        assert!(Etag::parse_optional("abc").is_err());
        assert!(Etag::parse_optional("0").is_err());
    }
}
