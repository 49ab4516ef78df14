use super::*;
use crate::maintenance::calendar::Interval;
use crate::maintenance::plan::Source;
use crate::stock::Balance;
use crate::stock::entry::AssetPlace;
use crate::stock::testing::{NOW, ids, item, line, today};

fn acting(who: &str) -> Acting<'_> {
    Acting {
        who,
        now: NOW,
        etag: None,
    }
}

fn asset(status: AssetStatus, holder: Option<DocRef>) -> AssetState {
    AssetState {
        serial: SerialNumber::parse("G1").unwrap(),
        lot: LotId("L1".into()),
        depot: DepotCode::parse("HB-SY").unwrap(),
        status,
        holder,
    }
}

fn new_repair() -> NewRepair {
    NewRepair::parse(&RepairDraft {
        depot: "HB-SY".into(),
        item: "water".into(),
        serial: "G1".into(),
        fault: "不能启动".into(),
    })
    .unwrap()
}

fn started(balance: Balance, a: &AssetState) -> Result<RepairPlan, StockError> {
    let it = item(2, 0);
    let mut l = line("L1", None, balance.on_hand);
    l.balance = balance;
    let w = RepairWorld {
        item: &it,
        asset: a,
        line: &l,
        schedule: None,
        today: today(),
    };
    repair_transition(
        None,
        RepairAction::Start(&new_repair(), "R1"),
        acting("k"),
        &w,
        &mut ids(),
    )
}

fn on_hand(n: i64) -> Balance {
    Balance {
        on_hand: n,
        ..Balance::default()
    }
}

#[test]
fn starting_a_repair_holds_the_asset_for_the_repair_alone() {
    let plan = started(on_hand(2), &asset(AssetStatus::InStock, None)).unwrap();
    let e = &plan.repair.entries[0];
    assert_eq!((e.kind, e.delta), (EntryType::Hold, Delta::doc_held(1)));
    let to = &e.assets.as_ref().unwrap().to;
    assert_eq!(to.status, AssetStatus::UnderRepair);
    assert_eq!(to.holder, Some(DocRef::new(DocKind::Repair, "R1")));
    assert_eq!(plan.repair.doc.hold_entry_id, e.id);
    // A damaged unit held by no document is taken over, held unchanged.
    let held = Balance {
        on_hand: 2,
        held: 1,
        ..Balance::default()
    };
    let plan = started(held, &asset(AssetStatus::Held, None)).unwrap();
    assert_eq!(plan.repair.entries[0].delta.held, 0);
    assert_eq!(plan.repair.entries[0].delta.doc_held, 1);
}

#[test]
fn an_asset_reserved_held_by_a_document_or_already_under_repair_is_refused_by_name() {
    let reason = |a: AssetState| match started(on_hand(2), &a).unwrap_err() {
        StockError::AssetNotRepairable { reason, .. } => reason,
        e => panic!("{e}"),
    };
    let order = DocRef::new(DocKind::AllocationOrder, "O1");
    let scrap = DocRef::new(DocKind::ScrapApplication, "S1");
    let lease = DocRef::new(DocKind::Lease, "L1");
    let other = DocRef::new(DocKind::Repair, "R0");
    assert_eq!(
        reason(asset(AssetStatus::Reserved, Some(order))),
        "ASSET_RESERVED"
    );
    assert_eq!(
        reason(asset(AssetStatus::Held, Some(scrap))),
        "HELD_BY_DOCUMENT"
    );
    assert_eq!(
        reason(asset(AssetStatus::UnderRepair, Some(other))),
        "ALREADY_UNDER_REPAIR"
    );
    assert_eq!(
        reason(asset(AssetStatus::OnLease, Some(lease))),
        "ASSET_NOT_IN_DEPOT"
    );
    assert_eq!(
        reason(asset(AssetStatus::Issued, None)),
        "ASSET_NOT_IN_DEPOT"
    );
}

fn open_repair() -> Repair {
    let plan = started(on_hand(2), &asset(AssetStatus::InStock, None)).unwrap();
    plan.repair.doc
}

fn finish_with(outcome: i32, disposal: i32) -> Result<RepairPlan, StockError> {
    let r = open_repair();
    let it = item(2, 0);
    let mut l = line("L1", None, 2);
    l.balance = Balance {
        on_hand: 2,
        held: 1,
        doc_held: 1,
        ..Balance::default()
    };
    let a = asset(AssetStatus::UnderRepair, Some(r.doc_ref()));
    let monthly = Schedule {
        interval: Interval::Months(1),
        kind: UpkeepKind::TestRun,
        source: Source::Catalogue,
    };
    let w = RepairWorld {
        item: &it,
        asset: &a,
        line: &l,
        schedule: Some(&monthly),
        today: today(),
    };
    let f = Finish::parse(
        &FinishDraft {
            id: "R1".into(),
            outcome,
            cost_fen: 35_000,
            disposal,
            ..Default::default()
        },
        today(),
    )
    .unwrap();
    repair_transition(
        Some(&r),
        RepairAction::Finish(&f),
        acting("k2"),
        &w,
        &mut ids(),
    )
}

#[test]
fn a_repaired_asset_goes_back_in_stock_with_a_record_that_resets_its_due_date() {
    let plan = finish_with(1, 0).unwrap();
    let e = &plan.repair.entries[0];
    assert_eq!((e.kind, e.delta), (EntryType::Release, Delta::doc_held(-1)));
    assert_eq!(
        e.assets.as_ref().unwrap().to,
        AssetPlace::free(AssetStatus::InStock)
    );
    assert_eq!(plan.repair.doc.status, RepairStatus::Repaired);
    assert_eq!(plan.repair.doc.cost_fen, 35_000);
    let rec = plan.record.unwrap();
    assert_eq!(
        (rec.kind, rec.result),
        (UpkeepKind::Repair, UpkeepResult::Pass)
    );
    // 2026-11-28 + 1 month.
    assert_eq!(rec.next_due, Day::from_ymd(2026, 12, 28));
    assert!(plan.scrap.is_none());
}

#[test]
fn an_asset_beyond_repair_is_handed_to_a_new_scrap_application_that_holds_it() {
    let plan = finish_with(2, 1).unwrap();
    let release = &plan.repair.entries[0];
    assert_eq!(release.delta.held, 0);
    assert_eq!(release.delta.doc_held, -1);
    assert_eq!(
        release.assets.as_ref().unwrap().to,
        AssetPlace::free(AssetStatus::Held)
    );
    let scrap = plan.scrap.unwrap();
    assert_eq!(scrap.doc.quantity, 1);
    let take = &scrap.entries[0];
    assert_eq!(take.delta.held, 0);
    assert_eq!(take.delta.doc_held, 1);
    let mv = take.assets.as_ref().unwrap();
    assert_eq!(mv.from, Some(AssetPlace::free(AssetStatus::Held)));
    assert_eq!(mv.to.holder, Some(scrap.doc.doc_ref()));
    assert_eq!(
        plan.repair.doc.scrap_application,
        Some(scrap.doc.id.clone())
    );
    assert_eq!(plan.record.unwrap().next_due, None);
    assert_eq!(plan.condition, Condition::Unserviceable);
}

#[test]
fn a_finished_repair_cannot_be_finished_again_and_beyond_repair_needs_a_disposal() {
    let mut r = open_repair();
    r.status = RepairStatus::Repaired;
    let f = Finish::parse(
        &FinishDraft {
            id: "R1".into(),
            outcome: 1,
            ..Default::default()
        },
        today(),
    )
    .unwrap();
    let it = item(2, 0);
    let l = line("L1", None, 2);
    let a = asset(AssetStatus::InStock, None);
    let w = RepairWorld {
        item: &it,
        asset: &a,
        line: &l,
        schedule: None,
        today: today(),
    };
    let e = repair_transition(
        Some(&r),
        RepairAction::Finish(&f),
        acting("k"),
        &w,
        &mut ids(),
    );
    assert!(matches!(e, Err(StockError::InvalidTransition { .. })));
    let v = Finish::parse(
        &FinishDraft {
            id: "R1".into(),
            outcome: 2,
            cost_fen: -1,
            ..Default::default()
        },
        today(),
    )
    .unwrap_err();
    let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
    assert_eq!(f, vec!["disposal", "cost_fen"]);
}
