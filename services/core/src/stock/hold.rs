//! Holds and releases by a keeper: units kept out of what is available
//! (quarantine, damage, repair) and let back in with a reason. A plain
//! release never touches units a document holds.

use super::balance::{Breach, Delta};
use super::document::DocRef;
use super::entry::{AssetPlace, AssetStatus, EntryDraft, EntryType};
use super::error::StockError;
use super::fields;
use super::lot::{LotId, LotNumber, SerialNumber};
use super::pick::{
    AssetState, LineState, Take, insufficient, named_line, serial_takes, tracking_rule,
};
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

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

/// Units of one item at one depot named by a hold or release request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitsDraft {
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
}

/// Units that passed their field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
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
}

impl Units {
    fn parse(d: &UnitsDraft, v: &mut Violations) -> Option<Self> {
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = match d.lot_number.trim() {
            "" => None,
            n => v.take("lot_number", LotNumber::parse(n)),
        };
        let serials = fields::serials("serial_numbers", &d.serials, v);
        let quantity = fields::units("quantity", d.quantity, &serials, v);
        Some(Units {
            depot: depot?,
            item: item?,
            lot_number,
            quantity,
            serials,
        })
    }
}

/// A hold as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldDraft {
    /// The units.
    pub units: UnitsDraft,
    /// Reason number.
    pub reason: i32,
    /// Note.
    pub note: String,
}

/// A hold that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The units.
    pub units: Units,
    /// Why.
    pub reason: HoldReason,
    /// Note.
    pub note: String,
}

impl Hold {
    /// Checks every field rule of a hold, reporting all broken ones.
    pub fn parse(d: &HoldDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let units = Units::parse(&d.units, &mut v);
        let reason = match d.reason {
            0 => {
                v.add("reason", "is required: quarantine, damage or under repair");
                None
            }
            n => v.take(
                "reason",
                HoldReason::from_number(i64::from(n))
                    .ok_or_else(|| format!("{n} is not a hold reason")),
            ),
        };
        let note = v.take("note", text::optional(&d.note, 500));
        match (units, reason, note) {
            (Some(units), Some(reason), Some(note)) if v.is_empty() => Ok(Hold {
                units,
                reason,
                note,
            }),
            _ => Err(v),
        }
    }
}

/// A release as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseDraft {
    /// The units.
    pub units: UnitsDraft,
    /// Why they may be used again.
    pub reason: String,
}

/// A release that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The units.
    pub units: Units,
    /// Why they may be used again.
    pub reason: String,
}

impl Release {
    /// Checks every field rule of a release, reporting all broken ones.
    pub fn parse(d: &ReleaseDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let units = Units::parse(&d.units, &mut v);
        let reason = v.take("reason", text::required(&d.reason, 500));
        match (units, reason) {
            (Some(units), Some(reason)) if v.is_empty() => Ok(Release { units, reason }),
            _ => Err(v),
        }
    }
}

fn entries(
    takes: Vec<Take>,
    kind: EntryType,
    sign: i64,
    depot: &DepotCode,
    reason: &str,
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> Vec<EntryDraft> {
    takes
        .into_iter()
        .map(|t| {
            EntryDraft::new(
                new_id(),
                kind,
                depot,
                &t.lot,
                Delta::held(sign * t.quantity),
                now,
            )
            .reason(reason)
            .serials(t.serials)
        })
        .collect()
}

/// The units of a request as takes from `lines`, each checked against its
/// balance with `delta_of` and `place` for serials.
fn takes_of(
    u: &Units,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    place: &AssetPlace,
) -> Result<Vec<Take>, StockError> {
    tracking_rule(item, &u.serials)?;
    match item.tracking {
        Tracking::Lot => {
            let line = named_line(&u.depot, item, u.lot_number.as_ref(), lines)?;
            Ok(vec![Take {
                lot: line.lot.clone(),
                quantity: u.quantity,
                serials: Vec::new(),
            }])
        }
        Tracking::Serial => serial_takes(
            &u.depot,
            u.lot_number.as_ref(),
            &u.serials,
            assets,
            lines,
            place,
        ),
    }
}

/// Decides a hold: units must be free (neither reserved nor held); expired
/// units may be held, which is how they are quarantined before scrapping.
pub fn plan_hold(
    h: &Hold,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<EntryDraft>, StockError> {
    let u = &h.units;
    let takes = takes_of(
        u,
        item,
        lines,
        assets,
        &AssetPlace::free(AssetStatus::InStock),
    )?;
    for t in &takes {
        let b = lines
            .iter()
            .find(|l| l.lot.id == t.lot.id)
            .map(|l| l.balance)
            .unwrap_or_default();
        if let Err(e) = b.check(Delta::held(t.quantity)) {
            return Err(match e {
                Breach::TooLarge => StockError::BalanceLimit(t.lot.number.as_str().to_string()),
                _ => insufficient(&u.depot, &u.item, Some(&t.lot.number), t.quantity, b.free()),
            });
        }
    }
    let reason = if h.note.is_empty() {
        format!("hold: {}", h.reason.label())
    } else {
        format!("hold: {}: {}", h.reason.label(), h.note)
    };
    Ok(entries(
        takes,
        EntryType::Hold,
        1,
        &u.depot,
        &reason,
        now,
        new_id,
    ))
}

/// Decides a release: units must be held by no document. `holders` names,
/// per lot, the open documents that hold units there (for the refusal).
pub fn plan_release(
    r: &Release,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    holders: &[(LotId, DocRef)],
    now: UtcMillis,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Vec<EntryDraft>, StockError> {
    let u = &r.units;
    let takes = takes_of(u, item, lines, assets, &AssetPlace::free(AssetStatus::Held))?;
    for t in &takes {
        let b = lines
            .iter()
            .find(|l| l.lot.id == t.lot.id)
            .map(|l| l.balance)
            .unwrap_or_default();
        match b.check(Delta::held(-t.quantity)) {
            Ok(_) => {}
            Err(Breach::HeldByDocument { free_held }) => {
                return Err(StockError::HeldByDocument {
                    lot: t.lot.number.as_str().to_string(),
                    free_held,
                    requested: t.quantity,
                    holders: holders
                        .iter()
                        .filter(|(l, _)| *l == t.lot.id)
                        .map(|(_, d)| d.to_string())
                        .collect(),
                });
            }
            Err(_) => {
                return Err(StockError::NotEnoughHeld {
                    lot: t.lot.number.as_str().to_string(),
                    held: b.free_held(),
                    requested: t.quantity,
                });
            }
        }
    }
    let reason = format!("release: {}", r.reason);
    Ok(entries(
        takes,
        EntryType::Release,
        -1,
        &u.depot,
        &reason,
        now,
        new_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::document::DocKind;
    use crate::stock::testing::{NOW, ids, item, line};

    fn units(q: i64) -> UnitsDraft {
        UnitsDraft {
            depot: "HB-SY".into(),
            item: "water".into(),
            lot_number: "Na".into(),
            quantity: q,
            serials: vec![],
        }
    }

    fn hold(q: i64) -> Hold {
        Hold::parse(&HoldDraft {
            units: units(q),
            reason: 2,
            note: "受潮".into(),
        })
        .unwrap()
    }

    fn release(q: i64) -> Release {
        Release::parse(&ReleaseDraft {
            units: units(q),
            reason: "晾晒后完好".into(),
        })
        .unwrap()
    }

    #[test]
    fn only_free_units_are_held_and_only_free_holds_released() {
        let water = item(1, 0);
        let mut l = line("a", None, 10);
        l.balance.reserved = 6;
        let lines = |l: &LineState| vec![l.clone()];
        assert!(plan_hold(&hold(4), &water, &lines(&l), &[], NOW, &mut ids()).is_ok());
        assert!(matches!(
            plan_hold(&hold(5), &water, &lines(&l), &[], NOW, &mut ids()),
            Err(StockError::InsufficientStock { .. })
        ));
        l.balance.held = 3;
        l.balance.doc_held = 2;
        let p = plan_release(&release(1), &water, &lines(&l), &[], &[], NOW, &mut ids()).unwrap();
        assert_eq!(p[0].delta, Delta::held(-1));
        assert_eq!(p[0].reason, "release: 晾晒后完好");
        let holder = DocRef::new(DocKind::ScrapApplication, "S1");
        let err = plan_release(
            &release(2),
            &water,
            &lines(&l),
            &[],
            &[(LotId("a".into()), holder)],
            NOW,
            &mut ids(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, StockError::HeldByDocument { free_held: 1, holders, .. } if holders.len() == 1),
            "{err:?}"
        );
        l.balance.doc_held = 0;
        assert!(matches!(
            plan_release(&release(4), &water, &lines(&l), &[], &[], NOW, &mut ids()),
            Err(StockError::NotEnoughHeld { .. })
        ));
    }

    #[test]
    fn a_release_needs_a_reason_and_a_hold_a_reason_code() {
        let v = Release::parse(&ReleaseDraft {
            units: units(1),
            reason: " ".into(),
        })
        .unwrap_err();
        assert_eq!(v.as_slice()[0].field, "reason");
        let v = Hold::parse(&HoldDraft {
            units: units(0),
            reason: 9,
            note: String::new(),
        })
        .unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(f, vec!["quantity", "reason"]);
    }
}
