//! Arithmetic of the stock reports: shortfall against reserve norms and the
//! replacement quantities of rotation candidates.

use serde::{Deserialize, Serialize};

/// How far a depot is below its norm for an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortfall {
    /// Whether available is below the minimum.
    pub below_minimum: bool,
    /// Units missing to reach the minimum.
    pub short_of_minimum: i64,
    /// Units missing to reach the target.
    pub short_of_target: i64,
}

/// The shortfall of `available` against a norm, or `None` if the target is met.
pub fn shortfall(minimum: i64, target: i64, available: i64) -> Option<Shortfall> {
    (available < target).then(|| Shortfall {
        below_minimum: available < minimum,
        short_of_minimum: (minimum - available).max(0),
        short_of_target: target - available,
    })
}

/// How many units to buy to replace expiring lots. `expiring` are the
/// rotatable quantities of one depot's expiring lots of one item, soonest
/// first; `available` is everything available of the item there. With a
/// target, the depot must still reach it once the expiring units are gone;
/// without a norm, lots are replaced like for like. The need is spread over
/// the lots in order, each getting at most its own quantity.
pub fn replacements(target: Option<i64>, available: i64, expiring: &[i64]) -> Vec<i64> {
    let leaving: i64 = expiring.iter().sum();
    let mut need = match target {
        Some(t) => (t - (available - leaving)).max(0),
        None => leaving,
    };
    expiring
        .iter()
        .map(|q| {
            let n = need.min(*q).max(0);
            need -= n;
            n
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortfall_is_reported_below_the_target_and_flagged_below_the_minimum() {
        assert_eq!(shortfall(50, 100, 100), None);
        assert_eq!(
            shortfall(50, 100, 70),
            Some(Shortfall {
                below_minimum: false,
                short_of_minimum: 0,
                short_of_target: 30
            })
        );
        assert!(shortfall(50, 100, 10).unwrap().below_minimum);
        assert_eq!(shortfall(0, 0, 0), None);
    }

    #[test]
    fn replacements_keep_the_target_or_replace_like_for_like() {
        // 300 available, 120 of it expiring in two lots, target 250: buy 70.
        assert_eq!(replacements(Some(250), 300, &[50, 70]), vec![50, 20]);
        // Plenty beside the expiring lots: buy nothing.
        assert_eq!(replacements(Some(100), 300, &[50]), vec![0]);
        // No norm: replace what leaves.
        assert_eq!(replacements(None, 80, &[30, 10]), vec![30, 10]);
    }
}
