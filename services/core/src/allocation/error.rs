//! Every way an allocation order action can break a rule.

use crate::authz::Denied;
use crate::error::{ErrorKind, Failure};
use crate::stock::StockError;
use crate::violation::Violations;

/// A refused action on an allocation order. Nothing is written when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// No such order (or not one the caller may see).
    #[error("allocationOrders/{0} not found")]
    NotFound(String),
    /// No such incident.
    #[error("incidents/{0} not found")]
    IncidentNotFound(String),
    /// No such depot.
    #[error("depots/{0} not found")]
    DepotNotFound(String),
    /// No such item.
    #[error("items/{0} not found")]
    ItemNotFound(String),
    /// The order's state does not allow the action.
    #[error("allocation order {number} is {state}; it cannot be {action}")]
    InvalidTransition {
        /// The order's number.
        number: String,
        /// Its state.
        state: &'static str,
        /// The action tried.
        action: &'static str,
    },
    /// A line's sources do not add up to what it requests.
    #[error("line {line} ({item}) requests {requested} but its sources add up to {sourced}")]
    NotFullySourced {
        /// Line number.
        line: u32,
        /// Item.
        item: String,
        /// Requested.
        requested: i64,
        /// Sum of the sources.
        sourced: i64,
    },
    /// The order takes from outside the destination's own subtree while
    /// that subtree has the item available above its reserve minimums.
    #[error(
        "line {line} takes {outside} {item} from outside {own} while {own} and below still have {spare} available above their reserve minimums; use them first, or give a justification"
    )]
    OwnSubtreeFirst {
        /// Line number.
        line: u32,
        /// Item.
        item: String,
        /// The destination's own county (or city) depot.
        own: String,
        /// Units available above minimums there (after this order's own
        /// takes from it).
        spare: i64,
        /// Units taken from outside.
        outside: i64,
    },
    /// An emergency order goes before approval only from depots under its
    /// command depot; others wait for a dispatcher over them to approve.
    #[error(
        "allocation order {number} is not approved, and {source_depot} is not under its command depot {command}; a dispatcher over {source_depot} must approve it first"
    )]
    ApprovalRequired {
        /// The order's number.
        number: String,
        /// The source.
        source_depot: String,
        /// The command depot.
        command: String,
    },
    /// The dispatcher who raised a routine or urgent order approves it:
    /// two signatures are needed except in an emergency.
    #[error(
        "allocation order {0} was raised by you; another dispatcher approves it (two signatures, except for emergency orders)"
    )]
    SamePerson(String),
    /// A proposal found no depot able to give any of the needs.
    #[error("no depot can give any of the needs; see ProposeSources for enterprise reserves")]
    NothingToSource,
    /// A source has nothing left to dispatch on this order.
    #[error("depot {0} has nothing to dispatch on this order")]
    NothingToDispatch(String),
    /// More arrived or went missing than is on the road.
    #[error(
        "line {line} from {from} lot {lot} has {in_transit} unit(s) in transit, {requested} accounted for"
    )]
    ExceedsInTransit {
        /// Line number.
        line: u32,
        /// Source depot.
        from: String,
        /// Lot number.
        lot: String,
        /// Units on the road.
        in_transit: i64,
        /// Units the request accounts for.
        requested: i64,
    },
    /// The order is not yet fully accounted for.
    #[error(
        "allocation order {number} still has {in_transit} unit(s) in transit or sources yet to dispatch"
    )]
    NotFullyReceived {
        /// The order's number.
        number: String,
        /// Units on the road.
        in_transit: i64,
    },
    /// An emergency order dispatched before approval must be approved
    /// (back-filled) before it is closed.
    #[error(
        "allocation order {0} went out before approval; approve it (back-fill) before closing it"
    )]
    BackfillPending(String),
    /// A stock rule at a source or the destination.
    #[error("{0}")]
    Stock(StockError),
    /// The caller may not do this here.
    #[error("{0}")]
    Denied(Denied),
    /// The order changed since the caller read it.
    #[error(
        "allocation order {number} has changed since it was read (etag {sent}, now {current}); read it again"
    )]
    StaleEtag {
        /// The order's number.
        number: String,
        /// Etag sent.
        sent: i64,
        /// Current version.
        current: i64,
    },
}

impl From<Violations> for AllocationError {
    fn from(v: Violations) -> Self {
        AllocationError::Invalid(v)
    }
}

impl From<StockError> for AllocationError {
    fn from(e: StockError) -> Self {
        AllocationError::Stock(e)
    }
}

impl From<Denied> for AllocationError {
    fn from(d: Denied) -> Self {
        AllocationError::Denied(d)
    }
}

impl Failure for AllocationError {
    fn kind(&self) -> ErrorKind {
        let msg = self.to_string();
        let pre = |reason: &'static str| ErrorKind::precondition(reason, msg.clone());
        match self {
            AllocationError::Invalid(v) => v.kind(),
            AllocationError::NotFound(id) => ErrorKind::NotFound {
                resource: format!("allocationOrders/{id}"),
            },
            AllocationError::IncidentNotFound(id) => ErrorKind::NotFound {
                resource: format!("incidents/{id}"),
            },
            AllocationError::DepotNotFound(d) => ErrorKind::NotFound {
                resource: format!("depots/{d}"),
            },
            AllocationError::ItemNotFound(i) => ErrorKind::NotFound {
                resource: format!("items/{i}"),
            },
            AllocationError::InvalidTransition { .. } => pre("INVALID_STATE_TRANSITION"),
            AllocationError::NotFullySourced { .. } => pre("NOT_FULLY_SOURCED"),
            AllocationError::OwnSubtreeFirst {
                item, own, spare, ..
            } => ErrorKind::FailedPrecondition {
                reason: "OWN_SUBTREE_FIRST",
                message: msg,
                metadata: vec![
                    ("item".into(), item.clone()),
                    ("own_subtree".into(), own.clone()),
                    ("spare".into(), spare.to_string()),
                ],
            },
            AllocationError::NothingToDispatch(_) => pre("NOTHING_TO_DISPATCH"),
            AllocationError::ApprovalRequired { .. } => pre("APPROVAL_REQUIRED"),
            AllocationError::NothingToSource => pre("NOTHING_TO_SOURCE"),
            AllocationError::SamePerson(_) => ErrorKind::PermissionDenied { message: msg },
            AllocationError::ExceedsInTransit { .. } => pre("EXCEEDS_IN_TRANSIT"),
            AllocationError::NotFullyReceived { .. } => pre("NOT_FULLY_RECEIVED"),
            AllocationError::BackfillPending(_) => pre("BACKFILL_PENDING"),
            AllocationError::Stock(e) => e.kind(),
            AllocationError::Denied(d) => d.kind(),
            AllocationError::StaleEtag { .. } => ErrorKind::Aborted { message: msg },
        }
    }
}
