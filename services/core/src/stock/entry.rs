//! Ledger entries, the drafts plans are made of, and how each entry moves
//! the serialised assets it names.

use super::balance::Delta;
use super::document::{DocKind, DocRef};
use super::lot::{Lot, LotId, LotNumber, SerialNumber};
use crate::depot::DepotCode;
use crate::item::ItemId;
use crate::tier::Tier;
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
    /// Units reserved for an allocation order.
    Reserve,
    /// An allocation order's reservation released.
    Unreserve,
    /// Stock on the books when the depot started using the service: a
    /// receipt loaded from its old ledger.
    OpeningBalance,
}

impl EntryType {
    /// Every type.
    pub const ALL: [EntryType; 15] = [
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
        EntryType::Reserve,
        EntryType::Unreserve,
        EntryType::OpeningBalance,
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
            EntryType::Reserve => 13,
            EntryType::Unreserve => 14,
            EntryType::OpeningBalance => 15,
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
            EntryType::Reserve => "reserve",
            EntryType::Unreserve => "unreserve",
            EntryType::OpeningBalance => "opening balance",
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
    /// On the road on an allocation order (its holder).
    InTransit,
    /// In the depot, reserved for an allocation order (its holder).
    Reserved,
    /// In the depot, held by the repair that is its holder.
    UnderRepair,
    /// Out on the lease that is its holder.
    OnLease,
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
            AssetStatus::InTransit => 7,
            AssetStatus::Reserved => 8,
            AssetStatus::UnderRepair => 9,
            AssetStatus::OnLease => 10,
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
            AssetStatus::InTransit,
            AssetStatus::Reserved,
            AssetStatus::UnderRepair,
            AssetStatus::OnLease,
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
            AssetStatus::InTransit => "in transit",
            AssetStatus::Reserved => "reserved",
            AssetStatus::UnderRepair => "under repair",
            AssetStatus::OnLease => "on lease",
        }
    }

    /// Whether the asset is physically in the depot (counts towards on hand).
    pub fn on_hand(self) -> bool {
        matches!(
            self,
            AssetStatus::InStock
                | AssetStatus::Held
                | AssetStatus::Reserved
                | AssetStatus::UnderRepair
        )
    }

    /// Whether a document holds the asset in this status, so that the
    /// asset must name it as its holder.
    pub fn has_holder(self) -> bool {
        matches!(
            self,
            AssetStatus::InTransit
                | AssetStatus::Reserved
                | AssetStatus::UnderRepair
                | AssetStatus::OnLease
        )
    }

    /// Stored numbers of the statuses on hand, for SQL `IN` lists.
    pub const ON_HAND_SQL: &'static str = "(1, 2, 8, 9)";
}

/// One entry of the ledger, as stored.
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
    /// The paper document number (delivery note, issue slip).
    pub document: String,
    /// The document of this service it belongs to, if any.
    pub owner: Option<DocRef>,
    /// Who the stock came from or went to.
    pub counterparty: String,
    /// Business time.
    pub occurred_at: UtcMillis,
    /// Recording time.
    pub recorded_at: UtcMillis,
    /// Who made the change.
    pub actor: String,
    /// Who countersigned it.
    pub countersigned_by: Option<String>,
    /// The entry it reverses.
    pub reverses: Option<String>,
    /// Serial numbers moved.
    pub serials: Vec<SerialNumber>,
    /// Request id it was recorded under.
    pub request_id: String,
    /// The incident the units went to.
    #[serde(default)]
    pub incident: Option<String>,
}

/// Where a serialised asset is and, when a document holds it, which.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetPlace {
    /// Status.
    pub status: AssetStatus,
    /// The document holding it, for held assets a document holds.
    pub holder: Option<DocRef>,
}

impl AssetPlace {
    /// A place no document holds.
    pub fn free(status: AssetStatus) -> Self {
        Self {
            status,
            holder: None,
        }
    }
}

/// How an entry moves the assets it names: from where (`None` for assets
/// entering the books) to where. Assets end at the entry's depot; they start
/// at `from_depot` when that is another depot (a transfer in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetMove {
    /// Where each asset must be now; `None` for assets entering the books at
    /// the entry's depot and lot: new to the system, or known and allowed
    /// back ([`super::pick::AssetState::may_enter`]: missing there, or void).
    pub from: Option<AssetPlace>,
    /// Where it goes.
    pub to: AssetPlace,
    /// The depot the assets are at now, when not the entry's own.
    pub from_depot: Option<DepotCode>,
}

/// The asset move of an entry of `kind` with change `delta`, belonging to
/// `owner`. A hold made for a document that holds units (a scrap
/// application) is held by it, and only its own release or scrap moves it
/// on; units an allocation order reserves or carries are the order's.
/// Reversals are moved by [`AssetMove::undo`] of what they reverse.
pub fn asset_transition(
    kind: EntryType,
    delta: Delta,
    owner: Option<&DocRef>,
) -> Option<AssetMove> {
    use AssetStatus::*;
    let free = AssetPlace::free;
    let holder = owner.filter(|o| o.kind.holds());
    // A repair's units are under repair; other documents' are held.
    let held = || AssetPlace {
        status: match holder.map(|h| h.kind) {
            Some(DocKind::Repair) => UnderRepair,
            _ => Held,
        },
        holder: holder.cloned(),
    };
    let of_owner = |status| AssetPlace {
        status,
        holder: owner.cloned(),
    };
    let mv = |from: Option<AssetPlace>, to: AssetPlace| {
        Some(AssetMove {
            from,
            to,
            from_depot: None,
        })
    };
    match kind {
        EntryType::Receipt | EntryType::OpeningBalance | EntryType::Recovery => {
            mv(None, free(InStock))
        }
        // Damaged units come back from a lease into a hold no document owns.
        EntryType::LeaseReturn if delta.held > 0 => mv(Some(of_owner(OnLease)), free(Held)),
        EntryType::LeaseReturn => mv(Some(of_owner(OnLease)), free(InStock)),
        EntryType::LeaseOut => mv(Some(free(InStock)), of_owner(OnLease)),
        EntryType::TransferIn => mv(Some(of_owner(InTransit)), free(InStock)),
        EntryType::TransferOut if delta.reserved < 0 => {
            mv(Some(of_owner(Reserved)), of_owner(InTransit))
        }
        EntryType::TransferOut => mv(Some(free(InStock)), of_owner(InTransit)),
        EntryType::Issue => mv(Some(free(InStock)), free(Issued)),
        // A document taking over units already held by no document.
        EntryType::Hold if delta.held == 0 && delta.doc_held > 0 => mv(Some(free(Held)), held()),
        EntryType::Hold => mv(Some(free(InStock)), held()),
        // A document letting go of units that stay held (a repair handing
        // its asset to a scrap application).
        EntryType::Release if delta.held == 0 && delta.doc_held < 0 => mv(Some(held()), free(Held)),
        EntryType::Release => mv(Some(held()), free(InStock)),
        EntryType::Scrap => mv(Some(held()), free(Scrapped)),
        EntryType::Reserve => mv(Some(free(InStock)), of_owner(Reserved)),
        EntryType::Unreserve => mv(Some(of_owner(Reserved)), free(InStock)),
        EntryType::Adjustment if delta.on_hand < 0 && delta.held < 0 => {
            mv(Some(free(Held)), free(Missing))
        }
        EntryType::Adjustment if delta.on_hand < 0 => mv(Some(free(InStock)), free(Missing)),
        EntryType::Adjustment => mv(None, free(InStock)),
        EntryType::Reversal => None,
    }
}

impl AssetMove {
    /// The move that undoes this one: assets go back where they were, and
    /// assets that entered the books become void.
    pub fn undo(&self) -> AssetMove {
        AssetMove {
            from: Some(self.to.clone()),
            to: self
                .from
                .clone()
                .unwrap_or(AssetPlace::free(AssetStatus::Void)),
            from_depot: None,
        }
    }
}

/// A move of assets that no ledger entry makes: units on the road handed
/// over at an incident site, or written off as never arriving. The assets
/// stay recorded at the depot they last left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetChange {
    /// Item.
    pub item: ItemId,
    /// The depot they are recorded at.
    pub depot: DepotCode,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Where each must be now.
    pub from: AssetPlace,
    /// Where it goes.
    pub to: AssetPlace,
}

/// An entry a plan posts: everything but what the store assigns when it
/// writes it (position, recording time, request id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDraft {
    /// Id, chosen by the caller of the planner.
    pub id: String,
    /// Kind.
    pub kind: EntryType,
    /// Depot.
    pub depot: DepotCode,
    /// The lot.
    pub lot: Lot,
    /// The change of the line.
    pub delta: Delta,
    /// Serial numbers, for serial-tracked items.
    pub serials: Vec<SerialNumber>,
    /// How the serials move (through [`asset_transition`]).
    pub assets: Option<AssetMove>,
    /// Why.
    pub reason: String,
    /// The paper document number.
    pub document: String,
    /// The document of this service it belongs to.
    pub owner: Option<DocRef>,
    /// Supplier, donor or recipient.
    pub counterparty: String,
    /// Business time.
    pub occurred_at: UtcMillis,
    /// Who is recorded as having made it; `None` means the caller.
    pub actor: Option<String>,
    /// Who countersigned it.
    pub countersigned_by: Option<String>,
    /// The entry it reverses.
    pub reverses: Option<String>,
    /// The tier owning the units at the entry's depot when the entry opens
    /// the line there; `None` means the depot's own owning tier. A line
    /// that exists keeps its owner.
    pub line_owner: Option<Tier>,
    /// The incident the units go to.
    pub incident: Option<String>,
}

impl EntryDraft {
    /// A draft of `kind` changing `lot` at `depot` by `delta`; its asset
    /// move follows from the kind, the change and the owner.
    pub fn new(
        id: String,
        kind: EntryType,
        depot: &DepotCode,
        lot: &Lot,
        delta: Delta,
        occurred_at: UtcMillis,
    ) -> Self {
        Self {
            id,
            kind,
            depot: depot.clone(),
            lot: lot.clone(),
            delta,
            serials: Vec::new(),
            assets: None,
            reason: String::new(),
            document: String::new(),
            owner: None,
            counterparty: String::new(),
            occurred_at,
            actor: None,
            countersigned_by: None,
            reverses: None,
            line_owner: None,
            incident: None,
        }
    }

    /// Names the incident the units go to.
    pub fn for_incident(mut self, incident: Option<String>) -> Self {
        self.incident = incident;
        self
    }

    /// Sets the tier owning the units if the entry opens the line.
    pub fn line_owner(mut self, tier: Tier) -> Self {
        self.line_owner = Some(tier);
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    /// Sets the paper document and the counterparty.
    pub fn paper(mut self, document: &str, counterparty: &str) -> Self {
        self.document = document.to_string();
        self.counterparty = counterparty.to_string();
        self
    }

    /// Makes the entry belong to `owner`; if that document holds units,
    /// the assets the entry holds are held by it.
    pub fn owned_by(mut self, owner: &DocRef) -> Self {
        self.owner = Some(owner.clone());
        self.refresh_assets();
        self
    }

    /// Records who made the change and who countersigned it.
    pub fn signed(mut self, actor: &str, countersigner: &str) -> Self {
        self.actor = Some(actor.to_string());
        self.countersigned_by = Some(countersigner.to_string());
        self
    }

    /// Names the serial numbers moved.
    pub fn serials(mut self, serials: Vec<SerialNumber>) -> Self {
        self.serials = serials;
        self.refresh_assets();
        self
    }

    fn refresh_assets(&mut self) {
        if self.serials.is_empty() || self.kind == EntryType::Reversal {
            self.assets = None;
            return;
        }
        self.assets = asset_transition(self.kind, self.delta, self.owner.as_ref());
    }

    /// For a transfer in: the assets come from `source`, where they travel.
    pub fn arriving_from(mut self, source: &DepotCode) -> Self {
        if let Some(m) = self.assets.as_mut() {
            m.from_depot = Some(source.clone());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_type_numbers_round_trip() {
        for t in EntryType::ALL {
            assert_eq!(EntryType::from_number(t.number()), Some(t));
        }
    }

    #[test]
    fn a_hold_for_a_document_is_held_by_it_and_only_its_decision_moves_it_on() {
        let app = DocRef::new(DocKind::ScrapApplication, "S1");
        let hold = asset_transition(EntryType::Hold, Delta::doc_held(1), Some(&app)).unwrap();
        assert_eq!(hold.from, Some(AssetPlace::free(AssetStatus::InStock)));
        assert_eq!(hold.to.holder, Some(app.clone()));
        // Units held by no document that the document takes over.
        let over = Delta {
            doc_held: 1,
            ..Delta::default()
        };
        let taken = asset_transition(EntryType::Hold, over, Some(&app)).unwrap();
        assert_eq!(taken.from, Some(AssetPlace::free(AssetStatus::Held)));
        assert_eq!(taken.to.holder, Some(app.clone()));
        let scrap = asset_transition(EntryType::Scrap, Delta::default(), Some(&app)).unwrap();
        assert_eq!(scrap.from.unwrap().holder, Some(app));
        // A plain release moves only assets no document holds.
        let release = asset_transition(EntryType::Release, Delta::held(-1), None).unwrap();
        assert_eq!(release.from, Some(AssetPlace::free(AssetStatus::Held)));
    }

    #[test]
    fn a_count_writes_off_missing_assets_from_where_they_were() {
        let in_stock = asset_transition(EntryType::Adjustment, Delta::on_hand(-1), None).unwrap();
        assert_eq!(in_stock.from, Some(AssetPlace::free(AssetStatus::InStock)));
        let held = asset_transition(
            EntryType::Adjustment,
            Delta {
                on_hand: -1,
                held: -1,
                ..Delta::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(held.from, Some(AssetPlace::free(AssetStatus::Held)));
        assert_eq!(held.to.status, AssetStatus::Missing);
        let found = asset_transition(EntryType::Adjustment, Delta::on_hand(1), None).unwrap();
        assert_eq!(found.from, None);
    }

    #[test]
    fn undoing_a_receipt_voids_its_assets_and_undoing_an_issue_brings_them_back() {
        let r = asset_transition(EntryType::Receipt, Delta::on_hand(1), None).unwrap();
        assert_eq!(r.undo().to.status, AssetStatus::Void);
        let i = asset_transition(EntryType::Issue, Delta::on_hand(-1), None).unwrap();
        assert_eq!(i.undo().from, Some(AssetPlace::free(AssetStatus::Issued)));
        assert_eq!(i.undo().to, AssetPlace::free(AssetStatus::InStock));
    }
}
