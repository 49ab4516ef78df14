//! Approval: the units are reserved at the sources and owned by the order.
//! For an emergency order already on the road, approval is the back-fill
//! (先调后补) and reserves only at the sources yet to dispatch.

use super::rules::{OrderWorld, check_fully_sourced, check_own_subtree, take_units};
use super::transition::{Actor, entry, event, lot_of, reserved};
use super::{AllocationError, Order, Priority, State};
use crate::stock::EntryType;
use crate::stock::document::DocPlan;

pub(super) fn approve(
    order: &Order,
    mut next: Order,
    world: &OrderWorld,
    actor: &Actor<'_>,
    note: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<Order>, AllocationError> {
    // Two signatures (辽防减救委办〔2025〕3号), except in an emergency.
    if order.priority != Priority::Emergency && order.raised_by == actor.who {
        return Err(AllocationError::SamePerson(order.number.clone()));
    }
    let backfill = order.state != State::Submitted;
    let mut taken = Vec::new();
    if backfill {
        for source in order.sources() {
            if order.dispatched_from(&source) {
                continue;
            }
            let (shares, overrides) = take_units(&next, world, Some(&source), actor.who)?;
            taken.extend(shares);
            next.overrides.extend(overrides);
        }
    } else {
        check_fully_sourced(&next)?;
        if let Some(own) = &world.own {
            check_own_subtree(&next, own)?;
        }
        let (shares, overrides) = take_units(&next, world, None, actor.who)?;
        taken = shares;
        next.overrides.extend(overrides);
        next.state = State::Approved;
    }
    let mut entries = Vec::with_capacity(taken.len());
    for s in &taken {
        let lot = lot_of(world, &s.lot)?;
        entries.push(
            entry(
                order,
                EntryType::Reserve,
                &s.source,
                lot,
                reserved(s.reserved),
                actor.now,
                new_id,
            )
            .reason(format!("allocation {} approved: reserved", order.number))
            .owned_by(&order.doc_ref())
            .serials(s.serials.clone()),
        );
    }
    next.shares.extend(taken);
    next.approved_by = Some(actor.who.to_string());
    next.approved_at = Some(actor.now);
    let action = if backfill {
        "approved (back-filled)"
    } else {
        "approved"
    };
    event(
        &mut next,
        actor,
        action,
        Some(order.state),
        note.to_string(),
    );
    Ok(DocPlan::new(next, entries))
}
