//! What each lease action does to the ledger: core decides, the store
//! writes. Leasing out reuses the issue planner (first-expired-first-out,
//! expiry, named lots and serials, the reserve minimum with no override),
//! then posts `LeaseOut` entries owned by the lease instead of issues.

use super::{
    Lease, LeaseError, LeaseLine, LeaseReturn, LeaseShare, LeaseState, NewLease, NewLeaseLine,
    Recall, ReturnLine, ReturnedLine,
};
use crate::item::{Item, Tracking};
use crate::stock::balance::Delta;
use crate::stock::entry::{EntryDraft, EntryType};
use crate::stock::issue::{Issue, IssuePurpose, plan_issue};
use crate::stock::lot::{Day, Lot, SerialNumber};
use crate::stock::pick::{AssetState, LineState};
use crate::time::UtcMillis;
use crate::violation::Violations;
use std::collections::HashSet;

/// What the store loaded for one line: the item, its lines and assets at
/// the depot, and the depot's reserve minimum for it.
pub struct LineWorld<'a> {
    /// The catalogue item.
    pub item: &'a Item,
    /// Its stock lines at the depot.
    pub lines: &'a [LineState],
    /// Its assets at the depot (serial items).
    pub assets: &'a [AssetState],
    /// The reserve minimum (0 if none).
    pub minimum: i64,
}

/// The lease as it starts and the entries that take its units out.
#[derive(Debug)]
pub struct OutPlan {
    /// The lease, version 1.
    pub lease: Lease,
    /// `LeaseOut` entries, one per lot.
    pub entries: Vec<EntryDraft>,
}

/// Plans leasing out `new`: every line from units free now (never held,
/// reserved, under repair or expired), never below the reserve minimum.
#[allow(clippy::too_many_arguments)]
pub fn plan_out(
    new: &NewLease,
    worlds: &[LineWorld<'_>],
    id: &str,
    number: &str,
    actor: &str,
    now: UtcMillis,
    today: Day,
    new_id: &mut dyn FnMut() -> String,
) -> Result<OutPlan, LeaseError> {
    if new.due <= today {
        return Err(LeaseError::Invalid(Violations::one(
            "lease.due_date",
            format!("must be after the start date {}", today.date()),
        )));
    }
    if new.due.0 - today.0 > super::MAX_TERM_DAYS {
        return Err(LeaseError::Invalid(Violations::one(
            "lease.due_date",
            format!("must be within {} days of the start", super::MAX_TERM_DAYS),
        )));
    }
    let mut lease = Lease {
        id: id.to_string(),
        number: number.to_string(),
        depot: new.depot.clone(),
        lessee: new.lessee.clone(),
        lines: Vec::new(),
        shares: Vec::new(),
        start: now,
        due: new.due,
        deposit_fen: new.deposit_fen,
        recallable: new.recallable,
        contract: new.contract.clone(),
        note: new.note.clone(),
        state: LeaseState::Open,
        recall: None,
        returns: Vec::new(),
        created_by: actor.to_string(),
        version: 1,
    };
    let owner = lease.doc_ref();
    let mut entries = Vec::new();
    for (i, (line, w)) in new.lines.iter().zip(worlds).enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if !w.item.leasable {
            return Err(LeaseError::NotLeasable(line.item.to_string()));
        }
        let plan = plan_issue(
            &as_issue(new, line, &lease.number, now),
            w.item,
            w.lines,
            w.assets,
            w.minimum,
            today,
            new_id,
        )?;
        for e in plan.entries {
            let q = -e.delta.on_hand;
            lease.shares.push(LeaseShare {
                line: number,
                item: line.item.clone(),
                lot: e.lot.id.clone(),
                lot_number: e.lot.number.clone(),
                quantity: q,
                returned: 0,
                damaged: 0,
                serials: e.serials.clone(),
                returned_serials: Vec::new(),
            });
            entries.push(
                EntryDraft::new(
                    e.id,
                    EntryType::LeaseOut,
                    &new.depot,
                    &e.lot,
                    Delta::lease_out(q),
                    now,
                )
                .reason(format!(
                    "lease {} to {} until {}",
                    lease.number,
                    new.lessee.name,
                    new.due.date()
                ))
                .paper(&new.contract, &new.lessee.name)
                .serials(e.serials)
                .owned_by(&owner),
            );
        }
        lease.lines.push(LeaseLine {
            number,
            item: line.item.clone(),
            quantity: line.quantity,
            daily_rate_fen: line.daily_rate_fen,
        });
    }
    Ok(OutPlan { lease, entries })
}

fn as_issue(new: &NewLease, line: &NewLeaseLine, number: &str, now: UtcMillis) -> Issue {
    Issue {
        depot: new.depot.clone(),
        item: line.item.clone(),
        quantity: line.quantity,
        lot_number: line.lot_number.clone(),
        serials: line.serials.clone(),
        purpose: IssuePurpose::Use,
        recipient: new.lessee.name.clone(),
        document: number.to_string(),
        reason: String::new(),
        override_minimum: None,
        // Overdue upkeep is checked by the store against the picked serials,
        // with no override for a lease.
        override_upkeep: None,
        occurred_at: now,
        incident: None,
    }
}

/// The lease as it becomes and the entries a return posts.
#[derive(Debug)]
pub struct ReturnPlan {
    /// The lease, version advanced.
    pub lease: Lease,
    /// `LeaseReturn` entries: intact units into stock, damaged into a hold.
    pub entries: Vec<EntryDraft>,
}

fn refuse<T>(msg: String) -> Result<T, LeaseError> {
    Err(LeaseError::NotOut(msg))
}

/// Plans taking back `lines` of `lease`, come back at `now`: each line's
/// units from its lots in the order they went out (or exactly the serials
/// named), intact ones into stock and damaged ones into a hold no document
/// owns.
pub fn plan_return(
    lease: &Lease,
    lines: &[ReturnLine],
    tracking: &dyn Fn(u32) -> Tracking,
    lots: &[Lot],
    actor: &str,
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> Result<ReturnPlan, LeaseError> {
    if lease.state != LeaseState::Open {
        return Err(LeaseError::InvalidTransition {
            number: lease.number.clone(),
            state: lease.state.name(),
            action: "take units back",
        });
    }
    let last = lease.returns.last().map_or(lease.start, |r| r.at);
    if now < last {
        return Err(LeaseError::Invalid(Violations::one(
            "occurred_time",
            "must not be before the lease started or its last return",
        )));
    }
    let mut next = lease.clone();
    let owner = lease.doc_ref();
    let mut entries = Vec::new();
    let mut units = Vec::new();
    for r in lines {
        if !lease.lines.iter().any(|l| l.number == r.line) {
            return Err(LeaseError::NotFound(format!(
                "leases/{}/lines/{}",
                lease.id, r.line
            )));
        }
        let serial = tracking(r.line) == Tracking::Serial;
        if serial
            && (r.intact > 0 && r.serials.is_empty()
                || r.damaged > 0 && r.damaged_serials.is_empty())
        {
            return refuse(format!(
                "line {} is serial-tracked: name the serial numbers coming back",
                r.line
            ));
        }
        let names_serials = !r.serials.is_empty() || !r.damaged_serials.is_empty();
        if !serial && names_serials {
            return refuse(format!(
                "line {} is lot-tracked: give quantities, not serial numbers",
                r.line
            ));
        }
        let out: i64 = next
            .shares
            .iter()
            .filter(|s| s.line == r.line)
            .map(LeaseShare::outstanding)
            .sum();
        let asked = r.intact.saturating_add(r.damaged);
        if asked > out {
            return refuse(format!(
                "line {} of lease {} has {out} unit(s) out; {asked} cannot come back",
                r.line, lease.number
            ));
        }
        for (damaged, want, named) in [
            (false, r.intact, &r.serials),
            (true, r.damaged, &r.damaged_serials),
        ] {
            let mut left = want;
            let named: HashSet<&SerialNumber> = named.iter().collect();
            for s in next.shares.iter_mut().filter(|s| s.line == r.line) {
                if left == 0 {
                    break;
                }
                let back: Vec<SerialNumber> = if serial {
                    s.serials_out()
                        .into_iter()
                        .filter(|x| named.contains(x))
                        .collect()
                } else {
                    Vec::new()
                };
                let n = if serial {
                    back.len() as i64
                } else {
                    s.outstanding().min(left)
                };
                if n == 0 {
                    continue;
                }
                left -= n;
                s.returned += n;
                if damaged {
                    s.damaged += n;
                }
                s.returned_serials.extend(back.iter().cloned());
                let delta = Delta {
                    held: if damaged { n } else { 0 },
                    ..Delta::lease_out(-n)
                };
                let Some(lot) = lots.iter().find(|l| l.id == s.lot) else {
                    return Err(LeaseError::NotFound(format!(
                        "lots/{}",
                        s.lot_number.as_str()
                    )));
                };
                entries.push(
                    EntryDraft::new(
                        new_id(),
                        EntryType::LeaseReturn,
                        &lease.depot,
                        lot,
                        delta,
                        now,
                    )
                    .reason(format!(
                        "return on lease {} from {}{}",
                        lease.number,
                        lease.lessee.name,
                        if damaged {
                            ", damaged: held for inspection"
                        } else {
                            ""
                        }
                    ))
                    .paper(&lease.contract, &lease.lessee.name)
                    .serials(back.clone())
                    .owned_by(&owner),
                );
                units.push(ReturnedLine {
                    line: r.line,
                    lot_number: s.lot_number.clone(),
                    intact: if damaged { 0 } else { n },
                    damaged: if damaged { n } else { 0 },
                    serials: if damaged { Vec::new() } else { back.clone() },
                    damaged_serials: if damaged { back } else { Vec::new() },
                });
            }
            if left > 0 {
                let named: Vec<String> = named.iter().map(|s| s.to_string()).collect();
                return refuse(format!(
                    "line {} of lease {}: serial number(s) {} are not out on it",
                    r.line,
                    lease.number,
                    named.join(", ")
                ));
            }
        }
    }
    next.returns.push(LeaseReturn {
        at: now,
        by: actor.to_string(),
        units,
        inspections: lines.iter().map(|r| r.inspection.clone()).collect(),
    });
    if next.outstanding() == 0 {
        next.state = LeaseState::Returned;
    }
    next.version += 1;
    Ok(ReturnPlan {
        lease: next,
        entries,
    })
}

/// Recalls `lease` at `now` with `deadline`: fees stop now.
pub fn recall(
    lease: &Lease,
    deadline: UtcMillis,
    reason: &str,
    actor: &str,
    now: UtcMillis,
) -> Result<Lease, LeaseError> {
    if lease.state != LeaseState::Open {
        return Err(LeaseError::InvalidTransition {
            number: lease.number.clone(),
            state: lease.state.name(),
            action: "be recalled",
        });
    }
    if !lease.recallable {
        return Err(LeaseError::NotRecallable(format!(
            "lease {} was agreed without emergency recall",
            lease.number
        )));
    }
    if let Some(r) = &lease.recall {
        return Err(LeaseError::NotRecallable(format!(
            "lease {} was recalled already by {}",
            lease.number, r.by
        )));
    }
    let mut next = lease.clone();
    next.recall = Some(Recall {
        at: now,
        deadline,
        by: actor.to_string(),
        reason: reason.to_string(),
    });
    next.version += 1;
    Ok(next)
}
