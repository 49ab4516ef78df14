//! Own subtree first, the reserve minimum, and the emergency path, each
//! with and without what lets an order through.

use super::*;
use reserve_tests::{T0, reason};
use tonic::Code;

#[tokio::test]
async fn reaching_up_while_the_own_county_has_spare_needs_a_justification_which_is_kept() {
    let app = TestApp::with_demo().await;
    // The county has 700 quilts, 200 above its minimum of 500.
    stock_in(&app, ZS, QUILT, "Q-1", 700, &[]).await;
    stock_in(&app, CITY, QUILT, "Q-C", 5_000, &[]).await;
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let o = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 100, &[(CITY, 100)])],
        ),
    )
    .await;
    let err = submit(&mut disp, &o.id).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(
        reason(&err).as_deref(),
        Some("OWN_SUBTREE_FIRST"),
        "{err:?}"
    );
    assert!(err.message().contains("200"), "{}", err.message());
    assert_eq!(
        state(&get(&mut disp, &o.id).await),
        pb::AllocationState::Draft
    );

    // Using the county's spare first is fine without a word.
    let mixed = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 300, &[(ZS, 200), (CITY, 100)])],
        ),
    )
    .await;
    assert!(submit(&mut disp, &mixed.id).await.is_ok());

    // With a justification the order goes up, and keeps it.
    let mut justified = transfer(
        pb::AllocationPriority::Routine,
        ZS1,
        vec![line(QUILT, 100, &[(CITY, 100)])],
    );
    justified.justification = "县库存量须留守本县其余乡镇".into();
    let j = raise(&mut disp, justified).await;
    let j = submit(&mut disp, &j.id).await.unwrap();
    assert_eq!(j.justification, "县库存量须留守本县其余乡镇");
    // The county dispatcher cannot approve a city source; the city's can.
    let err = approve(&mut disp, &j.id).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let ok = approve(&mut dispatcher(&app, "disp@SY", CITY), &j.id)
        .await
        .unwrap();
    assert_eq!(state(&ok), pb::AllocationState::Approved);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn an_order_never_takes_a_source_below_its_minimum_unless_it_is_an_emergency() {
    let app = TestApp::with_demo().await;
    // 600 quilts at the county, minimum 500: 200 would leave 400.
    stock_in(&app, ZS, QUILT, "Q-1", 600, &[]).await;
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let mut chief = dispatcher(&app, "chief@ZS", ZS);
    let routine = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 200, &[(ZS, 200)])],
        ),
    )
    .await;
    submit(&mut disp, &routine.id).await.unwrap();
    let err = approve(&mut chief, &routine.id).await.unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("BELOW_RESERVE_MINIMUM"),
        "{err:?}"
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 600, 0, 0)]
    );

    let urgent = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Emergency,
            ZS1,
            vec![line(QUILT, 200, &[(ZS, 200)])],
        ),
    )
    .await;
    submit(&mut disp, &urgent.id).await.unwrap();
    let ok = approve(&mut chief, &urgent.id).await.unwrap();
    assert_eq!(ok.minimum_overrides.len(), 1);
    let o = &ok.minimum_overrides[0];
    assert_eq!(
        (
            o.source_depot_code.as_str(),
            o.minimum,
            o.available_after,
            o.decided_by.as_str()
        ),
        (ZS, 500, 400, "chief@ZS")
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 600, 200, 0)]
    );
    // Held units are not allocated: holding 350 leaves 50 free.
    app.keeper("keeper@HB-SY-ZS", ZS)
        .hold_stock(pb::HoldStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: QUILT.into(),
            lot_number: "Q-1".into(),
            quantity: 350,
            reason: pb::HoldReason::Damage as i32,
            note: "受潮".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let more = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Emergency,
            ZS2,
            vec![line(QUILT, 60, &[(ZS, 60)])],
        ),
    )
    .await;
    submit(&mut disp, &more.id).await.unwrap();
    let err = approve(&mut chief, &more.id).await.unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("INSUFFICIENT_STOCK"),
        "{err:?}"
    );
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn an_emergency_order_goes_before_approval_and_its_backfill_is_overdue_after_48_hours() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 1_000, &[]).await;
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let o = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Emergency,
            ZS1,
            vec![line(QUILT, 300, &[(ZS, 300)])],
        ),
    )
    .await;
    submit(&mut disp, &o.id).await.unwrap();
    // A routine order cannot go before approval.
    let routine = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS2,
            vec![line(QUILT, 10, &[(ZS, 10)])],
        ),
    )
    .await;
    submit(&mut disp, &routine.id).await.unwrap();
    let err = dispatch(&mut keeper(&app, ZS), &routine.id, ZS)
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("INVALID_STATE_TRANSITION"));

    let sent = dispatch(&mut keeper(&app, ZS), &o.id, ZS).await.unwrap();
    assert_eq!(state(&sent), pb::AllocationState::Dispatched);
    assert_eq!(
        sent.backfill_due_time.as_ref().unwrap().seconds,
        T0 / 1000 + 48 * 3600
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 700, 0, 0)]
    );

    let overdue = |app: &TestApp| {
        let mut c = dispatcher(app, "disp@SY", CITY);
        async move {
            c.list_overdue_backfills(pb::ListOverdueBackfillsRequest::default())
                .await
                .unwrap()
                .into_inner()
                .orders
                .into_iter()
                .map(|o| o.number)
                .collect::<Vec<_>>()
        }
    };
    app.clock.set(T0 + 47 * 3_600_000 + 59 * 60_000);
    assert!(overdue(&app).await.is_empty());
    app.clock.set(T0 + 48 * 3_600_000 + 60_000);
    assert_eq!(overdue(&app).await, vec![o.number.clone()]);

    // Received, it still cannot close until the approval is back-filled.
    let got = receive_all(&mut keeper(&app, ZS1), &sent).await.unwrap();
    assert_eq!(state(&got), pb::AllocationState::Received);
    let close = |c: &mut Orders| {
        let mut c = c.clone();
        let id = o.id.clone();
        async move {
            c.close_allocation_order(pb::CloseAllocationOrderRequest {
                request_id: rid(),
                order_id: id,
                note: String::new(),
                etag: String::new(),
            })
            .await
        }
    };
    let err = close(&mut disp).await.unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("BACKFILL_PENDING"));
    let filled = approve(&mut dispatcher(&app, "chief@ZS", ZS), &o.id)
        .await
        .unwrap();
    assert_eq!(
        filled.timeline.last().unwrap().action,
        "approved (back-filled)"
    );
    assert!(overdue(&app).await.is_empty());
    assert!(close(&mut disp).await.is_ok());
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn a_dispatcher_calls_off_a_source_that_cannot_send_and_the_order_completes_on_what_left() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 1_000, &[]).await;
    stock_in(&app, ZS2, QUILT, "Q-2", 100, &[]).await;
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let o = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 150, &[(ZS, 100), (ZS2, 50)])],
        ),
    )
    .await;
    submit(&mut disp, &o.id).await.unwrap();
    approve(&mut dispatcher(&app, "chief@ZS", ZS), &o.id)
        .await
        .unwrap();
    dispatch(&mut keeper(&app, ZS), &o.id, ZS).await.unwrap();
    // 宝丰镇's point is cut off by the flood: the dispatcher calls off its part.
    let rest = disp
        .cancel_allocation_order(pb::CancelAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            reason: "宝丰镇道路中断".into(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(state(&rest), pb::AllocationState::Dispatched);
    assert_eq!(
        lines(&app, ZS2, QUILT).await,
        vec![("Q-2".into(), 100, 0, 0)]
    );
    assert!(
        rest.dispatches
            .iter()
            .any(|d| d.source_depot_code == ZS2 && d.cancelled)
    );
    let got = receive_all(&mut keeper(&app, ZS1), &rest).await.unwrap();
    assert_eq!(state(&got), pb::AllocationState::Received);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn before_approval_only_depots_under_the_command_depot_send() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 1_000, &[]).await;
    stock_in(&app, FX, QUILT, "Q-F", 1_000, &[]).await;
    // 竹山县's dispatcher raises an emergency order reaching into 房县.
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let mut o = transfer(
        pb::AllocationPriority::Emergency,
        ZS1,
        vec![line(QUILT, 300, &[(ZS, 100), (FX, 200)])],
    );
    o.justification = "本县不足".into();
    let o = raise(&mut disp, o).await;
    submit(&mut disp, &o.id).await.unwrap();
    assert!(dispatch(&mut keeper(&app, ZS), &o.id, ZS).await.is_ok());
    let err = dispatch(&mut keeper(&app, FX), &o.id, FX)
        .await
        .unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("APPROVAL_REQUIRED"),
        "{err:?}"
    );
    assert_eq!(
        lines(&app, FX, QUILT).await,
        vec![("Q-F".into(), 1_000, 0, 0)]
    );
    // The city's dispatcher back-fills the approval; then 房县 sends.
    let filled = approve(&mut dispatcher(&app, "disp@SY", CITY), &o.id)
        .await
        .unwrap();
    assert_eq!(
        lines(&app, FX, QUILT).await,
        vec![("Q-F".into(), 1_000, 200, 0)]
    );
    assert!(!filled.approved_by.is_empty());
    assert!(dispatch(&mut keeper(&app, FX), &o.id, FX).await.is_ok());
    app.assert_ledger_consistent().await;
}
