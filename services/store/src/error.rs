//! Errors of the storage layer, kept free of any transport type.

use reserve_core::Violations;

/// A failure of the database itself, not of a business rule.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is saturated; the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row changed between being read and being written in this
    /// transaction; the whole transaction is retried.
    #[error("a concurrent change touched the same rows")]
    Conflict,
    /// A conflict that survived every retry (serialization failure, deadlock, busy).
    #[error("database kept conflicting after {0} attempts")]
    Contention(u32),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A stored row that the code cannot read back (a bug or a hand edit).
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// Owners' private data cannot be sealed or opened: no key configured,
    /// a key missing from the key file, or a damaged row. Never carries the
    /// data itself.
    #[error("{0}")]
    Sealed(String),
}

impl StoreError {
    /// Whether retrying the whole transaction may succeed: serialization
    /// failures and deadlocks on PostgreSQL, busy or locked on SQLite.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Conflict => true,
            StoreError::Database(sqlx::Error::Database(e)) => {
                matches!(
                    e.code().as_deref(),
                    Some("40001" | "40P01" | "5" | "6" | "261" | "262" | "517" | "773")
                )
            }
            _ => false,
        }
    }

    /// The error as it may be logged: a database error by its code,
    /// constraint and table only, since PostgreSQL's message detail can
    /// carry the offending row's values (an owner's identity number, say).
    pub fn redacted(&self) -> String {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => format!(
                "database error: code {}, constraint {}, table {}, kind {:?}",
                e.code().as_deref().unwrap_or("-"),
                e.constraint().unwrap_or("-"),
                e.table().unwrap_or("-"),
                e.kind()
            ),
            StoreError::Database(other) => format!("database error: {}", redact_sqlx(other)),
            other => other.to_string(),
        }
    }

    /// Whether a unique constraint was violated.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::ColumnNotFound(_)
            | sqlx::Error::Decode(_) => StoreError::Corrupt(e.to_string()),
            other => StoreError::Database(other),
        }
    }
}

/// A non-database sqlx error named by its kind: its text may quote values.
fn redact_sqlx(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Configuration(_) => "configuration",
        sqlx::Error::Io(_) => "i/o",
        sqlx::Error::Tls(_) => "tls",
        sqlx::Error::Protocol(_) => "protocol",
        sqlx::Error::RowNotFound => "row not found",
        sqlx::Error::TypeNotFound { .. } => "type not found",
        sqlx::Error::ColumnIndexOutOfBounds { .. } => "column index out of bounds",
        sqlx::Error::ColumnNotFound(_) => "column not found",
        sqlx::Error::ColumnDecode { .. } => "column decode",
        sqlx::Error::Decode(_) => "decode",
        sqlx::Error::Encode(_) => "encode",
        sqlx::Error::PoolTimedOut => "pool timed out",
        sqlx::Error::PoolClosed => "pool closed",
        sqlx::Error::WorkerCrashed => "worker crashed",
        sqlx::Error::Migrate(_) => "migration",
        _ => "other",
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// The outcome of an operation that failed: a broken business rule `E`, a
/// reused request id, or the database.
#[derive(Debug, thiserror::Error)]
pub enum OpError<E> {
    /// A business rule refused the operation; nothing was written.
    #[error("{0}")]
    Rule(E),
    /// The request id was used before for a different request.
    #[error(
        "request_id was already used for a different request ({method}); use a new request_id for a new change"
    )]
    RequestIdReused {
        /// Method the id was first used with.
        method: String,
    },
    /// The request was malformed in a way only the store can tell (a page token).
    #[error("{0}")]
    Invalid(Violations),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<sqlx::Error> for OpError<E> {
    fn from(e: sqlx::Error) -> Self {
        OpError::Store(e.into())
    }
}

impl<E> OpError<E> {
    /// Whether the whole transaction should be retried.
    pub fn is_retryable(&self) -> bool {
        matches!(self, OpError::Store(e) if e.is_retryable())
    }
}

impl<E> From<serde_json::Error> for OpError<E> {
    fn from(e: serde_json::Error) -> Self {
        OpError::Store(e.into())
    }
}
