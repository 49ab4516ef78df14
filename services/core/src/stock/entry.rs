//! Ledger entries, asset statuses, and which entries a reversal may undo.

use super::balance::Delta;
use super::lot::{LotId, LotNumber, SerialNumber};
use crate::depot::DepotCode;
use crate::item::ItemId;
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};

/// Kind of a ledger entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryType {
    /// Stock received.
    Receipt,
    /// Stock issued to an incident or for use.
    Issue,
    /// Stock leaving on an allocation order.
    TransferOut,
    /// Stock arriving on an allocation order.
    TransferIn,
    /// A countersigned correction.
    Adjustment,
    /// Units written off after approval.
    Scrap,
    /// Units leased out.
    LeaseOut,
    /// Leased units back.
    LeaseReturn,
    /// Units held.
    Hold,
    /// Held units released.
    Release,
    /// Units recovered after use.
    Recovery,
    /// The undoing of an earlier entry.
    Reversal,
}

impl EntryType {
    /// Every type.
    pub const ALL: [EntryType; 12] = [
        EntryType::Receipt,
        EntryType::Issue,
        EntryType::TransferOut,
        EntryType::TransferIn,
        EntryType::Adjustment,
        EntryType::Scrap,
        EntryType::LeaseOut,
        EntryType::LeaseReturn,
        EntryType::Hold,
        EntryType::Release,
        EntryType::Recovery,
        EntryType::Reversal,
    ];

    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            EntryType::Receipt => 1,
            EntryType::Issue => 2,
            EntryType::TransferOut => 3,
            EntryType::TransferIn => 4,
            EntryType::Adjustment => 5,
            EntryType::Scrap => 6,
            EntryType::LeaseOut => 7,
            EntryType::LeaseReturn => 8,
            EntryType::Hold => 9,
            EntryType::Release => 10,
            EntryType::Recovery => 11,
            EntryType::Reversal => 12,
        }
    }

    /// The type with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.number() == n)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            EntryType::Receipt => "receipt",
            EntryType::Issue => "issue",
            EntryType::TransferOut => "transfer out",
            EntryType::TransferIn => "transfer in",
            EntryType::Adjustment => "adjustment",
            EntryType::Scrap => "scrap",
            EntryType::LeaseOut => "lease out",
            EntryType::LeaseReturn => "lease return",
            EntryType::Hold => "hold",
            EntryType::Release => "release",
            EntryType::Recovery => "recovery",
            EntryType::Reversal => "reversal",
        }
    }
}

/// Where a serialised asset is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssetStatus {
    /// In the depot, available.
    InStock,
    /// In the depot, held.
    Held,
    /// Issued out.
    Issued,
    /// Scrapped.
    Scrapped,
    /// Written off as missing.
    Missing,
    /// Its receipt was reversed.
    Void,
}

impl AssetStatus {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            AssetStatus::InStock => 1,
            AssetStatus::Held => 2,
            AssetStatus::Issued => 3,
            AssetStatus::Scrapped => 4,
            AssetStatus::Missing => 5,
            AssetStatus::Void => 6,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        [
            AssetStatus::InStock,
            AssetStatus::Held,
            AssetStatus::Issued,
            AssetStatus::Scrapped,
            AssetStatus::Missing,
            AssetStatus::Void,
        ]
        .into_iter()
        .find(|s| s.number() == n)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            AssetStatus::InStock => "in stock",
            AssetStatus::Held => "held",
            AssetStatus::Issued => "issued",
            AssetStatus::Scrapped => "scrapped",
            AssetStatus::Missing => "missing",
            AssetStatus::Void => "void",
        }
    }

    /// Whether the asset is physically in the depot (counts towards on hand).
    pub fn on_hand(self) -> bool {
        matches!(self, AssetStatus::InStock | AssetStatus::Held)
    }
}

/// One entry of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Server-assigned id.
    pub id: String,
    /// Position in the ledger (0 until stored).
    pub seq: i64,
    /// Kind.
    pub kind: EntryType,
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// What it does to the balance.
    pub delta: Delta,
    /// Why.
    pub reason: String,
    /// The document it belongs to.
    pub document: String,
    /// Who the stock came from or went to.
    pub counterparty: String,
    /// Business time.
    pub occurred_at: UtcMillis,
    /// Recording time.
    pub recorded_at: UtcMillis,
    /// Who recorded it.
    pub actor: String,
    /// Who countersigned it.
    pub countersigned_by: Option<String>,
    /// The entry it reverses.
    pub reverses: Option<String>,
    /// Serial numbers moved.
    pub serials: Vec<SerialNumber>,
    /// Request id it was recorded under.
    pub request_id: String,
}

/// The asset status an entry of `kind` with this sign moves serials from and to.
/// `None` as the source means the asset is new.
pub fn asset_transition(
    kind: EntryType,
    delta: Delta,
) -> Option<(Option<AssetStatus>, AssetStatus)> {
    use AssetStatus::*;
    match kind {
        EntryType::Receipt
        | EntryType::TransferIn
        | EntryType::Recovery
        | EntryType::LeaseReturn => Some((None, InStock)),
        EntryType::Issue | EntryType::TransferOut | EntryType::LeaseOut => {
            Some((Some(InStock), Issued))
        }
        EntryType::Hold => Some((Some(InStock), Held)),
        EntryType::Release => Some((Some(Held), InStock)),
        EntryType::Scrap => Some((Some(Held), Scrapped)),
        EntryType::Adjustment if delta.on_hand < 0 => Some((Some(InStock), Missing)),
        EntryType::Adjustment => Some((None, InStock)),
        EntryType::Reversal => None,
    }
}

/// Why an entry cannot be reversed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotReversible {
    /// It was reversed already.
    AlreadyReversed,
    /// It is itself a reversal.
    IsReversal,
    /// Its kind is corrected another way (two signatures, or an order).
    Kind(EntryType),
    /// It belongs to a document (a scrap application) that decides it.
    Document(String),
}

/// What reversing `e` does: the opposite change, and for serials the status
/// each must have now and the status it goes back to.
pub fn reversal_of(
    e: &LedgerEntry,
    already_reversed: bool,
    owning_document: Option<&str>,
) -> Result<(Delta, Option<(AssetStatus, AssetStatus)>), NotReversible> {
    if already_reversed {
        return Err(NotReversible::AlreadyReversed);
    }
    if e.kind == EntryType::Reversal {
        return Err(NotReversible::IsReversal);
    }
    if !matches!(
        e.kind,
        EntryType::Receipt | EntryType::Issue | EntryType::Hold | EntryType::Release
    ) {
        return Err(NotReversible::Kind(e.kind));
    }
    if let Some(doc) = owning_document {
        return Err(NotReversible::Document(doc.to_string()));
    }
    let assets = match asset_transition(e.kind, e.delta) {
        Some((from, to)) if !e.serials.is_empty() => Some((to, from.unwrap_or(AssetStatus::Void))),
        _ => None,
    };
    Ok((e.delta.negated(), assets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: EntryType, delta: Delta, serials: &[&str]) -> LedgerEntry {
        LedgerEntry {
            id: "e1".into(),
            seq: 1,
            kind,
            depot: DepotCode::from_stored("HB-SY".into()),
            item: ItemId::from_stored("gen".into()),
            lot: LotId("l1".into()),
            lot_number: LotNumber::from_stored("L1".into()),
            delta,
            reason: String::new(),
            document: String::new(),
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
        }
    }

    #[test]
    fn entry_type_numbers_round_trip() {
        for t in EntryType::ALL {
            assert_eq!(EntryType::from_number(t.number()), Some(t));
        }
    }

    #[test]
    fn receipts_issues_holds_and_releases_reverse_into_their_opposite() {
        let (d, a) = reversal_of(
            &entry(EntryType::Receipt, Delta::on_hand(5), &[]),
            false,
            None,
        )
        .unwrap();
        assert_eq!(d, Delta::on_hand(-5));
        assert_eq!(a, None);
        let (d, a) = reversal_of(
            &entry(EntryType::Issue, Delta::on_hand(-1), &["G1"]),
            false,
            None,
        )
        .unwrap();
        assert_eq!(d, Delta::on_hand(1));
        assert_eq!(a, Some((AssetStatus::Issued, AssetStatus::InStock)));
        let (_, a) = reversal_of(
            &entry(EntryType::Receipt, Delta::on_hand(1), &["G1"]),
            false,
            None,
        )
        .unwrap();
        assert_eq!(a, Some((AssetStatus::InStock, AssetStatus::Void)));
        let (d, _) =
            reversal_of(&entry(EntryType::Hold, Delta::held(2), &[]), false, None).unwrap();
        assert_eq!(d, Delta::held(-2));
    }

    #[test]
    fn two_signature_entries_reversals_and_repeats_are_not_reversible() {
        let adj = entry(EntryType::Adjustment, Delta::on_hand(-1), &[]);
        assert_eq!(
            reversal_of(&adj, false, None),
            Err(NotReversible::Kind(EntryType::Adjustment))
        );
        let scrap = entry(EntryType::Scrap, Delta::on_hand(-1), &[]);
        assert!(reversal_of(&scrap, false, None).is_err());
        let rev = entry(EntryType::Reversal, Delta::on_hand(-1), &[]);
        assert_eq!(
            reversal_of(&rev, false, None),
            Err(NotReversible::IsReversal)
        );
        let rec = entry(EntryType::Receipt, Delta::on_hand(1), &[]);
        assert_eq!(
            reversal_of(&rec, true, None),
            Err(NotReversible::AlreadyReversed)
        );
        let hold = entry(EntryType::Hold, Delta::held(1), &[]);
        assert!(matches!(
            reversal_of(&hold, false, Some("scrap application S1")),
            Err(NotReversible::Document(_))
        ));
    }
}
