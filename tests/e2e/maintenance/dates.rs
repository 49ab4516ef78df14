//! Due and overdue dates with the injected clock, across interval, month-end
//! and leap-year boundaries; overdue units in roll-ups, shortfalls and the
//! issue guard.

use super::*;
use reserve_tests::{reason, violated_fields};
use tonic::Code;

fn issue(serial: &str, override_reason: Option<&str>) -> pb::IssueStockRequest {
    pb::IssueStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: GEN.into(),
        serial_numbers: vec![serial.into()],
        purpose: pb::IssuePurpose::Incident as i32,
        recipient: "竹山县城关镇安置点".into(),
        override_upkeep_overdue: override_reason.is_some(),
        upkeep_override_reason: override_reason.unwrap_or_default().into(),
        ..Default::default()
    }
}

async fn overdue_in_roll_up_and_shortfall(app: &TestApp) -> (i64, Option<i64>) {
    let mut s = app.stock(&app.token(&[Role::Auditor], CITY));
    let r = s
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: ZS.into(),
            item_id: GEN.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let short = s
        .list_shortfalls(pb::ListShortfallsRequest {
            depot_code: ZS.into(),
            item_id: GEN.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .shortfalls
        .into_iter()
        .find(|x| x.depot_code == ZS)
        .map(|x| x.upkeep_overdue);
    (r.total.unwrap().upkeep_overdue, short)
}

#[tokio::test]
async fn a_generators_monthly_test_run_falls_due_by_the_calendar_and_overdue_ones_need_an_override_to_leave()
 {
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2", "G-3"]).await;
    let mut k = keeper(&app);
    // Received on 2026-11-28; the catalogue asks for an inspection every 21 days.
    let all = |d: &str, late: bool| {
        ["G-1", "G-2", "G-3"]
            .iter()
            .map(|s| (s.to_string(), d.to_string(), late))
            .collect::<Vec<_>>()
    };
    assert_eq!(due(&mut k, 30, false).await, all("2026-12-19", false));
    assert_eq!(due(&mut k, 20, false).await, vec![]);
    // The city sets a monthly test run for every generator in 十堰.
    let plan = city_dispatcher(&app)
        .set_upkeep_plan(item_plan(CITY, GEN, 0, 1, pb::UpkeepKind::TestRun))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert!(plan.active);
    assert_eq!(due(&mut k, 30, false).await, all("2026-12-28", false));
    assert_eq!(overdue_in_roll_up_and_shortfall(&app).await, (0, Some(0)));

    set_day(&app, 2027, 1, 31);
    assert_eq!(due(&mut k, 0, true).await, all("2026-12-28", true));
    assert_eq!(overdue_in_roll_up_and_shortfall(&app).await, (3, Some(3)));
    for s in ["G-1", "G-3"] {
        let r = k
            .record_upkeep(passing(GEN, s, pb::UpkeepKind::TestRun))
            .await
            .unwrap()
            .into_inner();
        // 31 January + 1 month is the last day of February.
        assert_eq!(ymd(&r.unit_next_due_date), "2027-02-28");
        assert_eq!(ymd(&r.record.unwrap().date), "2027-01-31");
    }
    assert_eq!(
        due(&mut k, 0, true).await,
        vec![("G-2".to_string(), "2026-12-28".to_string(), true)]
    );

    // The overdue generator leaves only with an explicit override.
    let before = app.stock_fingerprint(ZS).await;
    let mut stock = app.keeper("keeper@ZS", ZS);
    let e = stock.issue_stock(issue("G-2", None)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(reason(&e).as_deref(), Some("UPKEEP_OVERDUE"));
    assert!(e.message().contains("G-2 (due 2026-12-28)"), "{e:?}");
    assert_eq!(app.stock_fingerprint(ZS).await, before);
    let e = stock
        .issue_stock(pb::IssueStockRequest {
            upkeep_override_reason: String::new(),
            ..issue("G-2", Some("x"))
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&e), vec!["upkeep_override_reason"]);
    stock
        .issue_stock(issue("G-2", Some("汛情紧急，到场后试机")))
        .await
        .unwrap();
    assert_eq!(overdue_in_roll_up_and_shortfall(&app).await, (0, Some(0)));

    // A leap year: 31 January 2028 + 1 month is 29 February.
    set_day(&app, 2028, 1, 31);
    let r = k
        .record_upkeep(passing(GEN, "G-1", pb::UpkeepKind::TestRun))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ymd(&r.unit_next_due_date), "2028-02-29");
    // G-3 gets its own yearly plan; 29 February + 12 months is 28 February.
    city_dispatcher(&app)
        .set_upkeep_plan(pb::SetUpkeepPlanRequest {
            request_id: rid(),
            plan: Some(pb::UpkeepPlan {
                item_id: GEN.into(),
                serial_number: "G-3".into(),
                interval_months: 12,
                kind: pb::UpkeepKind::QualityTest as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    set_day(&app, 2028, 2, 29);
    let r = k
        .record_upkeep(passing(GEN, "G-3", pb::UpkeepKind::QualityTest))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ymd(&r.unit_next_due_date), "2029-02-28");
    // Due today is not yet overdue; the day after it is.
    assert_eq!(
        due(&mut k, 0, false).await,
        vec![("G-1".to_string(), "2028-02-29".to_string(), false)]
    );
    set_day(&app, 2028, 3, 1);
    assert_eq!(
        due(&mut k, 0, true).await,
        vec![("G-1".to_string(), "2028-02-29".to_string(), true)]
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn quilts_are_aired_per_depot_and_item_and_a_record_is_never_dated_in_the_future() {
    let app = TestApp::with_demo().await;
    receive(&app, QUILT, "Q-1", 100, &[]).await;
    let mut k = keeper(&app);
    // The catalogue: every 365 days from receipt on 2026-11-28.
    assert_eq!(
        due(&mut k, 365, false).await,
        vec![(format!("{QUILT}x100"), "2027-11-28".to_string(), false)]
    );
    city_dispatcher(&app)
        .set_upkeep_plan(item_plan(ZS, QUILT, 90, 0, pb::UpkeepKind::Airing))
        .await
        .unwrap();
    assert_eq!(
        due(&mut k, 90, false).await,
        vec![(format!("{QUILT}x100"), "2027-02-26".to_string(), false)]
    );
    set_day(&app, 2027, 3, 1);
    assert_eq!(due(&mut k, 0, true).await.len(), 1);
    let e = k
        .record_upkeep(pb::RecordUpkeepRequest {
            request_id: rid(),
            record: Some(pb::UpkeepRecord {
                date: date(2027, 3, 2),
                serial_number: "Q-0001".into(),
                cost_fen: -1,
                ..passing(QUILT, "", pb::UpkeepKind::Airing).record.unwrap()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&e), vec!["record.date", "record.cost_fen"]);
    let e = k
        .record_upkeep(passing(QUILT, "Q-0001", pb::UpkeepKind::Airing))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&e), vec!["record.serial_number"]);
    let r = k
        .record_upkeep(pb::RecordUpkeepRequest {
            request_id: rid(),
            record: Some(pb::UpkeepRecord {
                cost_fen: 12_000,
                notes: "晾晒两天，未见霉变".into(),
                ..passing(QUILT, "", pb::UpkeepKind::Airing).record.unwrap()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ymd(&r.unit_next_due_date), "2027-05-30");
    assert_eq!(due(&mut k, 0, true).await, vec![]);
    let records = k
        .list_upkeep_records(pb::ListUpkeepRecordsRequest {
            depot_code: ZS.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].cost_fen, records[0].recorded_by.as_str()),
        (12_000, "keeper@ZS")
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn approving_an_order_that_would_reserve_an_overdue_generator_needs_an_override() {
    use crate::allocation::{dispatcher, get, line, raise, state, submit, transfer};
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2", "G-3"]).await;
    // The catalogue's 21 days from 2026-11-28 ran out on 2026-12-19.
    set_day(&app, 2027, 1, 4);
    let mut d = dispatcher(&app, "dispatcher@ZS", ZS);
    let order = raise(
        &mut d,
        transfer(
            pb::AllocationPriority::Urgent,
            "HB-SY-ZS-01",
            vec![line(GEN, 1, &[(ZS, 1)])],
        ),
    )
    .await;
    submit(&mut d, &order.id).await.unwrap();
    let approve = |why: &str| pb::ApproveAllocationOrderRequest {
        request_id: rid(),
        order_id: order.id.clone(),
        note: "同意".into(),
        override_upkeep_overdue: !why.is_empty(),
        upkeep_override_reason: why.into(),
        ..Default::default()
    };
    // Another dispatcher over the source and destination approves.
    let mut chief = dispatcher(&app, "chief@ZS", ZS);
    let before = app.stock_fingerprint(ZS).await;
    let e = chief
        .approve_allocation_order(approve(""))
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("UPKEEP_OVERDUE"), "{e:?}");
    assert!(e.message().contains("G-1 (due 2026-12-19)"), "{e:?}");
    assert_eq!(app.stock_fingerprint(ZS).await, before);
    assert_eq!(
        state(&get(&mut d, &order.id).await),
        pb::AllocationState::Submitted
    );
    chief
        .approve_allocation_order(approve("乡镇点急需，到货后立即试机"))
        .await
        .unwrap();
    assert_eq!(asset(&app, "G-1").await.0, pb::AssetStatus::Reserved);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_approval_reserves_generators_up_to_date_on_their_upkeep_first() {
    use crate::allocation::{dispatcher, line, raise, submit, transfer};
    let app = TestApp::with_demo().await;
    // The county keeps at least 2 generators.
    receive(&app, GEN, "GEN-A", 0, &["G-0", "G-1", "G-2"]).await;
    // GEN-A's 21 days ran out on 2026-12-19; GEN-B arrives fresh.
    set_day(&app, 2027, 1, 4);
    receive(&app, GEN, "GEN-B", 0, &["G-3"]).await;
    let mut d = dispatcher(&app, "dispatcher@ZS", ZS);
    let mut chief = dispatcher(&app, "chief@ZS", ZS);
    let order = |n| {
        transfer(
            pb::AllocationPriority::Urgent,
            "HB-SY-ZS-01",
            vec![line(GEN, n, &[(ZS, n)])],
        )
    };
    let first = raise(&mut d, order(1)).await;
    submit(&mut d, &first.id).await.unwrap();
    // No override needed: the up-to-date G-3 is reserved, though GEN-A
    // would come first by lot order.
    chief
        .approve_allocation_order(pb::ApproveAllocationOrderRequest {
            request_id: rid(),
            order_id: first.id.clone(),
            note: "同意".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(asset(&app, "G-3").await.0, pb::AssetStatus::Reserved);
    assert_eq!(asset(&app, "G-1").await.0, pb::AssetStatus::InStock);
    // A second order can only have an overdue one (3 left, above the
    // minimum): the override is asked for.
    let second = raise(&mut d, order(1)).await;
    submit(&mut d, &second.id).await.unwrap();
    let e = chief
        .approve_allocation_order(pb::ApproveAllocationOrderRequest {
            request_id: rid(),
            order_id: second.id.clone(),
            note: "同意".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("UPKEEP_OVERDUE"), "{e:?}");
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_emergency_dispatched_before_approval_records_the_overdue_units_it_sent() {
    use crate::allocation::{dispatch, dispatcher, keeper, line, raise, submit, transfer};
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-0", "G-1", "G-2"]).await;
    set_day(&app, 2027, 1, 4);
    let mut d = dispatcher(&app, "dispatcher@ZS", ZS);
    let order = raise(
        &mut d,
        transfer(
            pb::AllocationPriority::Emergency,
            "HB-SY-ZS-01",
            vec![line(GEN, 1, &[(ZS, 1)])],
        ),
    )
    .await;
    submit(&mut d, &order.id).await.unwrap();
    // 先调后补: the keeper sends it before approval; upkeep does not hold it up.
    let sent = dispatch(&mut keeper(&app, ZS), &order.id, ZS)
        .await
        .unwrap();
    assert_eq!(sent.state, pb::AllocationState::Dispatched as i32);
    let log = app
        .audit(&app.token(&[Role::Auditor], "HB-SY"))
        .list_audit_events(pb::ListAuditEventsRequest {
            resource: format!("allocationOrders/{}", order.id),
            method: "/reserve.v1.AllocationService/DispatchAllocationOrder".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(log.events.len(), 1);
    let changes = reserve_tests::struct_json(log.events[0].changes.as_ref().unwrap());
    let noted = &changes["upkeep_overdue_overridden"];
    assert_eq!(noted["serials"], serde_json::json!(["G-0"]), "{changes}");
    assert_eq!(noted["reason"], "emergency dispatch before approval");
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
