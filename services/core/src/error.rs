//! How a broken rule is classified for the caller, independent of transport.

use crate::violation::{FieldViolation, Violations};

/// The class of a failure, which the API maps one-to-one onto a gRPC status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed: these fields break these rules.
    InvalidArgument(Vec<FieldViolation>),
    /// A named resource does not exist (or is outside what the caller may see).
    NotFound { resource: String },
    /// A resource with that identity already exists.
    AlreadyExists { resource: String },
    /// The request is well-formed but the current state forbids it.
    /// `reason` is a stable UPPER_SNAKE code clients can branch on.
    FailedPrecondition {
        reason: &'static str,
        message: String,
        metadata: Vec<(String, String)>,
    },
    /// A concurrency conflict: the caller's view is stale; re-read and retry.
    Aborted { message: String },
    /// The caller is signed in but may not do this here.
    PermissionDenied { message: String },
}

/// Implemented by every rule error so the API can answer it without knowing it.
pub trait Failure: std::fmt::Display {
    /// How to answer this failure.
    fn kind(&self) -> ErrorKind;
}

impl Failure for Violations {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument(self.as_slice().to_vec())
    }
}

impl std::fmt::Display for Violations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .as_slice()
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect();
        write!(f, "invalid request: {}", parts.join("; "))
    }
}

impl ErrorKind {
    /// A failed precondition with no metadata.
    pub fn precondition(reason: &'static str, message: impl Into<String>) -> Self {
        ErrorKind::FailedPrecondition {
            reason,
            message: message.into(),
            metadata: Vec::new(),
        }
    }

    /// An invalid argument naming a single field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ErrorKind::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }
}
