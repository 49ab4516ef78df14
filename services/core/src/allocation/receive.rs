//! Receipt: units on the road arrive at the destination with their lot and
//! expiry, in one go or several. Damaged units come in held; refused and
//! missing units leave the books as discrepancies with a reason. At an
//! incident site the units leave the network when the site confirms them.

use super::rules::OrderWorld;
use super::transition::{Actor, entry, event, lot_of, to_depot};
use super::{AllocationError, Destination, Order};
use crate::depot::DepotCode;
use crate::item::Tracking;
use crate::stock::balance::MAX_QUANTITY;
use crate::stock::document::DocPlan;
use crate::stock::entry::{AssetChange, AssetPlace, AssetStatus};
use crate::stock::{Delta, EntryType, LotNumber, SerialNumber, fields};
use crate::text;
use crate::violation::Violations;

/// What arrived of one share, as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArrivalDraft {
    /// Line number.
    pub line: i32,
    /// Source depot code.
    pub source: String,
    /// Lot number.
    pub lot: String,
    /// Good units.
    pub received: i64,
    /// Damaged units.
    pub damaged: i64,
    /// Refused units.
    pub rejected: i64,
    /// Units that never arrived.
    pub short: i64,
    /// Good serials.
    pub received_serials: Vec<String>,
    /// Damaged serials.
    pub damaged_serials: Vec<String>,
    /// Refused serials.
    pub rejected_serials: Vec<String>,
    /// Missing serials.
    pub short_serials: Vec<String>,
    /// Why there is a discrepancy.
    pub reason: String,
}

/// Units of one category: a count, and for serial items the serials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Units {
    /// Count given (0 when serials are listed instead).
    pub quantity: i64,
    /// Serials.
    pub serials: Vec<SerialNumber>,
}

impl Units {
    fn count(&self) -> i64 {
        if self.serials.is_empty() {
            self.quantity
        } else {
            self.serials.len() as i64
        }
    }
}

/// What arrived of one share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// Line number.
    pub line: u32,
    /// Source depot.
    pub source: DepotCode,
    /// Lot number.
    pub lot: LotNumber,
    /// Good units.
    pub received: Units,
    /// Damaged units.
    pub damaged: Units,
    /// Refused units.
    pub rejected: Units,
    /// Missing units.
    pub short: Units,
    /// Why.
    pub reason: String,
}

impl Arrival {
    /// Checks every field of a receipt's shares, reporting all broken ones.
    pub fn parse_all(drafts: &[ArrivalDraft]) -> Result<Vec<Arrival>, Violations> {
        let mut v = Violations::new();
        if drafts.is_empty() {
            v.add("shares", "must list what arrived of at least one share");
        }
        if drafts.len() > 1000 {
            v.add("shares", "must list at most 1000 shares");
            return Err(v);
        }
        let mut out = Vec::new();
        for (i, d) in drafts.iter().enumerate() {
            let f = format!("shares[{i}]");
            let line = match u32::try_from(d.line) {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    v.add(format!("{f}.line_number"), "must be a line number, from 1");
                    None
                }
            };
            let source = v.take(
                &format!("{f}.source_depot_code"),
                DepotCode::parse(d.source.trim()),
            );
            let lot = v.take(&format!("{f}.lot_number"), LotNumber::parse(&d.lot));
            let mut units = |name: &str, q: i64, raw: &[String]| {
                let serials = fields::serials(&format!("{f}.{name}_serial_numbers"), raw, &mut v);
                if !(0..=MAX_QUANTITY).contains(&q) {
                    v.add(
                        format!("{f}.{name}"),
                        format!("must be 0 to {MAX_QUANTITY}"),
                    );
                } else if !serials.is_empty() && q != 0 && q != serials.len() as i64 {
                    v.add(
                        format!("{f}.{name}"),
                        format!(
                            "is {q} but {} serial numbers are listed; give 0 or their number",
                            serials.len()
                        ),
                    );
                }
                Units {
                    quantity: q,
                    serials,
                }
            };
            let received = units("received", d.received, &d.received_serials);
            let damaged = units("damaged", d.damaged, &d.damaged_serials);
            let rejected = units("rejected", d.rejected, &d.rejected_serials);
            let short = units("short", d.short, &d.short_serials);
            let reason = v.take(&format!("{f}.reason"), text::optional(&d.reason, 500));
            let discrepancy = damaged.count() + rejected.count() + short.count();
            if received.count() + discrepancy == 0 {
                v.add(
                    f.clone(),
                    "accounts for no units: give what was received, damaged, refused or short",
                );
            }
            if discrepancy > 0 && d.reason.trim().is_empty() {
                v.add(
                    format!("{f}.reason"),
                    "is required with damaged, refused or missing units: say what happened",
                );
            }
            if let (Some(line), Some(source), Some(lot), Some(reason)) = (line, source, lot, reason)
            {
                out.push(Arrival {
                    line,
                    source,
                    lot,
                    received,
                    damaged,
                    rejected,
                    short,
                    reason,
                });
            }
        }
        if v.is_empty() { Ok(out) } else { Err(v) }
    }
}

fn invalid(field: String, msg: String) -> AllocationError {
    AllocationError::Invalid(Violations::one(field, msg))
}

pub(super) fn receive(
    order: &Order,
    mut next: Order,
    world: &OrderWorld,
    actor: &Actor<'_>,
    arrivals: &[Arrival],
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<Order>, AllocationError> {
    let owner = order.doc_ref();
    let on_road = AssetPlace {
        status: AssetStatus::InTransit,
        holder: Some(owner.clone()),
    };
    let mut entries = Vec::new();
    let mut assets = Vec::new();
    let mut notes = Vec::new();
    for (i, a) in arrivals.iter().enumerate() {
        let f = format!("shares[{i}]");
        let Some(share) = next.shares.iter_mut().find(|s| {
            s.line == a.line && s.source == a.source && s.lot_number == a.lot && s.dispatched > 0
        }) else {
            return Err(invalid(
                f,
                format!(
                    "nothing of line {} from {} lot {} is on the road on order {}",
                    a.line,
                    a.source,
                    a.lot.as_str(),
                    order.number
                ),
            ));
        };
        let item = world.item(&share.item)?;
        let cats = [
            ("received", &a.received),
            ("damaged", &a.damaged),
            ("rejected", &a.rejected),
            ("short", &a.short),
        ];
        match item.tracking {
            Tracking::Serial => {
                let road = share.serials_in_transit();
                let mut seen: Vec<&SerialNumber> = Vec::new();
                for (name, u) in cats {
                    if u.quantity > 0 && u.serials.is_empty() {
                        return Err(invalid(
                            format!("{f}.{name}_serial_numbers"),
                            format!("are required: {} is tracked by serial number", share.item),
                        ));
                    }
                    for s in &u.serials {
                        if !road.contains(s) || seen.contains(&s) {
                            return Err(invalid(
                                format!("{f}.{name}_serial_numbers"),
                                format!(
                                    "{s} is not on the road on order {} from {} lot {} (or is listed twice)",
                                    order.number,
                                    a.source,
                                    a.lot.as_str()
                                ),
                            ));
                        }
                        seen.push(s);
                    }
                }
            }
            Tracking::Lot => {
                for (name, u) in cats {
                    if !u.serials.is_empty() {
                        return Err(invalid(
                            format!("{f}.{name}_serial_numbers"),
                            format!("must be empty: {} is tracked by lot", share.item),
                        ));
                    }
                }
            }
        }
        let (r, d, j, s) = (
            a.received.count(),
            a.damaged.count(),
            a.rejected.count(),
            a.short.count(),
        );
        let total = r + d + j + s;
        if total > share.in_transit() {
            return Err(AllocationError::ExceedsInTransit {
                line: share.line,
                from: share.source.to_string(),
                lot: share.lot_number.as_str().to_string(),
                in_transit: share.in_transit(),
                requested: total,
            });
        }
        let lot = lot_of(world, &share.lot)?;
        let came: Vec<SerialNumber> = a
            .received
            .serials
            .iter()
            .chain(&a.damaged.serials)
            .cloned()
            .collect();
        let gone: Vec<SerialNumber> = a
            .rejected
            .serials
            .iter()
            .chain(&a.short.serials)
            .cloned()
            .collect();
        match &order.destination {
            Destination::Depot(dest) if to_depot(order.kind) => {
                if r + d > 0 {
                    let mut e = entry(
                        order,
                        EntryType::TransferIn,
                        dest,
                        lot,
                        Delta::on_hand(r + d),
                        actor.now,
                        new_id,
                    )
                    .reason(format!(
                        "allocation {} received from {}",
                        order.number, a.source
                    ))
                    .owned_by(&owner)
                    .serials(came.clone())
                    .arriving_from(&a.source);
                    e.counterparty = a.source.to_string();
                    if let Some(t) = world.destination_owner {
                        e = e.line_owner(t);
                    }
                    entries.push(e);
                }
                if d > 0 {
                    entries.push(
                        entry(
                            order,
                            EntryType::Hold,
                            dest,
                            lot,
                            Delta::held(d),
                            actor.now,
                            new_id,
                        )
                        .reason(format!(
                            "damaged in transit on allocation {}: {}",
                            order.number, a.reason
                        ))
                        .owned_by(&owner)
                        .serials(a.damaged.serials.clone()),
                    );
                }
            }
            _ => {
                if !came.is_empty() {
                    assets.push(AssetChange {
                        item: share.item.clone(),
                        depot: share.source.clone(),
                        serials: came.clone(),
                        from: on_road.clone(),
                        to: AssetPlace::free(AssetStatus::Issued),
                    });
                }
            }
        }
        if !gone.is_empty() {
            assets.push(AssetChange {
                item: share.item.clone(),
                depot: share.source.clone(),
                serials: gone.clone(),
                from: on_road.clone(),
                to: AssetPlace::free(AssetStatus::Missing),
            });
        }
        share.received += r;
        share.damaged += d;
        share.rejected += j;
        share.short += s;
        share.arrived.extend(came);
        share.arrived.extend(gone);
        let mut n = format!(
            "line {} from {} lot {}: {r} received",
            a.line,
            a.source,
            a.lot.as_str()
        );
        for (name, q) in [("damaged", d), ("refused", j), ("short", s)] {
            if q > 0 {
                n.push_str(&format!(", {q} {name}"));
            }
        }
        if !a.reason.is_empty() {
            n.push_str(&format!(" ({})", a.reason));
        }
        notes.push(n);
    }
    event(
        &mut next,
        actor,
        "received",
        Some(order.state),
        notes.join("; "),
    );
    let mut plan = DocPlan::new(next, entries);
    plan.assets = assets;
    Ok(plan)
}
