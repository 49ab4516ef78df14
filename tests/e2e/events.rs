//! The live event stream: order transitions in order, resuming after a
//! reconnect with no gap and no repeat, nothing outside the subscriber's
//! scope, writes through a second server on the same PostgreSQL, and alerts.

use crate::allocation::{
    Orders, QUILT, ZS, ZS1, approve, dispatch, dispatcher, keeper, line, raise, receive_all,
    stock_in, submit, transfer,
};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::event_service_client::EventServiceClient;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{T0, TestApp, postgres_admin_url, rid};
use std::time::Duration;
use tonic::Streaming;

const FX: &str = "HB-SY-FX";

async fn watch(
    app: &TestApp,
    scope: &str,
    after: i64,
    kinds: Vec<pb::EventKind>,
) -> Streaming<pb::WatchEventsResponse> {
    EventServiceClient::new(app.authed(Some(&app.token_for("watcher", &[Role::Auditor], scope))))
        .watch_events(pb::WatchEventsRequest {
            after_id: after,
            depot_code: String::new(),
            kinds: kinds.into_iter().map(|k| k as i32).collect(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Reads events until `n` have come, or fails after 10 s.
async fn take(s: &mut Streaming<pb::WatchEventsResponse>, n: usize) -> Vec<pb::Event> {
    let mut out = Vec::new();
    while out.len() < n {
        let got = tokio::time::timeout(Duration::from_secs(10), s.message())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} events came: {out:?}", out.len()))
            .unwrap()
            .unwrap();
        out.extend(got.events);
    }
    out
}

/// Nothing more comes within `ms`.
async fn quiet(s: &mut Streaming<pb::WatchEventsResponse>, ms: u64) {
    if let Ok(Ok(Some(m))) = tokio::time::timeout(Duration::from_millis(ms), s.message()).await {
        panic!("unexpected events: {:?}", m.events);
    }
}

fn order_events(events: &[pb::Event], id: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.resource == format!("allocationOrders/{id}"))
        .map(|e| e.method.rsplit('/').next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn order_transitions_arrive_in_order_and_a_reconnect_misses_nothing() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 1_000, &[]).await;
    let mut s = watch(&app, "HB", 0, vec![pb::EventKind::Document]).await;
    let mut disp: Orders = dispatcher(&app, "disp@ZS", ZS);
    let o = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 100, &[(ZS, 100)])],
        ),
    )
    .await;
    submit(&mut disp, &o.id).await.unwrap();
    approve(&mut dispatcher(&app, "chief@ZS", ZS), &o.id)
        .await
        .unwrap();
    let first = take(&mut s, 3).await;
    assert_eq!(
        order_events(&first, &o.id),
        vec![
            "CreateAllocationOrder",
            "SubmitAllocationOrder",
            "ApproveAllocationOrder"
        ]
    );
    assert!(first.windows(2).all(|w| w[0].id < w[1].id));
    assert!(
        first
            .iter()
            .all(|e| e.kind == pb::EventKind::Document as i32)
    );
    let last = first.last().unwrap().id;
    drop(s);
    // Gone while the order moved on.
    let sent = dispatch(&mut keeper(&app, ZS), &o.id, ZS).await.unwrap();
    receive_all(&mut keeper(&app, ZS1), &sent).await.unwrap();
    let mut again = watch(&app, "HB", last, vec![]).await;
    let rest = take(&mut again, 2).await;
    assert_eq!(rest[0].id, last + 1, "no gap: {rest:?}");
    assert!(rest.windows(2).all(|w| w[1].id == w[0].id + 1), "{rest:?}");
    assert_eq!(
        order_events(&rest, &o.id),
        vec!["DispatchAllocationOrder", "ReceiveAllocationOrder"]
    );
    quiet(&mut again, 500).await;
}

#[tokio::test]
async fn a_subscriber_never_sees_events_outside_its_scope() {
    let app = TestApp::with_demo().await;
    let mut fx = watch(&app, FX, 0, vec![pb::EventKind::Stock]).await;
    stock_in(&app, ZS, QUILT, "Q-1", 10, &[]).await;
    stock_in(&app, FX, QUILT, "Q-2", 10, &[]).await;
    let got = take(&mut fx, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].depot_code, FX);
    assert_eq!(got[0].kind, pb::EventKind::Stock as i32);
    quiet(&mut fx, 500).await;
    // Resuming after an id the stream never gave is refused.
    let e = EventServiceClient::new(app.authed(Some(&app.token_for("w", &[Role::Auditor], FX))))
        .watch_events(pb::WatchEventsRequest {
            after_id: 1_000_000,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reserve_tests::violated_fields(&e), vec!["after_id"]);
    // Asking for a subtree outside one's scope is refused.
    let e = EventServiceClient::new(app.authed(Some(&app.token_for("w", &[Role::Auditor], FX))))
        .watch_events(pb::WatchEventsRequest {
            depot_code: ZS.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
}

#[tokio::test]
async fn a_write_through_a_second_server_on_the_same_postgres_reaches_every_subscriber() {
    if postgres_admin_url().is_none() {
        eprintln!(
            "RESERVE_TEST_DATABASE_URL not set: two servers need PostgreSQL; skipped on SQLite"
        );
        return;
    }
    let app = TestApp::with_demo().await;
    let twin = app.twin().await;
    let mut s = watch(&app, "HB", 0, vec![pb::EventKind::Stock]).await;
    let token = app.token_for("keeper@HB-SY-ZS", &[Role::DepotKeeper], ZS);
    for (i, lot) in ["A", "B", "C"].iter().enumerate() {
        let mut k = if i % 2 == 0 {
            StockServiceClient::new(twin.authed(&token))
        } else {
            app.stock(&token)
        };
        k.receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: QUILT.into(),
            lot_number: lot.to_string(),
            expiry_date: reserve_tests::date(2031, 1, 1),
            quantity: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let got = take(&mut s, 3).await;
    // Other kinds (the twin's start-up alerts) fall between: ids only grow.
    assert!(got.windows(2).all(|w| w[1].id > w[0].id), "{got:?}");
    let lots: Vec<String> = got
        .iter()
        .map(|e| {
            e.detail.as_ref().map(reserve_tests::struct_json).unwrap()["received"][0]["lot"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(lots, vec!["A", "B", "C"]);
}

#[tokio::test]
async fn alerts_come_once_when_stock_falls_below_its_minimum() {
    let app = TestApp::with_demo().await;
    // 竹山县's quilt minimum is 500. The empty demo depots are all below
    // their minimums: those alerts were raised at start. Stocking the
    // county clears its quilt alert at the next scan.
    stock_in(&app, ZS, QUILT, "Q-1", 600, &[]).await;
    app.clock.set(T0 + 60_000);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut s = watch(&app, ZS, 0, vec![pb::EventKind::AlertLowStock]).await;
    app.keeper("keeper@HB-SY-ZS", ZS)
        .issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: QUILT.into(),
            quantity: 150,
            purpose: pb::IssuePurpose::Incident as i32,
            recipient: "城关镇".into(),
            override_reserve_minimum: true,
            override_reason: "县指挥部命令".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // The scan runs when the clock moves on.
    app.clock.set(T0 + 120_000);
    let got = take(&mut s, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let detail = reserve_tests::struct_json(got[0].detail.as_ref().unwrap());
    assert_eq!(got[0].resource, format!("depots/{ZS}/stock/{QUILT}"));
    assert_eq!(
        (detail["minimum"].as_i64(), detail["available"].as_i64()),
        (Some(500), Some(450))
    );
    // Raised once while it holds.
    app.clock.set(T0 + 180_000);
    quiet(&mut s, 600).await;
}

#[tokio::test]
async fn a_watch_ends_with_where_to_resume_when_the_server_drains() {
    let app = TestApp::with_demo().await;
    let mut s = watch(&app, "HB", 0, vec![]).await;
    let stopping = tokio::spawn(app.stop());
    let end = tokio::time::timeout(Duration::from_secs(10), s.message())
        .await
        .expect("the stream ends");
    let status = end.expect_err("the stream ends with a status");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(status.message().contains("after_id"), "{status:?}");
    stopping.await.unwrap().unwrap();
}
