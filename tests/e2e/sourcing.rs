//! Sourcing proposals on the demo network, enterprise reserves and their
//! call-offs, readiness against the first-batch targets, and who may ask.

use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::enterprise_reserve_service_client::EnterpriseReserveServiceClient;
use reserve_api::pb::reserve::v1::sourcing_service_client::SourcingServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, date, reason, rid, violated_fields};
use tonic::Code;

type Sourcing = SourcingServiceClient<Authed>;
type Reserves = EnterpriseReserveServiceClient<Authed>;

const CITY: &str = "HB-SY";
const ZS: &str = "HB-SY-ZS";
const ZS1: &str = "HB-SY-ZS-01";
const ZS2: &str = "HB-SY-ZS-02";
const FX1: &str = "HB-SY-FX-01";
const QUILT: &str = "quilt-cotton";
const TENT: &str = "tent-12m2";

fn sourcing(app: &TestApp, who: &str, roles: &[Role], scope: &str) -> Sourcing {
    SourcingServiceClient::new(app.authed(Some(&app.token_for(who, roles, scope))))
}

fn reserves(app: &TestApp, who: &str, roles: &[Role], scope: &str) -> Reserves {
    EnterpriseReserveServiceClient::new(app.authed(Some(&app.token_for(who, roles, scope))))
}

fn need(item: &str, quantity: i64) -> pb::Need {
    pb::Need {
        item_id: item.into(),
        quantity,
    }
}

async fn propose(
    c: &mut Sourcing,
    to: &str,
    needs: Vec<pb::Need>,
    emergency: bool,
) -> pb::ProposeSourcesResponse {
    c.propose_sources(pb::ProposeSourcesRequest {
        destination_depot_code: to.into(),
        needs,
        emergency,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
}

async fn stock_in(app: &TestApp, depot: &str, item: &str, lot: &str, qty: i64) {
    app.keeper(&format!("keeper@{depot}"), depot)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: depot.into(),
            item_id: item.into(),
            lot_number: lot.into(),
            expiry_date: date(2031, 1, 1),
            quantity: qty,
            ..Default::default()
        })
        .await
        .unwrap();
}

/// Available units and reserve minimum of `item` at each depot, read back
/// through the stock service.
async fn spare_of(app: &TestApp, depot: &str, item: &str) -> (i64, i64) {
    let mut s = app.stock(&app.root_admin());
    let available: i64 = s
        .list_stock(pb::ListStockRequest {
            depot_code: depot.into(),
            item_id: item.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .iter()
        .map(|l| l.available)
        .sum();
    let minimum = app
        .catalog(&app.root_admin())
        .list_reserve_norms(pb::ListReserveNormsRequest {
            depot_code: depot.into(),
            item_id: item.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .norms
        .iter()
        .find(|n| n.depot_code == depot)
        .map(|n| n.minimum)
        .unwrap_or(0);
    (available, minimum)
}

#[tokio::test]
async fn a_need_at_a_fang_county_township_is_met_from_fang_county_first_then_by_travel_time() {
    let app = TestApp::with_demo_stock().await;
    let mut disp = sourcing(&app, "disp@SY", &[Role::Dispatcher], CITY);
    let p = propose(
        &mut disp,
        FX1,
        vec![need(QUILT, 500), need(TENT, 20)],
        false,
    )
    .await;
    assert_eq!(p.own_subtree_depot_code, "HB-SY-FX");
    for line in &p.lines {
        let total: i64 = line.sources.iter().map(|s| s.quantity).sum::<i64>()
            + line.agreements.iter().map(|a| a.quantity).sum::<i64>();
        assert_eq!(total + line.unmet, line.needed, "{line:?}");
        assert_eq!(
            line.unmet, 0,
            "the demo network meets {}: {line:?}",
            line.item_id
        );
        // 房县's own depots come first; the rest by travel time.
        let own_end = line.sources.iter().take_while(|s| s.own_subtree).count();
        assert!(line.sources[own_end..].iter().all(|s| !s.own_subtree));
        assert!(
            line.sources[..own_end]
                .iter()
                .all(|s| s.depot_code.starts_with("HB-SY-FX"))
        );
        let rest = &line.sources[own_end..];
        assert!(
            rest.windows(2)
                .all(|w| w[0].travel_hours <= w[1].travel_hours),
            "{rest:?}"
        );
        for s in &line.sources {
            // Nobody below their reserve minimum on a routine need.
            let (available, minimum) = spare_of(&app, &s.depot_code, &line.item_id).await;
            assert!(
                s.quantity <= available - minimum,
                "{s:?}: {available} - {minimum}"
            );
            assert_eq!(s.below_minimum, 0);
            assert!(s.arrival_time.is_some());
            assert_eq!(s.lots.iter().map(|l| l.quantity).sum::<i64>(), s.quantity);
        }
        // The township itself never sources its own need.
        assert!(line.sources.iter().all(|s| s.depot_code != FX1));
    }
}

#[tokio::test]
async fn minimums_hold_unless_emergency_and_agreements_fill_what_depots_cannot() {
    let app = TestApp::with_demo().await;
    // 竹山县 holds 600 quilts against a minimum of 500: 100 to spare.
    stock_in(&app, ZS, QUILT, "Q-1", 600).await;
    let mut disp = sourcing(&app, "disp@SY", &[Role::Dispatcher], CITY);
    let routine = propose(&mut disp, ZS1, vec![need(QUILT, 500)], false).await;
    let l = &routine.lines[0];
    assert_eq!(l.sources.len(), 1);
    assert_eq!(
        (l.sources[0].quantity, l.sources[0].below_minimum),
        (100, 0)
    );
    assert_eq!(l.unmet, 400);
    let emergency = propose(&mut disp, ZS1, vec![need(QUILT, 500)], true).await;
    let l = &emergency.lines[0];
    assert_eq!(
        (l.sources[0].quantity, l.sources[0].below_minimum),
        (500, 400)
    );
    assert_eq!(l.unmet, 0);

    // A company keeps 300 quilts for the city; an expired agreement 1,000.
    let mut r = reserves(&app, "disp@SY", &[Role::Dispatcher], CITY);
    let agreement = |valid_until: Option<reserve_api::pb::google::r#type::Date>, q: i64| {
        pb::CreateAgreementRequest {
            request_id: rid(),
            agreement: Some(pb::Agreement {
                kind: pb::ReserveKind::Agreement as i32,
                company_name: "十堰市被服厂".into(),
                credit_code: "91350100M000100Y43".into(),
                depot_code: CITY.into(),
                response_hours: 12.0,
                valid_from: date(2025, 1, 1),
                valid_until,
                items: vec![pb::AgreementItem {
                    item_id: QUILT.into(),
                    committed: q,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    };
    let live = r
        .create_agreement(agreement(date(2027, 12, 31), 300))
        .await
        .unwrap()
        .into_inner()
        .agreement
        .unwrap();
    r.create_agreement(agreement(date(2026, 1, 1), 1000))
        .await
        .unwrap();
    let p = propose(&mut disp, ZS1, vec![need(QUILT, 500)], false).await;
    let l = &p.lines[0];
    assert_eq!(l.sources.iter().map(|s| s.quantity).sum::<i64>(), 100);
    assert_eq!(
        l.agreements.len(),
        1,
        "the expired agreement is never proposed"
    );
    assert_eq!(
        (
            l.agreements[0].agreement_id.as_str(),
            l.agreements[0].quantity
        ),
        (live.id.as_str(), 300)
    );
    assert!(l.agreements[0].hours > 12.0);
    assert_eq!(l.unmet, 100, "a shortfall is reported, not hidden");

    // The proposal becomes a draft order in one call.
    let retry = pb::CreateOrderFromProposalRequest {
        request_id: rid(),
        order: Some(pb::AllocationOrder {
            kind: pb::AllocationKind::Transfer as i32,
            priority: pb::AllocationPriority::Urgent as i32,
            reason: "汛期前置".into(),
            destination_depot_code: ZS1.into(),
            receiver_contact: Some(pb::Contact {
                name: "李明".into(),
                duty: String::new(),
                phone: "13972800000".into(),
            }),
            ..Default::default()
        }),
        needs: vec![need(QUILT, 500)],
    };
    let made = disp
        .create_order_from_proposal(retry.clone())
        .await
        .unwrap()
        .into_inner();
    let order = made.order.unwrap();
    assert_eq!(order.state, pb::AllocationState::Draft as i32);
    assert_eq!(order.lines[0].requested, 500);
    let sources: Vec<(&str, &str, i64)> = order.lines[0]
        .sources
        .iter()
        .map(|s| {
            (
                s.source_depot_code.as_str(),
                s.lot_number.as_str(),
                s.quantity,
            )
        })
        .collect();
    // One source per depot; approval picks lots first expired first out.
    assert_eq!(sources, vec![(ZS, "", 100)]);
    assert_eq!(made.proposal[0].unmet, 100);
    // A retry after the network changed still gets the first answer: the
    // county's spare quilts are gone, but the order was raised already.
    app.keeper("keeper@HB-SY-ZS", ZS)
        .issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: QUILT.into(),
            quantity: 100,
            purpose: pb::IssuePurpose::Use as i32,
            recipient: "演练".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let again = disp
        .create_order_from_proposal(retry.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.order.unwrap().id, order.id);

    // Calling off the agreement, and its delivery into the city's stock.
    let called = r
        .call_off_agreement(pb::CallOffAgreementRequest {
            request_id: rid(),
            agreement_id: live.id.clone(),
            lines: vec![pb::CallOffLine {
                item_id: QUILT.into(),
                quantity: 300,
                delivered: 0,
            }],
            reason: "竹山县洪涝".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let call_off = called.call_off.unwrap();
    assert_eq!(called.agreement.unwrap().items[0].called_off, 300);
    let more = r
        .call_off_agreement(pb::CallOffAgreementRequest {
            request_id: rid(),
            agreement_id: live.id.clone(),
            lines: vec![pb::CallOffLine {
                item_id: QUILT.into(),
                quantity: 1,
                delivered: 0,
            }],
            reason: "再调".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&more).as_deref(), Some("CALL_OFF_REFUSED"));
    let mut keeper = reserves(&app, "keeper@HB-SY", &[Role::DepotKeeper], CITY);
    let delivered = keeper
        .receive_call_off(pb::ReceiveCallOffRequest {
            request_id: rid(),
            call_off_id: call_off.id.clone(),
            item_id: QUILT.into(),
            lot_number: "QC-AGR-1".into(),
            expiry_date: date(2032, 1, 1),
            quantity: 300,
            document: "送货单 0001".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(delivered.call_off.unwrap().complete);
    let entry = delivered.entry.unwrap();
    assert_eq!((entry.depot_code.as_str(), entry.quantity), (CITY, 300));
    let lot = app
        .stock(&app.root_admin())
        .get_lot(pb::GetLotRequest {
            item_id: QUILT.into(),
            lot_number: "QC-AGR-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .lot
        .unwrap();
    assert_eq!(lot.funding_source, pb::FundingSource::Agreement as i32);
    let over = keeper
        .receive_call_off(pb::ReceiveCallOffRequest {
            request_id: rid(),
            call_off_id: call_off.id.clone(),
            item_id: QUILT.into(),
            lot_number: "QC-AGR-2".into(),
            expiry_date: date(2032, 1, 1),
            quantity: 1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&over).as_deref(), Some("DELIVERY_EXCEEDS_CALL_OFF"));
    // A plain receipt cannot claim agreement funding.
    let plain = app
        .keeper("keeper@HB-SY", CITY)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: CITY.into(),
            item_id: QUILT.into(),
            lot_number: "QC-X".into(),
            expiry_date: date(2032, 1, 1),
            quantity: 1,
            funding_source: pb::FundingSource::Agreement as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&plain), vec!["funding_source"]);
    // Nor can a plain receipt add to a lot delivered under the agreement.
    let into_agreement_lot = app
        .keeper("keeper@HB-SY", CITY)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: CITY.into(),
            item_id: QUILT.into(),
            lot_number: "QC-AGR-1".into(),
            quantity: 1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&into_agreement_lot).as_deref(), Some("LOT_MISMATCH"));
    // Agreements expiring within 60 days are listed (none here).
    let soon = r
        .list_agreements(pb::ListAgreementsRequest {
            expiring_within_days: 60,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .agreements;
    assert!(soon.is_empty());
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn a_credit_code_with_a_wrong_check_character_or_length_is_refused_naming_the_field() {
    let app = TestApp::with_demo().await;
    let mut r = reserves(&app, "admin@SY", &[Role::Admin], CITY);
    for bad in [
        "91350100M000100Y44",
        "91350100M000100Y4",
        "91350100M0001O0Y43",
    ] {
        let e = r
            .create_agreement(pb::CreateAgreementRequest {
                request_id: rid(),
                agreement: Some(pb::Agreement {
                    kind: 1,
                    company_name: "某公司".into(),
                    credit_code: bad.into(),
                    response_hours: 24.0,
                    valid_from: date(2026, 1, 1),
                    valid_until: date(2027, 1, 1),
                    items: vec![pb::AgreementItem {
                        item_id: QUILT.into(),
                        committed: 10,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&e), vec!["agreement.credit_code"], "{bad}");
    }
}

#[tokio::test]
async fn readiness_marks_each_place_against_its_targets_with_hand_computed_travel_times() {
    let app = TestApp::with_demo().await;
    // The whole kit for 100 people sits at 宝丰镇 (HB-SY-ZS-02), nothing else.
    for (item, q) in [
        (TENT, 25),
        (QUILT, 100),
        ("bed-folding", 100),
        ("water-bottled", 50),
        ("food-instant", 50),
        ("family-kit", 30),
    ] {
        stock_in(&app, ZS2, item, "K-1", q).await;
    }
    let r = sourcing(&app, "auditor@ZS", &[Role::Auditor], ZS)
        .readiness_report(pb::ReadinessReportRequest {
            depot_code: ZS.into(),
            people: 100,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.kit.iter().map(|k| k.needed).sum::<i64>(), 355);
    let place = |code: &str| r.places.iter().find(|p| p.depot_code == code).unwrap();
    // By hand: haversine distance to 宝丰镇 × 1.6 ÷ 40 km/h + 1 h handling.
    // 城关镇 (and the county depot beside it) is 20.71 km away: 1.83 h;
    // 溢水镇 43.62 km: 2.74 h; 宝丰镇 holds it: 1 h.
    for (code, hours) in [(ZS1, 1.83), (ZS, 1.83), ("HB-SY-ZS-03", 2.74), (ZS2, 1.0)] {
        let p = place(code);
        assert!(p.met, "{p:?}");
        for l in &p.levels {
            assert_eq!(l.arrival_hours, Some(hours), "{code} {l:?}");
        }
        assert_eq!(p.levels[0].target_hours, 6.0);
        assert_eq!(p.levels[1].target_hours, 8.0);
        assert_eq!(p.levels[2].target_hours, 10.0);
        assert_eq!(p.agreement_hours, None);
    }
    // For 101 people the tents run out: the binding item is named.
    let short = sourcing(&app, "auditor@ZS", &[Role::Auditor], ZS)
        .readiness_report(pb::ReadinessReportRequest {
            depot_code: ZS.into(),
            people: 101,
        })
        .await
        .unwrap()
        .into_inner();
    let p = short.places.iter().find(|p| p.depot_code == ZS1).unwrap();
    assert!(!p.met);
    assert_eq!(p.levels[0].binding_item_id, TENT);
    assert_eq!(p.levels[0].arrival_hours, None);
    assert_eq!(p.levels[0].unmet, 1);
    // Only townships and counties of the subtree are reported.
    assert!(r.places.iter().all(|p| p.depot_code.starts_with(ZS)));
}

#[tokio::test]
async fn who_may_ask_for_proposals_readiness_and_reserves() {
    let app = TestApp::with_demo().await;
    let keeper = sourcing(&app, "keeper@ZS", &[Role::DepotKeeper], ZS);
    let e = keeper
        .clone()
        .propose_sources(pb::ProposeSourcesRequest {
            destination_depot_code: ZS1.into(),
            needs: vec![need(QUILT, 1)],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = sourcing(&app, "disp@ZS", &[Role::Dispatcher], ZS)
        .readiness_report(pb::ReadinessReportRequest {
            depot_code: "HB-SY-FX".into(),
            people: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "outside scope");
    let e = reserves(&app, "keeper@SY", &[Role::DepotKeeper], CITY)
        .create_agreement(pb::CreateAgreementRequest {
            request_id: rid(),
            agreement: Some(pb::Agreement {
                kind: 1,
                company_name: "某公司".into(),
                credit_code: "91350100M000100Y43".into(),
                response_hours: 24.0,
                valid_from: date(2026, 1, 1),
                valid_until: date(2027, 1, 1),
                items: vec![pb::AgreementItem {
                    item_id: QUILT.into(),
                    committed: 10,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // An item the catalogue does not have is named, not proposed as unmet.
    let e = sourcing(&app, "disp@ZS", &[Role::Dispatcher], ZS)
        .propose_sources(pb::ProposeSourcesRequest {
            destination_depot_code: ZS1.into(),
            needs: vec![need("no-such-item", 3)],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    // No token at all.
    let e = SourcingServiceClient::new(app.authed(None))
        .propose_sources(pb::ProposeSourcesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    // A site with coordinates and the command depot's own subtree first.
    let p = sourcing(&app, "disp@ZS", &[Role::Dispatcher], ZS)
        .propose_sources(pb::ProposeSourcesRequest {
            destination_site: Some(pb::Place {
                lat_lng: Some(LatLng {
                    latitude: 32.2,
                    longitude: 110.2,
                }),
                address: "竹山县城关镇体育馆".into(),
            }),
            needs: vec![need(QUILT, 1)],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p.own_subtree_depot_code, ZS);
    assert_eq!(p.lines[0].unmet, 1);
}
