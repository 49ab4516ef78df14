//! Stock journeys of a depot keeper, over real gRPC, each ending with the
//! ledger integrity check.

use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, date, reason, rid, violated_fields};
use tonic::Code;

type Stock = StockServiceClient<Authed>;

const ZS: &str = "HB-SY-ZS";

fn receipt(
    item: &str,
    lot: &str,
    qty: i64,
    expiry: Option<(i32, i32, i32)>,
) -> pb::ReceiveStockRequest {
    pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        lot_number: lot.into(),
        expiry_date: expiry.and_then(|(y, m, d)| date(y, m, d)),
        quantity: qty,
        document: "RK-2026-001".into(),
        counterparty: "湖北某供应商".into(),
        ..Default::default()
    }
}

async fn receive(
    k: &mut Stock,
    item: &str,
    lot: &str,
    qty: i64,
    expiry: Option<(i32, i32, i32)>,
) -> pb::ReceiveStockResponse {
    k.receive_stock(receipt(item, lot, qty, expiry))
        .await
        .unwrap()
        .into_inner()
}

fn issue_req(item: &str, qty: i64, lot: &str) -> pb::IssueStockRequest {
    pb::IssueStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        quantity: qty,
        lot_number: lot.into(),
        purpose: pb::IssuePurpose::Incident as i32,
        recipient: "2026年竹山县洪涝灾害".into(),
        ..Default::default()
    }
}

/// (lot number, on hand, held, available) of an item at 竹山县, by FEFO.
async fn lines(k: &mut Stock, item: &str) -> Vec<(String, i64, i64, i64)> {
    k.list_stock(pb::ListStockRequest {
        depot_code: ZS.into(),
        item_id: item.into(),
        include_empty: true,
        page_size: 1000,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .lines
    .into_iter()
    .map(|l| (l.lot.unwrap().lot_number, l.on_hand, l.held, l.available))
    .collect()
}

#[tokio::test]
async fn issues_go_first_expired_first_out_and_never_touch_an_expired_lot() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    receive(&mut k, "food-instant", "W-LATE", 40, Some((2027, 9, 1))).await;
    receive(&mut k, "food-instant", "W-SOON", 10, Some((2027, 1, 10))).await;
    receive(&mut k, "food-instant", "W-MID", 20, Some((2027, 3, 1))).await;

    let r = k
        .issue_stock(issue_req("food-instant", 25, ""))
        .await
        .unwrap()
        .into_inner();
    let taken: Vec<_> = r
        .entries
        .iter()
        .map(|e| (e.lot_number.as_str(), e.quantity))
        .collect();
    assert_eq!(taken, vec![("W-SOON", -10), ("W-MID", -15)]);
    assert!(
        r.entries
            .iter()
            .all(|e| e.entry_type == pb::EntryType::Issue as i32)
    );

    // 2027-01-10 comes: W-SOON (now empty) and W-MID are fine; move to 2027-03-01,
    // the day W-MID expires: it is expired on its expiry date and never picked.
    app.clock.set(reserve_tests::T0 + 93 * 86_400_000);
    let l = lines(&mut k, "food-instant").await;
    assert_eq!(
        l[1],
        ("W-MID".to_string(), 5, 0, 0),
        "expired lots are not available: {l:?}"
    );
    let r = k
        .issue_stock(issue_req("food-instant", 3, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.entries[0].lot_number, "W-LATE");
    let err = k
        .issue_stock(issue_req("food-instant", 1, "W-MID"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err).as_deref(), Some("LOT_EXPIRED"));
    let err = k
        .issue_stock(issue_req("food-instant", 38, ""))
        .await
        .unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("INSUFFICIENT_STOCK"),
        "5 expired units do not count"
    );

    // Receiving an expired lot is refused; so is an expiry that disagrees with the lot.
    let err = k
        .receive_stock(receipt("food-instant", "W-OLD", 5, Some((2027, 2, 1))))
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("LOT_EXPIRED"));
    let err = k
        .receive_stock(receipt("food-instant", "W-LATE", 5, Some((2027, 10, 1))))
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("LOT_MISMATCH"));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_retried_receipt_posts_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    let req = receipt("quilt-cotton", "Q-2026-07", 300, Some((2031, 7, 1)));
    let first = k.receive_stock(req.clone()).await.unwrap().into_inner();
    let again = k.receive_stock(req.clone()).await.unwrap().into_inner();
    assert_eq!(first, again);
    assert_eq!(
        lines(&mut k, "quilt-cotton").await,
        vec![("Q-2026-07".into(), 300, 0, 300)]
    );
    let ledger = k
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            depot_code: ZS.into(),
            item_id: "quilt-cotton".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ledger.entries.len(), 1);
    assert_eq!(ledger.entries[0].request_id, req.request_id);
    let mut changed = req.clone();
    changed.quantity = 301;
    let err = k.receive_stock(changed).await.unwrap_err();
    assert_eq!(violated_fields(&err), vec!["request_id"]);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_count_posts_counted_minus_on_hand_at_recording_and_keeps_later_movements() {
    let app = TestApp::with_demo().await;
    let mut k1 = app.keeper("keeper-1", ZS);
    let mut k2 = app.keeper("keeper-2", ZS);
    receive(&mut k1, "quilt-summer", "Q1", 100, Some((2031, 1, 1))).await;
    receive(&mut k1, "tent-36m2", "T1", 30, None).await;

    let count = k1
        .open_stock_count(pb::OpenStockCountRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_ids: vec![],
            note: "2026年度盘点".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    assert_eq!(count.lines.len(), 2);
    let err = k1
        .open_stock_count(pb::OpenStockCountRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("COUNT_IN_PROGRESS"));

    let counted = |item: &str, lot: &str, n: i64| pb::CountedLine {
        item_id: item.into(),
        lot_number: lot.into(),
        counted: n,
        serial_numbers: vec![],
    };
    k1.record_count_lines(pb::RecordCountLinesRequest {
        etag: String::new(),
        request_id: rid(),
        count_id: count.id.clone(),
        lines: vec![counted("quilt-summer", "Q1", 97)],
    })
    .await
    .unwrap();
    // Stock keeps moving during the count: 20 quilts leave after they were
    // counted, 5 tents arrive before they are.
    k1.issue_stock(issue_req("quilt-summer", 20, ""))
        .await
        .unwrap();
    receive(&mut k1, "tent-36m2", "T1", 5, None).await;
    let err = k1
        .submit_stock_count(pb::SubmitStockCountRequest {
            etag: String::new(),
            request_id: rid(),
            count_id: count.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("COUNT_INCOMPLETE"));
    k1.record_count_lines(pb::RecordCountLinesRequest {
        etag: String::new(),
        request_id: rid(),
        count_id: count.id.clone(),
        lines: vec![counted("tent-36m2", "T1", 36)],
    })
    .await
    .unwrap();
    k1.submit_stock_count(pb::SubmitStockCountRequest {
        etag: String::new(),
        request_id: rid(),
        count_id: count.id.clone(),
    })
    .await
    .unwrap();
    let err = k1
        .approve_stock_count(pb::ApproveStockCountRequest {
            etag: String::new(),
            request_id: rid(),
            count_id: count.id.clone(),
            note: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "the submitter cannot approve"
    );
    let done = k2
        .approve_stock_count(pb::ApproveStockCountRequest {
            etag: String::new(),
            request_id: rid(),
            count_id: count.id.clone(),
            note: "复核无误".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let report = done.count.unwrap();
    assert_eq!(report.status, pb::CountStatus::Approved as i32);
    let q = report.lines.iter().find(|l| l.lot_number == "Q1").unwrap();
    assert_eq!(
        (
            q.expected,
            q.on_hand_at_record,
            q.counted,
            q.variance,
            q.on_hand_at_approval
        ),
        (100, Some(100), Some(97), -3, Some(80))
    );
    assert_eq!(q.variance_value_fen, -3 * 12_000);
    let t = report.lines.iter().find(|l| l.lot_number == "T1").unwrap();
    assert_eq!(
        (
            t.expected,
            t.moved_since_snapshot,
            t.on_hand_at_record,
            t.variance
        ),
        (30, 5, Some(35), 1)
    );
    assert_eq!(t.on_hand_at_approval, Some(35));
    assert_eq!(report.total_variance, -2);
    assert_eq!(done.entries.len(), 2);
    assert!(
        done.entries
            .iter()
            .all(|e| e.countersigned_by == "keeper-2" && e.actor == "keeper-1")
    );

    assert_eq!(
        lines(&mut k1, "quilt-summer").await[0].1,
        77,
        "97 counted, then 20 issued"
    );
    assert_eq!(
        lines(&mut k1, "tent-36m2").await[0].1,
        36,
        "5 received, then 36 counted"
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_adjustment_posts_only_with_a_second_signature() {
    let app = TestApp::with_demo().await;
    let mut k1 = app.keeper("keeper-1", ZS);
    let mut k2 = app.keeper("keeper-2", ZS);
    receive(&mut k1, "bed-folding", "B1", 50, None).await;
    let adj = k1
        .create_adjustment(pb::CreateAdjustmentRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "bed-folding".into(),
            lot_number: "B1".into(),
            quantity: -4,
            serial_numbers: vec![],
            reason: "雨水浸泡损坏".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap();
    assert_eq!(adj.status, pb::ApprovalStatus::Pending as i32);
    assert_eq!(
        lines(&mut k1, "bed-folding").await[0].1,
        50,
        "nothing posts before countersigning"
    );
    let approve = |id: &str| pb::ApproveAdjustmentRequest {
        etag: String::new(),
        request_id: rid(),
        adjustment_id: id.into(),
        note: String::new(),
    };
    let err = k1.approve_adjustment(approve(&adj.id)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let other_depot = app.keeper("keeper-fx", "HB-SY-FX");
    let err = other_depot
        .clone()
        .approve_adjustment(approve(&adj.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let done = k2
        .approve_adjustment(approve(&adj.id))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.entry.as_ref().unwrap().countersigned_by, "keeper-2");
    assert_eq!(done.line.as_ref().unwrap().on_hand, 46);
    let err = k2.approve_adjustment(approve(&adj.id)).await.unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("INVALID_STATE_TRANSITION"));

    // A county dispatcher may countersign too; the author may withdraw instead.
    let adj2 = k1
        .create_adjustment(pb::CreateAdjustmentRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "bed-folding".into(),
            lot_number: "B1".into(),
            quantity: 2,
            serial_numbers: vec![],
            reason: "盘盈".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap();
    let withdrawn = k1
        .reject_adjustment(pb::RejectAdjustmentRequest {
            etag: String::new(),
            request_id: rid(),
            adjustment_id: adj2.id.clone(),
            reason: "录入错误".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap();
    assert_eq!(withdrawn.status, pb::ApprovalStatus::Rejected as i32);
    let too_much = k1
        .create_adjustment(pb::CreateAdjustmentRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "bed-folding".into(),
            lot_number: "B1".into(),
            quantity: -47,
            serial_numbers: vec![],
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&too_much).as_deref(), Some("INSUFFICIENT_STOCK"));
    let listed = app
        .stock(&app.token(&[Role::Dispatcher], "HB-SY"))
        .list_adjustments(pb::ListAdjustmentsRequest {
            depot_code: ZS.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.adjustments.len(), 2);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn scrapping_is_decided_by_the_owning_tier_and_its_units_are_held_meanwhile() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    // City-owned quilts kept at the county depot.
    let mut r = receipt("quilt-cotton", "Q-CITY", 60, Some((2031, 1, 1)));
    r.owning_tier = pb::Tier::City as i32;
    k.receive_stock(r).await.unwrap();
    let app1 = k
        .create_scrap_application(pb::CreateScrapApplicationRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "quilt-cotton".into(),
            lot_number: "Q-CITY".into(),
            quantity: 10,
            serial_numbers: vec![],
            reason: "霉变，质检不合格".into(),
            disposal: pb::Disposal::Destroy as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let app1 = app1.application.unwrap();
    assert_eq!(
        lines(&mut k, "quilt-cotton").await[0],
        ("Q-CITY".into(), 60, 10, 50)
    );
    // The held units cannot be released by the keeper alone.
    let err = k
        .release_stock(pb::ReleaseStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "quilt-cotton".into(),
            lot_number: "Q-CITY".into(),
            quantity: 10,
            reason: "晾晒后完好".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("HELD_BY_DOCUMENT"));
    let decide = |id: &str| pb::ApproveScrapApplicationRequest {
        etag: String::new(),
        request_id: rid(),
        application_id: id.into(),
        note: "同意报废".into(),
    };
    let county = app.stock(&app.token(&[Role::Admin, Role::Dispatcher], ZS));
    let err = county
        .clone()
        .approve_scrap_application(decide(&app1.id))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "the county does not own city stock"
    );
    let err = k
        .approve_scrap_application(decide(&app1.id))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "a depot never writes off alone"
    );
    let city = app.stock(&app.token_for("city-dispatcher", &[Role::Dispatcher], "HB-SY"));
    let done = city
        .clone()
        .approve_scrap_application(decide(&app1.id))
        .await
        .unwrap()
        .into_inner();
    let e = done.entry.unwrap();
    assert_eq!(
        (e.entry_type, e.quantity, e.held_delta),
        (pb::EntryType::Scrap as i32, -10, -10)
    );
    assert_eq!(
        (e.actor.as_str(), e.countersigned_by.as_str()),
        ("keeper-zs", "city-dispatcher")
    );
    assert_eq!(
        lines(&mut k, "quilt-cotton").await[0],
        ("Q-CITY".into(), 50, 0, 50)
    );

    // A rejected application releases its hold.
    let app2 = k
        .create_scrap_application(pb::CreateScrapApplicationRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "quilt-cotton".into(),
            lot_number: "Q-CITY".into(),
            quantity: 5,
            serial_numbers: vec![],
            reason: "疑似受潮".into(),
            disposal: pb::Disposal::Auction as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    city.clone()
        .reject_scrap_application(pb::RejectScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: app2.id.clone(),
            reason: "复检合格".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        lines(&mut k, "quilt-cotton").await[0],
        ("Q-CITY".into(), 50, 0, 50)
    );
    // The hold of an application is not reversed by hand.
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: app2.hold_entry_id.clone(),
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("NOT_REVERSIBLE"));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_mistake_is_corrected_by_a_reversing_entry_never_by_editing() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    let wrong = receive(&mut k, "tent-36m2", "T-9", 200, None)
        .await
        .entry
        .unwrap();
    let rev = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: wrong.id.clone(),
            reason: "数量录错，应为20".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let e = rev.entry.unwrap();
    assert_eq!(
        (e.entry_type, e.quantity),
        (pb::EntryType::Reversal as i32, -200)
    );
    assert_eq!(e.reverses_entry_id, wrong.id);
    assert_eq!(rev.line.unwrap().on_hand, 0);
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: wrong.id.clone(),
            reason: "again".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("NOT_REVERSIBLE"));
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: e.id.clone(),
            reason: "undo the undo".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("NOT_REVERSIBLE"));

    // A receipt whose units were issued since cannot be reversed past zero.
    let r = receive(&mut k, "tent-36m2", "T-10", 20, None)
        .await
        .entry
        .unwrap();
    let issued = k
        .issue_stock(issue_req("tent-36m2", 15, ""))
        .await
        .unwrap()
        .into_inner();
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: r.id.clone(),
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("INSUFFICIENT_STOCK"));
    // The issue can be reversed: the tents were not taken after all.
    k.reverse_entry(pb::ReverseEntryRequest {
        request_id: rid(),
        entry_id: issued.entries[0].id.clone(),
        reason: "车辆未出发".into(),
    })
    .await
    .unwrap();
    assert_eq!(
        lines(&mut k, "tent-36m2").await,
        vec![("T-10".into(), 20, 0, 20), ("T-9".into(), 0, 0, 0)]
    );
    // Another depot's keeper cannot reverse it.
    let err = app
        .keeper("keeper-fx", "HB-SY-FX")
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: r.id.clone(),
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn serialised_equipment_moves_unit_by_unit() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    let mut r = receipt("lighting-tower", "G-2026-A", 0, None);
    r.serial_numbers = vec!["GEN-001".into(), "GEN-002".into(), "GEN-003".into()];
    let got = k.receive_stock(r.clone()).await.unwrap().into_inner();
    assert_eq!(got.line.unwrap().on_hand, 3);
    let mut dup = r.clone();
    dup.request_id = rid();
    let err = k.receive_stock(dup).await.unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("SERIAL_EXISTS"));
    let mut no_serials = receipt("lighting-tower", "G-2026-A", 2, None);
    no_serials.serial_numbers.clear();
    let err = k.receive_stock(no_serials).await.unwrap_err();
    assert_eq!(violated_fields(&err), vec!["serial_numbers"]);

    k.hold_stock(pb::HoldStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "lighting-tower".into(),
        serial_numbers: vec!["GEN-002".into()],
        reason: pb::HoldReason::UnderRepair as i32,
        note: "化油器故障".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let err = k
        .issue_stock(pb::IssueStockRequest {
            serial_numbers: vec!["GEN-002".into()],
            quantity: 0,
            ..issue_req("lighting-tower", 0, "")
        })
        .await
        .unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("SERIAL_NOT_AVAILABLE"),
        "a unit under repair is not issued"
    );
    let out = k
        .issue_stock(issue_req("lighting-tower", 2, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(out.entries[0].serial_numbers, vec!["GEN-001", "GEN-003"]);
    let assets = k
        .list_assets(pb::ListAssetsRequest {
            depot_code: ZS.into(),
            item_id: "lighting-tower".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assets;
    let status: Vec<_> = assets
        .iter()
        .map(|a| (a.serial_number.as_str(), a.status))
        .collect();
    assert_eq!(
        status,
        vec![
            ("GEN-001", pb::AssetStatus::Issued as i32),
            ("GEN-002", pb::AssetStatus::Held as i32),
            ("GEN-003", pb::AssetStatus::Issued as i32),
        ]
    );
    k.reverse_entry(pb::ReverseEntryRequest {
        request_id: rid(),
        entry_id: out.entries[0].id.clone(),
        reason: "未发出".into(),
    })
    .await
    .unwrap();
    let back = k
        .list_assets(pb::ListAssetsRequest {
            depot_code: ZS.into(),
            status: pb::AssetStatus::InStock as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .assets;
    assert_eq!(back.len(), 2);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_issue_below_the_reserve_minimum_needs_an_explicit_override() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    // The demo norm for tents at 竹山县 is minimum 50, target 100.
    receive(&mut k, "tent-12m2", "T1", 80, None).await;
    let err = k
        .issue_stock(issue_req("tent-12m2", 40, ""))
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("BELOW_RESERVE_MINIMUM"));
    k.issue_stock(issue_req("tent-12m2", 30, "")).await.unwrap();
    let mut forced = issue_req("tent-12m2", 10, "");
    forced.override_reserve_minimum = true;
    let err = k.issue_stock(forced.clone()).await.unwrap_err();
    assert_eq!(violated_fields(&err), vec!["override_reason"]);
    forced.override_reason = "县防指紧急调令〔2026〕12号".into();
    let r = k.issue_stock(forced).await.unwrap().into_inner();
    assert!(
        r.entries[0]
            .reason
            .contains("reserve minimum 50 overridden (40 left)"),
        "{}",
        r.entries[0].reason
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn reports_roll_up_by_tier_and_find_expiry_shortfall_and_rotation() {
    let app = TestApp::with_demo().await;
    let mut zs = app.keeper("k-zs", ZS);
    let mut fx = app.keeper("k-fx", "HB-SY-FX");
    let mut city = app.keeper("k-sy", "HB-SY");
    receive(&mut zs, "water-bottled", "W1", 100, Some((2027, 1, 15))).await;
    fx.receive_stock(pb::ReceiveStockRequest {
        depot_code: "HB-SY-FX".into(),
        ..receipt("water-bottled", "W2", 300, Some((2027, 10, 1)))
    })
    .await
    .unwrap();
    city.receive_stock(pb::ReceiveStockRequest {
        depot_code: "HB-SY".into(),
        ..receipt("water-bottled", "W3", 1000, Some((2027, 6, 1)))
    })
    .await
    .unwrap();
    zs.hold_stock(pb::HoldStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "water-bottled".into(),
        lot_number: "W1".into(),
        quantity: 10,
        reason: pb::HoldReason::Damage as i32,
        ..Default::default()
    })
    .await
    .unwrap();

    let dispatcher = app.stock(&app.token(&[Role::Dispatcher], "HB-SY"));
    let r = dispatcher
        .clone()
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: "HB-SY".into(),
            item_id: "water-bottled".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let total = r.total.unwrap();
    assert_eq!(
        (total.on_hand, total.held, total.available),
        (1400, 10, 1390)
    );
    assert_eq!(
        total.near_expiry, 100,
        "W1 expires in 48 days, inside the 60-day window"
    );
    let by_tier: Vec<_> = r
        .tiers
        .iter()
        .map(|t| (t.tier, t.depots, t.states.unwrap().on_hand))
        .collect();
    assert_eq!(
        by_tier,
        vec![
            (pb::Tier::City as i32, 1, 1000),
            (pb::Tier::County as i32, 2, 400)
        ]
    );
    let category = dispatcher
        .clone()
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: "HB-SY".into(),
            category_prefix: "1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(category.total.unwrap().on_hand, 1400);

    let expiring = dispatcher
        .clone()
        .list_expiring_lots(pb::ListExpiringLotsRequest {
            depot_code: "HB-SY".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let lots: Vec<_> = expiring
        .lines
        .iter()
        .map(|l| l.lot.as_ref().unwrap().lot_number.as_str())
        .collect();
    assert_eq!(lots, vec!["W1"]);
    assert_eq!(expiring.lines[0].days_to_expiry, Some(48));
    let within_year = dispatcher
        .clone()
        .list_expiring_lots(pb::ListExpiringLotsRequest {
            depot_code: "HB-SY".into(),
            within_days: 365,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let lots: Vec<_> = within_year
        .lines
        .iter()
        .map(|l| l.lot.as_ref().unwrap().lot_number.as_str())
        .collect();
    assert_eq!(lots, vec!["W1", "W3", "W2"], "soonest expiry first");

    // 竹山县's norm for water is minimum 200, target 500: 90 available.
    let short = dispatcher
        .clone()
        .list_shortfalls(pb::ListShortfallsRequest {
            depot_code: ZS.into(),
            item_id: "water-bottled".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .shortfalls;
    assert_eq!(short.len(), 1);
    assert_eq!(
        (
            short[0].available,
            short[0].below_minimum,
            short[0].short_of_minimum,
            short[0].short_of_target
        ),
        (90, true, 110, 410)
    );

    // W1 should rotate out; the depot is already below its target of 500, so
    // every unit that leaves must be replaced (the rest is the shortfall).
    let rot = dispatcher
        .clone()
        .list_rotation_candidates(pb::ListRotationCandidatesRequest {
            depot_code: "HB-SY".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .candidates;
    assert_eq!(rot.len(), 1);
    assert_eq!((rot[0].quantity, rot[0].replacement_quantity), (90, 90));

    // Expiry moves with the clock: on 2027-01-15 W1 is expired, not near expiry.
    app.clock.set(reserve_tests::T0 + 48 * 86_400_000);
    let r = dispatcher
        .clone()
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: "HB-SY".into(),
            item_id: "water-bottled".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total
        .unwrap();
    assert_eq!((r.expired, r.near_expiry, r.available), (100, 0, 1300));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn keepers_move_stock_only_at_their_own_depot_and_others_only_read_in_scope() {
    let app = TestApp::with_demo().await;
    let before = app.fingerprint().await;
    let refused = [
        (app.keeper("k-fx", "HB-SY-FX"), "keeper of another depot"),
        (app.keeper("k-sy", "HB-SY"), "keeper of the parent depot"),
        (
            app.stock(&app.token(&[Role::Admin], ZS)),
            "admin of the depot",
        ),
        (
            app.stock(&app.token(&[Role::Dispatcher], ZS)),
            "dispatcher of the depot",
        ),
        (app.stock(&app.token(&[Role::Auditor], "HB")), "auditor"),
    ];
    for (mut c, who) in refused {
        let err = c
            .receive_stock(receipt("tent-12m2", "T1", 5, None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{who}");
        let err = c
            .issue_stock(issue_req("tent-12m2", 1, ""))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{who}");
    }
    assert_eq!(app.fingerprint().await, before);
    let mut k = app.keeper("k-zs", ZS);
    receive(&mut k, "tent-12m2", "T1", 5, None).await;
    for (token, ok) in [
        (app.token(&[Role::Auditor], "HB-SY"), true),
        (app.token(&[Role::Finance], ZS), true),
        (app.token(&[Role::Dispatcher], "HB-SY-FX"), false),
        (app.token(&[Role::DepotKeeper], "HB-SY-ZS-01"), false),
    ] {
        let r = app
            .stock(&token)
            .list_stock(pb::ListStockRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await;
        assert_eq!(r.is_ok(), ok, "{r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().code(), Code::PermissionDenied);
        }
    }
    let err = app
        .stock(&app.token(&[Role::Auditor], "HB"))
        .check_ledger_integrity(pb::CheckLedgerIntegrityRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "the integrity check is for admins"
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_stock_requests_name_the_field_and_change_nothing() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("k-zs", ZS);
    receive(&mut k, "tent-12m2", "T1", 5, None).await;
    let before = app.fingerprint().await;
    type Edit = fn(&mut pb::ReceiveStockRequest);
    let cases: Vec<(&str, Edit)> = vec![
        ("request_id", |r| r.request_id.clear()),
        ("depot_code", |r| r.depot_code = "zs".into()),
        ("item_id", |r| r.item_id = "Tent!".into()),
        ("lot_number", |r| r.lot_number = " ".into()),
        ("quantity", |r| r.quantity = 0),
        ("quantity", |r| r.quantity = -3),
        ("expiry_date", |r| r.expiry_date = date(2027, 2, 30)),
        ("production_date", |r| r.production_date = date(1850, 1, 1)),
        ("funding_source", |r| r.funding_source = 9),
        ("owning_tier", |r| r.owning_tier = 7),
        ("serial_numbers[1]", |r| {
            r.serial_numbers = vec!["A1".into(), "A1".into()]
        }),
        ("document", |r| r.document = "单".repeat(65)),
        ("occurred_time", |r| {
            r.occurred_time = Some(prost_types::Timestamp {
                seconds: 4_000_000_000,
                nanos: 0,
            })
        }),
    ];
    for (field, edit) in cases {
        let mut r = receipt("tent-12m2", "T2", 5, None);
        edit(&mut r);
        let err = k.receive_stock(r).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(
            violated_fields(&err).contains(&field.to_string()),
            "{field}: {err:?}"
        );
    }
    let err = k
        .receive_stock(receipt("water-bottled", "W1", 5, None))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&err),
        vec!["expiry_date"],
        "water has a shelf life"
    );
    type IssueEdit = fn(&mut pb::IssueStockRequest);
    let cases: Vec<(&str, IssueEdit)> = vec![
        ("purpose", |r| r.purpose = 0),
        ("recipient", |r| r.recipient.clear()),
        ("quantity", |r| r.quantity = 0),
        ("override_reason", |r| r.override_reserve_minimum = true),
        ("lot_number", |r| r.lot_number = "x".repeat(65)),
    ];
    for (field, edit) in cases {
        let mut r = issue_req("tent-12m2", 1, "");
        edit(&mut r);
        let err = k.issue_stock(r).await.unwrap_err();
        assert!(
            violated_fields(&err).contains(&field.to_string()),
            "{field}: {err:?}"
        );
    }
    let err = k
        .hold_stock(pb::HoldStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "tent-12m2".into(),
            lot_number: "T1".into(),
            quantity: 1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["reason"]);
    let err = k
        .create_adjustment(pb::CreateAdjustmentRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "tent-12m2".into(),
            lot_number: "T1".into(),
            quantity: 0,
            serial_numbers: vec![],
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["quantity", "reason"]);
    let err = k
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: ZS.into(),
            item_id: "tent-12m2".into(),
            category_prefix: "1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["category_prefix"]);
    assert_eq!(app.fingerprint().await, before);
    assert_eq!(
        lines(&mut k, "tent-12m2").await,
        vec![("T1".into(), 5, 0, 5)]
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
