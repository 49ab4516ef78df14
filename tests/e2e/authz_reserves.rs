//! Who may call the sourcing, enterprise-reserve, incident and event RPCs:
//! each role inside and outside its scope, and every kind of bad token. A
//! refusal writes nothing.

use crate::authz::{bad_tokens, claims};
use reserve_api::auth::Claims;
use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::enterprise_reserve_service_client::EnterpriseReserveServiceClient;
use reserve_api::pb::reserve::v1::event_service_client::EventServiceClient;
use reserve_api::pb::reserve::v1::incident_service_client::IncidentServiceClient;
use reserve_api::pb::reserve::v1::sourcing_service_client::SourcingServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, T0, TestApp, date, rid};
use tonic::Code;

const ZS: &str = "HB-SY-ZS";
const ZS1: &str = "HB-SY-ZS-01";
const FX: &str = "HB-SY-FX";
const QUILT: &str = "quilt-cotton";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rpc {
    Propose,
    FromProposal,
    Readiness,
    CreateAgreement,
    GetAgreement,
    ListAgreements,
    CallOff,
    ReceiveCallOff,
    ListCallOffs,
    Watch,
    CreateIncident,
    GetIncident,
    ListIncidents,
}

const ALL: [Rpc; 13] = [
    Rpc::Propose,
    Rpc::FromProposal,
    Rpc::Readiness,
    Rpc::CreateAgreement,
    Rpc::GetAgreement,
    Rpc::ListAgreements,
    Rpc::CallOff,
    Rpc::ReceiveCallOff,
    Rpc::ListCallOffs,
    Rpc::Watch,
    Rpc::CreateIncident,
    Rpc::GetIncident,
    Rpc::ListIncidents,
];

const PRINCIPALS: [(&str, Role, &str); 8] = [
    ("dispatcher@ZS", Role::Dispatcher, ZS),
    ("dispatcher@HB", Role::Dispatcher, "HB"),
    ("dispatcher@FX", Role::Dispatcher, FX),
    ("keeper@ZS", Role::DepotKeeper, ZS),
    ("keeper@FX", Role::DepotKeeper, FX),
    ("auditor@HB", Role::Auditor, "HB"),
    ("finance@ZS", Role::Finance, ZS),
    ("admin@HB", Role::Admin, "HB"),
];

fn allowed(rpc: Rpc, who: &str) -> bool {
    let over_zs = [
        "dispatcher@ZS",
        "dispatcher@HB",
        "keeper@ZS",
        "auditor@HB",
        "finance@ZS",
        "admin@HB",
    ];
    match rpc {
        // Dispatchers anywhere may ask: the whole network is searched.
        Rpc::Propose => who.starts_with("dispatcher@"),
        // Raising the order needs the destination in scope.
        Rpc::FromProposal => ["dispatcher@ZS", "dispatcher@HB"].contains(&who),
        Rpc::Readiness
        | Rpc::GetAgreement
        | Rpc::ListAgreements
        | Rpc::ListCallOffs
        | Rpc::Watch => over_zs.contains(&who),
        Rpc::CreateAgreement | Rpc::CreateIncident => {
            ["dispatcher@ZS", "dispatcher@HB", "admin@HB"].contains(&who)
        }
        Rpc::CallOff => ["dispatcher@ZS", "dispatcher@HB"].contains(&who),
        Rpc::ReceiveCallOff => who == "keeper@ZS",
        // Incidents are read by everyone signed in, to coordinate.
        Rpc::GetIncident | Rpc::ListIncidents => true,
    }
}

struct Fixture {
    agreement: String,
    call_off: String,
    incident: String,
}

fn agreement() -> pb::Agreement {
    pb::Agreement {
        kind: pb::ReserveKind::Agreement as i32,
        company_name: "竹山县被服厂".into(),
        credit_code: "91420300MA49XXXX0X".into(),
        depot_code: ZS.into(),
        response_hours: 12.0,
        valid_from: date(2026, 1, 1),
        valid_until: date(2027, 12, 31),
        items: vec![pb::AgreementItem {
            item_id: QUILT.into(),
            committed: 1_000,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn incident() -> pb::Incident {
    pb::Incident {
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
        depot_code: ZS.into(),
        ..Default::default()
    }
}

async fn fixture(app: &TestApp) -> Fixture {
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
    let t = app.token_for("disp@ZS", &[Role::Dispatcher], ZS);
    let mut r = EnterpriseReserveServiceClient::new(app.authed(Some(&t)));
    let a = r
        .create_agreement(pb::CreateAgreementRequest {
            request_id: rid(),
            agreement: Some(agreement()),
        })
        .await
        .unwrap()
        .into_inner()
        .agreement
        .unwrap();
    let c = r
        .call_off_agreement(pb::CallOffAgreementRequest {
            request_id: rid(),
            agreement_id: a.id.clone(),
            lines: vec![pb::CallOffLine {
                item_id: QUILT.into(),
                quantity: 500,
                delivered: 0,
            }],
            reason: "汛期".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .call_off
        .unwrap();
    let i = IncidentServiceClient::new(app.authed(Some(&t)))
        .create_incident(pb::CreateIncidentRequest {
            request_id: rid(),
            incident: Some(incident()),
        })
        .await
        .unwrap()
        .into_inner()
        .incident
        .unwrap();
    Fixture {
        agreement: a.id,
        call_off: c.id,
        incident: i.id,
    }
}

async fn call(channel: Authed, rpc: Rpc, f: &Fixture) -> Result<(), tonic::Status> {
    let mut s = SourcingServiceClient::new(channel.clone());
    let mut r = EnterpriseReserveServiceClient::new(channel.clone());
    let mut i = IncidentServiceClient::new(channel.clone());
    let mut e = EventServiceClient::new(channel);
    let need = || {
        vec![pb::Need {
            item_id: QUILT.into(),
            quantity: 10,
        }]
    };
    match rpc {
        Rpc::Propose => s
            .propose_sources(pb::ProposeSourcesRequest {
                destination_depot_code: ZS1.into(),
                needs: need(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::FromProposal => s
            .create_order_from_proposal(pb::CreateOrderFromProposalRequest {
                request_id: rid(),
                order: Some(pb::AllocationOrder {
                    kind: pb::AllocationKind::Transfer as i32,
                    priority: pb::AllocationPriority::Routine as i32,
                    reason: "前置".into(),
                    destination_depot_code: ZS1.into(),
                    receiver_contact: Some(pb::Contact {
                        name: "李明".into(),
                        duty: String::new(),
                        phone: "13972800000".into(),
                    }),
                    ..Default::default()
                }),
                needs: need(),
            })
            .await
            .map(drop),
        Rpc::Readiness => s
            .readiness_report(pb::ReadinessReportRequest {
                depot_code: ZS.into(),
                people: 100,
            })
            .await
            .map(drop),
        Rpc::CreateAgreement => r
            .create_agreement(pb::CreateAgreementRequest {
                request_id: rid(),
                agreement: Some(agreement()),
            })
            .await
            .map(drop),
        Rpc::GetAgreement => r
            .get_agreement(pb::GetAgreementRequest {
                agreement_id: f.agreement.clone(),
            })
            .await
            .map(drop),
        Rpc::ListAgreements => r
            .list_agreements(pb::ListAgreementsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::CallOff => r
            .call_off_agreement(pb::CallOffAgreementRequest {
                request_id: rid(),
                agreement_id: f.agreement.clone(),
                lines: vec![pb::CallOffLine {
                    item_id: QUILT.into(),
                    quantity: 1,
                    delivered: 0,
                }],
                reason: "再调".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::ReceiveCallOff => r
            .receive_call_off(pb::ReceiveCallOffRequest {
                request_id: rid(),
                call_off_id: f.call_off.clone(),
                item_id: QUILT.into(),
                lot_number: format!("AGR-{}", rid()),
                expiry_date: date(2032, 1, 1),
                quantity: 1,
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::ListCallOffs => r
            .list_call_offs(pb::ListCallOffsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Watch => e
            .watch_events(pb::WatchEventsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::CreateIncident => i
            .create_incident(pb::CreateIncidentRequest {
                request_id: rid(),
                incident: Some(incident()),
            })
            .await
            .map(drop),
        Rpc::GetIncident => i
            .get_incident(pb::GetIncidentRequest {
                incident_id: f.incident.clone(),
            })
            .await
            .map(drop),
        Rpc::ListIncidents => i
            .list_incidents(pb::ListIncidentsRequest::default())
            .await
            .map(drop),
    }
}

#[tokio::test]
async fn every_new_rpc_answers_each_role_inside_and_outside_its_scope() {
    let app = TestApp::with_demo().await;
    let f = fixture(&app).await;
    for rpc in ALL {
        for (who, role, scope) in PRINCIPALS {
            let audit = app.audit_count().await;
            let channel = app.authed(Some(&app.token_for(who, &[role], scope)));
            let got = call(channel, rpc, &f).await;
            if allowed(rpc, who) {
                assert!(got.is_ok(), "{rpc:?} as {who}: {got:?}");
            } else {
                let e = got.expect_err(&format!("{rpc:?} as {who} was allowed"));
                assert_eq!(e.code(), Code::PermissionDenied, "{rpc:?} as {who}: {e:?}");
                assert_eq!(app.audit_count().await, audit, "{rpc:?} as {who} wrote");
            }
        }
    }
}

#[tokio::test]
async fn every_new_rpc_refuses_missing_and_bad_tokens() {
    let app = TestApp::with_demo().await;
    let f = fixture(&app).await;
    let valid = Claims {
        scope_depot: ZS.into(),
        ..claims(&["depot_keeper", "dispatcher", "finance", "auditor", "admin"])
    };
    for rpc in ALL {
        for (what, token) in bad_tokens(&app, &valid) {
            let e = call(app.authed(token.as_deref()), rpc, &f)
                .await
                .expect_err(&format!("{rpc:?} with {what} was answered"));
            assert_eq!(
                e.code(),
                Code::Unauthenticated,
                "{rpc:?} with {what}: {e:?}"
            );
        }
    }
}
