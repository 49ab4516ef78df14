//! Requisition records (征用): property of companies and people taken for an
//! emergency (突发事件应对法 art. 12), what happened to each item, and the
//! voucher due within 48 hours when property was taken without one.
//!
//! A record holds the owner's name and kind in clear and their identity
//! number, bank account and phone only masked, with a reference to the
//! sealed private data: the record can go into the audit log and stored
//! replies, which can never be purged.

pub mod error;
pub mod identity;
pub mod parse;
#[cfg(test)]
pub(crate) mod tests;

use crate::depot::DepotCode;
use crate::enterprise::CreditCode;
use crate::time::UtcMillis;
pub use error::RequisitionError;
use identity::{MaskedOwner, PrivateOwner};
pub use parse::{
    NewRequisition, OutcomeDraft, OwnerDraft, RequisitionDraft, RequisitionItemDraft, outcome_time,
    parse_outcomes,
};
use serde::{Deserialize, Serialize};

/// Hours after taking within which a voucher must be issued when property
/// was taken without one (杭州 art. 13; 四平 art. 13).
pub const VOUCHER_HOURS: i64 = 48;

/// Whose property was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnerKind {
    /// A company, identified by its unified social credit code.
    Company,
    /// A person, identified by their resident identity number.
    Person,
}

impl OwnerKind {
    /// Wire and stored number.
    pub fn number(self) -> i64 {
        match self {
            OwnerKind::Company => 1,
            OwnerKind::Person => 2,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(OwnerKind::Company),
            2 => Some(OwnerKind::Person),
            _ => None,
        }
    }

    /// Lower-case name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            OwnerKind::Company => "company",
            OwnerKind::Person => "person",
        }
    }
}

/// The owner as the record keeps them: private fields masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Company or person.
    pub kind: OwnerKind,
    /// Name (a company's name, or a person's).
    pub name: String,
    /// Identity number, bank account and phone, masked.
    pub masked: MaskedOwner,
    /// Id of the sealed private data.
    pub private_ref: String,
}

/// The voucher (征用凭证) given to the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    /// Voucher number.
    pub number: String,
    /// When it was issued.
    pub issued_at: UtcMillis,
    /// Who recorded it.
    pub recorded_by: String,
}

/// What became of requisitioned units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutcomeKind {
    /// Given back as taken.
    ReturnedIntact,
    /// Given back damaged; a repair cost is assessed.
    Damaged,
    /// Lost or destroyed.
    Lost,
    /// Used up (consumable items).
    Consumed,
}

impl OutcomeKind {
    /// Wire number.
    pub fn number(self) -> i64 {
        match self {
            OutcomeKind::ReturnedIntact => 1,
            OutcomeKind::Damaged => 2,
            OutcomeKind::Lost => 3,
            OutcomeKind::Consumed => 4,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(OutcomeKind::ReturnedIntact),
            2 => Some(OutcomeKind::Damaged),
            3 => Some(OutcomeKind::Lost),
            4 => Some(OutcomeKind::Consumed),
            _ => None,
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::ReturnedIntact => "returned intact",
            OutcomeKind::Damaged => "damaged",
            OutcomeKind::Lost => "lost",
            OutcomeKind::Consumed => "consumed",
        }
    }
}

/// One requisitioned item (a line of the itemised list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequisitionItem {
    /// Line number, from 1.
    pub number: u32,
    /// What it is ("挖掘机 卡特 320", "棉被").
    pub description: String,
    /// Units taken.
    pub quantity: i64,
    /// Unit of measure ("台", "床").
    pub unit: String,
    /// Whether it is to be given back (else consumable).
    pub returnable: bool,
    /// Its condition when taken (baseline appraisal, 太原 art. 8).
    pub condition: String,
    /// Appraised value of one unit when taken, fen.
    pub unit_value_fen: i64,
    /// Usage fee of one unit per day, fen.
    pub daily_rate_fen: i64,
    /// Where it is used.
    pub used_at: String,
    /// Units received into depot stock (funding source: requisition).
    pub received: i64,
    /// Units given back intact.
    pub returned: i64,
    /// Units given back damaged.
    pub damaged: i64,
    /// Units lost.
    pub lost: i64,
    /// Units consumed.
    pub consumed: i64,
}

impl RequisitionItem {
    /// Units with an outcome.
    pub fn resolved(&self) -> i64 {
        self.returned
            .saturating_add(self.damaged)
            .saturating_add(self.lost)
            .saturating_add(self.consumed)
    }

    /// Units still out with no outcome.
    pub fn outstanding(&self) -> i64 {
        self.quantity.saturating_sub(self.resolved())
    }
}

/// One recorded outcome: units of one line, what became of them, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Line.
    pub line: u32,
    /// What became of them.
    pub kind: OutcomeKind,
    /// Units.
    pub quantity: i64,
    /// When they came back or were found lost or used up (the usage fee
    /// runs until this date).
    pub at: UtcMillis,
    /// Repair cost of damaged units, fen (the claim caps it at their value).
    pub repair_cost_fen: i64,
    /// Damage or loss certificate, return receipt (杭州 art. 15).
    pub certificate: String,
    /// Note.
    pub note: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// Depot stock the units left, when they had been received into a depot.
    pub from_depot: Option<DepotCode>,
}

/// The state of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequisitionState {
    /// Some units have no outcome yet.
    InUse,
    /// Every unit has an outcome: a claim can be assessed.
    Resolved,
}

impl RequisitionState {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            RequisitionState::InUse => 1,
            RequisitionState::Resolved => 2,
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            RequisitionState::InUse => "in use",
            RequisitionState::Resolved => "resolved",
        }
    }
}

/// A requisition record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requisition {
    /// Id.
    pub id: String,
    /// Readable number `ZY-2026-000001`.
    pub number: String,
    /// Depot of the requisitioning tier (whose budget pays; scope).
    pub depot: DepotCode,
    /// The incident it was taken for.
    pub incident_id: String,
    /// The requisition decision (征用决定) number or text.
    pub decision: String,
    /// The authority that issued it.
    pub authority: String,
    /// The officer who carried it out.
    pub officer: String,
    /// Whose property.
    pub owner: Owner,
    /// When it was taken.
    pub taken_at: UtcMillis,
    /// The voucher, once issued.
    pub voucher: Option<Voucher>,
    /// When a voucher is due, for property taken without one.
    pub voucher_due: Option<UtcMillis>,
    /// Items.
    pub items: Vec<RequisitionItem>,
    /// Outcomes recorded, oldest first.
    pub outcomes: Vec<Outcome>,
    /// State.
    pub state: RequisitionState,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UtcMillis,
    /// Compare-and-set version.
    pub version: i64,
}

impl Requisition {
    /// Whether the voucher is overdue at `now`.
    pub fn voucher_overdue(&self, now: UtcMillis) -> bool {
        self.voucher.is_none() && self.voucher_due.is_some_and(|d| d < now)
    }

    /// Units with no outcome, over all items.
    pub fn outstanding(&self) -> i64 {
        self.items
            .iter()
            .map(RequisitionItem::outstanding)
            .fold(0, i64::saturating_add)
    }

    /// The record with `owner`'s private data sealed under `private_ref`.
    pub fn owner_of(
        kind: OwnerKind,
        name: String,
        private: &PrivateOwner,
        private_ref: String,
    ) -> Owner {
        Owner {
            kind,
            name,
            masked: private.masked(),
            private_ref,
        }
    }

    /// The record of a requisition that passed its rules, numbered, its
    /// owner's private data sealed under `private_ref`.
    pub fn record(
        id: String,
        number: String,
        n: &NewRequisition,
        private_ref: String,
        by: &str,
        now: UtcMillis,
    ) -> Requisition {
        Requisition {
            id,
            number,
            depot: n.depot.clone(),
            incident_id: n.incident_id.clone(),
            decision: n.decision.clone(),
            authority: n.authority.clone(),
            officer: n.officer.clone(),
            owner: Requisition::owner_of(
                n.owner.kind,
                n.owner.name.clone(),
                &n.owner.private,
                private_ref,
            ),
            taken_at: n.taken_at,
            voucher: n.voucher.as_ref().map(|v| Voucher {
                number: v.clone(),
                issued_at: n.taken_at,
                recorded_by: by.to_string(),
            }),
            voucher_due: n
                .voucher
                .is_none()
                .then(|| n.taken_at.saturating_add(VOUCHER_HOURS * 3_600_000)),
            items: n
                .items
                .iter()
                .enumerate()
                .map(|(i, d)| RequisitionItem {
                    number: i as u32 + 1,
                    description: d.description.clone(),
                    quantity: d.quantity,
                    unit: d.unit.clone(),
                    returnable: d.returnable,
                    condition: d.condition.clone(),
                    unit_value_fen: d.unit_value_fen,
                    daily_rate_fen: d.daily_rate_fen,
                    used_at: d.used_at.clone(),
                    received: 0,
                    returned: 0,
                    damaged: 0,
                    lost: 0,
                    consumed: 0,
                })
                .collect(),
            outcomes: Vec::new(),
            state: RequisitionState::InUse,
            created_by: by.to_string(),
            created_at: now,
            version: 1,
        }
    }

    /// Records a voucher issued at `at`.
    pub fn record_voucher(
        &self,
        number: String,
        at: UtcMillis,
        by: &str,
    ) -> Result<Requisition, RequisitionError> {
        if let Some(v) = &self.voucher {
            return Err(RequisitionError::VoucherExists {
                number: self.number.clone(),
                voucher: v.number.clone(),
            });
        }
        if at < self.taken_at {
            return Err(RequisitionError::Invalid(crate::Violations::one(
                "issued_time",
                "must not be before the property was taken",
            )));
        }
        let mut r = self.clone();
        r.voucher = Some(Voucher {
            number,
            issued_at: at,
            recorded_by: by.to_string(),
        });
        r.version += 1;
        Ok(r)
    }

    /// Records outcomes (several lines at once, all or nothing).
    pub fn record_outcomes(
        &self,
        outcomes: Vec<Outcome>,
        now: UtcMillis,
    ) -> Result<Requisition, RequisitionError> {
        let mut r = self.clone();
        for o in outcomes {
            if o.at < r.taken_at {
                return Err(RequisitionError::Invalid(crate::Violations::one(
                    "occurred_time",
                    "must not be before the property was taken",
                )));
            }
            if o.at > now {
                return Err(RequisitionError::Invalid(crate::Violations::one(
                    "occurred_time",
                    "must not be in the future",
                )));
            }
            let number = r.number.clone();
            let Some(item) = r.items.iter_mut().find(|i| i.number == o.line) else {
                return Err(RequisitionError::Invalid(crate::Violations::one(
                    "outcomes.line_number",
                    format!("requisition {number} has no line {}", o.line),
                )));
            };
            if o.kind == OutcomeKind::Consumed && item.returnable {
                return Err(RequisitionError::NotConsumable {
                    number,
                    line: o.line,
                });
            }
            if o.quantity > item.outstanding() {
                return Err(RequisitionError::Overstated {
                    number,
                    line: o.line,
                    asked: o.quantity,
                    outstanding: item.outstanding(),
                });
            }
            let slot = match o.kind {
                OutcomeKind::ReturnedIntact => &mut item.returned,
                OutcomeKind::Damaged => &mut item.damaged,
                OutcomeKind::Lost => &mut item.lost,
                OutcomeKind::Consumed => &mut item.consumed,
            };
            *slot = slot
                .checked_add(o.quantity)
                .ok_or(RequisitionError::Overstated {
                    number: number.clone(),
                    line: o.line,
                    asked: o.quantity,
                    outstanding: 0,
                })?;
            r.outcomes.push(o);
        }
        if r.outstanding() == 0 {
            r.state = RequisitionState::Resolved;
        }
        r.version += 1;
        Ok(r)
    }
}

/// An owner as sent, checked: the kind, name and private data.
#[derive(Clone, PartialEq, Eq)]
pub struct NewOwner {
    /// Company or person.
    pub kind: OwnerKind,
    /// Name.
    pub name: String,
    /// The private part, to be sealed.
    pub private: PrivateOwner,
}

impl std::fmt::Debug for NewOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOwner")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("private", &self.private)
            .finish()
    }
}

/// Checks an identity number for `kind` without echoing it.
pub fn parse_owner_id(kind: OwnerKind, raw: &str) -> Result<String, String> {
    match kind {
        OwnerKind::Company => CreditCode::parse(raw)
            .map(|c| c.as_str().to_string())
            .map_err(|_| {
                "must be the company's 18-character unified social credit code with a right check character (GB 32100)"
                    .to_string()
            }),
        OwnerKind::Person => identity::ResidentId::parse(raw).map(|r| r.as_str().to_string()),
    }
}
