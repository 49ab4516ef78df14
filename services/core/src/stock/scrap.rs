//! Scrap applications (报废申请): a keeper applies, the application holds the
//! units at once — units already held by no document first, then free ones —
//! and the owning tier's decision either scraps them or lets them go back
//! free. Nothing else releases the units meanwhile.

use super::balance::{Breach, Delta};
use super::document::{
    Acting, ApprovalStatus, Decision, DocKind, DocPlan, DocRef, invalid_transition,
};
use super::entry::{AssetPlace, AssetStatus, EntryDraft, EntryType};
use super::error::StockError;
use super::fields;
use super::lot::{LotId, LotNumber, SerialNumber};
use super::pick::{AssetState, LineState, insufficient, serial_takes, tracking_rule};
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

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

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Disposal::Destroy => "destroy",
            Disposal::Auction => "auction",
            Disposal::Recycle => "recycle",
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
    /// Checks the field rules of a scrap application, reporting all broken ones.
    pub fn parse(d: &ScrapDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("item_id", ItemId::parse(d.item.trim()));
        let lot_number = v.take("lot_number", LotNumber::parse(&d.lot_number));
        let serials = fields::serials("serial_numbers", &d.serials, &mut v);
        let quantity = fields::units("quantity", d.quantity, &serials, &mut v);
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
    /// The first hold entry (of units already held, if it took any).
    pub hold_entry_id: String,
    /// The scrap or release entry.
    pub final_entry_id: Option<String>,
    /// Version.
    pub version: i64,
}

impl ScrapApplication {
    /// The reference to this application.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::ScrapApplication, &self.id)
    }

    /// Units it holds now: all of them while pending, none once decided.
    pub fn holding(&self) -> i64 {
        if self.status == ApprovalStatus::Pending {
            self.quantity
        } else {
            0
        }
    }
}

/// What a scrap application touches, loaded inside the transaction: the
/// item, the lot's line at the depot, and the named (or held) assets.
#[derive(Clone, Copy, Debug)]
pub struct ScrapWorld<'a> {
    /// Item.
    pub item: &'a Item,
    /// The line.
    pub line: &'a LineState,
    /// Assets with the application's serial numbers.
    pub assets: &'a [AssetState],
}

/// What is done to a scrap application.
#[derive(Clone, Copy, Debug)]
pub enum ScrapAction<'a> {
    /// Apply; `id` names the application.
    Apply(&'a NewScrap, &'a str),
    /// Approve (scrap the units) or reject (let them go back).
    Decide(&'a Decision),
}

/// The units an application takes from one source: how many, which serial
/// numbers.
type Take = (i64, Vec<SerialNumber>);

/// Splits what an application asks for into units already held by no
/// document (taken over first) and free units (the rest).
fn takes(n: &NewScrap, w: &ScrapWorld<'_>) -> Result<(Take, Take), StockError> {
    let held_place = AssetPlace::free(AssetStatus::Held);
    match w.item.tracking {
        Tracking::Lot => {
            let held = n.quantity.min(w.line.balance.free_held().max(0));
            Ok(((held, Vec::new()), (n.quantity - held, Vec::new())))
        }
        Tracking::Serial => {
            let (held, free): (Vec<SerialNumber>, Vec<SerialNumber>) =
                n.serials.iter().cloned().partition(|s| {
                    w.assets
                        .iter()
                        .any(|a| &a.serial == s && a.is_at(&n.depot, &held_place))
                });
            let pick = |serials: &[SerialNumber], place: &AssetPlace| -> Result<Take, StockError> {
                if serials.is_empty() {
                    return Ok((0, Vec::new()));
                }
                let picked: Vec<SerialNumber> = serial_takes(
                    &n.depot,
                    Some(&n.lot_number),
                    serials,
                    w.assets,
                    std::slice::from_ref(w.line),
                    place,
                )?
                .into_iter()
                .flat_map(|t| t.serials)
                .collect();
                Ok((picked.len() as i64, picked))
            };
            Ok((
                pick(&held, &held_place)?,
                pick(&free, &AssetPlace::free(AssetStatus::InStock))?,
            ))
        }
    }
}

fn apply(
    n: &NewScrap,
    id: &str,
    acting: Acting<'_>,
    w: &ScrapWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<ScrapApplication>, StockError> {
    tracking_rule(w.item, &n.serials)?;
    let ((held, held_serials), (free, free_serials)) = takes(n, w)?;
    // Units already held by no document (damaged, in quarantine) become the
    // application's first: held stays, held by documents goes up; then free
    // units are held for it.
    let over = Delta {
        doc_held: held,
        ..Delta::default()
    };
    let more = Delta::doc_held(free);
    let b = w.line.balance;
    if let Err(breach) = b.check(over).and_then(|after| after.check(more)) {
        return Err(match breach {
            Breach::TooLarge => StockError::BalanceLimit(n.lot_number.as_str().to_string()),
            _ => insufficient(
                &n.depot,
                &n.item,
                Some(&n.lot_number),
                n.quantity,
                b.free() + b.free_held(),
            ),
        });
    }
    let app = ScrapApplication {
        id: id.to_string(),
        depot: n.depot.clone(),
        item: n.item.clone(),
        lot: w.line.lot.id.clone(),
        lot_number: w.line.lot.number.clone(),
        quantity: n.quantity,
        serials: n.serials.clone(),
        reason: n.reason.clone(),
        disposal: n.disposal,
        status: ApprovalStatus::Pending,
        applied_by: acting.who.to_string(),
        applied_at: acting.now,
        decided_by: None,
        decided_at: None,
        decision_note: String::new(),
        hold_entry_id: String::new(),
        final_entry_id: None,
        version: 1,
    };
    let mut entries = Vec::new();
    for (delta, serials, what) in [
        (over, held_serials, "units already held, "),
        (more, free_serials, ""),
    ] {
        if delta.doc_held == 0 {
            continue;
        }
        entries.push(
            EntryDraft::new(
                new_id(),
                EntryType::Hold,
                &n.depot,
                &w.line.lot,
                delta,
                acting.now,
            )
            .reason(format!(
                "hold: {what}pending scrap application {id}: {}",
                n.reason
            ))
            .owned_by(&app.doc_ref())
            .serials(serials),
        );
    }
    Ok(DocPlan {
        doc: ScrapApplication {
            hold_entry_id: entries.first().map(|e| e.id.clone()).unwrap_or_default(),
            ..app
        },
        entries,
        assets: Vec::new(),
    })
}

fn decide(
    a: &ScrapApplication,
    d: &Decision,
    acting: Acting<'_>,
    w: &ScrapWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<ScrapApplication>, StockError> {
    acting.check_etag(DocKind::ScrapApplication, &a.id, a.version)?;
    if a.applied_by == acting.who {
        return Err(StockError::SamePerson {
            action: "scrapping",
            who: acting.who.to_string(),
            what: "application",
        });
    }
    let me = a.doc_ref();
    let missing = || StockError::DocumentUnitsMissing {
        document: me.name(),
        lot: a.lot_number.as_str().to_string(),
    };
    let held_here = AssetPlace {
        status: AssetStatus::Held,
        holder: Some(me.clone()),
    };
    if a.serials.iter().any(|s| {
        !w.assets
            .iter()
            .any(|x| &x.serial == s && x.is_at(&a.depot, &held_here))
    }) {
        return Err(missing());
    }
    let (kind, delta, reason) = match d {
        Decision::Approve { .. } => (
            EntryType::Scrap,
            Delta {
                on_hand: -a.quantity,
                reserved: 0,
                held: -a.quantity,
                doc_held: -a.quantity,
                on_lease: 0,
            },
            format!("scrap ({}): {}", a.disposal.name(), a.reason),
        ),
        Decision::Reject { reason } => (
            EntryType::Release,
            Delta::doc_held(-a.quantity),
            format!("release: scrap application {} rejected: {reason}", a.id),
        ),
    };
    if w.line.balance.check(delta).is_err() {
        return Err(missing());
    }
    let entry = EntryDraft::new(new_id(), kind, &a.depot, &w.line.lot, delta, acting.now)
        .reason(reason)
        .owned_by(&me)
        .signed(&a.applied_by, acting.who)
        .serials(a.serials.clone());
    Ok(DocPlan {
        doc: ScrapApplication {
            status: d.status(),
            decided_by: Some(acting.who.to_string()),
            decided_at: Some(acting.now),
            decision_note: d.note().to_string(),
            final_entry_id: Some(entry.id.clone()),
            version: a.version + 1,
            ..a.clone()
        },
        entries: vec![entry],
        assets: Vec::new(),
    })
}

/// The one transition function of scrap applications: what `action` does
/// to `current` (none for a new application) in `world`, by `acting`. Who
/// may decide is [`crate::authz::stock::scrap_decider`].
pub fn scrap_transition(
    current: Option<&ScrapApplication>,
    action: ScrapAction<'_>,
    acting: Acting<'_>,
    world: &ScrapWorld<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<ScrapApplication>, StockError> {
    match (current.map(|a| (a, a.status)), action) {
        (None, ScrapAction::Apply(n, id)) => apply(n, id, acting, world, new_id),
        (Some((a, ApprovalStatus::Pending)), ScrapAction::Decide(d)) => {
            decide(a, d, acting, world, new_id)
        }
        (Some((a, status)), ScrapAction::Decide(d)) => Err(invalid_transition(
            DocKind::ScrapApplication,
            &a.id,
            status.name(),
            d.verb(),
        )),
        (Some((a, status)), ScrapAction::Apply(..)) => Err(invalid_transition(
            DocKind::ScrapApplication,
            &a.id,
            status.name(),
            "applied for again",
        )),
        (None, ScrapAction::Decide(_)) => Err(StockError::DocumentNotFound {
            kind: DocKind::ScrapApplication.collection(),
            id: String::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::balance::Balance;
    use crate::stock::testing::{NOW, ids, item, line};

    fn acting(who: &str) -> Acting<'_> {
        Acting {
            who,
            now: NOW,
            etag: None,
        }
    }

    fn new_scrap(q: i64) -> NewScrap {
        NewScrap::parse(&ScrapDraft {
            depot: "HB-SY".into(),
            item: "water".into(),
            lot_number: "Na".into(),
            quantity: q,
            serials: vec![],
            reason: "霉变".into(),
            disposal: 1,
        })
        .unwrap()
    }

    #[test]
    fn an_application_holds_its_units_and_only_its_decision_moves_them() {
        let it = item(1, 0);
        let l = line("a", None, 10);
        let w = ScrapWorld {
            item: &it,
            line: &l,
            assets: &[],
        };
        let n = new_scrap(4);
        let p = scrap_transition(
            None,
            ScrapAction::Apply(&n, "S1"),
            acting("k"),
            &w,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(p.entries[0].delta, Delta::doc_held(4));
        assert_eq!(
            p.entries[0].owner.as_ref().unwrap().name(),
            "scrapApplications/S1"
        );
        assert_eq!(p.doc.hold_entry_id, p.entries[0].id);
        let app = p.doc;
        let mut held = l.clone();
        held.balance = Balance {
            on_hand: 10,
            reserved: 0,
            held: 4,
            doc_held: 4,
            on_lease: 0,
        };
        let l = held;
        let w = ScrapWorld {
            item: &it,
            line: &l,
            assets: &[],
        };
        let approve = Decision::Approve {
            note: "同意".into(),
        };
        assert!(matches!(
            scrap_transition(
                Some(&app),
                ScrapAction::Decide(&approve),
                acting("k"),
                &w,
                &mut ids()
            ),
            Err(StockError::SamePerson { .. })
        ));
        let p = scrap_transition(
            Some(&app),
            ScrapAction::Decide(&approve),
            acting("chief"),
            &w,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(p.entries[0].kind, EntryType::Scrap);
        assert_eq!(
            l.balance.apply(p.entries[0].delta).unwrap(),
            Balance {
                on_hand: 6,
                ..Balance::default()
            }
        );
        assert_eq!(p.doc.holding(), 0);
        let reject = Decision::Reject {
            reason: "可修复".into(),
        };
        let p = scrap_transition(
            Some(&app),
            ScrapAction::Decide(&reject),
            acting("chief"),
            &w,
            &mut ids(),
        )
        .unwrap();
        assert_eq!(p.entries[0].delta, Delta::doc_held(-4));
        assert!(matches!(
            scrap_transition(
                Some(&p.doc),
                ScrapAction::Decide(&reject),
                acting("chief"),
                &w,
                &mut ids()
            ),
            Err(StockError::InvalidTransition { .. })
        ));
    }

    #[test]
    fn an_application_takes_units_held_by_no_document_first_then_free_ones() {
        let it = item(1, 0);
        let mut l = line("a", None, 10);
        // 7 held: 5 by nobody in particular (damaged), 2 by another application.
        l.balance.held = 7;
        l.balance.doc_held = 2;
        let w = ScrapWorld {
            item: &it,
            line: &l,
            assets: &[],
        };
        let apply = |q: i64| {
            scrap_transition(
                None,
                ScrapAction::Apply(&new_scrap(q), "S1"),
                acting("k"),
                &w,
                &mut ids(),
            )
        };
        let p = apply(4).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(
            p.entries[0].delta,
            Delta {
                doc_held: 4,
                ..Delta::default()
            }
        );
        let p = apply(8).unwrap();
        let deltas: Vec<Delta> = p.entries.iter().map(|e| e.delta).collect();
        assert_eq!(
            deltas,
            vec![
                Delta {
                    doc_held: 5,
                    ..Delta::default()
                },
                Delta::doc_held(3)
            ]
        );
        assert_eq!(p.doc.hold_entry_id, p.entries[0].id);
        let after = deltas
            .iter()
            .try_fold(l.balance, |b, d| b.apply(*d))
            .unwrap();
        assert_eq!((after.held, after.doc_held, after.free()), (10, 10, 0));
        // Never another document's units.
        assert!(matches!(
            apply(9),
            Err(StockError::InsufficientStock {
                requested: 9,
                available: 8,
                ..
            })
        ));
        // Rejected, the application's units go back free.
        let app = p.doc;
        let mut now = l.clone();
        now.balance = after;
        let w = ScrapWorld {
            item: &it,
            line: &now,
            assets: &[],
        };
        let reject = Decision::Reject {
            reason: "可修复".into(),
        };
        let p = scrap_transition(
            Some(&app),
            ScrapAction::Decide(&reject),
            acting("chief"),
            &w,
            &mut ids(),
        )
        .unwrap();
        let released = after.apply(p.entries[0].delta).unwrap();
        assert_eq!(
            (released.held, released.doc_held, released.free()),
            (2, 2, 8)
        );
    }

    #[test]
    fn an_application_takes_named_serials_held_by_no_document_from_their_hold() {
        use crate::depot::DepotCode;
        let it = item(2, 0);
        let mut l = line("a", None, 3);
        l.balance.held = 2;
        l.balance.doc_held = 1;
        let other = DocRef::new(DocKind::ScrapApplication, "S0");
        let asset = |s: &str, status, holder: Option<DocRef>| AssetState {
            serial: SerialNumber::from_stored(s.into()),
            lot: l.lot.id.clone(),
            depot: DepotCode::from_stored("HB-SY".into()),
            status,
            holder,
        };
        let assets = [
            asset("G1", AssetStatus::Held, None),
            asset("G2", AssetStatus::InStock, None),
            asset("G3", AssetStatus::Held, Some(other)),
        ];
        let w = ScrapWorld {
            item: &it,
            line: &l,
            assets: &assets,
        };
        let apply = |serials: &[&str]| {
            let n = NewScrap::parse(&ScrapDraft {
                serials: serials.iter().map(|s| s.to_string()).collect(),
                quantity: 0,
                ..ScrapDraft {
                    depot: "HB-SY".into(),
                    item: "water".into(),
                    lot_number: "Na".into(),
                    reason: "损坏".into(),
                    disposal: 1,
                    ..Default::default()
                }
            })
            .unwrap();
            scrap_transition(
                None,
                ScrapAction::Apply(&n, "S1"),
                acting("k"),
                &w,
                &mut ids(),
            )
        };
        let p = apply(&["G2", "G1"]).unwrap();
        let me = Some(DocRef::new(DocKind::ScrapApplication, "S1"));
        let moves: Vec<_> = p
            .entries
            .iter()
            .map(|e| {
                let m = e.assets.clone().unwrap();
                (e.serials.clone(), m.from.unwrap().status, m.to.holder)
            })
            .collect();
        let g = |s: &str| vec![SerialNumber::from_stored(s.into())];
        assert_eq!(
            moves,
            vec![
                (g("G1"), AssetStatus::Held, me.clone()),
                (g("G2"), AssetStatus::InStock, me)
            ]
        );
        assert!(matches!(
            apply(&["G3"]),
            Err(StockError::HeldByDocument { .. })
        ));
    }

    #[test]
    fn a_decision_on_units_that_are_gone_says_so_instead_of_retrying_forever() {
        let it = item(1, 0);
        let l = line("a", None, 10);
        let app = ScrapApplication {
            id: "S1".into(),
            depot: DepotCode::from_stored("HB-SY".into()),
            item: it.id.clone(),
            lot: LotId("a".into()),
            lot_number: LotNumber::from_stored("Na".into()),
            quantity: 5,
            serials: vec![],
            reason: "霉变".into(),
            disposal: Disposal::Destroy,
            status: ApprovalStatus::Pending,
            applied_by: "k".into(),
            applied_at: 0,
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            hold_entry_id: "h".into(),
            final_entry_id: None,
            version: 1,
        };
        let w = ScrapWorld {
            item: &it,
            line: &l,
            assets: &[],
        };
        let approve = Decision::Approve {
            note: String::new(),
        };
        assert!(matches!(
            scrap_transition(
                Some(&app),
                ScrapAction::Decide(&approve),
                acting("chief"),
                &w,
                &mut ids()
            ),
            Err(StockError::DocumentUnitsMissing { .. })
        ));
    }
}
