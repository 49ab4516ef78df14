//! Arbitrary requests to every unary method of every service, handled
//! in-process by the real handlers against a real store (SQLite, a file of
//! the process's own, with the demo network and its stock), as one of six
//! callers: the first
//! byte picks the method, the second the caller, the rest is the request's
//! wire form.
//!
//! Whatever arrives, a handler must answer Ok or a client error naming what
//! is wrong: never panic, never INTERNAL, UNKNOWN or DATA_LOSS (a refused
//! unique constraint or a bad value that reached the database), never
//! UNAVAILABLE or DEADLINE_EXCEEDED (one call at a time on a private file
//! has nothing to contend with: a conflict that outlasts its retries is a
//! bug). After every 32nd accepted write the ledger's integrity check must
//! be clean: no sequence of accepted requests may lose, duplicate or invent a
//! unit.
//!
//! The database carries state from one input to the next, so a failure may
//! need the inputs before it: on a failure the last 4,096 inputs are written
//! to `artifacts/services/history-<pid>.hex` (one hex line each, oldest
//! first), and `RESERVE_FUZZ_REPLAY=that-file` runs them, in order, before
//! the input given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pb::allocation_service_server::AllocationService;
use pb::audit_service_server::AuditService;
use pb::catalog_service_server::CatalogService;
use pb::compensation_service_server::CompensationService;
use pb::enterprise_reserve_service_server::EnterpriseReserveService;
use pb::incident_service_server::IncidentService;
use pb::lease_service_server::LeaseService;
use pb::maintenance_service_server::MaintenanceService;
use pb::network_service_server::NetworkService;
use pb::requisition_service_server::RequisitionService;
use pb::sourcing_service_server::SourcingService;
use pb::stock_service_server::StockService;
use prost::Message;
use reserve_api::allocation::AllocationApi;
use reserve_api::audit::AuditApi;
use reserve_api::catalog::CatalogApi;
use reserve_api::compensation::{CompensationApi, PrivacyConfig};
use reserve_api::context::Ctx;
use reserve_api::enterprise::EnterpriseApi;
use reserve_api::incident::IncidentApi;
use reserve_api::lease::LeaseApi;
use reserve_api::maintenance::{MaintenanceApi, MaintenanceConfig};
use reserve_api::network::NetworkApi;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::requisition::RequisitionApi;
use reserve_api::sourcing::{SourcingApi, SourcingConfig};
use reserve_api::stock::StockApi;
use reserve_core::authz::{Principal, Role};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::time::ManualClock;
use reserve_store::sealed::Sealer;
use reserve_store::{Store, StoreOptions};
use sqlx::Connection;
use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tonic::{Code, Request};

/// The id of the incident the world starts with.
const INCIDENT: &str = "fuzz-incident";

/// 2026-11-29 08:00 Asia/Shanghai: the demo stock's dates are around it.
const NOW: i64 = 1_795_910_400_000;

struct Apis {
    allocation: AllocationApi,
    audit: AuditApi,
    catalog: CatalogApi,
    compensation: CompensationApi,
    enterprise: EnterpriseApi,
    incident: IncidentApi,
    lease: LeaseApi,
    maintenance: MaintenanceApi,
    network: NetworkApi,
    requisition: RequisitionApi,
    sourcing: SourcingApi,
    stock: StockApi,
}

struct World {
    rt: tokio::runtime::Runtime,
    store: Store,
    root: DepotPath,
    callers: Vec<Principal>,
    /// Accepted writes so far.
    writes: AtomicU64,
    apis: Apis,
}

fn caller(subject: &str, role: Role, scope: &str) -> Principal {
    Principal {
        subject: subject.into(),
        name: subject.into(),
        roles: BTreeSet::from([role]),
        scope: DepotCode::from_stored(scope.into()),
    }
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (store, root) = rt.block_on(async {
            let sealer = Sealer::from_key_text(&Sealer::new_key_line("fuzz")).expect("a key");
            // A file of this process's own (SQLite's :memory: would give each
            // pooled connection a database of its own).
            let file = std::env::temp_dir().join(format!("reserve-fuzz-{}.db", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            let url = format!("sqlite://{}?mode=rwc", file.display());
            let store = Store::connect(&url, &StoreOptions::default())
                .await
                .expect("a store")
                .with_sealer(sealer);
            store.migrate().await.expect("migrations");
            reserve_server::seed::seed_demo(&store, NOW)
                .await
                .expect("the demo network and stock");
            // One incident with an id the seeds and the dictionary know
            // (ids are otherwise random), for requisitions and orders to name.
            let incident = store
                .create_incident(
                    &reserve_store::WriteMeta {
                        actor: caller("dispatcher", Role::Dispatcher, "HB-SY"),
                        request_id: reserve_core::request::RequestId::parse("fuzz-incident")
                            .expect("a request id"),
                        method: "fuzz".into(),
                        request_hash: "fuzz".into(),
                        now: NOW,
                    },
                    reserve_core::incident::NewIncident::parse(
                        &reserve_core::incident::IncidentDraft {
                            name: "暴雨".into(),
                            kind: 1,
                            occurred: Some((NOW / 1000 - 3600, 0)),
                            latitude: Some(32.6),
                            longitude: 110.8,
                            address: "十堰市茅箭区".into(),
                            depot: "HB-SY".into(),
                            ..Default::default()
                        },
                        NOW,
                    )
                    .expect("an incident"),
                )
                .await
                .expect("the incident is recorded");
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("a connection");
            sqlx::query("UPDATE incidents SET id = $1 WHERE id = $2")
                .bind(INCIDENT)
                .bind(&incident.value.id)
                .execute(&mut c)
                .await
                .expect("the incident renamed");
            let root = DepotCode::from_stored("HB".into());
            let (_, path) = store
                .depot_paths(&[&root])
                .await
                .expect("the root's path")
                .into_iter()
                .next()
                .expect("the root depot");
            (store, path)
        });
        let ctx = Ctx::new(store.clone(), Arc::new(ManualClock::new(NOW)));
        let apis = Apis {
            allocation: AllocationApi::new(ctx.clone()),
            audit: AuditApi::new(ctx.clone()),
            catalog: CatalogApi::new(ctx.clone()),
            compensation: CompensationApi::new(ctx.clone(), PrivacyConfig::default()),
            enterprise: EnterpriseApi::new(ctx.clone()),
            incident: IncidentApi::new(ctx.clone()),
            lease: LeaseApi::new(ctx.clone()),
            maintenance: MaintenanceApi::new(ctx.clone(), MaintenanceConfig::default()),
            network: NetworkApi::new(ctx.clone()),
            requisition: RequisitionApi::new(ctx.clone()),
            sourcing: SourcingApi::new(ctx.clone(), SourcingConfig::default()),
            stock: StockApi::new(ctx.clone()),
        };
        let callers = vec![
            caller("admin", Role::Admin, "HB"),
            caller("dispatcher", Role::Dispatcher, "HB-SY"),
            caller("finance", Role::Finance, "HB-SY"),
            caller("auditor", Role::Auditor, "HB-SY"),
            caller("county-keeper", Role::DepotKeeper, "HB-SY-MJ"),
            caller("town-keeper", Role::DepotKeeper, "HB-SY-MJ-01"),
        ];
        World {
            rt,
            store,
            root,
            callers,
            writes: AtomicU64::new(0),
            apis,
        }
    })
}

/// Decodes `data` as `$req`, calls `$api.$method` as `$p`, and returns the
/// request type's name and the answer (Ok or its status), or None if the
/// bytes are not a `$req`.
macro_rules! call {
    ($api:expr, $method:ident, $req:ty, $p:expr, $data:expr) => {{
        match <$req>::decode($data) {
            Err(_) => None,
            Ok(msg) => {
                let mut req = Request::new(msg);
                req.extensions_mut().insert($p.clone());
                let answer = $api.$method(req).await.map(|_| ());
                Some((stringify!($req), answer))
            }
        }
    }};
}

async fn dispatch(
    w: &World,
    method: u8,
    p: &Principal,
    data: &[u8],
) -> Option<(&'static str, Result<(), tonic::Status>)> {
    match method as usize % METHODS {
        0 => call!(
            w.apis.allocation,
            create_allocation_order,
            pb::CreateAllocationOrderRequest,
            p,
            data
        ),
        1 => call!(
            w.apis.allocation,
            get_allocation_order,
            pb::GetAllocationOrderRequest,
            p,
            data
        ),
        2 => call!(
            w.apis.allocation,
            list_allocation_orders,
            pb::ListAllocationOrdersRequest,
            p,
            data
        ),
        3 => call!(
            w.apis.allocation,
            amend_allocation_order,
            pb::AmendAllocationOrderRequest,
            p,
            data
        ),
        4 => call!(
            w.apis.allocation,
            submit_allocation_order,
            pb::SubmitAllocationOrderRequest,
            p,
            data
        ),
        5 => call!(
            w.apis.allocation,
            approve_allocation_order,
            pb::ApproveAllocationOrderRequest,
            p,
            data
        ),
        6 => call!(
            w.apis.allocation,
            reject_allocation_order,
            pb::RejectAllocationOrderRequest,
            p,
            data
        ),
        7 => call!(
            w.apis.allocation,
            dispatch_allocation_order,
            pb::DispatchAllocationOrderRequest,
            p,
            data
        ),
        8 => call!(
            w.apis.allocation,
            receive_allocation_order,
            pb::ReceiveAllocationOrderRequest,
            p,
            data
        ),
        9 => call!(
            w.apis.allocation,
            close_allocation_order,
            pb::CloseAllocationOrderRequest,
            p,
            data
        ),
        10 => call!(
            w.apis.allocation,
            cancel_allocation_order,
            pb::CancelAllocationOrderRequest,
            p,
            data
        ),
        11 => call!(
            w.apis.allocation,
            list_overdue_backfills,
            pb::ListOverdueBackfillsRequest,
            p,
            data
        ),
        12 => call!(
            w.apis.audit,
            list_audit_events,
            pb::ListAuditEventsRequest,
            p,
            data
        ),
        13 => call!(w.apis.catalog, create_item, pb::CreateItemRequest, p, data),
        14 => call!(w.apis.catalog, get_item, pb::GetItemRequest, p, data),
        15 => call!(w.apis.catalog, list_items, pb::ListItemsRequest, p, data),
        16 => call!(w.apis.catalog, update_item, pb::UpdateItemRequest, p, data),
        17 => call!(
            w.apis.catalog,
            set_reserve_norm,
            pb::SetReserveNormRequest,
            p,
            data
        ),
        18 => call!(
            w.apis.catalog,
            list_reserve_norms,
            pb::ListReserveNormsRequest,
            p,
            data
        ),
        19 => call!(
            w.apis.compensation,
            create_claim,
            pb::CreateClaimRequest,
            p,
            data
        ),
        20 => call!(
            w.apis.compensation,
            assess_claim,
            pb::AssessClaimRequest,
            p,
            data
        ),
        21 => call!(
            w.apis.compensation,
            approve_claim,
            pb::ApproveClaimRequest,
            p,
            data
        ),
        22 => call!(
            w.apis.compensation,
            record_claim_payment,
            pb::RecordClaimPaymentRequest,
            p,
            data
        ),
        23 => call!(
            w.apis.compensation,
            dispute_claim,
            pb::DisputeClaimRequest,
            p,
            data
        ),
        24 => call!(w.apis.compensation, get_claim, pb::GetClaimRequest, p, data),
        25 => call!(
            w.apis.compensation,
            list_claims,
            pb::ListClaimsRequest,
            p,
            data
        ),
        26 => call!(
            w.apis.compensation,
            get_finance_report,
            pb::GetFinanceReportRequest,
            p,
            data
        ),
        27 => call!(
            w.apis.compensation,
            purge_settled_private_data,
            pb::PurgeSettledPrivateDataRequest,
            p,
            data
        ),
        28 => call!(
            w.apis.enterprise,
            create_agreement,
            pb::CreateAgreementRequest,
            p,
            data
        ),
        29 => call!(
            w.apis.enterprise,
            get_agreement,
            pb::GetAgreementRequest,
            p,
            data
        ),
        30 => call!(
            w.apis.enterprise,
            list_agreements,
            pb::ListAgreementsRequest,
            p,
            data
        ),
        31 => call!(
            w.apis.enterprise,
            call_off_agreement,
            pb::CallOffAgreementRequest,
            p,
            data
        ),
        32 => call!(
            w.apis.enterprise,
            receive_call_off,
            pb::ReceiveCallOffRequest,
            p,
            data
        ),
        33 => call!(
            w.apis.enterprise,
            list_call_offs,
            pb::ListCallOffsRequest,
            p,
            data
        ),
        34 => call!(
            w.apis.incident,
            create_incident,
            pb::CreateIncidentRequest,
            p,
            data
        ),
        35 => call!(
            w.apis.incident,
            get_incident,
            pb::GetIncidentRequest,
            p,
            data
        ),
        36 => call!(
            w.apis.incident,
            list_incidents,
            pb::ListIncidentsRequest,
            p,
            data
        ),
        37 => call!(w.apis.lease, create_lease, pb::CreateLeaseRequest, p, data),
        38 => call!(w.apis.lease, return_lease, pb::ReturnLeaseRequest, p, data),
        39 => call!(w.apis.lease, recall_lease, pb::RecallLeaseRequest, p, data),
        40 => call!(
            w.apis.lease,
            recall_leases,
            pb::RecallLeasesRequest,
            p,
            data
        ),
        41 => call!(w.apis.lease, get_lease, pb::GetLeaseRequest, p, data),
        42 => call!(w.apis.lease, list_leases, pb::ListLeasesRequest, p, data),
        43 => call!(
            w.apis.lease,
            get_lease_statement,
            pb::GetLeaseStatementRequest,
            p,
            data
        ),
        44 => call!(
            w.apis.maintenance,
            set_upkeep_plan,
            pb::SetUpkeepPlanRequest,
            p,
            data
        ),
        45 => call!(
            w.apis.maintenance,
            deactivate_upkeep_plan,
            pb::DeactivateUpkeepPlanRequest,
            p,
            data
        ),
        46 => call!(
            w.apis.maintenance,
            list_upkeep_plans,
            pb::ListUpkeepPlansRequest,
            p,
            data
        ),
        47 => call!(
            w.apis.maintenance,
            record_upkeep,
            pb::RecordUpkeepRequest,
            p,
            data
        ),
        48 => call!(
            w.apis.maintenance,
            list_upkeep_records,
            pb::ListUpkeepRecordsRequest,
            p,
            data
        ),
        49 => call!(
            w.apis.maintenance,
            list_upkeep_due,
            pb::ListUpkeepDueRequest,
            p,
            data
        ),
        50 => call!(
            w.apis.maintenance,
            start_repair,
            pb::StartRepairRequest,
            p,
            data
        ),
        51 => call!(
            w.apis.maintenance,
            finish_repair,
            pb::FinishRepairRequest,
            p,
            data
        ),
        52 => call!(
            w.apis.maintenance,
            get_repair,
            pb::GetRepairRequest,
            p,
            data
        ),
        53 => call!(
            w.apis.maintenance,
            list_repairs,
            pb::ListRepairsRequest,
            p,
            data
        ),
        54 => call!(
            w.apis.network,
            create_depot,
            pb::CreateDepotRequest,
            p,
            data
        ),
        55 => call!(w.apis.network, get_depot, pb::GetDepotRequest, p, data),
        56 => call!(w.apis.network, list_depots, pb::ListDepotsRequest, p, data),
        57 => call!(
            w.apis.network,
            update_depot,
            pb::UpdateDepotRequest,
            p,
            data
        ),
        58 => call!(w.apis.network, close_depot, pb::CloseDepotRequest, p, data),
        59 => call!(
            w.apis.network,
            list_descendants,
            pb::ListDescendantsRequest,
            p,
            data
        ),
        60 => call!(
            w.apis.network,
            list_ancestors,
            pb::ListAncestorsRequest,
            p,
            data
        ),
        61 => call!(
            w.apis.requisition,
            create_requisition,
            pb::CreateRequisitionRequest,
            p,
            data
        ),
        62 => call!(
            w.apis.requisition,
            record_requisition_voucher,
            pb::RecordRequisitionVoucherRequest,
            p,
            data
        ),
        63 => call!(
            w.apis.requisition,
            record_requisition_outcomes,
            pb::RecordRequisitionOutcomesRequest,
            p,
            data
        ),
        64 => call!(
            w.apis.requisition,
            get_requisition,
            pb::GetRequisitionRequest,
            p,
            data
        ),
        65 => call!(
            w.apis.requisition,
            list_requisitions,
            pb::ListRequisitionsRequest,
            p,
            data
        ),
        66 => call!(
            w.apis.sourcing,
            propose_sources,
            pb::ProposeSourcesRequest,
            p,
            data
        ),
        67 => call!(
            w.apis.sourcing,
            create_order_from_proposal,
            pb::CreateOrderFromProposalRequest,
            p,
            data
        ),
        68 => call!(
            w.apis.sourcing,
            readiness_report,
            pb::ReadinessReportRequest,
            p,
            data
        ),
        69 => call!(
            w.apis.stock,
            receive_stock,
            pb::ReceiveStockRequest,
            p,
            data
        ),
        70 => call!(w.apis.stock, issue_stock, pb::IssueStockRequest, p, data),
        71 => call!(w.apis.stock, hold_stock, pb::HoldStockRequest, p, data),
        72 => call!(
            w.apis.stock,
            release_stock,
            pb::ReleaseStockRequest,
            p,
            data
        ),
        73 => call!(
            w.apis.stock,
            reverse_entry,
            pb::ReverseEntryRequest,
            p,
            data
        ),
        74 => call!(
            w.apis.stock,
            get_ledger_entry,
            pb::GetLedgerEntryRequest,
            p,
            data
        ),
        75 => call!(
            w.apis.stock,
            create_adjustment,
            pb::CreateAdjustmentRequest,
            p,
            data
        ),
        76 => call!(
            w.apis.stock,
            approve_adjustment,
            pb::ApproveAdjustmentRequest,
            p,
            data
        ),
        77 => call!(
            w.apis.stock,
            reject_adjustment,
            pb::RejectAdjustmentRequest,
            p,
            data
        ),
        78 => call!(
            w.apis.stock,
            get_adjustment,
            pb::GetAdjustmentRequest,
            p,
            data
        ),
        79 => call!(
            w.apis.stock,
            list_adjustments,
            pb::ListAdjustmentsRequest,
            p,
            data
        ),
        80 => call!(
            w.apis.stock,
            create_scrap_application,
            pb::CreateScrapApplicationRequest,
            p,
            data
        ),
        81 => call!(
            w.apis.stock,
            approve_scrap_application,
            pb::ApproveScrapApplicationRequest,
            p,
            data
        ),
        82 => call!(
            w.apis.stock,
            reject_scrap_application,
            pb::RejectScrapApplicationRequest,
            p,
            data
        ),
        83 => call!(
            w.apis.stock,
            get_scrap_application,
            pb::GetScrapApplicationRequest,
            p,
            data
        ),
        84 => call!(
            w.apis.stock,
            list_scrap_applications,
            pb::ListScrapApplicationsRequest,
            p,
            data
        ),
        85 => call!(
            w.apis.stock,
            open_stock_count,
            pb::OpenStockCountRequest,
            p,
            data
        ),
        86 => call!(
            w.apis.stock,
            record_count_lines,
            pb::RecordCountLinesRequest,
            p,
            data
        ),
        87 => call!(
            w.apis.stock,
            submit_stock_count,
            pb::SubmitStockCountRequest,
            p,
            data
        ),
        88 => call!(
            w.apis.stock,
            approve_stock_count,
            pb::ApproveStockCountRequest,
            p,
            data
        ),
        89 => call!(
            w.apis.stock,
            cancel_stock_count,
            pb::CancelStockCountRequest,
            p,
            data
        ),
        90 => call!(
            w.apis.stock,
            get_stock_count,
            pb::GetStockCountRequest,
            p,
            data
        ),
        91 => call!(w.apis.stock, list_stock, pb::ListStockRequest, p, data),
        92 => call!(w.apis.stock, get_lot, pb::GetLotRequest, p, data),
        93 => call!(w.apis.stock, list_lots, pb::ListLotsRequest, p, data),
        94 => call!(
            w.apis.stock,
            list_ledger_entries,
            pb::ListLedgerEntriesRequest,
            p,
            data
        ),
        95 => call!(w.apis.stock, roll_up_stock, pb::RollUpStockRequest, p, data),
        96 => call!(
            w.apis.stock,
            list_expiring_lots,
            pb::ListExpiringLotsRequest,
            p,
            data
        ),
        97 => call!(
            w.apis.stock,
            list_shortfalls,
            pb::ListShortfallsRequest,
            p,
            data
        ),
        98 => call!(
            w.apis.stock,
            list_rotation_candidates,
            pb::ListRotationCandidatesRequest,
            p,
            data
        ),
        99 => call!(w.apis.stock, get_asset, pb::GetAssetRequest, p, data),
        100 => call!(w.apis.stock, list_assets, pb::ListAssetsRequest, p, data),
        101 => call!(
            w.apis.stock,
            check_ledger_integrity,
            pb::CheckLedgerIntegrityRequest,
            p,
            data
        ),
        _ => None,
    }
}

const METHODS: usize = 102;

/// `RESERVE_FUZZ_TRACE=1` prints every call's method, caller and answer.
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("RESERVE_FUZZ_TRACE").is_some())
}

/// Reads (Get…, List…, and the reports) change nothing; every other
/// accepted call is a write.
fn is_read(request: &str) -> bool {
    let name = request.trim_start_matches("pb::");
    ["Get", "List", "Propose", "Readiness", "RollUp", "Check"]
        .iter()
        .any(|verb| name.starts_with(verb))
}

/// The inputs so far, newest last, for the failure report.
fn history() -> &'static Mutex<VecDeque<Vec<u8>>> {
    static HISTORY: OnceLock<Mutex<VecDeque<Vec<u8>>>> = OnceLock::new();
    HISTORY.get_or_init(|| Mutex::new(VecDeque::with_capacity(HISTORY_LEN)))
}

const HISTORY_LEN: usize = 4096;

/// Writes the inputs so far where the failure message says, and fails.
fn fail(message: String) -> ! {
    let path = format!("artifacts/services/history-{}.hex", std::process::id());
    let lines: Vec<String> = history()
        .lock()
        .map(|h| {
            h.iter()
                .map(|i| i.iter().map(|b| format!("{b:02x}")).collect())
                .collect()
        })
        .unwrap_or_default();
    let _ = std::fs::create_dir_all("artifacts/services");
    let saved = std::fs::write(&path, lines.join("\n") + "\n").is_ok();
    panic!(
        "{message}\n{} inputs before it {}; replay them with RESERVE_FUZZ_REPLAY={path}",
        lines.len(),
        if saved { "saved" } else { "could not be saved" }
    );
}

/// Runs one input and checks what it did.
fn one(input: &[u8]) {
    if let Ok(mut h) = history().lock() {
        if h.len() == HISTORY_LEN {
            h.pop_front();
        }
        h.push_back(input.to_vec());
    }
    let [method, who, data @ ..] = input else {
        return;
    };
    let w = world();
    let p = &w.callers[*who as usize % w.callers.len()];
    let Some((request, answer)) = w.rt.block_on(dispatch(w, *method, p, data)) else {
        return;
    };
    if trace() {
        eprintln!(
            "{request} as {}: {:?}",
            p.subject,
            answer
                .as_ref()
                .map_err(|s| (s.code(), s.message().to_string()))
        );
    }
    match &answer {
        Err(s)
            if matches!(
                s.code(),
                Code::Internal
                    | Code::Unknown
                    | Code::DataLoss
                    | Code::Unavailable
                    | Code::DeadlineExceeded
            ) =>
        {
            fail(format!(
                "{request} as {} answered {:?}: {}",
                p.subject,
                s.code(),
                s.message()
            ))
        }
        // The check reads the whole ledger: after every 32nd accepted write
        // (replays included), which the saved history covers.
        Ok(()) if !is_read(request) && w.writes.fetch_add(1, Ordering::Relaxed) % 32 == 31 => {
            match w.rt.block_on(w.store.check_integrity(&w.root)) {
                Ok(report) if report.issues.is_empty() => {}
                Ok(report) => fail(format!(
                    "after {request} as {}, the integrity check found: {:?}",
                    p.subject, report.issues
                )),
                Err(e) => fail(format!("the integrity check failed to run: {e}")),
            }
        }
        _ => {}
    }
}

fuzz_target!(|input: &[u8]| {
    static REPLAYED: OnceLock<()> = OnceLock::new();
    REPLAYED.get_or_init(|| {
        if let Some(path) = std::env::var_os("RESERVE_FUZZ_REPLAY") {
            let text = std::fs::read_to_string(&path).expect("the replay file");
            for line in text.lines().filter(|l| !l.is_empty()) {
                let bytes: Vec<u8> = (0..line.len())
                    .step_by(2)
                    .filter_map(|i| u8::from_str_radix(line.get(i..i + 2)?, 16).ok())
                    .collect();
                one(&bytes);
            }
        }
    });
    one(input);
});
