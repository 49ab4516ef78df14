//! Leases on the demo network: tents and lighting towers out to a company
//! and back (partly damaged), the reserve minimum, units that cannot be
//! leased, fees in exact fen, emergency recall of a county, who may do
//! what, and eight identical requests at once.

use crate::retries::{COPIES, at_once, one_answer};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::lease_service_client::LeaseServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, date, reason, rid, violated_fields};
use std::sync::Arc;
use tonic::Code;

type Leases = LeaseServiceClient<Authed>;

const ZS: &str = "HB-SY-ZS";
const ZS1: &str = "HB-SY-ZS-01";
const FX: &str = "HB-SY-FX";
const FX1: &str = "HB-SY-FX-01";
const FX2: &str = "HB-SY-FX-02";
const TENT: &str = "tent-12m2";
const TOWER: &str = "lighting-tower";
const QUILT: &str = "quilt-cotton";
const CODE: &str = "91420300MA4F0A2B31";

fn leases(app: &TestApp, who: &str, roles: &[Role], scope: &str) -> Leases {
    LeaseServiceClient::new(app.authed(Some(&app.token_for(who, roles, scope))))
}

fn keeper(app: &TestApp, depot: &str) -> Leases {
    leases(app, &format!("keeper@{depot}"), &[Role::DepotKeeper], depot)
}

async fn receive(app: &TestApp, depot: &str, item: &str, lot: &str, qty: i64, serials: &[&str]) {
    app.keeper(&format!("keeper@{depot}"), depot)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: depot.into(),
            item_id: item.into(),
            lot_number: lot.into(),
            expiry_date: if serials.is_empty() {
                date(2031, 1, 1)
            } else {
                None
            },
            quantity: qty,
            serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
}

fn line(item: &str, quantity: i64, serials: &[&str], rate: i64) -> pb::LeaseLine {
    pb::LeaseLine {
        item_id: item.into(),
        quantity,
        serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
        daily_rate_fen: rate,
        ..Default::default()
    }
}

/// A lease request due `days` after the test clock's date.
fn lease_req(
    depot: &str,
    lines: Vec<pb::LeaseLine>,
    days: i64,
    deposit: i64,
    recallable: bool,
) -> pb::CreateLeaseRequest {
    let due = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
        .unwrap()
        .checked_add_days(chrono::Days::new(days as u64))
        .unwrap();
    use chrono::Datelike;
    pb::CreateLeaseRequest {
        request_id: rid(),
        lease: Some(pb::Lease {
            depot_code: depot.into(),
            lessee: Some(pb::Lessee {
                name: "十堰市城建工程有限公司".into(),
                credit_code: CODE.into(),
                contact: Some(pb::Contact {
                    name: "王工".into(),
                    duty: "项目经理".into(),
                    phone: "13871000000".into(),
                }),
            }),
            lines,
            due_date: date(due.year(), due.month() as i32, due.day() as i32),
            deposit_fen: deposit,
            recallable,
            contract: "ZL-HT-2026-017".into(),
            ..Default::default()
        }),
    }
}

/// (on hand, held, on lease, available) of `item` at `depot`.
async fn figures(app: &TestApp, depot: &str, item: &str) -> (i64, i64, i64, i64) {
    let lines = app
        .stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: depot.into(),
            item_id: item.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    lines.iter().fold((0, 0, 0, 0), |a, l| {
        (
            a.0 + l.on_hand,
            a.1 + l.held,
            a.2 + l.on_lease,
            a.3 + l.available,
        )
    })
}

async fn statement(c: &mut Leases, id: &str) -> pb::GetLeaseStatementResponse {
    c.get_lease_statement(pb::GetLeaseStatementRequest {
        lease_id: id.into(),
    })
    .await
    .unwrap()
    .into_inner()
}

#[tokio::test]
async fn tents_go_out_on_lease_come_back_partly_damaged_and_the_fees_are_exact() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TENT, "TN-1", 100, &[]).await;
    let mut k = keeper(&app, ZS1);
    let l = k
        .create_lease(lease_req(
            ZS1,
            vec![line(TENT, 30, &[], 500)],
            10,
            20_000,
            true,
        ))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    assert!(l.number.starts_with("ZL-2026-"), "{}", l.number);
    assert_eq!((l.outstanding, l.state), (30, pb::LeaseState::Open as i32));
    assert_eq!(figures(&app, ZS1, TENT).await, (70, 0, 30, 70));
    // On lease and recallable show in the county's roll-up.
    let r = app
        .stock(&app.root_admin())
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: ZS.into(),
            item_id: TENT.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total
        .unwrap();
    assert_eq!((r.on_hand, r.on_lease, r.recallable), (70, 30, 30));
    app.assert_ledger_consistent().await;

    // Day 4: 20 back intact, 5 back torn (30.00 yuan of damage), recorded
    // on day 5 after the inspection: fees run to the day they came back.
    app.clock.advance_days(5);
    let back = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.number.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 1,
                quantity: 20,
                damaged_quantity: 5,
                condition: pb::AssetCondition::Good as i32,
                damaged_condition: pb::AssetCondition::NeedsRepair as i32,
                damage_fen: 3_000,
                note: "5 顶篷布撕裂".into(),
                ..Default::default()
            }],
            etag: l.etag.clone(),
            occurred_time: Some(prost_types::Timestamp {
                seconds: (reserve_tests::T0 + 4 * 86_400_000) / 1000,
                nanos: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    assert_eq!(back.outstanding, 5);
    assert_eq!(figures(&app, ZS1, TENT).await, (95, 5, 5, 90));
    app.assert_ledger_consistent().await;
    // The damaged units are in a plain hold: the keeper releases them after repair.
    let s = statement(&mut k, &l.id).await;
    // 25 back on day 4; 5 still out, charged to today (day 5).
    assert_eq!(s.usage_fen, 25 * 4 * 500 + 5 * 5 * 500);
    assert!(!s.r#final);

    // Day 10 (the due date): the last 5 back.
    app.clock.advance_days(5);
    let done = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 1,
                quantity: 5,
                condition: pb::AssetCondition::Good as i32,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    assert_eq!(done.state, pb::LeaseState::Returned as i32);
    assert_eq!(figures(&app, ZS1, TENT).await, (100, 5, 0, 95));
    let s = statement(&mut k, &l.id).await;
    // 25 units × 4 days + 5 units × 10 days, at 5.00 yuan; damage 30.00; deposit 200.00.
    assert_eq!(
        (
            s.usage_fen,
            s.damage_fen,
            s.total_fen,
            s.balance_fen,
            s.r#final
        ),
        (75_000, 3_000, 78_000, 58_000, true)
    );
    // Nothing more can come back, and a returned lease cannot be recalled.
    let err = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 1,
                quantity: 1,
                condition: pb::AssetCondition::Good as i32,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("INVALID_STATE_TRANSITION"));
    // The lease's entries cannot be reversed: only its returns move its units.
    let entries = app
        .stock(&app.root_admin())
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            depot_code: ZS1.into(),
            item_id: TENT.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let out = entries
        .iter()
        .find(|e| e.entry_type == pb::EntryType::LeaseOut as i32)
        .unwrap();
    assert_eq!((out.quantity, out.on_lease_delta), (-30, 30));
    assert_eq!(out.owner, format!("leases/{}", l.id));
    let err = app
        .keeper("keeper@ZS1", ZS1)
        .reverse_entry(pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: out.id.clone(),
            reason: "录错".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn lighting_towers_on_lease_are_the_leases_and_come_back_by_serial() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TOWER, "LT-1", 3, &["LT-A", "LT-B", "LT-C"]).await;
    let mut k = keeper(&app, ZS1);
    let l = k
        .create_lease(lease_req(
            ZS1,
            vec![line(TOWER, 0, &["LT-A", "LT-B"], 12_000)],
            5,
            0,
            true,
        ))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    let mut stock = app.keeper("keeper@ZS1", ZS1);
    let a = stock
        .get_asset(pb::GetAssetRequest {
            item_id: TOWER.into(),
            serial_number: "LT-A".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap();
    assert_eq!(a.status, pb::AssetStatus::OnLease as i32);
    assert_eq!(a.holder, format!("leases/{}", l.id));
    // An asset out on lease cannot be issued, or leased again.
    let err = stock
        .issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: ZS1.into(),
            item_id: TOWER.into(),
            serial_numbers: vec!["LT-A".into()],
            purpose: pb::IssuePurpose::Use as i32,
            recipient: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = k
        .create_lease(lease_req(
            ZS1,
            vec![line(TOWER, 0, &["LT-B"], 12_000)],
            5,
            0,
            true,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // A serial the lease does not have out cannot come back on it.
    let err = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 1,
                serial_numbers: vec!["LT-C".into()],
                condition: pb::AssetCondition::Good as i32,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("NOT_ON_LEASE"));
    // LT-A back fine, LT-B back damaged into a hold.
    app.clock.advance_days(2);
    k.return_lease(pb::ReturnLeaseRequest {
        request_id: rid(),
        lease_id: l.id.clone(),
        lines: vec![pb::LeaseReturnLine {
            line_number: 1,
            serial_numbers: vec!["LT-A".into()],
            damaged_serial_numbers: vec!["LT-B".into()],
            condition: pb::AssetCondition::Worn as i32,
            damaged_condition: pb::AssetCondition::Unserviceable as i32,
            damage_fen: 80_000,
            ..Default::default()
        }],
        ..Default::default()
    })
    .await
    .unwrap();
    let status = |s: &'static str| {
        let mut c = stock.clone();
        async move {
            c.get_asset(pb::GetAssetRequest {
                item_id: TOWER.into(),
                serial_number: s.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .asset
            .unwrap()
            .status
        }
    };
    assert_eq!(status("LT-A").await, pb::AssetStatus::InStock as i32);
    assert_eq!(status("LT-B").await, pb::AssetStatus::Held as i32);
    // Intact units can never be stamped unserviceable, nor damaged ones good.
    let err = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 1,
                serial_numbers: vec!["LT-C".into()],
                condition: pb::AssetCondition::Unserviceable as i32,
                damaged_condition: pb::AssetCondition::Good as i32,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&err),
        vec![
            "lines[0].condition".to_string(),
            "lines[0].damaged_condition".to_string()
        ]
    );
    assert_eq!(figures(&app, ZS1, TOWER).await, (3, 1, 0, 2));
    let s = statement(&mut k, &l.id).await;
    // 2 towers × 2 days × 120.00 + 800.00 damage, no deposit.
    assert_eq!((s.usage_fen, s.balance_fen), (48_000, 128_000));
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn a_lease_below_the_reserve_minimum_or_of_held_units_is_refused_and_changes_nothing() {
    let app = TestApp::with_demo().await;
    // The county keeps at least 50 tents.
    receive(&app, ZS, TENT, "TN-1", 55, &[]).await;
    let mut k = keeper(&app, ZS);
    let before = app.fingerprint().await;
    let err = k
        .create_lease(lease_req(ZS, vec![line(TENT, 6, &[], 500)], 10, 0, true))
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("BELOW_RESERVE_MINIMUM"));
    assert_eq!(figures(&app, ZS, TENT).await, (55, 0, 0, 55));
    assert_eq!(app.fingerprint().await, before);
    // Five can go.
    k.create_lease(lease_req(ZS, vec![line(TENT, 5, &[], 500)], 10, 0, true))
        .await
        .unwrap();
    // Held units cannot be leased; neither can items the catalogue does not mark leasable.
    receive(&app, ZS1, TENT, "TN-2", 4, &[]).await;
    app.keeper("keeper@ZS1", ZS1)
        .hold_stock(pb::HoldStockRequest {
            request_id: rid(),
            depot_code: ZS1.into(),
            item_id: TENT.into(),
            lot_number: "TN-2".into(),
            quantity: 3,
            reason: pb::HoldReason::Quarantine as i32,
            note: "受潮待查".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut k1 = keeper(&app, ZS1);
    let err = k1
        .create_lease(lease_req(ZS1, vec![line(TENT, 2, &[], 500)], 10, 0, true))
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("INSUFFICIENT_STOCK"));
    receive(&app, ZS1, QUILT, "Q-1", 10, &[]).await;
    let err = k1
        .create_lease(lease_req(ZS1, vec![line(QUILT, 1, &[], 100)], 10, 0, true))
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("NOT_LEASABLE"));
    // Bad fields are named together.
    let mut bad = lease_req(ZS1, vec![line(TENT, 1, &[], 0)], 0, -5, true);
    if let Some(l) = bad.lease.as_mut()
        && let Some(x) = l.lessee.as_mut()
    {
        x.credit_code = "91420300MA4F0A2B32".into();
    }
    let err = k1.create_lease(bad).await.unwrap_err();
    let fields = violated_fields(&err);
    for f in [
        "lease.lessee.credit_code",
        "lease.deposit_fen",
        "lease.lines[0].daily_rate_fen",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
    }
    // Due the day the units leave: refused, naming the field.
    let err = k1
        .create_lease(lease_req(ZS1, vec![line(TENT, 1, &[], 500)], 0, 0, true))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), vec!["lease.due_date".to_string()]);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn a_dispatcher_recalls_every_lease_in_a_county_in_one_call() {
    let app = TestApp::with_demo().await;
    for d in [FX1, FX2, ZS1] {
        receive(&app, d, TENT, "TN-1", 20, &[]).await;
    }
    let a = keeper(&app, FX1)
        .create_lease(lease_req(FX1, vec![line(TENT, 10, &[], 500)], 30, 0, true))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    let fixed = keeper(&app, FX2)
        .create_lease(lease_req(FX2, vec![line(TENT, 10, &[], 500)], 30, 0, false))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    let other = keeper(&app, ZS1)
        .create_lease(lease_req(ZS1, vec![line(TENT, 10, &[], 500)], 3, 0, true))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    app.clock.advance_days(5);
    // A keeper cannot recall, nor a dispatcher of another county.
    let req = pb::RecallLeasesRequest {
        request_id: rid(),
        depot_code: FX.into(),
        deadline_hours: 24,
        reason: "房县山洪预警，调回帐篷".into(),
    };
    let err = keeper(&app, FX1)
        .recall_leases(req.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // The subtree must be named.
    let err = leases(&app, "disp@FX", &[Role::Dispatcher], FX)
        .recall_leases(pb::RecallLeasesRequest {
            depot_code: String::new(),
            request_id: rid(),
            ..req.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["depot_code".to_string()]);
    let err = leases(&app, "disp@ZS", &[Role::Dispatcher], ZS)
        .recall_leases(req.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mut disp = leases(&app, "disp@FX", &[Role::Dispatcher], FX);
    let r = disp.recall_leases(req).await.unwrap().into_inner();
    assert_eq!(
        r.leases
            .iter()
            .map(|l| l.number.clone())
            .collect::<Vec<_>>(),
        vec![a.number.clone()]
    );
    assert_eq!(r.skipped_numbers, vec![fixed.number.clone()]);
    // Recalling again is refused with the reason.
    let err = disp
        .recall_lease(pb::RecallLeaseRequest {
            request_id: rid(),
            lease_id: a.id.clone(),
            deadline_hours: 12,
            reason: "again".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("NOT_RECALLABLE"));
    // Two days on, the recalled lease is still out: it is listed, and its
    // fees stopped at the recall date (day 5).
    app.clock.advance_days(2);
    let list = |filter: pb::LeaseFilter, depot: &'static str| {
        let mut c = leases(&app, "disp@SY", &[Role::Dispatcher], "HB-SY");
        async move {
            c.list_leases(pb::ListLeasesRequest {
                depot_code: depot.into(),
                filter: filter as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .leases
            .into_iter()
            .map(|l| l.number)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(pb::LeaseFilter::RecallMissed, "HB-SY").await,
        vec![a.number.clone()]
    );
    assert_eq!(
        list(pb::LeaseFilter::Overdue, "HB-SY").await,
        vec![other.number.clone()]
    );
    assert_eq!(list(pb::LeaseFilter::Open, FX).await.len(), 2);
    let s = statement(&mut disp, &a.id).await;
    assert_eq!(
        (s.usage_fen, s.fees_stop_date),
        (10 * (5 + 1) * 500, date(2026, 12, 3))
    );
    // A township with every unit out on lease cannot close: the lease is open.
    receive(&app, "HB-SY-FX-03", TENT, "TN-1", 10, &[]).await;
    let all_out = keeper(&app, "HB-SY-FX-03")
        .create_lease(lease_req(
            "HB-SY-FX-03",
            vec![line(TENT, 10, &[], 500)],
            30,
            0,
            true,
        ))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    let err = app
        .network(&app.root_admin())
        .close_depot(pb::CloseDepotRequest {
            request_id: rid(),
            code: "HB-SY-FX-03".into(),
            reason: "撤并".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains(&all_out.number), "{}", err.message());
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn who_may_lease_take_back_recall_and_read() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TENT, "TN-1", 50, &[]).await;
    let l = keeper(&app, ZS1)
        .create_lease(lease_req(ZS1, vec![line(TENT, 10, &[], 500)], 10, 0, true))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    let deny = |r: Result<(), tonic::Status>| match r {
        Err(s) => s.code() == Code::PermissionDenied,
        Ok(()) => false,
    };
    let create = |c: &Leases| {
        let mut c = c.clone();
        async move {
            c.create_lease(lease_req(ZS1, vec![line(TENT, 1, &[], 500)], 10, 0, true))
                .await
                .map(|_| ())
        }
    };
    let back = |c: &Leases| {
        let mut c = c.clone();
        let id = l.id.clone();
        async move {
            c.return_lease(pb::ReturnLeaseRequest {
                request_id: rid(),
                lease_id: id,
                lines: vec![pb::LeaseReturnLine {
                    line_number: 1,
                    quantity: 1,
                    condition: pb::AssetCondition::Good as i32,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .map(|_| ())
        }
    };
    let recall = |c: &Leases| {
        let mut c = c.clone();
        let id = l.id.clone();
        async move {
            c.recall_lease(pb::RecallLeaseRequest {
                request_id: rid(),
                lease_id: id,
                deadline_hours: 24,
                reason: "汛期".into(),
                ..Default::default()
            })
            .await
            .map(|_| ())
        }
    };
    let read = |c: &Leases| {
        let mut c = c.clone();
        let id = l.id.clone();
        async move {
            c.get_lease_statement(pb::GetLeaseStatementRequest { lease_id: id })
                .await
                .map(|_| ())
        }
    };
    let other_keeper = keeper(&app, "HB-SY-ZS-02");
    let county_keeper = keeper(&app, ZS);
    let dispatcher_out = leases(&app, "d@FX", &[Role::Dispatcher], FX);
    let auditor_in = leases(&app, "a@ZS", &[Role::Auditor], ZS);
    let auditor_out = leases(&app, "a@FX", &[Role::Auditor], FX);
    let finance = leases(&app, "f@SY", &[Role::Finance], "HB-SY");
    // (who, may create, may take back, may recall, may read)
    let table: Vec<(&str, Leases, bool, bool, bool, bool)> = vec![
        ("keeper here", keeper(&app, ZS1), true, true, false, true),
        ("keeper elsewhere", other_keeper, false, false, false, false),
        ("county keeper", county_keeper, false, false, false, true),
        (
            "dispatcher out of scope",
            dispatcher_out,
            false,
            false,
            false,
            false,
        ),
        ("auditor in scope", auditor_in, false, false, false, true),
        (
            "auditor out of scope",
            auditor_out,
            false,
            false,
            false,
            false,
        ),
        ("finance", finance, false, false, false, true),
    ];
    for (who, c, may_create, may_back, may_recall, may_read) in table {
        let r = create(&c).await;
        assert_eq!(r.is_ok(), may_create, "{who} create: {r:?}");
        if !may_create {
            assert!(deny(r), "{who} create is not PERMISSION_DENIED");
        }
        let r = back(&c).await;
        assert_eq!(r.is_ok(), may_back, "{who} return: {r:?}");
        if !may_back {
            assert!(deny(r), "{who} return is not PERMISSION_DENIED");
        }
        let r = recall(&c).await;
        assert_eq!(r.is_ok(), may_recall, "{who} recall: {r:?}");
        let r = read(&c).await;
        assert_eq!(r.is_ok(), may_read, "{who} read: {r:?}");
    }
    // The dispatcher over the township recalls.
    let r = recall(&leases(&app, "d@ZS", &[Role::Dispatcher], ZS)).await;
    assert!(r.is_ok(), "{r:?}");
    // No token at all.
    let mut anon = LeaseServiceClient::new(app.authed(None));
    let err = anon
        .get_lease(pb::GetLeaseRequest {
            lease_id: l.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn every_lease_write_sent_eight_times_at_once_answers_the_same_and_acts_once() {
    let app = TestApp::with_demo().await;
    for d in [ZS1, "HB-SY-ZS-02"] {
        receive(&app, d, TENT, "TN-1", 40, &[]).await;
    }
    let k = keeper(&app, ZS1);
    let create = lease_req(ZS1, vec![line(TENT, 10, &[], 500)], 10, 1_000, true);
    let l = one_answer(at_once!(k, create_lease, create)).lease.unwrap();
    assert_eq!(figures(&app, ZS1, TENT).await, (30, 0, 10, 30));
    let back = pb::ReturnLeaseRequest {
        request_id: rid(),
        lease_id: l.id.clone(),
        lines: vec![pb::LeaseReturnLine {
            line_number: 1,
            quantity: 4,
            condition: pb::AssetCondition::Good as i32,
            ..Default::default()
        }],
        ..Default::default()
    };
    let after = one_answer(at_once!(k, return_lease, back)).lease.unwrap();
    assert_eq!(after.outstanding, 6);
    assert_eq!(figures(&app, ZS1, TENT).await, (34, 0, 6, 34));
    let d = leases(&app, "disp@ZS", &[Role::Dispatcher], ZS);
    let one = pb::RecallLeaseRequest {
        request_id: rid(),
        lease_id: l.id.clone(),
        deadline_hours: 24,
        reason: "汛期调回".into(),
        ..Default::default()
    };
    let recalled = one_answer(at_once!(d, recall_lease, one)).lease.unwrap();
    assert!(recalled.recall.is_some());
    keeper(&app, "HB-SY-ZS-02")
        .create_lease(lease_req(
            "HB-SY-ZS-02",
            vec![line(TENT, 5, &[], 500)],
            10,
            0,
            true,
        ))
        .await
        .unwrap();
    let all = pb::RecallLeasesRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        deadline_hours: 24,
        reason: "全县调回".into(),
    };
    let r = one_answer(at_once!(d, recall_leases, all));
    assert_eq!((r.leases.len(), r.skipped_numbers.len()), (1, 1));
    assert_eq!(COPIES, 8);
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn two_keepers_racing_for_the_last_units_lease_no_more_than_there_are() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TENT, "TN-1", 10, &[]).await;
    let k = keeper(&app, ZS1);
    let calls = (0..6).map(|_| {
        let mut c = k.clone();
        tokio::spawn(async move {
            c.create_lease(lease_req(ZS1, vec![line(TENT, 3, &[], 500)], 10, 0, true))
                .await
                .map(|_| ())
        })
    });
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    assert_eq!(ok, 3, "{results:?}");
    for r in results {
        if let Ok(Err(s)) = r {
            assert_eq!(reason(&s).as_deref(), Some("INSUFFICIENT_STOCK"), "{s:?}");
        }
    }
    assert_eq!(figures(&app, ZS1, TENT).await, (1, 0, 9, 1));
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn a_count_cannot_take_in_units_that_may_be_leased_ones_back_without_their_return() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TENT, "TN-1", 20, &[]).await;
    let l = keeper(&app, ZS1)
        .create_lease(lease_req(ZS1, vec![line(TENT, 10, &[], 500)], 10, 0, true))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    // The lessee drops the tents off; the keeper counts before the return.
    let mut keeper_stock = app.keeper("keeper@ZS1", ZS1);
    let count = keeper_stock
        .open_stock_count(pb::OpenStockCountRequest {
            request_id: rid(),
            depot_code: ZS1.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    keeper_stock
        .record_count_lines(pb::RecordCountLinesRequest {
            request_id: rid(),
            count_id: count.id.clone(),
            lines: vec![pb::CountedLine {
                item_id: TENT.into(),
                lot_number: "TN-1".into(),
                counted: 20,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    keeper_stock
        .submit_stock_count(pb::SubmitStockCountRequest {
            request_id: rid(),
            count_id: count.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = app
        .stock(&app.token_for("disp@ZS", &[Role::Dispatcher], ZS))
        .approve_stock_count(pb::ApproveStockCountRequest {
            request_id: rid(),
            count_id: count.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("UNITS_ON_LEASE"), "{err:?}");
    assert_eq!(figures(&app, ZS1, TENT).await, (10, 0, 10, 10));
    // The return first; the lease's units are back once, not twice.
    keeper(&app, ZS1)
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 1,
                quantity: 10,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(figures(&app, ZS1, TENT).await, (20, 0, 0, 20));
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn equipment_overdue_for_upkeep_is_not_lent_out() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TOWER, "LT-1", 1, &["LT-A"]).await;
    // Lighting towers are due for upkeep every 30 days from receipt.
    app.clock.advance_days(31);
    receive(&app, ZS1, TOWER, "LT-2", 1, &["LT-B"]).await;
    let mut k = keeper(&app, ZS1);
    let named = |serials: &[&str], n: i64| {
        lease_req(ZS1, vec![line(TOWER, n, serials, 12_000)], 40, 0, true)
    };
    let err = k.create_lease(named(&["LT-A"], 0)).await.unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("UPKEEP_OVERDUE"), "{err:?}");
    assert!(err.message().contains("LT-A"), "{}", err.message());
    assert_eq!(figures(&app, ZS1, TOWER).await, (2, 0, 0, 2));
    // Asked by count alone, the up-to-date tower goes.
    let l = k
        .create_lease(named(&[], 1))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    assert_eq!(l.lines[0].serial_numbers, vec!["LT-B".to_string()]);
    // Only the overdue one is left: refused, naming it.
    let err = k.create_lease(named(&[], 1)).await.unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("UPKEEP_OVERDUE"), "{err:?}");
    assert!(err.message().contains("LT-A"), "{}", err.message());
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn bad_returns_and_recalls_name_the_field_and_a_replayed_return_changes_nothing() {
    let app = TestApp::with_demo().await;
    receive(&app, ZS1, TENT, "TN-1", 20, &[]).await;
    let mut k = keeper(&app, ZS1);
    let l = k
        .create_lease(lease_req(ZS1, vec![line(TENT, 10, &[], 500)], 10, 0, true))
        .await
        .unwrap()
        .into_inner()
        .lease
        .unwrap();
    let before = app.fingerprint().await;
    // No lines, and a line that is not on the lease.
    let err = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["lines".to_string()]);
    let err = k
        .return_lease(pb::ReturnLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            lines: vec![pb::LeaseReturnLine {
                line_number: 2,
                quantity: 1,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    // A recall with no deadline or reason.
    let mut d = leases(&app, "disp@ZS", &[Role::Dispatcher], ZS);
    let err = d
        .recall_lease(pb::RecallLeaseRequest {
            request_id: rid(),
            lease_id: l.id.clone(),
            deadline_hours: 0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&err),
        vec!["deadline_hours".to_string(), "reason".to_string()]
    );
    assert_eq!(app.fingerprint().await, before);
    // A return retried with its request id answers as before and moves nothing more.
    let back = pb::ReturnLeaseRequest {
        request_id: rid(),
        lease_id: l.id.clone(),
        lines: vec![pb::LeaseReturnLine {
            line_number: 1,
            quantity: 4,
            ..Default::default()
        }],
        ..Default::default()
    };
    let first = k.return_lease(back.clone()).await.unwrap().into_inner();
    let again = k.return_lease(back).await.unwrap().into_inner();
    assert_eq!(first, again);
    assert_eq!(figures(&app, ZS1, TENT).await, (14, 0, 6, 14));
    app.assert_ledger_consistent().await;
}
