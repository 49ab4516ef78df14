//! The one transition function of an allocation order: which action each
//! state allows, and what each action does to the order and the ledger.

use super::dispatch::{DispatchNote, dispatch};
use super::receive::{Arrival, receive};
use super::rules::{OrderWorld, check_fully_sourced, check_own_subtree};
use super::{
    AllocationError, Destination, DispatchRecord, Event, Kind, NewOrder, Order, Priority, State,
    Transport, approve::approve,
};
use crate::depot::DepotCode;
use crate::request::Etag;
use crate::stock::document::{DocId, DocPlan};
use crate::stock::{Delta, EntryDraft, EntryType, Lot, LotId};
use crate::time::UtcMillis;

/// Who acts, when, and on which version they read.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    /// Subject.
    pub who: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Now.
    pub now: UtcMillis,
    /// The etag read, if sent.
    pub etag: Option<Etag>,
}

/// An action on an order.
#[derive(Clone, Debug)]
pub enum OrderAction<'a> {
    /// Raise a draft with this id and number for this command depot.
    Create {
        /// The fields.
        new: &'a NewOrder,
        /// Id.
        id: &'a str,
        /// Readable number.
        number: &'a str,
        /// Command depot.
        command: &'a DepotCode,
    },
    /// Replace a draft's fields.
    Amend(&'a NewOrder),
    /// Submit a draft.
    Submit,
    /// Approve (reserving), or back-fill the approval of an emergency order
    /// already dispatched.
    Approve {
        /// Note.
        note: &'a str,
    },
    /// Reject.
    Reject {
        /// Why.
        reason: &'a str,
    },
    /// One source dispatches.
    Dispatch(&'a DispatchNote),
    /// Units arrive.
    Receive(&'a [Arrival]),
    /// Close.
    Close {
        /// Note.
        note: &'a str,
    },
    /// Cancel before dispatch.
    Cancel {
        /// Why.
        reason: &'a str,
    },
}

impl OrderAction<'_> {
    /// The verb in messages and the timeline.
    pub fn verb(&self) -> &'static str {
        match self {
            OrderAction::Create { .. } => "created",
            OrderAction::Amend(_) => "amended",
            OrderAction::Submit => "submitted",
            OrderAction::Approve { .. } => "approved",
            OrderAction::Reject { .. } => "rejected",
            OrderAction::Dispatch(_) => "dispatched",
            OrderAction::Receive(_) => "received",
            OrderAction::Close { .. } => "closed",
            OrderAction::Cancel { .. } => "cancelled",
        }
    }
}

/// Whether `action` is allowed on `order` in its state.
pub fn allowed(order: &Order, action: &OrderAction<'_>) -> bool {
    use State::*;
    let emergency_unapproved = order.priority == Priority::Emergency && order.approved_by.is_none();
    match action {
        OrderAction::Create { .. } => false,
        OrderAction::Amend(_) | OrderAction::Submit => order.state == Draft,
        OrderAction::Approve { .. } => {
            order.state == Submitted
                || (matches!(order.state, Dispatched | Received) && emergency_unapproved)
        }
        OrderAction::Reject { .. } => order.state == Submitted,
        OrderAction::Dispatch(_) => {
            matches!(order.state, Approved | Dispatched)
                || (order.state == Submitted && emergency_unapproved)
        }
        OrderAction::Receive(_) => order.state == Dispatched,
        OrderAction::Close { .. } => order.state == Received,
        OrderAction::Cancel { .. } => {
            matches!(order.state, Draft | Submitted | Approved)
                || (order.state == Dispatched
                    && order.sources().iter().any(|s| !order.dispatched_from(s)))
        }
    }
}

/// Decides an action on an order: the order as it becomes and what it
/// posts. `current` is `None` only for [`OrderAction::Create`]. `new_id`
/// names entries.
pub fn order_transition(
    current: Option<&Order>,
    action: OrderAction<'_>,
    actor: Actor<'_>,
    world: &OrderWorld,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<Order>, AllocationError> {
    let Some(order) = current else {
        return match action {
            OrderAction::Create {
                new,
                id,
                number,
                command,
            } => Ok(DocPlan::new(
                create(new, id, number, command, actor),
                Vec::new(),
            )),
            other => Err(AllocationError::NotFound(format!("({})", other.verb()))),
        };
    };
    if let Some(e) = actor.etag
        && e.version() != order.version
    {
        return Err(AllocationError::StaleEtag {
            number: order.number.clone(),
            sent: e.version(),
            current: order.version,
        });
    }
    if !allowed(order, &action) {
        return Err(AllocationError::InvalidTransition {
            number: order.number.clone(),
            state: order.state.name(),
            action: verb_infinitive(&action),
        });
    }
    let mut next = order.clone();
    next.version = order.version + 1;
    let mut plan = match action {
        OrderAction::Create { .. } => unreachable_create(order)?,
        OrderAction::Amend(new) => {
            apply_fields(&mut next, new);
            event(
                &mut next,
                &actor,
                "amended",
                Some(order.state),
                String::new(),
            );
            DocPlan::new(next, Vec::new())
        }
        OrderAction::Submit => {
            check_fully_sourced(&next)?;
            if let Some(own) = &world.own {
                check_own_subtree(&next, own)?;
            }
            next.state = State::Submitted;
            event(
                &mut next,
                &actor,
                "submitted",
                Some(order.state),
                String::new(),
            );
            DocPlan::new(next, Vec::new())
        }
        OrderAction::Approve { note } => approve(order, next, world, &actor, note, new_id)?,
        OrderAction::Reject { reason } => {
            next.state = State::Rejected;
            event(
                &mut next,
                &actor,
                "rejected",
                Some(order.state),
                reason.to_string(),
            );
            DocPlan::new(next, Vec::new())
        }
        OrderAction::Dispatch(note) => dispatch(order, next, world, &actor, note, new_id)?,
        OrderAction::Receive(arrivals) => receive(order, next, world, &actor, arrivals, new_id)?,
        OrderAction::Close { note } => {
            if order.approved_by.is_none() {
                return Err(AllocationError::BackfillPending(order.number.clone()));
            }
            next.state = State::Closed;
            event(
                &mut next,
                &actor,
                "closed",
                Some(order.state),
                note.to_string(),
            );
            DocPlan::new(next, Vec::new())
        }
        OrderAction::Cancel { reason } => {
            let mut entries = Vec::new();
            for s in next.shares.iter_mut().filter(|s| s.reserved > 0) {
                let lot = lot_of(world, &s.lot)?;
                entries.push(
                    entry(
                        order,
                        EntryType::Unreserve,
                        &s.source,
                        lot,
                        reserved(-s.reserved),
                        actor.now,
                        new_id,
                    )
                    .reason(format!("allocation {} cancelled: {reason}", order.number))
                    .owned_by(&order.doc_ref())
                    .serials(s.serials.clone()),
                );
                s.reserved = 0;
            }
            if order.state == State::Dispatched {
                // Units already on the road go on; the sources yet to send
                // are called off, their reservations released.
                for source in order.sources() {
                    if !order.dispatched_from(&source) {
                        next.dispatches.push(DispatchRecord {
                            source,
                            transport: Transport::default(),
                            by: actor.who.to_string(),
                            at: actor.now,
                            note: reason.to_string(),
                            cancelled: true,
                        });
                    }
                }
                let note = reason.to_string();
                event(
                    &mut next,
                    &actor,
                    "cancelled the rest",
                    Some(order.state),
                    note,
                );
            } else {
                next.state = State::Cancelled;
                event(
                    &mut next,
                    &actor,
                    "cancelled",
                    Some(order.state),
                    reason.to_string(),
                );
            }
            DocPlan::new(next, entries)
        }
    };
    settle(&mut plan.doc);
    Ok(plan)
}

fn unreachable_create(order: &Order) -> Result<DocPlan<Order>, AllocationError> {
    Err(AllocationError::InvalidTransition {
        number: order.number.clone(),
        state: order.state.name(),
        action: "created again",
    })
}

fn verb_infinitive(action: &OrderAction<'_>) -> &'static str {
    match action {
        OrderAction::Create { .. } => "created",
        OrderAction::Amend(_) => "amended",
        OrderAction::Submit => "submitted",
        OrderAction::Approve { .. } => "approved",
        OrderAction::Reject { .. } => "rejected",
        OrderAction::Dispatch(_) => "dispatched",
        OrderAction::Receive(_) => "received",
        OrderAction::Close { .. } => "closed",
        OrderAction::Cancel { .. } => "cancelled",
    }
}

/// A dispatched order whose every source has dispatched and whose units
/// are all accounted for is received.
fn settle(order: &mut Order) {
    if order.state == State::Dispatched
        && order.sources().iter().all(|s| order.dispatched_from(s))
        && order
            .shares
            .iter()
            .all(|s| s.in_transit() == 0 && s.reserved == 0)
    {
        order.state = State::Received;
        if let Some(last) = order.timeline.last_mut() {
            last.to = State::Received;
        }
    }
}

fn create(new: &NewOrder, id: &str, number: &str, command: &DepotCode, actor: Actor<'_>) -> Order {
    let mut o = Order {
        id: id.to_string(),
        number: number.to_string(),
        kind: new.kind,
        priority: new.priority,
        state: State::Draft,
        incident: None,
        reason: String::new(),
        people_affected: 0,
        required_by: None,
        command_depot: command.clone(),
        destination: new.destination.clone(),
        receiving_unit: String::new(),
        sender_contact: None,
        receiver_contact: new.receiver_contact.clone(),
        justification: String::new(),
        lines: Vec::new(),
        shares: Vec::new(),
        dispatches: Vec::new(),
        overrides: Vec::new(),
        raised_by: actor.who.to_string(),
        raised_at: actor.now,
        approved_by: None,
        approved_at: None,
        backfill_due: None,
        timeline: Vec::new(),
        version: 1,
    };
    apply_fields(&mut o, new);
    o.timeline.push(Event {
        at: actor.now,
        actor: actor.who.to_string(),
        actor_name: actor.name.to_string(),
        action: "created".into(),
        from: None,
        to: State::Draft,
        note: String::new(),
    });
    o
}

fn apply_fields(o: &mut Order, new: &NewOrder) {
    o.kind = new.kind;
    o.priority = new.priority;
    o.incident = new.incident.clone();
    o.reason = new.reason.clone();
    o.people_affected = new.people_affected;
    o.required_by = new.required_by;
    o.destination = new.destination.clone();
    o.receiving_unit = new.receiving_unit.clone();
    o.sender_contact = new.sender_contact.clone();
    o.receiver_contact = new.receiver_contact.clone();
    o.justification = new.justification.clone();
    o.lines = new.lines.clone();
}

/// Appends a timeline event moving the order to its current state.
pub(crate) fn event(
    o: &mut Order,
    actor: &Actor<'_>,
    action: &str,
    from: Option<State>,
    note: String,
) {
    o.timeline.push(Event {
        at: actor.now,
        actor: actor.who.to_string(),
        actor_name: actor.name.to_string(),
        action: action.to_string(),
        from,
        to: o.state,
        note,
    });
}

/// The lot a share names, as loaded.
pub(crate) fn lot_of<'w>(world: &'w OrderWorld, id: &LotId) -> Result<&'w Lot, AllocationError> {
    world
        .lots
        .iter()
        .chain(
            world
                .stock
                .iter()
                .flat_map(|s| s.lines.iter())
                .map(|l| &l.lot),
        )
        .find(|l| &l.id == id)
        .ok_or_else(|| AllocationError::ItemNotFound(format!("lot {}", id.as_str())))
}

/// A change of reserved units only.
pub(crate) fn reserved(q: i64) -> Delta {
    Delta {
        reserved: q,
        ..Delta::default()
    }
}

/// An entry of the order at `depot` in `lot`, with its paper trail.
pub(crate) fn entry(
    order: &Order,
    kind: EntryType,
    depot: &DepotCode,
    lot: &Lot,
    delta: Delta,
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> EntryDraft {
    let counterparty = match &order.destination {
        Destination::Depot(d) if d != depot => d.to_string(),
        Destination::Depot(_) => String::new(),
        Destination::Site { address, .. } => address.clone(),
    };
    EntryDraft::new(new_id(), kind, depot, lot, delta, now)
        .paper(&order.number, &counterparty)
        .for_incident(order.incident.as_ref().map(DocId::to_string))
}

/// Whether an order of this kind delivers to a depot.
pub(crate) fn to_depot(kind: Kind) -> bool {
    kind != Kind::IncidentSite
}
