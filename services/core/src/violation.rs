//! Field violations: which request field broke which rule.

use serde::{Deserialize, Serialize};

/// One broken rule on one request field, e.g. `division_code`: "must be 6 digits".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldViolation {
    /// Path of the field in the request, dot-separated (`depot.division_code`).
    pub field: String,
    /// The rule, in words a user can act on.
    pub description: String,
}

/// Collects every violation of a request so the caller sees them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` breaks `description`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Records a violation from a field parser's result, returning the value if it parsed.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    /// Whether no rule was broken.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations recorded so far.
    pub fn as_slice(&self) -> &[FieldViolation] {
        &self.0
    }

    /// Consumes the collection.
    pub fn into_vec(self) -> Vec<FieldViolation> {
        self.0
    }

    /// Puts `prefix.` in front of every field path (`name` -> `depot.name`).
    pub fn prefixed(self, prefix: &str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|v| FieldViolation {
                    field: format!("{prefix}.{}", v.field),
                    description: v.description,
                })
                .collect(),
        )
    }

    /// `Ok(value)` when nothing was broken, else the violations.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// A collection holding a single violation.
    pub fn one(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut v = Self::new();
        v.add(field, description);
        v
    }
}

impl From<Violations> for Vec<FieldViolation> {
    fn from(v: Violations) -> Self {
        v.0
    }
}
