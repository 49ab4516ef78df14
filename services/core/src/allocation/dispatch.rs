//! Dispatch: one source's units leave and are in transit on the order. An
//! approved order's reservation becomes a transfer out (the rest of the
//! reservation, if fewer leave, is released); an emergency order not yet
//! approved takes free units directly, and its approval is then due.

use super::rules::{OrderWorld, PlannedTake, planned, take_planned};
use super::transition::{Actor, entry, event, lot_of, reserved};
use super::{AllocationError, BACKFILL_MS, DispatchRecord, Order, Share, State, Transport};
use crate::depot::{DepotCode, parse_phone};
use crate::item::Tracking;
use crate::stock::balance::MAX_QUANTITY;
use crate::stock::document::DocPlan;
use crate::stock::{Delta, EntryType, LotNumber, SerialNumber, fields};
use crate::text;
use crate::violation::Violations;

/// The most shares one dispatch may name as short.
pub const MAX_SHORT: usize = 1000;

/// A share that leaves short of its reservation, as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShortDraft {
    /// Line number.
    pub line: i32,
    /// Lot number.
    pub lot: String,
    /// Units that leave.
    pub quantity: i64,
    /// Serials that leave.
    pub serials: Vec<String>,
}

/// A dispatch as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchDraft {
    /// Source depot code.
    pub source: String,
    /// Vehicle.
    pub vehicle: String,
    /// Driver.
    pub driver: String,
    /// Driver's phone.
    pub driver_phone: String,
    /// Departure, as a wire timestamp.
    pub departure: Option<(i64, i32)>,
    /// Expected arrival, as a wire timestamp.
    pub eta: Option<(i64, i32)>,
    /// Shares leaving short.
    pub short: Vec<ShortDraft>,
    /// Why.
    pub note: String,
}

/// A share that leaves short of its reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortShare {
    /// Line number.
    pub line: u32,
    /// Lot number.
    pub lot: LotNumber,
    /// Units that leave.
    pub quantity: i64,
    /// Serials that leave (serial-tracked items).
    pub serials: Vec<SerialNumber>,
}

/// A dispatch that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispatchNote {
    /// Source depot.
    pub source: DepotCode,
    /// How it travels.
    pub transport: Transport,
    /// Shares leaving short.
    pub short: Vec<ShortShare>,
    /// Why.
    pub note: String,
}

impl DispatchNote {
    /// Checks every field of a dispatch, reporting all broken ones.
    pub fn parse(d: &DispatchDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let source = v.take("source_depot_code", DepotCode::parse(d.source.trim()));
        let vehicle = v.take("transport.vehicle", text::optional(&d.vehicle, 20));
        let driver = v.take("transport.driver", text::optional(&d.driver, 50));
        let driver_phone = if d.driver_phone.trim().is_empty() {
            Some(String::new())
        } else {
            v.take("transport.driver_phone", parse_phone(&d.driver_phone))
        };
        let departure = fields::timestamp(d.departure, "transport.departure_time", &mut v);
        let eta = fields::timestamp(d.eta, "transport.eta", &mut v);
        if let (Some(a), Some(b)) = (departure, eta)
            && b < a
        {
            v.add("transport.eta", "must not be before the departure time");
        }
        let mut short = Vec::new();
        if d.short.len() > MAX_SHORT {
            v.add(
                "short_shares",
                format!("must list at most {MAX_SHORT} shares"),
            );
            return Err(v);
        }
        for (i, s) in d.short.iter().enumerate() {
            let f = format!("short_shares[{i}]");
            let line = match u32::try_from(s.line) {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    v.add(format!("{f}.line_number"), "must be a line number, from 1");
                    None
                }
            };
            let lot = v.take(&format!("{f}.lot_number"), LotNumber::parse(&s.lot));
            let serials = fields::serials(&format!("{f}.serial_numbers"), &s.serials, &mut v);
            if !(0..=MAX_QUANTITY).contains(&s.quantity) {
                v.add(
                    format!("{f}.quantity"),
                    format!("must be 0 to {MAX_QUANTITY}"),
                );
            } else if !serials.is_empty() && s.quantity != 0 && s.quantity != serials.len() as i64 {
                v.add(
                    format!("{f}.quantity"),
                    format!(
                        "is {} but {} serial numbers are listed; give 0 or their number",
                        s.quantity,
                        serials.len()
                    ),
                );
            }
            if let (Some(line), Some(lot)) = (line, lot) {
                if short
                    .iter()
                    .any(|x: &ShortShare| x.line == line && x.lot == lot)
                {
                    v.add(f.clone(), "names the same line and lot twice");
                }
                let quantity = if serials.is_empty() {
                    s.quantity
                } else {
                    serials.len() as i64
                };
                short.push(ShortShare {
                    line,
                    lot,
                    quantity,
                    serials,
                });
            }
        }
        let note = v.take("note", text::optional(&d.note, 500));
        if !d.short.is_empty() && d.note.trim().is_empty() {
            v.add("note", "is required when shares leave short: say why");
        }
        match (source, vehicle, driver, driver_phone, note) {
            (Some(source), Some(vehicle), Some(driver), Some(driver_phone), Some(note))
                if v.is_empty() =>
            {
                Ok(DispatchNote {
                    source,
                    transport: Transport {
                        vehicle,
                        driver,
                        driver_phone,
                        departure,
                        eta,
                    },
                    short,
                    note,
                })
            }
            _ => Err(v),
        }
    }
}

pub(super) fn dispatch(
    order: &Order,
    mut next: Order,
    world: &OrderWorld,
    actor: &Actor<'_>,
    note: &DispatchNote,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<Order>, AllocationError> {
    let source = &note.source;
    if !order.sources().contains(source) || order.dispatched_from(source) {
        return Err(AllocationError::NothingToDispatch(source.to_string()));
    }
    let approved = order.approved_by.is_some();
    let picked: Vec<Share> = if approved {
        next.shares
            .iter()
            .filter(|s| &s.source == source && s.reserved > 0)
            .cloned()
            .collect()
    } else {
        // 先调后补: the dispatcher who raised it as an emergency decided.
        // Lines the keeper sends short of the plan go as the keeper names
        // them (lot and quantity); every other line as planned.
        if let Some((i, _)) = note
            .short
            .iter()
            .enumerate()
            .find(|(_, s)| !s.serials.is_empty())
        {
            return Err(AllocationError::Invalid(Violations::one(
                format!("short_shares[{i}].serial_numbers"),
                "before approval, give quantities per lot; the serials are picked first expired first out",
            )));
        }
        let mut takes = planned(order, Some(source));
        takes.retain(|t| !note.short.iter().any(|s| s.line == t.line));
        for s in &note.short {
            takes.push(PlannedTake {
                line: s.line,
                depot: source.clone(),
                lot: Some(s.lot.clone()),
                quantity: s.quantity,
            });
        }
        let (shares, overrides) = take_planned(&next, world, &takes, &order.raised_by)?;
        next.overrides.extend(overrides);
        shares
    };
    if picked.is_empty() {
        return Err(AllocationError::NothingToDispatch(source.to_string()));
    }
    for (i, s) in note.short.iter().enumerate() {
        if !approved && s.quantity == 0 {
            continue;
        }
        if !picked
            .iter()
            .any(|p| p.line == s.line && p.lot_number == s.lot)
        {
            return Err(AllocationError::Invalid(Violations::one(
                format!("short_shares[{i}]"),
                format!(
                    "line {} lot {} is not among the units {source} sends on this order",
                    s.line,
                    s.lot.as_str()
                ),
            )));
        }
    }
    let mut entries = Vec::new();
    let mut sent_total: i64 = 0;
    for (i, p) in picked.iter().enumerate() {
        let item = world.item(&p.item)?;
        let short = note
            .short
            .iter()
            .position(|s| s.line == p.line && s.lot == p.lot_number);
        let (q, out): (i64, Vec<SerialNumber>) = match short.map(|k| (k, &note.short[k])) {
            None => (p.reserved, p.serials.clone()),
            Some((k, s)) => {
                let f = format!("short_shares[{k}]");
                match item.tracking {
                    Tracking::Serial => {
                        if let Some(bad) = s.serials.iter().find(|x| !p.serials.contains(x)) {
                            return Err(AllocationError::Invalid(Violations::one(
                                format!("{f}.serial_numbers"),
                                format!(
                                    "{bad} is not among the serials reserved on line {} lot {}",
                                    p.line,
                                    p.lot_number.as_str()
                                ),
                            )));
                        }
                        if s.serials.is_empty() && s.quantity > 0 {
                            return Err(AllocationError::Invalid(Violations::one(
                                format!("{f}.serial_numbers"),
                                format!("are required: {} is tracked by serial number", p.item),
                            )));
                        }
                        (s.serials.len() as i64, s.serials.clone())
                    }
                    Tracking::Lot => {
                        if !s.serials.is_empty() {
                            return Err(AllocationError::Invalid(Violations::one(
                                format!("{f}.serial_numbers"),
                                format!("must be empty: {} is tracked by lot", p.item),
                            )));
                        }
                        (s.quantity, Vec::new())
                    }
                }
            }
        };
        if q > p.reserved {
            return Err(AllocationError::Invalid(Violations::one(
                format!("short_shares[{}].quantity", short.unwrap_or(i)),
                format!(
                    "{q} is more than the {} units of line {} lot {} this source sends",
                    p.reserved,
                    p.line,
                    p.lot_number.as_str()
                ),
            )));
        }
        let lot = lot_of(world, &p.lot)?;
        let rest = p.reserved - q;
        let owner = order.doc_ref();
        if q > 0 {
            let delta = Delta {
                on_hand: -q,
                reserved: if approved { -q } else { 0 },
                ..Delta::default()
            };
            entries.push(
                entry(
                    order,
                    EntryType::TransferOut,
                    source,
                    lot,
                    delta,
                    actor.now,
                    new_id,
                )
                .reason(format!("allocation {} dispatched", order.number))
                .owned_by(&owner)
                .serials(out.clone()),
            );
        }
        if approved && rest > 0 {
            let back: Vec<SerialNumber> = p
                .serials
                .iter()
                .filter(|x| !out.contains(x))
                .cloned()
                .collect();
            entries.push(
                entry(
                    order,
                    EntryType::Unreserve,
                    source,
                    lot,
                    reserved(-rest),
                    actor.now,
                    new_id,
                )
                .reason(format!(
                    "allocation {}: {rest} reserved unit(s) not dispatched: {}",
                    order.number, note.note
                ))
                .owned_by(&owner)
                .serials(back),
            );
        }
        sent_total = sent_total.saturating_add(q);
        let done = Share {
            reserved: 0,
            dispatched: q,
            serials: out,
            ..p.clone()
        };
        match next
            .shares
            .iter_mut()
            .find(|s| s.line == p.line && &s.source == source && s.lot == p.lot)
        {
            Some(s) => *s = done,
            None => next.shares.push(done),
        }
    }
    next.dispatches.push(DispatchRecord {
        source: source.clone(),
        transport: note.transport.clone(),
        by: actor.who.to_string(),
        at: actor.now,
        note: note.note.clone(),
        cancelled: false,
    });
    if !approved && next.backfill_due.is_none() {
        next.backfill_due = Some(actor.now.saturating_add(BACKFILL_MS));
    }
    next.state = State::Dispatched;
    let mut text = format!("{source} sent {sent_total} unit(s)");
    if !note.transport.vehicle.is_empty() {
        text.push_str(&format!(" by {}", note.transport.vehicle));
    }
    if !approved {
        text.push_str(" before approval (先调后补)");
    }
    if !note.note.is_empty() {
        text.push_str(&format!(": {}", note.note));
    }
    event(&mut next, actor, "dispatched", Some(order.state), text);
    Ok(DocPlan::new(next, entries))
}
