//! A flood order from need to receipt, and generators to an incident site:
//! stock, reservations and transit right at every step, every step in the
//! timeline and the audit log.

use super::*;
use prost_types::Timestamp;
use reserve_tests::{T0, struct_json};

async fn flood_incident(app: &TestApp) -> String {
    app.incident(&app.token_for("disp@ZS", &[Role::Dispatcher], ZS))
        .create_incident(pb::CreateIncidentRequest {
            request_id: rid(),
            incident: Some(pb::Incident {
                name: "2026年11月竹山县暴雨洪涝".into(),
                r#type: pb::IncidentType::Flood as i32,
                occur_time: Some(Timestamp {
                    seconds: T0 / 1000 - 3600,
                    nanos: 0,
                }),
                place: Some(pb::Place {
                    lat_lng: Some(LatLng {
                        latitude: 32.2250,
                        longitude: 110.2291,
                    }),
                    address: "竹山县城关镇".into(),
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .incident
        .unwrap()
        .id
}

#[tokio::test]
async fn a_flood_order_goes_from_need_to_receipt_with_stock_right_at_every_step() {
    let app = TestApp::with_demo().await;
    // The county holds 1,100 quilts in two lots (Q-2028 expires first) and
    // 100 tents; its norms are 500 quilts and 50 tents.
    stock_in(&app, ZS, QUILT, "Q-2029", 800, &[]).await;
    app.keeper("keeper@HB-SY-ZS", ZS)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: QUILT.into(),
            lot_number: "Q-2028".into(),
            expiry_date: date(2028, 6, 1),
            quantity: 300,
            ..Default::default()
        })
        .await
        .unwrap();
    stock_in(&app, ZS, TENT, "T-1", 100, &[]).await;
    let before = network_total(&app, QUILT).await;
    assert_eq!(before, (1100, 0));

    let incident = flood_incident(&app).await;
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let mut o = transfer(
        pb::AllocationPriority::Urgent,
        ZS1,
        vec![line(QUILT, 500, &[(ZS, 500)]), line(TENT, 20, &[(ZS, 20)])],
    );
    o.incident_id = incident.clone();
    let o = raise(&mut disp, o).await;
    assert!(o.number.starts_with("DB-2026-"), "{}", o.number);
    assert_eq!(state(&o), pb::AllocationState::Draft);
    submit(&mut disp, &o.id).await.unwrap();
    // Two signatures: the dispatcher who raised it does not approve it.
    let own = approve(&mut disp, &o.id).await.unwrap_err();
    assert_eq!(own.code(), tonic::Code::PermissionDenied, "{own:?}");
    let mut boss = dispatcher(&app, "chief@ZS", ZS);
    let approved = approve(&mut boss, &o.id).await.unwrap();
    assert_eq!(state(&approved), pb::AllocationState::Approved);
    // First expired first out: all of Q-2028, then 200 of Q-2029, reserved
    // at the county and owned by the order.
    let q = lines(&app, ZS, QUILT).await;
    assert!(q.contains(&("Q-2028".into(), 300, 300, 0)), "{q:?}");
    assert!(q.contains(&("Q-2029".into(), 800, 200, 0)), "{q:?}");
    assert_eq!(approved.lines[0].shares.len(), 2);

    let sent = dispatch(&mut keeper(&app, ZS), &o.id, ZS).await.unwrap();
    assert_eq!(state(&sent), pb::AllocationState::Dispatched);
    let q = lines(&app, ZS, QUILT).await;
    assert!(q.contains(&("Q-2028".into(), 0, 0, 0)), "{q:?}");
    assert!(q.contains(&("Q-2029".into(), 600, 0, 0)), "{q:?}");
    // On the road: visible in the roll-up, and nothing lost.
    assert_eq!(network_total(&app, QUILT).await, (600, 500));

    // The township keeper receives in two goes: the first truck, then the
    // rest with three damaged quilts and two missing.
    let mut town = keeper(&app, ZS1);
    let first = town
        .receive_allocation_order(pb::ReceiveAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            shares: vec![pb::ReceivedShare {
                line_number: 1,
                source_depot_code: ZS.into(),
                lot_number: "Q-2028".into(),
                received: 300,
                ..Default::default()
            }],
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(state(&first), pb::AllocationState::Dispatched);
    assert_eq!(network_total(&app, QUILT).await, (900, 200));
    let rest = town
        .receive_allocation_order(pb::ReceiveAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            shares: vec![
                pb::ReceivedShare {
                    line_number: 1,
                    source_depot_code: ZS.into(),
                    lot_number: "Q-2029".into(),
                    received: 195,
                    damaged: 3,
                    short: 2,
                    reason: "途中遇雨，3床受潮，2床缺件".into(),
                    ..Default::default()
                },
                pb::ReceivedShare {
                    line_number: 2,
                    source_depot_code: ZS.into(),
                    lot_number: "T-1".into(),
                    received: 20,
                    ..Default::default()
                },
            ],
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(state(&rest), pb::AllocationState::Received);
    // Lot and expiry kept; damaged units came in held; the township owns them.
    let q = lines(&app, ZS1, QUILT).await;
    assert!(q.contains(&("Q-2028".into(), 300, 0, 0)), "{q:?}");
    assert!(q.contains(&("Q-2029".into(), 198, 0, 3)), "{q:?}");
    let owned = app
        .stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: ZS1.into(),
            item_id: QUILT.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert!(
        owned
            .iter()
            .all(|l| l.owning_tier == pb::Tier::Township as i32)
    );
    // Conservation: only the recorded shortfall left the books.
    assert_eq!(network_total(&app, QUILT).await, (1098, 0));

    let closed = disp
        .close_allocation_order(pb::CloseAllocationOrderRequest {
            request_id: rid(),
            order_id: o.number.clone(),
            note: "已全部入库".into(),
            etag: rest.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(state(&closed), pb::AllocationState::Closed);
    let actions: Vec<(&str, &str)> = closed
        .timeline
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("created", "disp@ZS"),
            ("submitted", "disp@ZS"),
            ("approved", "chief@ZS"),
            ("dispatched", "keeper@HB-SY-ZS"),
            ("received", "keeper@HB-SY-ZS-01"),
            ("received", "keeper@HB-SY-ZS-01"),
            ("closed", "disp@ZS"),
        ]
    );
    assert!(
        closed.timeline[5].note.contains("2 short"),
        "{:?}",
        closed.timeline[5]
    );
    assert_eq!(closed.incident_id, incident);
    // Every step is in the audit log, under the order.
    let events = app
        .audit(&app.root_admin())
        .list_audit_events(pb::ListAuditEventsRequest {
            resource: format!("allocationOrders/{}", o.id),
            depot_code: "HB".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), 7, "{events:?}");
    let approval = events
        .iter()
        .find(|e| e.method.ends_with("ApproveAllocationOrder"))
        .unwrap();
    let changes = struct_json(approval.changes.as_ref().unwrap());
    assert_eq!(changes["posted"].as_array().unwrap().len(), 3, "{changes}");
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn generators_go_to_an_incident_site_and_leave_the_books_when_the_site_confirms() {
    let app = TestApp::with_demo().await;
    stock_in(
        &app,
        ZS,
        GEN,
        "G-2026",
        0,
        &["GEN-1", "GEN-2", "GEN-3", "GEN-4"],
    )
    .await;
    let incident = flood_incident(&app).await;
    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    // An emergency order: the county's minimum of 2 generators may be broken.
    let o = raise(
        &mut disp,
        to_site(&incident, vec![line(GEN, 3, &[(ZS, 3)])]),
    )
    .await;
    submit(&mut disp, &o.id).await.unwrap();
    let ok = approve(&mut dispatcher(&app, "chief@ZS", ZS), &o.id)
        .await
        .unwrap();
    assert_eq!(ok.minimum_overrides.len(), 1);
    assert_eq!(ok.minimum_overrides[0].decided_by, "chief@ZS");
    assert_eq!(ok.minimum_overrides[0].available_after, 1);
    let share = &ok.lines[0].shares[0];
    assert_eq!(share.serial_numbers, vec!["GEN-1", "GEN-2", "GEN-3"]);
    let asset = |s: &str| {
        let app = &app;
        let s = s.to_string();
        async move {
            app.stock(&app.root_admin())
                .get_asset(pb::GetAssetRequest {
                    item_id: GEN.into(),
                    serial_number: s,
                })
                .await
                .unwrap()
                .into_inner()
                .asset
                .unwrap()
        }
    };
    assert_eq!(
        asset("GEN-2").await.status,
        pb::AssetStatus::Reserved as i32
    );
    // GEN-3 fails its test run: two leave.
    let sent = keeper(&app, ZS)
        .dispatch_allocation_order(pb::DispatchAllocationOrderRequest {
            request_id: rid(),
            order_id: o.id.clone(),
            source_depot_code: ZS.into(),
            short_shares: vec![pb::DispatchedShare {
                line_number: 1,
                lot_number: "G-2026".into(),
                serial_numbers: vec!["GEN-1".into(), "GEN-2".into()],
                ..Default::default()
            }],
            note: "GEN-3试机未通过".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(asset("GEN-3").await.status, pb::AssetStatus::InStock as i32);
    assert_eq!(
        asset("GEN-1").await.status,
        pb::AssetStatus::InTransit as i32
    );
    assert_eq!(lines(&app, ZS, GEN).await, vec![("G-2026".into(), 2, 0, 0)]);
    // The keeper of a site does not exist: the dispatcher confirms.
    let refused = receive_all(&mut keeper(&app, ZS), &sent).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let got = receive_all(&mut disp, &sent).await.unwrap();
    assert_eq!(state(&got), pb::AllocationState::Received);
    assert_eq!(asset("GEN-1").await.status, pb::AssetStatus::Issued as i32);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn what_went_to_an_incident_is_read_from_the_ledger_by_issue_and_by_order() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 1_000, &[]).await;
    let incident = flood_incident(&app).await;
    let mut k = app.keeper("keeper@HB-SY-ZS", ZS);
    let issue = |incident: &str, purpose: pb::IssuePurpose| pb::IssueStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: QUILT.into(),
        quantity: 10,
        purpose: purpose as i32,
        recipient: "城关镇安置点".into(),
        incident_id: incident.into(),
        ..Default::default()
    };
    let unknown = k
        .issue_stock(issue("0193-no-such-incident", pb::IssuePurpose::Incident))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound, "{unknown:?}");
    let for_use = k
        .issue_stock(issue(&incident, pb::IssuePurpose::Use))
        .await
        .unwrap_err();
    assert_eq!(
        reserve_tests::violated_fields(&for_use),
        vec!["incident_id"]
    );
    assert_eq!(
        lines(&app, ZS, QUILT).await,
        vec![("Q-1".into(), 1_000, 0, 0)]
    );
    k.issue_stock(issue(&incident, pb::IssuePurpose::Incident))
        .await
        .unwrap();

    let mut disp = dispatcher(&app, "disp@ZS", ZS);
    let o = raise(
        &mut disp,
        to_site(&incident, vec![line(QUILT, 50, &[(ZS, 50)])]),
    )
    .await;
    submit(&mut disp, &o.id).await.unwrap();
    approve(&mut dispatcher(&app, "chief@ZS", ZS), &o.id)
        .await
        .unwrap();
    dispatch(&mut keeper(&app, ZS), &o.id, ZS).await.unwrap();
    let went = app
        .stock(&app.root_admin())
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            depot_code: "HB".into(),
            incident_id: incident.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let kinds: Vec<(i32, i64, String)> = went
        .iter()
        .map(|e| (e.entry_type, e.quantity, e.document.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (pb::EntryType::TransferOut as i32, -50, o.number.clone()),
            (pb::EntryType::Reserve as i32, 0, o.number.clone()),
            (pb::EntryType::Issue as i32, -10, String::new()),
        ]
    );
    assert!(went.iter().all(|e| e.incident_id == incident));
    app.assert_ledger_consistent().await;
}
