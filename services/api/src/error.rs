//! The one place where failures become gRPC statuses (AIP-193).

use reserve_core::error::{ErrorKind, Failure};
use reserve_store::{OpError, StoreError};
use std::collections::HashMap;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Domain of every ErrorInfo this service sends.
pub const ERROR_DOMAIN: &str = "reserve.v1";

/// A status for a classified failure.
pub fn status_of_kind(kind: ErrorKind) -> Status {
    match kind {
        ErrorKind::InvalidArgument(violations) => {
            let mut d = ErrorDetails::new();
            for v in &violations {
                d.add_bad_request_violation(v.field.clone(), v.description.clone());
            }
            let summary: Vec<String> = violations
                .iter()
                .map(|v| format!("{}: {}", v.field, v.description))
                .collect();
            Status::with_error_details(
                Code::InvalidArgument,
                format!("invalid request: {}", summary.join("; ")),
                d,
            )
        }
        ErrorKind::NotFound { resource } => Status::not_found(format!("{resource} not found")),
        ErrorKind::AlreadyExists { resource } => {
            Status::already_exists(format!("{resource} already exists"))
        }
        ErrorKind::FailedPrecondition {
            reason,
            message: m,
            metadata,
        } => {
            let meta: HashMap<String, String> = metadata.into_iter().collect();
            Status::with_error_details(
                Code::FailedPrecondition,
                m,
                ErrorDetails::with_error_info(reason, ERROR_DOMAIN, meta),
            )
        }
        ErrorKind::Aborted { message: m } => Status::aborted(m),
        ErrorKind::PermissionDenied { message: m } => Status::permission_denied(m),
    }
}

/// A status for a storage failure: UNAVAILABLE when the database cannot be
/// reached or stays contended, INTERNAL (details only in the log) otherwise.
pub fn status_of_store(e: StoreError) -> Status {
    match e {
        StoreError::Unavailable(m) => {
            tracing::warn!(error = %m, "database unavailable");
            Status::unavailable("the database is unavailable; retry shortly")
        }
        StoreError::Contention(n) => {
            tracing::warn!(attempts = n, "write kept conflicting");
            Status::unavailable("the database is busy; retry shortly")
        }
        StoreError::Sealed(m) => {
            tracing::error!(error = %m, "private data key");
            Status::with_error_details(
                Code::FailedPrecondition,
                m,
                ErrorDetails::with_error_info("PRIVATE_DATA_KEY", ERROR_DOMAIN, HashMap::new()),
            )
        }
        other => {
            // Redacted: a database's message detail can quote the row.
            tracing::error!(error = %other.redacted(), "internal error");
            Status::internal("internal error; the details are in the server log")
        }
    }
}

/// A status for any operation failure.
pub fn status_of<E: Failure>(e: OpError<E>) -> Status {
    match e {
        OpError::Rule(rule) => status_of_kind(rule.kind()),
        OpError::Invalid(v) => status_of_kind(v.kind()),
        OpError::RequestIdReused { method } => status_of_kind(ErrorKind::invalid(
            "request_id",
            format!(
                "was already used for a different request ({method}); use a new request_id for a new change"
            ),
        )),
        OpError::Store(s) => status_of_store(s),
    }
}

/// INVALID_ARGUMENT naming one field.
pub fn invalid(field: &str, description: impl Into<String>) -> Status {
    status_of_kind(ErrorKind::invalid(field, description))
}

/// INVALID_ARGUMENT for a set of violations.
pub fn invalid_all(v: reserve_core::Violations) -> Status {
    status_of_kind(v.kind())
}
