//! Orders for people: the header, the lines with their shares, the
//! dispatches, the minimum overrides and the timeline, in Beijing time.

use crate::commands::choices::name;
use crate::commands::stock::print::{fields, or_dash};
use crate::output::{print_table, table, time};
use reserve_api::pb::reserve::v1 as pb;

/// A state as people read it (`dispatched`).
pub fn state(raw: i32) -> String {
    name::<pb::AllocationState>(raw)
}

/// Where the order goes: a depot code, or a site's address and coordinates.
pub fn destination(o: &pb::AllocationOrder) -> String {
    match &o.destination_site {
        Some(site) => {
            let at = site
                .lat_lng
                .as_ref()
                .map(|l| format!(" ({:.4}, {:.4})", l.latitude, l.longitude))
                .unwrap_or_default();
            let address = if site.address.is_empty() {
                "the site"
            } else {
                site.address.as_str()
            };
            format!("{address}{at}")
        }
        None => o.destination_depot_code.clone(),
    }
}

fn contact(c: Option<&pb::Contact>) -> String {
    match c {
        Some(c) => [&c.name, &c.duty, &c.phone]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        None => "-".into(),
    }
}

/// A time, or `-` when unset.
fn when(t: Option<&prost_types::Timestamp>) -> String {
    or_dash(&time(t))
}

/// Who did something: name and subject.
fn who(name: &str, subject: &str) -> String {
    if name.is_empty() || name == subject {
        subject.to_string()
    } else {
        format!("{name} ({subject})")
    }
}

/// The items of an order in a few words: `quilt-cotton 500, tent-12m2 20`.
pub fn items(o: &pb::AllocationOrder) -> String {
    o.lines
        .iter()
        .map(|l| format!("{} {}", l.item_id, l.requested))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line telling what the order is and where it stands.
pub fn headline(o: &pb::AllocationOrder) {
    println!(
        "order {}  {}  {} {} to {}  ({})  etag {}",
        o.number,
        state(o.state).to_uppercase(),
        name::<pb::AllocationPriority>(o.priority),
        name::<pb::AllocationKind>(o.kind),
        destination(o),
        items(o),
        o.etag
    );
}

/// The header of an order as a field / value table.
fn header(o: &pb::AllocationOrder) {
    let mut rows = vec![
        ("order", o.number.clone()),
        ("id", o.id.clone()),
        ("state", state(o.state)),
        ("kind", name::<pb::AllocationKind>(o.kind)),
        ("priority", name::<pb::AllocationPriority>(o.priority)),
        ("incident", or_dash(&o.incident_id)),
        ("reason", o.reason.clone()),
        ("people affected", o.people_affected.to_string()),
        ("required by (Beijing)", when(o.required_by_time.as_ref())),
        ("command depot", o.command_depot_code.clone()),
        ("destination", destination(o)),
        ("receiving unit", or_dash(&o.receiving_unit)),
        ("receiver", contact(o.receiver_contact.as_ref())),
        ("sender", contact(o.sender_contact.as_ref())),
        ("justification", or_dash(&o.justification)),
        ("raised by", o.raised_by.clone()),
        ("raised (Beijing)", when(o.raise_time.as_ref())),
        ("approved by", or_dash(&o.approved_by)),
        ("approved (Beijing)", when(o.approve_time.as_ref())),
    ];
    if o.backfill_due_time.is_some() {
        rows.push(("approval due (Beijing)", when(o.backfill_due_time.as_ref())));
    }
    rows.push(("etag", o.etag.clone()));
    fields(rows);
}

/// Where a line is planned to come from: `HB-SY-ZS 300, HB-SY 200 @LOT`,
/// and what is not sourced yet.
fn planned(l: &pb::AllocationLine) -> String {
    let mut parts: Vec<String> = l
        .sources
        .iter()
        .map(|s| {
            if s.lot_number.is_empty() {
                format!("{} {}", s.source_depot_code, s.quantity)
            } else {
                format!("{} {} @{}", s.source_depot_code, s.quantity, s.lot_number)
            }
        })
        .collect();
    let sourced: i64 = l.sources.iter().map(|s| s.quantity).sum();
    if sourced < l.requested {
        parts.push(format!("unsourced {}", l.requested - sourced));
    }
    parts.join(", ")
}

/// Serial numbers in brackets after a text, when there are any.
fn with_serials(text: String, serials: &[String]) -> String {
    if serials.is_empty() {
        text
    } else {
        format!("{text} [{}]", serials.join(" "))
    }
}

/// The lines, one row per share (source and lot): reserved, dispatched,
/// received, damaged, rejected, short and still in transit.
pub fn lines(o: &pb::AllocationOrder) {
    let mut t = table(&[
        "line",
        "item",
        "requested",
        "planned from",
        "source",
        "lot",
        "reserved",
        "dispatched",
        "received",
        "damaged",
        "rejected",
        "short",
        "in transit",
    ]);
    for l in &o.lines {
        let head = vec![
            l.line_number.to_string(),
            l.item_id.clone(),
            l.requested.to_string(),
            planned(l),
        ];
        if l.shares.is_empty() {
            let mut row = head;
            row.extend(std::iter::repeat_n("-".to_string(), 9));
            t.add_row(row);
            continue;
        }
        for (i, s) in l.shares.iter().enumerate() {
            let mut row = if i == 0 {
                head.clone()
            } else {
                vec![String::new(); 4]
            };
            row.extend([
                s.source_depot_code.clone(),
                with_serials(s.lot_number.clone(), &s.serial_numbers),
                s.reserved.to_string(),
                s.dispatched.to_string(),
                s.received.to_string(),
                s.damaged.to_string(),
                s.rejected.to_string(),
                s.short.to_string(),
                with_serials(s.in_transit.to_string(), &s.in_transit_serial_numbers),
            ]);
            t.add_row(row);
        }
    }
    print_table(&t);
}

/// What a dispatch's note says, and whether its source was called off.
fn dispatch_note(d: &pb::Dispatch) -> String {
    match (d.cancelled, d.note.is_empty()) {
        (true, true) => "called off".into(),
        (true, false) => format!("called off: {}", d.note),
        (false, _) => or_dash(&d.note),
    }
}

/// Each source's dispatch with its transport, or its calling off.
fn dispatches(o: &pb::AllocationOrder) {
    let mut t = table(&[
        "source",
        "dispatched (Beijing)",
        "by",
        "vehicle",
        "driver",
        "driver phone",
        "departure (Beijing)",
        "eta (Beijing)",
        "note",
    ]);
    for d in &o.dispatches {
        let tr = d.transport.clone().unwrap_or_default();
        t.add_row(vec![
            d.source_depot_code.clone(),
            time(d.dispatch_time.as_ref()),
            d.dispatched_by.clone(),
            or_dash(&tr.vehicle),
            or_dash(&tr.driver),
            or_dash(&tr.driver_phone),
            when(tr.departure_time.as_ref()),
            when(tr.eta.as_ref()),
            dispatch_note(d),
        ]);
    }
    println!("dispatches:");
    print_table(&t);
}

/// Sources taken below their reserve minimum, and who decided.
fn overrides(o: &pb::AllocationOrder) {
    let mut t = table(&["source", "item", "minimum", "available after", "decided by"]);
    for m in &o.minimum_overrides {
        t.add_row(vec![
            m.source_depot_code.clone(),
            m.item_id.clone(),
            m.minimum.to_string(),
            m.available_after.to_string(),
            m.decided_by.clone(),
        ]);
    }
    println!("below reserve minimums:");
    print_table(&t);
}

/// Every step of the order: when, who, what, the state it left and the one
/// it reached, and the note.
pub fn timeline(o: &pb::AllocationOrder) {
    let mut t = table(&["time (Beijing)", "who", "what", "state", "note"]);
    for e in &o.timeline {
        let states = if e.from_state == 0 || e.from_state == e.to_state {
            state(e.to_state)
        } else {
            format!("{} → {}", state(e.from_state), state(e.to_state))
        };
        t.add_row(vec![
            time(e.time.as_ref()),
            who(&e.actor_name, &e.actor),
            e.action.clone(),
            states,
            e.note.clone(),
        ]);
    }
    println!("timeline:");
    print_table(&t);
}

/// What a change printed: the headline, the lines, the dispatches and
/// overrides if any, and the step just taken.
pub fn changed(o: &pb::AllocationOrder) {
    headline(o);
    lines(o);
    if !o.dispatches.is_empty() {
        dispatches(o);
    }
    if !o.minimum_overrides.is_empty() {
        overrides(o);
    }
    if let Some(e) = o.timeline.last() {
        let note = if e.note.is_empty() {
            String::new()
        } else {
            format!(": {}", e.note)
        };
        println!(
            "{} by {} at {}{note}",
            e.action,
            who(&e.actor_name, &e.actor),
            time(e.time.as_ref())
        );
    }
}

/// An order in full.
pub fn show(o: &pb::AllocationOrder) {
    header(o);
    println!("lines:");
    lines(o);
    if !o.dispatches.is_empty() {
        dispatches(o);
    }
    if !o.minimum_overrides.is_empty() {
        overrides(o);
    }
    timeline(o);
}

/// Orders, one row each.
pub fn list(orders: &[pb::AllocationOrder], overdue: bool) {
    let mut header = vec![
        "order",
        "state",
        "priority",
        "kind",
        "to",
        "items",
        "raised by",
        "raised (Beijing)",
    ];
    header.push(if overdue {
        "approval due (Beijing)"
    } else {
        "required by (Beijing)"
    });
    let mut t = table(&header);
    for o in orders {
        t.add_row(vec![
            o.number.clone(),
            state(o.state),
            name::<pb::AllocationPriority>(o.priority),
            name::<pb::AllocationKind>(o.kind),
            destination(o),
            items(o),
            o.raised_by.clone(),
            time(o.raise_time.as_ref()),
            if overdue {
                when(o.backfill_due_time.as_ref())
            } else {
                when(o.required_by_time.as_ref())
            },
        ]);
    }
    print_table(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_called_off_source_says_so() {
        let mut d = pb::Dispatch {
            note: "车辆故障".into(),
            ..Default::default()
        };
        assert_eq!(dispatch_note(&d), "车辆故障");
        d.cancelled = true;
        assert_eq!(dispatch_note(&d), "called off: 车辆故障");
        d.note.clear();
        assert_eq!(dispatch_note(&d), "called off");
        d.cancelled = false;
        assert_eq!(dispatch_note(&d), "-");
    }

    #[test]
    fn a_line_tells_where_it_comes_from_and_what_is_not_sourced() {
        let l = pb::AllocationLine {
            requested: 500,
            sources: vec![
                pb::SourcePlan {
                    source_depot_code: "HB-SY-ZS".into(),
                    lot_number: String::new(),
                    quantity: 300,
                },
                pb::SourcePlan {
                    source_depot_code: "HB-SY".into(),
                    lot_number: "QC-1".into(),
                    quantity: 100,
                },
            ],
            ..Default::default()
        };
        assert_eq!(planned(&l), "HB-SY-ZS 300, HB-SY 100 @QC-1, unsourced 100");
    }
}
