//! Allocation orders on the wire: requests into core drafts, orders back.

use crate::pb::reserve::v1 as pb;
use crate::wire::{place_pb, timestamp};
use prost_types::Timestamp;
use reserve_core::allocation::dispatch::{DispatchDraft, ShortDraft};
use reserve_core::allocation::receive::ArrivalDraft;
use reserve_core::allocation::{
    Destination, DispatchRecord, Event, Kind, LineDraft, Order, OrderDraft, Override, Priority,
    SiteDraft, SourceDraft, State, Transport,
};
use reserve_core::depot::{Contact, ContactDraft};
use reserve_core::request::Etag;

fn ts(t: Option<&Timestamp>) -> Option<(i64, i32)> {
    t.map(|t| (t.seconds, t.nanos))
}

fn contact_draft(c: &pb::Contact) -> ContactDraft {
    ContactDraft {
        name: c.name.clone(),
        duty: c.duty.clone(),
        phone: c.phone.clone(),
    }
}

fn contact_pb(c: &Contact) -> pb::Contact {
    pb::Contact {
        name: c.name.clone(),
        duty: c.duty.clone(),
        phone: c.phone.clone(),
    }
}

impl From<&pb::AllocationOrder> for OrderDraft {
    fn from(o: &pb::AllocationOrder) -> Self {
        OrderDraft {
            kind: o.kind,
            priority: o.priority,
            incident: o.incident_id.clone(),
            reason: o.reason.clone(),
            people_affected: o.people_affected,
            required_by: ts(o.required_by_time.as_ref()),
            command_depot: o.command_depot_code.clone(),
            destination_depot: o.destination_depot_code.clone(),
            destination_site: o.destination_site.as_ref().map(|p| SiteDraft {
                latitude: p.lat_lng.as_ref().map(|l| l.latitude).unwrap_or_default(),
                longitude: p.lat_lng.as_ref().map(|l| l.longitude).unwrap_or_default(),
                address: p.address.clone(),
            }),
            receiving_unit: o.receiving_unit.clone(),
            sender_contact: o.sender_contact.as_ref().map(contact_draft),
            receiver_contact: o.receiver_contact.as_ref().map(contact_draft),
            justification: o.justification.clone(),
            lines: o
                .lines
                .iter()
                .map(|l| LineDraft {
                    item: l.item_id.clone(),
                    requested: l.requested,
                    sources: l
                        .sources
                        .iter()
                        .map(|s| SourceDraft {
                            depot: s.source_depot_code.clone(),
                            lot: s.lot_number.clone(),
                            quantity: s.quantity,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<&pb::DispatchAllocationOrderRequest> for DispatchDraft {
    fn from(r: &pb::DispatchAllocationOrderRequest) -> Self {
        let t = r.transport.clone().unwrap_or_default();
        DispatchDraft {
            source: r.source_depot_code.clone(),
            vehicle: t.vehicle,
            driver: t.driver,
            driver_phone: t.driver_phone,
            departure: ts(t.departure_time.as_ref()),
            eta: ts(t.eta.as_ref()),
            short: r
                .short_shares
                .iter()
                .map(|s| ShortDraft {
                    line: s.line_number,
                    lot: s.lot_number.clone(),
                    quantity: s.quantity,
                    serials: s.serial_numbers.clone(),
                })
                .collect(),
            note: r.note.clone(),
        }
    }
}

/// The shares of a receipt as drafts.
pub fn arrivals(r: &pb::ReceiveAllocationOrderRequest) -> Vec<ArrivalDraft> {
    r.shares
        .iter()
        .map(|s| ArrivalDraft {
            line: s.line_number,
            source: s.source_depot_code.clone(),
            lot: s.lot_number.clone(),
            received: s.received,
            damaged: s.damaged,
            rejected: s.rejected,
            short: s.short,
            received_serials: s.received_serial_numbers.clone(),
            damaged_serials: s.damaged_serial_numbers.clone(),
            rejected_serials: s.rejected_serial_numbers.clone(),
            short_serials: s.short_serial_numbers.clone(),
            reason: s.reason.clone(),
        })
        .collect()
}

fn kind_pb(k: Kind) -> i32 {
    k.number() as i32
}

fn priority_pb(p: Priority) -> i32 {
    p.number() as i32
}

/// A state on the wire.
pub fn state_pb(s: State) -> i32 {
    s.number() as i32
}

fn transport_pb(t: &Transport) -> pb::Transport {
    pb::Transport {
        vehicle: t.vehicle.clone(),
        driver: t.driver.clone(),
        driver_phone: t.driver_phone.clone(),
        departure_time: t.departure.and_then(timestamp),
        eta: t.eta.and_then(timestamp),
    }
}

fn dispatch_pb(d: &DispatchRecord) -> pb::Dispatch {
    pb::Dispatch {
        source_depot_code: d.source.to_string(),
        transport: Some(transport_pb(&d.transport)),
        dispatched_by: d.by.clone(),
        dispatch_time: timestamp(d.at),
        note: d.note.clone(),
        cancelled: d.cancelled,
    }
}

fn override_pb(o: &Override) -> pb::MinimumOverride {
    pb::MinimumOverride {
        source_depot_code: o.source.to_string(),
        item_id: o.item.to_string(),
        minimum: o.minimum,
        available_after: o.left,
        decided_by: o.decided_by.clone(),
    }
}

fn event_pb(e: &Event) -> pb::TimelineEvent {
    pb::TimelineEvent {
        time: timestamp(e.at),
        actor: e.actor.clone(),
        actor_name: e.actor_name.clone(),
        action: e.action.clone(),
        from_state: e.from.map(state_pb).unwrap_or(0),
        to_state: state_pb(e.to),
        note: e.note.clone(),
    }
}

/// An order on the wire.
pub fn order_pb(o: &Order) -> pb::AllocationOrder {
    let (destination_depot_code, destination_site) = match &o.destination {
        Destination::Depot(d) => (d.to_string(), None),
        Destination::Site { point, address } => (String::new(), Some(place_pb(point, address))),
    };
    pb::AllocationOrder {
        id: o.id.clone(),
        number: o.number.clone(),
        kind: kind_pb(o.kind),
        priority: priority_pb(o.priority),
        state: state_pb(o.state),
        incident_id: o
            .incident
            .as_ref()
            .map(|i| i.to_string())
            .unwrap_or_default(),
        reason: o.reason.clone(),
        people_affected: o.people_affected,
        required_by_time: o.required_by.and_then(timestamp),
        command_depot_code: o.command_depot.to_string(),
        destination_depot_code,
        destination_site,
        receiving_unit: o.receiving_unit.clone(),
        sender_contact: o.sender_contact.as_ref().map(contact_pb),
        receiver_contact: Some(contact_pb(&o.receiver_contact)),
        justification: o.justification.clone(),
        lines: o
            .lines
            .iter()
            .map(|l| pb::AllocationLine {
                line_number: l.number as i32,
                item_id: l.item.to_string(),
                requested: l.requested,
                sources: l
                    .sources
                    .iter()
                    .map(|s| pb::SourcePlan {
                        source_depot_code: s.depot.to_string(),
                        lot_number: s
                            .lot
                            .as_ref()
                            .map(|n| n.as_str().to_string())
                            .unwrap_or_default(),
                        quantity: s.quantity,
                    })
                    .collect(),
                shares: o
                    .shares
                    .iter()
                    .filter(|s| s.line == l.number)
                    .map(|s| pb::LotShare {
                        source_depot_code: s.source.to_string(),
                        lot_number: s.lot_number.as_str().to_string(),
                        serial_numbers: s.serials.iter().map(|x| x.to_string()).collect(),
                        reserved: s.reserved,
                        dispatched: s.dispatched,
                        received: s.received,
                        damaged: s.damaged,
                        rejected: s.rejected,
                        short: s.short,
                        in_transit: s.in_transit(),
                        in_transit_serial_numbers: s
                            .serials_in_transit()
                            .iter()
                            .map(|x| x.to_string())
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        dispatches: o.dispatches.iter().map(dispatch_pb).collect(),
        minimum_overrides: o.overrides.iter().map(override_pb).collect(),
        raised_by: o.raised_by.clone(),
        raise_time: timestamp(o.raised_at),
        approved_by: o.approved_by.clone().unwrap_or_default(),
        approve_time: o.approved_at.and_then(timestamp),
        backfill_due_time: o.backfill_due.and_then(timestamp),
        timeline: o.timeline.iter().map(event_pb).collect(),
        etag: Etag::of(o.version).to_string(),
    }
}
