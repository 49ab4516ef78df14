//! Eight identical requests at once for every write of the sourcing,
//! enterprise-reserve and incident services: eight identical answers, one
//! effect.

use crate::retries::{COPIES, at_once, one_answer};
use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::enterprise_reserve_service_client::EnterpriseReserveServiceClient;
use reserve_api::pb::reserve::v1::incident_service_client::IncidentServiceClient;
use reserve_api::pb::reserve::v1::sourcing_service_client::SourcingServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{T0, TestApp, date, rid};
use std::sync::Arc;

const ZS: &str = "HB-SY-ZS";
const QUILT: &str = "quilt-cotton";

#[tokio::test]
async fn every_new_write_sent_eight_times_at_once_answers_the_same_and_acts_once() {
    let app = TestApp::with_demo().await;
    app.keeper("keeper@HB-SY-ZS", ZS)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: QUILT.into(),
            lot_number: "Q-1".into(),
            expiry_date: date(2031, 1, 1),
            quantity: 1_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let disp = app.authed(Some(&app.token_for("disp@ZS", &[Role::Dispatcher], ZS)));
    let keeper = app.authed(Some(&app.token_for("keeper@ZS", &[Role::DepotKeeper], ZS)));
    let incidents = IncidentServiceClient::new(disp.clone());
    let reserves = EnterpriseReserveServiceClient::new(disp.clone());
    let sourcing = SourcingServiceClient::new(disp.clone());
    let audit0 = app.audit_count().await;

    let incident_req = pb::CreateIncidentRequest {
        request_id: rid(),
        incident: Some(pb::Incident {
            name: "竹山县暴雨".into(),
            r#type: pb::IncidentType::Flood as i32,
            occur_time: Some(prost_types::Timestamp {
                seconds: T0 / 1000,
                nanos: 0,
            }),
            place: Some(pb::Place {
                lat_lng: Some(LatLng {
                    latitude: 32.2,
                    longitude: 110.2,
                }),
                address: "竹山县".into(),
            }),
            ..Default::default()
        }),
    };
    let incident = one_answer(at_once!(incidents, create_incident, incident_req))
        .incident
        .unwrap();
    let agreement_req = pb::CreateAgreementRequest {
        request_id: rid(),
        agreement: Some(pb::Agreement {
            kind: pb::ReserveKind::Capacity as i32,
            company_name: "竹山县被服厂".into(),
            credit_code: "91420300MA49XXXX0X".into(),
            response_hours: 24.0,
            valid_from: date(2026, 1, 1),
            valid_until: date(2027, 12, 31),
            items: vec![pb::AgreementItem {
                item_id: QUILT.into(),
                committed: 100,
                ..Default::default()
            }],
            ..Default::default()
        }),
    };
    let agreement = one_answer(at_once!(reserves, create_agreement, agreement_req))
        .agreement
        .unwrap();
    let call_off_req = pb::CallOffAgreementRequest {
        request_id: rid(),
        agreement_id: agreement.id.clone(),
        lines: vec![pb::CallOffLine {
            item_id: QUILT.into(),
            quantity: 60,
            delivered: 0,
        }],
        incident_id: incident.id.clone(),
        reason: "洪涝".into(),
        ..Default::default()
    };
    let called = one_answer(at_once!(reserves, call_off_agreement, call_off_req));
    assert_eq!(called.agreement.unwrap().items[0].called_off, 60);
    let call_off = called.call_off.unwrap();
    let receive_req = pb::ReceiveCallOffRequest {
        request_id: rid(),
        call_off_id: call_off.id.clone(),
        item_id: QUILT.into(),
        lot_number: "AGR-1".into(),
        expiry_date: date(2032, 1, 1),
        quantity: 40,
        ..Default::default()
    };
    let delivered = one_answer(at_once!(
        EnterpriseReserveServiceClient::new(keeper.clone()),
        receive_call_off,
        receive_req
    ));
    assert_eq!(delivered.call_off.unwrap().lines[0].delivered, 40);
    let proposal_req = pb::CreateOrderFromProposalRequest {
        request_id: rid(),
        order: Some(pb::AllocationOrder {
            kind: pb::AllocationKind::Transfer as i32,
            priority: pb::AllocationPriority::Routine as i32,
            reason: "前置".into(),
            destination_depot_code: "HB-SY-ZS-01".into(),
            receiver_contact: Some(pb::Contact {
                name: "李明".into(),
                duty: String::new(),
                phone: "13972800000".into(),
            }),
            ..Default::default()
        }),
        needs: vec![pb::Need {
            item_id: QUILT.into(),
            quantity: 30,
        }],
    };
    let made = one_answer(at_once!(sourcing, create_order_from_proposal, proposal_req));
    assert_eq!(made.order.unwrap().lines[0].requested, 30);
    // One effect each: the agreement was called off and delivered once,
    // and one audit event per request.
    let a = EnterpriseReserveServiceClient::new(disp)
        .get_agreement(pb::GetAgreementRequest {
            agreement_id: agreement.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .agreement
        .unwrap();
    assert_eq!((a.items[0].called_off, a.items[0].delivered), (60, 40));
    assert_eq!(
        app.audit_count().await - audit0,
        5,
        "{COPIES} copies of five writes"
    );
    app.assert_ledger_consistent().await;
}
