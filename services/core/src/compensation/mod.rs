//! Compensation claims for requisitioned property: the amount is computed
//! from the requisition record and documented direct costs, never typed in
//! as a total, and moves draft → assessed → approved → paid (with partial
//! payments), with a dispute sending it back to be re-assessed.
//!
//! **Amount** (RULES.md, "Compensation principle": direct actual losses, in
//! cash, no indirect losses):
//! - usage fee: for every unit, days in use × the line's daily rate, under
//!   the lease day rule (`crate::lease::fee::charged_days`): calendar days in
//!   Asia/Shanghai from the date it was taken to the date of its outcome,
//!   counting the first and not the last, at least one day. Consumed units
//!   pay no usage fee: their value is paid instead.
//! - damage: the repair cost recorded at return, capped at the appraised
//!   value of the units damaged;
//! - loss and consumption: the appraised value of the units;
//! - direct costs: fuel, staff-days × daily wage, other; each with its
//!   evidence reference.
//!
//! Money is integer fen throughout; every sum is checked.

pub mod claim;
#[cfg(test)]
mod tests;

use crate::lease::fee::charged_days;
use crate::requisition::{OutcomeKind, Requisition, RequisitionError};
use crate::stock::Day;
use crate::text::required;
use crate::violation::Violations;
pub use claim::{Claim, ClaimState, Payment, Step};
use serde::{Deserialize, Serialize};

/// Most direct costs on one claim.
pub const MAX_DIRECT_COSTS: usize = 100;
/// Largest single amount: 100 million yuan.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;

/// What a direct cost was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CostKind {
    /// Fuel used by requisitioned machinery.
    Fuel,
    /// The owner's staff who worked with it: staff-days × daily wage.
    Labour,
    /// Any other documented direct cost.
    Other,
}

impl CostKind {
    /// Wire number.
    pub fn number(self) -> i64 {
        match self {
            CostKind::Fuel => 1,
            CostKind::Labour => 2,
            CostKind::Other => 3,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(CostKind::Fuel),
            2 => Some(CostKind::Labour),
            3 => Some(CostKind::Other),
            _ => None,
        }
    }
}

/// A documented direct cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectCost {
    /// Kind.
    pub kind: CostKind,
    /// What it was.
    pub description: String,
    /// Staff-days (labour only).
    pub staff_days: i64,
    /// Daily wage, fen (labour only).
    pub daily_wage_fen: i64,
    /// Amount, fen: staff-days × wage for labour, as documented otherwise.
    pub amount_fen: i64,
    /// Evidence (receipt, timesheet) reference.
    pub evidence: String,
}

/// A direct cost as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DirectCostDraft {
    /// Kind number.
    pub kind: i64,
    /// Description.
    pub description: String,
    /// Staff-days (labour).
    pub staff_days: i64,
    /// Daily wage, fen (labour).
    pub daily_wage_fen: i64,
    /// Amount, fen (fuel, other).
    pub amount_fen: i64,
    /// Evidence reference.
    pub evidence: String,
}

/// Checks direct costs; labour amounts are computed from staff-days × wage.
pub fn parse_direct_costs(drafts: &[DirectCostDraft]) -> Result<Vec<DirectCost>, Violations> {
    let mut v = Violations::new();
    if drafts.len() > MAX_DIRECT_COSTS {
        v.add(
            "direct_costs",
            format!("must list at most {MAX_DIRECT_COSTS} costs"),
        );
    }
    let mut out = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let f = |x: &str| format!("direct_costs[{i}].{x}");
        let kind = CostKind::from_number(d.kind);
        if kind.is_none() {
            v.add(f("kind"), "must be FUEL, LABOUR or OTHER");
        }
        let description = v.take(&f("description"), required(&d.description, 200));
        let evidence = v.take(
            &f("evidence"),
            required(&d.evidence, 100).map_err(|_| {
                "is required: the receipt, timesheet or invoice that documents the cost".to_string()
            }),
        );
        let amount = match kind {
            Some(CostKind::Labour) => {
                if !(1..=100_000).contains(&d.staff_days) {
                    v.add(f("staff_days"), "must be 1 to 100000");
                }
                if !(1..=10_000_000).contains(&d.daily_wage_fen) {
                    v.add(f("daily_wage_fen"), "must be 1 to 10000000 fen");
                }
                let computed = d.staff_days.checked_mul(d.daily_wage_fen).unwrap_or(0);
                if computed > MAX_AMOUNT_FEN {
                    v.add(
                        f("staff_days"),
                        format!("times daily_wage_fen must be at most {MAX_AMOUNT_FEN} fen"),
                    );
                }
                // A cost read back from a claim carries its computed amount.
                if d.amount_fen != 0 && d.amount_fen != computed {
                    v.add(
                        f("amount_fen"),
                        "is computed for labour (staff-days × daily wage); leave it 0",
                    );
                }
                computed
            }
            Some(_) => {
                if !(1..=MAX_AMOUNT_FEN).contains(&d.amount_fen) {
                    v.add(
                        f("amount_fen"),
                        format!("must be 1 to {MAX_AMOUNT_FEN} fen"),
                    );
                }
                if d.staff_days != 0 || d.daily_wage_fen != 0 {
                    v.add(f("staff_days"), "is only for labour costs");
                }
                d.amount_fen
            }
            None => 0,
        };
        if let (Some(kind), Some(description), Some(evidence)) = (kind, description, evidence) {
            out.push(DirectCost {
                kind,
                description,
                staff_days: d.staff_days,
                daily_wage_fen: d.daily_wage_fen,
                amount_fen: amount,
                evidence,
            });
        }
    }
    v.finish(|| out)
}

/// The figures of one requisition line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineFigures {
    /// Line.
    pub line: u32,
    /// Description.
    pub description: String,
    /// Unit-days of use charged.
    pub unit_days: i64,
    /// Usage fee.
    pub usage_fen: i64,
    /// Repair cost as recorded.
    pub repair_claimed_fen: i64,
    /// Repair cost paid (capped at the value of the damaged units).
    pub repair_fen: i64,
    /// Value of units lost or consumed.
    pub loss_fen: i64,
}

/// A claim's computed amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Per line.
    pub lines: Vec<LineFigures>,
    /// Usage fees.
    pub usage_fen: i64,
    /// Repairs (capped).
    pub repair_fen: i64,
    /// Loss and consumption.
    pub loss_fen: i64,
    /// Direct costs.
    pub direct_fen: i64,
    /// The sum.
    pub total_fen: i64,
    /// Units still out, charged up to the date figured (interim figures).
    pub interim: bool,
    /// The date the figures were drawn up for.
    pub as_of: Day,
}

/// Computes the compensation for `r` with `costs`, as of `today` (units
/// still out are charged to `today` and the figures marked interim).
pub fn figures(
    r: &Requisition,
    costs: &[DirectCost],
    today: Day,
) -> Result<Figures, RequisitionError> {
    let big = || RequisitionError::TooLarge(format!("requisition {}", r.number));
    let add = |a: i64, b: i64| a.checked_add(b).ok_or_else(big);
    let mul = |a: i64, b: i64| a.checked_mul(b).ok_or_else(big);
    let taken = Day::today(r.taken_at);
    let mut f = Figures {
        lines: Vec::with_capacity(r.items.len()),
        usage_fen: 0,
        repair_fen: 0,
        loss_fen: 0,
        direct_fen: 0,
        total_fen: 0,
        interim: false,
        as_of: today,
    };
    for item in &r.items {
        let mut l = LineFigures {
            line: item.number,
            description: item.description.clone(),
            unit_days: 0,
            usage_fen: 0,
            repair_claimed_fen: 0,
            repair_fen: 0,
            loss_fen: 0,
        };
        let mut damaged_units = 0i64;
        for o in r.outcomes.iter().filter(|o| o.line == item.number) {
            let days = charged_days(taken, Day::today(o.at));
            match o.kind {
                OutcomeKind::ReturnedIntact => {
                    l.unit_days = add(l.unit_days, mul(o.quantity, days)?)?;
                }
                OutcomeKind::Damaged => {
                    l.unit_days = add(l.unit_days, mul(o.quantity, days)?)?;
                    l.repair_claimed_fen = add(l.repair_claimed_fen, o.repair_cost_fen)?;
                    damaged_units = add(damaged_units, o.quantity)?;
                }
                OutcomeKind::Lost => {
                    l.unit_days = add(l.unit_days, mul(o.quantity, days)?)?;
                    l.loss_fen = add(l.loss_fen, mul(o.quantity, item.unit_value_fen)?)?;
                }
                OutcomeKind::Consumed => {
                    l.loss_fen = add(l.loss_fen, mul(o.quantity, item.unit_value_fen)?)?;
                }
            }
        }
        let out = item.outstanding();
        if out > 0 {
            f.interim = true;
            l.unit_days = add(l.unit_days, mul(out, charged_days(taken, today))?)?;
        }
        l.usage_fen = mul(l.unit_days, item.daily_rate_fen)?;
        l.repair_fen = l
            .repair_claimed_fen
            .min(mul(damaged_units, item.unit_value_fen)?);
        f.usage_fen = add(f.usage_fen, l.usage_fen)?;
        f.repair_fen = add(f.repair_fen, l.repair_fen)?;
        f.loss_fen = add(f.loss_fen, l.loss_fen)?;
        f.lines.push(l);
    }
    for c in costs {
        f.direct_fen = add(f.direct_fen, c.amount_fen)?;
    }
    f.total_fen = add(
        add(add(f.usage_fen, f.repair_fen)?, f.loss_fen)?,
        f.direct_fen,
    )?;
    Ok(f)
}
