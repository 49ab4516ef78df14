//! Stock counts: open, record, submit, approve, cancel, get.

use super::wire::{counted_drafts, entry_pb};
use super::{Answer, StockApi};
use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use reserve_core::Violations;
use reserve_core::authz::Action;
use reserve_core::stock::count::{NewCount, parse_counted};
use reserve_core::stock::document::{DocAction, DocId};
use tonic::{Request, Response, Status};

pub(super) async fn open(
    api: &StockApi,
    req: Request<pb::OpenStockCountRequest>,
) -> Answer<pb::OpenStockCountResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = NewCount::parse(&(&msg).into());
    let method = StockApi::method("OpenStockCount");
    let (new, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .open_count(&meta, new)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::OpenStockCountResponse {
        count: Some(api.count_reply(&w.value).await?),
    }))
}

pub(super) async fn record(
    api: &StockApi,
    req: Request<pb::RecordCountLinesRequest>,
) -> Answer<pb::RecordCountLinesResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    // The count and the lines are checked together, every violation at once.
    let parsed = match (
        DocAction::parse(&(&msg).into()),
        parse_counted(&counted_drafts(&msg)),
    ) {
        (Ok(a), Ok(lines)) => Ok((a, lines)),
        (a, lines) => {
            let mut v = Violations::new();
            for e in [a.err(), lines.err()].into_iter().flatten() {
                for f in e.into_vec() {
                    v.add(f.field, f.description);
                }
            }
            Err(v)
        }
    };
    let method = StockApi::method("RecordCountLines");
    let ((a, lines), meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .record_count(&meta, a.id, lines, a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::RecordCountLinesResponse {
        count: Some(api.count_reply(&w.value).await?),
    }))
}

pub(super) async fn submit(
    api: &StockApi,
    req: Request<pb::SubmitStockCountRequest>,
) -> Answer<pb::SubmitStockCountResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("SubmitStockCount");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .submit_count(&meta, a.id, a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::SubmitStockCountResponse {
        count: Some(api.count_reply(&w.value).await?),
    }))
}

pub(super) async fn approve(
    api: &StockApi,
    req: Request<pb::ApproveStockCountRequest>,
) -> Answer<pb::ApproveStockCountResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::CountersignStock)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("ApproveStockCount");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .approve_count(&meta, a.id, a.text, a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::ApproveStockCountResponse {
        count: Some(api.count_reply(&w.value.count).await?),
        entries: w.value.entries.iter().map(entry_pb).collect(),
    }))
}

pub(super) async fn cancel(
    api: &StockApi,
    req: Request<pb::CancelStockCountRequest>,
) -> Answer<pb::CancelStockCountResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("CancelStockCount");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .cancel_count(&meta, a.id, a.text, a.etag)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::CancelStockCountResponse {
        count: Some(api.count_reply(&w.value).await?),
    }))
}

pub(super) async fn get(
    api: &StockApi,
    req: Request<pb::GetStockCountRequest>,
) -> Answer<pb::GetStockCountResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ReadStock)?;
    let id = DocId::parse(&req.into_inner().count_id).map_err(|e| invalid("count_id", e))?;
    let count = api
        .ctx
        .store
        .get_count(&id)
        .await
        .map_err(status_of_store)?
        .ok_or_else(|| Status::not_found(format!("stockCounts/{id} not found")))?;
    api.ctx.in_scope(&p, &count.depot).await?;
    Ok(Response::new(pb::GetStockCountResponse {
        count: Some(api.count_reply(&count).await?),
    }))
}
