//! Every way a stock operation can break a rule.

use super::reversal::NotReversible;
use crate::authz::Denied;
use crate::error::{ErrorKind, Failure};
use crate::violation::Violations;

/// A refused stock operation. Nothing is written when one is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// The depot does not exist.
    #[error("depot {0} not found")]
    DepotNotFound(String),
    /// The depot is suspended or closed.
    #[error("depot {depot} is {status}; it cannot {action}")]
    DepotNotActive {
        /// Depot.
        depot: String,
        /// Its status.
        status: &'static str,
        /// What was tried.
        action: &'static str,
    },
    /// The item does not exist.
    #[error("item {0} not found")]
    ItemNotFound(String),
    /// No lot with that number for the item.
    #[error("item {item} has no lot {lot}")]
    LotNotFound {
        /// Item.
        item: String,
        /// Lot number.
        lot: String,
    },
    /// The lot exists but has no stock line at this depot.
    #[error("lot {lot} of {item} is not held at depot {depot}")]
    LotNotAtDepot {
        /// Depot.
        depot: String,
        /// Item.
        item: String,
        /// Lot number.
        lot: String,
    },
    /// A receipt into an existing lot disagrees with what the lot says.
    #[error(
        "lot {lot} already exists with {field} {stored}, not {given}; use the lot's own values or a new lot number"
    )]
    LotMismatch {
        /// Lot number.
        lot: String,
        /// Field that differs.
        field: &'static str,
        /// Stored value.
        stored: String,
        /// Value given.
        given: String,
    },
    /// The lot is expired.
    #[error("lot {lot} expired on {expiry}; expired stock is never available")]
    LotExpired {
        /// Lot number.
        lot: String,
        /// Expiry date.
        expiry: String,
    },
    /// A receipt of requisitioned goods that does not fit its requisition.
    #[error("{0}")]
    RequisitionMismatch(String),
    /// Not enough available units.
    #[error("depot {depot} has {available} available of {item}{lot}, {requested} requested")]
    InsufficientStock {
        /// Depot.
        depot: String,
        /// Item.
        item: String,
        /// " lot X" or empty.
        lot: String,
        /// Units asked for.
        requested: i64,
        /// Units available.
        available: i64,
    },
    /// The issue would leave the depot below its reserve minimum.
    #[error(
        "issuing would leave {after} available of {item} at {depot}, below its reserve minimum of {minimum}; \
         set override_reserve_minimum with a reason, or issue through an emergency order"
    )]
    BelowReserveMinimum {
        /// Depot.
        depot: String,
        /// Item.
        item: String,
        /// The minimum.
        minimum: i64,
        /// Available after the issue.
        after: i64,
    },
    /// Fewer units held than asked to release.
    #[error("lot {lot} has {held} held unit(s) a keeper may release, {requested} requested")]
    NotEnoughHeld {
        /// Lot number.
        lot: String,
        /// Units held (and not pending scrap).
        held: i64,
        /// Units asked for.
        requested: i64,
    },
    /// The serial number is already known.
    #[error("serial number {0} is already recorded; a unit is received once")]
    SerialExists(String),
    /// The serial number is not where the operation needs it.
    #[error("serial number {serial} is {status}, not {needed} at depot {depot}")]
    SerialNotAvailable {
        /// Serial.
        serial: String,
        /// Its status (or "unknown").
        status: String,
        /// The status needed.
        needed: &'static str,
        /// Depot.
        depot: String,
    },
    /// The ledger entry does not exist.
    #[error("ledger entry {0} not found")]
    EntryNotFound(String),
    /// The entry cannot be reversed.
    #[error("{0}")]
    NotReversible(String),
    /// The adjustment, application or count does not exist.
    #[error("{kind}/{id} not found")]
    DocumentNotFound {
        /// What kind of document.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The document is not in a state that allows the action.
    #[error("{kind}/{id} is {status}; it cannot be {action}")]
    InvalidTransition {
        /// What kind of document.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Its status.
        status: &'static str,
        /// The action tried.
        action: &'static str,
    },
    /// The second signature must come from someone else.
    #[error("{action} needs a second person: {who} cannot countersign their own {what}")]
    SamePerson {
        /// The action.
        action: &'static str,
        /// Who tried.
        who: String,
        /// What they made.
        what: &'static str,
    },
    /// Another count is open at the depot.
    #[error("stock count {0} is still open at this depot; finish or cancel it first")]
    CountInProgress(String),
    /// Some lines of the count have no counted quantity.
    #[error("{} line(s) have no counted quantity yet: {}", .0.len(), .0.join(", "))]
    CountIncomplete(Vec<String>),
    /// A variance cannot be posted on the current balance.
    #[error(
        "the variance of lot {lot} ({variance}) cannot be posted: on hand is now {on_hand} with {reserved} reserved and {held} held"
    )]
    VarianceConflict {
        /// Lot number.
        lot: String,
        /// The variance.
        variance: i64,
        /// On hand now.
        on_hand: i64,
        /// Reserved now.
        reserved: i64,
        /// Held now.
        held: i64,
    },
    /// A count found more units of a lot than the books hold while some of
    /// the lot is out on lease: they may be leased units back without their
    /// return, which the lease must take first.
    #[error(
        "the count found {found} more unit(s) of lot {lot} than the books hold, while {on_lease} are out on lease; if these are leased units back, take them back on their lease first, then approve"
    )]
    FoundWhileOnLease {
        /// Lot number.
        lot: String,
        /// Units found.
        found: i64,
        /// Units on lease.
        on_lease: i64,
    },
    /// The units belong to documents that hold them; only their own
    /// decisions release them.
    #[error(
        "lot {lot} has {free_held} held unit(s) that no document holds, {requested} needed; the others are held by {}, and only their own decisions release them",
        if holders.is_empty() { "documents".to_string() } else { holders.join(", ") }
    )]
    HeldByDocument {
        /// Lot number.
        lot: String,
        /// Held units no document holds.
        free_held: i64,
        /// Units the request needed.
        requested: i64,
        /// The documents holding the rest, if known.
        holders: Vec<String>,
    },
    /// A document's units are not where the document says they are; the
    /// data disagree and the integrity check will say where.
    #[error(
        "{document} holds units of lot {lot} that the stock line no longer shows; run the integrity check"
    )]
    DocumentUnitsMissing {
        /// The document.
        document: String,
        /// Lot number.
        lot: String,
    },
    /// The line would exceed the largest balance a line may hold.
    #[error(
        "lot {0} would hold more than {max} units at this depot; check the quantity",
        max = super::balance::MAX_BALANCE
    )]
    BalanceLimit(String),
    /// The document changed since the caller read it.
    #[error(
        "{kind}/{id} has changed since it was read (etag {sent}, now {current}); read it again"
    )]
    StaleEtag {
        /// What kind of document.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Etag sent.
        sent: i64,
        /// Current version.
        current: i64,
    },
    /// Assets overdue for upkeep cannot leave without an explicit override.
    #[error(
        "{} at depot {depot} overdue for upkeep: {}; record the upkeep first, or override with a reason",
        if serials.len() == 1 { "an asset is" } else { "assets are" },
        serials.join(", ")
    )]
    UpkeepOverdue {
        /// Depot.
        depot: String,
        /// Each overdue serial with its due date.
        serials: Vec<String>,
    },
    /// The asset cannot be sent for repair (or is not where the repair
    /// says); `reason` is the ErrorInfo reason.
    #[error("asset {serial} of {item} is {state}; {why}")]
    AssetNotRepairable {
        /// Item.
        item: String,
        /// Serial number.
        serial: String,
        /// Where it is, in words.
        state: String,
        /// What to do.
        why: &'static str,
        /// ErrorInfo reason.
        reason: &'static str,
    },
    /// The caller may not do this here.
    #[error("{0}")]
    Denied(Denied),
}

impl From<Violations> for StockError {
    fn from(v: Violations) -> Self {
        StockError::Invalid(v)
    }
}

impl From<Denied> for StockError {
    fn from(d: Denied) -> Self {
        StockError::Denied(d)
    }
}

impl From<NotReversible> for StockError {
    fn from(n: NotReversible) -> Self {
        StockError::NotReversible(match n {
            NotReversible::AlreadyReversed => "the entry was already reversed".into(),
            NotReversible::IsReversal => {
                "a reversal cannot be reversed; post the movement again instead".into()
            }
            NotReversible::Kind(k) => format!(
                "a {} entry is not reversed this way; correct it with a new adjustment",
                k.name()
            ),
            NotReversible::Document(d) => {
                format!("the entry belongs to {d}; decide or correct that document instead")
            }
        })
    }
}

impl Failure for StockError {
    fn kind(&self) -> ErrorKind {
        let msg = self.to_string();
        let pre = |reason: &'static str| ErrorKind::precondition(reason, msg.clone());
        match self {
            StockError::Invalid(v) => v.kind(),
            StockError::DepotNotFound(d) => ErrorKind::NotFound {
                resource: format!("depots/{d}"),
            },
            StockError::ItemNotFound(i) => ErrorKind::NotFound {
                resource: format!("items/{i}"),
            },
            StockError::LotNotFound { item, lot } => ErrorKind::NotFound {
                resource: format!("items/{item}/lots/{lot}"),
            },
            StockError::EntryNotFound(e) => ErrorKind::NotFound {
                resource: format!("ledgerEntries/{e}"),
            },
            StockError::DocumentNotFound { kind, id } => ErrorKind::NotFound {
                resource: format!("{kind}/{id}"),
            },
            StockError::DepotNotActive { .. } => pre("DEPOT_NOT_ACTIVE"),
            StockError::LotNotAtDepot { .. } => pre("LOT_NOT_AT_DEPOT"),
            StockError::LotMismatch { .. } => pre("LOT_MISMATCH"),
            StockError::RequisitionMismatch(_) => pre("REQUISITION_MISMATCH"),
            StockError::LotExpired { .. } => pre("LOT_EXPIRED"),
            StockError::InsufficientStock {
                requested,
                available,
                ..
            } => ErrorKind::FailedPrecondition {
                reason: "INSUFFICIENT_STOCK",
                message: msg,
                metadata: vec![
                    ("requested".into(), requested.to_string()),
                    ("available".into(), available.to_string()),
                ],
            },
            StockError::BelowReserveMinimum { minimum, after, .. } => {
                ErrorKind::FailedPrecondition {
                    reason: "BELOW_RESERVE_MINIMUM",
                    message: msg,
                    metadata: vec![
                        ("minimum".into(), minimum.to_string()),
                        ("available_after".into(), after.to_string()),
                    ],
                }
            }
            StockError::NotEnoughHeld { .. } => pre("NOT_ENOUGH_HELD"),
            StockError::SerialExists(_) => pre("SERIAL_EXISTS"),
            StockError::SerialNotAvailable { .. } => pre("SERIAL_NOT_AVAILABLE"),
            StockError::NotReversible(_) => pre("NOT_REVERSIBLE"),
            StockError::InvalidTransition { .. } => pre("INVALID_STATE_TRANSITION"),
            StockError::SamePerson { .. } => ErrorKind::PermissionDenied { message: msg },
            StockError::CountInProgress(_) => pre("COUNT_IN_PROGRESS"),
            StockError::CountIncomplete(_) => pre("COUNT_INCOMPLETE"),
            StockError::VarianceConflict { .. } => pre("VARIANCE_CONFLICT"),
            StockError::FoundWhileOnLease { .. } => pre("UNITS_ON_LEASE"),
            StockError::HeldByDocument {
                free_held,
                requested,
                holders,
                ..
            } => ErrorKind::FailedPrecondition {
                reason: "HELD_BY_DOCUMENT",
                message: msg,
                metadata: vec![
                    ("free_held".into(), free_held.to_string()),
                    ("requested".into(), requested.to_string()),
                    ("holders".into(), holders.join(",")),
                ],
            },
            StockError::DocumentUnitsMissing { .. } => pre("DOCUMENT_UNITS_MISSING"),
            StockError::BalanceLimit(_) => pre("BALANCE_LIMIT"),
            StockError::StaleEtag { .. } => ErrorKind::Aborted { message: msg },
            StockError::UpkeepOverdue { serials, .. } => ErrorKind::FailedPrecondition {
                reason: "UPKEEP_OVERDUE",
                message: msg,
                metadata: vec![("overdue".into(), serials.join(","))],
            },
            StockError::AssetNotRepairable { reason, state, .. } => ErrorKind::FailedPrecondition {
                reason,
                message: msg,
                metadata: vec![("state".into(), state.clone())],
            },
            StockError::Denied(d) => d.kind(),
        }
    }
}
