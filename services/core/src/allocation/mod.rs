//! Allocation orders (调拨单): supplies moved between depots, to an incident
//! site, or pre-positioned ahead of a forecast risk.
//!
//! An order is a document with one transition function
//! ([`transition::order_transition`]). Approval reserves units at the
//! sources (the order owns them: `reserved` on the lines, reservation rows
//! as the order's shares); dispatch turns a source's reservation into a
//! transfer out and the units are in transit on the order; receipt brings
//! them in at the destination with their lot and expiry, in one go or
//! several, recording shortages, refusals and damage. An emergency order may
//! be dispatched before approval, and its approval is then due within 48
//! hours (先调后补).

pub mod approve;
pub mod dispatch;
pub mod draft;
pub mod error;
pub mod receive;
pub mod rules;
pub mod transition;

pub use draft::{LineDraft, NewOrder, OrderDraft, SiteDraft, SourceDraft};
pub use error::AllocationError;
pub use rules::{OrderWorld, OwnSubtree, SourceStock};
pub use transition::{Actor, OrderAction, order_transition};

use crate::depot::{Contact, DepotCode, GeoPoint};
use crate::item::ItemId;
use crate::stock::document::{DocId, DocKind, DocRef};
use crate::stock::{LotId, LotNumber, SerialNumber};
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};

/// How long an emergency order dispatched before approval has for its
/// written approval (先调后补: 48 hours).
pub const BACKFILL_MS: i64 = 48 * 3_600_000;
/// The most lines one order carries.
pub const MAX_LINES: usize = 200;
/// The most sources one line names (a need split over many township
/// points can take hundreds).
pub const MAX_SOURCES: usize = 500;

/// What an order does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A transfer between depots.
    Transfer,
    /// An issue to an incident site.
    IncidentSite,
    /// Pre-positioning at a depot ahead of a forecast risk.
    PrePosition,
}

impl Kind {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            Kind::Transfer => 1,
            Kind::IncidentSite => 2,
            Kind::PrePosition => 3,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        [Kind::Transfer, Kind::IncidentSite, Kind::PrePosition]
            .into_iter()
            .find(|k| k.number() == n)
    }
}

/// How urgent an order is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// Routine.
    Routine,
    /// Urgent.
    Urgent,
    /// Emergency: may be dispatched before approval and may take a source
    /// below its reserve minimum.
    Emergency,
}

impl Priority {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            Priority::Routine => 1,
            Priority::Urgent => 2,
            Priority::Emergency => 3,
        }
    }

    /// The priority with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        [Priority::Routine, Priority::Urgent, Priority::Emergency]
            .into_iter()
            .find(|p| p.number() == n)
    }
}

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// Being written.
    Draft,
    /// Waiting for approval.
    Submitted,
    /// Approved; units reserved at the sources.
    Approved,
    /// Units have left at least one source.
    Dispatched,
    /// Everything dispatched is accounted for.
    Received,
    /// Closed.
    Closed,
    /// Rejected.
    Rejected,
    /// Cancelled before dispatch.
    Cancelled,
}

impl State {
    /// Every state.
    pub const ALL: [State; 8] = [
        State::Draft,
        State::Submitted,
        State::Approved,
        State::Dispatched,
        State::Received,
        State::Closed,
        State::Rejected,
        State::Cancelled,
    ];

    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            State::Draft => 1,
            State::Submitted => 2,
            State::Approved => 3,
            State::Dispatched => 4,
            State::Received => 5,
            State::Closed => 6,
            State::Rejected => 7,
            State::Cancelled => 8,
        }
    }

    /// The state with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        State::ALL.into_iter().find(|s| s.number() == n)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Submitted => "submitted",
            State::Approved => "approved",
            State::Dispatched => "dispatched",
            State::Received => "received",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Cancelled => "cancelled",
        }
    }

    /// Whether the order may still own reservations or units in transit.
    pub fn is_open(self) -> bool {
        matches!(self, State::Approved | State::Dispatched)
    }
}

/// Where a line's units come from, as the dispatcher plans it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePlan {
    /// Source depot.
    pub depot: DepotCode,
    /// Named lot, or first-expired-first-out.
    pub lot: Option<LotNumber>,
    /// Units.
    pub quantity: i64,
}

/// The units of one line at one source in one lot, and what became of them.
/// Stored as a row per (order, line, source, lot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Line number.
    pub line: u32,
    /// Item.
    pub item: ItemId,
    /// Source depot.
    pub source: DepotCode,
    /// Lot.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Serial numbers (serial-tracked items): reserved, then dispatched.
    pub serials: Vec<SerialNumber>,
    /// Of the dispatched serials, those accounted for at the destination
    /// (received, damaged, refused or short).
    pub arrived: Vec<SerialNumber>,
    /// Units reserved at the source now.
    pub reserved: i64,
    /// Units that left the source.
    pub dispatched: i64,
    /// Units received in good order.
    pub received: i64,
    /// Units received damaged.
    pub damaged: i64,
    /// Units refused.
    pub rejected: i64,
    /// Units that never arrived.
    pub short: i64,
}

impl Share {
    /// Units on the road.
    pub fn in_transit(&self) -> i64 {
        self.dispatched - self.received - self.damaged - self.rejected - self.short
    }

    /// Serials on the road.
    pub fn serials_in_transit(&self) -> Vec<SerialNumber> {
        if self.dispatched == 0 {
            return Vec::new();
        }
        self.serials
            .iter()
            .filter(|s| !self.arrived.contains(s))
            .cloned()
            .collect()
    }
}

/// One item of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Position, from 1.
    pub number: u32,
    /// Item.
    pub item: ItemId,
    /// Units needed.
    pub requested: i64,
    /// Planned sources.
    pub sources: Vec<SourcePlan>,
}

/// Where the units go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Destination {
    /// A depot.
    Depot(DepotCode),
    /// An incident site.
    Site {
        /// Coordinates.
        point: GeoPoint,
        /// Address.
        address: String,
    },
}

impl Destination {
    /// The destination depot, if it is one.
    pub fn depot(&self) -> Option<&DepotCode> {
        match self {
            Destination::Depot(d) => Some(d),
            Destination::Site { .. } => None,
        }
    }
}

/// How one source's units travel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transport {
    /// Vehicle plate.
    pub vehicle: String,
    /// Driver.
    pub driver: String,
    /// Driver's phone.
    pub driver_phone: String,
    /// Departure.
    pub departure: Option<UtcMillis>,
    /// Expected arrival.
    pub eta: Option<UtcMillis>,
}

/// One source's dispatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchRecord {
    /// Source depot.
    pub source: DepotCode,
    /// How it travels.
    pub transport: Transport,
    /// The keeper.
    pub by: String,
    /// When.
    pub at: UtcMillis,
    /// Why fewer units left, if so.
    pub note: String,
    /// Whether the source was called off without sending anything (its
    /// reservation released by a dispatcher).
    #[serde(default)]
    pub cancelled: bool,
}

/// A source taken below its reserve minimum by an emergency order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// Source depot.
    pub source: DepotCode,
    /// Item.
    pub item: ItemId,
    /// The minimum.
    pub minimum: i64,
    /// Available there afterwards.
    pub left: i64,
    /// Who decided.
    pub decided_by: String,
}

/// One step of an order's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: UtcMillis,
    /// Who.
    pub actor: String,
    /// Their name.
    pub actor_name: String,
    /// What.
    pub action: String,
    /// State before (none when created).
    pub from: Option<State>,
    /// State after.
    pub to: State,
    /// Note.
    pub note: String,
}

/// An allocation order as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Id.
    pub id: String,
    /// Readable number, DB-2026-000123.
    pub number: String,
    /// Kind.
    pub kind: Kind,
    /// Priority.
    pub priority: Priority,
    /// State.
    pub state: State,
    /// The incident it serves.
    pub incident: Option<DocId>,
    /// Why.
    pub reason: String,
    /// People affected.
    pub people_affected: i64,
    /// Needed by.
    pub required_by: Option<UtcMillis>,
    /// The command depot answering for it.
    pub command_depot: DepotCode,
    /// Where the units go.
    pub destination: Destination,
    /// The receiving unit.
    pub receiving_unit: String,
    /// Contact on the sending side.
    pub sender_contact: Option<Contact>,
    /// Contact on the receiving side.
    pub receiver_contact: Contact,
    /// Why it reaches outside the destination's own subtree.
    pub justification: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Shares: per line, source and lot.
    pub shares: Vec<Share>,
    /// Dispatches, one per source.
    pub dispatches: Vec<DispatchRecord>,
    /// Reserve minimums broken, with who decided.
    pub overrides: Vec<Override>,
    /// Who raised it.
    pub raised_by: String,
    /// When.
    pub raised_at: UtcMillis,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<UtcMillis>,
    /// When the back-filled approval is due (emergency dispatched unapproved).
    pub backfill_due: Option<UtcMillis>,
    /// Timeline, oldest first.
    pub timeline: Vec<Event>,
    /// Version.
    pub version: i64,
}

impl Order {
    /// The reference to this order.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::AllocationOrder, &self.id)
    }

    /// Every source depot the order plans to take from, once each.
    pub fn sources(&self) -> Vec<DepotCode> {
        let mut out: Vec<DepotCode> = Vec::new();
        for l in &self.lines {
            for s in &l.sources {
                if !out.contains(&s.depot) {
                    out.push(s.depot.clone());
                }
            }
        }
        out
    }

    /// Whether `source` has dispatched.
    pub fn dispatched_from(&self, source: &DepotCode) -> bool {
        self.dispatches.iter().any(|d| &d.source == source)
    }

    /// The depot whose dispatchers answer for the destination: the
    /// destination depot, or for an incident site the command depot.
    pub fn answering_depot(&self) -> &DepotCode {
        self.destination.depot().unwrap_or(&self.command_depot)
    }

    /// Units on the road, all lines.
    pub fn in_transit(&self) -> i64 {
        self.shares.iter().map(Share::in_transit).sum()
    }

    /// Whether an emergency order went out before its approval and the
    /// approval is still missing at `now`.
    pub fn backfill_overdue(&self, now: UtcMillis) -> bool {
        self.approved_by.is_none() && self.backfill_due.is_some_and(|due| now > due)
    }
}

/// The order's number: `DB-{year}-{n:06}`.
pub fn order_number(year: i32, n: i64) -> String {
    format!("DB-{year}-{n:06}")
}

#[cfg(test)]
mod tests;
