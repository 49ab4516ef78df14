//! Scrap applications: applied for by a keeper, decided by the owning tier.

use super::adjustment::approval_filter;
use super::wire::{entry_pb, scrap_pb};
use super::{Answer, StockApi};
use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::wire::page_size;
use reserve_core::authz::Action;
use reserve_core::stock::document::{DocAction, DocId};
use reserve_core::stock::scrap::NewScrap;
use tonic::{Request, Response, Status};

pub(super) async fn create(
    api: &StockApi,
    req: Request<pb::CreateScrapApplicationRequest>,
) -> Answer<pb::CreateScrapApplicationResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = NewScrap::parse(&(&msg).into());
    let method = StockApi::method("CreateScrapApplication");
    let (new, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .create_scrap(&meta, new)
        .await
        .map_err(status_of)?;
    let v = &w.value;
    // Answers recorded before `entries` existed carry only `entry`.
    let holds: Vec<_> = if v.entries.is_empty() {
        v.entry.iter().collect()
    } else {
        v.entries.iter().collect()
    };
    Ok(Response::new(pb::CreateScrapApplicationResponse {
        application: Some(scrap_pb(&v.application)),
        hold_entry: v.entry.as_ref().map(entry_pb),
        hold_entries: holds.into_iter().map(entry_pb).collect(),
    }))
}

pub(super) async fn approve(
    api: &StockApi,
    req: Request<pb::ApproveScrapApplicationRequest>,
) -> Answer<pb::ApproveScrapApplicationResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ApproveScrap)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("ApproveScrapApplication");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .decide_scrap(&meta, a.id.clone(), a.approve(), a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::ApproveScrapApplicationResponse {
        application: Some(scrap_pb(&w.value.application)),
        entry: w.value.entry.as_ref().map(entry_pb),
    }))
}

pub(super) async fn reject(
    api: &StockApi,
    req: Request<pb::RejectScrapApplicationRequest>,
) -> Answer<pb::RejectScrapApplicationResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ApproveScrap)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("RejectScrapApplication");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .decide_scrap(&meta, a.id.clone(), a.reject(), a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::RejectScrapApplicationResponse {
        application: Some(scrap_pb(&w.value.application)),
        entry: w.value.entry.as_ref().map(entry_pb),
    }))
}

pub(super) async fn get(
    api: &StockApi,
    req: Request<pb::GetScrapApplicationRequest>,
) -> Answer<pb::GetScrapApplicationResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ReadStock)?;
    let id =
        DocId::parse(&req.into_inner().application_id).map_err(|e| invalid("application_id", e))?;
    let a = api
        .ctx
        .store
        .get_scrap(&id)
        .await
        .map_err(status_of_store)?
        .ok_or_else(|| Status::not_found(format!("scrapApplications/{id} not found")))?;
    api.ctx.in_scope(&p, &a.depot).await?;
    Ok(Response::new(pb::GetScrapApplicationResponse {
        application: Some(scrap_pb(&a)),
    }))
}

pub(super) async fn list(
    api: &StockApi,
    req: Request<pb::ListScrapApplicationsRequest>,
) -> Answer<pb::ListScrapApplicationsResponse> {
    let p = Ctx::principal(&req)?;
    let pb::ListScrapApplicationsRequest {
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
        .list_scraps(&path, status, size, &page_token)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::ListScrapApplicationsResponse {
        applications: page.items.iter().map(scrap_pb).collect(),
        next_page_token: page.next_token,
    }))
}
