//! Stock counts (盘点): a snapshot of expected quantities, counted figures
//! that each mean "on the shelf when recorded", a second person's approval,
//! and per line counted minus on hand at recording posted as an adjustment,
//! so movements before and after the recording are neither lost nor counted
//! twice. Units a document holds count as present and held; units seen that
//! the books had written off here, or voided, come back in stock.

mod approve;
mod draft;
mod steps;
#[cfg(test)]
mod tests;

pub use draft::{CountDraft, Counted, CountedDraft, NewCount, parse_counted};

use super::balance::Balance;
use super::document::{Acting, DocKind, DocPlan, DocRef, invalid_transition};
use super::error::StockError;
use super::lot::{Lot, LotId, LotNumber, SerialNumber};
use super::pick::{AssetState, LineState};
use crate::depot::{Depot, DepotCode};
use crate::item::{ItemId, Tracking};
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where a count stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountStatus {
    /// Counting.
    Open,
    /// Waiting for approval.
    Submitted,
    /// Variances posted.
    Approved,
    /// Abandoned.
    Cancelled,
}

impl CountStatus {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            CountStatus::Open => 1,
            CountStatus::Submitted => 2,
            CountStatus::Approved => 3,
            CountStatus::Cancelled => 4,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(CountStatus::Open),
            2 => Some(CountStatus::Submitted),
            3 => Some(CountStatus::Approved),
            4 => Some(CountStatus::Cancelled),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            CountStatus::Open => "open",
            CountStatus::Submitted => "submitted",
            CountStatus::Approved => "approved",
            CountStatus::Cancelled => "cancelled",
        }
    }
}

/// One lot of a count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    /// Item.
    pub item: ItemId,
    /// Whether the item is tracked by serial number.
    pub serial: bool,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// On hand at the snapshot.
    pub expected: i64,
    /// Assets on hand at the snapshot (serial-tracked items).
    pub expected_serials: Vec<SerialNumber>,
    /// Units on the shelf when recorded.
    pub counted: Option<i64>,
    /// Assets seen (serial-tracked items).
    pub counted_serials: Vec<SerialNumber>,
    /// On hand in the books when the figure was recorded.
    pub on_hand_at_record: Option<i64>,
    /// Assets on hand at recording that no document held.
    pub serials_at_record: Vec<SerialNumber>,
    /// Assets a document held at recording: present and held, never missing.
    pub held_by_documents: Vec<SerialNumber>,
    /// Who recorded the figure.
    pub recorded_by: Option<String>,
    /// When.
    pub recorded_at: Option<UtcMillis>,
    /// On hand just before posting.
    pub on_hand_at_approval: Option<i64>,
    /// The variance posted.
    pub posted_variance: Option<i64>,
    /// The adjustment entries posted.
    pub entry_ids: Vec<String>,
}

impl CountLine {
    /// Assets on hand at recording, held by no document, and not seen.
    pub fn missing(&self) -> Vec<SerialNumber> {
        let seen: BTreeSet<&SerialNumber> = self.counted_serials.iter().collect();
        self.serials_at_record
            .iter()
            .filter(|s| !seen.contains(s))
            .cloned()
            .collect()
    }

    /// Assets seen that were off the books at recording (written off as
    /// missing here, or void): taken back in stock on approval.
    pub fn found(&self) -> Vec<SerialNumber> {
        let known: BTreeSet<&SerialNumber> = self
            .serials_at_record
            .iter()
            .chain(&self.held_by_documents)
            .collect();
        self.counted_serials
            .iter()
            .filter(|s| !known.contains(s))
            .cloned()
            .collect()
    }

    /// Counted minus on hand at recording, once recorded.
    pub fn variance(&self) -> Option<i64> {
        let counted = self.counted?;
        if self.serial {
            Some(self.found().len() as i64 - self.missing().len() as i64)
        } else {
            Some(counted - self.on_hand_at_record.unwrap_or(self.expected))
        }
    }

    /// Net movements between the snapshot and the recording.
    pub fn moved_since_snapshot(&self) -> i64 {
        self.on_hand_at_record
            .map(|r| r - self.expected)
            .unwrap_or(0)
    }
}

/// A count as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCount {
    /// Id.
    pub id: String,
    /// Depot.
    pub depot: DepotCode,
    /// Where it stands.
    pub status: CountStatus,
    /// Items counted; empty means all.
    pub items: Vec<ItemId>,
    /// Note.
    pub note: String,
    /// Who opened it.
    pub opened_by: String,
    /// When.
    pub opened_at: UtcMillis,
    /// Everyone who recorded a figure.
    pub recorded_by: Vec<String>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When.
    pub submitted_at: Option<UtcMillis>,
    /// Who approved or cancelled it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UtcMillis>,
    /// The approval note or cancellation reason.
    pub decision_note: String,
    /// Version.
    pub version: i64,
    /// Lines, by item then lot number.
    pub lines: Vec<CountLine>,
}

impl StockCount {
    /// The reference to this count.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::StockCount, &self.id)
    }
}

/// A line of the snapshot, as the store read it when the count opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotLine {
    /// Item.
    pub item: ItemId,
    /// Tracking of the item.
    pub tracking: Tracking,
    /// Lot.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// On hand.
    pub on_hand: i64,
    /// Assets on hand (serial-tracked items).
    pub serials: Vec<SerialNumber>,
}

/// A counted lot as it stands in the books at the moment of recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtRecord {
    /// The lot.
    pub lot: Lot,
    /// Tracking of the item.
    pub tracking: Tracking,
    /// Its balance at the depot now (zero if it has no line).
    pub balance: Balance,
    /// Its assets at the depot that are on hand (in stock or held), and the
    /// assets the counted serial numbers name, wherever they are.
    pub assets: Vec<AssetState>,
}

/// What is done to a count, with what the store read for it.
#[derive(Clone, Copy, Debug)]
pub enum CountAction<'a> {
    /// Open with this snapshot; `id` names the count.
    Open(&'a NewCount, &'a [SnapshotLine], &'a str),
    /// Record counted lines, each with its lot as it stands now.
    Record(&'a [Counted], &'a [AtRecord]),
    /// Submit for approval.
    Submit,
    /// Approve, with the depot, the balances and (serial lines) the assets
    /// as they are now.
    Approve {
        /// Note.
        note: &'a str,
        /// The depot: a variance that brings units in needs it active.
        depot: &'a Depot,
        /// Every lot of the count with its balance at the depot now (zero
        /// where it has no line).
        lines: &'a [LineState],
        /// Assets of the count's serial lines missing or found at
        /// recording, wherever they are now.
        assets: &'a [AssetState],
    },
    /// Cancel.
    Cancel {
        /// Why.
        reason: &'a str,
    },
}

impl CountAction<'_> {
    fn verb(&self) -> &'static str {
        match self {
            CountAction::Open(..) => "opened",
            CountAction::Record(..) => "recorded",
            CountAction::Submit => "submitted",
            CountAction::Approve { .. } => "approved",
            CountAction::Cancel { .. } => "cancelled",
        }
    }
}

/// The one transition function of counts: what `action` does to `current`
/// (none when opening), by `acting`. Entries posted on approval belong to
/// the count and are signed by its submitter and the approver.
pub fn count_transition(
    current: Option<&StockCount>,
    action: CountAction<'_>,
    acting: Acting<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<StockCount>, StockError> {
    let plain = |doc: StockCount| DocPlan {
        doc,
        entries: Vec::new(),
        assets: Vec::new(),
    };
    if let Some(c) = current {
        acting.check_etag(DocKind::StockCount, &c.id, c.version)?;
    }
    match (current.map(|c| (c, c.status)), action) {
        (None, CountAction::Open(n, snapshot, id)) => {
            Ok(plain(steps::open(n, snapshot, id, acting)))
        }
        (Some((c, CountStatus::Open)), CountAction::Record(counted, at)) => {
            steps::record(c, counted, at, acting).map(plain)
        }
        (Some((c, CountStatus::Open)), CountAction::Submit) => steps::submit(c, acting).map(plain),
        (
            Some((c, CountStatus::Submitted)),
            CountAction::Approve {
                note,
                depot,
                lines,
                assets,
            },
        ) => approve::approve(c, note, depot, lines, assets, acting, new_id),
        (Some((c, CountStatus::Open | CountStatus::Submitted)), CountAction::Cancel { reason }) => {
            Ok(plain(StockCount {
                status: CountStatus::Cancelled,
                decided_by: Some(acting.who.to_string()),
                decided_at: Some(acting.now),
                decision_note: reason.to_string(),
                version: c.version + 1,
                ..c.clone()
            }))
        }
        (Some((c, status)), a) => Err(invalid_transition(
            DocKind::StockCount,
            &c.id,
            status.name(),
            a.verb(),
        )),
        (None, _) => Err(StockError::DocumentNotFound {
            kind: DocKind::StockCount.collection(),
            id: String::new(),
        }),
    }
}
