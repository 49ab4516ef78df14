//! Maintenance over real gRPC: due dates by the injected clock, a
//! generator's monthly test run, repairs that hold their asset, the
//! authority table and concurrent retries of every new write.

mod authority;
mod dates;
mod repairs;
mod retries;

use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::maintenance_service_client::MaintenanceServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, date, rid};

pub type Maint = MaintenanceServiceClient<Authed>;

pub const CITY: &str = "HB-SY";
pub const ZS: &str = "HB-SY-ZS";
pub const GEN: &str = "generator-5kw";
pub const QUILT: &str = "quilt-cotton";

/// The 竹山县 keeper's maintenance client.
pub fn keeper(app: &TestApp) -> Maint {
    app.maintenance(&app.token_for("keeper@ZS", &[Role::DepotKeeper], ZS))
}

/// The city dispatcher's maintenance client.
pub fn city_dispatcher(app: &TestApp) -> Maint {
    app.maintenance(&app.token_for("dispatcher@SY", &[Role::Dispatcher], CITY))
}

/// Receives generators (serials) or quilts (lot) at 竹山县.
pub async fn receive(app: &TestApp, item: &str, lot: &str, qty: i64, serials: &[&str]) {
    app.keeper("keeper@ZS", ZS)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: item.into(),
            lot_number: lot.into(),
            expiry_date: if item == GEN { None } else { date(2031, 1, 1) },
            production_date: if item == GEN { date(2026, 1, 1) } else { None },
            quantity: qty,
            serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// A plan of `item` at `depot` every `days` days or `months` months.
pub fn item_plan(
    depot: &str,
    item: &str,
    days: i64,
    months: i64,
    kind: pb::UpkeepKind,
) -> pb::SetUpkeepPlanRequest {
    pb::SetUpkeepPlanRequest {
        request_id: rid(),
        plan: Some(pb::UpkeepPlan {
            depot_code: depot.into(),
            item_id: item.into(),
            interval_days: days,
            interval_months: months,
            kind: kind as i32,
            note: "按月试机30分钟".into(),
            ..Default::default()
        }),
    }
}

/// A passing record of `kind` for `serial` (empty: the item at 竹山县), today.
pub fn passing(item: &str, serial: &str, kind: pb::UpkeepKind) -> pb::RecordUpkeepRequest {
    pb::RecordUpkeepRequest {
        request_id: rid(),
        record: Some(pb::UpkeepRecord {
            depot_code: ZS.into(),
            item_id: item.into(),
            serial_number: serial.into(),
            kind: kind as i32,
            result: pb::UpkeepResult::Pass as i32,
            cost_fen: 0,
            notes: "运转正常".into(),
            ..Default::default()
        }),
    }
}

/// Starting a repair of generator `serial` at 竹山县.
pub fn start(serial: &str) -> pb::StartRepairRequest {
    pb::StartRepairRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: GEN.into(),
        serial_number: serial.into(),
        fault: "启动困难，化油器堵塞".into(),
    }
}

/// Finishing repair `id` as repaired at `cost` fen.
pub fn repaired(id: &str, cost: i64) -> pb::FinishRepairRequest {
    pb::FinishRepairRequest {
        request_id: rid(),
        repair_id: id.into(),
        outcome: pb::RepairOutcome::Repaired as i32,
        cost_fen: cost,
        notes: "更换化油器".into(),
        ..Default::default()
    }
}

/// A `google.type.Date` as "YYYY-MM-DD".
pub fn ymd(d: &Option<Date>) -> String {
    d.as_ref()
        .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_default()
}

/// The due list of 竹山县: (serial or "lot", due date, overdue).
pub async fn due(m: &mut Maint, horizon: i32, overdue_only: bool) -> Vec<(String, String, bool)> {
    m.list_upkeep_due(pb::ListUpkeepDueRequest {
        depot_code: ZS.into(),
        horizon_days: horizon,
        overdue_only,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .units
    .into_iter()
    .map(|u| {
        let who = if u.serial_number.is_empty() {
            format!("{}x{}", u.item_id, u.units)
        } else {
            u.serial_number
        };
        (who, ymd(&u.due_date), u.overdue)
    })
    .collect()
}

/// An asset's (status, holder).
pub async fn asset(app: &TestApp, serial: &str) -> (pb::AssetStatus, String) {
    let a = app
        .stock(&app.root_admin())
        .get_asset(pb::GetAssetRequest {
            item_id: GEN.into(),
            serial_number: serial.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap();
    (pb::AssetStatus::try_from(a.status).unwrap(), a.holder)
}

/// Moves the test clock to noon in Beijing on `y-m-d`.
pub fn set_day(app: &TestApp, y: i32, m: u32, d: u32) {
    let noon = chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(4, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    app.clock.set(noon);
}
