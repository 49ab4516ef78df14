//! Adjustments: proposed by a keeper, countersigned by someone else.

use super::wire::{adjustment_pb, entry_pb, line_pb};
use super::{Answer, StockApi};
use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::wire::page_size;
use reserve_core::authz::Action;
use reserve_core::stock::ApprovalStatus;
use reserve_core::stock::adjustment::NewAdjustment;
use reserve_core::stock::document::{DocAction, DocId};
use tonic::{Request, Response, Status};

pub(super) fn approval_filter(raw: i32) -> Result<Option<ApprovalStatus>, Status> {
    match raw {
        0 => Ok(None),
        n => ApprovalStatus::from_number(i64::from(n))
            .map(Some)
            .ok_or_else(|| invalid("status", format!("{n} is not an approval status"))),
    }
}

pub(super) async fn create(
    api: &StockApi,
    req: Request<pb::CreateAdjustmentRequest>,
) -> Answer<pb::CreateAdjustmentResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = NewAdjustment::parse(&(&msg).into());
    let method = StockApi::method("CreateAdjustment");
    let (new, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .create_adjustment(&meta, new)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::CreateAdjustmentResponse {
        adjustment: Some(adjustment_pb(&w.value)),
    }))
}

pub(super) async fn approve(
    api: &StockApi,
    req: Request<pb::ApproveAdjustmentRequest>,
) -> Answer<pb::ApproveAdjustmentResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::CountersignStock)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("ApproveAdjustment");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .decide_adjustment(&meta, a.id.clone(), a.approve(), a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::ApproveAdjustmentResponse {
        adjustment: Some(adjustment_pb(&w.value.adjustment)),
        entry: w.value.entry.as_ref().map(entry_pb),
        line: w.value.line.as_ref().map(|l| line_pb(l, api.today())),
    }))
}

pub(super) async fn reject(
    api: &StockApi,
    req: Request<pb::RejectAdjustmentRequest>,
) -> Answer<pb::RejectAdjustmentResponse> {
    let p = Ctx::principal(&req)?;
    // Its author withdraws it as a keeper; others need to countersign.
    Ctx::require(&p, Action::CountersignStock)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("RejectAdjustment");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .decide_adjustment(&meta, a.id.clone(), a.reject(), a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::RejectAdjustmentResponse {
        adjustment: Some(adjustment_pb(&w.value.adjustment)),
    }))
}

pub(super) async fn get(
    api: &StockApi,
    req: Request<pb::GetAdjustmentRequest>,
) -> Answer<pb::GetAdjustmentResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ReadStock)?;
    let id =
        DocId::parse(&req.into_inner().adjustment_id).map_err(|e| invalid("adjustment_id", e))?;
    let a = api
        .ctx
        .store
        .get_adjustment(&id)
        .await
        .map_err(status_of_store)?
        .ok_or_else(|| Status::not_found(format!("adjustments/{id} not found")))?;
    api.ctx.in_scope(&p, &a.depot).await?;
    Ok(Response::new(pb::GetAdjustmentResponse {
        adjustment: Some(adjustment_pb(&a)),
    }))
}

pub(super) async fn list(
    api: &StockApi,
    req: Request<pb::ListAdjustmentsRequest>,
) -> Answer<pb::ListAdjustmentsResponse> {
    let p = Ctx::principal(&req)?;
    let pb::ListAdjustmentsRequest {
        depot_code,
        status,
        page_size: size,
        page_token,
    } = req.into_inner();
    let size = page_size(size)?;
    let status = approval_filter(status)?;
    let (_, path) = api.readable(&p, &depot_code).await?;
    let page = api
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
