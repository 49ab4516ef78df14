//! Requisitions and compensation on the demo network: an excavator and 300
//! quilts from the scene to a paid claim, private data seen only by
//! finance and never stored or audited in clear, goods received into a
//! depot and returned out of it, vouchers overdue, who may do what, and
//! identical requests at once.

use crate::retries::{COPIES, at_once, one_answer};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::compensation_service_client::CompensationServiceClient;
use reserve_api::pb::reserve::v1::incident_service_client::IncidentServiceClient;
use reserve_api::pb::reserve::v1::requisition_service_client::RequisitionServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, T0, TestApp, date, reason, rid, violated_fields};
use std::sync::Arc;
use tonic::Code;

type Reqs = RequisitionServiceClient<Authed>;
type Comp = CompensationServiceClient<Authed>;

const SY: &str = "HB-SY";
const ZS: &str = "HB-SY-ZS";
const FX: &str = "HB-SY-FX";
const ID: &str = "420302198001011232";
const ACCOUNT: &str = "6222020200112233445";
const PHONE: &str = "13812345678";
const CODE: &str = "91420300MA4F0A2B31";
const DAY: i64 = 86_400;

fn reqs(app: &TestApp, who: &str, roles: &[Role], scope: &str) -> Reqs {
    RequisitionServiceClient::new(app.authed(Some(&app.token_for(who, roles, scope))))
}

fn comp(app: &TestApp, who: &str, scope: &str) -> Comp {
    CompensationServiceClient::new(app.authed(Some(&app.token_for(who, &[Role::Finance], scope))))
}

fn dispatcher(app: &TestApp) -> Reqs {
    reqs(app, "dispatcher@HB-SY", &[Role::Dispatcher], SY)
}

async fn incident(app: &TestApp) -> String {
    let t = app.token_for("dispatcher@HB-SY", &[Role::Dispatcher], SY);
    IncidentServiceClient::new(app.authed(Some(&t)))
        .create_incident(pb::CreateIncidentRequest {
            request_id: rid(),
            incident: Some(pb::Incident {
                name: "竹山县暴雨".into(),
                r#type: pb::IncidentType::Flood as i32,
                occur_time: Some(prost_types::Timestamp {
                    seconds: T0 / 1000,
                    nanos: 0,
                }),
                place: Some(pb::Place {
                    lat_lng: Some(reserve_api::pb::google::r#type::LatLng {
                        latitude: 32.2,
                        longitude: 110.2,
                    }),
                    address: "竹山县城关镇".into(),
                }),
                depot_code: SY.into(),
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

fn item(
    desc: &str,
    qty: i64,
    unit: &str,
    returnable: bool,
    value: i64,
    rate: i64,
) -> pb::RequisitionItem {
    pb::RequisitionItem {
        description: desc.into(),
        quantity: qty,
        unit: unit.into(),
        returnable,
        condition: "完好".into(),
        unit_value_fen: value,
        daily_rate_fen: rate,
        used_at: "竹山县城关镇".into(),
        ..Default::default()
    }
}

fn owner(kind: pb::OwnerKind, id: &str) -> pb::RequisitionOwner {
    pb::RequisitionOwner {
        kind: kind as i32,
        name: "李四".into(),
        id_number: id.into(),
        phone: PHONE.into(),
        bank_account: ACCOUNT.into(),
        bank_name: "中国工商银行十堰分行".into(),
        ..Default::default()
    }
}

/// The excavator (2,500 yuan a day, worth 800,000) and 300 quilts (150 yuan
/// each), taken from a person without a voucher.
fn excavator_and_quilts(incident: &str) -> pb::CreateRequisitionRequest {
    pb::CreateRequisitionRequest {
        request_id: rid(),
        requisition: Some(pb::Requisition {
            depot_code: SY.into(),
            incident_id: incident.into(),
            decision: "十堰应急征〔2026〕3号".into(),
            authority: "十堰市人民政府".into(),
            officer: "王建国".into(),
            owner: Some(owner(pb::OwnerKind::Person, ID)),
            items: vec![
                item("挖掘机 卡特320", 1, "台", true, 80_000_000, 250_000),
                item("棉被", 300, "床", false, 15_000, 0),
            ],
            ..Default::default()
        }),
    }
}

fn outcome(
    line: i32,
    kind: pb::RequisitionOutcomeKind,
    qty: i64,
    repair: i64,
) -> pb::RequisitionOutcome {
    pb::RequisitionOutcome {
        line_number: line,
        kind: kind as i32,
        quantity: qty,
        repair_cost_fen: repair,
        certificate: "十堰损-001".into(),
        ..Default::default()
    }
}

async fn record(
    who: &mut Reqs,
    id: &str,
    outcomes: Vec<pb::RequisitionOutcome>,
    from: &str,
) -> Result<pb::Requisition, tonic::Status> {
    who.record_requisition_outcomes(pb::RecordRequisitionOutcomesRequest {
        request_id: rid(),
        requisition_id: id.into(),
        outcomes,
        from_depot_code: from.into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().requisition.unwrap())
}

async fn create(app: &TestApp) -> pb::Requisition {
    let inc = incident(app).await;
    dispatcher(app)
        .create_requisition(excavator_and_quilts(&inc))
        .await
        .unwrap()
        .into_inner()
        .requisition
        .unwrap()
}

async fn open_claim(
    fin: &mut Comp,
    requisition: &str,
    costs: Vec<pb::DirectCost>,
) -> Result<pb::Claim, tonic::Status> {
    fin.create_claim(pb::CreateClaimRequest {
        request_id: rid(),
        requisition_id: requisition.into(),
        claimed_costs: costs,
        note: String::new(),
    })
    .await
    .map(|r| r.into_inner().claim.unwrap())
}

async fn assess(
    fin: &mut Comp,
    claim: &str,
    costs: Vec<pb::DirectCost>,
) -> Result<pb::Claim, tonic::Status> {
    fin.assess_claim(pb::AssessClaimRequest {
        request_id: rid(),
        claim_id: claim.into(),
        accepted_costs: costs,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().claim.unwrap())
}

async fn approve(fin: &mut Comp, claim: &str) -> Result<pb::Claim, tonic::Status> {
    fin.approve_claim(pb::ApproveClaimRequest {
        request_id: rid(),
        claim_id: claim.into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().claim.unwrap())
}

fn payment(claim: &str, amount: i64) -> pb::RecordClaimPaymentRequest {
    pb::RecordClaimPaymentRequest {
        request_id: rid(),
        claim_id: claim.into(),
        amount_fen: amount,
        paid_date: date(2026, 11, 28),
        bank_reference: "ICBC-20261210-0001".into(),
        ..Default::default()
    }
}

fn labour() -> pb::DirectCost {
    pb::DirectCost {
        kind: pb::DirectCostKind::Labour as i32,
        description: "机手 2 人 × 10 天".into(),
        staff_days: 20,
        daily_wage_fen: 40_000,
        evidence: "考勤表 KQ-0712".into(),
        ..Default::default()
    }
}

fn fuel() -> pb::DirectCost {
    pb::DirectCost {
        kind: pb::DirectCostKind::Fuel as i32,
        description: "柴油 1,500 升".into(),
        amount_fen: 1_234_500,
        evidence: "加油发票 No.0081".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_excavator_and_300_quilts_go_from_the_scene_to_a_paid_claim() {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    assert!(r.number.starts_with("ZY-2026-"), "{}", r.number);
    assert_eq!(r.state, pb::RequisitionState::InUse as i32);
    assert!(
        r.voucher_due_time.is_some(),
        "taken without a voucher: one is due"
    );
    // The dispatcher is not finance: the owner's private data comes back masked.
    let o = r.owner.clone().unwrap();
    assert!(o.masked);
    assert_eq!(o.id_number, "4203**********1232");
    assert_eq!(o.bank_account, "6222***********3445");
    assert_eq!(o.phone, "13*******78");

    // Ten days on the excavator comes back with a damaged bucket (repair
    // 30,000 yuan); 280 quilts were used at the shelter and 20 come back.
    app.clock.advance_days(10);
    let mut keeper = reqs(&app, "dispatcher@HB-SY", &[Role::Dispatcher], SY);
    let r = record(
        &mut keeper,
        &r.id,
        vec![
            outcome(1, pb::RequisitionOutcomeKind::Damaged, 1, 3_000_000),
            outcome(2, pb::RequisitionOutcomeKind::Consumed, 280, 0),
            outcome(2, pb::RequisitionOutcomeKind::ReturnedIntact, 20, 0),
        ],
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.state, pb::RequisitionState::Resolved as i32);
    assert_eq!(r.items[1].consumed, 280);
    assert_eq!(r.items[1].outstanding, 0);

    let mut a = comp(&app, "finance-a@HB-SY", SY);
    let mut b = comp(&app, "finance-b@HB-SY", SY);
    let c = open_claim(&mut a, &r.number, vec![labour(), fuel()])
        .await
        .unwrap();
    assert_eq!(c.state, pb::ClaimState::Draft as i32);
    // Finance sees the owner in full.
    let o = c.owner.clone().unwrap();
    assert!(!o.masked);
    assert_eq!(
        (o.id_number.as_str(), o.bank_account.as_str()),
        (ID, ACCOUNT)
    );

    // Assessed with the labour accepted and the fuel not (no receipt yet).
    let c = assess(&mut a, &c.number, vec![labour()]).await.unwrap();
    let f = c.figures.clone().unwrap();
    assert_eq!(f.usage_fen, 10 * 250_000, "10 days at 2,500 yuan");
    assert_eq!(f.repair_fen, 3_000_000);
    assert_eq!(
        f.loss_fen,
        280 * 15_000,
        "the quilts used up are paid at value"
    );
    assert_eq!(f.direct_fen, 800_000, "20 staff-days at 400 yuan");
    let total = 2_500_000 + 3_000_000 + 4_200_000 + 800_000;
    assert_eq!(f.total_fen, total);
    assert!(!f.interim);

    // The assessor cannot approve their own assessment.
    let e = approve(&mut a, &c.number).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    assert_eq!(reason(&e).as_deref(), Some("SEGREGATION_OF_DUTIES"));

    // The owner disputes: the fuel receipt turned up. Re-assessed, approved by the other officer.
    let c = a
        .dispute_claim(pb::DisputeClaimRequest {
            request_id: rid(),
            claim_id: c.number.clone(),
            reason: "燃油费发票已补交".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(c.state, pb::ClaimState::Disputed as i32);
    let c = assess(&mut b, &c.number, vec![labour(), fuel()])
        .await
        .unwrap();
    let total = total + 1_234_500;
    assert_eq!(c.figures.as_ref().unwrap().total_fen, total);
    let e = approve(&mut b, &c.number).await.unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("SEGREGATION_OF_DUTIES"));
    let c = approve(&mut a, &c.number).await.unwrap();
    assert_eq!(c.approved_fen, total);
    assert_eq!(c.outstanding_fen, total);

    // Paid in two parts; a payment beyond what is left is refused.
    let c = a
        .record_claim_payment(payment(&c.number, 5_000_000))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(c.state, pb::ClaimState::Approved as i32);
    assert_eq!(c.outstanding_fen, total - 5_000_000);
    let e = a
        .record_claim_payment(payment(&c.number, total))
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("PAYMENT_EXCEEDS_APPROVED"));
    let c = b
        .record_claim_payment(payment(&c.number, total - 5_000_000))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(c.state, pb::ClaimState::Paid as i32);
    assert_eq!(c.paid_fen, total);
    assert!(c.settled_time.is_some());
    assert_eq!(c.payments.len(), 2);
    let states: Vec<i32> = c.timeline.iter().map(|s| s.state).collect();
    use pb::ClaimState as S;
    assert_eq!(
        states,
        vec![
            S::Draft,
            S::Assessed,
            S::Disputed,
            S::Assessed,
            S::Approved,
            S::Approved,
            S::Paid
        ]
        .into_iter()
        .map(|s| s as i32)
        .collect::<Vec<_>>()
    );

    // The finance report: paid, nothing outstanding, by incident, owner kind and tier.
    let rep = a
        .get_finance_report(pb::GetFinanceReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rep.total.as_ref().unwrap().paid_fen, total);
    assert_eq!(rep.total.as_ref().unwrap().outstanding_fen, 0);
    assert_eq!(rep.by_owner_kind[0].key, "person");
    assert_eq!(rep.by_tier.len(), 1);
    assert_eq!(rep.by_incident[0].key, r.incident_id);
}

#[tokio::test]
async fn owners_private_data_is_never_in_clear_in_the_database_the_audit_log_or_stored_replies() {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    let mut fin = comp(&app, "finance-a@HB-SY", SY);
    let c = open_claim(&mut fin, &r.id, vec![]).await.unwrap();
    assert_eq!(c.owner.unwrap().id_number, ID);
    // Finance reads the requisition in full; an auditor and the dispatcher masked.
    let full = reqs(&app, "finance-a@HB-SY", &[Role::Finance], SY)
        .get_requisition(pb::GetRequisitionRequest {
            requisition_id: r.number.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .requisition
        .unwrap();
    assert_eq!(full.owner.as_ref().unwrap().bank_account, ACCOUNT);
    assert_eq!(full.owner.as_ref().unwrap().phone, PHONE);
    for (who, roles) in [
        ("auditor@HB", &[Role::Auditor][..]),
        ("admin@HB", &[Role::Admin][..]),
        ("dispatcher@HB-SY", &[Role::Dispatcher][..]),
    ] {
        let seen = reqs(
            &app,
            who,
            roles,
            if who.ends_with("HB") { "HB" } else { SY },
        )
        .get_requisition(pb::GetRequisitionRequest {
            requisition_id: r.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .requisition
        .unwrap();
        let o = seen.owner.unwrap();
        assert!(o.masked, "{who}");
        assert_eq!(o.id_number, "4203**********1232", "{who}");
    }
    // Nothing stored anywhere holds the number, account or phone in clear:
    // not the records, not the audit log's changes or stored replies, not
    // the event stream, not the sealed table.
    let mut stored = Vec::new();
    for sql in [
        "SELECT changes FROM audit_events",
        "SELECT response FROM audit_events",
        "SELECT request_hash FROM audit_events",
        "SELECT body FROM requisitions",
        "SELECT body FROM claims",
        "SELECT ciphertext FROM private_data",
        "SELECT detail FROM events",
    ] {
        stored.extend(app.column_text(sql).await);
    }
    assert!(
        stored.iter().any(|s| s.contains("4203**********1232")),
        "masked values are kept"
    );
    for secret in [ID, ACCOUNT, PHONE, "19800101"] {
        assert!(
            !stored.iter().any(|s| s.contains(secret)),
            "{secret} is stored in clear"
        );
    }
}

#[tokio::test]
async fn bad_requisitions_name_every_field_never_echo_private_data_and_change_nothing() {
    let app = TestApp::with_demo().await;
    let inc = incident(&app).await;
    let before = app.audit_count().await;
    let mut req = excavator_and_quilts(&inc);
    {
        let r = req.requisition.as_mut().unwrap();
        r.owner = Some(owner(pb::OwnerKind::Person, "420302198001011234"));
        r.owner.as_mut().unwrap().bank_account = "62220x".into();
        r.items[0].quantity = 0;
        r.items[1].unit_value_fen = -5;
        r.officer = String::new();
    }
    let e = dispatcher(&app).create_requisition(req).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields = violated_fields(&e);
    for f in [
        "owner.id_number",
        "owner.bank_account",
        "items[0].quantity",
        "items[1].unit_value_fen",
        "officer",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
    }
    assert!(!e.message().contains("420302198001011234") && !e.message().contains("62220x"));
    // A company needs a credit code with the right check character.
    let mut req = excavator_and_quilts(&inc);
    req.requisition.as_mut().unwrap().owner = Some(owner(pb::OwnerKind::Company, ID));
    let e = dispatcher(&app).create_requisition(req).await.unwrap_err();
    assert_eq!(violated_fields(&e), vec!["owner.id_number"]);
    let mut req = excavator_and_quilts(&inc);
    req.requisition.as_mut().unwrap().owner = Some(owner(pb::OwnerKind::Company, CODE));
    dispatcher(&app).create_requisition(req).await.unwrap();
    // An unknown incident is NOT_FOUND.
    let e = dispatcher(&app)
        .create_requisition(excavator_and_quilts("no-such"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(
        app.audit_count().await,
        before + 1,
        "only the good requisition changed anything"
    );
}

#[tokio::test]
async fn outcomes_never_exceed_what_is_out_and_claims_wait_until_every_unit_has_one() {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    let mut d = dispatcher(&app);
    let e = record(
        &mut d,
        &r.id,
        vec![outcome(1, pb::RequisitionOutcomeKind::Consumed, 1, 0)],
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("NOT_CONSUMABLE"));
    let e = record(
        &mut d,
        &r.id,
        vec![outcome(2, pb::RequisitionOutcomeKind::Consumed, 301, 0)],
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("OUTCOME_EXCEEDS_OUTSTANDING"));
    let mut no_cert = outcome(1, pb::RequisitionOutcomeKind::Lost, 1, 0);
    no_cert.certificate.clear();
    let e = record(&mut d, &r.id, vec![no_cert], "").await.unwrap_err();
    assert_eq!(violated_fields(&e), vec!["outcomes[0].certificate"]);
    let r = record(
        &mut d,
        &r.id,
        vec![outcome(2, pb::RequisitionOutcomeKind::Consumed, 100, 0)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(r.items[1].outstanding, 200);
    let mut fin = comp(&app, "finance-a@HB-SY", SY);
    let c = open_claim(&mut fin, &r.id, vec![]).await.unwrap();
    assert!(
        c.figures.as_ref().unwrap().interim,
        "a draft on units still out is interim"
    );
    let e = assess(&mut fin, &c.id, vec![]).await.unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("REQUISITION_NOT_RESOLVED"));
    let e = open_claim(&mut fin, &r.id, vec![]).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn a_voucher_missing_after_48_hours_is_listed_until_it_is_recorded() {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    let mut d = dispatcher(&app);
    let overdue = |d: &mut Reqs| {
        let mut d = d.clone();
        async move {
            d.list_requisitions(pb::ListRequisitionsRequest {
                filter: pb::RequisitionFilter::VoucherOverdue as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .requisitions
            .into_iter()
            .map(|r| r.number)
            .collect::<Vec<_>>()
        }
    };
    app.clock.set(T0 + 47 * 3_600_000);
    assert!(overdue(&mut d).await.is_empty());
    app.clock.set(T0 + 49 * 3_600_000);
    assert_eq!(overdue(&mut d).await, vec![r.number.clone()]);
    let rep = comp(&app, "finance@HB-SY", SY)
        .get_finance_report(pb::GetFinanceReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rep.vouchers_overdue, 1);
    let v = d
        .record_requisition_voucher(pb::RecordRequisitionVoucherRequest {
            request_id: rid(),
            requisition_id: r.number.clone(),
            voucher_number: "十堰征凭 0031".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .requisition
        .unwrap();
    assert_eq!(v.voucher_number, "十堰征凭 0031");
    assert!(overdue(&mut d).await.is_empty());
    let e = d
        .record_requisition_voucher(pb::RecordRequisitionVoucherRequest {
            request_id: rid(),
            requisition_id: r.number.clone(),
            voucher_number: "again".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("VOUCHER_EXISTS"));
}

async fn line_on_hand(app: &TestApp, depot: &str, lot: &str) -> i64 {
    app.stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: depot.into(),
            item_id: "quilt-cotton".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .iter()
        .filter(|l| l.lot.as_ref().is_some_and(|x| x.lot_number == lot))
        .map(|l| l.on_hand)
        .sum()
}

#[tokio::test]
async fn requisitioned_quilts_received_into_a_depot_are_returned_out_of_it_and_nothing_else_resolves_them()
 {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    let receive = |lot: &str, qty: i64, req: &str, line: i32| pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "quilt-cotton".into(),
        lot_number: lot.into(),
        expiry_date: date(2031, 1, 1),
        quantity: qty,
        requisition_id: req.into(),
        requisition_line_number: line,
        ..Default::default()
    };
    let mut k = app.keeper("keeper@HB-SY-ZS", ZS);
    k.receive_stock(receive("ZY-Q-1", 300, &r.number, 2))
        .await
        .unwrap();
    assert_eq!(line_on_hand(&app, ZS, "ZY-Q-1").await, 300);
    // No more than was taken; never into the lot without its requisition.
    let e = k
        .receive_stock(receive("ZY-Q-1", 1, &r.number, 2))
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("REQUISITION_MISMATCH"));
    let e = k
        .receive_stock(receive("ZY-Q-1", 1, "", 0))
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("REQUISITION_MISMATCH"));
    let mut plain = receive("ZY-Q-2", 1, "", 0);
    plain.funding_source = pb::FundingSource::Requisition as i32;
    let e = k.receive_stock(plain).await.unwrap_err();
    assert_eq!(violated_fields(&e), vec!["requisition_id"]);
    // 280 issued to the shelter through the ledger.
    k.issue_stock(pb::IssueStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "quilt-cotton".into(),
        quantity: 280,
        lot_number: "ZY-Q-1".into(),
        purpose: pb::IssuePurpose::Incident as i32,
        recipient: "城关镇安置点".into(),
        override_reserve_minimum: true,
        override_reason: "安置点急需".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut keeper = reqs(&app, "keeper@HB-SY-ZS", &[Role::DepotKeeper], ZS);
    // The 20 left are in stock: only leaving the depot resolves them.
    let e = record(
        &mut keeper,
        &r.id,
        vec![outcome(
            2,
            pb::RequisitionOutcomeKind::ReturnedIntact,
            20,
            0,
        )],
        "",
    )
    .await;
    let e = e.unwrap_err();
    assert_eq!(
        e.code(),
        Code::PermissionDenied,
        "a county keeper records at their own depot"
    );
    let e = record(
        &mut dispatcher(&app),
        &r.id,
        vec![outcome(2, pb::RequisitionOutcomeKind::Consumed, 281, 0)],
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("INSUFFICIENT_STOCK"));
    let r2 = record(
        &mut dispatcher(&app),
        &r.id,
        vec![outcome(2, pb::RequisitionOutcomeKind::Consumed, 280, 0)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(r2.items[1].outstanding, 20);
    let r2 = record(
        &mut keeper,
        &r.id,
        vec![outcome(
            2,
            pb::RequisitionOutcomeKind::ReturnedIntact,
            20,
            0,
        )],
        ZS,
    )
    .await
    .unwrap();
    assert_eq!(r2.items[1].returned, 20);
    assert_eq!(
        line_on_hand(&app, ZS, "ZY-Q-1").await,
        0,
        "the 20 left the depot back to the owner"
    );
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn each_step_belongs_to_its_role_and_scope() {
    let app = TestApp::with_demo().await;
    let inc = incident(&app).await;
    let denied = |r: Result<tonic::Response<pb::CreateRequisitionResponse>, tonic::Status>| {
        r.map(drop).unwrap_err().code()
    };
    assert_eq!(
        denied(
            reqs(&app, "k", &[Role::DepotKeeper], ZS)
                .create_requisition(excavator_and_quilts(&inc))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        denied(
            reqs(&app, "f", &[Role::Finance], SY)
                .create_requisition(excavator_and_quilts(&inc))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        denied(
            reqs(&app, "d", &[Role::Dispatcher], FX)
                .create_requisition(excavator_and_quilts(&inc))
                .await
        ),
        Code::PermissionDenied,
        "a county dispatcher cannot requisition for the city"
    );
    let r = create(&app).await;
    // Outcomes: not finance, not auditors.
    for roles in [&[Role::Finance][..], &[Role::Auditor][..]] {
        let e = record(
            &mut reqs(&app, "x", roles, SY),
            &r.id,
            vec![outcome(2, pb::RequisitionOutcomeKind::Consumed, 1, 0)],
            "",
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{roles:?}");
    }
    // Claims: finance only, and only over their scope.
    let t = app.token_for("d", &[Role::Dispatcher, Role::Admin], SY);
    let e = CompensationServiceClient::new(app.authed(Some(&t)))
        .create_claim(pb::CreateClaimRequest {
            request_id: rid(),
            requisition_id: r.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = open_claim(&mut comp(&app, "finance@FX", FX), &r.id, vec![])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // A county reader does not see the city's requisitions.
    let e = reqs(&app, "a", &[Role::Auditor], FX)
        .get_requisition(pb::GetRequisitionRequest {
            requisition_id: r.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn identical_requests_at_once_give_one_answer_and_one_effect() {
    let app = TestApp::with_demo().await;
    let inc = incident(&app).await;
    let d = dispatcher(&app);
    let req = excavator_and_quilts(&inc);
    let r = one_answer(at_once!(d, create_requisition, req))
        .requisition
        .unwrap();
    let listed = dispatcher(&app)
        .list_requisitions(pb::ListRequisitionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.requisitions.len(), 1);
    app.clock.advance_days(3);
    let out = pb::RecordRequisitionOutcomesRequest {
        request_id: rid(),
        requisition_id: r.id.clone(),
        outcomes: vec![
            outcome(1, pb::RequisitionOutcomeKind::ReturnedIntact, 1, 0),
            outcome(2, pb::RequisitionOutcomeKind::Consumed, 300, 0),
        ],
        ..Default::default()
    };
    let r = one_answer(at_once!(d, record_requisition_outcomes, out))
        .requisition
        .unwrap();
    assert_eq!(r.outcomes.len(), 2);
    let a = comp(&app, "finance-a@HB-SY", SY);
    let open = pb::CreateClaimRequest {
        request_id: rid(),
        requisition_id: r.id.clone(),
        ..Default::default()
    };
    let c = one_answer(at_once!(a, create_claim, open)).claim.unwrap();
    // The replay is rebuilt for finance: the owner in full.
    assert_eq!(c.owner.as_ref().unwrap().id_number, ID);
    let mut a2 = a.clone();
    assess(&mut a2, &c.id, vec![]).await.unwrap();
    let c = approve(&mut comp(&app, "finance-b@HB-SY", SY), &c.id)
        .await
        .unwrap();
    let pay = payment(&c.id, 100_000);
    let c = one_answer(at_once!(a, record_claim_payment, pay))
        .claim
        .unwrap();
    assert_eq!(c.paid_fen, 100_000);
    assert_eq!(c.payments.len(), 1);
    // Different payments racing for the last fen: never more than approved.
    let left = c.outstanding_fen;
    let gate = Arc::new(tokio::sync::Barrier::new(COPIES));
    let calls = (0..COPIES).map(|_| {
        let mut a = a.clone();
        let gate = gate.clone();
        let id = c.id.clone();
        tokio::spawn(async move {
            gate.wait().await;
            a.record_claim_payment(payment(&id, left)).await
        })
    });
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    assert_eq!(ok, 1, "exactly one payment of the balance lands");
    for r in results.into_iter().flatten() {
        if let Err(e) = r {
            assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        }
    }
    let c = a
        .clone()
        .get_claim(pb::GetClaimRequest {
            claim_id: c.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(c.state, pb::ClaimState::Paid as i32);
    assert_eq!(c.paid_fen, c.approved_fen);
}

#[tokio::test]
async fn a_purge_removes_owners_private_data_from_claims_settled_long_ago_and_keeps_the_amounts() {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    app.clock.advance_days(2);
    record(
        &mut dispatcher(&app),
        &r.id,
        vec![
            outcome(1, pb::RequisitionOutcomeKind::ReturnedIntact, 1, 0),
            outcome(2, pb::RequisitionOutcomeKind::Consumed, 300, 0),
        ],
        "",
    )
    .await
    .unwrap();
    let mut a = comp(&app, "finance-a@HB-SY", SY);
    let c = open_claim(&mut a, &r.id, vec![]).await.unwrap();
    assess(&mut a, &c.id, vec![]).await.unwrap();
    let c = approve(&mut comp(&app, "finance-b@HB-SY", SY), &c.id)
        .await
        .unwrap();
    let total = c.approved_fen;
    assert_eq!(total, 2 * 250_000 + 300 * 15_000);
    a.record_claim_payment(payment(&c.id, total)).await.unwrap();
    let purge = |a: &mut Comp| {
        let mut a = a.clone();
        async move {
            a.purge_settled_private_data(pb::PurgeSettledPrivateDataRequest { request_id: rid() })
                .await
                .unwrap()
                .into_inner()
                .claim_numbers
        }
    };
    // Settled today: kept for the retention period (365 days by default).
    assert!(purge(&mut a).await.is_empty());
    app.clock.advance_days(366);
    assert_eq!(purge(&mut a).await, vec![c.number.clone()]);
    let after = a
        .get_claim(pb::GetClaimRequest {
            claim_id: c.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    let o = after.owner.unwrap();
    assert!(o.purged);
    assert!(o.id_number.is_empty() && o.bank_account.is_empty());
    assert_eq!(after.paid_fen, total, "the amounts stay");
    let sealed = app.column_text("SELECT ciphertext FROM private_data").await;
    assert!(
        sealed.iter().all(String::is_empty),
        "the sealed data is gone"
    );
    // A keeper cannot purge.
    let t = app.token_for("k", &[Role::DepotKeeper], ZS);
    let e = CompensationServiceClient::new(app.authed(Some(&t)))
        .purge_settled_private_data(pb::PurgeSettledPrivateDataRequest { request_id: rid() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let _ = DAY;
}

#[tokio::test]
async fn requisitioned_stock_never_exceeds_the_units_without_an_outcome_through_receipts_reversals_or_other_depots()
 {
    let app = TestApp::with_demo().await;
    let r = create(&app).await;
    let receive = |lot: &str, qty: i64| pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: "quilt-cotton".into(),
        lot_number: lot.into(),
        expiry_date: date(2031, 1, 1),
        quantity: qty,
        requisition_id: r.number.clone(),
        requisition_line_number: 2,
        ..Default::default()
    };
    // 100 quilts were used at the scene before any reached a depot.
    record(
        &mut dispatcher(&app),
        &r.id,
        vec![outcome(2, pb::RequisitionOutcomeKind::Consumed, 100, 0)],
        "",
    )
    .await
    .unwrap();
    let mut k = app.keeper("keeper@HB-SY-ZS", ZS);
    let e = k.receive_stock(receive("ZY-A", 300)).await.unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("REQUISITION_MISMATCH"), "{e:?}");
    let first = k
        .receive_stock(receive("ZY-A", 190))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    // A mistaken receipt reversed gives its count back: the right one goes in.
    k.reverse_entry(pb::ReverseEntryRequest {
        request_id: rid(),
        entry_id: first.id,
        reason: "数量录错".into(),
    })
    .await
    .unwrap();
    k.receive_stock(receive("ZY-A", 10)).await.unwrap();
    k.receive_stock(receive("ZY-B", 10)).await.unwrap();
    let got = dispatcher(&app)
        .get_requisition(pb::GetRequisitionRequest {
            requisition_id: r.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .requisition
        .unwrap();
    assert_eq!(
        got.items[1].received, 20,
        "the reversed receipt no longer counts"
    );
    // Outside the requisitioning tier (the provincial depot): refused.
    let mut foreign = receive("ZY-C", 1);
    foreign.depot_code = "HB".into();
    let e = app
        .keeper("keeper@HB", "HB")
        .receive_stock(foreign)
        .await
        .unwrap_err();
    assert_eq!(reason(&e).as_deref(), Some("REQUISITION_MISMATCH"), "{e:?}");
    // Two outcomes of one request taking from the same lots: 8 back intact
    // and 8 damaged leave 4 of the 20 in stock.
    let mut keeper = reqs(&app, "keeper@HB-SY-ZS", &[Role::DepotKeeper], ZS);
    let mut damaged = outcome(2, pb::RequisitionOutcomeKind::Damaged, 8, 0);
    damaged.repair_cost_fen = 0;
    let after = record(
        &mut keeper,
        &r.id,
        vec![
            outcome(2, pb::RequisitionOutcomeKind::ReturnedIntact, 8, 0),
            damaged,
        ],
        ZS,
    )
    .await
    .unwrap();
    assert_eq!(after.items[1].outstanding, 200 - 16);
    assert_eq!(
        line_on_hand(&app, ZS, "ZY-A").await + line_on_hand(&app, ZS, "ZY-B").await,
        4
    );
    app.assert_ledger_consistent().await;
}
