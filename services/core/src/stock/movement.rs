//! Receipts, issues, holds and releases: the requests as clients send them,
//! their field rules, and the pure plans that decide which lots move.

use super::balance::{Balance, MAX_QUANTITY};
use super::entry::AssetStatus;
use super::error::StockError;
use super::lot::{Day, FundingSource, Lot, LotId, LotNumber, SerialNumber, derive_expiry};
use crate::depot::{Depot, DepotCode, DepotStatus};
use crate::item::{Item, ItemId, Tracking};
use crate::text;
use crate::tier::Tier;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How far back a movement's business time may be.
pub const MAX_BACKDATE_DAYS: i64 = 30;
/// How far ahead of the server clock a business time may be (clock skew).
pub const MAX_AHEAD_MS: i64 = 5 * 60 * 1000;

/// A balance with the lot it belongs to, as loaded from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineState {
    /// The lot.
    pub lot: Lot,
    /// Its balance at the depot.
    pub balance: Balance,
}

/// A serialised asset as loaded from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetState {
    /// Serial number.
    pub serial: SerialNumber,
    /// Lot it came in.
    pub lot: LotId,
    /// Depot it belongs to.
    pub depot: DepotCode,
    /// Where it is.
    pub status: AssetStatus,
}

/// Units taken from (or put on) one lot by a planned movement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Take {
    /// The lot.
    pub lot: Lot,
    /// Units.
    pub quantity: i64,
    /// Serial numbers, for serial-tracked items.
    pub serials: Vec<SerialNumber>,
}

fn parse_serials(raw: &[String], v: &mut Violations) -> Vec<SerialNumber> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        match SerialNumber::parse(s) {
            Ok(sn) => {
                if !seen.insert(sn.clone()) {
                    v.add(
                        format!("serial_numbers[{i}]"),
                        format!("'{sn}' is listed twice"),
                    );
                } else {
                    out.push(sn);
                }
            }
            Err(e) => v.add(format!("serial_numbers[{i}]"), e),
        }
    }
    if raw.len() > 10_000 {
        v.add(
            "serial_numbers",
            "must list at most 10,000 serial numbers per call",
        );
    }
    out
}

/// Quantity rules shared by movements: with serial numbers the quantity is 0
/// or their count; without, it is 1 to [`MAX_QUANTITY`]. Returns the units.
fn units(quantity: i64, serials: &[SerialNumber], v: &mut Violations) -> i64 {
    if !serials.is_empty() {
        if quantity != 0 && quantity != serials.len() as i64 {
            v.add(
                "quantity",
                format!(
                    "must be 0 or the number of serial numbers ({})",
                    serials.len()
                ),
            );
        }
        serials.len() as i64
    } else {
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            v.add("quantity", format!("must be 1 to {MAX_QUANTITY}"));
        }
        quantity
    }
}

/// Checks a business time: not in the future, not more than 30 days back.
pub fn occurred_at(raw: Option<UtcMillis>, now: UtcMillis, v: &mut Violations) -> UtcMillis {
    match raw {
        None => now,
        Some(t) if t > now + MAX_AHEAD_MS => {
            v.add("occurred_time", "must not be in the future");
            now
        }
        Some(t) if t < now - MAX_BACKDATE_DAYS * 86_400_000 => {
            v.add(
                "occurred_time",
                format!("must be within the last {MAX_BACKDATE_DAYS} days; older corrections go through an adjustment"),
            );
            now
        }
        Some(t) => t,
    }
}

fn date(raw: Option<(i32, i32, i32)>, field: &str, v: &mut Violations) -> Option<Day> {
    let (y, m, d) = raw?;
    let day = (1900..=2200)
        .contains(&y)
        .then(|| Day::from_ymd(y, m.max(0) as u32, d.max(0) as u32))
        .flatten();
    if day.is_none() {
        v.add(
            field,
            format!("{y:04}-{m:02}-{d:02} is not a calendar date between 1900 and 2200"),
        );
    }
    day
}

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
    /// Business time.
    pub occurred_at: Option<UtcMillis>,
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
}

impl Receipt {
    /// Checks every field rule of a receipt.
    pub fn parse(d: &ReceiptDraft, now: UtcMillis) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = v.take("lot_number", LotNumber::parse(&d.lot_number));
        let production = date(d.production, "production_date", &mut v);
        let expiry = date(d.expiry, "expiry_date", &mut v);
        let manufacturer = v.take("manufacturer", text::optional(&d.manufacturer, 100));
        let funding = match d.funding {
            0 => None,
            n => v.take(
                "funding_source",
                FundingSource::from_number(i64::from(n))
                    .ok_or_else(|| format!("{n} is not a funding source")),
            ),
        };
        let owning_tier = match d.owning_tier {
            0 => None,
            n => v.take(
                "owning_tier",
                Tier::from_number(i64::from(n)).ok_or_else(|| format!("{n} is not a tier")),
            ),
        };
        let serials = parse_serials(&d.serials, &mut v);
        let quantity = units(d.quantity, &serials, &mut v);
        let document = v.take("document", text::optional(&d.document, 64));
        let counterparty = v.take("counterparty", text::optional(&d.counterparty, 100));
        let note = v.take("note", text::optional(&d.note, 500));
        let occurred_at = occurred_at(d.occurred_at, now, &mut v);
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
            }),
            _ => Err(v),
        }
    }
}

/// Whether a new lot is created or units go into an existing one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LotChoice {
    /// Units go into this existing lot.
    Existing(Lot),
    /// A new lot with these fields (id and creation time set by the store).
    New {
        /// Production date.
        production: Option<Day>,
        /// Expiry date.
        expiry: Option<Day>,
        /// Manufacturer.
        manufacturer: String,
        /// Funding source.
        funding: FundingSource,
        /// Owning tier.
        owning_tier: Tier,
    },
}

/// What an accepted receipt does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptPlan {
    /// The lot.
    pub lot: LotChoice,
    /// Units.
    pub quantity: i64,
    /// Serial numbers (new assets).
    pub serials: Vec<SerialNumber>,
}

fn tracking_rule(item: &Item, serials: &[SerialNumber]) -> Result<(), StockError> {
    match (item.tracking, serials.is_empty()) {
        (Tracking::Lot, false) => Err(StockError::Invalid(Violations::one(
            "serial_numbers",
            format!(
                "must be empty: {} is tracked by lot, give a quantity",
                item.id
            ),
        ))),
        (Tracking::Serial, true) => Err(StockError::Invalid(Violations::one(
            "serial_numbers",
            format!(
                "are required: {} is tracked by serial number, list each unit",
                item.id
            ),
        ))),
        _ => Ok(()),
    }
}

fn show_day(d: Option<Day>) -> String {
    d.map(|d| d.date().to_string())
        .unwrap_or_else(|| "none".into())
}

/// Decides a receipt on the rows it touches: the depot, the item, the lot if
/// its number exists, and which of its serial numbers are already known.
pub fn plan_receipt(
    r: &Receipt,
    item: &Item,
    depot: &Depot,
    existing: Option<&Lot>,
    known_serials: &[SerialNumber],
    today: Day,
) -> Result<ReceiptPlan, StockError> {
    if depot.status != DepotStatus::Active {
        return Err(StockError::DepotNotActive {
            depot: depot.code.to_string(),
            status: depot.status.name(),
            action: "receive stock",
        });
    }
    tracking_rule(item, &r.serials)?;
    if let Some(s) = known_serials.first() {
        return Err(StockError::SerialExists(s.to_string()));
    }
    let lot_label = r.lot_number.as_str().to_string();
    let mismatch = |field: &'static str, stored: String, given: String| StockError::LotMismatch {
        lot: lot_label.clone(),
        field,
        stored,
        given,
    };
    let choice = match existing {
        Some(lot) => {
            if r.production.is_some() && r.production != lot.production {
                return Err(mismatch(
                    "production date",
                    show_day(lot.production),
                    show_day(r.production),
                ));
            }
            if r.expiry.is_some() || r.production.is_some() {
                let expiry = derive_expiry(item, r.production.or(lot.production), r.expiry)
                    .map_err(|(f, d)| StockError::Invalid(Violations::one(f, d)))?;
                if expiry != lot.expiry {
                    return Err(mismatch(
                        "expiry date",
                        show_day(lot.expiry),
                        show_day(expiry),
                    ));
                }
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
            if let Some(t) = r.owning_tier.filter(|t| *t != lot.owning_tier) {
                return Err(mismatch(
                    "owning tier",
                    lot.owning_tier.to_string(),
                    t.to_string(),
                ));
            }
            LotChoice::Existing(lot.clone())
        }
        None => LotChoice::New {
            production: r.production,
            expiry: derive_expiry(item, r.production, r.expiry)
                .map_err(|(f, d)| StockError::Invalid(Violations::one(f, d)))?,
            manufacturer: r.manufacturer.clone(),
            funding: r.funding.unwrap_or(FundingSource::Budget),
            owning_tier: r.owning_tier.unwrap_or(depot.owning_tier),
        },
    };
    let expiry = match &choice {
        LotChoice::Existing(l) => l.expiry,
        LotChoice::New { expiry, .. } => *expiry,
    };
    if let Some(e) = expiry.filter(|e| today >= *e) {
        return Err(StockError::LotExpired {
            lot: lot_label,
            expiry: e.date().to_string(),
        });
    }
    Ok(ReceiptPlan {
        lot: choice,
        quantity: r.quantity,
        serials: r.serials.clone(),
    })
}

/// What an issue is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuePurpose {
    /// To an incident.
    Incident,
    /// For use.
    Use,
}

/// An issue as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Units.
    pub quantity: i64,
    /// Lot number, empty for FEFO.
    pub lot_number: String,
    /// Serial numbers.
    pub serials: Vec<String>,
    /// Purpose number.
    pub purpose: i32,
    /// Incident or user.
    pub recipient: String,
    /// Document.
    pub document: String,
    /// Reason.
    pub reason: String,
    /// Break the reserve minimum.
    pub override_minimum: bool,
    /// Why.
    pub override_reason: String,
    /// Business time.
    pub occurred_at: Option<UtcMillis>,
}

/// An issue that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Units.
    pub quantity: i64,
    /// Lot asked for.
    pub lot_number: Option<LotNumber>,
    /// Serial numbers asked for.
    pub serials: Vec<SerialNumber>,
    /// Purpose.
    pub purpose: IssuePurpose,
    /// Incident or user.
    pub recipient: String,
    /// Document.
    pub document: String,
    /// Reason.
    pub reason: String,
    /// Why the reserve minimum may be broken, if it may.
    pub override_minimum: Option<String>,
    /// Business time.
    pub occurred_at: UtcMillis,
}

impl Issue {
    /// Checks every field rule of an issue.
    pub fn parse(d: &IssueDraft, now: UtcMillis) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = match d.lot_number.trim() {
            "" => None,
            n => v.take("lot_number", LotNumber::parse(n)),
        };
        let serials = parse_serials(&d.serials, &mut v);
        let quantity = units(d.quantity, &serials, &mut v);
        let purpose = match d.purpose {
            1 => Some(IssuePurpose::Incident),
            2 => Some(IssuePurpose::Use),
            0 => {
                v.add("purpose", "is required: incident or use");
                None
            }
            n => {
                v.add("purpose", format!("{n} is not an issue purpose"));
                None
            }
        };
        let recipient = v.take("recipient", text::required(&d.recipient, 100));
        let document = v.take("document", text::optional(&d.document, 64));
        let reason = v.take("reason", text::optional(&d.reason, 500));
        let override_minimum = if d.override_minimum {
            v.take(
                "override_reason",
                text::required(&d.override_reason, 500)
                    .map_err(|_| "is required when override_reserve_minimum is set".to_string()),
            )
        } else {
            None
        };
        let occurred_at = occurred_at(d.occurred_at, now, &mut v);
        match (depot, item, purpose, recipient, document, reason) {
            (
                Some(depot),
                Some(item),
                Some(purpose),
                Some(recipient),
                Some(document),
                Some(reason),
            ) if v.is_empty() => Ok(Issue {
                depot,
                item,
                quantity,
                lot_number,
                serials,
                purpose,
                recipient,
                document,
                reason,
                override_minimum,
                occurred_at,
            }),
            _ => Err(v),
        }
    }
}

fn insufficient(
    depot: &DepotCode,
    item: &ItemId,
    lot: Option<&LotNumber>,
    requested: i64,
    available: i64,
) -> StockError {
    StockError::InsufficientStock {
        depot: depot.to_string(),
        item: item.to_string(),
        lot: lot
            .map(|l| format!(" lot {}", l.as_str()))
            .unwrap_or_default(),
        requested,
        available,
    }
}

fn sorted_fefo(lines: &[LineState]) -> Vec<&LineState> {
    let mut v: Vec<&LineState> = lines.iter().collect();
    v.sort_by_key(|l| l.lot.fefo_key());
    v
}

/// Checks that each named serial is an asset of `depot` in `status`, and
/// groups them by lot in FEFO order of `lines`.
fn group_serials(
    serials: &[SerialNumber],
    assets: &[AssetState],
    depot: &DepotCode,
    status: AssetStatus,
    lines: &[LineState],
) -> Result<Vec<(LineState, Vec<SerialNumber>)>, StockError> {
    let mut by_lot: BTreeMap<LotId, Vec<SerialNumber>> = BTreeMap::new();
    for s in serials {
        match assets.iter().find(|a| &a.serial == s) {
            Some(a) if &a.depot == depot && a.status == status => {
                by_lot.entry(a.lot.clone()).or_default().push(s.clone())
            }
            found => {
                return Err(StockError::SerialNotAvailable {
                    serial: s.to_string(),
                    status: found
                        .map(|a| format!("{} at {}", a.status.name(), a.depot))
                        .unwrap_or_else(|| "unknown".into()),
                    needed: status.name(),
                    depot: depot.to_string(),
                });
            }
        }
    }
    let mut out = Vec::new();
    for line in sorted_fefo(lines) {
        if let Some(s) = by_lot.remove(&line.lot.id) {
            out.push((line.clone(), s));
        }
    }
    // A serial whose lot has no line here means the data disagree; refuse.
    if let Some((_, s)) = by_lot.into_iter().next() {
        return Err(StockError::SerialNotAvailable {
            serial: s.first().map(|x| x.to_string()).unwrap_or_default(),
            status: "without a stock line".into(),
            needed: status.name(),
            depot: depot.to_string(),
        });
    }
    Ok(out)
}

/// Decides which lots an issue takes from: the named serials, the named lot,
/// or first-expired-first-out over lots that are not expired. `lines` are all
/// stock lines of the item at the depot; `assets` its assets there;
/// `minimum` the depot's reserve minimum for the item (0 if none).
pub fn plan_issue(
    req: &Issue,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    minimum: i64,
    today: Day,
) -> Result<Vec<Take>, StockError> {
    tracking_rule_for_issue(item, req)?;
    let usable: Vec<&LineState> = match &req.lot_number {
        Some(n) => {
            let line = lines.iter().find(|l| &l.lot.number == n).ok_or_else(|| {
                StockError::LotNotAtDepot {
                    depot: req.depot.to_string(),
                    item: req.item.to_string(),
                    lot: n.as_str().to_string(),
                }
            })?;
            if let Some(e) = line.lot.expiry.filter(|_| line.lot.is_expired(today)) {
                return Err(StockError::LotExpired {
                    lot: n.as_str().to_string(),
                    expiry: e.date().to_string(),
                });
            }
            vec![line]
        }
        None => sorted_fefo(lines)
            .into_iter()
            .filter(|l| !l.lot.is_expired(today))
            .collect(),
    };
    let takes = if req.serials.is_empty() {
        let total: i64 = usable.iter().map(|l| l.balance.free()).sum();
        if total < req.quantity {
            return Err(insufficient(
                &req.depot,
                &req.item,
                req.lot_number.as_ref(),
                req.quantity,
                total,
            ));
        }
        let mut left = req.quantity;
        let mut takes = Vec::new();
        for line in usable {
            if left == 0 {
                break;
            }
            let n = line.balance.free().min(left);
            if n <= 0 {
                continue;
            }
            let serials = if item.tracking == Tracking::Serial {
                let mut s: Vec<SerialNumber> = assets
                    .iter()
                    .filter(|a| {
                        a.lot == line.lot.id
                            && a.depot == req.depot
                            && a.status == AssetStatus::InStock
                    })
                    .map(|a| a.serial.clone())
                    .collect();
                s.sort();
                if (s.len() as i64) < n {
                    return Err(insufficient(
                        &req.depot,
                        &req.item,
                        Some(&line.lot.number),
                        n,
                        s.len() as i64,
                    ));
                }
                s.truncate(n as usize);
                s
            } else {
                Vec::new()
            };
            takes.push(Take {
                lot: line.lot.clone(),
                quantity: n,
                serials,
            });
            left -= n;
        }
        takes
    } else {
        let usable_lines: Vec<LineState> = usable.iter().map(|l| (*l).clone()).collect();
        let all: Vec<LineState> = lines.to_vec();
        let groups = group_serials(&req.serials, assets, &req.depot, AssetStatus::InStock, &all)?;
        let mut takes = Vec::new();
        for (line, serials) in groups {
            if !usable_lines.iter().any(|u| u.lot.id == line.lot.id) {
                return match line.lot.expiry.filter(|_| line.lot.is_expired(today)) {
                    Some(e) => Err(StockError::LotExpired {
                        lot: line.lot.number.as_str().to_string(),
                        expiry: e.date().to_string(),
                    }),
                    None => Err(StockError::SerialNotAvailable {
                        serial: serials.first().map(|s| s.to_string()).unwrap_or_default(),
                        status: format!("in lot {}", line.lot.number.as_str()),
                        needed: "in the lot named",
                        depot: req.depot.to_string(),
                    }),
                };
            }
            let n = serials.len() as i64;
            if line.balance.free() < n {
                return Err(insufficient(
                    &req.depot,
                    &req.item,
                    Some(&line.lot.number),
                    n,
                    line.balance.free(),
                ));
            }
            takes.push(Take {
                lot: line.lot,
                quantity: n,
                serials,
            });
        }
        takes
    };
    let available_now: i64 = lines
        .iter()
        .map(|l| l.balance.available(l.lot.is_expired(today)))
        .sum();
    let after = available_now - req.quantity;
    if minimum > 0 && after < minimum && req.override_minimum.is_none() {
        return Err(StockError::BelowReserveMinimum {
            depot: req.depot.to_string(),
            item: req.item.to_string(),
            minimum,
            after,
        });
    }
    Ok(takes)
}

fn tracking_rule_for_issue(item: &Item, req: &Issue) -> Result<(), StockError> {
    if item.tracking == Tracking::Lot && !req.serials.is_empty() {
        return tracking_rule(item, &req.serials);
    }
    Ok(())
}

/// Why units are held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HoldReason {
    /// Quarantine.
    Quarantine,
    /// Damage.
    Damage,
    /// Under repair.
    UnderRepair,
}

impl HoldReason {
    /// The reason with that wire number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(HoldReason::Quarantine),
            2 => Some(HoldReason::Damage),
            3 => Some(HoldReason::UnderRepair),
            _ => None,
        }
    }

    /// Words for the ledger.
    pub fn label(self) -> &'static str {
        match self {
            HoldReason::Quarantine => "quarantine",
            HoldReason::Damage => "damage",
            HoldReason::UnderRepair => "under repair",
        }
    }
}

/// A hold or release as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MoveDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Lot number.
    pub lot_number: String,
    /// Units.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<String>,
    /// Free text (note or reason).
    pub note: String,
}

/// A hold or release that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot number (required for lot-tracked items).
    pub lot_number: Option<LotNumber>,
    /// Units.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Note.
    pub note: String,
}

impl Move {
    /// Checks the field rules of a hold, release, adjustment-like request.
    pub fn parse(d: &MoveDraft, note_field: &str, note_required: bool) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = match d.lot_number.trim() {
            "" => None,
            n => v.take("lot_number", LotNumber::parse(n)),
        };
        let serials = parse_serials(&d.serials, &mut v);
        let quantity = units(d.quantity, &serials, &mut v);
        let note = if note_required {
            v.take(note_field, text::required(&d.note, 500))
        } else {
            v.take(note_field, text::optional(&d.note, 500))
        };
        match (depot, item, note) {
            (Some(depot), Some(item), Some(note)) if v.is_empty() => Ok(Move {
                depot,
                item,
                lot_number,
                quantity,
                serials,
                note,
            }),
            _ => Err(v),
        }
    }
}

/// For a lot-tracked item: the one line named by `m`, or an error naming the field.
fn named_line<'a>(
    m: &Move,
    item: &Item,
    lines: &'a [LineState],
) -> Result<&'a LineState, StockError> {
    let n = m.lot_number.as_ref().ok_or_else(|| {
        StockError::Invalid(Violations::one(
            "lot_number",
            format!("is required: {} is tracked by lot", item.id),
        ))
    })?;
    lines
        .iter()
        .find(|l| &l.lot.number == n)
        .ok_or_else(|| StockError::LotNotAtDepot {
            depot: m.depot.to_string(),
            item: m.item.to_string(),
            lot: n.as_str().to_string(),
        })
}

/// Serial groups for `m`, each serial in `status`, restricted to the named lot if any.
fn serial_takes(
    m: &Move,
    assets: &[AssetState],
    lines: &[LineState],
    status: AssetStatus,
) -> Result<Vec<Take>, StockError> {
    let groups = group_serials(&m.serials, assets, &m.depot, status, lines)?;
    let mut out = Vec::new();
    for (line, serials) in groups {
        if let Some(n) = m.lot_number.as_ref().filter(|n| **n != line.lot.number) {
            return Err(StockError::SerialNotAvailable {
                serial: serials.first().map(|s| s.to_string()).unwrap_or_default(),
                status: format!("in lot {}", line.lot.number.as_str()),
                needed: "in the lot named",
                depot: format!("{} (lot {})", m.depot, n.as_str()),
            });
        }
        out.push(Take {
            quantity: serials.len() as i64,
            lot: line.lot,
            serials,
        });
    }
    Ok(out)
}

/// Decides a hold: units must be free (neither reserved nor held); expired
/// units may be held, which is how they are quarantined before scrapping.
pub fn plan_hold(
    m: &Move,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
) -> Result<Vec<Take>, StockError> {
    tracking_rule(item, &m.serials)?;
    let takes = match item.tracking {
        Tracking::Lot => {
            let line = named_line(m, item, lines)?;
            vec![Take {
                lot: line.lot.clone(),
                quantity: m.quantity,
                serials: Vec::new(),
            }]
        }
        Tracking::Serial => serial_takes(m, assets, lines, AssetStatus::InStock)?,
    };
    for t in &takes {
        let free = lines
            .iter()
            .find(|l| l.lot.id == t.lot.id)
            .map(|l| l.balance.free())
            .unwrap_or(0);
        if free < t.quantity {
            return Err(insufficient(
                &m.depot,
                &m.item,
                Some(&t.lot.number),
                t.quantity,
                free,
            ));
        }
    }
    Ok(takes)
}

/// Decides a release: units must be held and not held for a pending scrap
/// application (`scrap_held` gives, per lot, the units and serials such
/// applications hold, with the application id).
pub fn plan_release(
    m: &Move,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    scrap_held: &[(LotId, i64, Vec<SerialNumber>, String)],
) -> Result<Vec<Take>, StockError> {
    tracking_rule(item, &m.serials)?;
    let takes = match item.tracking {
        Tracking::Lot => {
            let line = named_line(m, item, lines)?;
            let pending: i64 = scrap_held
                .iter()
                .filter(|(l, ..)| *l == line.lot.id)
                .map(|(_, q, ..)| *q)
                .sum();
            let releasable = line.balance.held - pending;
            if releasable < m.quantity {
                if let Some((.., app)) = scrap_held.iter().find(|(l, ..)| *l == line.lot.id)
                    && line.balance.held >= m.quantity
                {
                    return Err(StockError::HeldForScrap {
                        lot: line.lot.number.as_str().to_string(),
                        application: app.clone(),
                    });
                }
                return Err(StockError::NotEnoughHeld {
                    lot: line.lot.number.as_str().to_string(),
                    held: releasable,
                    requested: m.quantity,
                });
            }
            vec![Take {
                lot: line.lot.clone(),
                quantity: m.quantity,
                serials: Vec::new(),
            }]
        }
        Tracking::Serial => {
            for s in &m.serials {
                if let Some((lot, _, _, app)) =
                    scrap_held.iter().find(|(_, _, ss, _)| ss.contains(s))
                {
                    let lot_number = lines
                        .iter()
                        .find(|l| &l.lot.id == lot)
                        .map(|l| l.lot.number.as_str().to_string())
                        .unwrap_or_default();
                    return Err(StockError::HeldForScrap {
                        lot: lot_number,
                        application: app.clone(),
                    });
                }
            }
            serial_takes(m, assets, lines, AssetStatus::Held)?
        }
    };
    Ok(takes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{ItemDraft, NewItem};

    const NOW: UtcMillis = 1_795_838_400_000; // 2026-11-28 12:00 Beijing

    fn today() -> Day {
        Day::today(NOW)
    }

    fn item(tracking: i32, shelf: i32) -> Item {
        NewItem::parse(&ItemDraft {
            id: "water".into(),
            code: "1060101".into(),
            name: "水".into(),
            unit: "箱".into(),
            tracking,
            shelf_life_days: shelf,
            near_expiry_days: Some(30),
            ..Default::default()
        })
        .unwrap()
        .into_item(DepotCode::from_stored("HB-SY".into()), 0)
    }

    fn lot(id: &str, expiry_in: Option<i64>) -> Lot {
        Lot {
            id: LotId(id.into()),
            item: ItemId::from_stored("water".into()),
            number: LotNumber::from_stored(format!("N{id}")),
            production: None,
            expiry: expiry_in.map(|d| today().plus(d)),
            manufacturer: String::new(),
            funding: FundingSource::Budget,
            owning_tier: Tier::City,
            created_at: 0,
        }
    }

    fn line(id: &str, expiry_in: Option<i64>, on_hand: i64) -> LineState {
        LineState {
            lot: lot(id, expiry_in),
            balance: Balance {
                on_hand,
                reserved: 0,
                held: 0,
            },
        }
    }

    fn issue(q: i64, lot: &str, serials: &[&str]) -> Issue {
        Issue::parse(
            &IssueDraft {
                depot: "HB-SY".into(),
                item: "water".into(),
                quantity: q,
                lot_number: lot.into(),
                serials: serials.iter().map(|s| s.to_string()).collect(),
                purpose: 1,
                recipient: "2026年7月竹山县洪涝".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap()
    }

    fn depot() -> Depot {
        crate::depot::NewDepot::parse(&crate::depot::DepotDraft {
            code: "HB-SY".into(),
            name: "十堰".into(),
            tier: 2,
            parent_code: "HB".into(),
            division_code: "420300".into(),
            latitude: 32.6,
            longitude: 110.8,
            ..Default::default()
        })
        .unwrap()
        .into_depot(crate::authz::DepotPath::from_stored("/HB/HB-SY/".into()), 0)
    }

    #[test]
    fn fefo_takes_the_soonest_expiry_first_and_skips_expired_lots() {
        let lines = vec![
            line("late", Some(300), 10),
            line("expired", Some(0), 50),
            line("soon", Some(20), 4),
            line("never", None, 100),
        ];
        let takes = plan_issue(&issue(12, "", &[]), &item(1, 0), &lines, &[], 0, today()).unwrap();
        let picked: Vec<_> = takes
            .iter()
            .map(|t| (t.lot.id.0.as_str(), t.quantity))
            .collect();
        assert_eq!(picked, vec![("soon", 4), ("late", 8)]);
    }

    #[test]
    fn an_expired_lot_is_never_issued_even_when_named() {
        let lines = vec![line("expired", Some(0), 50)];
        let err = plan_issue(
            &issue(1, "Nexpired", &[]),
            &item(1, 0),
            &lines,
            &[],
            0,
            today(),
        )
        .unwrap_err();
        assert!(matches!(err, StockError::LotExpired { .. }));
        let err = plan_issue(&issue(1, "", &[]), &item(1, 0), &lines, &[], 0, today()).unwrap_err();
        assert!(matches!(
            err,
            StockError::InsufficientStock { available: 0, .. }
        ));
    }

    #[test]
    fn reserved_and_held_units_are_not_issued() {
        let mut l = line("a", None, 10);
        l.balance.reserved = 4;
        l.balance.held = 3;
        let err = plan_issue(&issue(4, "", &[]), &item(1, 0), &[l], &[], 0, today()).unwrap_err();
        assert!(matches!(
            err,
            StockError::InsufficientStock {
                requested: 4,
                available: 3,
                ..
            }
        ));
    }

    #[test]
    fn the_reserve_minimum_needs_an_override() {
        let lines = vec![line("a", None, 100)];
        let err =
            plan_issue(&issue(30, "", &[]), &item(1, 0), &lines, &[], 80, today()).unwrap_err();
        assert!(matches!(
            err,
            StockError::BelowReserveMinimum {
                minimum: 80,
                after: 70,
                ..
            }
        ));
        assert!(plan_issue(&issue(20, "", &[]), &item(1, 0), &lines, &[], 80, today()).is_ok());
        let mut overridden = issue(30, "", &[]);
        overridden.override_minimum = Some("县指挥部口头命令".into());
        assert!(plan_issue(&overridden, &item(1, 0), &lines, &[], 80, today()).is_ok());
    }

    #[test]
    fn named_serials_must_be_in_stock_here() {
        let generator = item(2, 0);
        let lines = vec![line("a", None, 2)];
        let asset = |s: &str, status| AssetState {
            serial: SerialNumber::from_stored(s.into()),
            lot: LotId("a".into()),
            depot: DepotCode::from_stored("HB-SY".into()),
            status,
        };
        let assets = vec![
            asset("G1", AssetStatus::InStock),
            asset("G2", AssetStatus::Held),
        ];
        let takes = plan_issue(
            &issue(0, "", &["G1"]),
            &generator,
            &lines,
            &assets,
            0,
            today(),
        )
        .unwrap();
        assert_eq!(takes[0].serials[0].as_str(), "G1");
        let err = plan_issue(
            &issue(0, "", &["G2"]),
            &generator,
            &lines,
            &assets,
            0,
            today(),
        )
        .unwrap_err();
        assert!(matches!(err, StockError::SerialNotAvailable { .. }));
        let err = plan_issue(
            &issue(0, "", &["G9"]),
            &generator,
            &lines,
            &assets,
            0,
            today(),
        )
        .unwrap_err();
        assert!(matches!(err, StockError::SerialNotAvailable { .. }));
        // Without serials, the system picks in-stock assets by FEFO then serial order.
        let takes = plan_issue(
            &issue(1, "", &[]),
            &generator,
            &[line("a", None, 2)],
            &assets,
            0,
            today(),
        );
        assert_eq!(takes.unwrap()[0].serials[0].as_str(), "G1");
    }

    #[test]
    fn a_receipt_derives_expiry_and_refuses_expired_or_mismatched_lots() {
        let water = item(1, 365);
        let draft = |prod: Option<(i32, i32, i32)>, exp: Option<(i32, i32, i32)>| ReceiptDraft {
            depot: "HB-SY".into(),
            item: "water".into(),
            lot_number: "W-2026-01".into(),
            production: prod,
            expiry: exp,
            quantity: 100,
            ..Default::default()
        };
        let r = Receipt::parse(&draft(Some((2026, 6, 1)), None), NOW).unwrap();
        let plan = plan_receipt(&r, &water, &depot(), None, &[], today()).unwrap();
        let LotChoice::New { expiry, .. } = plan.lot else {
            panic!()
        };
        assert_eq!(expiry.unwrap().date().to_string(), "2027-06-01");

        let old = Receipt::parse(&draft(Some((2025, 1, 1)), None), NOW).unwrap();
        assert!(matches!(
            plan_receipt(&old, &water, &depot(), None, &[], today()),
            Err(StockError::LotExpired { .. })
        ));
        let none = Receipt::parse(&draft(None, None), NOW).unwrap();
        assert!(matches!(
            plan_receipt(&none, &water, &depot(), None, &[], today()),
            Err(StockError::Invalid(_))
        ));
        let mut existing = lot("x", Some(300));
        existing.number = LotNumber::from_stored("W-2026-01".into());
        let other = Receipt::parse(&draft(None, Some((2030, 1, 1))), NOW).unwrap();
        assert!(matches!(
            plan_receipt(&other, &water, &depot(), Some(&existing), &[], today()),
            Err(StockError::LotMismatch { .. })
        ));
        let same = Receipt::parse(&draft(None, None), NOW).unwrap();
        assert!(matches!(
            plan_receipt(&same, &water, &depot(), Some(&existing), &[], today())
                .unwrap()
                .lot,
            LotChoice::Existing(_)
        ));
    }

    #[test]
    fn field_rules_of_movements_name_their_fields() {
        let v = Receipt::parse(
            &ReceiptDraft {
                depot: "".into(),
                item: "Water!".into(),
                lot_number: "".into(),
                quantity: 0,
                expiry: Some((2026, 2, 30)),
                occurred_at: Some(NOW + 86_400_000),
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
        let v = Issue::parse(
            &IssueDraft {
                depot: "HB-SY".into(),
                item: "water".into(),
                quantity: 2,
                serials: vec!["A".into(), "A".into()],
                override_minimum: true,
                ..Default::default()
            },
            NOW,
        )
        .unwrap_err();
        let fields: Vec<_> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "serial_numbers[1]",
                "quantity",
                "purpose",
                "recipient",
                "override_reason"
            ]
        );
    }

    #[test]
    fn only_free_units_are_held_and_only_held_ones_released() {
        let water = item(1, 0);
        let mut l = line("a", None, 10);
        l.balance.reserved = 6;
        let m = |q: i64| {
            Move::parse(
                &MoveDraft {
                    depot: "HB-SY".into(),
                    item: "water".into(),
                    lot_number: "Na".into(),
                    quantity: q,
                    ..Default::default()
                },
                "note",
                false,
            )
            .unwrap()
        };
        assert!(plan_hold(&m(4), &water, std::slice::from_ref(&l), &[]).is_ok());
        assert!(matches!(
            plan_hold(&m(5), &water, std::slice::from_ref(&l), &[]),
            Err(StockError::InsufficientStock { .. })
        ));
        l.balance.held = 3;
        assert!(plan_release(&m(3), &water, std::slice::from_ref(&l), &[], &[]).is_ok());
        assert!(matches!(
            plan_release(&m(4), &water, std::slice::from_ref(&l), &[], &[]),
            Err(StockError::NotEnoughHeld { .. })
        ));
        let pending = vec![(LotId("a".into()), 2, vec![], "S1".to_string())];
        assert!(matches!(
            plan_release(&m(2), &water, std::slice::from_ref(&l), &[], &pending),
            Err(StockError::HeldForScrap { .. })
        ));
        assert!(plan_release(&m(1), &water, std::slice::from_ref(&l), &[], &pending).is_ok());
    }
}
