//! Reversals: a mistaken receipt, issue, hold or release corrected by a new
//! entry that points at it. Entries of documents are decided by their
//! documents, no reversal takes units a document holds, and none brings
//! stock back into a depot that is not active.

use super::balance::Breach;
use super::document::DocRef;
use super::entry::{EntryDraft, EntryType, LedgerEntry, asset_transition};
use super::error::StockError;
use super::lot::LotId;
use super::pick::{AssetState, LineState};
use crate::depot::{Depot, DepotStatus};
use crate::time::UtcMillis;

/// Why an entry cannot be reversed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotReversible {
    /// It was reversed already.
    AlreadyReversed,
    /// It is itself a reversal.
    IsReversal,
    /// Its kind is corrected another way (two signatures, or an order).
    Kind(EntryType),
    /// It belongs to a document, which decides it.
    Document(DocRef),
}

/// Decides the reversal of `original` on its line as it is now, at its
/// depot as it is now. `reversed` says whether some entry already reverses
/// it; `assets` are the original's serials as they are now; `holders` the
/// open documents holding units on the line (named in the refusal).
#[allow(clippy::too_many_arguments)]
pub fn plan_reversal(
    original: &LedgerEntry,
    reversed: bool,
    depot: &Depot,
    line: &LineState,
    assets: &[AssetState],
    holders: &[(LotId, DocRef)],
    reason: &str,
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> Result<EntryDraft, StockError> {
    let refuse = |n: NotReversible| Err(StockError::from(n));
    if reversed {
        return refuse(NotReversible::AlreadyReversed);
    }
    if original.kind == EntryType::Reversal {
        return refuse(NotReversible::IsReversal);
    }
    if !matches!(
        original.kind,
        EntryType::Receipt
            | EntryType::OpeningBalance
            | EntryType::Issue
            | EntryType::Hold
            | EntryType::Release
    ) {
        return refuse(NotReversible::Kind(original.kind));
    }
    if let Some(doc) = &original.owner {
        return refuse(NotReversible::Document(doc.clone()));
    }
    let delta = original.delta.negated();
    // Undoing an issue puts units back on the shelf: not into a depot that
    // has closed (or is suspended) since.
    if delta.on_hand > 0 && depot.status != DepotStatus::Active {
        return Err(StockError::DepotNotActive {
            depot: depot.code.to_string(),
            status: depot.status.name(),
            action: "take stock back in",
        });
    }
    let lot_number = original.lot_number.as_str().to_string();
    match line.balance.check(delta) {
        Ok(_) => {}
        Err(Breach::HeldByDocument { free_held }) => {
            return Err(StockError::HeldByDocument {
                lot: lot_number,
                free_held,
                requested: -delta.held,
                holders: holders
                    .iter()
                    .filter(|(l, _)| *l == original.lot)
                    .map(|(_, d)| d.to_string())
                    .collect(),
            });
        }
        Err(Breach::NotHeld { held }) => {
            return Err(StockError::NotReversible(format!(
                "lot {lot_number} has {held} held unit(s) now; the units this hold held were released since, so there is nothing to un-hold"
            )));
        }
        Err(Breach::TooLarge) => return Err(StockError::BalanceLimit(lot_number)),
        // Lease entries are the lease's and never reversed; kept for the
        // exhaustive match.
        Err(Breach::NotOnLease { .. }) => {
            return Err(StockError::NotReversible(format!(
                "lot {lot_number}: the units are out on a lease; its return brings them back"
            )));
        }
        Err(Breach::Short { free }) => {
            return Err(StockError::InsufficientStock {
                depot: original.depot.to_string(),
                item: original.item.to_string(),
                lot: format!(" lot {lot_number}"),
                requested: -delta.on_hand.min(delta.held).min(0),
                available: free,
            });
        }
    }
    let undo = if original.serials.is_empty() {
        None
    } else {
        asset_transition(original.kind, original.delta, None).map(|m| m.undo())
    };
    if let Some(from) = undo.as_ref().and_then(|m| m.from.as_ref()) {
        let moved_on = original.serials.iter().find(|s| {
            !assets
                .iter()
                .any(|a| &a.serial == *s && a.is_at(&original.depot, from))
        });
        if let Some(s) = moved_on {
            return Err(StockError::NotReversible(format!(
                "serial number {s} of entry {} is no longer {}; reverse the later movement first",
                original.id,
                from.status.name()
            )));
        }
    }
    let mut e = EntryDraft::new(
        new_id(),
        EntryType::Reversal,
        &original.depot,
        &line.lot,
        delta,
        now,
    )
    .reason(format!(
        "reversal of {} {}: {reason}",
        original.kind.name(),
        original.id
    ))
    .paper(&original.document, &original.counterparty)
    .serials(original.serials.clone());
    e.assets = undo;
    e.reverses = Some(original.id.clone());
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::depot::DepotCode;
    use crate::depot::DepotStatus;
    use crate::item::ItemId;
    use crate::stock::balance::{Balance, Delta};
    use crate::stock::document::DocKind;
    use crate::stock::entry::{AssetPlace, AssetStatus};
    use crate::stock::lot::{LotNumber, SerialNumber};
    use crate::stock::testing::{NOW, depot, ids, line};

    fn entry(kind: EntryType, delta: Delta, serials: &[&str]) -> LedgerEntry {
        LedgerEntry {
            id: "e1".into(),
            seq: 1,
            kind,
            depot: DepotCode::from_stored("HB-SY".into()),
            item: ItemId::from_stored("water".into()),
            lot: LotId("a".into()),
            lot_number: LotNumber::from_stored("Na".into()),
            delta,
            reason: String::new(),
            document: String::new(),
            owner: None,
            counterparty: String::new(),
            occurred_at: 0,
            recorded_at: 0,
            actor: "k".into(),
            countersigned_by: None,
            reverses: None,
            serials: serials
                .iter()
                .map(|s| SerialNumber::from_stored(s.to_string()))
                .collect(),
            request_id: "r".into(),
            incident: None,
        }
    }

    fn reverse(e: &LedgerEntry, reversed: bool, l: &LineState) -> Result<EntryDraft, StockError> {
        plan_reversal(e, reversed, &depot(), l, &[], &[], "录错", NOW, &mut ids())
    }

    #[test]
    fn receipts_issues_holds_and_releases_reverse_into_their_opposite() {
        let l = line("a", None, 10);
        let d = reverse(
            &entry(EntryType::Receipt, Delta::on_hand(5), &[]),
            false,
            &l,
        )
        .unwrap();
        assert_eq!(
            (d.delta, d.reverses.as_deref()),
            (Delta::on_hand(-5), Some("e1"))
        );
        let mut held = l.clone();
        held.balance.held = 2;
        let d = reverse(&entry(EntryType::Hold, Delta::held(2), &[]), false, &held).unwrap();
        assert_eq!(d.delta, Delta::held(-2));
    }

    #[test]
    fn a_reversal_never_takes_units_a_document_holds() {
        // Hold 5, release 5, a scrap application holds 5: the hold's units are gone.
        let mut l = line("a", None, 10);
        l.balance = Balance {
            on_hand: 10,
            reserved: 0,
            held: 5,
            doc_held: 5,
            on_lease: 0,
        };
        let app = DocRef::new(DocKind::ScrapApplication, "S1");
        let err = plan_reversal(
            &entry(EntryType::Hold, Delta::held(5), &[]),
            false,
            &depot(),
            &l,
            &[],
            &[(LotId("a".into()), app)],
            "录错",
            NOW,
            &mut ids(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, StockError::HeldByDocument { free_held: 0, holders, .. } if holders.len() == 1),
            "{err:?}"
        );
        // A hold whose units were plainly released since has nothing to un-hold.
        l.balance.held = 0;
        l.balance.doc_held = 0;
        let err = reverse(&entry(EntryType::Hold, Delta::held(5), &[]), false, &l).unwrap_err();
        assert!(matches!(err, StockError::NotReversible(_)));
    }

    #[test]
    fn documents_two_signature_entries_reversals_and_repeats_are_not_reversible() {
        let l = line("a", None, 10);
        for kind in [EntryType::Adjustment, EntryType::Scrap, EntryType::Reversal] {
            assert!(reverse(&entry(kind, Delta::on_hand(-1), &[]), false, &l).is_err());
        }
        let rec = entry(EntryType::Receipt, Delta::on_hand(1), &[]);
        assert!(reverse(&rec, true, &l).is_err());
        let mut owned = entry(EntryType::Hold, Delta::doc_held(1), &[]);
        owned.owner = Some(DocRef::new(DocKind::ScrapApplication, "S1"));
        assert!(matches!(
            reverse(&owned, false, &l),
            Err(StockError::NotReversible(m)) if m.contains("scrap application S1")
        ));
    }

    #[test]
    fn no_reversal_brings_stock_back_into_a_depot_that_is_not_active() {
        let l = line("a", None, 0);
        let issue = entry(EntryType::Issue, Delta::on_hand(-5), &[]);
        for status in [DepotStatus::Closed, DepotStatus::Suspended] {
            let d = Depot { status, ..depot() };
            let err = plan_reversal(&issue, false, &d, &l, &[], &[], "录错", NOW, &mut ids())
                .unwrap_err();
            assert!(
                matches!(err, StockError::DepotNotActive { .. }),
                "{status:?}: {err:?}"
            );
        }
        // Taking units out again is no entry of stock.
        let l = line("a", None, 5);
        let receipt = entry(EntryType::Receipt, Delta::on_hand(5), &[]);
        let d = Depot {
            status: DepotStatus::Suspended,
            ..depot()
        };
        let undo = plan_reversal(&receipt, false, &d, &l, &[], &[], "录错", NOW, &mut ids());
        assert_eq!(undo.unwrap().delta, Delta::on_hand(-5));
    }

    #[test]
    fn a_serial_reversal_needs_every_asset_where_the_entry_left_it() {
        let l = line("a", None, 2);
        let issue = entry(EntryType::Issue, Delta::on_hand(-1), &["G1"]);
        let asset = |status| AssetState {
            serial: SerialNumber::from_stored("G1".into()),
            lot: LotId("a".into()),
            depot: DepotCode::from_stored("HB-SY".into()),
            status,
            holder: None,
        };
        let d = plan_reversal(
            &issue,
            false,
            &depot(),
            &l,
            &[asset(AssetStatus::Issued)],
            &[],
            "录错",
            NOW,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(d.assets.unwrap().to, AssetPlace::free(AssetStatus::InStock));
        let err = plan_reversal(
            &issue,
            false,
            &depot(),
            &l,
            &[asset(AssetStatus::Scrapped)],
            &[],
            "录错",
            NOW,
            &mut ids(),
        )
        .unwrap_err();
        assert!(matches!(err, StockError::NotReversible(_)));
    }
}
