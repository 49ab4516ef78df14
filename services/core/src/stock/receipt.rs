//! Receipts: stock arriving into a lot at a depot.

use super::balance::Delta;
use super::entry::{EntryDraft, EntryType};
use super::error::StockError;
use super::fields;
use super::lot::{Day, FundingSource, Lot, LotId, LotNumber, SerialNumber, derive_expiry};
use super::pick::{AssetState, tracking_rule};
use crate::depot::{Depot, DepotCode, DepotStatus};
use crate::item::{Item, ItemId};
use crate::text;
use crate::tier::Tier;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// A receipt as the client sent it. Dates are (year, month, day).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Lot number.
    pub lot_number: String,
    /// Production date.
    pub production: Option<(i32, i32, i32)>,
    /// Expiry date.
    pub expiry: Option<(i32, i32, i32)>,
    /// Manufacturer.
    pub manufacturer: String,
    /// Funding source number (0 = budget).
    pub funding: i32,
    /// Owning tier number (0 = the depot's).
    pub owning_tier: i32,
    /// Units (lot-tracked).
    pub quantity: i64,
    /// Serial numbers (serial-tracked).
    pub serials: Vec<String>,
    /// Document number.
    pub document: String,
    /// Supplier or donor.
    pub counterparty: String,
    /// Note.
    pub note: String,
    /// Business time as a wire timestamp (seconds, nanos).
    pub occurred_time: Option<(i64, i32)>,
    /// Posted as the depot's opening balance rather than a receipt.
    pub opening_balance: bool,
}

/// A receipt that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Production date.
    pub production: Option<Day>,
    /// Expiry date as given.
    pub expiry: Option<Day>,
    /// Manufacturer.
    pub manufacturer: String,
    /// Funding source, if given.
    pub funding: Option<FundingSource>,
    /// Owning tier, if given.
    pub owning_tier: Option<Tier>,
    /// Units.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Document.
    pub document: String,
    /// Supplier or donor.
    pub counterparty: String,
    /// Note.
    pub note: String,
    /// Business time.
    pub occurred_at: UtcMillis,
    /// Posted as the depot's opening balance rather than a receipt.
    #[serde(default)]
    pub opening_balance: bool,
}

impl Receipt {
    /// Checks every field rule of a receipt, reporting all broken ones.
    pub fn parse(d: &ReceiptDraft, now: UtcMillis) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = v.take("lot_number", LotNumber::parse(&d.lot_number));
        let production = fields::date(d.production, "production_date", &mut v);
        let expiry = fields::date(d.expiry, "expiry_date", &mut v);
        let manufacturer = v.take("manufacturer", text::optional(&d.manufacturer, 100));
        let funding = match d.funding {
            0 => None,
            n => v.take(
                "funding_source",
                match FundingSource::from_number(i64::from(n)) {
                    Some(FundingSource::Agreement) => Err(
                        "agreement deliveries are received against their call-off (ReceiveCallOff)"
                            .to_string(),
                    ),
                    Some(f) => Ok(f),
                    None => Err(format!("{n} is not a funding source")),
                },
            ),
        };
        let owning_tier = match d.owning_tier {
            0 => None,
            n => v.take(
                "owning_tier",
                Tier::from_number(i64::from(n)).ok_or_else(|| format!("{n} is not a tier")),
            ),
        };
        let serials = fields::serials("serial_numbers", &d.serials, &mut v);
        let quantity = fields::units("quantity", d.quantity, &serials, &mut v);
        let document = v.take("document", text::optional(&d.document, 64));
        let counterparty = v.take("counterparty", text::optional(&d.counterparty, 100));
        let note = v.take("note", text::optional(&d.note, 500));
        let occurred_at = fields::occurred_at(d.occurred_time, now, &mut v);
        match (
            depot,
            item,
            lot_number,
            manufacturer,
            document,
            counterparty,
            note,
        ) {
            (
                Some(depot),
                Some(item),
                Some(lot_number),
                Some(manufacturer),
                Some(document),
                Some(counterparty),
                Some(note),
            ) if v.is_empty() => Ok(Receipt {
                depot,
                item,
                lot_number,
                production,
                expiry,
                manufacturer,
                funding,
                owning_tier,
                quantity,
                serials,
                document,
                counterparty,
                note,
                occurred_at,
                opening_balance: d.opening_balance,
            }),
            _ => Err(v),
        }
    }
}

/// What an accepted receipt does: maybe a new lot, and one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptPlan {
    /// The lot to create first, when its number is new for the item.
    pub new_lot: Option<Lot>,
    /// The receipt entry (its serials become new assets).
    pub entry: EntryDraft,
}

fn show_day(d: Option<Day>) -> String {
    d.map(|d| d.date().to_string())
        .unwrap_or_else(|| "none".into())
}

/// Checks a receipt into a lot that already exists against what the lot
/// says: each date the receipt gives must be the lot's. An expiry is never
/// derived here: the lot's may have been given explicitly, or the item's
/// shelf life changed since, and the label's production date still names
/// the same lot.
fn existing_lot(r: &Receipt, lot: &Lot) -> Result<(), StockError> {
    let mismatch = |field: &'static str, stored: String, given: String| StockError::LotMismatch {
        lot: r.lot_number.as_str().to_string(),
        field,
        stored,
        given,
    };
    if r.production.is_some() && r.production != lot.production {
        return Err(mismatch(
            "production date",
            show_day(lot.production),
            show_day(r.production),
        ));
    }
    if r.expiry.is_some() && r.expiry != lot.expiry {
        return Err(mismatch(
            "expiry date",
            show_day(lot.expiry),
            show_day(r.expiry),
        ));
    }
    if !r.manufacturer.is_empty() && r.manufacturer != lot.manufacturer {
        return Err(mismatch(
            "manufacturer",
            lot.manufacturer.clone(),
            r.manufacturer.clone(),
        ));
    }
    if let Some(f) = r.funding.filter(|f| *f != lot.funding) {
        return Err(mismatch(
            "funding source",
            format!("{:?}", lot.funding),
            format!("{f:?}"),
        ));
    }
    // A lot delivered under an agreement grows only by deliveries against
    // a call-off, never by a plain receipt that leaves the funding unsaid.
    if lot.funding == FundingSource::Agreement && r.funding != Some(FundingSource::Agreement) {
        return Err(mismatch(
            "funding source",
            "Agreement (received against a call-off)".into(),
            "a plain receipt".into(),
        ));
    }
    Ok(())
}

/// Decides a receipt on the rows it touches: the depot, the item, the lot if
/// its number exists, the tier owning that lot's units at this depot if it
/// has any, and the assets its serial numbers already name. Ownership lives
/// with the holding (depot and lot): a receipt naming another owner than the
/// holding's is refused. A known unit is received again only if it may come
/// back on the books here (written off as missing here, or void); it comes
/// back in the receipt's lot. `new_id` names the new lot and the entry.
#[allow(clippy::too_many_arguments)]
pub fn plan_receipt(
    r: &Receipt,
    item: &Item,
    depot: &Depot,
    existing: Option<&Lot>,
    line_owner: Option<Tier>,
    known: &[AssetState],
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> Result<ReceiptPlan, StockError> {
    if depot.status != DepotStatus::Active {
        return Err(StockError::DepotNotActive {
            depot: depot.code.to_string(),
            status: depot.status.name(),
            action: "receive stock",
        });
    }
    tracking_rule(item, &r.serials)?;
    if let Some(a) = known.iter().find(|a| !a.may_enter(&depot.code)) {
        return Err(StockError::SerialExists(a.serial.to_string()));
    }
    let (lot, new_lot) = match existing {
        Some(lot) => {
            existing_lot(r, lot)?;
            (lot.clone(), None)
        }
        None => {
            let lot = Lot {
                id: LotId(new_id()),
                item: r.item.clone(),
                number: r.lot_number.clone(),
                production: r.production,
                expiry: derive_expiry(item, r.production, r.expiry)
                    .map_err(|(f, d)| StockError::Invalid(Violations::one(f, d)))?,
                manufacturer: r.manufacturer.clone(),
                funding: r.funding.unwrap_or(FundingSource::Budget),
                created_at: now,
            };
            (lot.clone(), Some(lot))
        }
    };
    let owner = r.owning_tier.unwrap_or(depot.owning_tier);
    if let Some(held) = line_owner.filter(|t| r.owning_tier.is_some() && *t != owner) {
        return Err(StockError::LotMismatch {
            lot: r.lot_number.as_str().to_string(),
            field: "owning tier",
            stored: held.to_string(),
            given: owner.to_string(),
        });
    }
    if let Some(e) = lot.expiry.filter(|_| lot.is_expired(Day::today(now))) {
        return Err(StockError::LotExpired {
            lot: r.lot_number.as_str().to_string(),
            expiry: e.date().to_string(),
        });
    }
    let kind = if r.opening_balance {
        EntryType::OpeningBalance
    } else {
        EntryType::Receipt
    };
    let reason = if r.note.is_empty() {
        kind.name().to_string()
    } else {
        format!("{}: {}", kind.name(), r.note)
    };
    let entry = EntryDraft::new(
        new_id(),
        kind,
        &r.depot,
        &lot,
        Delta::on_hand(r.quantity),
        r.occurred_at,
    )
    .reason(reason)
    .paper(&r.document, &r.counterparty)
    .serials(r.serials.clone())
    .line_owner(owner);
    Ok(ReceiptPlan { new_lot, entry })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::testing::{NOW, depot, ids, item, lot};

    fn draft(prod: Option<(i32, i32, i32)>, exp: Option<(i32, i32, i32)>) -> ReceiptDraft {
        ReceiptDraft {
            depot: "HB-SY".into(),
            item: "water".into(),
            lot_number: "W-2026-01".into(),
            production: prod,
            expiry: exp,
            quantity: 100,
            ..Default::default()
        }
    }

    #[test]
    fn an_opening_balance_is_a_receipt_of_its_own_entry_type() {
        let water = item(1, 365);
        let plain = Receipt::parse(&draft(Some((2026, 6, 1)), None), NOW).unwrap();
        let opening = Receipt::parse(
            &ReceiptDraft {
                opening_balance: true,
                note: "纸质台账第3页".into(),
                ..draft(Some((2026, 6, 1)), None)
            },
            NOW,
        )
        .unwrap();
        let p = plan_receipt(&plain, &water, &depot(), None, None, &[], NOW, &mut ids()).unwrap();
        let o = plan_receipt(&opening, &water, &depot(), None, None, &[], NOW, &mut ids()).unwrap();
        assert_eq!(p.entry.kind, EntryType::Receipt);
        assert_eq!(o.entry.kind, EntryType::OpeningBalance);
        assert_eq!(o.entry.reason, "opening balance: 纸质台账第3页");
        assert_eq!(o.entry.delta, p.entry.delta);
    }

    #[test]
    fn a_receipt_derives_expiry_and_refuses_expired_or_mismatched_lots() {
        let water = item(1, 365);
        let r = Receipt::parse(&draft(Some((2026, 6, 1)), None), NOW).unwrap();
        let plan = plan_receipt(&r, &water, &depot(), None, None, &[], NOW, &mut ids()).unwrap();
        let lot_made = plan.new_lot.unwrap();
        assert_eq!(lot_made.expiry.unwrap().date().to_string(), "2027-06-01");
        assert_eq!(plan.entry.lot, lot_made);
        assert_eq!(plan.entry.delta, Delta::on_hand(100));

        let old = Receipt::parse(&draft(Some((2025, 1, 1)), None), NOW).unwrap();
        assert!(matches!(
            plan_receipt(&old, &water, &depot(), None, None, &[], NOW, &mut ids()),
            Err(StockError::LotExpired { .. })
        ));
        let none = Receipt::parse(&draft(None, None), NOW).unwrap();
        assert!(matches!(
            plan_receipt(&none, &water, &depot(), None, None, &[], NOW, &mut ids()),
            Err(StockError::Invalid(_))
        ));
        let mut existing = lot("x", Some(300));
        existing.number = LotNumber::from_stored("W-2026-01".into());
        let other = Receipt::parse(&draft(None, Some((2030, 1, 1))), NOW).unwrap();
        assert!(matches!(
            plan_receipt(
                &other,
                &water,
                &depot(),
                Some(&existing),
                None,
                &[],
                NOW,
                &mut ids()
            ),
            Err(StockError::LotMismatch { .. })
        ));
        let same = Receipt::parse(&draft(None, None), NOW).unwrap();
        let plan = plan_receipt(
            &same,
            &water,
            &depot(),
            Some(&existing),
            Some(Tier::City),
            &[],
            NOW,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(plan.new_lot, None);
        assert_eq!(plan.entry.line_owner, Some(Tier::City));
    }

    #[test]
    fn ownership_is_per_holding_and_a_receipt_naming_another_owner_is_refused() {
        let water = item(1, 365);
        let mut existing = lot("x", Some(300));
        existing.number = LotNumber::from_stored("W-2026-01".into());
        let mut d = draft(None, None);
        d.owning_tier = Tier::Province.number() as i32;
        let provincial = Receipt::parse(&d, NOW).unwrap();
        // The same lot may be owned by the province at one depot ...
        let plan = plan_receipt(
            &provincial,
            &water,
            &depot(),
            Some(&existing),
            None,
            &[],
            NOW,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(plan.entry.line_owner, Some(Tier::Province));
        // ... but a holding the city owns does not take provincial units.
        assert!(matches!(
            plan_receipt(
                &provincial,
                &water,
                &depot(),
                Some(&existing),
                Some(Tier::City),
                &[],
                NOW,
                &mut ids(),
            ),
            Err(StockError::LotMismatch {
                field: "owning tier",
                ..
            })
        ));
        // Without a tier named, the units join the holding as they are.
        let plain = Receipt::parse(&draft(None, None), NOW).unwrap();
        assert!(
            plan_receipt(
                &plain,
                &water,
                &depot(),
                Some(&existing),
                Some(Tier::Province),
                &[],
                NOW,
                &mut ids(),
            )
            .is_ok()
        );
    }

    #[test]
    fn a_unit_written_off_here_or_voided_is_received_again_into_the_receipt_lot() {
        use crate::stock::entry::{AssetPlace, AssetStatus};
        let generator = item(2, 0);
        let asset = |depot: &str, status| AssetState {
            serial: SerialNumber::from_stored("G1".into()),
            lot: LotId("old".into()),
            depot: DepotCode::from_stored(depot.into()),
            status,
            holder: None,
        };
        let r = Receipt::parse(
            &ReceiptDraft {
                quantity: 0,
                serials: vec!["G1".into()],
                ..draft(None, Some((2030, 1, 1)))
            },
            NOW,
        )
        .unwrap();
        for back in [
            asset("HB-SY", AssetStatus::Missing),
            asset("HB-SY", AssetStatus::Void),
            asset("HB-SY-ZS", AssetStatus::Void),
        ] {
            let plan = plan_receipt(
                &r,
                &generator,
                &depot(),
                None,
                None,
                &[back],
                NOW,
                &mut ids(),
            )
            .unwrap();
            let m = plan.entry.assets.unwrap();
            assert_eq!(
                (m.from, m.to),
                (None, AssetPlace::free(AssetStatus::InStock))
            );
            assert_eq!(plan.entry.lot.id, plan.new_lot.unwrap().id);
        }
        for still in [
            asset("HB-SY-ZS", AssetStatus::Missing),
            asset("HB-SY", AssetStatus::InStock),
            asset("HB-SY", AssetStatus::Held),
            asset("HB-SY", AssetStatus::Issued),
            asset("HB-SY", AssetStatus::Scrapped),
        ] {
            assert_eq!(
                plan_receipt(
                    &r,
                    &generator,
                    &depot(),
                    None,
                    None,
                    &[still],
                    NOW,
                    &mut ids()
                ),
                Err(StockError::SerialExists("G1".into()))
            );
        }
    }

    #[test]
    fn a_receipt_into_a_lot_compares_only_the_dates_it_gives() {
        let water = item(1, 365);
        // The lot's expiry was given explicitly, not production + shelf life.
        let mut existing = lot("x", None);
        existing.number = LotNumber::from_stored("W-2026-01".into());
        existing.production = Some(Day::from_ymd(2026, 6, 1).unwrap());
        existing.expiry = Some(Day::from_ymd(2027, 3, 1).unwrap());
        let receive = |prod, exp| {
            let r = Receipt::parse(&draft(prod, exp), NOW).unwrap();
            plan_receipt(
                &r,
                &water,
                &depot(),
                Some(&existing),
                None,
                &[],
                NOW,
                &mut ids(),
            )
        };
        for (prod, exp) in [
            (Some((2026, 6, 1)), None),
            (None, Some((2027, 3, 1))),
            (Some((2026, 6, 1)), Some((2027, 3, 1))),
            (None, None),
        ] {
            assert_eq!(
                receive(prod, exp).unwrap().new_lot,
                None,
                "{prod:?} {exp:?}"
            );
        }
        for (prod, exp, field) in [
            (Some((2026, 6, 2)), None, "production date"),
            (None, Some((2027, 6, 1)), "expiry date"),
            (Some((2026, 6, 1)), Some((2027, 6, 1)), "expiry date"),
        ] {
            assert!(
                matches!(receive(prod, exp), Err(StockError::LotMismatch { field: f, .. }) if f == field),
                "{prod:?} {exp:?}"
            );
        }
    }

    #[test]
    fn field_rules_of_a_receipt_name_their_fields() {
        let v = Receipt::parse(
            &ReceiptDraft {
                depot: "".into(),
                item: "Water!".into(),
                lot_number: "".into(),
                quantity: 0,
                expiry: Some((2026, 2, 30)),
                occurred_time: Some(((NOW + 86_400_000) / 1000, 0)),
                ..Default::default()
            },
            NOW,
        )
        .unwrap_err();
        let fields: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "depot_code",
                "item_id",
                "lot_number",
                "expiry_date",
                "quantity",
                "occurred_time"
            ]
        );
    }
}
