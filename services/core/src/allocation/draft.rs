//! An order as the client sends it (raise or amend), and its field rules.

use super::{Destination, Kind, Line, MAX_LINES, MAX_SOURCES, Priority, SourcePlan};
use crate::depot::{Contact, ContactDraft, DepotCode, GeoPoint};
use crate::item::ItemId;
use crate::stock::LotNumber;
use crate::stock::balance::MAX_QUANTITY;
use crate::stock::document::DocId;
use crate::stock::fields;
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// The most people one order may say are affected.
pub const MAX_PEOPLE: i64 = 100_000_000;

/// One planned source as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceDraft {
    /// Source depot code.
    pub depot: String,
    /// Lot number, or empty for first-expired-first-out.
    pub lot: String,
    /// Units.
    pub quantity: i64,
}

/// One line as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineDraft {
    /// Item id.
    pub item: String,
    /// Units needed.
    pub requested: i64,
    /// Planned sources.
    pub sources: Vec<SourceDraft>,
}

/// An incident site as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SiteDraft {
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Address.
    pub address: String,
}

/// An order as the client sent it; enumerations are raw wire numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderDraft {
    /// Kind number.
    pub kind: i32,
    /// Priority number.
    pub priority: i32,
    /// Incident id, or empty.
    pub incident: String,
    /// Why.
    pub reason: String,
    /// People affected.
    pub people_affected: i64,
    /// Needed by, as a wire timestamp.
    pub required_by: Option<(i64, i32)>,
    /// Command depot code, or empty for the caller's scope depot.
    pub command_depot: String,
    /// Destination depot code.
    pub destination_depot: String,
    /// Destination site.
    pub destination_site: Option<SiteDraft>,
    /// Receiving unit.
    pub receiving_unit: String,
    /// Sender's contact.
    pub sender_contact: Option<ContactDraft>,
    /// Receiver's contact.
    pub receiver_contact: Option<ContactDraft>,
    /// Why it reaches outside the destination's own subtree.
    pub justification: String,
    /// Lines.
    pub lines: Vec<LineDraft>,
}

/// An order's editable fields that passed their rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    /// Kind.
    pub kind: Kind,
    /// Priority.
    pub priority: Priority,
    /// Incident.
    pub incident: Option<DocId>,
    /// Why.
    pub reason: String,
    /// People affected.
    pub people_affected: i64,
    /// Needed by.
    pub required_by: Option<UtcMillis>,
    /// Command depot, if named.
    pub command_depot: Option<DepotCode>,
    /// Destination.
    pub destination: Destination,
    /// Receiving unit.
    pub receiving_unit: String,
    /// Sender's contact.
    pub sender_contact: Option<Contact>,
    /// Receiver's contact.
    pub receiver_contact: Contact,
    /// Justification.
    pub justification: String,
    /// Lines, numbered from 1.
    pub lines: Vec<Line>,
}

impl NewOrder {
    /// Checks every field of an order sent under `field` (`order`),
    /// reporting all broken ones by their full path.
    pub fn parse(d: &OrderDraft, field: &str) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let f = |name: &str| format!("{field}.{name}");
        let kind = match Kind::from_number(i64::from(d.kind)) {
            Some(k) => Some(k),
            None => {
                v.add(
                    f("kind"),
                    "is required: transfer (1), incident site (2) or pre-positioning (3)",
                );
                None
            }
        };
        let priority = match Priority::from_number(i64::from(d.priority)) {
            Some(p) => Some(p),
            None => {
                v.add(
                    f("priority"),
                    "is required: routine (1), urgent (2) or emergency (3)",
                );
                None
            }
        };
        let incident = if d.incident.trim().is_empty() {
            None
        } else {
            v.take(&f("incident_id"), DocId::parse(&d.incident))
        };
        if kind == Some(Kind::IncidentSite) && d.incident.trim().is_empty() {
            v.add(
                f("incident_id"),
                "is required for an order to an incident site",
            );
        }
        let reason = v.take(&f("reason"), text::required(&d.reason, 500));
        if !(0..=MAX_PEOPLE).contains(&d.people_affected) {
            v.add(f("people_affected"), format!("must be 0 to {MAX_PEOPLE}"));
        }
        let required_by = fields::timestamp(d.required_by, &f("required_by_time"), &mut v);
        let command_depot = if d.command_depot.trim().is_empty() {
            None
        } else {
            v.take(
                &f("command_depot_code"),
                DepotCode::parse(d.command_depot.trim()),
            )
        };
        let destination = destination(d, kind, field, &mut v);
        let receiving_unit = v.take(&f("receiving_unit"), text::optional(&d.receiving_unit, 100));
        let sender_contact = d
            .sender_contact
            .as_ref()
            .and_then(|c| Contact::parse_at(&f("sender_contact"), c, &mut v));
        let receiver_contact = match &d.receiver_contact {
            Some(c) => Contact::parse_at(&f("receiver_contact"), c, &mut v),
            None => {
                v.add(
                    f("receiver_contact"),
                    "is required: who takes the supplies, with a phone number",
                );
                None
            }
        };
        let justification = v.take(&f("justification"), text::optional(&d.justification, 1000));
        let lines = lines(d, destination.as_ref(), field, &mut v);
        match (
            kind,
            priority,
            reason,
            destination,
            receiving_unit,
            receiver_contact,
            justification,
        ) {
            (
                Some(kind),
                Some(priority),
                Some(reason),
                Some(destination),
                Some(receiving_unit),
                Some(receiver_contact),
                Some(justification),
            ) if v.is_empty() => Ok(NewOrder {
                kind,
                priority,
                incident,
                reason,
                people_affected: d.people_affected,
                required_by,
                command_depot,
                destination,
                receiving_unit,
                sender_contact,
                receiver_contact,
                justification,
                lines,
            }),
            _ => Err(v),
        }
    }
}

fn destination(
    d: &OrderDraft,
    kind: Option<Kind>,
    field: &str,
    v: &mut Violations,
) -> Option<Destination> {
    let depot_field = format!("{field}.destination_depot_code");
    let site_field = format!("{field}.destination_site");
    let has_depot = !d.destination_depot.trim().is_empty();
    match kind {
        Some(Kind::IncidentSite) => {
            if has_depot {
                v.add(
                    depot_field,
                    "must be empty for an order to an incident site; give destination_site",
                );
            }
            let Some(site) = &d.destination_site else {
                v.add(
                    site_field,
                    "is required for an order to an incident site: coordinates and address",
                );
                return None;
            };
            let point = GeoPoint::parse_at(&site_field, site.latitude, site.longitude, v);
            let address = v.take(
                &format!("{site_field}.address"),
                text::required(&site.address, 200),
            );
            Some(Destination::Site {
                point: point?,
                address: address?,
            })
        }
        Some(_) => {
            if d.destination_site.is_some() {
                v.add(
                    site_field,
                    "must be empty for a transfer or pre-positioning; give destination_depot_code",
                );
            }
            if !has_depot {
                v.add(depot_field, "is required for a transfer or pre-positioning");
                return None;
            }
            v.take(&depot_field, DepotCode::parse(d.destination_depot.trim()))
                .map(Destination::Depot)
        }
        None => None,
    }
}

fn lines(
    d: &OrderDraft,
    destination: Option<&Destination>,
    field: &str,
    v: &mut Violations,
) -> Vec<Line> {
    let lines_field = format!("{field}.lines");
    if d.lines.is_empty() {
        v.add(&lines_field, "must list at least one item");
    }
    if d.lines.len() > MAX_LINES {
        v.add(&lines_field, format!("must list at most {MAX_LINES} items"));
        return Vec::new();
    }
    let mut out: Vec<Line> = Vec::new();
    for (i, l) in d.lines.iter().enumerate() {
        let lf = format!("{lines_field}[{i}]");
        let item = v.take(&format!("{lf}.item_id"), ItemId::parse(l.item.trim()));
        if !(1..=MAX_QUANTITY).contains(&l.requested) {
            v.add(
                format!("{lf}.requested"),
                format!("must be 1 to {MAX_QUANTITY}"),
            );
        }
        if let Some(item) = &item
            && let Some(other) = out.iter().find(|o| &o.item == item)
        {
            v.add(
                format!("{lf}.item_id"),
                format!(
                    "{item} is already on line {}; put all of an item on one line",
                    other.number
                ),
            );
        }
        if l.sources.len() > MAX_SOURCES {
            v.add(
                format!("{lf}.sources"),
                format!("must list at most {MAX_SOURCES} sources"),
            );
            continue;
        }
        let mut sources: Vec<SourcePlan> = Vec::new();
        let mut sum: i64 = 0;
        for (j, s) in l.sources.iter().enumerate() {
            let sf = format!("{lf}.sources[{j}]");
            let depot = v.take(
                &format!("{sf}.source_depot_code"),
                DepotCode::parse(s.depot.trim()),
            );
            let lot = if s.lot.trim().is_empty() {
                Some(None)
            } else {
                v.take(&format!("{sf}.lot_number"), LotNumber::parse(&s.lot))
                    .map(Some)
            };
            if !(1..=MAX_QUANTITY).contains(&s.quantity) {
                v.add(
                    format!("{sf}.quantity"),
                    format!("must be 1 to {MAX_QUANTITY}"),
                );
            } else {
                sum = sum.saturating_add(s.quantity);
            }
            let (Some(depot), Some(lot)) = (depot, lot) else {
                continue;
            };
            if destination.and_then(Destination::depot) == Some(&depot) {
                v.add(
                    format!("{sf}.source_depot_code"),
                    format!("{depot} is the destination; a depot does not send to itself"),
                );
            }
            if sources.iter().any(|p| p.depot == depot && p.lot == lot) {
                v.add(
                    format!("{sf}.source_depot_code"),
                    format!("{depot} is already a source of this line with the same lot; add the quantities"),
                );
            }
            sources.push(SourcePlan {
                depot,
                lot,
                quantity: s.quantity,
            });
        }
        if (1..=MAX_QUANTITY).contains(&l.requested) && sum > l.requested {
            v.add(
                format!("{lf}.sources"),
                format!("add up to {sum}, more than the {} requested", l.requested),
            );
        }
        if let Some(item) = item {
            out.push(Line {
                number: u32::try_from(i + 1).unwrap_or(u32::MAX),
                item,
                requested: l.requested,
                sources,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> ContactDraft {
        ContactDraft {
            name: "王强".into(),
            duty: "镇长".into(),
            phone: "13800000000".into(),
        }
    }

    pub(crate) fn transfer() -> OrderDraft {
        OrderDraft {
            kind: 1,
            priority: 1,
            reason: "汛前预置".into(),
            destination_depot: "HB-SY-ZS-01".into(),
            receiver_contact: Some(contact()),
            lines: vec![LineDraft {
                item: "quilt".into(),
                requested: 500,
                sources: vec![SourceDraft {
                    depot: "HB-SY-ZS".into(),
                    lot: String::new(),
                    quantity: 500,
                }],
            }],
            ..Default::default()
        }
    }

    fn fields(v: &Violations) -> Vec<&str> {
        v.as_slice().iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_well_formed_transfer_parses_with_numbered_lines() {
        let o = NewOrder::parse(&transfer(), "order").unwrap();
        assert_eq!(o.kind, Kind::Transfer);
        assert_eq!(o.lines[0].number, 1);
        assert_eq!(o.lines[0].sources[0].lot, None);
        assert_eq!(
            o.destination,
            Destination::Depot(DepotCode::from_stored("HB-SY-ZS-01".into()))
        );
    }

    #[test]
    fn every_broken_field_is_named_by_its_full_path() {
        let mut d = transfer();
        d.kind = 0;
        d.priority = 9;
        d.reason = " ".into();
        d.people_affected = -1;
        d.receiver_contact = None;
        d.lines[0].requested = 0;
        d.lines[0].sources[0].quantity = MAX_QUANTITY + 1;
        d.lines[0].sources[0].depot = "bad code".into();
        let v = NewOrder::parse(&d, "order").unwrap_err();
        assert_eq!(
            fields(&v),
            vec![
                "order.kind",
                "order.priority",
                "order.reason",
                "order.people_affected",
                "order.receiver_contact",
                "order.lines[0].requested",
                "order.lines[0].sources[0].source_depot_code",
                "order.lines[0].sources[0].quantity",
            ]
        );
    }

    #[test]
    fn an_incident_site_needs_the_site_and_the_incident_and_no_depot() {
        let mut d = transfer();
        d.kind = 2;
        let v = NewOrder::parse(&d, "order").unwrap_err();
        assert_eq!(
            fields(&v),
            vec![
                "order.incident_id",
                "order.destination_depot_code",
                "order.destination_site"
            ]
        );
        d.destination_depot.clear();
        d.incident = "inc-1".into();
        d.destination_site = Some(SiteDraft {
            latitude: 32.2,
            longitude: 110.2,
            address: "竹山县城关镇".into(),
        });
        let o = NewOrder::parse(&d, "order").unwrap();
        assert!(matches!(o.destination, Destination::Site { .. }));
        d.destination_site = Some(SiteDraft {
            latitude: 0.0,
            longitude: 110.2,
            address: String::new(),
        });
        let v = NewOrder::parse(&d, "order").unwrap_err();
        assert_eq!(
            fields(&v),
            vec![
                "order.destination_site.lat_lng.latitude",
                "order.destination_site.address"
            ]
        );
    }

    #[test]
    fn sources_may_not_exceed_the_request_repeat_or_be_the_destination() {
        let mut d = transfer();
        d.lines[0].sources.push(SourceDraft {
            depot: "HB-SY-ZS".into(),
            lot: String::new(),
            quantity: 1,
        });
        d.lines[0].sources.push(SourceDraft {
            depot: "HB-SY-ZS-01".into(),
            lot: "L1".into(),
            quantity: 1,
        });
        d.lines.push(LineDraft {
            item: "quilt".into(),
            requested: 1,
            sources: vec![],
        });
        let v = NewOrder::parse(&d, "order").unwrap_err();
        assert_eq!(
            fields(&v),
            vec![
                "order.lines[0].sources[1].source_depot_code",
                "order.lines[0].sources[2].source_depot_code",
                "order.lines[0].sources",
                "order.lines[1].item_id",
            ]
        );
    }
}
