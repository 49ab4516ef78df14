//! Why a lease action is refused.

use crate::authz::Denied;
use crate::error::{ErrorKind, Failure};
use crate::stock::StockError;
use crate::violation::Violations;

/// A refused lease action.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LeaseError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// No such lease, depot or item (a resource name).
    #[error("{0} not found")]
    NotFound(String),
    /// The item is not leasable in the catalogue.
    #[error("item {0} is not leasable (the catalogue does not mark it leasable)")]
    NotLeasable(String),
    /// Equipment overdue for upkeep is not lent out.
    #[error("{0} overdue for upkeep at {1}; record its upkeep before it is leased")]
    UpkeepOverdue(String, String),
    /// The action does not apply in the lease's state.
    #[error("lease {number} is {state}; it cannot {action}")]
    InvalidTransition {
        /// The lease's number.
        number: String,
        /// Its state.
        state: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// The lease may not be recalled, or was recalled already.
    #[error("{0}")]
    NotRecallable(String),
    /// A return of more than is out, or of units the lease does not have out.
    #[error("{0}")]
    NotOut(String),
    /// A fee beyond what the service can count in fen.
    #[error(
        "the fee of lease {0} is beyond what can be counted in fen; check the rates and quantities"
    )]
    FeeTooLarge(String),
    /// The etag sent is not the lease's current one.
    #[error("lease {id} has changed since it was read (etag {sent}, now {current}); read it again")]
    StaleEtag {
        /// Lease id.
        id: String,
        /// Etag sent.
        sent: i64,
        /// Current version.
        current: i64,
    },
    /// A stock rule: availability, the reserve minimum, expiry, serials.
    #[error("{0}")]
    Stock(StockError),
    /// The caller may not do this here.
    #[error("{0}")]
    Denied(Denied),
}

impl From<Violations> for LeaseError {
    fn from(v: Violations) -> Self {
        LeaseError::Invalid(v)
    }
}

impl From<StockError> for LeaseError {
    fn from(e: StockError) -> Self {
        LeaseError::Stock(e)
    }
}

impl From<Denied> for LeaseError {
    fn from(d: Denied) -> Self {
        LeaseError::Denied(d)
    }
}

impl Failure for LeaseError {
    fn kind(&self) -> ErrorKind {
        let msg = self.to_string();
        let pre = |reason: &'static str| ErrorKind::precondition(reason, msg.clone());
        match self {
            LeaseError::Invalid(v) => v.kind(),
            LeaseError::NotFound(r) => ErrorKind::NotFound {
                resource: r.clone(),
            },
            LeaseError::NotLeasable(_) => pre("NOT_LEASABLE"),
            LeaseError::UpkeepOverdue(..) => pre("UPKEEP_OVERDUE"),
            LeaseError::InvalidTransition { .. } => pre("INVALID_STATE_TRANSITION"),
            LeaseError::NotRecallable(_) => pre("NOT_RECALLABLE"),
            LeaseError::NotOut(_) => pre("NOT_ON_LEASE"),
            LeaseError::FeeTooLarge(_) => pre("FEE_TOO_LARGE"),
            LeaseError::StaleEtag { .. } => ErrorKind::Aborted { message: msg },
            LeaseError::Stock(e) => e.kind(),
            LeaseError::Denied(d) => d.kind(),
        }
    }
}
