//! `reserve.v1.StockService`: the ledger, its movements, documents, counts
//! and reports. This file is the service: each RPC delegates to the module
//! of its group, which authenticates, checks the role, turns the request
//! into a core draft, calls the store, and turns the answer back. Every
//! other authority rule is decided in core inside the store's transaction.

mod adjustment;
mod count;
mod lookup;
mod movement;
mod report;
mod scrap;
pub mod wire;

use crate::context::Ctx;
use crate::error::{invalid, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::stock_service_server::StockService;
use reserve_core::authz::{Action, Principal};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::stock::Day;
use reserve_core::stock::count::StockCount;
use reserve_store::stock::Posted;
use std::collections::BTreeMap;
use tonic::{Request, Response, Status};
use wire::{count_pb, entry_pb, line_pb};

/// The stock service over a shared context.
#[derive(Clone, Debug)]
pub struct StockApi {
    ctx: Ctx,
}

impl StockApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }

    fn today(&self) -> Day {
        Day::today(self.ctx.clock.now())
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.StockService/{name}")
    }

    /// A depot to read (default: the caller's scope) and its path, in scope.
    async fn readable(&self, p: &Principal, raw: &str) -> Result<(DepotCode, DepotPath), Status> {
        Ctx::require(p, Action::ReadStock)?;
        let depot = match raw.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let path = self.ctx.in_scope(p, &depot).await?;
        Ok((depot, path))
    }

    fn posted(&self, p: &Posted) -> (Vec<pb::LedgerEntry>, Vec<pb::StockLine>) {
        let today = self.today();
        (
            p.entries.iter().map(entry_pb).collect(),
            p.lines.iter().map(|l| line_pb(l, today)).collect(),
        )
    }

    async fn item_values(
        &self,
        items: impl Iterator<Item = &ItemId>,
    ) -> Result<BTreeMap<String, i64>, Status> {
        let mut out = BTreeMap::new();
        for i in items {
            if out.contains_key(i.as_str()) {
                continue;
            }
            let v = self
                .ctx
                .store
                .get_item(i)
                .await
                .map_err(status_of_store)?
                .map(|it| it.unit_value_fen)
                .unwrap_or(0);
            out.insert(i.to_string(), v);
        }
        Ok(out)
    }

    async fn count_reply(&self, c: &StockCount) -> Result<pb::StockCount, Status> {
        let values = self.item_values(c.lines.iter().map(|l| &l.item)).await?;
        Ok(count_pb(c, |i| values.get(i).copied().unwrap_or(0)))
    }
}

fn optional_item(raw: &str, field: &str) -> Result<Option<ItemId>, Status> {
    match raw.trim() {
        "" => Ok(None),
        i => ItemId::parse(i).map(Some).map_err(|e| invalid(field, e)),
    }
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl StockService for StockApi {
    async fn receive_stock(
        &self,
        r: Request<pb::ReceiveStockRequest>,
    ) -> Answer<pb::ReceiveStockResponse> {
        movement::receive(self, r).await
    }
    async fn issue_stock(
        &self,
        r: Request<pb::IssueStockRequest>,
    ) -> Answer<pb::IssueStockResponse> {
        movement::issue(self, r).await
    }
    async fn hold_stock(&self, r: Request<pb::HoldStockRequest>) -> Answer<pb::HoldStockResponse> {
        movement::hold(self, r).await
    }
    async fn release_stock(
        &self,
        r: Request<pb::ReleaseStockRequest>,
    ) -> Answer<pb::ReleaseStockResponse> {
        movement::release(self, r).await
    }
    async fn reverse_entry(
        &self,
        r: Request<pb::ReverseEntryRequest>,
    ) -> Answer<pb::ReverseEntryResponse> {
        movement::reverse(self, r).await
    }
    async fn get_ledger_entry(
        &self,
        r: Request<pb::GetLedgerEntryRequest>,
    ) -> Answer<pb::GetLedgerEntryResponse> {
        lookup::get_entry(self, r).await
    }
    async fn create_adjustment(
        &self,
        r: Request<pb::CreateAdjustmentRequest>,
    ) -> Answer<pb::CreateAdjustmentResponse> {
        adjustment::create(self, r).await
    }
    async fn approve_adjustment(
        &self,
        r: Request<pb::ApproveAdjustmentRequest>,
    ) -> Answer<pb::ApproveAdjustmentResponse> {
        adjustment::approve(self, r).await
    }
    async fn reject_adjustment(
        &self,
        r: Request<pb::RejectAdjustmentRequest>,
    ) -> Answer<pb::RejectAdjustmentResponse> {
        adjustment::reject(self, r).await
    }
    async fn get_adjustment(
        &self,
        r: Request<pb::GetAdjustmentRequest>,
    ) -> Answer<pb::GetAdjustmentResponse> {
        adjustment::get(self, r).await
    }
    async fn list_adjustments(
        &self,
        r: Request<pb::ListAdjustmentsRequest>,
    ) -> Answer<pb::ListAdjustmentsResponse> {
        adjustment::list(self, r).await
    }
    async fn create_scrap_application(
        &self,
        r: Request<pb::CreateScrapApplicationRequest>,
    ) -> Answer<pb::CreateScrapApplicationResponse> {
        scrap::create(self, r).await
    }
    async fn approve_scrap_application(
        &self,
        r: Request<pb::ApproveScrapApplicationRequest>,
    ) -> Answer<pb::ApproveScrapApplicationResponse> {
        scrap::approve(self, r).await
    }
    async fn reject_scrap_application(
        &self,
        r: Request<pb::RejectScrapApplicationRequest>,
    ) -> Answer<pb::RejectScrapApplicationResponse> {
        scrap::reject(self, r).await
    }
    async fn get_scrap_application(
        &self,
        r: Request<pb::GetScrapApplicationRequest>,
    ) -> Answer<pb::GetScrapApplicationResponse> {
        scrap::get(self, r).await
    }
    async fn list_scrap_applications(
        &self,
        r: Request<pb::ListScrapApplicationsRequest>,
    ) -> Answer<pb::ListScrapApplicationsResponse> {
        scrap::list(self, r).await
    }
    async fn open_stock_count(
        &self,
        r: Request<pb::OpenStockCountRequest>,
    ) -> Answer<pb::OpenStockCountResponse> {
        count::open(self, r).await
    }
    async fn record_count_lines(
        &self,
        r: Request<pb::RecordCountLinesRequest>,
    ) -> Answer<pb::RecordCountLinesResponse> {
        count::record(self, r).await
    }
    async fn submit_stock_count(
        &self,
        r: Request<pb::SubmitStockCountRequest>,
    ) -> Answer<pb::SubmitStockCountResponse> {
        count::submit(self, r).await
    }
    async fn approve_stock_count(
        &self,
        r: Request<pb::ApproveStockCountRequest>,
    ) -> Answer<pb::ApproveStockCountResponse> {
        count::approve(self, r).await
    }
    async fn cancel_stock_count(
        &self,
        r: Request<pb::CancelStockCountRequest>,
    ) -> Answer<pb::CancelStockCountResponse> {
        count::cancel(self, r).await
    }
    async fn get_stock_count(
        &self,
        r: Request<pb::GetStockCountRequest>,
    ) -> Answer<pb::GetStockCountResponse> {
        count::get(self, r).await
    }
    async fn list_stock(&self, r: Request<pb::ListStockRequest>) -> Answer<pb::ListStockResponse> {
        lookup::list_stock(self, r).await
    }
    async fn get_lot(&self, r: Request<pb::GetLotRequest>) -> Answer<pb::GetLotResponse> {
        lookup::get_lot(self, r).await
    }
    async fn list_lots(&self, r: Request<pb::ListLotsRequest>) -> Answer<pb::ListLotsResponse> {
        lookup::list_lots(self, r).await
    }
    async fn list_ledger_entries(
        &self,
        r: Request<pb::ListLedgerEntriesRequest>,
    ) -> Answer<pb::ListLedgerEntriesResponse> {
        lookup::list_ledger(self, r).await
    }
    async fn roll_up_stock(
        &self,
        r: Request<pb::RollUpStockRequest>,
    ) -> Answer<pb::RollUpStockResponse> {
        report::roll_up(self, r).await
    }
    async fn list_expiring_lots(
        &self,
        r: Request<pb::ListExpiringLotsRequest>,
    ) -> Answer<pb::ListExpiringLotsResponse> {
        report::expiring(self, r).await
    }
    async fn list_shortfalls(
        &self,
        r: Request<pb::ListShortfallsRequest>,
    ) -> Answer<pb::ListShortfallsResponse> {
        report::shortfalls(self, r).await
    }
    async fn list_rotation_candidates(
        &self,
        r: Request<pb::ListRotationCandidatesRequest>,
    ) -> Answer<pb::ListRotationCandidatesResponse> {
        report::rotation(self, r).await
    }
    async fn get_asset(&self, r: Request<pb::GetAssetRequest>) -> Answer<pb::GetAssetResponse> {
        lookup::get_asset(self, r).await
    }
    async fn list_assets(
        &self,
        r: Request<pb::ListAssetsRequest>,
    ) -> Answer<pb::ListAssetsResponse> {
        lookup::list_assets(self, r).await
    }
    async fn check_ledger_integrity(
        &self,
        r: Request<pb::CheckLedgerIntegrityRequest>,
    ) -> Answer<pb::CheckLedgerIntegrityResponse> {
        report::integrity(self, r).await
    }
}
