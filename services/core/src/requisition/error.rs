//! Why a requisition or compensation action is refused. No message quotes
//! an owner's identity number, bank account or phone.

use crate::authz::Denied;
use crate::error::{ErrorKind, Failure};
use crate::stock::StockError;
use crate::violation::Violations;

/// A refused requisition or compensation action.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequisitionError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// No such requisition, claim, incident or depot (a resource name).
    #[error("{0} not found")]
    NotFound(String),
    /// A voucher was recorded already.
    #[error("requisition {number} already has voucher {voucher}")]
    VoucherExists {
        /// Requisition number.
        number: String,
        /// The voucher recorded.
        voucher: String,
    },
    /// More units given an outcome than are still out.
    #[error(
        "requisition {number} line {line}: {asked} units given an outcome but only {outstanding} have none yet"
    )]
    Overstated {
        /// Requisition number.
        number: String,
        /// Line.
        line: u32,
        /// Units asked.
        asked: i64,
        /// Units without an outcome.
        outstanding: i64,
    },
    /// Returnable property cannot be consumed.
    #[error(
        "requisition {number} line {line} is returnable property: record it returned, damaged or lost, not consumed"
    )]
    NotConsumable {
        /// Requisition number.
        number: String,
        /// Line.
        line: u32,
    },
    /// A claim for the requisition exists already.
    #[error("requisition {number} already has claim {claim}")]
    ClaimExists {
        /// Requisition number.
        number: String,
        /// Existing claim.
        claim: String,
    },
    /// The requisition still has units without an outcome.
    #[error(
        "requisition {number} still has {outstanding} units without an outcome; record every return, damage, loss or consumption before assessing"
    )]
    NotResolved {
        /// Requisition number.
        number: String,
        /// Units out.
        outstanding: i64,
    },
    /// The action does not apply in the claim's state.
    #[error("claim {number} is {state}; it cannot {action}")]
    InvalidTransition {
        /// Claim number.
        number: String,
        /// Its state.
        state: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// The approver assessed the claim (segregation of duties).
    #[error(
        "claim {number} was assessed by {assessor}; a different finance officer must approve it"
    )]
    SameOfficer {
        /// Claim number.
        number: String,
        /// Who assessed.
        assessor: String,
    },
    /// A payment beyond what is approved and unpaid.
    #[error(
        "claim {number}: a payment of {asked} fen exceeds the {outstanding} fen approved and not yet paid"
    )]
    Overpaid {
        /// Claim number.
        number: String,
        /// Amount asked.
        asked: i64,
        /// Approved and unpaid.
        outstanding: i64,
    },
    /// A re-assessment below what was paid already.
    #[error(
        "claim {number}: the re-assessed total {total} fen is below the {paid} fen already paid"
    )]
    BelowPaid {
        /// Claim number.
        number: String,
        /// New total.
        total: i64,
        /// Paid so far.
        paid: i64,
    },
    /// An amount beyond what can be counted in fen.
    #[error(
        "the amount of {0} is beyond what can be counted in fen; check rates, values and quantities"
    )]
    TooLarge(String),
    /// The owner's private data was purged after settlement.
    #[error("the owner's private data of {0} was purged after settlement")]
    Purged(String),
    /// Private data cannot be sealed or opened (no key configured, or a key missing).
    #[error("{0}")]
    Sealing(String),
    /// The etag sent is not the current one.
    #[error("{id} has changed since it was read (etag {sent}, now {current}); read it again")]
    StaleEtag {
        /// Resource.
        id: String,
        /// Etag sent.
        sent: i64,
        /// Current version.
        current: i64,
    },
    /// A stock rule, for goods received into or returned out of a depot.
    #[error("{0}")]
    Stock(StockError),
    /// The caller may not do this here.
    #[error("{0}")]
    Denied(Denied),
}

impl From<Violations> for RequisitionError {
    fn from(v: Violations) -> Self {
        RequisitionError::Invalid(v)
    }
}

impl From<StockError> for RequisitionError {
    fn from(e: StockError) -> Self {
        RequisitionError::Stock(e)
    }
}

impl From<Denied> for RequisitionError {
    fn from(d: Denied) -> Self {
        RequisitionError::Denied(d)
    }
}

impl Failure for RequisitionError {
    fn kind(&self) -> ErrorKind {
        let msg = self.to_string();
        let pre = |reason: &'static str| ErrorKind::precondition(reason, msg.clone());
        match self {
            RequisitionError::Invalid(v) => v.kind(),
            RequisitionError::NotFound(r) => ErrorKind::NotFound {
                resource: r.clone(),
            },
            RequisitionError::VoucherExists { .. } => pre("VOUCHER_EXISTS"),
            RequisitionError::Overstated { .. } => pre("OUTCOME_EXCEEDS_OUTSTANDING"),
            RequisitionError::NotConsumable { .. } => pre("NOT_CONSUMABLE"),
            RequisitionError::ClaimExists { number, claim } => ErrorKind::AlreadyExists {
                resource: format!("claim {claim} of requisition {number}"),
            },
            RequisitionError::NotResolved { .. } => pre("REQUISITION_NOT_RESOLVED"),
            RequisitionError::InvalidTransition { .. } => pre("INVALID_STATE_TRANSITION"),
            RequisitionError::SameOfficer { .. } => pre("SEGREGATION_OF_DUTIES"),
            RequisitionError::Overpaid { .. } => pre("PAYMENT_EXCEEDS_APPROVED"),
            RequisitionError::BelowPaid { .. } => pre("ASSESSMENT_BELOW_PAID"),
            RequisitionError::TooLarge(_) => pre("AMOUNT_TOO_LARGE"),
            RequisitionError::Purged(_) => pre("PRIVATE_DATA_PURGED"),
            RequisitionError::Sealing(_) => pre("PRIVATE_DATA_KEY"),
            RequisitionError::StaleEtag { .. } => ErrorKind::Aborted { message: msg },
            RequisitionError::Stock(e) => e.kind(),
            RequisitionError::Denied(d) => d.kind(),
        }
    }
}
