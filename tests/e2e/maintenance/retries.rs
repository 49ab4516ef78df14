//! Eight identical requests at once for every maintenance write: eight
//! identical answers, one effect.

use super::*;
use crate::retries::{COPIES, at_once, one_answer};
use std::sync::Arc;

#[tokio::test]
async fn every_maintenance_write_sent_eight_times_at_once_answers_the_same_and_acts_once() {
    let app = TestApp::with_demo().await;
    receive(&app, GEN, "GEN-A", 0, &["G-1", "G-2", "G-3"]).await;
    let k = keeper(&app);
    let d = city_dispatcher(&app);
    let audit0 = app.audit_count().await;

    // Each request is built once: the copies share its request id.
    let set = item_plan(CITY, GEN, 0, 1, pb::UpkeepKind::TestRun);
    let plan = one_answer(at_once!(d, set_upkeep_plan, set)).plan.unwrap();
    let deactivate = pb::DeactivateUpkeepPlanRequest {
        request_id: rid(),
        plan_id: plan.id.clone(),
        etag: plan.etag.clone(),
    };
    let off = one_answer(at_once!(d, deactivate_upkeep_plan, deactivate));
    assert!(!off.plan.unwrap().active);
    let record = passing(GEN, "G-3", pb::UpkeepKind::TestRun);
    let rec = one_answer(at_once!(k, record_upkeep, record));
    assert_eq!(rec.record.unwrap().serial_number, "G-3");
    let first = start("G-1");
    let repair = one_answer(at_once!(k, start_repair, first)).repair.unwrap();
    let finish = repaired(&repair.id, 2_500);
    let fixed = one_answer(at_once!(k, finish_repair, finish));
    assert_eq!(fixed.repair.unwrap().cost_fen, 2_500);
    let again = start("G-2");
    let second = one_answer(at_once!(k, start_repair, again)).repair.unwrap();
    let beyond = pb::FinishRepairRequest {
        outcome: pb::RepairOutcome::BeyondRepair as i32,
        disposal: pb::Disposal::Destroy as i32,
        ..repaired(&second.id, 0)
    };
    let scrapped = one_answer(at_once!(k, finish_repair, beyond));
    assert!(scrapped.scrap_application.is_some());
    // One effect each: one record, one pending application, one audit event
    // per request.
    let records = k
        .clone()
        .list_upkeep_records(pb::ListUpkeepRecordsRequest {
            depot_code: ZS.into(),
            serial_number: "G-3".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(records.len(), 1);
    let pending = app
        .stock(&app.root_admin())
        .list_scrap_applications(pb::ListScrapApplicationsRequest {
            depot_code: ZS.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .applications;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        app.audit_count().await - audit0,
        7,
        "{COPIES} copies of seven writes"
    );
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
