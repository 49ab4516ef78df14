//! Repairs hold their asset: nothing but the repair's end releases it, and
//! beyond repair it goes to a scrap application the owning tier decides.

use super::*;
use crate::allocation::{
    approve as approve_order, dispatcher as orders_of, line as order_line, raise, submit, transfer,
};
use reserve_tests::reason;
use tonic::Code;

fn one(serial: &str) -> Vec<String> {
    vec![serial.to_string()]
}

/// (on hand, held, held by documents, available) of lot GEN-A at 竹山县.
async fn gen_line(app: &TestApp) -> (i64, i64, i64, i64) {
    let l = app
        .stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: ZS.into(),
            item_id: GEN.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .remove(0);
    (l.on_hand, l.held, l.held_by_documents, l.available)
}

#[tokio::test]
async fn an_asset_under_repair_is_released_by_nothing_but_the_end_of_its_repair() {
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2", "G-3"]).await;
    let mut k = keeper(&app);
    let started = k.start_repair(start("G-1")).await.unwrap().into_inner();
    let repair = started.repair.unwrap();
    let hold = started.entry.unwrap();
    assert_eq!(repair.status, pb::RepairStatus::Open as i32);
    assert_eq!(hold.owner, format!("repairs/{}", repair.id));
    assert_eq!(
        asset(&app, "G-1").await,
        (
            pb::AssetStatus::UnderRepair,
            format!("repairs/{}", repair.id)
        )
    );
    assert_eq!(gen_line(&app).await, (3, 1, 1, 2));
    app.assert_ledger_consistent().await;

    let e = k.start_repair(start("G-1")).await.unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("ALREADY_UNDER_REPAIR"), "{e:?}");
    let before = app.stock_fingerprint(ZS).await;
    let mut s = app.keeper("keeper@ZS", ZS);
    let refused = |r: Result<(), tonic::Status>, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.code(), Code::FailedPrecondition, "{what}: {e:?}");
    };
    refused(
        s.issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: GEN.into(),
            serial_numbers: one("G-1"),
            purpose: pb::IssuePurpose::Incident as i32,
            recipient: "安置点".into(),
            override_reserve_minimum: true,
            override_reason: "应急".into(),
            override_upkeep_overdue: true,
            upkeep_override_reason: "应急".into(),
            ..Default::default()
        })
        .await
        .map(drop),
        "issue",
    );
    refused(
        s.release_stock(pb::ReleaseStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: GEN.into(),
            lot_number: "GEN-A".into(),
            serial_numbers: one("G-1"),
            reason: "修好了".into(),
            ..Default::default()
        })
        .await
        .map(drop),
        "release",
    );
    refused(
        s.hold_stock(pb::HoldStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: GEN.into(),
            lot_number: "GEN-A".into(),
            serial_numbers: one("G-1"),
            reason: pb::HoldReason::Damage as i32,
            note: "再扣".into(),
            ..Default::default()
        })
        .await
        .map(drop),
        "hold",
    );
    refused(
        s.reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: hold.id.clone(),
            reason: "录错".into(),
        })
        .await
        .map(drop),
        "reversal",
    );
    refused(
        s.create_scrap_application(pb::CreateScrapApplicationRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: GEN.into(),
            lot_number: "GEN-A".into(),
            serial_numbers: one("G-1"),
            reason: "报废".into(),
            disposal: pb::Disposal::Destroy as i32,
            ..Default::default()
        })
        .await
        .map(drop),
        "scrap application",
    );
    assert_eq!(app.stock_fingerprint(ZS).await, before);

    // A count that finds it at the repair bench, not on the rack, posts nothing.
    let mut other = app.keeper("keeper2@ZS", ZS);
    let count = s
        .open_stock_count(pb::OpenStockCountRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_ids: vec![GEN.into()],
            note: "月度盘点".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    s.record_count_lines(pb::RecordCountLinesRequest {
        request_id: rid(),
        count_id: count.id.clone(),
        lines: vec![pb::CountedLine {
            item_id: GEN.into(),
            lot_number: "GEN-A".into(),
            counted: 0,
            serial_numbers: vec!["G-2".into(), "G-3".into()],
        }],
        etag: String::new(),
    })
    .await
    .unwrap();
    s.submit_stock_count(pb::SubmitStockCountRequest {
        request_id: rid(),
        count_id: count.id.clone(),
        etag: String::new(),
    })
    .await
    .unwrap();
    let done = other
        .approve_stock_count(pb::ApproveStockCountRequest {
            request_id: rid(),
            count_id: count.id,
            note: "复核".into(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        done.entries.is_empty(),
        "nothing is missing: {:?}",
        done.entries
    );
    assert_eq!(asset(&app, "G-1").await.0, pb::AssetStatus::UnderRepair);

    // An emergency order for all three finds two; for two, it takes the others.
    let mut d = orders_of(&app, "dispatcher@ZS", ZS);
    let order = raise(
        &mut d,
        transfer(
            pb::AllocationPriority::Emergency,
            "HB-SY-ZS-01",
            vec![order_line(GEN, 3, &[(ZS, 3)])],
        ),
    )
    .await;
    let refused_order = match submit(&mut d, &order.id).await {
        Err(e) => e,
        Ok(_) => approve_order(&mut d, &order.id).await.unwrap_err(),
    };
    assert_eq!(
        refused_order.code(),
        Code::FailedPrecondition,
        "{refused_order:?}"
    );
    let order = raise(
        &mut d,
        transfer(
            pb::AllocationPriority::Emergency,
            "HB-SY-ZS-01",
            vec![order_line(GEN, 2, &[(ZS, 2)])],
        ),
    )
    .await;
    submit(&mut d, &order.id).await.unwrap();
    approve_order(&mut d, &order.id).await.unwrap();
    assert_eq!(asset(&app, "G-2").await.0, pb::AssetStatus::Reserved);
    assert_eq!(asset(&app, "G-1").await.0, pb::AssetStatus::UnderRepair);
    app.assert_ledger_consistent().await;

    // Its own end releases it, with the cost and a fresh due date.
    let done = k
        .finish_repair(repaired(&repair.id, 35_000))
        .await
        .unwrap()
        .into_inner();
    let r = done.repair.unwrap();
    assert_eq!(
        (r.status, r.cost_fen),
        (pb::RepairStatus::Repaired as i32, 35_000)
    );
    assert_eq!(
        asset(&app, "G-1").await,
        (pb::AssetStatus::InStock, String::new())
    );
    let rec = done.record.unwrap();
    assert_eq!(rec.kind, pb::UpkeepKind::Repair as i32);
    assert_eq!(rec.result, pb::UpkeepResult::Pass as i32);
    // Repaired on 2026-11-28; the catalogue's 21 days start again.
    assert_eq!(ymd(&rec.next_due_date), "2026-12-19");
    let e = k.finish_repair(repaired(&repair.id, 0)).await.unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("INVALID_STATE_TRANSITION"));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_generator_beyond_repair_goes_to_a_scrap_application_that_the_owning_tier_approves() {
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2"]).await;
    let mut k = keeper(&app);
    let repair = k
        .start_repair(start("G-2"))
        .await
        .unwrap()
        .into_inner()
        .repair
        .unwrap();
    let done = k
        .finish_repair(pb::FinishRepairRequest {
            request_id: rid(),
            repair_id: repair.id.clone(),
            outcome: pb::RepairOutcome::BeyondRepair as i32,
            cost_fen: 8_000,
            notes: "缸体开裂".into(),
            disposal: pb::Disposal::Recycle as i32,
            etag: repair.etag.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let r = done.repair.unwrap();
    let application = done.scrap_application.unwrap();
    assert_eq!(r.status, pb::RepairStatus::BeyondRepair as i32);
    assert_eq!(r.scrap_application_id, application.id);
    assert_eq!(application.status, pb::ApprovalStatus::Pending as i32);
    assert_eq!(done.entries.len(), 2);
    assert_eq!(
        asset(&app, "G-2").await,
        (
            pb::AssetStatus::Held,
            format!("scrapApplications/{}", application.id)
        )
    );
    app.assert_ledger_consistent().await;
    // The keeper who applied cannot decide; the county's dispatcher does.
    app.stock(&app.token(&[Role::Dispatcher], ZS))
        .approve_scrap_application(pb::ApproveScrapApplicationRequest {
            request_id: rid(),
            application_id: application.id,
            note: "同意回收".into(),
            etag: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(asset(&app, "G-2").await.0, pb::AssetStatus::Scrapped);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_repair_open_longer_than_the_configured_days_is_listed_as_overdue() {
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2"]).await;
    let mut k = keeper(&app);
    let repair = k
        .start_repair(start("G-1"))
        .await
        .unwrap()
        .into_inner()
        .repair
        .unwrap();
    let overdue = |m: &mut Maint| {
        let mut m = m.clone();
        async move {
            m.list_repairs(pb::ListRepairsRequest {
                depot_code: ZS.into(),
                overdue_only: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .repairs
        }
    };
    assert!(overdue(&mut k).await.is_empty());
    app.clock.advance_days(30);
    assert!(
        overdue(&mut k).await.is_empty(),
        "30 days is not longer than 30"
    );
    app.clock.advance_days(1);
    let listed = overdue(&mut k).await;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].days_open, listed[0].overdue), (31, true));
    let e = k
        .list_repairs(pb::ListRepairsRequest {
            depot_code: ZS.into(),
            open_longer_than_days: 40,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(e.repairs.is_empty());
    let got = app
        .maintenance(&app.token(&[Role::Auditor], CITY))
        .get_repair(pb::GetRepairRequest {
            repair_id: repair.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .repair
        .unwrap();
    assert_eq!(got.serial_number, "G-1");
    k.finish_repair(repaired(&repair.id, 0)).await.unwrap();
    assert!(overdue(&mut k).await.is_empty());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_damaged_unit_held_by_no_document_can_go_for_repair_and_comes_back_in_stock() {
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2"]).await;
    app.keeper("keeper@ZS", ZS)
        .hold_stock(pb::HoldStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: GEN.into(),
            lot_number: "GEN-A".into(),
            serial_numbers: one("G-2"),
            reason: pb::HoldReason::Damage as i32,
            note: "运输途中磕碰".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(gen_line(&app).await, (2, 1, 0, 1));
    let mut k = keeper(&app);
    let repair = k
        .start_repair(start("G-2"))
        .await
        .unwrap()
        .into_inner()
        .repair
        .unwrap();
    // Still one held unit, now the repair's.
    assert_eq!(gen_line(&app).await, (2, 1, 1, 1));
    app.assert_ledger_consistent().await;
    k.finish_repair(repaired(&repair.id, 1_200)).await.unwrap();
    assert_eq!(gen_line(&app).await, (2, 0, 0, 2));
    assert_eq!(
        asset(&app, "G-2").await,
        (pb::AssetStatus::InStock, String::new())
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
