//! Every way an action on an enterprise reserve can break a rule.

use crate::authz::Denied;
use crate::error::{ErrorKind, Failure};
use crate::stock::StockError;
use crate::violation::Violations;

/// A refused action on an agreement or call-off. Nothing is written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnterpriseError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// No such agreement, call-off, depot, item, order or incident.
    #[error("{0} not found")]
    NotFound(String),
    /// The agreement is not in force, or does not cover the item, or has
    /// too little left to call off.
    #[error("{0}")]
    CallOffRefused(String),
    /// A delivery beyond what the call-off still awaits.
    #[error("{0}")]
    DeliveryExceedsCallOff(String),
    /// A stock rule of the receipt.
    #[error("{0}")]
    Stock(StockError),
    /// The caller may not do this here.
    #[error("{0}")]
    Denied(Denied),
}

impl From<Violations> for EnterpriseError {
    fn from(v: Violations) -> Self {
        EnterpriseError::Invalid(v)
    }
}

impl From<StockError> for EnterpriseError {
    fn from(e: StockError) -> Self {
        EnterpriseError::Stock(e)
    }
}

impl From<Denied> for EnterpriseError {
    fn from(d: Denied) -> Self {
        EnterpriseError::Denied(d)
    }
}

impl Failure for EnterpriseError {
    fn kind(&self) -> ErrorKind {
        let msg = self.to_string();
        match self {
            EnterpriseError::Invalid(v) => v.kind(),
            EnterpriseError::NotFound(r) => ErrorKind::NotFound {
                resource: r.clone(),
            },
            EnterpriseError::CallOffRefused(_) => ErrorKind::precondition("CALL_OFF_REFUSED", msg),
            EnterpriseError::DeliveryExceedsCallOff(_) => {
                ErrorKind::precondition("DELIVERY_EXCEEDS_CALL_OFF", msg)
            }
            EnterpriseError::Stock(e) => e.kind(),
            EnterpriseError::Denied(d) => d.kind(),
        }
    }
}
