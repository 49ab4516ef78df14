//! Receipts, issues, holds, releases and reversals.

use super::{Answer, StockApi};
use crate::context::Ctx;
use crate::error::status_of;
use crate::pb::reserve::v1 as pb;
use reserve_core::authz::Action;
use reserve_core::stock::document::DocAction;
use reserve_core::stock::hold::{Hold, Release};
use reserve_core::stock::issue::Issue;
use reserve_core::stock::receipt::Receipt;
use tonic::{Request, Response};

pub(super) async fn receive(
    api: &StockApi,
    req: Request<pb::ReceiveStockRequest>,
) -> Answer<pb::ReceiveStockResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let mut msg = req.into_inner();
    // Checking is not a different request: the fingerprint is the post's,
    // so a check finds the receipt its request id already posted.
    let validate_only = std::mem::take(&mut msg.validate_only);
    let mut draft: reserve_core::stock::receipt::ReceiptDraft = (&msg).into();
    let link = requisition_link(&msg, &mut draft);
    let parsed = match (Receipt::parse(&draft, api.ctx.clock.now()), link) {
        (Ok(r), Ok(l)) => Ok((r, l)),
        (Err(mut a), Err(b)) => {
            for f in b.into_vec() {
                a.add(f.field, f.description);
            }
            Err(a)
        }
        (Err(a), _) | (_, Err(a)) => Err(a),
    };
    let method = StockApi::method("ReceiveStock");
    let ((r, link), meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    if validate_only {
        // Every rule checked on the rows as they are; nothing posted or
        // recorded, so the same request id may post it afterwards.
        let earlier = api
            .ctx
            .store
            .validate_receipt(&meta, &r)
            .await
            .map_err(status_of)?;
        let Some(posted) = earlier else {
            return Ok(Response::new(pb::ReceiveStockResponse::default()));
        };
        let (mut entries, mut lines) = api.posted(&posted);
        return Ok(Response::new(pb::ReceiveStockResponse {
            entry: entries.pop(),
            line: lines.pop(),
        }));
    }
    let w = match link {
        Some(link) => api.ctx.store.receive_requisitioned(&meta, r, link).await,
        None => api.ctx.store.receive(&meta, r).await,
    }
    .map_err(status_of)?;
    let (mut entries, mut lines) = api.posted(&w.value);
    Ok(Response::new(pb::ReceiveStockResponse {
        entry: entries.pop(),
        line: lines.pop(),
    }))
}

/// The requisition line requisitioned goods are received for; the funding
/// source defaults to requisition when one is named.
fn requisition_link(
    msg: &pb::ReceiveStockRequest,
    draft: &mut reserve_core::stock::receipt::ReceiptDraft,
) -> Result<Option<(String, u32)>, reserve_core::Violations> {
    let id = msg.requisition_id.trim();
    let requisition = reserve_core::stock::FundingSource::Requisition.number() as i32;
    if id.is_empty() {
        if msg.requisition_line_number != 0 {
            return Err(reserve_core::Violations::one(
                "requisition_id",
                "is required with requisition_line_number",
            ));
        }
        return Ok(None);
    }
    let mut v = reserve_core::Violations::new();
    if id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        v.add(
            "requisition_id",
            "must be a requisition id or number (ZY-2026-000001)",
        );
    }
    if !(1..=200).contains(&msg.requisition_line_number) {
        v.add(
            "requisition_line_number",
            "must be 1 to 200: the requisition's line",
        );
    }
    match draft.funding {
        0 => draft.funding = requisition,
        f if f == requisition => {}
        _ => v.add(
            "funding_source",
            "must be REQUISITION (or unset) for goods received against a requisition",
        ),
    }
    v.finish(|| Some((id.to_string(), msg.requisition_line_number as u32)))
}

pub(super) async fn issue(
    api: &StockApi,
    req: Request<pb::IssueStockRequest>,
) -> Answer<pb::IssueStockResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = Issue::parse(&(&msg).into(), api.ctx.clock.now());
    let method = StockApi::method("IssueStock");
    let (issue, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api.ctx.store.issue(&meta, issue).await.map_err(status_of)?;
    let (entries, lines) = api.posted(&w.value);
    Ok(Response::new(pb::IssueStockResponse { entries, lines }))
}

pub(super) async fn hold(
    api: &StockApi,
    req: Request<pb::HoldStockRequest>,
) -> Answer<pb::HoldStockResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = Hold::parse(&(&msg).into());
    let method = StockApi::method("HoldStock");
    let (hold, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api.ctx.store.hold(&meta, hold).await.map_err(status_of)?;
    let (entries, lines) = api.posted(&w.value);
    Ok(Response::new(pb::HoldStockResponse { entries, lines }))
}

pub(super) async fn release(
    api: &StockApi,
    req: Request<pb::ReleaseStockRequest>,
) -> Answer<pb::ReleaseStockResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = Release::parse(&(&msg).into());
    let method = StockApi::method("ReleaseStock");
    let (release, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .release(&meta, release)
        .await
        .map_err(status_of)?;
    let (entries, lines) = api.posted(&w.value);
    Ok(Response::new(pb::ReleaseStockResponse { entries, lines }))
}

pub(super) async fn reverse(
    api: &StockApi,
    req: Request<pb::ReverseEntryRequest>,
) -> Answer<pb::ReverseEntryResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::MoveStock)?;
    let msg = req.into_inner();
    let parsed = DocAction::parse(&(&msg).into());
    let method = StockApi::method("ReverseEntry");
    let (a, meta) = api.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
    let w = api
        .ctx
        .store
        .reverse(&meta, a.id, a.text)
        .await
        .map_err(status_of)?;
    let (mut entries, mut lines) = api.posted(&w.value);
    Ok(Response::new(pb::ReverseEntryResponse {
        entry: entries.pop(),
        line: lines.pop(),
    }))
}
