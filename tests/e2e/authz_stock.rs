//! The authorization table of the stock service: every RPC against every
//! kind of bad token and every role with its scope at the target depot,
//! above it and beside it, with the code each must get, and for every
//! refusal a check that nothing a user could see has changed, the stock
//! included.

use crate::authz::{bad_tokens, claims};
use prost::Message;
use reserve_api::auth::Claims;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, depot, reason, rid};
use tonic::Code;

type Stock = StockServiceClient<Authed>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rpc {
    ReceiveStock,
    IssueStock,
    HoldStock,
    ReleaseStock,
    ReverseEntry,
    GetLedgerEntry,
    CreateAdjustment,
    ApproveAdjustment,
    RejectAdjustment,
    GetAdjustment,
    ListAdjustments,
    CreateScrapApplication,
    ApproveScrapApplication,
    RejectScrapApplication,
    GetScrapApplication,
    ListScrapApplications,
    OpenStockCount,
    RecordCountLines,
    SubmitStockCount,
    ApproveStockCount,
    CancelStockCount,
    GetStockCount,
    ListStock,
    GetLot,
    ListLots,
    ListLedgerEntries,
    RollUpStock,
    ListExpiringLots,
    ListShortfalls,
    ListRotationCandidates,
    GetAsset,
    ListAssets,
    CheckLedgerIntegrity,
}

const ALL: [Rpc; 33] = [
    Rpc::ReceiveStock,
    Rpc::IssueStock,
    Rpc::HoldStock,
    Rpc::ReleaseStock,
    Rpc::ReverseEntry,
    Rpc::GetLedgerEntry,
    Rpc::CreateAdjustment,
    Rpc::ApproveAdjustment,
    Rpc::RejectAdjustment,
    Rpc::GetAdjustment,
    Rpc::ListAdjustments,
    Rpc::CreateScrapApplication,
    Rpc::ApproveScrapApplication,
    Rpc::RejectScrapApplication,
    Rpc::GetScrapApplication,
    Rpc::ListScrapApplications,
    Rpc::OpenStockCount,
    Rpc::RecordCountLines,
    Rpc::SubmitStockCount,
    Rpc::ApproveStockCount,
    Rpc::CancelStockCount,
    Rpc::GetStockCount,
    Rpc::ListStock,
    Rpc::GetLot,
    Rpc::ListLots,
    Rpc::ListLedgerEntries,
    Rpc::RollUpStock,
    Rpc::ListExpiringLots,
    Rpc::ListShortfalls,
    Rpc::ListRotationCandidates,
    Rpc::GetAsset,
    Rpc::ListAssets,
    Rpc::CheckLedgerIntegrity,
];

/// The target: 竹山县's county depot. Its stock here is county-owned.
const ZS: &str = "HB-SY-ZS";
/// A lot-tracked item without a shelf life or a reserve norm at the county,
/// so taking single units never meets a reserve minimum or an expiry.
const ITEM: &str = "tarpaulin";
/// The lot every movement of the table works on.
const LOT: &str = "AZ-TP-1";
/// A serial-tracked item and lot, for the asset lookups.
const SERIAL_ITEM: &str = "generator-5kw";
const SERIAL_LOT: &str = "AZ-G5-1";
const SERIAL: &str = "AZ-G5-0001";
/// The keeper who prepares what each call needs; never one of the callers.
const PREPARER: &str = "keeper-prep";

/// Where the caller's scope lies relative to the target depot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// The scope depot is HB-SY-ZS itself (a county, the lots' owning tier).
    Depot,
    /// The scope is the city HB-SY: it covers the depot, but is not it and
    /// is not the owning tier.
    Above,
    /// The scope is 房县 HB-SY-FX, which does not cover it.
    Outside,
}

impl Rpc {
    /// Whether the call changes something when it succeeds.
    fn writes(self) -> bool {
        matches!(
            self,
            Rpc::ReceiveStock
                | Rpc::IssueStock
                | Rpc::HoldStock
                | Rpc::ReleaseStock
                | Rpc::ReverseEntry
                | Rpc::CreateAdjustment
                | Rpc::ApproveAdjustment
                | Rpc::RejectAdjustment
                | Rpc::CreateScrapApplication
                | Rpc::ApproveScrapApplication
                | Rpc::RejectScrapApplication
                | Rpc::OpenStockCount
                | Rpc::RecordCountLines
                | Rpc::SubmitStockCount
                | Rpc::ApproveStockCount
                | Rpc::CancelStockCount
        )
    }
}

impl At {
    fn scope(self) -> &'static str {
        match self {
            At::Depot => ZS,
            At::Above => "HB-SY",
            At::Outside => "HB-SY-FX",
        }
    }
}

/// What `role` must get for `rpc` with its scope `at` the target depot.
fn expected(rpc: Rpc, role: Role, at: At) -> Code {
    let ok_if = |cond: bool| {
        if cond {
            Code::Ok
        } else {
            Code::PermissionDenied
        }
    };
    let covers = at != At::Outside;
    let keeper_here = role == Role::DepotKeeper && at == At::Depot;
    let dispatcher_or_admin = matches!(role, Role::Dispatcher | Role::Admin);
    match rpc {
        // Movements and the documents a keeper starts: a keeper whose scope
        // depot is the depot.
        Rpc::ReceiveStock
        | Rpc::IssueStock
        | Rpc::HoldStock
        | Rpc::ReleaseStock
        | Rpc::ReverseEntry
        | Rpc::CreateAdjustment
        | Rpc::CreateScrapApplication
        | Rpc::OpenStockCount
        | Rpc::RecordCountLines
        | Rpc::SubmitStockCount
        | Rpc::CancelStockCount => ok_if(keeper_here),
        // A second signature: a keeper there, or a dispatcher or admin above.
        Rpc::ApproveAdjustment | Rpc::RejectAdjustment | Rpc::ApproveStockCount => {
            ok_if(keeper_here || (dispatcher_or_admin && covers))
        }
        // Scrapping: a dispatcher or admin covering the depot whose scope
        // depot is of the lot's owning tier (county).
        Rpc::ApproveScrapApplication | Rpc::RejectScrapApplication => {
            ok_if(dispatcher_or_admin && at == At::Depot)
        }
        Rpc::CheckLedgerIntegrity => ok_if(role == Role::Admin && covers),
        // A lot is found only where it has (or had) stock in the caller's scope.
        Rpc::GetLot => {
            if covers {
                Code::Ok
            } else {
                Code::NotFound
            }
        }
        Rpc::GetLedgerEntry
        | Rpc::GetAdjustment
        | Rpc::ListAdjustments
        | Rpc::GetScrapApplication
        | Rpc::ListScrapApplications
        | Rpc::GetStockCount
        | Rpc::ListStock
        | Rpc::ListLots
        | Rpc::ListLedgerEntries
        | Rpc::RollUpStock
        | Rpc::ListExpiringLots
        | Rpc::ListShortfalls
        | Rpc::ListRotationCandidates
        | Rpc::GetAsset
        | Rpc::ListAssets => ok_if(covers),
    }
}

/// Documents made once, for the lookups.
struct Fixture {
    receipt: String,
    adjustment: String,
    scrap: String,
    count: String,
}

fn preparer(app: &TestApp) -> Stock {
    app.keeper(PREPARER, ZS)
}

async fn receive(k: &mut Stock, qty: i64) -> pb::LedgerEntry {
    k.receive_stock(pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: ITEM.into(),
        lot_number: LOT.into(),
        quantity: qty,
        document: "RK-AZ".into(),
        counterparty: "湖北某篷布有限公司".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .entry
    .unwrap()
}

fn hold_req() -> pb::HoldStockRequest {
    pb::HoldStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: ITEM.into(),
        lot_number: LOT.into(),
        quantity: 1,
        reason: pb::HoldReason::Damage as i32,
        note: "破损".into(),
        ..Default::default()
    }
}

fn adjustment_req() -> pb::CreateAdjustmentRequest {
    pb::CreateAdjustmentRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: ITEM.into(),
        lot_number: LOT.into(),
        quantity: -1,
        serial_numbers: vec![],
        reason: "破损一件，已拍照".into(),
    }
}

fn scrap_req() -> pb::CreateScrapApplicationRequest {
    pb::CreateScrapApplicationRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: ITEM.into(),
        lot_number: LOT.into(),
        quantity: 1,
        serial_numbers: vec![],
        reason: "霉变".into(),
        disposal: pb::Disposal::Destroy as i32,
    }
}

fn open_req() -> pb::OpenStockCountRequest {
    pb::OpenStockCountRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_ids: vec![ITEM.into()],
        note: "抽盘".into(),
    }
}

/// Records every line of `count` as its snapshot expects, except the
/// table's lot, recorded `short` units below it.
fn record_req(count: &pb::StockCount, short: i64) -> pb::RecordCountLinesRequest {
    pb::RecordCountLinesRequest {
        request_id: rid(),
        count_id: count.id.clone(),
        lines: count
            .lines
            .iter()
            .map(|l| pb::CountedLine {
                item_id: l.item_id.clone(),
                lot_number: l.lot_number.clone(),
                counted: if l.lot_number == LOT {
                    l.expected - short
                } else {
                    l.expected
                },
                serial_numbers: vec![],
            })
            .collect(),
        etag: String::new(),
    }
}

fn submit_req(count: &str) -> pb::SubmitStockCountRequest {
    pb::SubmitStockCountRequest {
        request_id: rid(),
        count_id: count.into(),
        etag: String::new(),
    }
}

fn cancel_req(count: &str) -> pb::CancelStockCountRequest {
    pb::CancelStockCountRequest {
        request_id: rid(),
        count_id: count.into(),
        reason: "改期".into(),
        etag: String::new(),
    }
}

/// Stock for the whole table and one document of each kind to look up.
async fn set_up(app: &TestApp) -> Fixture {
    let mut k = preparer(app);
    let receipt = receive(&mut k, 100_000).await.id;
    k.receive_stock(pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: SERIAL_ITEM.into(),
        lot_number: SERIAL_LOT.into(),
        serial_numbers: vec![SERIAL.into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let adjustment = k
        .create_adjustment(adjustment_req())
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap()
        .id;
    let scrap = k
        .create_scrap_application(scrap_req())
        .await
        .unwrap()
        .into_inner()
        .application
        .unwrap()
        .id;
    let count = k
        .open_stock_count(open_req())
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap()
        .id;
    k.cancel_stock_count(cancel_req(&count)).await.unwrap();
    Fixture {
        receipt,
        adjustment,
        scrap,
        count,
    }
}

/// Everything a user could see change: the network and catalogue, the
/// depot's stock, ledger, documents and audit log, and the count a call
/// works on (counts have no list to compare).
async fn fingerprint(app: &TestApp, count: Option<&str>) -> String {
    let mut out = app.fingerprint().await;
    out.push_str(&app.stock_fingerprint(ZS).await);
    if let Some(id) = count {
        let c = app
            .stock(&app.root_admin())
            .get_stock_count(pb::GetStockCountRequest {
                count_id: id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .count
            .unwrap();
        out.push_str(&format!("count {}:{}:{}", c.id, c.status, c.etag));
    }
    out
}

/// The result of one call: its code, the fingerprint taken just before it
/// (after the preparation), and a count left open that must be cancelled
/// once the check is done.
struct Outcome {
    code: Code,
    before: String,
    count: Option<String>,
}

/// Prepares what a call needs (as the preparing keeper or the province
/// admin, before the fingerprint), takes the fingerprint, and makes the call
/// with `token`.
async fn call(app: &TestApp, fx: &Fixture, rpc: Rpc, token: Option<&str>) -> Outcome {
    let mut k = preparer(app);
    let mut snapshot = None;
    // What the call acts on: an entry, an adjustment, an application or a count.
    let target: Option<String> = match rpc {
        Rpc::ReleaseStock => {
            k.hold_stock(hold_req()).await.unwrap();
            None
        }
        Rpc::ReverseEntry => Some(receive(&mut k, 1).await.id),
        Rpc::ApproveAdjustment | Rpc::RejectAdjustment => Some(
            k.create_adjustment(adjustment_req())
                .await
                .unwrap()
                .into_inner()
                .adjustment
                .unwrap()
                .id,
        ),
        Rpc::ApproveScrapApplication | Rpc::RejectScrapApplication => Some(
            k.create_scrap_application(scrap_req())
                .await
                .unwrap()
                .into_inner()
                .application
                .unwrap()
                .id,
        ),
        Rpc::RecordCountLines
        | Rpc::SubmitStockCount
        | Rpc::ApproveStockCount
        | Rpc::CancelStockCount => {
            let count = k
                .open_stock_count(open_req())
                .await
                .unwrap()
                .into_inner()
                .count
                .unwrap();
            if matches!(rpc, Rpc::SubmitStockCount | Rpc::ApproveStockCount) {
                // One unit short, so an approval posts a variance.
                k.record_count_lines(record_req(&count, 1)).await.unwrap();
            }
            if rpc == Rpc::ApproveStockCount {
                k.submit_stock_count(submit_req(&count.id)).await.unwrap();
            }
            snapshot = Some(count.clone());
            Some(count.id)
        }
        _ => None,
    };
    let id = target.clone().unwrap_or_default();
    let count = matches!(
        rpc,
        Rpc::RecordCountLines
            | Rpc::SubmitStockCount
            | Rpc::ApproveStockCount
            | Rpc::CancelStockCount
    )
    .then(|| id.clone());
    let before = fingerprint(app, count.as_deref()).await;

    let mut s = StockServiceClient::new(app.authed(token));
    let mut opened = None;
    let r: Result<(), tonic::Status> = match rpc {
        Rpc::ReceiveStock => s
            .receive_stock(pb::ReceiveStockRequest {
                request_id: rid(),
                depot_code: ZS.into(),
                item_id: ITEM.into(),
                lot_number: LOT.into(),
                quantity: 1,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::IssueStock => s
            .issue_stock(pb::IssueStockRequest {
                request_id: rid(),
                depot_code: ZS.into(),
                item_id: ITEM.into(),
                quantity: 1,
                lot_number: LOT.into(),
                purpose: pb::IssuePurpose::Incident as i32,
                recipient: "竹山县山洪".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::HoldStock => s.hold_stock(hold_req()).await.map(|_| ()),
        Rpc::ReleaseStock => s
            .release_stock(pb::ReleaseStockRequest {
                request_id: rid(),
                depot_code: ZS.into(),
                item_id: ITEM.into(),
                lot_number: LOT.into(),
                quantity: 1,
                serial_numbers: vec![],
                reason: "晾晒后完好".into(),
            })
            .await
            .map(|_| ()),
        Rpc::ReverseEntry => s
            .reverse_entry(pb::ReverseEntryRequest {
                request_id: rid(),
                entry_id: id,
                reason: "录错仓库".into(),
            })
            .await
            .map(|_| ()),
        Rpc::GetLedgerEntry => s
            .get_ledger_entry(pb::GetLedgerEntryRequest {
                entry_id: fx.receipt.clone(),
            })
            .await
            .map(|_| ()),
        Rpc::CreateAdjustment => s.create_adjustment(adjustment_req()).await.map(|_| ()),
        Rpc::ApproveAdjustment => s
            .approve_adjustment(pb::ApproveAdjustmentRequest {
                request_id: rid(),
                adjustment_id: id,
                note: "复核属实".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
        Rpc::RejectAdjustment => s
            .reject_adjustment(pb::RejectAdjustmentRequest {
                request_id: rid(),
                adjustment_id: id,
                reason: "未见破损".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
        Rpc::GetAdjustment => s
            .get_adjustment(pb::GetAdjustmentRequest {
                adjustment_id: fx.adjustment.clone(),
            })
            .await
            .map(|_| ()),
        Rpc::ListAdjustments => s
            .list_adjustments(pb::ListAdjustmentsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::CreateScrapApplication => s.create_scrap_application(scrap_req()).await.map(|_| ()),
        Rpc::ApproveScrapApplication => s
            .approve_scrap_application(pb::ApproveScrapApplicationRequest {
                request_id: rid(),
                application_id: id,
                note: "同意销毁".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
        Rpc::RejectScrapApplication => s
            .reject_scrap_application(pb::RejectScrapApplicationRequest {
                request_id: rid(),
                application_id: id,
                reason: "尚可使用".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
        Rpc::GetScrapApplication => s
            .get_scrap_application(pb::GetScrapApplicationRequest {
                application_id: fx.scrap.clone(),
            })
            .await
            .map(|_| ()),
        Rpc::ListScrapApplications => s
            .list_scrap_applications(pb::ListScrapApplicationsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::OpenStockCount => s.open_stock_count(open_req()).await.map(|r| {
            opened = r.into_inner().count.map(|c| c.id);
        }),
        Rpc::RecordCountLines => s
            .record_count_lines(record_req(snapshot.as_ref().expect("an open count"), 5))
            .await
            .map(|_| ()),
        Rpc::SubmitStockCount => s.submit_stock_count(submit_req(&id)).await.map(|_| ()),
        Rpc::ApproveStockCount => s
            .approve_stock_count(pb::ApproveStockCountRequest {
                request_id: rid(),
                count_id: id,
                note: "复核".into(),
                etag: String::new(),
            })
            .await
            .map(|_| ()),
        Rpc::CancelStockCount => s.cancel_stock_count(cancel_req(&id)).await.map(|_| ()),
        Rpc::GetStockCount => s
            .get_stock_count(pb::GetStockCountRequest {
                count_id: fx.count.clone(),
            })
            .await
            .map(|_| ()),
        Rpc::ListStock => s
            .list_stock(pb::ListStockRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::GetLot => s
            .get_lot(pb::GetLotRequest {
                item_id: ITEM.into(),
                lot_number: LOT.into(),
            })
            .await
            .map(|_| ()),
        Rpc::ListLots => s
            .list_lots(pb::ListLotsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::ListLedgerEntries => s
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::RollUpStock => s
            .roll_up_stock(pb::RollUpStockRequest {
                depot_code: ZS.into(),
                item_id: ITEM.into(),
                category_prefix: String::new(),
            })
            .await
            .map(|_| ()),
        Rpc::ListExpiringLots => s
            .list_expiring_lots(pb::ListExpiringLotsRequest {
                depot_code: ZS.into(),
                include_expired: true,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::ListShortfalls => s
            .list_shortfalls(pb::ListShortfallsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::ListRotationCandidates => s
            .list_rotation_candidates(pb::ListRotationCandidatesRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::GetAsset => s
            .get_asset(pb::GetAssetRequest {
                item_id: SERIAL_ITEM.into(),
                serial_number: SERIAL.into(),
            })
            .await
            .map(|_| ()),
        Rpc::ListAssets => s
            .list_assets(pb::ListAssetsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::CheckLedgerIntegrity => s
            .check_ledger_integrity(pb::CheckLedgerIntegrityRequest {
                depot_code: ZS.into(),
            })
            .await
            .map(|_| ()),
    };
    Outcome {
        code: r.err().map(|s| s.code()).unwrap_or(Code::Ok),
        before,
        count: count.or(opened),
    }
}

/// Calls `rpc`; when it is refused, checks that nothing changed, and when
/// a write succeeds, that the change shows. Then cancels any count the call
/// leaves open, so the next one can open.
async fn check(app: &TestApp, fx: &Fixture, rpc: Rpc, token: Option<&str>, want: Code, what: &str) {
    let out = call(app, fx, rpc, token).await;
    assert_eq!(out.code, want, "{rpc:?} with {what}");
    let after = fingerprint(app, out.count.as_deref()).await;
    if out.code != Code::Ok {
        assert_eq!(
            after, out.before,
            "refused {rpc:?} with {what} changed something"
        );
    } else if rpc.writes() {
        // The fingerprint sees every change, so a refusal it calls
        // unchanged really changed nothing.
        assert_ne!(
            after, out.before,
            "{rpc:?} with {what} succeeded but the fingerprint did not change"
        );
    }
    if let Some(id) = out.count {
        // Approved or cancelled already is fine: nothing is left open then.
        let _ = preparer(app).cancel_stock_count(cancel_req(&id)).await;
    }
}

#[test]
fn the_table_names_every_rpc_of_the_stock_service() {
    let set = prost_types::FileDescriptorSet::decode(reserve_api::FILE_DESCRIPTOR_SET).unwrap();
    let mut methods: Vec<String> = set
        .file
        .iter()
        .filter(|f| f.package() == "reserve.v1")
        .flat_map(|f| f.service.iter())
        .filter(|s| s.name() == "StockService")
        .flat_map(|s| s.method.iter().map(|m| m.name().to_string()))
        .collect();
    methods.sort();
    let mut table: Vec<String> = ALL.iter().map(|r| format!("{r:?}")).collect();
    table.sort();
    assert_eq!(table, methods);
}

#[tokio::test]
async fn every_stock_rpc_refuses_missing_and_bad_tokens_with_unauthenticated() {
    let app = TestApp::with_demo().await;
    let fx = set_up(&app).await;
    // Claims that would be allowed everything at the depot, were they valid.
    let everything = Claims {
        scope_depot: ZS.into(),
        ..claims(&["depot_keeper", "dispatcher", "finance", "auditor", "admin"])
    };
    let cases = bad_tokens(&app, &everything);
    for rpc in ALL {
        for (what, token) in &cases {
            check(
                &app,
                &fx,
                rpc,
                token.as_deref(),
                Code::Unauthenticated,
                what,
            )
            .await;
        }
    }
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_stock_rpc_answers_each_role_at_above_and_beside_the_depot_as_the_table_says() {
    let app = TestApp::with_demo().await;
    let fx = set_up(&app).await;
    for rpc in ALL {
        for role in Role::ALL {
            for at in [At::Depot, At::Above, At::Outside] {
                let token = app.token(&[role], at.scope());
                let what = format!("{} scoped to {}", role.claim(), at.scope());
                check(&app, &fx, rpc, Some(&token), expected(rpc, role, at), &what).await;
            }
        }
    }
    // A token with no known role gets nothing at all.
    let nobody = app.sign(&Claims {
        roles: vec!["superuser".into()],
        scope_depot: ZS.into(),
        ..claims(&[])
    });
    for rpc in [Rpc::ListStock, Rpc::ReceiveStock, Rpc::ApproveAdjustment] {
        check(
            &app,
            &fx,
            rpc,
            Some(&nobody),
            Code::PermissionDenied,
            "no known role",
        )
        .await;
    }
    // A token whose scope depot does not exist covers nothing.
    let ghost = app.token(
        &[Role::DepotKeeper, Role::Dispatcher, Role::Admin],
        "HB-SY-ZS-99",
    );
    for rpc in [
        Rpc::ListStock,
        Rpc::ReceiveStock,
        Rpc::ApproveAdjustment,
        Rpc::ApproveScrapApplication,
        Rpc::CheckLedgerIntegrity,
    ] {
        check(
            &app,
            &fx,
            rpc,
            Some(&ghost),
            Code::PermissionDenied,
            "a missing scope depot",
        )
        .await;
    }
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn nobody_countersigns_their_own_adjustment_or_count() {
    let app = TestApp::with_demo().await;
    set_up(&app).await;
    let mut a = app.keeper("keeper-a", ZS);
    let mut b = app.keeper("keeper-b", ZS);
    let mut c = app.keeper("keeper-c", ZS);

    // The author of an adjustment cannot approve it, but may withdraw it.
    let adj = a
        .create_adjustment(adjustment_req())
        .await
        .unwrap()
        .into_inner()
        .adjustment
        .unwrap();
    let before = fingerprint(&app, None).await;
    let err = a
        .approve_adjustment(pb::ApproveAdjustmentRequest {
            request_id: rid(),
            adjustment_id: adj.id.clone(),
            note: String::new(),
            etag: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(fingerprint(&app, None).await, before);
    a.reject_adjustment(pb::RejectAdjustmentRequest {
        request_id: rid(),
        adjustment_id: adj.id,
        reason: "撤回".into(),
        etag: String::new(),
    })
    .await
    .unwrap();

    // Neither whoever recorded a figure nor whoever submitted approves a count.
    let opened = a
        .open_stock_count(open_req())
        .await
        .unwrap()
        .into_inner()
        .count
        .unwrap();
    a.record_count_lines(record_req(&opened, 1)).await.unwrap();
    let count = opened.id;
    b.submit_stock_count(submit_req(&count)).await.unwrap();
    for (who, k) in [("the recorder", &mut a), ("the submitter", &mut b)] {
        let before = fingerprint(&app, Some(&count)).await;
        let err = k
            .approve_stock_count(pb::ApproveStockCountRequest {
                request_id: rid(),
                count_id: count.clone(),
                note: String::new(),
                etag: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{who}: {err:?}");
        assert_eq!(fingerprint(&app, Some(&count)).await, before, "{who}");
    }
    let done = c
        .approve_stock_count(pb::ApproveStockCountRequest {
            request_id: rid(),
            count_id: count,
            note: "复核".into(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.entries.len(), 1);
    assert_eq!(done.entries[0].quantity, -1);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

/// Issues every unit on hand at `code` as its keeper: lots by number,
/// serial-tracked units by serial number.
async fn issue_everything(app: &TestApp, code: &str) {
    let mut k = app.keeper("keeper-close", code);
    let lines = k
        .list_stock(pb::ListStockRequest {
            depot_code: code.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    for l in lines.into_iter().filter(|l| l.on_hand > 0) {
        let lot = l.lot.unwrap().lot_number;
        let serials: Vec<String> = k
            .list_assets(pb::ListAssetsRequest {
                depot_code: code.into(),
                item_id: l.item_id.clone(),
                status: pb::AssetStatus::InStock as i32,
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .assets
            .into_iter()
            .filter(|a| a.lot_number == lot)
            .map(|a| a.serial_number)
            .collect();
        let quantity = if serials.is_empty() { l.on_hand } else { 0 };
        k.issue_stock(pb::IssueStockRequest {
            request_id: rid(),
            depot_code: code.into(),
            item_id: l.item_id,
            quantity,
            lot_number: lot,
            serial_numbers: serials,
            purpose: pb::IssuePurpose::Incident as i32,
            recipient: "撤并前调出".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
}

/// What a user could see change around the two depots being closed.
async fn closing_fingerprint(app: &TestApp) -> String {
    format!(
        "{}{}{}",
        app.fingerprint().await,
        app.stock_fingerprint("HB-SY-AZ").await,
        app.stock_fingerprint("HB-SY-AZ-01").await
    )
}

#[tokio::test]
async fn a_depot_holding_stock_cannot_close_until_its_stock_is_issued_out() {
    let app = TestApp::with_demo().await;
    let admin = app.token(&[Role::Admin], "HB-SY");
    let mut net = app.network(&admin);
    // A county with one township, both holding stock.
    for d in [
        depot("HB-SY-AZ", pb::Tier::County, "HB-SY", "420398"),
        depot("HB-SY-AZ-01", pb::Tier::Township, "HB-SY-AZ", "420398100"),
    ] {
        net.create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(d),
        })
        .await
        .unwrap();
    }
    for (code, lot, qty) in [("HB-SY-AZ", "AZC-1", 40), ("HB-SY-AZ-01", "AZT-1", 7)] {
        let mut k = app.keeper("keeper-close", code);
        k.receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: code.into(),
            item_id: ITEM.into(),
            lot_number: lot.into(),
            quantity: qty,
            ..Default::default()
        })
        .await
        .unwrap();
    }
    app.keeper("keeper-close", "HB-SY-AZ")
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: "HB-SY-AZ".into(),
            item_id: SERIAL_ITEM.into(),
            lot_number: "AZC-G5".into(),
            serial_numbers: vec!["AZC-G5-1".into(), "AZC-G5-2".into()],
            ..Default::default()
        })
        .await
        .unwrap();

    let close = |code: &str| pb::CloseDepotRequest {
        request_id: rid(),
        code: code.into(),
        etag: String::new(),
        reason: "撤并".into(),
    };
    let refused = |r: Result<tonic::Response<pb::CloseDepotResponse>, tonic::Status>| {
        let err = r.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        reason(&err)
    };

    // The county closes only after its township.
    let before = closing_fingerprint(&app).await;
    let why = refused(net.close_depot(close("HB-SY-AZ")).await);
    assert_eq!(why.as_deref(), Some("DEPOT_HAS_OPEN_CHILDREN"));
    assert_eq!(
        closing_fingerprint(&app).await,
        before,
        "a refused close changed something"
    );

    // The township holds 7 tarpaulins: refused, nothing changed.
    let before = closing_fingerprint(&app).await;
    let why = refused(net.close_depot(close("HB-SY-AZ-01")).await);
    assert_eq!(why.as_deref(), Some("DEPOT_HAS_STOCK"));
    assert_eq!(
        closing_fingerprint(&app).await,
        before,
        "a refused close changed something"
    );
    issue_everything(&app, "HB-SY-AZ-01").await;
    net.close_depot(close("HB-SY-AZ-01")).await.unwrap();

    // Now the county: its own stock, lots and serial numbers, stops it.
    let before = closing_fingerprint(&app).await;
    let why = refused(net.close_depot(close("HB-SY-AZ")).await);
    assert_eq!(why.as_deref(), Some("DEPOT_HAS_STOCK"));
    assert_eq!(
        closing_fingerprint(&app).await,
        before,
        "a refused close changed something"
    );
    issue_everything(&app, "HB-SY-AZ").await;
    let closed = net
        .close_depot(close("HB-SY-AZ"))
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(closed.status, pb::DepotStatus::Closed as i32);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
