//! Enterprise reserves beside the depots: agreement reserves (协议储备,
//! stock a company keeps for the bureau) and capacity reserves (产能储备, a
//! company's commitment to produce), each owned by a depot's tier. A
//! call-off records what was asked for and when; deliveries against it are
//! received into the owning depot as stock funded by the agreement.

pub mod credit_code;
pub mod error;

pub use credit_code::CreditCode;
pub use error::EnterpriseError;

use crate::depot::{Contact, ContactDraft, DepotCode};
use crate::item::ItemId;
use crate::sourcing::ReserveKind;
use crate::stock::balance::MAX_QUANTITY;
use crate::stock::document::DocId;
use crate::stock::{Day, fields};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Agreements ending within this many days are listed as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 60;
/// The most items one agreement or call-off names.
pub const MAX_ITEMS: usize = 200;

impl ReserveKind {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            ReserveKind::Agreement => 1,
            ReserveKind::Capacity => 2,
        }
    }

    /// The kind with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(ReserveKind::Agreement),
            2 => Some(ReserveKind::Capacity),
            _ => None,
        }
    }
}

/// One item of an agreement and how much of it is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementItem {
    /// Item.
    pub item: ItemId,
    /// Units committed.
    pub committed: i64,
    /// Units called off.
    pub called_off: i64,
    /// Units delivered.
    pub delivered: i64,
}

/// An agreement as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: ReserveKind,
    /// Company.
    pub company: String,
    /// Its credit code.
    pub credit_code: CreditCode,
    /// Owning depot.
    pub depot: DepotCode,
    /// Hours to deliver after a call-off.
    pub response_hours: f64,
    /// First day in force.
    pub valid_from: Day,
    /// Last day in force.
    pub valid_until: Day,
    /// Items.
    pub items: Vec<AgreementItem>,
    /// Contact.
    pub contact: Option<Contact>,
    /// Note.
    pub note: String,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UtcMillis,
}

impl Agreement {
    /// Whether it is in force on `today`.
    pub fn in_force(&self, today: Day) -> bool {
        self.valid_from <= today && today <= self.valid_until
    }
}

/// An agreement as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgreementDraft {
    /// Kind number.
    pub kind: i32,
    /// Company.
    pub company: String,
    /// Credit code.
    pub credit_code: String,
    /// Owning depot, or empty for the caller's.
    pub depot: String,
    /// Response hours.
    pub response_hours: f64,
    /// First day, as (year, month, day).
    pub valid_from: Option<(i32, i32, i32)>,
    /// Last day.
    pub valid_until: Option<(i32, i32, i32)>,
    /// (item, committed) pairs.
    pub items: Vec<(String, i64)>,
    /// Contact.
    pub contact: Option<ContactDraft>,
    /// Note.
    pub note: String,
}

/// An agreement that passed its field rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAgreement {
    /// Kind.
    pub kind: ReserveKind,
    /// Company.
    pub company: String,
    /// Credit code.
    pub credit_code: CreditCode,
    /// Owning depot, if named.
    pub depot: Option<DepotCode>,
    /// Response hours.
    pub response_hours: f64,
    /// First day.
    pub valid_from: Day,
    /// Last day.
    pub valid_until: Day,
    /// (item, committed).
    pub items: Vec<(ItemId, i64)>,
    /// Contact.
    pub contact: Option<Contact>,
    /// Note.
    pub note: String,
}

impl NewAgreement {
    /// Checks every field, reporting all broken ones under `agreement.`.
    pub fn parse(d: &AgreementDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let kind = ReserveKind::from_number(i64::from(d.kind));
        if kind.is_none() {
            v.add(
                "agreement.kind",
                "is required: agreement (1) or capacity (2)",
            );
        }
        let company = v.take("agreement.company_name", text::required(&d.company, 100));
        let credit_code = v.take("agreement.credit_code", CreditCode::parse(&d.credit_code));
        let depot = if d.depot.trim().is_empty() {
            Some(None)
        } else {
            v.take("agreement.depot_code", DepotCode::parse(d.depot.trim()))
                .map(Some)
        };
        if !(d.response_hours.is_finite() && (1.0..=720.0).contains(&d.response_hours)) {
            v.add("agreement.response_hours", "must be 1 to 720 hours");
        }
        let from = fields::date(d.valid_from, "agreement.valid_from", &mut v);
        let until = fields::date(d.valid_until, "agreement.valid_until", &mut v);
        if d.valid_from.is_none() {
            v.add("agreement.valid_from", "is required");
        }
        if d.valid_until.is_none() {
            v.add("agreement.valid_until", "is required");
        }
        if let (Some(f), Some(u)) = (from, until)
            && u < f
        {
            v.add("agreement.valid_until", "must not be before valid_from");
        }
        if d.items.is_empty() {
            v.add("agreement.items", "must list at least one item");
        }
        if d.items.len() > MAX_ITEMS {
            v.add(
                "agreement.items",
                format!("must list at most {MAX_ITEMS} items"),
            );
        }
        let mut items: Vec<(ItemId, i64)> = Vec::new();
        for (i, (item, q)) in d.items.iter().enumerate().take(MAX_ITEMS) {
            let f = format!("agreement.items[{i}]");
            let id = v.take(&format!("{f}.item_id"), ItemId::parse(item.trim()));
            if !(1..=MAX_QUANTITY).contains(q) {
                v.add(
                    format!("{f}.committed"),
                    format!("must be 1 to {MAX_QUANTITY}"),
                );
            }
            if let Some(id) = id {
                if items.iter().any(|(x, _)| *x == id) {
                    v.add(format!("{f}.item_id"), format!("{id} is listed twice"));
                }
                items.push((id, *q));
            }
        }
        let contact = d
            .contact
            .as_ref()
            .and_then(|c| Contact::parse_at("agreement.contact", c, &mut v));
        let note = v.take("agreement.note", text::optional(&d.note, 500));
        match (kind, company, credit_code, depot, from, until, note) {
            (
                Some(kind),
                Some(company),
                Some(credit_code),
                Some(depot),
                Some(f),
                Some(u),
                Some(note),
            ) if v.is_empty() => Ok(NewAgreement {
                kind,
                company,
                credit_code,
                depot,
                response_hours: d.response_hours,
                valid_from: f,
                valid_until: u,
                items,
                contact,
                note,
            }),
            _ => Err(v),
        }
    }
}

/// One item of a call-off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOffLine {
    /// Item.
    pub item: ItemId,
    /// Units asked for.
    pub quantity: i64,
    /// Units delivered.
    pub delivered: i64,
}

/// A call-off as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallOff {
    /// Id.
    pub id: String,
    /// Agreement.
    pub agreement: String,
    /// Company.
    pub company: String,
    /// Owning depot.
    pub depot: DepotCode,
    /// Lines.
    pub lines: Vec<CallOffLine>,
    /// Order served.
    pub order: Option<String>,
    /// Incident served.
    pub incident: Option<String>,
    /// Why.
    pub reason: String,
    /// Who.
    pub called_by: String,
    /// When.
    pub called_at: UtcMillis,
    /// Delivery due.
    pub due_at: UtcMillis,
}

impl CallOff {
    /// Whether everything asked for has arrived.
    pub fn complete(&self) -> bool {
        self.lines.iter().all(|l| l.delivered >= l.quantity)
    }
}

/// A call-off as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOffDraft {
    /// Agreement id.
    pub agreement: String,
    /// (item, quantity).
    pub lines: Vec<(String, i64)>,
    /// Order id.
    pub order: String,
    /// Incident id.
    pub incident: String,
    /// Why.
    pub reason: String,
}

/// A call-off that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCallOff {
    /// Agreement.
    pub agreement: DocId,
    /// (item, quantity).
    pub lines: Vec<(ItemId, i64)>,
    /// Order.
    pub order: Option<String>,
    /// Incident.
    pub incident: Option<DocId>,
    /// Why.
    pub reason: String,
}

impl NewCallOff {
    /// Checks every field.
    pub fn parse(d: &CallOffDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let agreement = v.take("agreement_id", DocId::parse(&d.agreement));
        if d.lines.is_empty() {
            v.add("lines", "must ask for at least one item");
        }
        if d.lines.len() > MAX_ITEMS {
            v.add("lines", format!("must list at most {MAX_ITEMS} items"));
        }
        let mut lines: Vec<(ItemId, i64)> = Vec::new();
        for (i, (item, q)) in d.lines.iter().enumerate().take(MAX_ITEMS) {
            let id = v.take(&format!("lines[{i}].item_id"), ItemId::parse(item.trim()));
            if !(1..=MAX_QUANTITY).contains(q) {
                v.add(
                    format!("lines[{i}].quantity"),
                    format!("must be 1 to {MAX_QUANTITY}"),
                );
            }
            if let Some(id) = id {
                if lines.iter().any(|(x, _)| *x == id) {
                    v.add(
                        format!("lines[{i}].item_id"),
                        format!("{id} is asked for twice"),
                    );
                }
                lines.push((id, *q));
            }
        }
        let order = match d.order.trim() {
            "" => None,
            o if o.len() <= 64 => Some(o.to_string()),
            _ => {
                v.add("order_id", "must be an order id or number");
                None
            }
        };
        let incident = match d.incident.trim() {
            "" => None,
            i => v.take("incident_id", DocId::parse(i)),
        };
        let reason = v.take("reason", text::required(&d.reason, 500));
        match (agreement, reason) {
            (Some(agreement), Some(reason)) if v.is_empty() => Ok(NewCallOff {
                agreement,
                lines,
                order,
                incident,
                reason,
            }),
            _ => Err(v),
        }
    }
}

/// Why a call-off is refused.
pub fn check_call_off(a: &Agreement, c: &NewCallOff, today: Day) -> Result<(), String> {
    if !a.in_force(today) {
        return Err(format!(
            "agreement {} with {} is not in force today ({} to {})",
            a.id,
            a.company,
            a.valid_from.date(),
            a.valid_until.date()
        ));
    }
    for (item, q) in &c.lines {
        let Some(line) = a.items.iter().find(|l| &l.item == item) else {
            return Err(format!("agreement {} does not cover {item}", a.id));
        };
        let left = line.committed - line.called_off;
        if *q > left {
            return Err(format!(
                "agreement {} has {left} {item} left to call off of {} committed; {q} asked",
                a.id, line.committed
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AgreementDraft {
        AgreementDraft {
            kind: 1,
            company: "十堰市被服厂".into(),
            credit_code: "91350100M000100Y43".into(),
            response_hours: 24.0,
            valid_from: Some((2026, 1, 1)),
            valid_until: Some((2027, 12, 31)),
            items: vec![("quilt-cotton".into(), 2000)],
            ..Default::default()
        }
    }

    #[test]
    fn an_agreement_names_every_broken_field() {
        let mut d = draft();
        d.kind = 0;
        d.credit_code = "91350100M000100Y44".into();
        d.response_hours = 0.0;
        d.valid_until = Some((2025, 1, 1));
        d.items.push(("quilt-cotton".into(), 0));
        let v = NewAgreement::parse(&d).unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            f,
            vec![
                "agreement.kind",
                "agreement.credit_code",
                "agreement.response_hours",
                "agreement.valid_until",
                "agreement.items[1].committed",
                "agreement.items[1].item_id",
            ]
        );
        assert!(NewAgreement::parse(&draft()).is_ok());
    }

    #[test]
    fn a_call_off_stays_within_what_is_committed_and_in_force() {
        let n = NewAgreement::parse(&draft()).unwrap();
        let a = Agreement {
            id: "A1".into(),
            kind: n.kind,
            company: n.company,
            credit_code: n.credit_code,
            depot: DepotCode::from_stored("HB-SY".into()),
            response_hours: 24.0,
            valid_from: n.valid_from,
            valid_until: n.valid_until,
            items: vec![AgreementItem {
                item: ItemId::from_stored("quilt-cotton".into()),
                committed: 2000,
                called_off: 1500,
                delivered: 0,
            }],
            contact: None,
            note: String::new(),
            created_by: "u".into(),
            created_at: 0,
        };
        let ask = |q: i64| NewCallOff {
            agreement: DocId::from_stored("A1".into()),
            lines: vec![(ItemId::from_stored("quilt-cotton".into()), q)],
            order: None,
            incident: None,
            reason: "洪涝".into(),
        };
        let today = Day::from_ymd(2026, 11, 29).unwrap();
        assert!(check_call_off(&a, &ask(500), today).is_ok());
        assert!(
            check_call_off(&a, &ask(501), today)
                .unwrap_err()
                .contains("500")
        );
        let later = Day::from_ymd(2028, 1, 1).unwrap();
        assert!(
            check_call_off(&a, &ask(1), later)
                .unwrap_err()
                .contains("not in force")
        );
    }
}
