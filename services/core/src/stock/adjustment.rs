//! Adjustments: a correction of a lot's quantity, proposed with a reason and
//! posted only when someone else countersigns it.

use super::balance::{Breach, Delta};
use super::document::{
    Acting, ApprovalStatus, Decision, DocKind, DocPlan, DocRef, invalid_transition,
};
use super::entry::{AssetPlace, AssetStatus, EntryDraft, EntryType};
use super::error::StockError;
use super::fields;
use super::lot::{Lot, LotId, LotNumber, SerialNumber};
use super::pick::{AssetState, LineState, tracking_rule};
use crate::depot::{Depot, DepotCode, DepotStatus};
use crate::item::{Item, ItemId};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// An adjustment as the client proposed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdjustmentDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Lot number.
    pub lot_number: String,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<String>,
    /// Why.
    pub reason: String,
}

/// A proposed adjustment that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAdjustment {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot.
    pub lot_number: LotNumber,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers missing (negative) or found (positive).
    pub serials: Vec<SerialNumber>,
    /// Why.
    pub reason: String,
}

impl NewAdjustment {
    /// Checks the field rules of a proposed adjustment, reporting all broken ones.
    pub fn parse(d: &AdjustmentDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = v.take("lot_number", LotNumber::parse(&d.lot_number));
        let serials = fields::serials("serial_numbers", &d.serials, &mut v);
        let quantity = fields::signed_change("quantity", d.quantity, &serials, &mut v);
        let reason = v.take("reason", text::required(&d.reason, 500));
        match (depot, item, lot_number, reason) {
            (Some(depot), Some(item), Some(lot_number), Some(reason)) if v.is_empty() => {
                Ok(NewAdjustment {
                    depot,
                    item,
                    lot_number,
                    quantity,
                    serials,
                    reason,
                })
            }
            _ => Err(v),
        }
    }
}

/// An adjustment as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Id.
    pub id: String,
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Why.
    pub reason: String,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// Who proposed it.
    pub requested_by: String,
    /// When.
    pub requested_at: UtcMillis,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UtcMillis>,
    /// Decision note.
    pub decision_note: String,
    /// The posted entry.
    pub entry_id: Option<String>,
    /// Version.
    pub version: i64,
}

impl Adjustment {
    /// The reference to this adjustment.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::Adjustment, &self.id)
    }
}

/// What an adjustment touches, as loaded inside the transaction: the item,
/// the depot, the lot, the lot's line at the depot (if any) and the assets
/// with the named serial numbers, wherever they are.
#[derive(Clone, Copy, Debug)]
pub struct AdjustmentWorld<'a> {
    /// Item.
    pub item: &'a Item,
    /// Depot.
    pub depot: &'a Depot,
    /// Lot.
    pub lot: &'a Lot,
    /// The line, if the lot has one at the depot.
    pub line: Option<&'a LineState>,
    /// Assets with the named serial numbers.
    pub assets: &'a [AssetState],
}

/// What is done to an adjustment.
#[derive(Clone, Copy, Debug)]
pub enum AdjustmentAction<'a> {
    /// Propose a new one; `id` names it.
    Propose(&'a NewAdjustment, &'a str),
    /// Approve (countersign) or reject a pending one.
    Decide(&'a Decision),
}

/// Checks that the change still fits the world now: missing serials in
/// stock here, found serials unknown or allowed back on the books here, a
/// balance that stays sound.
fn check_change(
    depot: &DepotCode,
    lot_number: &LotNumber,
    quantity: i64,
    serials: &[SerialNumber],
    w: &AdjustmentWorld<'_>,
) -> Result<Delta, StockError> {
    tracking_rule(w.item, serials)?;
    if quantity > 0 && w.depot.status == DepotStatus::Closed {
        return Err(StockError::DepotNotActive {
            depot: depot.to_string(),
            status: w.depot.status.name(),
            action: "take in found stock",
        });
    }
    if w.line.is_none() && quantity < 0 {
        return Err(StockError::LotNotAtDepot {
            depot: depot.to_string(),
            item: w.item.id.to_string(),
            lot: lot_number.as_str().to_string(),
        });
    }
    if quantity < 0 {
        let here = AssetPlace::free(AssetStatus::InStock);
        for s in serials {
            match w.assets.iter().find(|a| &a.serial == s) {
                Some(a) if a.lot == w.lot.id && a.is_at(depot, &here) => {}
                found => {
                    return Err(StockError::SerialNotAvailable {
                        serial: s.to_string(),
                        status: found
                            .map(|a| format!("{} at {}", a.status.name(), a.depot))
                            .unwrap_or_else(|| "unknown".into()),
                        needed: "in stock in this lot",
                        depot: depot.to_string(),
                    });
                }
            }
        }
    } else if let Some(a) = w.assets.iter().find(|a| !a.may_enter(depot)) {
        // A found unit is new to the system, or one the books wrote off
        // here or voided: it comes back in this lot.
        return Err(StockError::SerialExists(a.serial.to_string()));
    }
    let balance = w.line.map(|l| l.balance).unwrap_or_default();
    // Units written off by quantity are free ones first, then ones held by
    // no document; named serial numbers are the in-stock units named.
    let (delta, available) = if quantity < 0 && serials.is_empty() {
        (
            balance.write_off(quantity.saturating_neg()),
            balance.writable_off(),
        )
    } else {
        (Delta::on_hand(quantity), balance.free())
    };
    match balance.check(delta) {
        Ok(_) => Ok(delta),
        Err(Breach::TooLarge) => Err(StockError::BalanceLimit(lot_number.as_str().to_string())),
        Err(_) => Err(StockError::InsufficientStock {
            depot: depot.to_string(),
            item: w.item.id.to_string(),
            lot: format!(" lot {}", lot_number.as_str()),
            requested: quantity.saturating_neg(),
            available,
        }),
    }
}

/// The one transition function of adjustments: what `action` does to
/// `current` (none for a proposal) in `world`, by `acting`.
pub fn adjustment_transition(
    current: Option<&Adjustment>,
    action: AdjustmentAction<'_>,
    acting: Acting<'_>,
    world: &AdjustmentWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<Adjustment>, StockError> {
    match (current, action) {
        (None, AdjustmentAction::Propose(n, id)) => {
            check_change(&n.depot, &n.lot_number, n.quantity, &n.serials, world)?;
            Ok(DocPlan {
                doc: Adjustment {
                    id: id.to_string(),
                    depot: n.depot.clone(),
                    item: n.item.clone(),
                    lot: world.lot.id.clone(),
                    lot_number: world.lot.number.clone(),
                    quantity: n.quantity,
                    serials: n.serials.clone(),
                    reason: n.reason.clone(),
                    status: ApprovalStatus::Pending,
                    requested_by: acting.who.to_string(),
                    requested_at: acting.now,
                    decided_by: None,
                    decided_at: None,
                    decision_note: String::new(),
                    entry_id: None,
                    version: 1,
                },
                entries: Vec::new(),
                assets: Vec::new(),
            })
        }
        (Some(a), AdjustmentAction::Decide(d)) if a.status == ApprovalStatus::Pending => {
            acting.check_etag(DocKind::Adjustment, &a.id, a.version)?;
            let decided = |entry_id: Option<String>| Adjustment {
                status: d.status(),
                decided_by: Some(acting.who.to_string()),
                decided_at: Some(acting.now),
                decision_note: d.note().to_string(),
                entry_id,
                version: a.version + 1,
                ..a.clone()
            };
            match d {
                Decision::Reject { .. } => Ok(DocPlan {
                    doc: decided(None),
                    entries: Vec::new(),
                    assets: Vec::new(),
                }),
                Decision::Approve { .. } => {
                    if a.requested_by == acting.who {
                        return Err(StockError::SamePerson {
                            action: "an adjustment",
                            who: acting.who.to_string(),
                            what: "adjustment",
                        });
                    }
                    let delta =
                        check_change(&a.depot, &a.lot_number, a.quantity, &a.serials, world)?;
                    let entry = EntryDraft::new(
                        new_id(),
                        EntryType::Adjustment,
                        &a.depot,
                        world.lot,
                        delta,
                        acting.now,
                    )
                    .reason(format!("adjustment: {}", a.reason))
                    .owned_by(&a.doc_ref())
                    .signed(&a.requested_by, acting.who)
                    .serials(a.serials.clone());
                    Ok(DocPlan {
                        doc: decided(Some(entry.id.clone())),
                        entries: vec![entry],
                        assets: Vec::new(),
                    })
                }
            }
        }
        (Some(a), AdjustmentAction::Decide(d)) => Err(invalid_transition(
            DocKind::Adjustment,
            &a.id,
            a.status.name(),
            d.verb(),
        )),
        (Some(a), AdjustmentAction::Propose(..)) => Err(invalid_transition(
            DocKind::Adjustment,
            &a.id,
            a.status.name(),
            "proposed again",
        )),
        (None, AdjustmentAction::Decide(_)) => Err(StockError::DocumentNotFound {
            kind: DocKind::Adjustment.collection(),
            id: String::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::testing::{NOW, depot, ids, item, line, lot};

    fn propose(q: i64) -> NewAdjustment {
        NewAdjustment::parse(&AdjustmentDraft {
            depot: "HB-SY".into(),
            item: "water".into(),
            lot_number: "Na".into(),
            quantity: q,
            serials: vec![],
            reason: "鼠咬损坏".into(),
        })
        .unwrap()
    }

    fn acting(who: &str) -> Acting<'_> {
        Acting {
            who,
            now: NOW,
            etag: None,
        }
    }

    #[test]
    fn an_adjustment_is_proposed_then_posted_only_by_someone_else() {
        let (it, d, l) = (item(1, 0), depot(), line("a", None, 10));
        let w = AdjustmentWorld {
            item: &it,
            depot: &d,
            lot: &l.lot,
            line: Some(&l),
            assets: &[],
        };
        let n = propose(-3);
        let p = adjustment_transition(
            None,
            AdjustmentAction::Propose(&n, "A1"),
            acting("k1"),
            &w,
            &mut ids(),
        )
        .unwrap();
        assert!(p.entries.is_empty());
        let a = p.doc;
        let approve = Decision::Approve {
            note: String::new(),
        };
        let err = adjustment_transition(
            Some(&a),
            AdjustmentAction::Decide(&approve),
            acting("k1"),
            &w,
            &mut ids(),
        )
        .unwrap_err();
        assert!(matches!(err, StockError::SamePerson { .. }));
        let p = adjustment_transition(
            Some(&a),
            AdjustmentAction::Decide(&approve),
            acting("k2"),
            &w,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(p.entries[0].delta, Delta::on_hand(-3));
        assert_eq!(p.entries[0].actor.as_deref(), Some("k1"));
        assert_eq!(p.entries[0].countersigned_by.as_deref(), Some("k2"));
        assert_eq!(p.doc.status, ApprovalStatus::Approved);
        assert_eq!(p.doc.entry_id.as_deref(), Some(p.entries[0].id.as_str()));
        // Decided is final.
        let again = adjustment_transition(
            Some(&p.doc),
            AdjustmentAction::Decide(&approve),
            acting("k2"),
            &w,
            &mut ids(),
        );
        assert!(matches!(again, Err(StockError::InvalidTransition { .. })));
        // The author may withdraw (the authority rule is in authz).
        let reject = Decision::Reject {
            reason: "录错".into(),
        };
        let p = adjustment_transition(
            Some(&a),
            AdjustmentAction::Decide(&reject),
            acting("k1"),
            &w,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(
            (p.doc.status, p.entries.len()),
            (ApprovalStatus::Rejected, 0)
        );
    }

    #[test]
    fn an_adjustment_that_no_longer_fits_is_refused_and_a_stale_etag_aborts() {
        let (it, d, l) = (item(1, 0), depot(), line("a", None, 2));
        let w = AdjustmentWorld {
            item: &it,
            depot: &d,
            lot: &l.lot,
            line: Some(&l),
            assets: &[],
        };
        let n = propose(-3);
        assert!(matches!(
            adjustment_transition(
                None,
                AdjustmentAction::Propose(&n, "A1"),
                acting("k1"),
                &w,
                &mut ids()
            ),
            Err(StockError::InsufficientStock { .. })
        ));
        let nowhere = AdjustmentWorld { line: None, ..w };
        assert!(matches!(
            adjustment_transition(
                None,
                AdjustmentAction::Propose(&propose(-1), "A1"),
                acting("k1"),
                &nowhere,
                &mut ids()
            ),
            Err(StockError::LotNotAtDepot { .. })
        ));
        let fresh_lot = lot("b", None);
        let found = AdjustmentWorld {
            lot: &fresh_lot,
            ..nowhere
        };
        let a = adjustment_transition(
            None,
            AdjustmentAction::Propose(&propose(4), "A2"),
            acting("k1"),
            &found,
            &mut ids(),
        )
        .unwrap()
        .doc;
        let stale = Acting {
            etag: Some(crate::request::Etag::of(7)),
            ..acting("k2")
        };
        let approve = Decision::Approve {
            note: String::new(),
        };
        assert!(matches!(
            adjustment_transition(
                Some(&a),
                AdjustmentAction::Decide(&approve),
                stale,
                &found,
                &mut ids()
            ),
            Err(StockError::StaleEtag { .. })
        ));
    }

    #[test]
    fn a_found_unit_written_off_here_or_voided_comes_back_and_others_are_refused() {
        use crate::stock::pick::AssetState;
        let (it, d, l) = (item(2, 0), depot(), line("a", None, 1));
        let asset = |depot: &str, status| AssetState {
            serial: SerialNumber::from_stored("G1".into()),
            lot: LotId("b".into()),
            depot: DepotCode::from_stored(depot.into()),
            status,
            holder: None,
        };
        let found = NewAdjustment {
            quantity: 1,
            serials: vec![SerialNumber::from_stored("G1".into())],
            ..propose(1)
        };
        let plan = |a: AssetState| {
            let assets = [a];
            let w = AdjustmentWorld {
                item: &it,
                depot: &d,
                lot: &l.lot,
                line: Some(&l),
                assets: &assets,
            };
            let doc = adjustment_transition(
                None,
                AdjustmentAction::Propose(&found, "A1"),
                acting("k1"),
                &w,
                &mut ids(),
            )?
            .doc;
            let approve = Decision::Approve {
                note: String::new(),
            };
            adjustment_transition(
                Some(&doc),
                AdjustmentAction::Decide(&approve),
                acting("k2"),
                &w,
                &mut ids(),
            )
        };
        for back in [
            asset("HB-SY", AssetStatus::Missing),
            asset("HB-SY-ZS", AssetStatus::Void),
        ] {
            let e = plan(back).unwrap().entries.remove(0);
            assert_eq!(e.delta, Delta::on_hand(1));
            let m = e.assets.unwrap();
            assert_eq!(
                (m.from, m.to),
                (None, AssetPlace::free(AssetStatus::InStock))
            );
        }
        for still in [
            asset("HB-SY-ZS", AssetStatus::Missing),
            asset("HB-SY", AssetStatus::InStock),
            asset("HB-SY", AssetStatus::Issued),
            asset("HB-SY", AssetStatus::Scrapped),
        ] {
            assert_eq!(
                plan(still).unwrap_err(),
                StockError::SerialExists("G1".into())
            );
        }
    }

    #[test]
    fn a_write_off_takes_free_units_then_holds_no_document_owns() {
        let (it, d) = (item(1, 0), depot());
        let mut l = line("a", None, 10);
        // All ten held, two of them by a scrap application.
        l.balance.held = 10;
        l.balance.doc_held = 2;
        let w = AdjustmentWorld {
            item: &it,
            depot: &d,
            lot: &l.lot,
            line: Some(&l),
            assets: &[],
        };
        let decide = |q: i64| {
            let a = adjustment_transition(
                None,
                AdjustmentAction::Propose(&propose(q), "A1"),
                acting("k1"),
                &w,
                &mut ids(),
            )?
            .doc;
            let approve = Decision::Approve {
                note: String::new(),
            };
            adjustment_transition(
                Some(&a),
                AdjustmentAction::Decide(&approve),
                acting("k2"),
                &w,
                &mut ids(),
            )
        };
        let p = decide(-8).unwrap();
        assert_eq!(
            p.entries[0].delta,
            Delta {
                on_hand: -8,
                held: -8,
                ..Delta::default()
            }
        );
        assert!(matches!(
            decide(-9),
            Err(StockError::InsufficientStock {
                requested: 9,
                available: 8,
                ..
            })
        ));
    }

    #[test]
    fn an_adjustment_needs_a_reason_and_a_bounded_non_zero_change() {
        let draft = |q: i64, serials: Vec<String>, reason: &str| AdjustmentDraft {
            depot: "HB-SY-ZS".into(),
            item: "quilt".into(),
            lot_number: "Q1".into(),
            quantity: q,
            serials,
            reason: reason.into(),
        };
        let v = NewAdjustment::parse(&draft(0, vec![], " ")).unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(f, vec!["quantity", "reason"]);
        for q in [i64::MIN, i64::MAX, 1_000_000_001] {
            let v = NewAdjustment::parse(&draft(q, vec![], "盘亏")).unwrap_err();
            assert_eq!(v.as_slice()[0].field, "quantity");
        }
        let v =
            NewAdjustment::parse(&draft(1, vec!["S1".into(), "S2".into()], "盘亏")).unwrap_err();
        assert_eq!(v.as_slice()[0].field, "quantity");
    }
}
