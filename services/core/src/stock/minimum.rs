//! The reserve minimum (储备定额下限): one rule for every path that takes
//! units out of what a depot has available (issues now; orders, holds and
//! leases as they come).

use super::error::StockError;
use crate::depot::DepotCode;
use crate::item::ItemId;
use serde::{Deserialize, Serialize};

/// A decision to go below the reserve minimum, kept with the movement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinimumOverride {
    /// The minimum that was broken.
    pub minimum: i64,
    /// Units available after the movement.
    pub left: i64,
    /// Why it was allowed.
    pub reason: String,
}

/// Checks that taking `quantity` out of `available` units of `item` at
/// `depot` keeps its reserve `minimum` (0 = no norm). Going below needs a
/// reason (`override_reason`); the override is returned to be recorded.
pub fn check_minimum(
    depot: &DepotCode,
    item: &ItemId,
    minimum: i64,
    available: i64,
    quantity: i64,
    override_reason: Option<&str>,
) -> Result<Option<MinimumOverride>, StockError> {
    let left = available.saturating_sub(quantity);
    if minimum <= 0 || left >= minimum {
        return Ok(None);
    }
    match override_reason {
        Some(reason) => Ok(Some(MinimumOverride {
            minimum,
            left,
            reason: reason.to_string(),
        })),
        None => Err(StockError::BelowReserveMinimum {
            depot: depot.to_string(),
            item: item.to_string(),
            minimum,
            after: left,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn going_below_the_minimum_needs_a_reason_which_is_kept() {
        let d = DepotCode::from_stored("HB-SY".into());
        let i = ItemId::from_stored("quilt".into());
        assert_eq!(check_minimum(&d, &i, 80, 100, 20, None), Ok(None));
        assert_eq!(check_minimum(&d, &i, 0, 100, 100, None), Ok(None));
        assert!(matches!(
            check_minimum(&d, &i, 80, 100, 30, None),
            Err(StockError::BelowReserveMinimum {
                minimum: 80,
                after: 70,
                ..
            })
        ));
        let o = check_minimum(&d, &i, 80, 100, 30, Some("县指挥部口头命令"))
            .unwrap()
            .unwrap();
        assert_eq!((o.minimum, o.left), (80, 70));
    }
}
