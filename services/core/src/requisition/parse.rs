//! Requisitions and outcomes as sent, checked field by field; every broken
//! field is reported at once, and none quotes private data.

use super::identity::{PrivateOwner, parse_bank_account, parse_phone};
use super::{NewOwner, Outcome, OutcomeKind, OwnerKind, parse_owner_id};
use crate::depot::DepotCode;
use crate::text::{optional, required};
use crate::time::UtcMillis;
use crate::violation::Violations;

/// Most lines on one requisition.
pub const MAX_ITEMS: usize = 200;
/// Most units on one line.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Largest appraised value of one unit: 100 million yuan.
pub const MAX_UNIT_VALUE_FEN: i64 = 10_000_000_000;
/// Largest usage fee of one unit per day: 1 million yuan.
pub const MAX_DAILY_RATE_FEN: i64 = 100_000_000;
/// How far back a taking may be recorded.
pub const MAX_TAKEN_DAYS_BACK: i64 = 366;
/// How far back an outcome may be dated.
pub const MAX_OUTCOME_DAYS_BACK: i64 = 366;

/// An owner as sent.
#[derive(Clone, Default, PartialEq)]
pub struct OwnerDraft {
    /// Kind number (1 company, 2 person).
    pub kind: i64,
    /// Name.
    pub name: String,
    /// Credit code or identity number.
    pub id_number: String,
    /// Phone.
    pub phone: String,
    /// Bank account.
    pub bank_account: String,
    /// Bank name.
    pub bank_name: String,
}

/// An item as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequisitionItemDraft {
    /// Description.
    pub description: String,
    /// Units.
    pub quantity: i64,
    /// Unit of measure.
    pub unit: String,
    /// Returnable (else consumable).
    pub returnable: bool,
    /// Condition when taken.
    pub condition: String,
    /// Appraised value of one unit, fen.
    pub unit_value_fen: i64,
    /// Usage fee per unit per day, fen.
    pub daily_rate_fen: i64,
    /// Where it is used.
    pub used_at: String,
}

/// A requisition as sent.
#[derive(Clone, Default, PartialEq)]
pub struct RequisitionDraft {
    /// Depot code of the requisitioning tier (empty: the caller's scope).
    pub depot: String,
    /// Incident id.
    pub incident_id: String,
    /// Decision number or text.
    pub decision: String,
    /// Issuing authority.
    pub authority: String,
    /// Executing officer.
    pub officer: String,
    /// Owner.
    pub owner: OwnerDraft,
    /// When taken, wire timestamp; now when unset.
    pub taken: Option<(i64, i32)>,
    /// Voucher number when one was issued at taking.
    pub voucher: String,
    /// Items.
    pub items: Vec<RequisitionItemDraft>,
}

/// A requisition that passed its field rules.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRequisition {
    /// Requisitioning tier's depot.
    pub depot: DepotCode,
    /// Incident.
    pub incident_id: String,
    /// Decision.
    pub decision: String,
    /// Authority.
    pub authority: String,
    /// Officer.
    pub officer: String,
    /// Owner, private part unsealed.
    pub owner: NewOwner,
    /// When taken.
    pub taken_at: UtcMillis,
    /// Voucher number if issued at taking.
    pub voucher: Option<String>,
    /// Items, numbered from 1.
    pub items: Vec<RequisitionItemDraft>,
}

fn bounded(v: &mut Violations, field: &str, n: i64, lo: i64, hi: i64, what: &str) {
    if !(lo..=hi).contains(&n) {
        v.add(field, format!("must be {lo} to {hi} {what}"));
    }
}

impl NewRequisition {
    /// Checks every field, reporting all broken ones. Errors about the
    /// owner's identity number, phone or account never repeat them.
    pub fn parse(d: &RequisitionDraft, now: UtcMillis) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let incident_id = v.take("incident_id", required(&d.incident_id, 64));
        let decision = v.take("decision", required(&d.decision, 200));
        let authority = v.take("authority", required(&d.authority, 200));
        let officer = v.take("officer", required(&d.officer, 100));
        let kind = OwnerKind::from_number(d.owner.kind);
        if kind.is_none() {
            v.add("owner.kind", "must be COMPANY (1) or PERSON (2)");
        }
        let name = v.take("owner.name", required(&d.owner.name, 200));
        let id_number =
            kind.and_then(|k| v.take("owner.id_number", parse_owner_id(k, &d.owner.id_number)));
        let phone = v.take("owner.phone", parse_phone(&d.owner.phone));
        let bank_account = v.take(
            "owner.bank_account",
            parse_bank_account(&d.owner.bank_account),
        );
        let bank_name = v.take("owner.bank_name", required(&d.owner.bank_name, 100));
        let mut taken_at = now;
        if let Some((s, n)) = d.taken {
            match crate::stock::fields::timestamp(Some((s, n)), "taken_time", &mut v) {
                Some(t) if t > now.saturating_add(crate::stock::fields::MAX_AHEAD_MS) => {
                    v.add("taken_time", "must not be in the future")
                }
                Some(t) if t < now.saturating_sub(MAX_TAKEN_DAYS_BACK * 86_400_000) => v.add(
                    "taken_time",
                    format!("must be within the last {MAX_TAKEN_DAYS_BACK} days"),
                ),
                Some(t) => taken_at = t,
                None => {}
            }
        }
        let voucher = v.take("voucher_number", optional(&d.voucher, 64));
        if d.items.is_empty() || d.items.len() > MAX_ITEMS {
            v.add("items", format!("must list 1 to {MAX_ITEMS} items"));
        }
        let mut items = Vec::with_capacity(d.items.len());
        for (i, it) in d.items.iter().enumerate() {
            let f = |x: &str| format!("items[{i}].{x}");
            let description = v.take(&f("description"), required(&it.description, 200));
            bounded(
                &mut v,
                &f("quantity"),
                it.quantity,
                1,
                MAX_QUANTITY,
                "units",
            );
            let unit = v.take(&f("unit"), required(&it.unit, 16));
            let condition = v.take(&f("condition"), required(&it.condition, 500));
            bounded(
                &mut v,
                &f("unit_value_fen"),
                it.unit_value_fen,
                0,
                MAX_UNIT_VALUE_FEN,
                "fen",
            );
            bounded(
                &mut v,
                &f("daily_rate_fen"),
                it.daily_rate_fen,
                0,
                MAX_DAILY_RATE_FEN,
                "fen",
            );
            let used_at = v.take(&f("used_at"), required(&it.used_at, 200));
            if let (Some(description), Some(unit), Some(condition), Some(used_at)) =
                (description, unit, condition, used_at)
            {
                items.push(RequisitionItemDraft {
                    description,
                    unit,
                    condition,
                    used_at,
                    ..it.clone()
                });
            }
        }
        match (
            depot,
            incident_id,
            decision,
            authority,
            officer,
            kind,
            name,
            id_number,
            phone,
            bank_account,
            bank_name,
            voucher,
        ) {
            (
                Some(depot),
                Some(incident_id),
                Some(decision),
                Some(authority),
                Some(officer),
                Some(kind),
                Some(name),
                Some(id_number),
                Some(phone),
                Some(bank_account),
                Some(bank_name),
                Some(voucher),
            ) if v.is_empty() => Ok(NewRequisition {
                depot,
                incident_id,
                decision,
                authority,
                officer,
                owner: NewOwner {
                    kind,
                    name,
                    private: PrivateOwner {
                        id_number,
                        bank_account,
                        bank_name,
                        phone,
                    },
                },
                taken_at,
                voucher: (!voucher.is_empty()).then_some(voucher),
                items,
            }),
            _ => Err(v),
        }
    }
}

/// An outcome as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutcomeDraft {
    /// Line number.
    pub line: i64,
    /// Outcome kind number.
    pub kind: i64,
    /// Units.
    pub quantity: i64,
    /// Repair cost of damaged units, fen.
    pub repair_cost_fen: i64,
    /// Certificate or receipt reference.
    pub certificate: String,
    /// Note.
    pub note: String,
}

/// Checks outcomes sent together, dated `at`, recorded by `by`, leaving
/// `from_depot` stock when named.
pub fn parse_outcomes(
    drafts: &[OutcomeDraft],
    at: UtcMillis,
    by: &str,
    from_depot: Option<DepotCode>,
) -> Result<Vec<Outcome>, Violations> {
    let mut v = Violations::new();
    if drafts.is_empty() || drafts.len() > MAX_ITEMS {
        v.add("outcomes", format!("must list 1 to {MAX_ITEMS} outcomes"));
    }
    let mut out = Vec::with_capacity(drafts.len());
    for (i, d) in drafts.iter().enumerate() {
        let f = |x: &str| format!("outcomes[{i}].{x}");
        bounded(&mut v, &f("line_number"), d.line, 1, MAX_ITEMS as i64, "");
        bounded(&mut v, &f("quantity"), d.quantity, 1, MAX_QUANTITY, "units");
        let kind = OutcomeKind::from_number(d.kind);
        if kind.is_none() {
            v.add(
                f("kind"),
                "must be RETURNED_INTACT, DAMAGED, LOST or CONSUMED",
            );
        }
        match kind {
            Some(OutcomeKind::Damaged) => bounded(
                &mut v,
                &f("repair_cost_fen"),
                d.repair_cost_fen,
                0,
                MAX_UNIT_VALUE_FEN,
                "fen",
            ),
            Some(_) if d.repair_cost_fen != 0 => {
                v.add(f("repair_cost_fen"), "is only for damaged units")
            }
            _ => {}
        }
        let certificate = v.take(&f("certificate"), optional(&d.certificate, 64));
        let note = v.take(&f("note"), optional(&d.note, 500));
        if matches!(kind, Some(OutcomeKind::Damaged | OutcomeKind::Lost))
            && certificate.as_deref().is_some_and(str::is_empty)
        {
            v.add(
                f("certificate"),
                "is required for damaged or lost units: the damage or loss certificate (杭州 art. 15)",
            );
        }
        if let (Some(kind), Some(certificate), Some(note)) = (kind, certificate, note) {
            out.push(Outcome {
                line: d.line.clamp(0, i64::from(u32::MAX)) as u32,
                kind,
                quantity: d.quantity,
                at,
                repair_cost_fen: d.repair_cost_fen,
                certificate,
                note,
                recorded_by: by.to_string(),
                from_depot: from_depot.clone(),
            });
        }
    }
    v.finish(|| out)
}

/// The business time of an outcome: not in the future, within
/// [`MAX_OUTCOME_DAYS_BACK`]; now when unset.
pub fn outcome_time(raw: Option<(i64, i32)>, now: UtcMillis, v: &mut Violations) -> UtcMillis {
    let Some(raw) = raw else { return now };
    match crate::stock::fields::timestamp(Some(raw), "occurred_time", v) {
        Some(t) if t > now.saturating_add(crate::stock::fields::MAX_AHEAD_MS) => {
            v.add("occurred_time", "must not be in the future");
            now
        }
        Some(t) if t < now.saturating_sub(MAX_OUTCOME_DAYS_BACK * 86_400_000) => {
            v.add(
                "occurred_time",
                format!("must be within the last {MAX_OUTCOME_DAYS_BACK} days"),
            );
            now
        }
        Some(t) => t,
        None => now,
    }
}
