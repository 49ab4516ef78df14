//! The suspected defects of the network under concurrency (issue 8), each
//! raced many times: closing a depot while stock arrives, creating a depot
//! under a parent being closed, updating without an etag, and moving a depot
//! under a parent whose own subtree is moving. On PostgreSQL these run truly
//! in parallel; on SQLite the writer serialises them, and they must hold too.

use futures::future::join_all;
use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::{TestApp, depot, reason, rid};
use tonic::Code;

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|s| s.to_string()).collect(),
    })
}

async fn status_of(app: &TestApp, code: &str) -> i32 {
    app.network(&app.root_admin())
        .get_depot(pb::GetDepotRequest { code: code.into() })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap()
        .status
}

async fn on_hand(app: &TestApp, code: &str) -> i64 {
    app.stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: code.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .iter()
        .map(|l| l.on_hand)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_depot_closing_while_stock_arrives_never_ends_closed_with_stock() {
    let app = TestApp::with_demo().await;
    let admin = app.root_admin();
    for round in 0..8 {
        let code = format!("HB-SY-ZS-R{round}");
        app.network(&admin)
            .create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(depot(
                    &code,
                    pb::Tier::Township,
                    "HB-SY-ZS",
                    &format!("42032391{round}"),
                )),
            })
            .await
            .unwrap();
        let keeper = app.keeper(&format!("keeper@{code}"), &code);
        let mut calls = Vec::new();
        for i in 0..6 {
            let mut k = keeper.clone();
            let code = code.clone();
            calls.push(tokio::spawn(async move {
                k.receive_stock(pb::ReceiveStockRequest {
                    request_id: rid(),
                    depot_code: code,
                    item_id: "tent-36m2".into(),
                    lot_number: format!("RACE-{i}"),
                    quantity: 3,
                    ..Default::default()
                })
                .await
                .map(|_| ())
            }));
        }
        let mut net = app.network(&admin);
        let closing = code.clone();
        let close = tokio::spawn(async move {
            net.close_depot(pb::CloseDepotRequest {
                request_id: rid(),
                code: closing,
                etag: String::new(),
                reason: "撤并".into(),
            })
            .await
            .map(|_| ())
        });
        for r in join_all(calls).await {
            if let Err(s) = r.unwrap() {
                assert_eq!(reason(&s).as_deref(), Some("DEPOT_NOT_ACTIVE"), "{s:?}");
            }
        }
        match close.await.unwrap() {
            Ok(()) => {
                assert_eq!(status_of(&app, &code).await, pb::DepotStatus::Closed as i32);
                assert_eq!(
                    on_hand(&app, &code).await,
                    0,
                    "round {round}: closed with stock"
                );
            }
            Err(s) => assert_eq!(reason(&s).as_deref(), Some("DEPOT_HAS_STOCK"), "{s:?}"),
        }
    }
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_depot_is_never_created_under_a_parent_that_closed() {
    let app = TestApp::with_demo().await;
    let admin = app.root_admin();
    for round in 0..8 {
        // A county of its own, with no stock and no children, then a race:
        // close it, and hang a township under it.
        let county = format!("HB-SY-C{round}");
        app.network(&admin)
            .create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(depot(&county, pb::Tier::County, "HB-SY", "420325")),
            })
            .await
            .unwrap();
        let mut a = app.network(&admin);
        let mut b = app.network(&admin);
        let (c1, c2) = (county.clone(), county.clone());
        let close = tokio::spawn(async move {
            a.close_depot(pb::CloseDepotRequest {
                request_id: rid(),
                code: c1,
                etag: String::new(),
                reason: "撤并".into(),
            })
            .await
        });
        let child = format!("{county}-T");
        let c3 = child.clone();
        let create = tokio::spawn(async move {
            b.create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(depot(&c3, pb::Tier::Township, &c2, "420325920")),
            })
            .await
        });
        let (closed, created) = (close.await.unwrap(), create.await.unwrap());
        match (&closed, &created) {
            (Ok(_), Err(s)) => assert_eq!(reason(s).as_deref(), Some("PARENT_CLOSED"), "{s:?}"),
            (Err(s), Ok(_)) => {
                assert_eq!(
                    reason(s).as_deref(),
                    Some("DEPOT_HAS_OPEN_CHILDREN"),
                    "{s:?}"
                )
            }
            other => panic!("round {round}: exactly one of close and create wins: {other:?}"),
        }
    }
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn updates_without_an_etag_never_answer_a_stale_etag() {
    let app = TestApp::with_demo().await;
    let admin = app.root_admin();
    let depots = (0..8).map(|i| {
        let mut net = app.network(&admin);
        tokio::spawn(async move {
            net.update_depot(pb::UpdateDepotRequest {
                request_id: rid(),
                depot: Some(pb::Depot {
                    code: "HB-SY-FX".into(),
                    name: format!("房县应急物资储备库（{i}）"),
                    ..Default::default()
                }),
                update_mask: mask(&["name"]),
            })
            .await
        })
    });
    let items = (0..8).map(|i| {
        let mut cat = app.catalog(&app.token(&[Role::Admin], "HB-SY"));
        tokio::spawn(async move {
            cat.update_item(pb::UpdateItemRequest {
                request_id: rid(),
                item: Some(pb::Item {
                    id: "tent-36m2".into(),
                    unit_value_fen: 520_000 + i,
                    ..Default::default()
                }),
                update_mask: mask(&["unit_value_fen"]),
            })
            .await
            .map(|_| ())
        })
    });
    let norms = (0..8).map(|i| {
        let mut cat = app.catalog(&admin);
        tokio::spawn(async move {
            cat.set_reserve_norm(pb::SetReserveNormRequest {
                request_id: rid(),
                norm: Some(pb::ReserveNorm {
                    depot_code: "HB-SY-FX".into(),
                    item_id: "tarpaulin".into(),
                    minimum: 10 + i,
                    target: 40,
                    ..Default::default()
                }),
            })
            .await
            .map(|_| ())
        })
    });
    for r in join_all(depots).await {
        let r = r.unwrap();
        assert!(r.is_ok(), "depot update without etag: {r:?}");
    }
    for r in join_all(items)
        .await
        .into_iter()
        .chain(join_all(norms).await)
    {
        let r = r.unwrap();
        assert!(r.is_ok(), "update without etag: {r:?}");
    }
    // With an etag, a stale one is still refused.
    let err = app
        .network(&admin)
        .update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY-FX".into(),
                name: "房县".into(),
                etag: "1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["name"]),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    app.stop().await.unwrap();
}

async fn ancestors(app: &TestApp, code: &str) -> Vec<String> {
    app.network(&app.root_admin())
        .list_ancestors(pb::ListAncestorsRequest { code: code.into() })
        .await
        .unwrap()
        .into_inner()
        .ancestors
        .into_iter()
        .map(|a| a.code)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_depot_moved_under_a_moving_parent_ends_with_the_right_path() {
    let app = TestApp::with_demo().await;
    let admin = app.root_admin();
    let mut net = app.network(&admin);
    // A second city base with the same division, so counties can move between them.
    net.create_depot(pb::CreateDepotRequest {
        request_id: rid(),
        depot: Some(depot("HB-SY2", pb::Tier::City, "HB", "420300")),
    })
    .await
    .unwrap();
    for round in 0..6 {
        let (a, b, t) = (
            format!("HB-SY-A{round}"),
            format!("HB-SY-B{round}"),
            format!("HB-SY-A{round}-T"),
        );
        for d in [
            depot(&a, pb::Tier::County, "HB-SY", "420325"),
            depot(&b, pb::Tier::County, "HB-SY", "420325"),
            depot(&t, pb::Tier::Township, &a, "420325930"),
        ] {
            net.create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(d),
            })
            .await
            .unwrap();
        }
        // Race: the township moves under B while B moves to the other city.
        let move_of = |code: &str, parent: &str| {
            let mut net = app.network(&admin);
            let req = pb::UpdateDepotRequest {
                request_id: rid(),
                depot: Some(pb::Depot {
                    code: code.into(),
                    parent_code: parent.into(),
                    ..Default::default()
                }),
                update_mask: mask(&["parent_code"]),
            };
            tokio::spawn(async move { net.update_depot(req).await.map(|_| ()) })
        };
        let moves = [move_of(&t, &b), move_of(&b, "HB-SY2")];
        for r in join_all(moves).await {
            r.unwrap().unwrap();
        }
        assert_eq!(ancestors(&app, &t).await, vec!["HB", "HB-SY2", b.as_str()]);
        assert_eq!(ancestors(&app, &b).await, vec!["HB", "HB-SY2"]);
        // The subtree listing of the new city finds both.
        let below: Vec<String> = net
            .list_descendants(pb::ListDescendantsRequest {
                code: "HB-SY2".into(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .depots
            .into_iter()
            .map(|d| d.code)
            .collect();
        assert!(
            below.contains(&b) && below.contains(&t),
            "round {round}: {below:?}"
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_depot_with_an_open_document_does_not_close_until_it_is_finished() {
    let app = TestApp::with_demo().await;
    let admin = app.root_admin();
    let code = "HB-SY-ZS-R9";
    let mut net = app.network(&admin);
    net.create_depot(pb::CreateDepotRequest {
        request_id: rid(),
        depot: Some(depot(code, pb::Tier::Township, "HB-SY-ZS", "420323919")),
    })
    .await
    .unwrap();
    let mut k = app.keeper("keeper@R9", code);
    let count = k
        .open_stock_count(pb::OpenStockCountRequest {
            request_id: rid(),
            depot_code: code.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    let close = || pb::CloseDepotRequest {
        request_id: rid(),
        code: code.into(),
        etag: String::new(),
        reason: "撤并".into(),
    };
    // A count still open could post found stock into a closed depot.
    let err = net.close_depot(close()).await.unwrap_err();
    assert_eq!(
        reason(&err).as_deref(),
        Some("DEPOT_HAS_OPEN_DOCUMENTS"),
        "{err:?}"
    );
    assert!(err.message().contains(&format!("stockCounts/{}", count.id)));
    k.cancel_stock_count(pb::CancelStockCountRequest {
        request_id: rid(),
        count_id: count.id,
        reason: "撤点".into(),
        etag: String::new(),
    })
    .await
    .unwrap();
    net.close_depot(close()).await.unwrap();
    assert_eq!(status_of(&app, code).await, pb::DepotStatus::Closed as i32);
    app.stop().await.unwrap();
}
