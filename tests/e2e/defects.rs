//! The ledger defects found from outside (issue 8), each as the journey that
//! showed it. Every test here failed on the code before the fix.

use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, date, depot, reason, rid, violated_fields};
use tonic::Code;

type Stock = StockServiceClient<Authed>;

const ZS: &str = "HB-SY-ZS";

async fn receive(
    k: &mut Stock,
    item: &str,
    lot: &str,
    qty: i64,
    serials: &[&str],
) -> pb::LedgerEntry {
    k.receive_stock(pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        lot_number: lot.into(),
        expiry_date: date(2031, 1, 1),
        quantity: qty,
        serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .entry
    .unwrap()
}

fn hold(item: &str, lot: &str, qty: i64, serials: &[&str]) -> pb::HoldStockRequest {
    pb::HoldStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        lot_number: lot.into(),
        quantity: qty,
        serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
        reason: pb::HoldReason::Damage as i32,
        note: "受潮".into(),
    }
}

fn release(item: &str, lot: &str, qty: i64, serials: &[&str]) -> pb::ReleaseStockRequest {
    pb::ReleaseStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        lot_number: lot.into(),
        quantity: qty,
        serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
        reason: "晾晒后完好".into(),
    }
}

fn scrap(item: &str, lot: &str, qty: i64, serials: &[&str]) -> pb::CreateScrapApplicationRequest {
    pb::CreateScrapApplicationRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        lot_number: lot.into(),
        quantity: qty,
        serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
        reason: "霉变".into(),
        disposal: pb::Disposal::Destroy as i32,
    }
}

/// (on hand, held, available) of one lot at 竹山县.
async fn line(k: &mut Stock, item: &str, lot: &str) -> (i64, i64, i64) {
    let l = k
        .list_stock(pb::ListStockRequest {
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
        .find(|l| l.lot.as_ref().unwrap().lot_number == lot)
        .unwrap();
    (l.on_hand, l.held, l.available)
}

/// The county dispatcher decides scrap applications of county-owned stock.
fn county_dispatcher(app: &TestApp) -> Stock {
    app.stock(&app.token(&[Role::Dispatcher], ZS))
}

#[tokio::test]
async fn a_reversal_cannot_take_units_that_a_scrap_application_holds() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    receive(&mut k, "quilt-cotton", "Q1", 10, &[]).await;
    let held = k
        .hold_stock(hold("quilt-cotton", "Q1", 5, &[]))
        .await
        .unwrap()
        .into_inner()
        .entries
        .remove(0);
    k.release_stock(release("quilt-cotton", "Q1", 5, &[]))
        .await
        .unwrap();
    let application = k
        .create_scrap_application(scrap("quilt-cotton", "Q1", 5, &[]))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: held.id.clone(),
            reason: "录错".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err).as_deref(), Some("HELD_BY_DOCUMENT"));
    assert_eq!(line(&mut k, "quilt-cotton", "Q1").await, (10, 5, 5));
    // The application is still decidable, and only its decision moves the units.
    county_dispatcher(&app)
        .approve_scrap_application(pb::ApproveScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: application.id,
            note: "同意".into(),
        })
        .await
        .unwrap();
    assert_eq!(line(&mut k, "quilt-cotton", "Q1").await, (5, 0, 5));
    app.assert_ledger_consistent().await;

    // Serial numbers the same way.
    receive(&mut k, "generator-5kw", "G1", 0, &["G-1", "G-2"]).await;
    let held = k
        .hold_stock(hold("generator-5kw", "G1", 0, &["G-1"]))
        .await
        .unwrap()
        .into_inner()
        .entries
        .remove(0);
    k.release_stock(release("generator-5kw", "G1", 0, &["G-1"]))
        .await
        .unwrap();
    let application = k
        .create_scrap_application(scrap("generator-5kw", "G1", 0, &["G-1"]))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: held.id,
            reason: "录错".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    county_dispatcher(&app)
        .reject_scrap_application(pb::RejectScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: application.id,
            reason: "可修复".into(),
        })
        .await
        .unwrap();
    assert_eq!(line(&mut k, "generator-5kw", "G1").await, (2, 0, 2));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

async fn open_count(k: &mut Stock, items: &[&str]) -> pb::StockCount {
    k.open_stock_count(pb::OpenStockCountRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_ids: items.iter().map(|s| s.to_string()).collect(),
        note: "月度盘点".into(),
    })
    .await
    .unwrap()
    .into_inner()
    .count
    .unwrap()
}

async fn record(k: &mut Stock, count: &str, item: &str, lot: &str, counted: i64, seen: &[&str]) {
    k.record_count_lines(pb::RecordCountLinesRequest {
        etag: String::new(),
        request_id: rid(),
        count_id: count.into(),
        lines: vec![pb::CountedLine {
            item_id: item.into(),
            lot_number: lot.into(),
            counted,
            serial_numbers: seen.iter().map(|s| s.to_string()).collect(),
        }],
    })
    .await
    .unwrap();
}

async fn submit(k: &mut Stock, count: &str) {
    k.submit_stock_count(pb::SubmitStockCountRequest {
        etag: String::new(),
        request_id: rid(),
        count_id: count.into(),
    })
    .await
    .unwrap();
}

async fn approve(
    k: &mut Stock,
    count: &str,
) -> Result<pb::ApproveStockCountResponse, tonic::Status> {
    k.approve_stock_count(pb::ApproveStockCountRequest {
        etag: String::new(),
        request_id: rid(),
        count_id: count.into(),
        note: "复核".into(),
    })
    .await
    .map(|r| r.into_inner())
}

#[tokio::test]
async fn a_serial_count_treats_assets_held_by_a_scrap_application_as_present() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    receive(&mut a, "generator-5kw", "G1", 0, &["G-1", "G-2", "G-3"]).await;
    let application = a
        .create_scrap_application(scrap("generator-5kw", "G1", 0, &["G-3"]))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    let count = open_count(&mut a, &["generator-5kw"]).await;
    // The scrapped generator sits in the quarantine corner; the keeper lists what is on the rack.
    record(&mut a, &count.id, "generator-5kw", "G1", 0, &["G-1", "G-2"]).await;
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    assert!(
        done.entries.is_empty(),
        "nothing is missing: {:?}",
        done.entries
    );
    assert_eq!(line(&mut a, "generator-5kw", "G1").await, (3, 1, 2));
    county_dispatcher(&app)
        .approve_scrap_application(pb::ApproveScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: application.id,
            note: "同意".into(),
        })
        .await
        .unwrap();
    assert_eq!(line(&mut a, "generator-5kw", "G1").await, (2, 0, 2));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_count_posts_what_was_on_the_shelf_when_recorded_whatever_moved_around_it() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    receive(&mut a, "quilt-cotton", "Q1", 100, &[]).await;
    let count = open_count(&mut a, &["quilt-cotton"]).await;
    let issue = |q: i64| pb::IssueStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "quilt-cotton".into(),
        quantity: q,
        purpose: pb::IssuePurpose::Incident as i32,
        recipient: "竹山县洪涝".into(),
        override_reserve_minimum: true,
        override_reason: "县指挥部指令".into(),
        ..Default::default()
    };
    // 20 leave before the keeper reaches the shelf; 80 are there and recorded.
    a.issue_stock(issue(20)).await.unwrap();
    record(&mut a, &count.id, "quilt-cotton", "Q1", 80, &[]).await;
    // 10 more leave after the recording, before approval.
    a.issue_stock(issue(10)).await.unwrap();
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    assert!(done.entries.is_empty(), "no variance: {:?}", done.entries);
    assert_eq!(
        line(&mut a, "quilt-cotton", "Q1").await.0,
        70,
        "no unit vanishes"
    );
    let l = &done.count.unwrap().lines[0];
    assert_eq!(l.expected, 100, "snapshot");
    assert_eq!(l.moved_since_snapshot, -20);
    assert_eq!(l.on_hand_at_record, Some(80));
    assert_eq!(l.counted, Some(80));
    assert_eq!(l.variance, 0);

    // A real shortage: 3 fewer on the shelf than the books said at recording.
    let count = open_count(&mut a, &["quilt-cotton"]).await;
    a.issue_stock(issue(5)).await.unwrap();
    record(&mut a, &count.id, "quilt-cotton", "Q1", 62, &[]).await;
    a.issue_stock(issue(2)).await.unwrap();
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    assert_eq!(done.entries.len(), 1);
    assert_eq!(done.entries[0].quantity, -3);
    assert_eq!(
        line(&mut a, "quilt-cotton", "Q1").await.0,
        60,
        "70 - 5 - 2 - 3"
    );

    // Serial lines behave alike: G-2 issued before recording is not missing.
    receive(&mut a, "generator-5kw", "G1", 0, &["G-1", "G-2", "G-3"]).await;
    let count = open_count(&mut a, &["generator-5kw"]).await;
    a.issue_stock(pb::IssueStockRequest {
        item_id: "generator-5kw".into(),
        quantity: 0,
        serial_numbers: vec!["G-2".into()],
        ..issue(0)
    })
    .await
    .unwrap();
    record(&mut a, &count.id, "generator-5kw", "G1", 0, &["G-1"]).await;
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    assert_eq!(done.entries.len(), 1);
    assert_eq!(done.entries[0].serial_numbers, vec!["G-3".to_string()]);
    assert_eq!(line(&mut a, "generator-5kw", "G1").await.0, 1);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn whoever_recorded_a_figure_cannot_approve_the_count() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    let mut c = app.keeper("keeper-c", ZS);
    receive(&mut a, "quilt-cotton", "Q1", 10, &[]).await;
    let count = open_count(&mut a, &["quilt-cotton"]).await;
    record(&mut a, &count.id, "quilt-cotton", "Q1", 9, &[]).await;
    submit(&mut b, &count.id).await;
    let err = approve(&mut a, &count.id).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        line(&mut a, "quilt-cotton", "Q1").await.0,
        10,
        "nothing posted"
    );
    approve(&mut c, &count.id).await.unwrap();
    assert_eq!(line(&mut a, "quilt-cotton", "Q1").await.0, 9);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_retries_of_one_reversal_get_one_answer_and_one_reversal() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    receive(&mut k, "quilt-cotton", "Q1", 10, &[]).await;
    // Reversing an issue puts units back, so no balance guard serialises the retries.
    let e = k
        .issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: "quilt-cotton".into(),
            quantity: 4,
            purpose: pb::IssuePurpose::Incident as i32,
            recipient: "竹山县洪涝".into(),
            override_reserve_minimum: true,
            override_reason: "县指挥部指令".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
        .remove(0);
    let req = pb::ReverseEntryRequest {
        request_id: rid(),
        entry_id: e.id,
        reason: "录错仓库".into(),
    };
    let calls = (0..8).map(|_| {
        let mut k = k.clone();
        let req = req.clone();
        tokio::spawn(async move { k.reverse_entry(req).await.map(|r| r.into_inner()) })
    });
    let answers: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let first = answers[0].clone().expect("a reversal answer");
    for a in &answers {
        assert_eq!(
            a.as_ref().map_err(|s| (s.code(), s.message().to_string())),
            Ok(&first)
        );
    }
    assert_eq!(line(&mut k, "quilt-cotton", "Q1").await.0, 10);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn absurd_quantities_are_refused_naming_the_field() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    receive(&mut k, "quilt-cotton", "Q1", 10, &[]).await;
    for q in [
        i64::MIN,
        i64::MIN + 1,
        i64::MAX,
        -1_000_000_000_001,
        1_000_000_000_001,
    ] {
        let err = k
            .create_adjustment(pb::CreateAdjustmentRequest {
                request_id: rid(),
                depot_code: ZS.into(),
                item_id: "quilt-cotton".into(),
                lot_number: "Q1".into(),
                quantity: q,
                reason: "盘亏".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{q}: {err:?}");
        assert_eq!(violated_fields(&err), vec!["quantity"], "{q}");
        let err = k
            .issue_stock(pb::IssueStockRequest {
                request_id: rid(),
                depot_code: ZS.into(),
                item_id: "quilt-cotton".into(),
                quantity: q,
                purpose: pb::IssuePurpose::Incident as i32,
                recipient: "x".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{q}: {err:?}");
    }
    assert_eq!(line(&mut k, "quilt-cotton", "Q1").await, (10, 0, 10));
    app.stop().await.unwrap();
}

async fn integrity(app: &TestApp) -> Vec<(i32, String, String)> {
    app.stock(&app.root_admin())
        .check_ledger_integrity(pb::CheckLedgerIntegrityRequest::default())
        .await
        .unwrap()
        .into_inner()
        .issues
        .into_iter()
        .map(|i| (i.figure, i.lot_number, i.subject))
        .collect()
}

fn figures(issues: &[(i32, String, String)]) -> Vec<pb::IntegrityFigure> {
    let mut f: Vec<_> = issues
        .iter()
        .map(|(f, ..)| pb::IntegrityFigure::try_from(*f).unwrap())
        .collect();
    f.sort();
    f.dedup();
    f
}

#[tokio::test]
async fn the_integrity_check_proves_what_each_document_holds() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    receive(&mut k, "quilt-cotton", "Q1", 10, &[]).await;
    receive(&mut k, "generator-5kw", "G1", 0, &["G-1", "G-2"]).await;
    let quilts = k
        .create_scrap_application(scrap("quilt-cotton", "Q1", 4, &[]))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    k.create_scrap_application(scrap("generator-5kw", "G1", 0, &["G-1"]))
        .await
        .unwrap();
    assert!(integrity(&app).await.is_empty());

    // A line claiming documents hold more than its entries and its open
    // documents say.
    app.tamper(
        "UPDATE stock_lines SET held = held + 2, doc_held = doc_held + 2 \
         WHERE lot_id = (SELECT id FROM lots WHERE lot_number = 'Q1')",
    )
    .await;
    assert_eq!(
        figures(&integrity(&app).await),
        vec![
            pb::IntegrityFigure::Held,
            pb::IntegrityFigure::HeldByDocuments,
            pb::IntegrityFigure::OpenDocumentHolds,
        ]
    );
    app.tamper(
        "UPDATE stock_lines SET held = held - 2, doc_held = doc_held - 2 \
         WHERE lot_id = (SELECT id FROM lots WHERE lot_number = 'Q1')",
    )
    .await;
    assert!(integrity(&app).await.is_empty());

    // Documents marked decided while their entries still hold units, and an
    // asset held for a document that no longer holds anything.
    app.tamper("UPDATE scrap_applications SET status = 3").await;
    let issues = integrity(&app).await;
    assert_eq!(
        figures(&issues),
        vec![
            pb::IntegrityFigure::OpenDocumentHolds,
            pb::IntegrityFigure::DocumentShare,
            pb::IntegrityFigure::AssetHolder,
        ],
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|(_, _, s)| *s == format!("scrapApplications/{}", quilts.id))
    );
    assert!(issues.iter().any(|(_, _, s)| s == "assets/G-1"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_decision_that_cannot_find_its_units_is_refused_at_once_not_retried_as_busy() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    receive(&mut k, "quilt-cotton", "Q1", 10, &[]).await;
    let a = k
        .create_scrap_application(scrap("quilt-cotton", "Q1", 4, &[]))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    // The units vanish from the line behind every rule's back.
    app.tamper(
        "UPDATE stock_lines SET held = 0, doc_held = 0 \
         WHERE lot_id = (SELECT id FROM lots WHERE lot_number = 'Q1')",
    )
    .await;
    let err = county_dispatcher(&app)
        .approve_scrap_application(pb::ApproveScrapApplicationRequest {
            request_id: rid(),
            application_id: a.id,
            note: "同意".into(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // The rule, not "the database is busy; retry shortly".
    assert_eq!(reason(&err).as_deref(), Some("DOCUMENT_UNITS_MISSING"));
    assert_eq!(line(&mut k, "quilt-cotton", "Q1").await, (10, 0, 10));
    app.stop().await.unwrap();
}

/// Proposes an adjustment as `k` and, if that is accepted, approves it as `b`.
async fn adjust(
    k: &mut Stock,
    b: &mut Stock,
    depot: &str,
    item: &str,
    lot: &str,
    qty: i64,
    serials: &[&str],
) -> Result<pb::LedgerEntry, tonic::Status> {
    let adj = k
        .create_adjustment(pb::CreateAdjustmentRequest {
            request_id: rid(),
            depot_code: depot.into(),
            item_id: item.into(),
            lot_number: lot.into(),
            quantity: qty,
            serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
            reason: "盘点差异".into(),
        })
        .await?
        .into_inner()
        .adjustment
        .unwrap();
    Ok(b.approve_adjustment(pb::ApproveAdjustmentRequest {
        request_id: rid(),
        adjustment_id: adj.id,
        note: "复核".into(),
        etag: adj.etag,
    })
    .await?
    .into_inner()
    .entry
    .unwrap())
}

/// (status, depot, lot number) of a generator.
async fn asset(k: &mut Stock, serial: &str) -> (pb::AssetStatus, String, String) {
    let a = k
        .get_asset(pb::GetAssetRequest {
            item_id: "generator-5kw".into(),
            serial_number: serial.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap();
    (
        pb::AssetStatus::try_from(a.status).unwrap(),
        a.depot_code,
        a.lot_number,
    )
}

#[tokio::test]
async fn a_unit_written_off_or_voided_comes_back_on_the_books_when_found_or_received() {
    use pb::AssetStatus::{InStock, Missing, Void};
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    let g = "generator-5kw";
    receive(&mut a, g, "G1", 0, &["G-1", "G-2", "G-4"]).await;
    // G-1 written off by a count, G-2 by an adjustment, G-3 voided by the
    // reversal of its receipt.
    let count = open_count(&mut a, &[g]).await;
    record(&mut a, &count.id, g, "G1", 0, &["G-2", "G-4"]).await;
    submit(&mut a, &count.id).await;
    approve(&mut b, &count.id).await.unwrap();
    adjust(&mut a, &mut b, ZS, g, "G1", -1, &["G-2"])
        .await
        .unwrap();
    let r = receive(&mut a, g, "G1", 0, &["G-3"]).await;
    a.reverse_entry(pb::ReverseEntryRequest {
        request_id: rid(),
        entry_id: r.id,
        reason: "录错".into(),
    })
    .await
    .unwrap();
    assert_eq!(asset(&mut a, "G-1").await.0, Missing);
    assert_eq!(asset(&mut a, "G-2").await.0, Missing);
    assert_eq!(asset(&mut a, "G-3").await.0, Void);
    assert_eq!(line(&mut a, g, "G1").await, (1, 0, 1));

    // G-1 turns up behind the shelf: a found adjustment takes it back.
    let e = adjust(&mut a, &mut b, ZS, g, "G1", 1, &["G-1"])
        .await
        .unwrap();
    assert_eq!((e.quantity, e.serial_numbers), (1, vec!["G-1".to_string()]));
    assert_eq!(
        asset(&mut a, "G-1").await,
        (InStock, ZS.into(), "G1".into())
    );
    // G-2 is seen in the next count.
    let count = open_count(&mut a, &[g]).await;
    record(&mut a, &count.id, g, "G1", 0, &["G-1", "G-2", "G-4"]).await;
    let got = a
        .get_stock_count(pb::GetStockCountRequest {
            count_id: count.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    assert_eq!(got.lines[0].found_serial_numbers, vec!["G-2".to_string()]);
    assert_eq!(got.lines[0].variance, 1);
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    assert_eq!(done.entries.len(), 1);
    assert_eq!(done.entries[0].quantity, 1);
    assert_eq!(done.entries[0].serial_numbers, vec!["G-2".to_string()]);
    assert_eq!(asset(&mut a, "G-2").await.0, InStock);
    // G-3 arrives again, in another lot.
    let e = receive(&mut a, g, "G2", 0, &["G-3"]).await;
    assert_eq!(e.serial_numbers, vec!["G-3".to_string()]);
    assert_eq!(
        asset(&mut a, "G-3").await,
        (InStock, ZS.into(), "G2".into())
    );
    assert_eq!(line(&mut a, g, "G1").await, (3, 0, 3));
    assert_eq!(line(&mut a, g, "G2").await, (1, 0, 1));

    // A unit still on the books is refused as before.
    let err = a
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: g.into(),
            lot_number: "G1".into(),
            expiry_date: date(2031, 1, 1),
            serial_numbers: vec!["G-4".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("SERIAL_EXISTS"));
    let err = adjust(&mut a, &mut b, ZS, g, "G1", 1, &["G-4"])
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("SERIAL_EXISTS"));
    // So is a unit written off at another depot.
    adjust(&mut a, &mut b, ZS, g, "G1", -1, &["G-4"])
        .await
        .unwrap();
    let fx = "HB-SY-FX";
    let mut c = app.keeper("keeper-c", fx);
    let mut d = app.keeper("keeper-d", fx);
    let err = adjust(&mut c, &mut d, fx, g, "G1", 1, &["G-4"])
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("SERIAL_EXISTS"));
    let count = open_count(&mut a, &[g]).await;
    let err = a
        .record_count_lines(pb::RecordCountLinesRequest {
            etag: String::new(),
            request_id: rid(),
            count_id: count.id.clone(),
            lines: vec![pb::CountedLine {
                item_id: g.into(),
                lot_number: "G2".into(),
                counted: 0,
                serial_numbers: vec!["G-1".into()],
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("SERIAL_NOT_AVAILABLE"));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

fn status_mask() -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: vec!["status".into()],
    })
}

/// A township point of its own under 竹山县, with a keeper.
async fn new_point(app: &TestApp, code: &str, division: &str) -> Stock {
    app.network(&app.root_admin())
        .create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(depot(code, pb::Tier::Township, ZS, division)),
        })
        .await
        .unwrap();
    app.keeper(&format!("keeper@{code}"), code)
}

async fn close(app: &TestApp, code: &str) -> Result<(), tonic::Status> {
    app.network(&app.root_admin())
        .close_depot(pb::CloseDepotRequest {
            request_id: rid(),
            code: code.into(),
            etag: String::new(),
            reason: "撤并".into(),
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn reversing_an_issue_does_not_bring_stock_back_into_a_depot_that_closed() {
    let app = TestApp::with_demo().await;
    let code = "HB-SY-ZS-C1";
    let mut k = new_point(&app, code, "420323951").await;
    k.receive_stock(pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: code.into(),
        item_id: "tent-36m2".into(),
        lot_number: "T1".into(),
        quantity: 5,
        ..Default::default()
    })
    .await
    .unwrap();
    let issued = k
        .issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: code.into(),
            item_id: "tent-36m2".into(),
            quantity: 5,
            purpose: pb::IssuePurpose::Incident as i32,
            recipient: "竹山县洪涝".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
        .remove(0);
    // Empty now, so the point closes.
    close(&app, code).await.unwrap();
    let err = k
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: issued.id,
            reason: "录错".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err).as_deref(), Some("DEPOT_NOT_ACTIVE"));
    let on_hand: i64 = app
        .stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: code.into(),
            include_empty: true,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .iter()
        .map(|l| l.on_hand)
        .sum();
    assert_eq!(on_hand, 0, "a closed depot holds nothing");
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_count_takes_units_in_only_while_its_depot_is_active() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    receive(&mut a, "quilt-cotton", "Q1", 10, &[]).await;
    let count = open_count(&mut a, &["quilt-cotton"]).await;
    record(&mut a, &count.id, "quilt-cotton", "Q1", 12, &[]).await;
    submit(&mut a, &count.id).await;
    let set_status = |status: pb::DepotStatus| {
        let mut net = app.network(&app.root_admin());
        async move {
            net.update_depot(pb::UpdateDepotRequest {
                request_id: rid(),
                depot: Some(pb::Depot {
                    code: ZS.into(),
                    status: status as i32,
                    ..Default::default()
                }),
                update_mask: status_mask(),
            })
            .await
            .unwrap();
        }
    };
    set_status(pb::DepotStatus::Suspended).await;
    let err = approve(&mut b, &count.id).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert_eq!(reason(&err).as_deref(), Some("DEPOT_NOT_ACTIVE"));
    assert_eq!(line(&mut a, "quilt-cotton", "Q1").await.0, 10);
    set_status(pb::DepotStatus::Active).await;
    approve(&mut b, &count.id).await.unwrap();
    assert_eq!(line(&mut a, "quilt-cotton", "Q1").await.0, 12);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_count_never_stays_open_in_a_depot_that_closed() {
    let app = TestApp::with_demo().await;
    for round in 0..8 {
        let code = format!("HB-SY-ZS-K{round}");
        let mut k = new_point(&app, &code, &format!("42032396{round}")).await;
        let (c1, c2) = (code.clone(), code.clone());
        let open = tokio::spawn(async move {
            k.open_stock_count(pb::OpenStockCountRequest {
                request_id: rid(),
                depot_code: c1,
                ..Default::default()
            })
            .await
            .map(|_| ())
        });
        let closing = {
            let mut net = app.network(&app.root_admin());
            tokio::spawn(async move {
                net.close_depot(pb::CloseDepotRequest {
                    request_id: rid(),
                    code: c2,
                    etag: String::new(),
                    reason: "撤并".into(),
                })
                .await
                .map(|_| ())
            })
        };
        let (opened, closed) = (open.await.unwrap(), closing.await.unwrap());
        match (&opened, &closed) {
            (Ok(()), Err(s)) => {
                assert_eq!(
                    reason(s).as_deref(),
                    Some("DEPOT_HAS_OPEN_DOCUMENTS"),
                    "{s:?}"
                )
            }
            (Err(s), Ok(())) => {
                assert_eq!(reason(s).as_deref(), Some("DEPOT_NOT_ACTIVE"), "{s:?}")
            }
            _ => panic!("round {round}: open {opened:?}, close {closed:?}"),
        }
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_count_or_an_adjustment_writes_off_missing_units_held_by_no_document() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    let q = "quilt-cotton";
    // Ten quilts in quarantine; four of them are gone when counted.
    receive(&mut a, q, "Q1", 10, &[]).await;
    a.hold_stock(hold(q, "Q1", 10, &[])).await.unwrap();
    let count = open_count(&mut a, &[q]).await;
    record(&mut a, &count.id, q, "Q1", 6, &[]).await;
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    let e = &done.entries[0];
    assert_eq!((e.quantity, e.held_delta), (-4, -4));
    assert_eq!(line(&mut a, q, "Q1").await, (6, 6, 0));
    // Four more written off by an adjustment.
    let e = adjust(&mut a, &mut b, ZS, q, "Q1", -4, &[]).await.unwrap();
    assert_eq!((e.quantity, e.held_delta), (-4, -4));
    assert_eq!(line(&mut a, q, "Q1").await, (2, 2, 0));

    // Units a scrap application holds are present: never written off.
    receive(&mut a, q, "Q2", 5, &[]).await;
    a.create_scrap_application(scrap(q, "Q2", 2, &[]))
        .await
        .unwrap();
    a.hold_stock(hold(q, "Q2", 3, &[])).await.unwrap();
    let count = open_count(&mut a, &[q]).await;
    record(&mut a, &count.id, q, "Q2", 1, &[]).await;
    record(&mut a, &count.id, q, "Q1", 2, &[]).await;
    submit(&mut a, &count.id).await;
    let err = approve(&mut b, &count.id).await.unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("VARIANCE_CONFLICT"),
        "{err:?}"
    );
    a.cancel_stock_count(pb::CancelStockCountRequest {
        request_id: rid(),
        count_id: count.id,
        reason: "重盘".into(),
        etag: String::new(),
    })
    .await
    .unwrap();
    let count = open_count(&mut a, &[q]).await;
    record(&mut a, &count.id, q, "Q2", 2, &[]).await;
    record(&mut a, &count.id, q, "Q1", 2, &[]).await;
    submit(&mut a, &count.id).await;
    let done = approve(&mut b, &count.id).await.unwrap();
    let e = &done.entries[0];
    assert_eq!(
        (e.quantity, e.held_delta, e.held_by_documents_delta),
        (-3, -3, 0)
    );
    assert_eq!(line(&mut a, q, "Q2").await, (2, 2, 0));
    let err = adjust(&mut a, &mut b, ZS, q, "Q2", -1, &[])
        .await
        .unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("INSUFFICIENT_STOCK"),
        "{err:?}"
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

async fn receive_dated(
    k: &mut Stock,
    lot: &str,
    production: Option<(i32, i32, i32)>,
    expiry: Option<(i32, i32, i32)>,
    qty: i64,
) -> Result<pb::LedgerEntry, tonic::Status> {
    let day = |d: Option<(i32, i32, i32)>| d.and_then(|(y, m, d)| date(y, m, d));
    Ok(k.receive_stock(pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "quilt-cotton".into(),
        lot_number: lot.into(),
        production_date: day(production),
        expiry_date: day(expiry),
        quantity: qty,
        ..Default::default()
    })
    .await?
    .into_inner()
    .entry
    .unwrap())
}

#[tokio::test]
async fn a_receipt_into_an_existing_lot_may_give_only_its_production_date() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    let q = "quilt-cotton";
    // The first delivery note gave the expiry explicitly, not production
    // date plus the item's shelf life.
    receive_dated(&mut k, "QP", Some((2026, 1, 1)), Some((2028, 6, 30)), 10)
        .await
        .unwrap();
    // The second names the lot by its production date only.
    receive_dated(&mut k, "QP", Some((2026, 1, 1)), None, 5)
        .await
        .unwrap();
    assert_eq!(line(&mut k, q, "QP").await.0, 15);
    // A lot whose expiry was derived, received again after the shelf life changed.
    receive_dated(&mut k, "QS", Some((2026, 3, 1)), None, 4)
        .await
        .unwrap();
    app.catalog(&app.root_admin())
        .update_item(pb::UpdateItemRequest {
            request_id: rid(),
            item: Some(pb::Item {
                id: q.into(),
                shelf_life_days: 1095,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["shelf_life_days".into()],
            }),
        })
        .await
        .unwrap();
    receive_dated(&mut k, "QS", Some((2026, 3, 1)), None, 4)
        .await
        .unwrap();
    assert_eq!(line(&mut k, q, "QS").await.0, 8);
    // Dates the receipt gives that differ from the lot's are still refused.
    for (production, expiry) in [
        (Some((2026, 2, 1)), None),
        (None, Some((2029, 1, 1))),
        (Some((2026, 1, 1)), Some((2029, 1, 1))),
    ] {
        let err = receive_dated(&mut k, "QP", production, expiry, 1)
            .await
            .unwrap_err();
        assert_eq!(reason(&err).as_deref(), Some("LOT_MISMATCH"), "{err:?}");
    }
    assert_eq!(line(&mut k, q, "QP").await.0, 15);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

/// (on hand, held, held by documents) of one lot at 竹山县.
async fn holds_of(k: &mut Stock, item: &str, lot: &str) -> (i64, i64, i64) {
    let l = k
        .list_stock(pb::ListStockRequest {
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
        .find(|l| l.lot.as_ref().unwrap().lot_number == lot)
        .unwrap();
    (l.on_hand, l.held, l.held_by_documents)
}

#[tokio::test]
async fn a_scrap_application_takes_units_already_held_by_no_document_first() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", ZS);
    let q = "quilt-cotton";
    // Seven damp quilts held for damage; nine to scrap: the seven, then two more.
    receive(&mut k, q, "Q1", 10, &[]).await;
    k.hold_stock(hold(q, "Q1", 7, &[])).await.unwrap();
    let r = k
        .create_scrap_application(scrap(q, "Q1", 9, &[]))
        .await
        .unwrap()
        .into_inner();
    let deltas: Vec<_> = r
        .hold_entries
        .iter()
        .map(|e| (e.held_delta, e.held_by_documents_delta))
        .collect();
    assert_eq!(deltas, vec![(0, 7), (2, 2)]);
    assert_eq!(r.hold_entry.as_ref(), r.hold_entries.first());
    let application = r.application.unwrap();
    assert_eq!(application.hold_entry_id, r.hold_entries[0].id);
    assert_eq!(holds_of(&mut k, q, "Q1").await, (10, 9, 9));
    assert!(integrity(&app).await.is_empty());
    // Rejected, every unit it took is free again.
    county_dispatcher(&app)
        .reject_scrap_application(pb::RejectScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: application.id,
            reason: "晾晒后可用".into(),
        })
        .await
        .unwrap();
    assert_eq!(holds_of(&mut k, q, "Q1").await, (10, 0, 0));
    // Approved, the held units are scrapped.
    k.hold_stock(hold(q, "Q1", 3, &[])).await.unwrap();
    let application = k
        .create_scrap_application(scrap(q, "Q1", 3, &[]))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    assert_eq!(holds_of(&mut k, q, "Q1").await, (10, 3, 3));
    county_dispatcher(&app)
        .approve_scrap_application(pb::ApproveScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: application.id,
            note: "同意".into(),
        })
        .await
        .unwrap();
    assert_eq!(line(&mut k, q, "Q1").await, (7, 0, 7));
    // Never more than the units no document holds.
    k.hold_stock(hold(q, "Q1", 7, &[])).await.unwrap();
    k.create_scrap_application(scrap(q, "Q1", 5, &[]))
        .await
        .unwrap();
    let err = k
        .create_scrap_application(scrap(q, "Q1", 3, &[]))
        .await
        .unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("INSUFFICIENT_STOCK"),
        "{err:?}"
    );
    assert_eq!(holds_of(&mut k, q, "Q1").await, (7, 7, 5));

    // A generator under repair is scrapped from its hold.
    let g = "generator-5kw";
    receive(&mut k, g, "G1", 0, &["G-1", "G-2"]).await;
    k.hold_stock(hold(g, "G1", 0, &["G-1"])).await.unwrap();
    let r = k
        .create_scrap_application(scrap(g, "G1", 0, &["G-1", "G-2"]))
        .await
        .unwrap()
        .into_inner();
    let moved: Vec<_> = r
        .hold_entries
        .iter()
        .map(|e| {
            (
                e.serial_numbers.clone(),
                e.held_delta,
                e.held_by_documents_delta,
            )
        })
        .collect();
    assert_eq!(
        moved,
        vec![
            (vec!["G-1".to_string()], 0, 1),
            (vec!["G-2".to_string()], 1, 1)
        ]
    );
    let application = r.application.unwrap();
    for s in ["G-1", "G-2"] {
        let a = k
            .get_asset(pb::GetAssetRequest {
                item_id: g.into(),
                serial_number: s.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .asset
            .unwrap();
        assert_eq!(
            (a.status, a.holder),
            (
                pb::AssetStatus::Held as i32,
                format!("scrapApplications/{}", application.id)
            )
        );
    }
    assert!(integrity(&app).await.is_empty());
    county_dispatcher(&app)
        .approve_scrap_application(pb::ApproveScrapApplicationRequest {
            etag: String::new(),
            request_id: rid(),
            application_id: application.id,
            note: "同意".into(),
        })
        .await
        .unwrap();
    assert_eq!(holds_of(&mut k, g, "G1").await, (0, 0, 0));
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
