//! Upkeep plans, and which one applies to a unit.
//!
//! A plan is set for an item at a depot — it then covers that depot and
//! every depot below it, the nearest plan up the tree winning — or for one
//! asset (item and serial number). What applies to a unit, first found
//! wins: its asset plan, the nearest item plan at its depot or above, the
//! catalogue's upkeep interval (in days, asking for an inspection). A plan
//! is replaced by setting it again and ends when deactivated.

use super::UpkeepKind;
use super::calendar::Interval;
use crate::depot::{DepotCode, DepotPath};
use crate::item::{Item, ItemId};
use crate::stock::SerialNumber;
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// What a plan covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PlanTarget {
    /// An item at a depot and every depot below it.
    Item {
        /// The depot.
        depot: DepotCode,
        /// The item.
        item: ItemId,
    },
    /// One asset.
    Asset {
        /// The item.
        item: ItemId,
        /// Its serial number.
        serial: SerialNumber,
    },
}

impl PlanTarget {
    /// The one key a target is stored under: at most one plan per target.
    pub fn key(&self) -> String {
        match self {
            PlanTarget::Item { depot, item } => format!("depots/{depot}/items/{item}"),
            PlanTarget::Asset { item, serial } => format!("items/{item}/assets/{serial}"),
        }
    }

    /// The item.
    pub fn item(&self) -> &ItemId {
        match self {
            PlanTarget::Item { item, .. } | PlanTarget::Asset { item, .. } => item,
        }
    }
}

/// An upkeep plan as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Id.
    pub id: String,
    /// What it covers.
    pub target: PlanTarget,
    /// How often.
    pub interval: Interval,
    /// The work it asks for.
    pub kind: UpkeepKind,
    /// Notes (what to do, standard followed).
    pub note: String,
    /// Whether it is in force.
    pub active: bool,
    /// Who set it last.
    pub set_by: String,
    /// When.
    pub updated_at: UtcMillis,
    /// Version, from 1.
    pub version: i64,
}

/// A plan as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanDraft {
    /// Depot (item plans).
    pub depot: String,
    /// Item.
    pub item: String,
    /// Serial number (asset plans).
    pub serial: String,
    /// Days between upkeeps.
    pub interval_days: i64,
    /// Months between upkeeps.
    pub interval_months: i64,
    /// Kind number.
    pub kind: i32,
    /// Notes.
    pub note: String,
}

/// A plan that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPlan {
    /// What it covers.
    pub target: PlanTarget,
    /// How often.
    pub interval: Interval,
    /// The work asked for.
    pub kind: UpkeepKind,
    /// Notes.
    pub note: String,
}

impl NewPlan {
    /// Checks every field of a plan, reporting all broken ones. Fields are
    /// named as in `UpkeepPlan` under `plan.`.
    pub fn parse(d: &PlanDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let item = v.take("plan.item_id", ItemId::parse(d.item.trim()));
        let target = match (d.depot.trim(), d.serial.trim()) {
            ("", "") => {
                v.add(
                    "plan.depot_code",
                    "give a depot_code (an item plan) or a serial_number (an asset plan)",
                );
                None
            }
            (depot, "") => v
                .take("plan.depot_code", DepotCode::parse(depot))
                .zip(item.clone())
                .map(|(depot, item)| PlanTarget::Item { depot, item }),
            ("", serial) => v
                .take("plan.serial_number", SerialNumber::parse(serial))
                .zip(item.clone())
                .map(|(serial, item)| PlanTarget::Asset { item, serial }),
            _ => {
                v.add(
                    "plan.serial_number",
                    "give a depot_code or a serial_number, not both",
                );
                None
            }
        };
        let interval = match Interval::parse(d.interval_days, d.interval_months) {
            Ok(i) => Some(i),
            Err((field, e)) => {
                v.add(format!("plan.{field}"), e);
                None
            }
        };
        let kind = v.take("plan.kind", UpkeepKind::parse("kind", d.kind));
        let note = v.take("plan.note", text::optional(&d.note, 500));
        match (target, interval, kind, note) {
            (Some(target), Some(interval), Some(kind), Some(note)) if v.is_empty() => Ok(NewPlan {
                target,
                interval,
                kind,
                note,
            }),
            _ => Err(v),
        }
    }
}

/// Where the schedule of a unit comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// A plan (asset or item plan), by id.
    Plan(String),
    /// The catalogue's upkeep interval.
    Catalogue,
}

/// The schedule that applies to a unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// How often.
    pub interval: Interval,
    /// The work asked for.
    pub kind: UpkeepKind,
    /// Where it comes from.
    pub source: Source,
}

/// Active plans as loaded: item plans with the path of their depot.
#[derive(Clone, Debug, Default)]
pub struct Plans {
    /// Item plans and the path of each plan's depot.
    pub items: Vec<(DepotPath, Plan)>,
    /// Asset plans.
    pub assets: Vec<Plan>,
}

impl Plans {
    /// The schedule of a unit of `item` at a depot at `path` (with `serial`
    /// for an asset): its asset plan, else the nearest item plan at or
    /// above the depot, else the catalogue interval; `None` when none asks
    /// for upkeep.
    pub fn schedule(
        &self,
        item: &Item,
        path: &DepotPath,
        serial: Option<&SerialNumber>,
    ) -> Option<Schedule> {
        let of = |p: &Plan| Schedule {
            interval: p.interval,
            kind: p.kind,
            source: Source::Plan(p.id.clone()),
        };
        if let Some(s) = serial
            && let Some(p) = self.assets.iter().find(|p| {
                p.active
                    && matches!(&p.target, PlanTarget::Asset { item: i, serial: x } if i == &item.id && x == s)
            })
        {
            return Some(of(p));
        }
        let nearest = self
            .items
            .iter()
            .filter(|(at, p)| p.active && p.target.item() == &item.id && at.covers(path))
            .max_by_key(|(at, _)| at.as_str().len());
        if let Some((_, p)) = nearest {
            return Some(of(p));
        }
        (item.upkeep_interval_days > 0).then(|| Schedule {
            interval: Interval::Days(i64::from(item.upkeep_interval_days)),
            kind: UpkeepKind::Inspection,
            source: Source::Catalogue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::testing::item;

    fn code(s: &str) -> DepotCode {
        DepotCode::parse(s).unwrap()
    }

    fn plan(id: &str, target: PlanTarget, interval: Interval) -> Plan {
        Plan {
            id: id.into(),
            target,
            interval,
            kind: UpkeepKind::TestRun,
            note: String::new(),
            active: true,
            set_by: "u".into(),
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn the_asset_plan_wins_then_the_nearest_depot_plan_then_the_catalogue() {
        let mut it = item(2, 0);
        it.upkeep_interval_days = 21;
        let hb = DepotPath::root(&code("HB"));
        let sy = hb.child(&code("HB-SY"));
        let zs = sy.child(&code("HB-SY-ZS"));
        let fx = sy.child(&code("HB-SY-FX"));
        let sn = SerialNumber::parse("G1").unwrap();
        let mut plans = Plans::default();
        assert_eq!(
            plans.schedule(&it, &zs, Some(&sn)).unwrap().interval,
            Interval::Days(21)
        );
        let on = |d: &str| PlanTarget::Item {
            depot: code(d),
            item: it.id.clone(),
        };
        plans
            .items
            .push((hb.clone(), plan("p-hb", on("HB"), Interval::Days(60))));
        plans
            .items
            .push((sy.clone(), plan("p-sy", on("HB-SY"), Interval::Months(1))));
        assert_eq!(
            plans.schedule(&it, &zs, Some(&sn)).unwrap().source,
            Source::Plan("p-sy".into())
        );
        assert_eq!(
            plans.schedule(&it, &hb, None).unwrap().source,
            Source::Plan("p-hb".into())
        );
        plans.assets.push(plan(
            "p-g1",
            PlanTarget::Asset {
                item: it.id.clone(),
                serial: sn.clone(),
            },
            Interval::Days(7),
        ));
        assert_eq!(
            plans.schedule(&it, &zs, Some(&sn)).unwrap().interval,
            Interval::Days(7)
        );
        assert_eq!(
            plans.schedule(&it, &fx, None).unwrap().interval,
            Interval::Months(1)
        );
        plans.items[1].1.active = false;
        assert_eq!(
            plans.schedule(&it, &fx, None).unwrap().interval,
            Interval::Days(60)
        );
        it.upkeep_interval_days = 0;
        assert_eq!(Plans::default().schedule(&it, &fx, None), None);
    }

    #[test]
    fn a_plan_names_a_depot_or_a_serial_number_and_one_interval() {
        let ok = NewPlan::parse(&PlanDraft {
            depot: "HB-SY".into(),
            item: "generator-5kw".into(),
            interval_months: 1,
            kind: 3,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.target.key(), "depots/HB-SY/items/generator-5kw");
        let bad = NewPlan::parse(&PlanDraft {
            depot: "HB-SY".into(),
            serial: "G1".into(),
            item: "x".into(),
            interval_days: 5,
            interval_months: 1,
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<_> = bad.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "plan.item_id",
                "plan.serial_number",
                "plan.interval_months",
                "plan.kind"
            ]
        );
    }
}
