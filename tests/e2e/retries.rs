//! Eight identical requests at once — same request id, same body, same
//! user — for every write of the stock service: eight identical answers,
//! one effect, a clean ledger; and the same request id with another body is
//! refused naming `request_id`.

use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, reason, rid, violated_fields};
use std::fmt::Debug;
use std::sync::Arc;
use tonic::Code;

type Stock = StockServiceClient<Authed>;

const ZS: &str = "HB-SY-ZS";
/// No shelf life and no reserve norm at the county.
const TARP: &str = "tarpaulin";
/// The county's reserve norm asks for at least 500 of these.
const QUILT: &str = "quilt-cotton";
pub(crate) const COPIES: usize = 8;

/// Sends `$req` with `$method` from `COPIES` tasks released together, and
/// returns the answers.
macro_rules! at_once {
    ($client:expr, $method:ident, $req:expr) => {{
        let gate = Arc::new(tokio::sync::Barrier::new(COPIES));
        let calls = (0..COPIES).map(|_| {
            let mut c = $client.clone();
            let req = $req.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.wait().await;
                c.$method(req).await.map(|r| r.into_inner())
            })
        });
        futures::future::join_all(calls)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect::<Vec<_>>()
    }};
}
pub(crate) use at_once;

/// Asserts that all answers are the same (the decoded message, or the code
/// and message of an error) and returns it, which must be a success.
pub(crate) fn one_answer<T: Clone + Debug + PartialEq>(
    answers: Vec<Result<T, tonic::Status>>,
) -> T {
    assert_eq!(answers.len(), COPIES);
    let seen = |a: &Result<T, tonic::Status>| {
        a.as_ref()
            .cloned()
            .map_err(|s| (s.code(), s.message().to_string()))
    };
    let first = seen(&answers[0]);
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(seen(a), first, "answer {i} differs from the first");
    }
    first.unwrap_or_else(|e| panic!("the identical requests were refused: {e:?}"))
}

/// Asserts that reusing a request id for another request is refused naming it.
fn reuse_refused<T: Debug>(r: Result<tonic::Response<T>, tonic::Status>) {
    let err = r.expect_err("a reused request id with another body must be refused");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(violated_fields(&err), vec!["request_id"], "{err:?}");
}

fn receipt(item: &str, lot: &str, qty: i64) -> pb::ReceiveStockRequest {
    pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: item.into(),
        lot_number: lot.into(),
        production_date: reserve_tests::date(2026, 10, 1),
        quantity: qty,
        document: "RK-2026-0811".into(),
        counterparty: "市财政采购".into(),
        ..Default::default()
    }
}

async fn receive(k: &mut Stock, item: &str, lot: &str, qty: i64) -> pb::LedgerEntry {
    k.receive_stock(receipt(item, lot, qty))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap()
}

/// The ledger entries of one lot at the county, newest first, of one type
/// (or every type).
async fn entries(
    app: &TestApp,
    item: &str,
    lot: &str,
    kind: pb::EntryType,
) -> Vec<pb::LedgerEntry> {
    app.stock(&app.root_admin())
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            depot_code: ZS.into(),
            item_id: item.into(),
            lot_number: lot.into(),
            entry_type: kind as i32,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
}

/// (on hand, held, available) of one lot at the county.
async fn line(app: &TestApp, item: &str, lot: &str) -> (i64, i64, i64) {
    let l = app
        .stock(&app.root_admin())
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
        .find(|l| l.lot.as_ref().is_some_and(|l| l.lot_number == lot))
        .expect("the lot's stock line");
    (l.on_hand, l.held, l.available)
}

fn hold_req(lot: &str, qty: i64) -> pb::HoldStockRequest {
    pb::HoldStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: TARP.into(),
        lot_number: lot.into(),
        quantity: qty,
        serial_numbers: vec![],
        reason: pb::HoldReason::Damage as i32,
        note: "受潮".into(),
    }
}

fn adjustment_req(lot: &str, qty: i64) -> pb::CreateAdjustmentRequest {
    pb::CreateAdjustmentRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: TARP.into(),
        lot_number: lot.into(),
        quantity: qty,
        serial_numbers: vec![],
        reason: "破损一件，已拍照".into(),
    }
}

fn scrap_req(lot: &str, qty: i64) -> pb::CreateScrapApplicationRequest {
    pb::CreateScrapApplicationRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: TARP.into(),
        lot_number: lot.into(),
        quantity: qty,
        serial_numbers: vec![],
        reason: "受潮霉变".into(),
        disposal: pb::Disposal::Destroy as i32,
    }
}

async fn adjustments(app: &TestApp, lot: &str) -> Vec<pb::Adjustment> {
    app.stock(&app.root_admin())
        .list_adjustments(pb::ListAdjustmentsRequest {
            depot_code: ZS.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .adjustments
        .into_iter()
        .filter(|a| a.lot_number == lot)
        .collect()
}

async fn scraps(app: &TestApp, lot: &str) -> Vec<pb::ScrapApplication> {
    app.stock(&app.root_admin())
        .list_scrap_applications(pb::ListScrapApplicationsRequest {
            depot_code: ZS.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .applications
        .into_iter()
        .filter(|a| a.lot_number == lot)
        .collect()
}

async fn get_count(app: &TestApp, id: &str) -> pb::StockCount {
    app.stock(&app.root_admin())
        .get_stock_count(pb::GetStockCountRequest {
            count_id: id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap()
}

fn open_req() -> pb::OpenStockCountRequest {
    pb::OpenStockCountRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_ids: vec![TARP.into()],
        note: "月度抽盘".into(),
    }
}

/// Records every line of `count` as its snapshot expects, except lot `lot`,
/// recorded as `counted`.
fn record_req(count: &pb::StockCount, lot: &str, counted: i64) -> pb::RecordCountLinesRequest {
    pb::RecordCountLinesRequest {
        request_id: rid(),
        count_id: count.id.clone(),
        lines: count
            .lines
            .iter()
            .map(|l| pb::CountedLine {
                item_id: l.item_id.clone(),
                lot_number: l.lot_number.clone(),
                counted: if l.lot_number == lot {
                    counted
                } else {
                    l.expected
                },
                serial_numbers: vec![],
            })
            .collect(),
        etag: String::new(),
    }
}

fn submit_req(count: &str) -> pb::SubmitStockCountRequest {
    pb::SubmitStockCountRequest {
        request_id: rid(),
        count_id: count.into(),
        etag: String::new(),
    }
}

/// A count of the tarpaulins at the county with lot `lot` recorded as
/// `counted`, opened and recorded by keeper-a; submitted too if asked.
async fn counted(app: &TestApp, lot: &str, counted: i64, submit: bool) -> String {
    let mut a = app.keeper("keeper-a", ZS);
    let count = a
        .open_stock_count(open_req())
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    let id = count.id.clone();
    a.record_count_lines(record_req(&count, lot, counted))
        .await
        .unwrap();
    if submit {
        a.submit_stock_count(submit_req(&id)).await.unwrap();
    }
    id
}

fn county_dispatcher(app: &TestApp) -> Stock {
    app.stock(&app.token(&[Role::Dispatcher], ZS))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_receipts_at_once_post_one_receipt() {
    let app = TestApp::with_demo().await;
    let k = app.keeper("keeper-a", ZS);
    let req = receipt(TARP, "R-1", 40);
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, receive_stock, req));
    let posted = entries(&app, TARP, "R-1", pb::EntryType::Unspecified).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(Some(&posted[0]), answer.entry.as_ref());
    assert_eq!(line(&app, TARP, "R-1").await, (40, 0, 40));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .receive_stock(pb::ReceiveStockRequest {
                quantity: 41,
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "R-1").await, (40, 0, 40));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_issues_at_once_post_one_issue() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, QUILT, "Q-1", 100).await;
    // The county must keep 500 quilts; this issue may go below it, with a reason.
    let req = pb::IssueStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: QUILT.into(),
        quantity: 30,
        lot_number: "Q-1".into(),
        purpose: pb::IssuePurpose::Incident as i32,
        recipient: "竹山县宝丰镇安置点".into(),
        document: "CK-2026-0042".into(),
        override_reserve_minimum: true,
        override_reason: "县应急局电话指令：宝丰镇内涝转移安置".into(),
        ..Default::default()
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, issue_stock, req));
    let issued = entries(&app, QUILT, "Q-1", pb::EntryType::Issue).await;
    assert_eq!(issued, answer.entries);
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(issued[0].quantity, -30);
    assert_eq!(line(&app, QUILT, "Q-1").await, (70, 0, 70));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .issue_stock(pb::IssueStockRequest {
                quantity: 31,
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, QUILT, "Q-1").await, (70, 0, 70));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_holds_at_once_hold_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "H-1", 50).await;
    let req = hold_req("H-1", 5);
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, hold_stock, req));
    let held = entries(&app, TARP, "H-1", pb::EntryType::Hold).await;
    assert_eq!(held, answer.entries);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(line(&app, TARP, "H-1").await, (50, 5, 45));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .hold_stock(pb::HoldStockRequest { quantity: 6, ..req })
            .await,
    );
    assert_eq!(line(&app, TARP, "H-1").await, (50, 5, 45));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_releases_at_once_release_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "L-1", 50).await;
    k.hold_stock(hold_req("L-1", 5)).await.unwrap();
    let req = pb::ReleaseStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: TARP.into(),
        lot_number: "L-1".into(),
        quantity: 2,
        serial_numbers: vec![],
        reason: "晾晒后完好".into(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, release_stock, req));
    let released = entries(&app, TARP, "L-1", pb::EntryType::Release).await;
    assert_eq!(released, answer.entries);
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(line(&app, TARP, "L-1").await, (50, 3, 47));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .release_stock(pb::ReleaseStockRequest {
                reason: "质检合格".into(),
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "L-1").await, (50, 3, 47));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_reversals_at_once_reverse_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "V-1", 10).await;
    let wrong = receive(&mut k, TARP, "V-1", 5).await;
    let req = pb::ReverseEntryRequest {
        request_id: rid(),
        entry_id: wrong.id.clone(),
        reason: "录错仓库，应入竹溪县".into(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, reverse_entry, req));
    let reversals = entries(&app, TARP, "V-1", pb::EntryType::Reversal).await;
    assert_eq!(reversals.len(), 1, "{reversals:?}");
    assert_eq!(Some(&reversals[0]), answer.entry.as_ref());
    assert_eq!(reversals[0].reverses_entry_id, wrong.id);
    assert_eq!(line(&app, TARP, "V-1").await, (10, 0, 10));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .reverse_entry(pb::ReverseEntryRequest {
                reason: "数量录错".into(),
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "V-1").await, (10, 0, 10));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_adjustment_proposals_at_once_make_one_adjustment() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "A-1", 20).await;
    let req = adjustment_req("A-1", -1);
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, create_adjustment, req));
    let made = adjustments(&app, "A-1").await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(Some(&made[0]), answer.adjustment.as_ref());
    assert_eq!(made[0].status, pb::ApprovalStatus::Pending as i32);
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .create_adjustment(pb::CreateAdjustmentRequest {
                quantity: -2,
                ..req
            })
            .await,
    );
    assert_eq!(adjustments(&app, "A-1").await.len(), 1);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_adjustment_approvals_at_once_post_once() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let b = app.keeper("keeper-b", ZS);
    receive(&mut a, TARP, "A-2", 20).await;
    let adj = a
        .create_adjustment(adjustment_req("A-2", -3))
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap();
    let req = pb::ApproveAdjustmentRequest {
        request_id: rid(),
        adjustment_id: adj.id.clone(),
        note: "复核属实".into(),
        etag: adj.etag.clone(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(b, approve_adjustment, req));
    let posted = entries(&app, TARP, "A-2", pb::EntryType::Adjustment).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(Some(&posted[0]), answer.entry.as_ref());
    assert_eq!(posted[0].quantity, -3);
    assert_eq!(line(&app, TARP, "A-2").await, (17, 0, 17));
    let now = adjustments(&app, "A-2").await;
    assert_eq!(Some(&now[0]), answer.adjustment.as_ref());
    assert_eq!(now[0].status, pb::ApprovalStatus::Approved as i32);
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        b.clone()
            .approve_adjustment(pb::ApproveAdjustmentRequest {
                note: "同意".into(),
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "A-2").await, (17, 0, 17));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_adjustment_rejections_at_once_reject_once() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let b = app.keeper("keeper-b", ZS);
    receive(&mut a, TARP, "A-3", 20).await;
    let adj = a
        .create_adjustment(adjustment_req("A-3", -3))
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap();
    let req = pb::RejectAdjustmentRequest {
        request_id: rid(),
        adjustment_id: adj.id.clone(),
        reason: "复盘无误".into(),
        etag: adj.etag.clone(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(b, reject_adjustment, req));
    let now = adjustments(&app, "A-3").await;
    assert_eq!(now.len(), 1);
    assert_eq!(Some(&now[0]), answer.adjustment.as_ref());
    assert_eq!(now[0].status, pb::ApprovalStatus::Rejected as i32);
    assert!(
        entries(&app, TARP, "A-3", pb::EntryType::Adjustment)
            .await
            .is_empty()
    );
    assert_eq!(line(&app, TARP, "A-3").await, (20, 0, 20));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        b.clone()
            .reject_adjustment(pb::RejectAdjustmentRequest {
                reason: "另行处理".into(),
                ..req
            })
            .await,
    );
    assert_eq!(adjustments(&app, "A-3").await, now);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_scrap_applications_at_once_make_one_application() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "S-1", 20).await;
    let req = scrap_req("S-1", 3);
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, create_scrap_application, req));
    let made = scraps(&app, "S-1").await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(Some(&made[0]), answer.application.as_ref());
    let holds = entries(&app, TARP, "S-1", pb::EntryType::Hold).await;
    assert_eq!(holds.len(), 1, "{holds:?}");
    assert_eq!(Some(&holds[0]), answer.hold_entry.as_ref());
    assert_eq!(line(&app, TARP, "S-1").await, (20, 3, 17));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .create_scrap_application(pb::CreateScrapApplicationRequest { quantity: 4, ..req })
            .await,
    );
    assert_eq!(line(&app, TARP, "S-1").await, (20, 3, 17));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_scrap_approvals_at_once_scrap_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "S-2", 20).await;
    let application = k
        .create_scrap_application(scrap_req("S-2", 3))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    let d = county_dispatcher(&app);
    let req = pb::ApproveScrapApplicationRequest {
        request_id: rid(),
        application_id: application.id.clone(),
        note: "同意销毁".into(),
        etag: application.etag.clone(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(d, approve_scrap_application, req));
    let scrapped = entries(&app, TARP, "S-2", pb::EntryType::Scrap).await;
    assert_eq!(scrapped.len(), 1, "{scrapped:?}");
    assert_eq!(Some(&scrapped[0]), answer.entry.as_ref());
    assert_eq!(line(&app, TARP, "S-2").await, (17, 0, 17));
    let now = scraps(&app, "S-2").await;
    assert_eq!(Some(&now[0]), answer.application.as_ref());
    assert_eq!(now[0].status, pb::ApprovalStatus::Approved as i32);
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        d.clone()
            .approve_scrap_application(pb::ApproveScrapApplicationRequest {
                note: "同意拍卖".into(),
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "S-2").await, (17, 0, 17));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_scrap_rejections_at_once_release_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "S-3", 20).await;
    let application = k
        .create_scrap_application(scrap_req("S-3", 3))
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap();
    let d = county_dispatcher(&app);
    let req = pb::RejectScrapApplicationRequest {
        request_id: rid(),
        application_id: application.id.clone(),
        reason: "尚可使用".into(),
        etag: application.etag.clone(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(d, reject_scrap_application, req));
    let released = entries(&app, TARP, "S-3", pb::EntryType::Release).await;
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(Some(&released[0]), answer.entry.as_ref());
    assert_eq!(line(&app, TARP, "S-3").await, (20, 0, 20));
    let now = scraps(&app, "S-3").await;
    assert_eq!(Some(&now[0]), answer.application.as_ref());
    assert_eq!(now[0].status, pb::ApprovalStatus::Rejected as i32);
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        d.clone()
            .reject_scrap_application(pb::RejectScrapApplicationRequest {
                reason: "另行处理".into(),
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "S-3").await, (20, 0, 20));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_count_openings_at_once_open_one_count() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-a", ZS);
    receive(&mut k, TARP, "C-1", 20).await;
    let req = open_req();
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(k, open_stock_count, req));
    let count = answer.count.unwrap();
    assert_eq!(get_count(&app, &count.id).await, count);
    assert_eq!(app.audit_count().await, audit + 1);
    // One count is open, and it is this one.
    let err = k.open_stock_count(open_req()).await.unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("COUNT_IN_PROGRESS"),
        "{err:?}"
    );
    assert!(err.message().contains(&count.id), "{err:?}");
    app.assert_ledger_consistent().await;
    reuse_refused(
        k.clone()
            .open_stock_count(pb::OpenStockCountRequest {
                note: "年度盘点".into(),
                ..req
            })
            .await,
    );
    assert_eq!(get_count(&app, &count.id).await, count);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_recordings_at_once_record_once() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    let b = app.keeper("keeper-b", ZS);
    receive(&mut a, TARP, "C-2", 20).await;
    let opened = a
        .open_stock_count(open_req())
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    let id = opened.id.clone();
    let req = record_req(&opened, "C-2", 19);
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(b, record_count_lines, req));
    let count = answer.count.unwrap();
    assert_eq!(count.recorded_by, vec!["keeper-b".to_string()]);
    let mine = count.lines.iter().find(|l| l.lot_number == "C-2").unwrap();
    assert_eq!(mine.counted, Some(19));
    assert_eq!(get_count(&app, &id).await, count, "one version: one change");
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    let mut same_id_other_lines = record_req(&opened, "C-2", 18);
    same_id_other_lines.request_id = req.request_id.clone();
    reuse_refused(b.clone().record_count_lines(same_id_other_lines).await);
    assert_eq!(get_count(&app, &id).await, count);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_submissions_at_once_submit_once() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    receive(&mut a, TARP, "C-3", 20).await;
    let id = counted(&app, "C-3", 20, false).await;
    let b = app.keeper("keeper-b", ZS);
    let req = submit_req(&id);
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(b, submit_stock_count, req));
    let count = answer.count.unwrap();
    assert_eq!(count.status, pb::CountStatus::Submitted as i32);
    assert_eq!(count.submitted_by, "keeper-b");
    assert_eq!(get_count(&app, &id).await, count, "one version: one change");
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        b.clone()
            .submit_stock_count(pb::SubmitStockCountRequest {
                etag: count.etag.clone(),
                ..req
            })
            .await,
    );
    assert_eq!(get_count(&app, &id).await, count);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_count_approvals_at_once_post_the_variance_once() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    receive(&mut a, TARP, "C-4", 20).await;
    // Two short on the shelf.
    let id = counted(&app, "C-4", 18, true).await;
    let c = app.keeper("keeper-c", ZS);
    let req = pb::ApproveStockCountRequest {
        request_id: rid(),
        count_id: id.clone(),
        note: "复核无误".into(),
        etag: String::new(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(c, approve_stock_count, req));
    let posted = entries(&app, TARP, "C-4", pb::EntryType::Adjustment).await;
    assert_eq!(posted, answer.entries);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].quantity, -2);
    assert_eq!(posted[0].owner, format!("stockCounts/{id}"));
    assert_eq!(line(&app, TARP, "C-4").await, (18, 0, 18));
    let count = answer.count.unwrap();
    assert_eq!(count.status, pb::CountStatus::Approved as i32);
    assert_eq!(get_count(&app, &id).await, count);
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        c.clone()
            .approve_stock_count(pb::ApproveStockCountRequest {
                note: "同意".into(),
                ..req
            })
            .await,
    );
    assert_eq!(line(&app, TARP, "C-4").await, (18, 0, 18));
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_identical_count_cancellations_at_once_cancel_once() {
    let app = TestApp::with_demo().await;
    let mut a = app.keeper("keeper-a", ZS);
    receive(&mut a, TARP, "C-5", 20).await;
    let id = counted(&app, "C-5", 18, true).await;
    let req = pb::CancelStockCountRequest {
        request_id: rid(),
        count_id: id.clone(),
        reason: "改期重盘".into(),
        etag: String::new(),
    };
    let audit = app.audit_count().await;
    let answer = one_answer(at_once!(a, cancel_stock_count, req));
    let count = answer.count.unwrap();
    assert_eq!(count.status, pb::CountStatus::Cancelled as i32);
    assert_eq!(get_count(&app, &id).await, count, "one version: one change");
    assert!(
        entries(&app, TARP, "C-5", pb::EntryType::Adjustment)
            .await
            .is_empty()
    );
    assert_eq!(line(&app, TARP, "C-5").await, (20, 0, 20));
    assert_eq!(app.audit_count().await, audit + 1);
    app.assert_ledger_consistent().await;
    reuse_refused(
        a.clone()
            .cancel_stock_count(pb::CancelStockCountRequest {
                reason: "盘点人员不足".into(),
                ..req
            })
            .await,
    );
    assert_eq!(get_count(&app, &id).await, count);
    app.stop().await.unwrap();
}
