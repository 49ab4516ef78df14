//! The balance of one lot at one depot and the arithmetic that keeps it sound:
//! on hand, reserved and held never negative, reserved + held never above on hand.

use serde::{Deserialize, Serialize};

/// The largest quantity one movement may carry.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// Units of one lot at one depot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Units in the depot.
    pub on_hand: i64,
    /// Units promised to approved orders.
    pub reserved: i64,
    /// Units held (quarantine, damage, repair, pending scrap).
    pub held: i64,
}

/// A signed change of a balance; what one ledger entry does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// Change of on hand.
    pub on_hand: i64,
    /// Change of reserved.
    pub reserved: i64,
    /// Change of held.
    pub held: i64,
}

impl Delta {
    /// A change of on hand only.
    pub fn on_hand(q: i64) -> Self {
        Self {
            on_hand: q,
            ..Self::default()
        }
    }

    /// A change of held only.
    pub fn held(q: i64) -> Self {
        Self {
            held: q,
            ..Self::default()
        }
    }

    /// The change that undoes this one.
    pub fn negated(self) -> Self {
        Self {
            on_hand: -self.on_hand,
            reserved: -self.reserved,
            held: -self.held,
        }
    }

    /// Whether the change does nothing.
    pub fn is_zero(self) -> bool {
        self == Self::default()
    }
}

impl Balance {
    /// Units neither reserved nor held, whatever the expiry.
    pub fn free(&self) -> i64 {
        self.on_hand - self.reserved - self.held
    }

    /// Units that can be issued now: free units, or none if the lot is expired.
    pub fn available(&self, expired: bool) -> i64 {
        if expired { 0 } else { self.free() }
    }

    /// Whether every rule of a balance holds.
    pub fn is_sound(&self) -> bool {
        self.on_hand >= 0
            && self.reserved >= 0
            && self.held >= 0
            && self.reserved + self.held <= self.on_hand
    }

    /// The balance after `d`, or `None` if it would break a rule (or overflow).
    pub fn apply(&self, d: Delta) -> Option<Balance> {
        let b = Balance {
            on_hand: self.on_hand.checked_add(d.on_hand)?,
            reserved: self.reserved.checked_add(d.reserved)?,
            held: self.held.checked_add(d.held)?,
        };
        b.is_sound().then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Balance = Balance {
        on_hand: 10,
        reserved: 3,
        held: 2,
    };

    #[test]
    fn available_is_what_is_neither_reserved_nor_held_and_nothing_when_expired() {
        assert_eq!(B.free(), 5);
        assert_eq!(B.available(false), 5);
        assert_eq!(B.available(true), 0);
    }

    #[test]
    fn a_change_that_breaks_a_rule_is_refused() {
        assert_eq!(B.apply(Delta::on_hand(-5)).unwrap().on_hand, 5);
        assert!(
            B.apply(Delta::on_hand(-6)).is_none(),
            "reserved + held would exceed on hand"
        );
        assert!(
            B.apply(Delta::held(6)).is_none(),
            "reserved + held would exceed on hand"
        );
        assert!(B.apply(Delta::held(-3)).is_none(), "held would go negative");
        assert!(B.apply(Delta::on_hand(i64::MAX)).is_none(), "overflow");
        assert_eq!(B.apply(Delta::held(5)).unwrap().held, 7);
    }

    #[test]
    fn a_negated_change_undoes_it() {
        let d = Delta {
            on_hand: -2,
            reserved: 0,
            held: -2,
        };
        assert_eq!(B.apply(d).unwrap().apply(d.negated()).unwrap(), B);
    }
}
