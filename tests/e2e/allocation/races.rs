//! Races for the last units (one server, and two servers on one
//! PostgreSQL), and the same request sent many times at once for every
//! action: identical answers, one effect.

use super::*;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;
use reserve_tests::{postgres_admin_url, reason};

/// Two submitted orders, each for all 50 free tents above nothing (the
/// township has no norm).
async fn two_orders_for_the_last_units(app: &TestApp) -> (String, String) {
    stock_in(app, ZS1, TENT, "T-1", 50, &[]).await;
    let mut disp = dispatcher(app, "disp@ZS", ZS);
    let mut ids = Vec::new();
    for to in [ZS2, "HB-SY-ZS-03"] {
        let mut o = transfer(
            pb::AllocationPriority::Routine,
            to,
            vec![line(TENT, 50, &[(ZS1, 50)])],
        );
        o.justification = "邻镇互助".into();
        let o = raise(&mut disp, o).await;
        submit(&mut disp, &o.id).await.unwrap();
        ids.push(o.id);
    }
    (ids[0].clone(), ids[1].clone())
}

async fn exactly_one_wins(app: &TestApp, results: Vec<Result<pb::AllocationOrder, tonic::Status>>) {
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for r in &results {
        if let Err(e) = r {
            assert_eq!(reason(e).as_deref(), Some("INSUFFICIENT_STOCK"), "{e:?}");
        }
    }
    assert_eq!(lines(app, ZS1, TENT).await, vec![("T-1".into(), 50, 50, 0)]);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn two_orders_race_for_the_last_units_and_exactly_one_is_approved() {
    let app = TestApp::with_demo().await;
    let (a, b) = two_orders_for_the_last_units(&app).await;
    let mut c1 = dispatcher(&app, "chief@ZS", ZS);
    let mut c2 = dispatcher(&app, "deputy@ZS", ZS);
    let (r1, r2) = tokio::join!(approve(&mut c1, &a), approve(&mut c2, &b));
    exactly_one_wins(&app, vec![r1, r2]).await;
}

#[tokio::test]
async fn two_servers_on_one_postgres_race_for_the_last_units_and_exactly_one_wins() {
    if postgres_admin_url().is_none() {
        eprintln!(
            "RESERVE_TEST_DATABASE_URL not set: two servers need PostgreSQL; skipped on SQLite"
        );
        return;
    }
    let app = TestApp::with_demo().await;
    let twin = app.twin().await;
    for _ in 0..3 {
        let (a, b) = two_orders_for_the_last_units(&app).await;
        let token = app.token_for("chief@ZS", &[Role::Dispatcher], ZS);
        let mut c1 = app.allocation(&token);
        let mut c2 = AllocationServiceClient::new(twin.authed(&token));
        let (r1, r2) = tokio::join!(approve(&mut c1, &a), approve(&mut c2, &b));
        exactly_one_wins(&app, vec![r1, r2]).await;
        // Free the tents for the next round: cancel the winner.
        for id in [a, b] {
            let o = get(&mut c1, &id).await;
            if state(&o) == pb::AllocationState::Approved {
                c1.cancel_allocation_order(pb::CancelAllocationOrderRequest {
                    request_id: rid(),
                    order_id: id,
                    reason: "下一轮".into(),
                    etag: String::new(),
                })
                .await
                .unwrap();
            }
        }
        app.keeper("keeper@HB-SY-ZS-01", ZS1)
            .issue_stock(pb::IssueStockRequest {
                request_id: rid(),
                depot_code: ZS1.into(),
                item_id: TENT.into(),
                quantity: 50,
                recipient: "城关镇安置点".into(),
                purpose: pb::IssuePurpose::Incident as i32,
                ..Default::default()
            })
            .await
            .unwrap();
    }
}

/// Sends the same request `n` times at once; every answer must equal the
/// first, and only one effect may show.
macro_rules! same_answer {
    ($client:expr, $method:ident, $req:expr, $n:expr) => {{
        let req = $req;
        let calls = (0..$n).map(|_| {
            let mut c = $client.clone();
            let r = req.clone();
            async move { c.$method(r).await.map(|r| r.into_inner()) }
        });
        let answers = futures::future::join_all(calls).await;
        let first = answers[0].as_ref().expect("first answer").clone();
        for a in &answers {
            assert_eq!(a.as_ref().expect("answer"), &first);
        }
        first
    }};
}

#[tokio::test]
async fn every_action_sent_eight_times_at_once_answers_the_same_and_acts_once() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 2_000, &[]).await;
    let disp = dispatcher(&app, "disp@ZS", ZS);
    let chief = dispatcher(&app, "chief@ZS", ZS);
    let sender = keeper(&app, ZS);
    let receiver = keeper(&app, ZS1);
    let audit0 = app.audit_count().await;
    let o = same_answer!(
        disp,
        create_allocation_order,
        pb::CreateAllocationOrderRequest {
            request_id: rid(),
            order: Some(transfer(
                pb::AllocationPriority::Routine,
                ZS1,
                vec![line(QUILT, 100, &[(ZS, 100)])]
            )),
        },
        8
    )
    .order
    .unwrap();
    let listed = disp
        .clone()
        .list_allocation_orders(pb::ListAllocationOrdersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .orders;
    assert_eq!(listed.len(), 1);
    let mut amended = transfer(
        pb::AllocationPriority::Urgent,
        ZS1,
        vec![line(QUILT, 120, &[(ZS, 120)])],
    );
    amended.id = o.id.clone();
    same_answer!(
        disp,
        amend_allocation_order,
        pb::AmendAllocationOrderRequest {
            request_id: rid(),
            order: Some(amended),
            etag: o.etag.clone(),
        },
        8
    );
    same_answer!(
        disp,
        submit_allocation_order,
        pb::SubmitAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            etag: String::new(),
        },
        8
    );
    same_answer!(
        chief,
        approve_allocation_order,
        pb::ApproveAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            note: String::new(),
            etag: String::new(),
            ..Default::default()
        },
        8
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 2_000, 120, 0)]
    );
    same_answer!(
        sender,
        dispatch_allocation_order,
        pb::DispatchAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            source_depot_code: ZS.into(),
            ..Default::default()
        },
        8
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 1_880, 0, 0)]
    );
    let receipt = pb::ReceiveAllocationOrderRequest {
        request_id: rid(),
        order_id: o.id.clone(),
        shares: vec![pb::ReceivedShare {
            line_number: 1,
            source_depot_code: ZS.into(),
            lot_number: "Q-1".into(),
            received: 60,
            ..Default::default()
        }],
        etag: String::new(),
    };
    same_answer!(receiver, receive_allocation_order, receipt.clone(), 8);
    assert_eq!(
        lines(&app, ZS1, QUILT).await,
        vec![("Q-1".into(), 60, 0, 0)]
    );
    let mut rest = receipt;
    rest.request_id = rid();
    same_answer!(receiver, receive_allocation_order, rest, 8);
    assert_eq!(
        lines(&app, ZS1, QUILT).await,
        vec![("Q-1".into(), 120, 0, 0)]
    );
    same_answer!(
        disp,
        close_allocation_order,
        pb::CloseAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            note: String::new(),
            etag: String::new(),
        },
        8
    );
    // A second order for reject and cancel.
    let mut d = disp.clone();
    let two = raise(
        &mut d,
        transfer(
            pb::AllocationPriority::Routine,
            ZS2,
            vec![line(QUILT, 10, &[(ZS, 10)])],
        ),
    )
    .await;
    submit(&mut d, &two.id).await.unwrap();
    same_answer!(
        chief,
        reject_allocation_order,
        pb::RejectAllocationOrderRequest {
            request_id: rid(),
            order_id: two.id.clone(),
            reason: "不需要".into(),
            etag: String::new(),
        },
        8
    );
    let three = raise(
        &mut d,
        transfer(
            pb::AllocationPriority::Routine,
            ZS2,
            vec![line(QUILT, 10, &[(ZS, 10)])],
        ),
    )
    .await;
    submit(&mut d, &three.id).await.unwrap();
    approve(&mut chief.clone(), &three.id).await.unwrap();
    same_answer!(
        disp,
        cancel_allocation_order,
        pb::CancelAllocationOrderRequest {
            request_id: rid(),
            order_id: three.id.clone(),
            reason: "灾情解除".into(),
            etag: String::new(),
        },
        8
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 1_880, 0, 0)]
    );
    // One audit event per effect: 8 on the first order (create, amend,
    // submit, approve, dispatch, two receipts, close), 3 and 4 on the others.
    assert_eq!(app.audit_count().await - audit0, 8 + 3 + 4);
    app.assert_ledger_consistent().await;
}
