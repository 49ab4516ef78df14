//! Repairs (维修): a keeper sends an asset for repair and the repair holds
//! it — under repair, its holder the repair — so nothing but the repair's
//! own end releases it. Finishing either brings the asset back in stock
//! (repaired, with a repair record that resets its next due date) or hands
//! it to a new scrap application in the same step (beyond repair), whose
//! decision then goes the way of every scrap application.
//!
//! | state × action | entries |
//! |---|---|
//! | none × start (asset in stock) | hold `Delta::doc_held(1)`: in stock → under repair |
//! | none × start (held by no document) | hold `Delta { doc_held: 1 }` (held unchanged): held → under repair |
//! | open × finish repaired | release `Delta::doc_held(-1)`: → in stock; a repair record (pass) |
//! | open × finish beyond repair | release `Delta { doc_held: -1 }`: → held by no document; then the scrap application's own apply takes it over; a repair record (fail) |
//! | finished × anything | `INVALID_STATE_TRANSITION` |

use super::plan::Schedule;
use super::record::{Record, next_due_day, sets_next_due};
use super::{Condition, UpkeepKind, UpkeepResult, cost};
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::request::Etag;
use crate::stock::document::{Acting, DocId, DocKind, DocPlan, DocRef, invalid_transition};
use crate::stock::entry::{AssetStatus, EntryDraft, EntryType};
use crate::stock::pick::{AssetState, LineState};
use crate::stock::scrap::{
    Disposal, NewScrap, ScrapAction, ScrapApplication, ScrapWorld, scrap_transition,
};
use crate::stock::{Day, Delta, LotId, LotNumber, SerialNumber, StockError};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Where a repair stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RepairStatus {
    /// The asset is under repair.
    Open,
    /// Repaired and back in stock.
    Repaired,
    /// Beyond repair; handed to a scrap application.
    BeyondRepair,
}

impl RepairStatus {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            RepairStatus::Open => 1,
            RepairStatus::Repaired => 2,
            RepairStatus::BeyondRepair => 3,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(RepairStatus::Open),
            2 => Some(RepairStatus::Repaired),
            3 => Some(RepairStatus::BeyondRepair),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            RepairStatus::Open => "open",
            RepairStatus::Repaired => "repaired",
            RepairStatus::BeyondRepair => "beyond repair",
        }
    }
}

/// A repair as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    /// Id.
    pub id: String,
    /// Depot of the asset.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Lot of the asset.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// The asset.
    pub serial: SerialNumber,
    /// What is wrong.
    pub fault: String,
    /// Where it stands.
    pub status: RepairStatus,
    /// Who started it.
    pub started_by: String,
    /// When.
    pub started_at: UtcMillis,
    /// Who finished it.
    pub finished_by: Option<String>,
    /// When.
    pub finished_at: Option<UtcMillis>,
    /// What it cost, in fen (0 while open).
    pub cost_fen: i64,
    /// Notes on finishing.
    pub notes: String,
    /// The hold entry.
    pub hold_entry_id: String,
    /// The release entry.
    pub final_entry_id: Option<String>,
    /// The scrap application it opened, beyond repair.
    pub scrap_application: Option<String>,
    /// Version, from 1.
    pub version: i64,
}

impl Repair {
    /// The reference to this repair.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::Repair, &self.id)
    }
}

/// A repair as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Serial number.
    pub serial: String,
    /// What is wrong.
    pub fault: String,
}

/// A repair to start that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRepair {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Serial number.
    pub serial: SerialNumber,
    /// Fault.
    pub fault: String,
}

impl NewRepair {
    /// Checks every field, reporting all broken ones.
    pub fn parse(d: &RepairDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let serial = v.take("serial_number", SerialNumber::parse(&d.serial));
        let fault = v.take("fault", text::required(&d.fault, 200));
        match (depot, item, serial, fault) {
            (Some(depot), Some(item), Some(serial), Some(fault)) if v.is_empty() => Ok(NewRepair {
                depot,
                item,
                serial,
                fault,
            }),
            _ => Err(v),
        }
    }
}

/// How a repair ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Repaired: back in stock.
    Repaired,
    /// Beyond repair: to a scrap application, disposed of this way.
    BeyondRepair(Disposal),
}

/// Finishing a repair as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinishDraft {
    /// Repair id.
    pub id: String,
    /// Outcome number.
    pub outcome: i32,
    /// Cost in fen.
    pub cost_fen: i64,
    /// Notes.
    pub notes: String,
    /// Disposal number, beyond repair.
    pub disposal: i32,
    /// Next due date, if the keeper sets it.
    pub next_due: Option<(i32, u32, u32)>,
    /// The etag read.
    pub etag: String,
}

/// Finishing a repair that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finish {
    /// Repair id.
    pub id: DocId,
    /// Outcome.
    pub outcome: Outcome,
    /// Cost.
    pub cost_fen: i64,
    /// Notes.
    pub notes: String,
    /// Next due, if given.
    pub next_due: Option<Day>,
    /// Etag read.
    pub etag: Option<Etag>,
}

impl Finish {
    /// Checks every field as of `today`, reporting all broken ones.
    pub fn parse(d: &FinishDraft, today: Day) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let id = v.take("repair_id", DocId::parse(&d.id));
        let outcome = match (d.outcome, d.disposal) {
            (1, 0) => Some(Outcome::Repaired),
            (1, _) => {
                v.add("disposal", "is only for an outcome of beyond repair");
                None
            }
            (2, 0) => {
                v.add(
                    "disposal",
                    "is required beyond repair: destroy, auction or recycle",
                );
                None
            }
            (2, n) => v.take(
                "disposal",
                Disposal::from_number(i64::from(n))
                    .map(Outcome::BeyondRepair)
                    .ok_or_else(|| format!("{n} is not a disposal")),
            ),
            (0, _) => {
                v.add("outcome", "is required: repaired or beyond repair");
                None
            }
            (n, _) => {
                v.add("outcome", format!("{n} is not an outcome"));
                None
            }
        };
        let cost_fen = v.take("cost_fen", cost(d.cost_fen));
        let notes = v.take("notes", text::optional(&d.notes, 500));
        let next_due = v.take("next_due_date", next_due_day(d.next_due, today));
        if matches!(outcome, Some(Outcome::BeyondRepair(_))) && d.next_due.is_some() {
            v.add("next_due_date", "is only for a repaired asset");
        }
        let etag = v.take("etag", Etag::parse_optional(&d.etag));
        match (id, outcome, cost_fen, notes, next_due, etag) {
            (Some(id), Some(outcome), Some(cost_fen), Some(notes), Some(next_due), Some(etag))
                if v.is_empty() =>
            {
                Ok(Finish {
                    id,
                    outcome,
                    cost_fen,
                    notes,
                    next_due,
                    etag,
                })
            }
            _ => Err(v),
        }
    }
}

/// What a repair touches, loaded inside the transaction.
#[derive(Clone, Copy, Debug)]
pub struct RepairWorld<'a> {
    /// Item.
    pub item: &'a Item,
    /// The asset.
    pub asset: &'a AssetState,
    /// Its line (depot and lot of the asset).
    pub line: &'a LineState,
    /// The asset's upkeep schedule, if any.
    pub schedule: Option<&'a Schedule>,
    /// Today.
    pub today: Day,
}

/// What is done to a repair.
#[derive(Clone, Copy, Debug)]
pub enum RepairAction<'a> {
    /// Start; `id` names the repair.
    Start(&'a NewRepair, &'a str),
    /// Finish.
    Finish(&'a Finish),
}

/// What a repair's step does: the repair and its entries, a scrap
/// application opened beyond repair, the record kept on finishing, and the
/// asset's condition afterwards.
#[derive(Clone, Debug, PartialEq)]
pub struct RepairPlan {
    /// The repair as it becomes, and its entries.
    pub repair: DocPlan<Repair>,
    /// A new scrap application and its entries (beyond repair).
    pub scrap: Option<DocPlan<ScrapApplication>>,
    /// The repair record (on finishing).
    pub record: Option<Record>,
    /// The asset's condition afterwards.
    pub condition: Condition,
}

fn refuse(w: &RepairWorld<'_>, why: &'static str, reason: &'static str) -> StockError {
    StockError::AssetNotRepairable {
        item: w.item.id.to_string(),
        serial: w.asset.serial.to_string(),
        state: match &w.asset.holder {
            Some(h) => format!("{} by {}", w.asset.status.name(), h.name()),
            None => format!("{} at {}", w.asset.status.name(), w.asset.depot),
        },
        why,
        reason,
    }
}

fn start(
    n: &NewRepair,
    id: &str,
    acting: Acting<'_>,
    w: &RepairWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<RepairPlan, StockError> {
    if w.item.tracking != Tracking::Serial {
        return Err(StockError::Invalid(Violations::one(
            "item_id",
            format!(
                "{} is tracked by lot; repairs are for serial-numbered equipment",
                w.item.id
            ),
        )));
    }
    let a = w.asset;
    if a.depot != n.depot || !a.status.on_hand() {
        return Err(refuse(
            w,
            "only an asset in the depot can be sent for repair",
            "ASSET_NOT_IN_DEPOT",
        ));
    }
    let delta = match (a.status, &a.holder) {
        (AssetStatus::InStock, None) => Delta::doc_held(1),
        (AssetStatus::Held, None) => Delta {
            doc_held: 1,
            ..Delta::default()
        },
        (AssetStatus::UnderRepair, _) => {
            return Err(refuse(
                w,
                "it is already under repair",
                "ALREADY_UNDER_REPAIR",
            ));
        }
        (AssetStatus::Reserved, _) => {
            return Err(refuse(
                w,
                "cancel or dispatch the allocation order that reserves it first",
                "ASSET_RESERVED",
            ));
        }
        _ => {
            return Err(refuse(
                w,
                "only the document holding it may release it; decide that document first",
                "HELD_BY_DOCUMENT",
            ));
        }
    };
    if w.line.balance.check(delta).is_err() {
        return Err(StockError::DocumentUnitsMissing {
            document: format!("assets/{}", a.serial),
            lot: w.line.lot.number.as_str().to_string(),
        });
    }
    let repair = Repair {
        id: id.to_string(),
        depot: n.depot.clone(),
        item: n.item.clone(),
        lot: w.line.lot.id.clone(),
        lot_number: w.line.lot.number.clone(),
        serial: a.serial.clone(),
        fault: n.fault.clone(),
        status: RepairStatus::Open,
        started_by: acting.who.to_string(),
        started_at: acting.now,
        finished_by: None,
        finished_at: None,
        cost_fen: 0,
        notes: String::new(),
        hold_entry_id: String::new(),
        final_entry_id: None,
        scrap_application: None,
        version: 1,
    };
    let entry = EntryDraft::new(
        new_id(),
        EntryType::Hold,
        &n.depot,
        &w.line.lot,
        delta,
        acting.now,
    )
    .reason(format!("hold: under repair ({id}): {}", n.fault))
    .owned_by(&repair.doc_ref())
    .serials(vec![a.serial.clone()]);
    Ok(RepairPlan {
        repair: DocPlan::new(
            Repair {
                hold_entry_id: entry.id.clone(),
                ..repair
            },
            vec![entry],
        ),
        scrap: None,
        record: None,
        condition: Condition::NeedsRepair,
    })
}

fn finish(
    r: &Repair,
    f: &Finish,
    acting: Acting<'_>,
    w: &RepairWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<RepairPlan, StockError> {
    acting.check_etag(DocKind::Repair, &r.id, r.version)?;
    let me = r.doc_ref();
    let missing = || StockError::DocumentUnitsMissing {
        document: me.name(),
        lot: r.lot_number.as_str().to_string(),
    };
    if !(w.asset.depot == r.depot
        && w.asset.status == AssetStatus::UnderRepair
        && w.asset.holder.as_ref() == Some(&me))
    {
        return Err(missing());
    }
    let (status, delta, result, condition) = match f.outcome {
        Outcome::Repaired => (
            RepairStatus::Repaired,
            Delta::doc_held(-1),
            UpkeepResult::Pass,
            Condition::Good,
        ),
        Outcome::BeyondRepair(_) => (
            RepairStatus::BeyondRepair,
            Delta {
                doc_held: -1,
                ..Delta::default()
            },
            UpkeepResult::Fail,
            Condition::Unserviceable,
        ),
    };
    let after = w.line.balance.check(delta).map_err(|_| missing())?;
    let verb = match f.outcome {
        Outcome::Repaired => "repaired",
        Outcome::BeyondRepair(_) => "beyond repair",
    };
    let release = EntryDraft::new(
        new_id(),
        EntryType::Release,
        &r.depot,
        &w.line.lot,
        delta,
        acting.now,
    )
    .reason(format!("release: repair {} ended, {verb}", r.id))
    .owned_by(&me)
    .serials(vec![r.serial.clone()]);
    let scrap = match f.outcome {
        Outcome::Repaired => None,
        Outcome::BeyondRepair(disposal) => {
            // The application takes over the unit the release left held by
            // no document, exactly as when a keeper applies for it.
            let line = LineState {
                balance: after,
                ..w.line.clone()
            };
            let asset = AssetState {
                status: AssetStatus::Held,
                holder: None,
                ..w.asset.clone()
            };
            let new = NewScrap {
                depot: r.depot.clone(),
                item: r.item.clone(),
                lot_number: r.lot_number.clone(),
                quantity: 1,
                serials: vec![r.serial.clone()],
                reason: format!("beyond repair (repair {}): {}", r.id, r.fault),
                disposal,
            };
            let id = new_id();
            let world = ScrapWorld {
                item: w.item,
                line: &line,
                assets: std::slice::from_ref(&asset),
            };
            Some(scrap_transition(
                None,
                ScrapAction::Apply(&new, &id),
                acting,
                &world,
                new_id,
            )?)
        }
    };
    let record = Record {
        id: new_id(),
        depot: r.depot.clone(),
        item: r.item.clone(),
        serial: Some(r.serial.clone()),
        kind: UpkeepKind::Repair,
        day: w.today,
        result,
        condition: Some(condition),
        cost_fen: f.cost_fen,
        notes: if f.notes.is_empty() {
            r.fault.clone()
        } else {
            f.notes.clone()
        },
        next_due: sets_next_due(f.next_due, result, w.today, w.schedule),
        repair: Some(r.id.clone()),
        recorded_by: acting.who.to_string(),
        recorded_at: acting.now,
    };
    let repair = Repair {
        status,
        finished_by: Some(acting.who.to_string()),
        finished_at: Some(acting.now),
        cost_fen: f.cost_fen,
        notes: f.notes.clone(),
        final_entry_id: Some(release.id.clone()),
        scrap_application: scrap.as_ref().map(|s| s.doc.id.clone()),
        version: r.version + 1,
        ..r.clone()
    };
    Ok(RepairPlan {
        repair: DocPlan::new(repair, vec![release]),
        scrap,
        record: Some(record),
        condition,
    })
}

/// The one transition function of repairs: what `action` does to `current`
/// (none for a new repair) in `world`, by `acting`. Who may act is
/// [`crate::authz::maintenance::maintainer`].
pub fn repair_transition(
    current: Option<&Repair>,
    action: RepairAction<'_>,
    acting: Acting<'_>,
    world: &RepairWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<RepairPlan, StockError> {
    match (current, action) {
        (None, RepairAction::Start(n, id)) => start(n, id, acting, world, new_id),
        (Some(r), RepairAction::Finish(f)) if r.status == RepairStatus::Open => {
            finish(r, f, acting, world, new_id)
        }
        (Some(r), RepairAction::Finish(_)) => Err(invalid_transition(
            DocKind::Repair,
            &r.id,
            r.status.name(),
            "finished again",
        )),
        (Some(r), RepairAction::Start(..)) => Err(invalid_transition(
            DocKind::Repair,
            &r.id,
            r.status.name(),
            "started again",
        )),
        (None, RepairAction::Finish(f)) => Err(StockError::DocumentNotFound {
            kind: DocKind::Repair.collection(),
            id: f.id.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests;
