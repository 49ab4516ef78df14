//! Who may call each maintenance RPC: each role inside and outside its
//! scope, and every kind of bad token. A refusal writes nothing.

use super::*;
use crate::authz::{bad_tokens, claims};
use reserve_api::auth::Claims;
use tonic::Code;

const FX: &str = "HB-SY-FX";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rpc {
    SetPlan,
    DeactivatePlan,
    ListPlans,
    Record,
    ListRecords,
    ListDue,
    Start,
    Finish,
    Get,
    ListRepairs,
}

const ALL: [Rpc; 10] = [
    Rpc::SetPlan,
    Rpc::DeactivatePlan,
    Rpc::ListPlans,
    Rpc::Record,
    Rpc::ListRecords,
    Rpc::ListDue,
    Rpc::Start,
    Rpc::Finish,
    Rpc::Get,
    Rpc::ListRepairs,
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
    let readers = [
        "dispatcher@ZS",
        "dispatcher@HB",
        "keeper@ZS",
        "auditor@HB",
        "finance@ZS",
        "admin@HB",
    ];
    match rpc {
        Rpc::SetPlan | Rpc::DeactivatePlan => {
            ["dispatcher@ZS", "dispatcher@HB", "admin@HB"].contains(&who)
        }
        Rpc::Record | Rpc::Start | Rpc::Finish => ["keeper@ZS", "admin@HB"].contains(&who),
        Rpc::ListPlans | Rpc::ListRecords | Rpc::ListDue | Rpc::Get | Rpc::ListRepairs => {
            readers.contains(&who)
        }
    }
}

/// What one call needs: an active plan, a generator in stock, an open repair.
struct Fixture {
    plan: String,
    serial: String,
    repair: String,
}

async fn fixture(app: &TestApp, n: usize) -> Fixture {
    let free = format!("A-{n}");
    let busy = format!("B-{n}");
    receive(
        app,
        GEN,
        &format!("L-{n}"),
        0,
        &[free.as_str(), busy.as_str()],
    )
    .await;
    let admin = app.maintenance(&app.root_admin());
    let plan = admin
        .clone()
        .set_upkeep_plan(item_plan(ZS, GEN, 0, 1, pb::UpkeepKind::TestRun))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let repair = keeper(app)
        .start_repair(start(&busy))
        .await
        .unwrap()
        .into_inner()
        .repair
        .unwrap();
    Fixture {
        plan: plan.id,
        serial: free,
        repair: repair.id,
    }
}

async fn call(mut m: Maint, rpc: Rpc, f: &Fixture) -> Result<(), tonic::Status> {
    match rpc {
        Rpc::SetPlan => m
            .set_upkeep_plan(item_plan(ZS, GEN, 14, 0, pb::UpkeepKind::BatteryCharge))
            .await
            .map(drop),
        Rpc::DeactivatePlan => m
            .deactivate_upkeep_plan(pb::DeactivateUpkeepPlanRequest {
                request_id: rid(),
                plan_id: f.plan.clone(),
                etag: String::new(),
            })
            .await
            .map(drop),
        Rpc::ListPlans => m
            .list_upkeep_plans(pb::ListUpkeepPlansRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Record => m
            .record_upkeep(passing(GEN, &f.serial, pb::UpkeepKind::TestRun))
            .await
            .map(drop),
        Rpc::ListRecords => m
            .list_upkeep_records(pb::ListUpkeepRecordsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::ListDue => m
            .list_upkeep_due(pb::ListUpkeepDueRequest {
                depot_code: ZS.into(),
                horizon_days: 60,
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Start => m.start_repair(start(&f.serial)).await.map(drop),
        Rpc::Finish => m.finish_repair(repaired(&f.repair, 100)).await.map(drop),
        Rpc::Get => m
            .get_repair(pb::GetRepairRequest {
                repair_id: f.repair.clone(),
            })
            .await
            .map(drop),
        Rpc::ListRepairs => m
            .list_repairs(pb::ListRepairsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
    }
}

#[tokio::test]
async fn every_maintenance_rpc_answers_each_role_inside_and_outside_its_scope() {
    let app = TestApp::with_demo().await;
    let mut n = 0;
    for rpc in ALL {
        for (who, role, scope) in PRINCIPALS {
            n += 1;
            let f = fixture(&app, n).await;
            let audit = app.audit_count().await;
            let m = app.maintenance(&app.token_for(who, &[role], scope));
            let got = call(m, rpc, &f).await;
            if allowed(rpc, who) {
                assert!(got.is_ok(), "{rpc:?} as {who}: {got:?}");
            } else {
                let e = got.expect_err(&format!("{rpc:?} as {who} was allowed"));
                assert_eq!(e.code(), Code::PermissionDenied, "{rpc:?} as {who}: {e:?}");
                assert_eq!(app.audit_count().await, audit, "{rpc:?} as {who} wrote");
            }
        }
    }
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn every_maintenance_rpc_refuses_missing_and_bad_tokens() {
    let app = TestApp::with_demo().await;
    let f = fixture(&app, 0).await;
    let valid = Claims {
        scope_depot: ZS.into(),
        ..claims(&["depot_keeper", "dispatcher", "finance", "auditor", "admin"])
    };
    for rpc in ALL {
        for (what, token) in bad_tokens(&app, &valid) {
            let m = MaintenanceServiceClient::new(app.authed(token.as_deref()));
            let e = call(m, rpc, &f)
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
