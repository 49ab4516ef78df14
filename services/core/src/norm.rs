//! Reserve norms (储备定额): the minimum and target quantity of an item at a depot.

use crate::depot::DepotCode;
use crate::error::{ErrorKind, Failure};
use crate::item::ItemId;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// The largest quantity a norm may name.
pub const MAX_NORM: i64 = 1_000_000_000;

/// A norm as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveNorm {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Do not drop below this without an emergency order or override.
    pub minimum: i64,
    /// What the depot should hold.
    pub target: i64,
    /// Version, from 1.
    pub version: i64,
    /// Last change.
    pub updated_at: UtcMillis,
}

/// A norm that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNorm {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Minimum.
    pub minimum: i64,
    /// Target.
    pub target: i64,
}

impl NewNorm {
    /// Checks depot, item and `0 <= minimum <= target`.
    pub fn parse(depot: &str, item: &str, minimum: i64, target: i64) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(depot));
        let item = v.take("item_id", ItemId::parse(item));
        if !(0..=MAX_NORM).contains(&minimum) {
            v.add("minimum", format!("must be 0 to {MAX_NORM}"));
        }
        if !(0..=MAX_NORM).contains(&target) {
            v.add("target", format!("must be 0 to {MAX_NORM}"));
        } else if target < minimum {
            v.add(
                "target",
                format!("must not be below the minimum ({minimum})"),
            );
        }
        match (depot, item) {
            (Some(depot), Some(item)) if v.is_empty() => Ok(NewNorm {
                depot,
                item,
                minimum,
                target,
            }),
            _ => Err(v),
        }
    }
}

/// Every way setting a norm can break a rule that needs stored state.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NormError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// The depot does not exist.
    #[error("depot {0} not found")]
    DepotNotFound(DepotCode),
    /// The depot is closed.
    #[error("depot {0} is closed; it keeps no reserve")]
    DepotClosed(DepotCode),
    /// The item does not exist.
    #[error("item {0} not found")]
    ItemNotFound(ItemId),
    /// The etag sent is not the current one.
    #[error("the norm of {item} at {depot} has changed since it was read; read it again")]
    StaleEtag {
        /// Depot.
        depot: DepotCode,
        /// Item.
        item: ItemId,
    },
}

impl Failure for NormError {
    fn kind(&self) -> ErrorKind {
        match self {
            NormError::Invalid(v) => v.kind(),
            NormError::DepotNotFound(c) => ErrorKind::NotFound {
                resource: format!("depots/{c}"),
            },
            NormError::ItemNotFound(i) => ErrorKind::NotFound {
                resource: format!("items/{i}"),
            },
            NormError::DepotClosed(_) => ErrorKind::precondition("DEPOT_CLOSED", self.to_string()),
            NormError::StaleEtag { .. } => ErrorKind::Aborted {
                message: self.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_must_not_exceed_target() {
        assert!(NewNorm::parse("HB-SY", "tent-12m2", 100, 200).is_ok());
        assert!(NewNorm::parse("HB-SY", "tent-12m2", 0, 0).is_ok());
        let v = NewNorm::parse("HB-SY", "tent-12m2", 300, 200).unwrap_err();
        assert_eq!(v.as_slice()[0].field, "target");
        let v = NewNorm::parse("", "", -1, 5).unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(f, vec!["depot_code", "item_id", "minimum"]);
    }
}
