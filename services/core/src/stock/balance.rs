//! The balance of one lot at one depot and the arithmetic that keeps it sound:
//! nothing negative, reserved + held never above on hand, and the units that
//! documents hold a part of held that only those documents release.

use serde::{Deserialize, Serialize};

/// The largest quantity one movement, adjustment or counted line may carry.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// The most units one line may hold; a guard against runaway sums, far above
/// any real depot (a million tents is 10^6).
pub const MAX_BALANCE: i64 = 1_000_000_000_000;

/// Units of one lot at one depot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Units in the depot.
    pub on_hand: i64,
    /// Units promised to approved orders.
    pub reserved: i64,
    /// Units held (quarantine, damage, repair, pending scrap), by anyone.
    pub held: i64,
    /// Of `held`, the units documents hold (a pending scrap application);
    /// only those documents' own decisions release them.
    pub doc_held: i64,
    /// Units out on lease from this line: no longer on hand, owned by the
    /// leases that carry them, back only by their returns.
    #[serde(default)]
    pub on_lease: i64,
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
    /// Change of the units documents hold (part of `held`).
    pub doc_held: i64,
    /// Change of the units out on lease.
    #[serde(default)]
    pub on_lease: i64,
}

impl Delta {
    /// A change of on hand only.
    pub fn on_hand(q: i64) -> Self {
        Self {
            on_hand: q,
            ..Self::default()
        }
    }

    /// A change of free holds (held, not by a document).
    pub fn held(q: i64) -> Self {
        Self {
            held: q,
            ..Self::default()
        }
    }

    /// Units leaving on hand for a lease (`q > 0`) or coming back from one.
    pub fn lease_out(q: i64) -> Self {
        Self {
            on_hand: -q,
            on_lease: q,
            ..Self::default()
        }
    }

    /// A change of units a document holds (held and held by documents).
    pub fn doc_held(q: i64) -> Self {
        Self {
            held: q,
            doc_held: q,
            ..Self::default()
        }
    }

    /// The change that undoes this one.
    pub fn negated(self) -> Self {
        Self {
            on_hand: -self.on_hand,
            reserved: -self.reserved,
            held: -self.held,
            doc_held: -self.doc_held,
            on_lease: -self.on_lease,
        }
    }

    /// Whether the change does nothing.
    pub fn is_zero(self) -> bool {
        self == Self::default()
    }
}

/// Which rule a change of a balance would break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breach {
    /// It needs more free units (neither reserved nor held) than there are,
    /// or would take on hand below zero.
    Short {
        /// Free units now.
        free: i64,
    },
    /// It would release or take units a document holds.
    HeldByDocument {
        /// Held units that no document holds.
        free_held: i64,
    },
    /// It would release more held or reserved units than there are.
    NotHeld {
        /// Units held now.
        held: i64,
    },
    /// It would bring back more units from lease than are out.
    NotOnLease {
        /// Units on lease now.
        on_lease: i64,
    },
    /// It would take the line above [`MAX_BALANCE`] (or overflow).
    TooLarge,
}

impl Balance {
    /// Units neither reserved nor held, whatever the expiry.
    pub fn free(&self) -> i64 {
        self.on_hand - self.reserved - self.held
    }

    /// Held units that no document holds: what a plain release may release.
    pub fn free_held(&self) -> i64 {
        self.held - self.doc_held
    }

    /// The change that writes off `q` units found missing: free units
    /// first, then held units no document holds (their holds go with them);
    /// never reserved units or units a document holds. [`Balance::check`]
    /// refuses it when even those are too few.
    pub fn write_off(&self, q: i64) -> Delta {
        let from_held = q
            .saturating_sub(self.free().max(0))
            .clamp(0, self.free_held().max(0));
        Delta {
            on_hand: q.saturating_neg(),
            held: -from_held,
            ..Delta::default()
        }
    }

    /// Units that can be written off: free units and held units no
    /// document holds.
    pub fn writable_off(&self) -> i64 {
        self.free() + self.free_held()
    }

    /// Units that can be issued now: free units, or none if the lot is expired.
    pub fn available(&self, expired: bool) -> i64 {
        if expired { 0 } else { self.free() }
    }

    /// Whether every rule of a balance holds. The database CHECK and the
    /// guarded update state exactly these rules.
    pub fn is_sound(&self) -> bool {
        self.on_hand >= 0
            && self.on_hand <= MAX_BALANCE
            && self.reserved >= 0
            && self.held >= 0
            && self.doc_held >= 0
            && self.doc_held <= self.held
            && self.on_lease >= 0
            && self.on_lease <= MAX_BALANCE
            && self.reserved + self.held <= self.on_hand
    }

    /// The balance after `d`, or which rule it would break.
    pub fn check(&self, d: Delta) -> Result<Balance, Breach> {
        let add = |a: i64, b: i64| a.checked_add(b).ok_or(Breach::TooLarge);
        let b = Balance {
            on_hand: add(self.on_hand, d.on_hand)?,
            reserved: add(self.reserved, d.reserved)?,
            held: add(self.held, d.held)?,
            doc_held: add(self.doc_held, d.doc_held)?,
            on_lease: add(self.on_lease, d.on_lease)?,
        };
        if b.is_sound() {
            return Ok(b);
        }
        Err(if b.on_hand > MAX_BALANCE || b.on_lease > MAX_BALANCE {
            Breach::TooLarge
        } else if b.on_lease < 0 {
            Breach::NotOnLease {
                on_lease: self.on_lease,
            }
        } else if b.doc_held < 0 || b.reserved < 0 || (b.held < 0 && d.doc_held == 0) {
            Breach::NotHeld { held: self.held }
        } else if b.doc_held > b.held || (b.held < 0 && d.doc_held != 0) {
            Breach::HeldByDocument {
                free_held: self.free_held(),
            }
        } else {
            Breach::Short { free: self.free() }
        })
    }

    /// The balance after `d`, or `None` if it would break a rule.
    pub fn apply(&self, d: Delta) -> Option<Balance> {
        self.check(d).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Balance = Balance {
        on_hand: 10,
        reserved: 3,
        held: 2,
        doc_held: 0,
        on_lease: 0,
    };

    #[test]
    fn available_is_what_is_neither_reserved_nor_held_and_nothing_when_expired() {
        assert_eq!(B.free(), 5);
        assert_eq!(B.available(false), 5);
        assert_eq!(B.available(true), 0);
    }

    #[test]
    fn a_change_that_breaks_a_rule_is_refused_with_the_rule() {
        assert_eq!(B.apply(Delta::on_hand(-5)).unwrap().on_hand, 5);
        assert_eq!(B.check(Delta::on_hand(-6)), Err(Breach::Short { free: 5 }));
        assert_eq!(B.check(Delta::held(6)), Err(Breach::Short { free: 5 }));
        assert_eq!(B.check(Delta::held(-3)), Err(Breach::NotHeld { held: 2 }));
        assert_eq!(B.check(Delta::on_hand(i64::MAX)), Err(Breach::TooLarge));
        assert_eq!(B.check(Delta::on_hand(MAX_BALANCE)), Err(Breach::TooLarge));
        assert_eq!(B.apply(Delta::held(5)).unwrap().held, 7);
    }

    #[test]
    fn units_a_document_holds_are_not_released_or_taken_by_anything_else() {
        let b = B.apply(Delta::doc_held(4)).unwrap();
        assert_eq!((b.held, b.doc_held, b.free_held()), (6, 4, 2));
        // A plain release of more than the free holds would take the document's units.
        assert_eq!(
            b.check(Delta::held(-3)),
            Err(Breach::HeldByDocument { free_held: 2 })
        );
        assert!(b.apply(Delta::held(-2)).is_some());
        // The document's own decision releases them.
        assert_eq!(b.apply(Delta::doc_held(-4)).unwrap().held, 2);
        assert_eq!(
            b.check(Delta::doc_held(-5)),
            Err(Breach::NotHeld { held: 6 })
        );
        // Writing off on hand cannot eat into held units either.
        assert_eq!(b.check(Delta::on_hand(-2)), Err(Breach::Short { free: 1 }));
    }

    #[test]
    fn a_write_off_takes_free_units_first_then_free_holds_never_a_documents() {
        // 10 on hand, 3 reserved, 2 held of which 1 by a document: 5 free, 1 free hold.
        let b = Balance { doc_held: 1, ..B };
        assert_eq!(b.write_off(4), Delta::on_hand(-4));
        let all = b.write_off(6);
        assert_eq!(
            all,
            Delta {
                on_hand: -6,
                held: -1,
                ..Delta::default()
            }
        );
        let after = b.apply(all).unwrap();
        assert_eq!((after.held, after.doc_held, after.free()), (1, 1, 0));
        assert_eq!(b.writable_off(), 6);
        // One more would take reserved units or the document's.
        assert!(matches!(b.check(b.write_off(7)), Err(Breach::Short { .. })));
    }

    #[test]
    fn a_negated_change_undoes_it() {
        let d = Delta {
            on_hand: -2,
            reserved: 0,
            held: -2,
            doc_held: -1,
            on_lease: 0,
        };
        let start = B.apply(Delta::doc_held(1)).unwrap();
        assert_eq!(start.apply(d).unwrap().apply(d.negated()).unwrap(), start);
    }
}
