//! Many clients racing for the same units.

use reserve_api::pb::reserve::v1 as pb;
use reserve_tests::{TestApp, reason, rid};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_racing_for_fifty_units_get_exactly_fifty() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("keeper-zs", "HB-SY-ZS");
    k.receive_stock(pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: "HB-SY-ZS".into(),
        item_id: "tent-36m2".into(),
        lot_number: "RACE-1".into(),
        quantity: 50,
        ..Default::default()
    })
    .await
    .unwrap();

    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let mut c = app.keeper(&format!("keeper-{i}"), "HB-SY-ZS");
            tokio::spawn(async move {
                c.issue_stock(pb::IssueStockRequest {
                    request_id: rid(),
                    depot_code: "HB-SY-ZS".into(),
                    item_id: "tent-36m2".into(),
                    quantity: 1,
                    purpose: pb::IssuePurpose::Incident as i32,
                    recipient: "竹山县山洪".into(),
                    ..Default::default()
                })
                .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.into_inner().entries[0].quantity, -1);
                ok += 1;
            }
            Err(s) => {
                assert_eq!(s.code(), Code::FailedPrecondition, "{s:?}");
                assert_eq!(reason(&s).as_deref(), Some("INSUFFICIENT_STOCK"));
                refused += 1;
            }
        }
    }
    assert_eq!((ok, refused), (50, 14));
    let line = k
        .list_stock(pb::ListStockRequest {
            depot_code: "HB-SY-ZS".into(),
            item_id: "tent-36m2".into(),
            include_empty: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert_eq!((line[0].on_hand, line[0].available), (0, 0));
    let issues = k
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            depot_code: "HB-SY-ZS".into(),
            entry_type: pb::EntryType::Issue as i32,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(issues.len(), 50);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
