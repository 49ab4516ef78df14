//! The lease statement: fees computed, never typed in.
//!
//! **Day rule.** Days are calendar dates in Asia/Shanghai. A unit is charged
//! for the days from the date it left (the lease's start date) to the date
//! it came back, counting the start date and not the return date, and at
//! least one day: out on 1 May and back on 11 May is 10 days; out and back
//! on 1 May is 1 day. This is how hire businesses count rental days, and it
//! makes a full term exactly `due date − start date` days. A unit back late
//! is charged for every day it was out, at the same rate. Once a lease is
//! recalled the clock stops at the recall date: units back by the recall
//! deadline's date are charged up to the recall date only, because the
//! bureau, not the lessee, ended the use. A unit kept past that deadline is
//! charged again for each day from the deadline's date to its return, so a
//! recall never lets a lessee keep units for nothing. Units still out on the
//! statement date are charged up to that date the same way (an interim
//! statement).
//!
//! **Amount.** usage = Σ units × days × daily rate; total = usage + damage
//! charges from the return inspections; balance = total − deposit. A
//! positive balance is what the lessee still owes; a negative one is
//! deposit to refund.

use super::{Lease, LeaseError, LeaseState};
use crate::item::ItemId;
use crate::stock::lot::{Day, LotNumber};
use serde::{Deserialize, Serialize};

/// One charge of a statement: units of one line and lot out for the same
/// days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// The line.
    pub line: u32,
    /// Item.
    pub item: ItemId,
    /// Lot.
    pub lot_number: LotNumber,
    /// Units.
    pub units: i64,
    /// First charged date (the start date).
    pub from: Day,
    /// The date the charge ends (not charged itself).
    pub to: Day,
    /// Charged days.
    pub days: i64,
    /// Fee per unit per day.
    pub daily_rate_fen: i64,
    /// units × days × rate.
    pub amount_fen: i64,
    /// Whether the units are still out (the charge runs to the statement
    /// date and will grow).
    pub still_out: bool,
}

/// What the lessee owes on a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The date it was drawn up for.
    pub as_of: Day,
    /// Usage charges.
    pub charges: Vec<Charge>,
    /// Sum of the usage charges.
    pub usage_fen: i64,
    /// Damage charged at the return inspections.
    pub damage_fen: i64,
    /// usage + damage.
    pub total_fen: i64,
    /// Deposit taken.
    pub deposit_fen: i64,
    /// total − deposit: owed by the lessee if positive, to refund if negative.
    pub balance_fen: i64,
    /// Whether every unit is back, so the figures are final.
    pub is_final: bool,
    /// The date fees stopped at, for a recalled lease.
    pub fees_stop: Option<Day>,
}

/// Charged days from `from` to `to` under the day rule: at least one.
pub fn charged_days(from: Day, to: Day) -> i64 {
    to.0.saturating_sub(from.0).max(1)
}

/// The statement of `lease` on `today`.
pub fn statement(lease: &Lease, today: Day) -> Result<Statement, LeaseError> {
    let too_large = || LeaseError::FeeTooLarge(lease.number.clone());
    let start = Day::today(lease.start);
    let stop = lease.recall.as_ref().map(|r| Day::today(r.at));
    let deadline = lease.recall.as_ref().map(|r| Day::today(r.deadline));
    // Days charged for a unit out from the start until `back`.
    let days_until = |back: Day| match (stop, deadline) {
        (Some(s), Some(d)) if back > d => {
            charged_days(start, s.min(back)).saturating_add(back.0 - d.0)
        }
        (Some(s), _) => charged_days(start, s.min(back)),
        _ => charged_days(start, back),
    };
    let rate = |line: u32| {
        lease
            .lines
            .iter()
            .find(|l| l.number == line)
            .map(|l| l.daily_rate_fen)
            .unwrap_or(0)
    };
    let mut charges: Vec<Charge> = Vec::new();
    let mut charge = |line: u32, item: &ItemId, lot: &LotNumber, units: i64, to: Day, out: bool| {
        let days = days_until(to);
        let r = rate(line);
        let amount = units
            .checked_mul(days)
            .and_then(|x| x.checked_mul(r))
            .ok_or_else(too_large)?;
        // Units of the same line and lot out for the same days are one charge.
        if let Some(c) = charges
            .iter_mut()
            .find(|c| c.line == line && &c.lot_number == lot && c.to == to && c.still_out == out)
        {
            c.units = c.units.checked_add(units).ok_or_else(too_large)?;
            c.amount_fen = c.amount_fen.checked_add(amount).ok_or_else(too_large)?;
            return Ok(());
        }
        charges.push(Charge {
            line,
            item: item.clone(),
            lot_number: lot.clone(),
            units,
            from: start,
            to,
            days,
            daily_rate_fen: r,
            amount_fen: amount,
            still_out: out,
        });
        Ok::<(), LeaseError>(())
    };
    let mut damage: i64 = 0;
    for ret in &lease.returns {
        let back = Day::today(ret.at);
        for u in &ret.units {
            let item = lease
                .lines
                .iter()
                .find(|l| l.number == u.line)
                .map(|l| l.item.clone())
                .ok_or_else(too_large)?;
            let n = u.intact.checked_add(u.damaged).ok_or_else(too_large)?;
            charge(u.line, &item, &u.lot_number, n, back, false)?;
        }
        for i in &ret.inspections {
            damage = damage.checked_add(i.damage_fen).ok_or_else(too_large)?;
        }
    }
    for s in &lease.shares {
        let out = s.outstanding();
        if out > 0 {
            charge(s.line, &s.item, &s.lot_number, out, today, true)?;
        }
    }
    let usage = charges
        .iter()
        .try_fold(0i64, |a, c| a.checked_add(c.amount_fen))
        .ok_or_else(too_large)?;
    let total = usage.checked_add(damage).ok_or_else(too_large)?;
    Ok(Statement {
        as_of: today,
        charges,
        usage_fen: usage,
        damage_fen: damage,
        total_fen: total,
        deposit_fen: lease.deposit_fen,
        balance_fen: total.checked_sub(lease.deposit_fen).ok_or_else(too_large)?,
        is_final: lease.state == LeaseState::Returned,
        fees_stop: stop,
    })
}
