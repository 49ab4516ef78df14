//! Leases (租赁) of leasable equipment and supplies to outside
//! organisations in ordinary times, with emergency recall.
//!
//! A lease takes units out of on hand into **on lease** (`LeaseOut`
//! entries owned by the lease; serials → `OnLease`, held by it). Only the
//! lease's own returns bring them back (`LeaseReturn`): intact units into
//! stock, damaged ones into a hold no document owns, for the keeper to
//! repair or scrap. Fees are never typed in: [`fee::statement`] computes
//! them from the lease and its returns under the day rule documented there.

pub mod error;
pub mod fee;
pub mod plan;

pub use error::LeaseError;

use crate::depot::{Contact, ContactDraft, DepotCode};
use crate::enterprise::CreditCode;
use crate::item::ItemId;
use crate::stock::balance::MAX_QUANTITY;
use crate::stock::document::{DocKind, DocRef};
use crate::stock::fields;
use crate::stock::lot::{Day, LotId, LotNumber, SerialNumber};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Lines one lease may carry.
pub const MAX_LINES: usize = 50;
/// The highest daily rate per unit: 1,000,000 yuan.
pub const MAX_RATE_FEN: i64 = 100_000_000;
/// The highest deposit or damage charge: 100,000,000 yuan.
pub const MAX_MONEY_FEN: i64 = 10_000_000_000;
/// The longest term from start to due date.
pub const MAX_TERM_DAYS: i64 = 3_660;
/// How long a recall may give the lessee at most.
pub const MAX_RECALL_HOURS: i64 = 24 * 30;

/// Where a lease stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeaseState {
    /// Units are out (all or some).
    Open,
    /// Every unit is back.
    Returned,
}

impl LeaseState {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            LeaseState::Open => 1,
            LeaseState::Returned => 2,
        }
    }

    /// The state with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        [LeaseState::Open, LeaseState::Returned]
            .into_iter()
            .find(|s| s.number() == n)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            LeaseState::Open => "open",
            LeaseState::Returned => "returned",
        }
    }
}

/// The state of returned units found at the inspection: the same scale as
/// an asset's condition.
pub use crate::maintenance::Condition;

/// Who leases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lessee {
    /// Organisation name.
    pub name: String,
    /// Unified social credit code (check character verified).
    pub credit_code: CreditCode,
    /// Contact person and phone.
    pub contact: Contact,
}

/// One line as leased: an item, how many, at what daily rate per unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseLine {
    /// Line number, from 1.
    pub number: u32,
    /// Item.
    pub item: ItemId,
    /// Units leased.
    pub quantity: i64,
    /// Fee per unit per charged day, in fen.
    pub daily_rate_fen: i64,
}

/// The units of one line from one lot: what went out and what came back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseShare {
    /// The line.
    pub line: u32,
    /// Item.
    pub item: ItemId,
    /// Lot.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Units that went out.
    pub quantity: i64,
    /// Of those, units back (intact or damaged).
    pub returned: i64,
    /// Of the returned, units back damaged (held at the depot).
    pub damaged: i64,
    /// Serial numbers that went out.
    pub serials: Vec<SerialNumber>,
    /// Serial numbers back.
    pub returned_serials: Vec<SerialNumber>,
}

impl LeaseShare {
    /// Units still out.
    pub fn outstanding(&self) -> i64 {
        self.quantity - self.returned
    }

    /// Serial numbers still out.
    pub fn serials_out(&self) -> Vec<SerialNumber> {
        let back: std::collections::HashSet<&SerialNumber> = self.returned_serials.iter().collect();
        self.serials
            .iter()
            .filter(|s| !back.contains(s))
            .cloned()
            .collect()
    }
}

/// Units of one line back in one return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedLine {
    /// The line.
    pub line: u32,
    /// Lot.
    pub lot_number: LotNumber,
    /// Units back intact.
    pub intact: i64,
    /// Units back damaged (into a hold).
    pub damaged: i64,
    /// Serial numbers back intact.
    pub serials: Vec<SerialNumber>,
    /// Serial numbers back damaged.
    pub damaged_serials: Vec<SerialNumber>,
}

/// One inspection of returned units: per line what came back, its
/// condition and the damage charged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnInspection {
    /// The line.
    pub line: u32,
    /// Condition of the units back intact: good or worn.
    pub condition: Condition,
    /// Condition of the units back damaged: needs repair or unserviceable.
    #[serde(default)]
    pub damaged_condition: Option<Condition>,
    /// Damage charged to the lessee, in fen.
    pub damage_fen: i64,
    /// What the inspector saw.
    pub note: String,
}

/// A return: units back on one day, after one inspection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseReturn {
    /// When the units came back.
    pub at: UtcMillis,
    /// Who took them back.
    pub by: String,
    /// Units back, per line and lot.
    pub units: Vec<ReturnedLine>,
    /// The inspection, per line.
    pub inspections: Vec<ReturnInspection>,
}

/// An emergency recall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recall {
    /// When it was recalled: fees stop here.
    pub at: UtcMillis,
    /// By when the units must be back.
    pub deadline: UtcMillis,
    /// Who recalled it.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// A lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Server-assigned id.
    pub id: String,
    /// Readable number, `ZL-2026-000001`.
    pub number: String,
    /// The depot the units leave from and come back to.
    pub depot: DepotCode,
    /// Who leases.
    pub lessee: Lessee,
    /// Lines as leased.
    pub lines: Vec<LeaseLine>,
    /// Per line and lot, what is out and back.
    pub shares: Vec<LeaseShare>,
    /// When the units left; fees count from its date.
    pub start: UtcMillis,
    /// The date the units are due back.
    pub due: Day,
    /// Deposit taken, in fen; set against the fees in the statement.
    pub deposit_fen: i64,
    /// Whether the lease may be recalled in an emergency.
    pub recallable: bool,
    /// The paper contract number.
    pub contract: String,
    /// Free text.
    pub note: String,
    /// State.
    pub state: LeaseState,
    /// The recall, once recalled.
    pub recall: Option<Recall>,
    /// Returns, oldest first.
    pub returns: Vec<LeaseReturn>,
    /// Who leased the units out.
    pub created_by: String,
    /// Version for compare-and-set.
    pub version: i64,
}

impl Lease {
    /// `leases/ID`.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::Lease, &self.id)
    }

    /// Units still out.
    pub fn outstanding(&self) -> i64 {
        self.shares
            .iter()
            .map(LeaseShare::outstanding)
            .fold(0, i64::saturating_add)
    }

    /// Whether a lease still out is past its due date on `today`.
    pub fn overdue(&self, today: Day) -> bool {
        self.state == LeaseState::Open && today > self.due
    }

    /// Whether a recalled lease is still out after its deadline at `now`.
    pub fn recall_missed(&self, now: UtcMillis) -> bool {
        self.state == LeaseState::Open && self.recall.as_ref().is_some_and(|r| now > r.deadline)
    }
}

/// A line as the client sent it.
#[derive(Clone, Debug, Default)]
pub struct LeaseLineDraft {
    /// Item id.
    pub item: String,
    /// Lot number; empty means first-expired-first-out.
    pub lot_number: String,
    /// Units (for serial items, the number of serials or 0).
    pub quantity: i64,
    /// Serial numbers, for serial-tracked items.
    pub serials: Vec<String>,
    /// Fee per unit per day, in fen.
    pub daily_rate_fen: i64,
}

/// A lease as the client sent it.
#[derive(Clone, Debug, Default)]
pub struct LeaseDraft {
    /// Depot code.
    pub depot: String,
    /// Lessee organisation.
    pub lessee_name: String,
    /// Its credit code.
    pub credit_code: String,
    /// Its contact person.
    pub contact: ContactDraft,
    /// Due date (year, month, day).
    pub due: Option<(i32, i32, i32)>,
    /// Deposit in fen.
    pub deposit_fen: i64,
    /// Whether recallable.
    pub recallable: bool,
    /// Lines.
    pub lines: Vec<LeaseLineDraft>,
    /// Contract number.
    pub contract: String,
    /// Note.
    pub note: String,
}

/// A line that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLeaseLine {
    /// Item.
    pub item: ItemId,
    /// Lot asked for.
    pub lot_number: Option<LotNumber>,
    /// Units.
    pub quantity: i64,
    /// Serial numbers asked for.
    pub serials: Vec<SerialNumber>,
    /// Fee per unit per day.
    pub daily_rate_fen: i64,
}

/// A lease that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLease {
    /// Depot.
    pub depot: DepotCode,
    /// Lessee.
    pub lessee: Lessee,
    /// Due date.
    pub due: Day,
    /// Deposit.
    pub deposit_fen: i64,
    /// Recallable.
    pub recallable: bool,
    /// Lines.
    pub lines: Vec<NewLeaseLine>,
    /// Contract number.
    pub contract: String,
    /// Note.
    pub note: String,
}

fn money(field: &str, fen: i64, max: i64, v: &mut Violations) {
    if !(0..=max).contains(&fen) {
        v.add(field, format!("must be 0 to {max} fen"));
    }
}

impl NewLease {
    /// Checks every field, reporting all broken ones under `lease.`. Rules
    /// against today (the due date after the start) are the plan's, so that
    /// a retry after midnight still finds its first answer.
    pub fn parse(d: &LeaseDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("lease.depot_code", DepotCode::parse(d.depot.trim()));
        let name = v.take("lease.lessee.name", text::required(&d.lessee_name, 100));
        let credit_code = v.take(
            "lease.lessee.credit_code",
            CreditCode::parse(&d.credit_code),
        );
        let contact = Contact::parse_at("lease.lessee.contact", &d.contact, &mut v);
        let due = fields::date(d.due, "lease.due_date", &mut v);
        if d.due.is_none() {
            v.add("lease.due_date", "is required");
        }
        money("lease.deposit_fen", d.deposit_fen, MAX_MONEY_FEN, &mut v);
        let contract = v.take("lease.contract", text::optional(&d.contract, 64));
        let note = v.take("lease.note", text::optional(&d.note, 500));
        if d.lines.is_empty() {
            v.add("lease.lines", "must list at least one line");
        }
        if d.lines.len() > MAX_LINES {
            v.add(
                "lease.lines",
                format!("must list at most {MAX_LINES} lines"),
            );
        }
        let mut lines: Vec<NewLeaseLine> = Vec::new();
        for (i, l) in d.lines.iter().enumerate().take(MAX_LINES) {
            let f = format!("lease.lines[{i}]");
            let item = v.take(&format!("{f}.item_id"), ItemId::parse(l.item.trim()));
            let lot_number = match l.lot_number.trim() {
                "" => None,
                n => v.take(&format!("{f}.lot_number"), LotNumber::parse(n)),
            };
            let serials = fields::serials(&format!("{f}.serial_numbers"), &l.serials, &mut v);
            let quantity = fields::units(&format!("{f}.quantity"), l.quantity, &serials, &mut v);
            if !(1..=MAX_RATE_FEN).contains(&l.daily_rate_fen) {
                v.add(
                    format!("{f}.daily_rate_fen"),
                    format!("must be 1 to {MAX_RATE_FEN} fen per unit per day"),
                );
            }
            if let Some(item) = item {
                if lines.iter().any(|x| x.item == item) {
                    v.add(
                        format!("{f}.item_id"),
                        format!("{item} is listed twice; put all its units on one line"),
                    );
                }
                lines.push(NewLeaseLine {
                    item,
                    lot_number,
                    quantity,
                    serials,
                    daily_rate_fen: l.daily_rate_fen,
                });
            }
        }
        // The longest term's fee must be countable in fen.
        let total = lines.iter().try_fold(0i64, |acc, l| {
            l.quantity
                .checked_mul(l.daily_rate_fen)?
                .checked_mul(MAX_TERM_DAYS)?
                .checked_add(acc)
        });
        if total.is_none_or(|t| t > MAX_MONEY_FEN * 100) {
            v.add(
                "lease.lines",
                "the fee (units × daily rate × days) is beyond what can be counted",
            );
        }
        match (depot, name, credit_code, contact, due, contract, note) {
            (
                Some(depot),
                Some(name),
                Some(credit_code),
                Some(contact),
                Some(due),
                Some(contract),
                Some(note),
            ) if v.is_empty() => Ok(NewLease {
                depot,
                lessee: Lessee {
                    name,
                    credit_code,
                    contact,
                },
                due,
                deposit_fen: d.deposit_fen,
                recallable: d.recallable,
                lines,
                contract,
                note,
            }),
            _ => Err(v),
        }
    }
}

/// One line of a return as the client sent it.
#[derive(Clone, Debug, Default)]
pub struct ReturnLineDraft {
    /// Line number.
    pub line: i64,
    /// Units back intact (lot items; for serial items the serials count).
    pub quantity: i64,
    /// Serial numbers back intact.
    pub serials: Vec<String>,
    /// Units back damaged.
    pub damaged_quantity: i64,
    /// Serial numbers back damaged.
    pub damaged_serials: Vec<String>,
    /// Condition number of the intact units (1 good, 2 worn; 0 = good).
    pub condition: i64,
    /// Condition number of the damaged units (3 needs repair, 4
    /// unserviceable; 0 = needs repair).
    pub damaged_condition: i64,
    /// Damage charged, in fen.
    pub damage_fen: i64,
    /// Inspection note.
    pub note: String,
}

/// One line of a return that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnLine {
    /// Line number.
    pub line: u32,
    /// Units back intact.
    pub intact: i64,
    /// Serial numbers back intact.
    pub serials: Vec<SerialNumber>,
    /// Units back damaged.
    pub damaged: i64,
    /// Serial numbers back damaged.
    pub damaged_serials: Vec<SerialNumber>,
    /// The inspection.
    pub inspection: ReturnInspection,
}

/// Checks a return's lines, reporting broken fields under `lines[i]`.
pub fn parse_return(lines: &[ReturnLineDraft]) -> Result<Vec<ReturnLine>, Violations> {
    let mut v = Violations::new();
    if lines.is_empty() {
        v.add("lines", "must list at least one line");
    }
    if lines.len() > MAX_LINES {
        v.add("lines", format!("must list at most {MAX_LINES} lines"));
    }
    let mut out: Vec<ReturnLine> = Vec::new();
    for (i, l) in lines.iter().enumerate().take(MAX_LINES) {
        let f = format!("lines[{i}]");
        let number = u32::try_from(l.line).ok().filter(|n| *n >= 1);
        if number.is_none() {
            v.add(format!("{f}.line_number"), "must be a line number from 1");
        }
        let serials = fields::serials(&format!("{f}.serial_numbers"), &l.serials, &mut v);
        let damaged_serials = fields::serials(
            &format!("{f}.damaged_serial_numbers"),
            &l.damaged_serials,
            &mut v,
        );
        let intact = if l.quantity == 0 && serials.is_empty() {
            0
        } else {
            fields::units(&format!("{f}.quantity"), l.quantity, &serials, &mut v)
        };
        let damaged = if l.damaged_quantity == 0 && damaged_serials.is_empty() {
            0
        } else {
            fields::units(
                &format!("{f}.damaged_quantity"),
                l.damaged_quantity,
                &damaged_serials,
                &mut v,
            )
        };
        if intact == 0 && damaged == 0 && l.quantity == 0 && l.damaged_quantity == 0 {
            v.add(
                format!("{f}.quantity"),
                "a returned line brings back at least one unit, intact or damaged",
            );
        }
        if intact.checked_add(damaged).is_none_or(|t| t > MAX_QUANTITY) {
            v.add(
                format!("{f}.quantity"),
                format!("must be at most {MAX_QUANTITY} in all"),
            );
        }
        if serials.iter().any(|s| damaged_serials.contains(s)) {
            v.add(
                format!("{f}.damaged_serial_numbers"),
                "a serial number is back either intact or damaged, not both",
            );
        }
        let condition = match l.condition {
            0 => Some(Condition::Good),
            n => {
                Condition::from_number(n).filter(|c| matches!(c, Condition::Good | Condition::Worn))
            }
        };
        if condition.is_none() {
            v.add(
                format!("{f}.condition"),
                "of the intact units must be good (1) or worn (2); say how damaged units are in damaged_condition",
            );
        }
        let damaged_condition = match l.damaged_condition {
            0 => Some(Condition::NeedsRepair),
            n => Condition::from_number(n)
                .filter(|c| matches!(c, Condition::NeedsRepair | Condition::Unserviceable)),
        };
        if damaged_condition.is_none() {
            v.add(
                format!("{f}.damaged_condition"),
                "must be needs repair (3) or unserviceable (4)",
            );
        }
        money(
            &format!("{f}.damage_fen"),
            l.damage_fen,
            MAX_MONEY_FEN,
            &mut v,
        );
        let note = v.take(&format!("{f}.note"), text::optional(&l.note, 500));
        if let Some(n) = number
            && out.iter().any(|x| x.line == n)
        {
            v.add(
                format!("{f}.line_number"),
                format!("line {n} is listed twice"),
            );
        }
        if let (Some(line), Some(condition), Some(dc), Some(note)) =
            (number, condition, damaged_condition, note)
        {
            out.push(ReturnLine {
                line,
                intact,
                serials,
                damaged,
                damaged_serials,
                inspection: ReturnInspection {
                    line,
                    condition,
                    damaged_condition: (damaged > 0).then_some(dc),
                    damage_fen: l.damage_fen,
                    note,
                },
            });
        }
    }
    if v.is_empty() { Ok(out) } else { Err(v) }
}

/// Checks a recall's deadline (hours from now) and reason.
pub fn parse_recall(hours: i64, reason: &str) -> Result<(i64, String), Violations> {
    let mut v = Violations::new();
    if !(1..=MAX_RECALL_HOURS).contains(&hours) {
        v.add(
            "deadline_hours",
            format!("must be 1 to {MAX_RECALL_HOURS} hours from now"),
        );
    }
    let reason = v.take("reason", text::required(reason, 500));
    match reason {
        Some(r) if v.is_empty() => Ok((hours, r)),
        _ => Err(v),
    }
}

#[cfg(test)]
mod tests;
