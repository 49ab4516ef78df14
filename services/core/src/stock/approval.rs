//! Documents that need a second signature before they post: adjustments
//! (a correction countersigned by someone else) and scrap applications
//! (approved by the tier that owns the stock).

use super::balance::{Balance, Delta, MAX_QUANTITY};
use super::entry::AssetStatus;
use super::error::StockError;
use super::lot::{LotId, LotNumber, SerialNumber};
use super::movement::{AssetState, LineState};
use crate::authz::Principal;
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::text;
use crate::tier::Tier;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Where a document waiting for a second signature stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApprovalStatus {
    /// Waiting.
    Pending,
    /// Approved and posted.
    Approved,
    /// Rejected.
    Rejected,
}

impl ApprovalStatus {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            ApprovalStatus::Pending => 1,
            ApprovalStatus::Approved => 2,
            ApprovalStatus::Rejected => 3,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(ApprovalStatus::Pending),
            2 => Some(ApprovalStatus::Approved),
            3 => Some(ApprovalStatus::Rejected),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
        }
    }
}

fn parse_serial_list(raw: &[String], v: &mut Violations) -> Vec<SerialNumber> {
    let mut out: Vec<SerialNumber> = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        match SerialNumber::parse(s) {
            Ok(sn) if out.contains(&sn) => v.add(
                format!("serial_numbers[{i}]"),
                format!("'{sn}' is listed twice"),
            ),
            Ok(sn) => out.push(sn),
            Err(e) => v.add(format!("serial_numbers[{i}]"), e),
        }
    }
    out
}

/// An adjustment as the client proposed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdjustmentDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Lot number.
    pub lot_number: String,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<String>,
    /// Why.
    pub reason: String,
}

/// A proposed adjustment that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAdjustment {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot.
    pub lot_number: LotNumber,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers missing (negative) or found (positive).
    pub serials: Vec<SerialNumber>,
    /// Why.
    pub reason: String,
}

impl NewAdjustment {
    /// Checks the field rules of a proposed adjustment.
    pub fn parse(d: &AdjustmentDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = v.take("lot_number", LotNumber::parse(&d.lot_number));
        let serials = parse_serial_list(&d.serials, &mut v);
        if serials.is_empty() {
            if d.quantity == 0 || d.quantity.abs() > MAX_QUANTITY {
                v.add(
                    "quantity",
                    format!("must be a non-zero change of at most {MAX_QUANTITY} units"),
                );
            }
        } else if d.quantity.abs() != serials.len() as i64 {
            v.add(
                "quantity",
                format!(
                    "must be -{n} (these units are missing) or +{n} (these units were found)",
                    n = serials.len()
                ),
            );
        }
        let reason = v.take("reason", text::required(&d.reason, 500));
        match (depot, item, lot_number, reason) {
            (Some(depot), Some(item), Some(lot_number), Some(reason)) if v.is_empty() => {
                Ok(NewAdjustment {
                    depot,
                    item,
                    lot_number,
                    quantity: d.quantity,
                    serials,
                    reason,
                })
            }
            _ => Err(v),
        }
    }
}

/// An adjustment as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Id.
    pub id: String,
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Why.
    pub reason: String,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// Who proposed it.
    pub requested_by: String,
    /// When.
    pub requested_at: UtcMillis,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UtcMillis>,
    /// Decision note.
    pub decision_note: String,
    /// The posted entry.
    pub entry_id: Option<String>,
    /// Version.
    pub version: i64,
}

fn serial_rule(item: &Item, serials: &[SerialNumber]) -> Result<(), StockError> {
    match (item.tracking, serials.is_empty()) {
        (Tracking::Lot, false) => Err(StockError::Invalid(Violations::one(
            "serial_numbers",
            format!("must be empty: {} is tracked by lot", item.id),
        ))),
        (Tracking::Serial, true) => Err(StockError::Invalid(Violations::one(
            "serial_numbers",
            format!("are required: {} is tracked by serial number", item.id),
        ))),
        _ => Ok(()),
    }
}

/// An adjustment as it touches a lot: where, which lot, how much, which units.
#[derive(Clone, Copy, Debug)]
pub struct Proposal<'a> {
    /// Depot.
    pub depot: &'a DepotCode,
    /// Lot id.
    pub lot_id: &'a LotId,
    /// Lot number.
    pub lot_number: &'a LotNumber,
    /// Signed change of on hand.
    pub quantity: i64,
    /// Serial numbers missing or found.
    pub serials: &'a [SerialNumber],
}

/// Checks what an adjustment needs of the current state: missing serials in
/// stock here, found serials unknown, and a balance that stays sound.
/// Returns the change it makes.
pub fn check_adjustment(
    p: Proposal<'_>,
    item: &Item,
    line: Option<&LineState>,
    assets: &[AssetState],
    known_serials: &[SerialNumber],
) -> Result<Delta, StockError> {
    let Proposal {
        depot,
        lot_id,
        lot_number,
        quantity,
        serials,
    } = p;
    serial_rule(item, serials)?;
    if quantity < 0 {
        for s in serials {
            match assets.iter().find(|a| &a.serial == s) {
                Some(a)
                    if &a.depot == depot
                        && &a.lot == lot_id
                        && a.status == AssetStatus::InStock => {}
                found => {
                    return Err(StockError::SerialNotAvailable {
                        serial: s.to_string(),
                        status: found
                            .map(|a| format!("{} at {}", a.status.name(), a.depot))
                            .unwrap_or_else(|| "unknown".into()),
                        needed: "in stock in this lot",
                        depot: depot.to_string(),
                    });
                }
            }
        }
    } else if let Some(s) = known_serials.first() {
        return Err(StockError::SerialExists(s.to_string()));
    }
    let delta = Delta::on_hand(quantity);
    let balance = line.map(|l| l.balance).unwrap_or_default();
    if balance.apply(delta).is_none() {
        return Err(StockError::InsufficientStock {
            depot: depot.to_string(),
            item: item.id.to_string(),
            lot: format!(" lot {}", lot_number.as_str()),
            requested: -quantity,
            available: balance.free(),
        });
    }
    Ok(delta)
}

/// Checks that `who` may countersign `adj` now.
pub fn check_countersign(adj: &Adjustment, who: &Principal) -> Result<(), StockError> {
    if adj.status != ApprovalStatus::Pending {
        return Err(StockError::InvalidTransition {
            kind: "adjustments",
            id: adj.id.clone(),
            status: adj.status.name(),
            action: "approved",
        });
    }
    if adj.requested_by == who.subject {
        return Err(StockError::SamePerson {
            action: "an adjustment",
            who: who.subject.clone(),
            what: "adjustment",
        });
    }
    Ok(())
}

/// Checks that a pending adjustment may be rejected (by anyone entitled,
/// including its author, who may withdraw it).
pub fn check_reject(adj: &Adjustment) -> Result<(), StockError> {
    if adj.status != ApprovalStatus::Pending {
        return Err(StockError::InvalidTransition {
            kind: "adjustments",
            id: adj.id.clone(),
            status: adj.status.name(),
            action: "rejected",
        });
    }
    Ok(())
}

/// How scrapped units leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disposal {
    /// Destroyed.
    Destroy,
    /// Auctioned.
    Auction,
    /// Recycled.
    Recycle,
}

impl Disposal {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            Disposal::Destroy => 1,
            Disposal::Auction => 2,
            Disposal::Recycle => 3,
        }
    }

    /// The disposal with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Disposal::Destroy),
            2 => Some(Disposal::Auction),
            3 => Some(Disposal::Recycle),
            _ => None,
        }
    }
}

/// A scrap application as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScrapDraft {
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
    /// Why.
    pub reason: String,
    /// Disposal number.
    pub disposal: i32,
}

/// A scrap application that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewScrap {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot.
    pub lot_number: LotNumber,
    /// Units.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Why.
    pub reason: String,
    /// Disposal.
    pub disposal: Disposal,
}

impl NewScrap {
    /// Checks the field rules of a scrap application.
    pub fn parse(d: &ScrapDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = v.take("lot_number", LotNumber::parse(&d.lot_number));
        let serials = parse_serial_list(&d.serials, &mut v);
        let quantity = if serials.is_empty() {
            if !(1..=MAX_QUANTITY).contains(&d.quantity) {
                v.add("quantity", format!("must be 1 to {MAX_QUANTITY}"));
            }
            d.quantity
        } else {
            if d.quantity != 0 && d.quantity != serials.len() as i64 {
                v.add(
                    "quantity",
                    format!(
                        "must be 0 or the number of serial numbers ({})",
                        serials.len()
                    ),
                );
            }
            serials.len() as i64
        };
        let reason = v.take("reason", text::required(&d.reason, 500));
        let disposal = match d.disposal {
            0 => {
                v.add("disposal", "is required: destroy, auction or recycle");
                None
            }
            n => v.take(
                "disposal",
                Disposal::from_number(i64::from(n)).ok_or_else(|| format!("{n} is not a disposal")),
            ),
        };
        match (depot, item, lot_number, reason, disposal) {
            (Some(depot), Some(item), Some(lot_number), Some(reason), Some(disposal))
                if v.is_empty() =>
            {
                Ok(NewScrap {
                    depot,
                    item,
                    lot_number,
                    quantity,
                    serials,
                    reason,
                    disposal,
                })
            }
            _ => Err(v),
        }
    }
}

/// A scrap application as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapApplication {
    /// Id.
    pub id: String,
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Units.
    pub quantity: i64,
    /// Serial numbers.
    pub serials: Vec<SerialNumber>,
    /// Why.
    pub reason: String,
    /// Disposal.
    pub disposal: Disposal,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// Who applied.
    pub applied_by: String,
    /// When.
    pub applied_at: UtcMillis,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UtcMillis>,
    /// Decision note.
    pub decision_note: String,
    /// The hold entry.
    pub hold_entry_id: String,
    /// The scrap or release entry.
    pub final_entry_id: Option<String>,
    /// Version.
    pub version: i64,
}

/// Checks that `who`, scoped to a depot of tier `scope_tier` that covers the
/// application's depot (`covers`), may decide an application for stock owned
/// by `owning`. Only the owning tier decides; the depot never writes off alone.
pub fn check_scrap_decision(
    app: &ScrapApplication,
    who: &Principal,
    scope_tier: Tier,
    covers: bool,
    owning: Tier,
    action: &'static str,
) -> Result<(), StockError> {
    if app.status != ApprovalStatus::Pending {
        return Err(StockError::InvalidTransition {
            kind: "scrapApplications",
            id: app.id.clone(),
            status: app.status.name(),
            action,
        });
    }
    if app.applied_by == who.subject {
        return Err(StockError::SamePerson {
            action: "scrapping",
            who: who.subject.clone(),
            what: "application",
        });
    }
    if scope_tier != owning || !covers {
        return Err(StockError::NotOwningTier {
            lot: app.lot_number.as_str().to_string(),
            owning: owning.name(),
            depot: app.depot.to_string(),
        });
    }
    Ok(())
}

/// What approving a scrap application does: the held units leave.
pub fn scrap_delta(quantity: i64) -> Delta {
    Delta {
        on_hand: -quantity,
        reserved: 0,
        held: -quantity,
    }
}

/// Whether a balance can take `d`; the error names the lot.
pub fn apply_or_conflict(
    balance: Balance,
    d: Delta,
    lot: &LotNumber,
    depot: &DepotCode,
    item: &ItemId,
) -> Result<Balance, StockError> {
    balance
        .apply(d)
        .ok_or_else(|| StockError::InsufficientStock {
            depot: depot.to_string(),
            item: item.to_string(),
            lot: format!(" lot {}", lot.as_str()),
            requested: -d.on_hand.min(d.held),
            available: balance.free(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn who(s: &str) -> Principal {
        Principal {
            subject: s.into(),
            name: s.into(),
            roles: BTreeSet::new(),
            scope: DepotCode::from_stored("HB-SY".into()),
        }
    }

    fn adjustment(by: &str, status: ApprovalStatus) -> Adjustment {
        Adjustment {
            id: "A1".into(),
            depot: DepotCode::from_stored("HB-SY-ZS".into()),
            item: ItemId::from_stored("quilt".into()),
            lot: LotId("l".into()),
            lot_number: LotNumber::from_stored("Q1".into()),
            quantity: -3,
            serials: vec![],
            reason: "鼠咬损坏".into(),
            status,
            requested_by: by.into(),
            requested_at: 0,
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            entry_id: None,
            version: 1,
        }
    }

    #[test]
    fn an_adjustment_needs_a_reason_and_a_non_zero_change() {
        let v = NewAdjustment::parse(&AdjustmentDraft {
            depot: "HB-SY-ZS".into(),
            item: "quilt".into(),
            lot_number: "Q1".into(),
            quantity: 0,
            serials: vec![],
            reason: " ".into(),
        })
        .unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(f, vec!["quantity", "reason"]);
        let v = NewAdjustment::parse(&AdjustmentDraft {
            depot: "HB-SY-ZS".into(),
            item: "gen".into(),
            lot_number: "G".into(),
            quantity: 1,
            serials: vec!["S1".into(), "S2".into()],
            reason: "盘亏".into(),
        })
        .unwrap_err();
        assert_eq!(v.as_slice()[0].field, "quantity");
    }

    #[test]
    fn the_author_cannot_countersign_but_may_withdraw() {
        let a = adjustment("keeper-1", ApprovalStatus::Pending);
        assert!(matches!(
            check_countersign(&a, &who("keeper-1")),
            Err(StockError::SamePerson { .. })
        ));
        assert!(check_countersign(&a, &who("keeper-2")).is_ok());
        assert!(check_reject(&a).is_ok());
        let done = adjustment("keeper-1", ApprovalStatus::Approved);
        assert!(matches!(
            check_countersign(&done, &who("keeper-2")),
            Err(StockError::InvalidTransition { .. })
        ));
    }

    #[test]
    fn only_the_owning_tier_decides_scrapping() {
        let app = ScrapApplication {
            id: "S1".into(),
            depot: DepotCode::from_stored("HB-SY-ZS".into()),
            item: ItemId::from_stored("quilt".into()),
            lot: LotId("l".into()),
            lot_number: LotNumber::from_stored("Q1".into()),
            quantity: 5,
            serials: vec![],
            reason: "霉变".into(),
            disposal: Disposal::Destroy,
            status: ApprovalStatus::Pending,
            applied_by: "keeper".into(),
            applied_at: 0,
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            hold_entry_id: "h".into(),
            final_entry_id: None,
            version: 1,
        };
        let d = |t: Tier, covers: bool| {
            check_scrap_decision(&app, &who("chief"), t, covers, Tier::City, "approved")
        };
        assert!(d(Tier::City, true).is_ok());
        assert!(matches!(
            d(Tier::County, true),
            Err(StockError::NotOwningTier { .. })
        ));
        assert!(matches!(
            d(Tier::Province, true),
            Err(StockError::NotOwningTier { .. })
        ));
        assert!(matches!(
            d(Tier::City, false),
            Err(StockError::NotOwningTier { .. })
        ));
        assert_eq!(
            scrap_delta(5),
            Delta {
                on_hand: -5,
                reserved: 0,
                held: -5
            }
        );
    }
}
