//! `reserve.v1.StockService`: the ledger, its movements, documents, counts
//! and reports.

pub mod wire;

use crate::context::Ctx;
use crate::error::{invalid, invalid_all, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::stock_service_server::StockService;
use crate::wire::{millis, page_size, tier};
use reserve_core::authz::{Action, DepotPath, Principal, Role};
use reserve_core::depot::DepotCode;
use reserve_core::item::{ItemId, parse_code_prefix};
use reserve_core::stock::approval::{
    AdjustmentDraft, ApprovalStatus, NewAdjustment, NewScrap, ScrapDraft,
};
use reserve_core::stock::count::{CountedDraft, parse_counted};
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::movement::{
    HoldReason, Issue, IssueDraft, Move, MoveDraft, Receipt, ReceiptDraft,
};
use reserve_core::stock::{Day, EntryType};
use reserve_core::text;
use reserve_store::stock::{Decider, LedgerFilter, Posted, RollUpOf};
use std::collections::BTreeMap;
use tonic::{Request, Response, Status};
use wire::{adjustment_pb, asset_pb, count_pb, entry_pb, line_pb, scrap_pb, ymd};

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

    /// Depot keepers change stock only at their own scope depot.
    fn keeper_here(p: &Principal, depot: &DepotCode) -> Result<(), Status> {
        Ctx::require(p, Action::MoveStock)?;
        if &p.scope == depot {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "depot keepers change stock only at their own depot; yours is {}, not {depot}",
                p.scope
            )))
        }
    }

    /// A second signature at `depot`: a keeper of that depot, or a dispatcher
    /// or admin whose scope covers it.
    async fn countersigner(&self, p: &Principal, depot: &DepotCode) -> Result<(), Status> {
        Ctx::require(p, Action::CountersignStock)?;
        if p.has(Role::DepotKeeper) && &p.scope == depot {
            return Ok(());
        }
        if p.has(Role::Dispatcher) || p.has(Role::Admin) {
            self.ctx.in_scope(p, depot).await.map(|_| ())
        } else {
            Err(Status::permission_denied(format!(
                "a keeper countersigns only at their own depot; yours is {}, not {depot}",
                p.scope
            )))
        }
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

    async fn count_reply(
        &self,
        c: &reserve_core::stock::count::StockCount,
    ) -> Result<pb::StockCount, Status> {
        let values = self.item_values(c.lines.iter().map(|l| &l.item)).await?;
        Ok(count_pb(c, |i| values.get(i).copied().unwrap_or(0)))
    }
}

fn item_of(raw: &str, field: &str) -> Result<ItemId, Status> {
    ItemId::parse(raw.trim()).map_err(|e| invalid(field, e))
}

fn optional_item(raw: &str, field: &str) -> Result<Option<ItemId>, Status> {
    match raw.trim() {
        "" => Ok(None),
        i => item_of(i, field).map(Some),
    }
}

fn id_of(raw: &str, field: &str) -> Result<String, Status> {
    let v = raw.trim();
    if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(invalid(field, "must be an id this service issued"));
    }
    Ok(v.to_string())
}

fn approval_filter(raw: i32) -> Result<Option<ApprovalStatus>, Status> {
    match raw {
        0 => Ok(None),
        n => ApprovalStatus::from_number(i64::from(n))
            .map(Some)
            .ok_or_else(|| invalid("status", format!("{n} is not an approval status"))),
    }
}

fn not_found(kind: &str, id: &str) -> Status {
    Status::not_found(format!("{kind}/{id} not found"))
}

#[tonic::async_trait]
impl StockService for StockApi {
    async fn receive_stock(
        &self,
        req: Request<pb::ReceiveStockRequest>,
    ) -> Result<Response<pb::ReceiveStockResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let pb::ReceiveStockRequest {
            request_id,
            depot_code,
            item_id,
            lot_number,
            production_date,
            expiry_date,
            manufacturer,
            funding_source,
            owning_tier,
            quantity,
            serial_numbers,
            document,
            counterparty,
            note,
            occurred_time,
        } = &msg;
        let draft = ReceiptDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            production: ymd(production_date.as_ref()),
            expiry: ymd(expiry_date.as_ref()),
            manufacturer: manufacturer.clone(),
            funding: *funding_source,
            owning_tier: *owning_tier,
            quantity: *quantity,
            serials: serial_numbers.clone(),
            document: document.clone(),
            counterparty: counterparty.clone(),
            note: note.clone(),
            occurred_at: millis(occurred_time.as_ref(), "occurred_time")?,
        };
        let r = Receipt::parse(&draft, self.ctx.clock.now()).map_err(invalid_all)?;
        Self::keeper_here(&p, &r.depot)?;
        let meta = self
            .ctx
            .write_meta(p, request_id, &Self::method("ReceiveStock"), &msg)?;
        let w = self.ctx.store.receive(&meta, r).await.map_err(status_of)?;
        let (mut entries, mut lines) = self.posted(&w.value);
        Ok(Response::new(pb::ReceiveStockResponse {
            entry: entries.pop(),
            line: lines.pop(),
        }))
    }

    async fn issue_stock(
        &self,
        req: Request<pb::IssueStockRequest>,
    ) -> Result<Response<pb::IssueStockResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let pb::IssueStockRequest {
            request_id,
            depot_code,
            item_id,
            quantity,
            lot_number,
            serial_numbers,
            purpose,
            recipient,
            document,
            reason,
            override_reserve_minimum,
            override_reason,
            occurred_time,
        } = &msg;
        let draft = IssueDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            quantity: *quantity,
            lot_number: lot_number.clone(),
            serials: serial_numbers.clone(),
            purpose: *purpose,
            recipient: recipient.clone(),
            document: document.clone(),
            reason: reason.clone(),
            override_minimum: *override_reserve_minimum,
            override_reason: override_reason.clone(),
            occurred_at: millis(occurred_time.as_ref(), "occurred_time")?,
        };
        let issue = Issue::parse(&draft, self.ctx.clock.now()).map_err(invalid_all)?;
        Self::keeper_here(&p, &issue.depot)?;
        let meta = self
            .ctx
            .write_meta(p, request_id, &Self::method("IssueStock"), &msg)?;
        let w = self
            .ctx
            .store
            .issue(&meta, issue)
            .await
            .map_err(status_of)?;
        let (entries, lines) = self.posted(&w.value);
        Ok(Response::new(pb::IssueStockResponse { entries, lines }))
    }

    async fn hold_stock(
        &self,
        req: Request<pb::HoldStockRequest>,
    ) -> Result<Response<pb::HoldStockResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let pb::HoldStockRequest {
            request_id,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
            note,
        } = &msg;
        let draft = MoveDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            quantity: *quantity,
            serials: serial_numbers.clone(),
            note: note.clone(),
        };
        let parsed = Move::parse(&draft, "note", false);
        let why = match *reason {
            0 => Err("is required: quarantine, damage or under repair".to_string()),
            n => HoldReason::from_number(i64::from(n))
                .ok_or_else(|| format!("{n} is not a hold reason")),
        };
        let (m, why) = match (parsed, why) {
            (Ok(m), Ok(w)) => (m, w),
            (Err(mut v), Err(e)) => {
                v.add("reason", e);
                return Err(invalid_all(v));
            }
            (Err(v), _) => return Err(invalid_all(v)),
            (_, Err(e)) => return Err(invalid("reason", e)),
        };
        Self::keeper_here(&p, &m.depot)?;
        let meta = self
            .ctx
            .write_meta(p, request_id, &Self::method("HoldStock"), &msg)?;
        let w = self
            .ctx
            .store
            .hold(&meta, m, why)
            .await
            .map_err(status_of)?;
        let (entries, lines) = self.posted(&w.value);
        Ok(Response::new(pb::HoldStockResponse { entries, lines }))
    }

    async fn release_stock(
        &self,
        req: Request<pb::ReleaseStockRequest>,
    ) -> Result<Response<pb::ReleaseStockResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let pb::ReleaseStockRequest {
            request_id,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            note,
        } = &msg;
        let draft = MoveDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            quantity: *quantity,
            serials: serial_numbers.clone(),
            note: note.clone(),
        };
        let m = Move::parse(&draft, "note", false).map_err(invalid_all)?;
        Self::keeper_here(&p, &m.depot)?;
        let meta = self
            .ctx
            .write_meta(p, request_id, &Self::method("ReleaseStock"), &msg)?;
        let w = self.ctx.store.release(&meta, m).await.map_err(status_of)?;
        let (entries, lines) = self.posted(&w.value);
        Ok(Response::new(pb::ReleaseStockResponse { entries, lines }))
    }

    async fn reverse_entry(
        &self,
        req: Request<pb::ReverseEntryRequest>,
    ) -> Result<Response<pb::ReverseEntryResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let id = id_of(&msg.entry_id, "entry_id")?;
        let reason = text::required(&msg.reason, 500).map_err(|e| invalid("reason", e))?;
        let original = self
            .ctx
            .store
            .get_entry(&id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| not_found("ledgerEntries", &id))?;
        Self::keeper_here(&p, &original.depot)?;
        let meta = self
            .ctx
            .write_meta(p, &msg.request_id, &Self::method("ReverseEntry"), &msg)?;
        let w = self
            .ctx
            .store
            .reverse(&meta, id, reason)
            .await
            .map_err(status_of)?;
        let (mut entries, mut lines) = self.posted(&w.value);
        Ok(Response::new(pb::ReverseEntryResponse {
            entry: entries.pop(),
            line: lines.pop(),
        }))
    }

    async fn create_adjustment(
        &self,
        req: Request<pb::CreateAdjustmentRequest>,
    ) -> Result<Response<pb::CreateAdjustmentResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let pb::CreateAdjustmentRequest {
            request_id,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
        } = &msg;
        let new = NewAdjustment::parse(&AdjustmentDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            quantity: *quantity,
            serials: serial_numbers.clone(),
            reason: reason.clone(),
        })
        .map_err(invalid_all)?;
        Self::keeper_here(&p, &new.depot)?;
        let meta = self
            .ctx
            .write_meta(p, request_id, &Self::method("CreateAdjustment"), &msg)?;
        let w = self
            .ctx
            .store
            .create_adjustment(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateAdjustmentResponse {
            adjustment: Some(adjustment_pb(&w.value)),
        }))
    }

    async fn approve_adjustment(
        &self,
        req: Request<pb::ApproveAdjustmentRequest>,
    ) -> Result<Response<pb::ApproveAdjustmentResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::CountersignStock)?;
        let msg = req.into_inner();
        let id = id_of(&msg.adjustment_id, "adjustment_id")?;
        let note = text::optional(&msg.note, 500).map_err(|e| invalid("note", e))?;
        let adj = self
            .ctx
            .store
            .get_adjustment(&id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| not_found("adjustments", &id))?;
        self.countersigner(&p, &adj.depot).await?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("ApproveAdjustment"), &msg)?;
        let w = self
            .ctx
            .store
            .approve_adjustment(&meta, id, note)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ApproveAdjustmentResponse {
            adjustment: Some(adjustment_pb(&w.value.adjustment)),
            entry: Some(entry_pb(&w.value.entry)),
            line: Some(line_pb(&w.value.line, self.today())),
        }))
    }

    async fn reject_adjustment(
        &self,
        req: Request<pb::RejectAdjustmentRequest>,
    ) -> Result<Response<pb::RejectAdjustmentResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let msg = req.into_inner();
        let id = id_of(&msg.adjustment_id, "adjustment_id")?;
        let reason = text::required(&msg.reason, 500).map_err(|e| invalid("reason", e))?;
        let adj = self
            .ctx
            .store
            .get_adjustment(&id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| not_found("adjustments", &id))?;
        // Its author may withdraw it; otherwise the same people who may countersign.
        if adj.requested_by == p.subject {
            Self::keeper_here(&p, &adj.depot)?;
        } else {
            self.countersigner(&p, &adj.depot).await?;
        }
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("RejectAdjustment"), &msg)?;
        let w = self
            .ctx
            .store
            .reject_adjustment(&meta, id, reason)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RejectAdjustmentResponse {
            adjustment: Some(adjustment_pb(&w.value)),
        }))
    }

    async fn list_adjustments(
        &self,
        req: Request<pb::ListAdjustmentsRequest>,
    ) -> Result<Response<pb::ListAdjustmentsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListAdjustmentsRequest {
            depot_code,
            status,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let status = approval_filter(status)?;
        let (_, path) = self.readable(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_adjustments(&path, status, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListAdjustmentsResponse {
            adjustments: page.items.iter().map(adjustment_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn create_scrap_application(
        &self,
        req: Request<pb::CreateScrapApplicationRequest>,
    ) -> Result<Response<pb::CreateScrapApplicationResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let pb::CreateScrapApplicationRequest {
            request_id,
            depot_code,
            item_id,
            lot_number,
            quantity,
            serial_numbers,
            reason,
            disposal,
        } = &msg;
        let new = NewScrap::parse(&ScrapDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            lot_number: lot_number.clone(),
            quantity: *quantity,
            serials: serial_numbers.clone(),
            reason: reason.clone(),
            disposal: *disposal,
        })
        .map_err(invalid_all)?;
        Self::keeper_here(&p, &new.depot)?;
        let meta =
            self.ctx
                .write_meta(p, request_id, &Self::method("CreateScrapApplication"), &msg)?;
        let w = self
            .ctx
            .store
            .create_scrap(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateScrapApplicationResponse {
            application: Some(scrap_pb(&w.value.application)),
            hold_entry: Some(entry_pb(&w.value.entry)),
        }))
    }

    async fn approve_scrap_application(
        &self,
        req: Request<pb::ApproveScrapApplicationRequest>,
    ) -> Result<Response<pb::ApproveScrapApplicationResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let msg = req.into_inner();
        let id = id_of(&msg.application_id, "application_id")?;
        let note = text::optional(&msg.note, 500).map_err(|e| invalid("note", e))?;
        let decider = self.scrap_decider(&p, &id).await?;
        let meta = self.ctx.write_meta(
            p,
            &msg.request_id,
            &Self::method("ApproveScrapApplication"),
            &msg,
        )?;
        let w = self
            .ctx
            .store
            .decide_scrap(&meta, id, decider, true, note)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ApproveScrapApplicationResponse {
            application: Some(scrap_pb(&w.value.application)),
            entry: Some(entry_pb(&w.value.entry)),
        }))
    }

    async fn reject_scrap_application(
        &self,
        req: Request<pb::RejectScrapApplicationRequest>,
    ) -> Result<Response<pb::RejectScrapApplicationResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let msg = req.into_inner();
        let id = id_of(&msg.application_id, "application_id")?;
        let reason = text::required(&msg.reason, 500).map_err(|e| invalid("reason", e))?;
        let decider = self.scrap_decider(&p, &id).await?;
        let meta = self.ctx.write_meta(
            p,
            &msg.request_id,
            &Self::method("RejectScrapApplication"),
            &msg,
        )?;
        let w = self
            .ctx
            .store
            .decide_scrap(&meta, id, decider, false, reason)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RejectScrapApplicationResponse {
            application: Some(scrap_pb(&w.value.application)),
            entry: Some(entry_pb(&w.value.entry)),
        }))
    }

    async fn list_scrap_applications(
        &self,
        req: Request<pb::ListScrapApplicationsRequest>,
    ) -> Result<Response<pb::ListScrapApplicationsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListScrapApplicationsRequest {
            depot_code,
            status,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let status = approval_filter(status)?;
        let (_, path) = self.readable(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_scraps(&path, status, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListScrapApplicationsResponse {
            applications: page.items.iter().map(scrap_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn open_stock_count(
        &self,
        req: Request<pb::OpenStockCountRequest>,
    ) -> Result<Response<pb::OpenStockCountResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let depot =
            DepotCode::parse(msg.depot_code.trim()).map_err(|e| invalid("depot_code", e))?;
        let mut items = Vec::new();
        for (i, raw) in msg.item_ids.iter().enumerate() {
            let id = item_of(raw, &format!("item_ids[{i}]"))?;
            if !items.contains(&id) {
                items.push(id);
            }
        }
        let note = text::optional(&msg.note, 500).map_err(|e| invalid("note", e))?;
        Self::keeper_here(&p, &depot)?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("OpenStockCount"), &msg)?;
        let w = self
            .ctx
            .store
            .open_count(&meta, depot, items, note)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::OpenStockCountResponse {
            count: Some(self.count_reply(&w.value).await?),
        }))
    }

    async fn record_count_lines(
        &self,
        req: Request<pb::RecordCountLinesRequest>,
    ) -> Result<Response<pb::RecordCountLinesResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let id = id_of(&msg.count_id, "count_id")?;
        let drafts: Vec<CountedDraft> = msg
            .lines
            .iter()
            .map(|l| CountedDraft {
                item: l.item_id.clone(),
                lot_number: l.lot_number.clone(),
                counted: l.counted,
                serials: l.serial_numbers.clone(),
            })
            .collect();
        let counted = parse_counted(&drafts).map_err(invalid_all)?;
        let count = self.count_or_404(&id).await?;
        Self::keeper_here(&p, &count.depot)?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("RecordCountLines"), &msg)?;
        let w = self
            .ctx
            .store
            .record_count(&meta, id, counted)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RecordCountLinesResponse {
            count: Some(self.count_reply(&w.value).await?),
        }))
    }

    async fn submit_stock_count(
        &self,
        req: Request<pb::SubmitStockCountRequest>,
    ) -> Result<Response<pb::SubmitStockCountResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let id = id_of(&msg.count_id, "count_id")?;
        let count = self.count_or_404(&id).await?;
        Self::keeper_here(&p, &count.depot)?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("SubmitStockCount"), &msg)?;
        let w = self
            .ctx
            .store
            .transition_count(&meta, id, true, String::new())
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::SubmitStockCountResponse {
            count: Some(self.count_reply(&w.value).await?),
        }))
    }

    async fn approve_stock_count(
        &self,
        req: Request<pb::ApproveStockCountRequest>,
    ) -> Result<Response<pb::ApproveStockCountResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::CountersignStock)?;
        let msg = req.into_inner();
        let id = id_of(&msg.count_id, "count_id")?;
        let note = text::optional(&msg.note, 500).map_err(|e| invalid("note", e))?;
        let count = self.count_or_404(&id).await?;
        self.countersigner(&p, &count.depot).await?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("ApproveStockCount"), &msg)?;
        let w = self
            .ctx
            .store
            .approve_count(&meta, id, note)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ApproveStockCountResponse {
            count: Some(self.count_reply(&w.value.count).await?),
            entries: w.value.entries.iter().map(entry_pb).collect(),
        }))
    }

    async fn cancel_stock_count(
        &self,
        req: Request<pb::CancelStockCountRequest>,
    ) -> Result<Response<pb::CancelStockCountResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::MoveStock)?;
        let msg = req.into_inner();
        let id = id_of(&msg.count_id, "count_id")?;
        let reason = text::required(&msg.reason, 500).map_err(|e| invalid("reason", e))?;
        let count = self.count_or_404(&id).await?;
        Self::keeper_here(&p, &count.depot)?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &Self::method("CancelStockCount"), &msg)?;
        let w = self
            .ctx
            .store
            .transition_count(&meta, id, false, reason)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CancelStockCountResponse {
            count: Some(self.count_reply(&w.value).await?),
        }))
    }

    async fn get_stock_count(
        &self,
        req: Request<pb::GetStockCountRequest>,
    ) -> Result<Response<pb::GetStockCountResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = id_of(&req.into_inner().count_id, "count_id")?;
        let count = self.count_or_404(&id).await?;
        self.ctx.in_scope(&p, &count.depot).await?;
        Ok(Response::new(pb::GetStockCountResponse {
            count: Some(self.count_reply(&count).await?),
        }))
    }

    async fn list_stock(
        &self,
        req: Request<pb::ListStockRequest>,
    ) -> Result<Response<pb::ListStockResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListStockRequest {
            depot_code,
            item_id,
            include_empty,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let item = optional_item(&item_id, "item_id")?;
        let (depot, _) = self.readable(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_stock(&depot, item.as_ref(), include_empty, size, &page_token)
            .await
            .map_err(status_of)?;
        let today = self.today();
        Ok(Response::new(pb::ListStockResponse {
            lines: page.items.iter().map(|l| line_pb(l, today)).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_ledger_entries(
        &self,
        req: Request<pb::ListLedgerEntriesRequest>,
    ) -> Result<Response<pb::ListLedgerEntriesResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListLedgerEntriesRequest {
            depot_code,
            item_id,
            lot_id,
            entry_type,
            start_time,
            end_time,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let item = optional_item(&item_id, "item_id")?;
        let lot = match lot_id.trim() {
            "" => None,
            l => Some(id_of(l, "lot_id")?),
        };
        let kind = match entry_type {
            0 => None,
            n => Some(
                EntryType::from_number(i64::from(n))
                    .ok_or_else(|| invalid("entry_type", format!("{n} is not an entry type")))?,
            ),
        };
        let start = millis(start_time.as_ref(), "start_time")?;
        let end = millis(end_time.as_ref(), "end_time")?;
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            return Err(invalid("end_time", "must be after start_time"));
        }
        let (_, subtree) = self.readable(&p, &depot_code).await?;
        let f = LedgerFilter {
            subtree,
            item,
            lot,
            kind,
            start,
            end,
        };
        let page = self
            .ctx
            .store
            .list_ledger(&f, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListLedgerEntriesResponse {
            entries: page.items.iter().map(entry_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn roll_up_stock(
        &self,
        req: Request<pb::RollUpStockRequest>,
    ) -> Result<Response<pb::RollUpStockResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::RollUpStockRequest {
            depot_code,
            item_id,
            category_prefix,
        } = req.into_inner();
        let of = match (item_id.trim(), category_prefix.trim()) {
            ("", "") => return Err(invalid("item_id", "give an item_id or a category_prefix")),
            (i, "") => RollUpOf::Item(item_of(i, "item_id")?),
            ("", c) => {
                RollUpOf::Category(parse_code_prefix(c).map_err(|e| invalid("category_prefix", e))?)
            }
            _ => {
                return Err(invalid(
                    "category_prefix",
                    "give either item_id or category_prefix, not both",
                ));
            }
        };
        let (depot, subtree) = self.readable(&p, &depot_code).await?;
        let rows = self
            .ctx
            .store
            .roll_up(&subtree, &of, self.today())
            .await
            .map_err(status_of_store)?;
        let mut total = pb::StockStates::default();
        let mut tiers = Vec::new();
        for r in rows {
            let states = pb::StockStates {
                on_hand: r.on_hand,
                available: r.available,
                reserved: r.reserved,
                held: r.held,
                near_expiry: r.near_expiry,
                expired: r.expired,
                in_transit: 0,
                on_lease: 0,
            };
            total.on_hand += states.on_hand;
            total.available += states.available;
            total.reserved += states.reserved;
            total.held += states.held;
            total.near_expiry += states.near_expiry;
            total.expired += states.expired;
            if let Some(t) = r.tier {
                tiers.push(pb::TierRollUp {
                    tier: tier(t),
                    depots: i32::try_from(r.depots).unwrap_or(i32::MAX),
                    states: Some(states),
                });
            }
        }
        Ok(Response::new(pb::RollUpStockResponse {
            depot_code: depot.to_string(),
            tiers,
            total: Some(total),
        }))
    }

    async fn list_expiring_lots(
        &self,
        req: Request<pb::ListExpiringLotsRequest>,
    ) -> Result<Response<pb::ListExpiringLotsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListExpiringLotsRequest {
            depot_code,
            within_days,
            include_expired,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let within = match within_days {
            0 => None,
            n if (1..=3650).contains(&n) => Some(i64::from(n)),
            _ => {
                return Err(invalid(
                    "within_days",
                    "must be 0 (each item's window) to 3650",
                ));
            }
        };
        let (_, subtree) = self.readable(&p, &depot_code).await?;
        let today = self.today();
        let page = self
            .ctx
            .store
            .list_expiring(&subtree, within, include_expired, today, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListExpiringLotsResponse {
            lines: page.items.iter().map(|l| line_pb(l, today)).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_shortfalls(
        &self,
        req: Request<pb::ListShortfallsRequest>,
    ) -> Result<Response<pb::ListShortfallsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListShortfallsRequest {
            depot_code,
            item_id,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let item = optional_item(&item_id, "item_id")?;
        let (_, subtree) = self.readable(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_shortfalls(&subtree, item.as_ref(), self.today(), size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListShortfallsResponse {
            shortfalls: page
                .items
                .iter()
                .map(|s| pb::Shortfall {
                    depot_code: s.depot.to_string(),
                    item_id: s.item.to_string(),
                    minimum: s.minimum,
                    target: s.target,
                    on_hand: s.on_hand,
                    available: s.available,
                    below_minimum: s.shortfall.below_minimum,
                    short_of_minimum: s.shortfall.short_of_minimum,
                    short_of_target: s.shortfall.short_of_target,
                })
                .collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_rotation_candidates(
        &self,
        req: Request<pb::ListRotationCandidatesRequest>,
    ) -> Result<Response<pb::ListRotationCandidatesResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListRotationCandidatesRequest {
            depot_code,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let (_, subtree) = self.readable(&p, &depot_code).await?;
        let today = self.today();
        let page = self
            .ctx
            .store
            .list_rotation(&subtree, today, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListRotationCandidatesResponse {
            candidates: page
                .items
                .iter()
                .map(|r| pb::RotationCandidate {
                    line: Some(line_pb(&r.line, today)),
                    quantity: r.quantity,
                    replacement_quantity: r.replacement,
                })
                .collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_assets(
        &self,
        req: Request<pb::ListAssetsRequest>,
    ) -> Result<Response<pb::ListAssetsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        let pb::ListAssetsRequest {
            depot_code,
            item_id,
            status,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let item = optional_item(&item_id, "item_id")?;
        let status = match status {
            0 => None,
            n => Some(
                AssetStatus::from_number(i64::from(n))
                    .ok_or_else(|| invalid("status", format!("{n} is not an asset status")))?,
            ),
        };
        let (depot, _) = self.readable(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_assets(&depot, item.as_ref(), status, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListAssetsResponse {
            assets: page.items.iter().map(asset_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn check_ledger_integrity(
        &self,
        req: Request<pb::CheckLedgerIntegrityRequest>,
    ) -> Result<Response<pb::CheckLedgerIntegrityResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::CheckIntegrity)?;
        let pb::CheckLedgerIntegrityRequest { depot_code } = req.into_inner();
        let depot = match depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let report = self
            .ctx
            .store
            .check_integrity(&subtree)
            .await
            .map_err(status_of_store)?;
        Ok(Response::new(pb::CheckLedgerIntegrityResponse {
            lines_checked: report.lines_checked,
            entries_checked: report.entries_checked,
            issues: report
                .issues
                .into_iter()
                .map(|i| pb::IntegrityIssue {
                    depot_code: i.depot,
                    item_id: i.item,
                    lot_id: i.lot,
                    figure: i.figure.to_string(),
                    stored: i.stored,
                    recomputed: i.recomputed,
                })
                .collect(),
        }))
    }
}

impl StockApi {
    async fn count_or_404(
        &self,
        id: &str,
    ) -> Result<reserve_core::stock::count::StockCount, Status> {
        self.ctx
            .store
            .get_count(id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| not_found("stockCounts", id))
    }

    /// Who may decide a scrap application: a dispatcher or admin whose scope
    /// covers its depot; whether their tier owns the lot is decided in the store.
    async fn scrap_decider(&self, p: &Principal, id: &str) -> Result<Decider, Status> {
        Ctx::require(p, Action::ApproveScrap)?;
        let app = self
            .ctx
            .store
            .get_scrap(id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| not_found("scrapApplications", id))?;
        self.ctx.in_scope(p, &app.depot).await?;
        let scope = self
            .ctx
            .store
            .get_depot(&p.scope)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| {
                Status::permission_denied(format!("your scope depot {} does not exist", p.scope))
            })?;
        Ok(Decider {
            who: p.clone(),
            scope_tier: scope.tier,
        })
    }
}
