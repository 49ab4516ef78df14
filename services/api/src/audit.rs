//! `reserve.v1.AuditService`: reading the audit log.

use crate::context::Ctx;
use crate::error::{invalid, status_of};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::audit_service_server::AuditService;
use crate::wire::{millis, page_size, role, timestamp};
use reserve_core::authz::{Action, Role};
use reserve_core::depot::DepotCode;
use reserve_core::text;
use reserve_store::audit::{AuditEvent, AuditFilter};
use tonic::{Request, Response, Status};

/// The audit service over a shared context.
#[derive(Clone, Debug)]
pub struct AuditApi {
    ctx: Ctx,
}

impl AuditApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }
}

fn event_pb(e: AuditEvent) -> pb::AuditEvent {
    pb::AuditEvent {
        sequence: e.seq,
        time: timestamp(e.occurred_at),
        actor: e.actor,
        actor_name: e.actor_name,
        actor_roles: e
            .actor_roles
            .split(',')
            .filter_map(Role::from_claim)
            .map(role)
            .collect(),
        method: e.method,
        resource: e.resource,
        depot_code: e.depot_code,
        request_id: e.request_id,
        changes: Some(crate::wire::json_struct(&e.changes)),
    }
}

fn optional_text(raw: &str, field: &str, max: usize) -> Result<Option<String>, Status> {
    let t = text::optional(raw, max).map_err(|e| invalid(field, e))?;
    Ok((!t.is_empty()).then_some(t))
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_events(
        &self,
        req: Request<pb::ListAuditEventsRequest>,
    ) -> Result<Response<pb::ListAuditEventsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadAudit)?;
        let pb::ListAuditEventsRequest {
            page_size: size,
            page_token,
            depot_code,
            actor,
            method,
            resource,
            start_time,
            end_time,
        } = req.into_inner();
        let size = page_size(size)?;
        let depot = match depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let start = millis(start_time.as_ref(), "start_time")?;
        let end = millis(end_time.as_ref(), "end_time")?;
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            return Err(invalid("end_time", "must be after start_time"));
        }
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let filter = AuditFilter {
            subtree,
            actor: optional_text(&actor, "actor", 200)?,
            method: optional_text(&method, "method", 200)?,
            resource: optional_text(&resource, "resource", 200)?,
            start,
            end,
        };
        let page = self
            .ctx
            .store
            .list_audit(&filter, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListAuditEventsResponse {
            events: page.items.into_iter().map(event_pb).collect(),
            next_page_token: page.next_token,
        }))
    }
}
