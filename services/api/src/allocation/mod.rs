//! `reserve.v1.AllocationService`: allocation orders from draft to closed.
//! Each RPC authenticates, parses the request into a core draft (every
//! broken field named), and hands it to the store, where core decides the
//! authority and the transition inside one transaction.

pub mod wire;

use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_kind, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::allocation_service_server::AllocationService;
use crate::wire::{millis, page_size};
use reserve_core::Failure;
use reserve_core::Violations;
use reserve_core::allocation::dispatch::DispatchNote;
use reserve_core::allocation::receive::Arrival;
use reserve_core::allocation::{NewOrder, OrderDraft, Priority, State};
use reserve_core::authz::Action;
use reserve_core::authz::allocation::order_reader;
use reserve_core::depot::DepotCode;
use reserve_core::request::Etag;
use reserve_core::stock::document::DocId;
use reserve_store::allocation::{OrderCommand, OrderFilter};
use tonic::{Request, Response, Status};
use wire::{arrivals, order_pb};

type Answer<T> = Result<Response<T>, Status>;

/// The allocation service over a shared context.
#[derive(Clone, Debug)]
pub struct AllocationApi {
    ctx: Ctx,
}

impl AllocationApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.AllocationService/{name}")
    }

    /// Runs an action on an order: parses the id and etag (with `parsed`,
    /// the action's own fields), then writes.
    #[allow(clippy::too_many_arguments)]
    async fn act<M: prost::Message>(
        &self,
        p: reserve_core::authz::Principal,
        name: &str,
        msg: &M,
        request_id: &str,
        (id_field, order_id): (&str, &str),
        etag: &str,
        parsed: Result<OrderCommand, Violations>,
    ) -> Result<pb::AllocationOrder, Status> {
        let mut v = Violations::new();
        let id = v.take(id_field, order_ref(order_id));
        let etag = v.take("etag", Etag::parse_optional(etag));
        let parsed = match parsed {
            Ok(c) if v.is_empty() => Ok(c),
            Ok(_) => Err(v),
            Err(mut own) => {
                for f in v.into_vec() {
                    own.add(f.field, f.description);
                }
                Err(own)
            }
        };
        let (command, meta) = self
            .ctx
            .write(p, request_id, &Self::method(name), msg, parsed)?;
        let (Some(id), Some(etag)) = (id, etag) else {
            return Err(Status::internal("parsed request lost its id"));
        };
        let w = self
            .ctx
            .store
            .act_on_order(&meta, &id, command, etag)
            .await
            .map_err(status_of)?;
        Ok(order_pb(&w.value))
    }
}

/// An order id, or its number (DB-2026-000123).
fn order_ref(raw: &str) -> Result<String, String> {
    let v = raw.trim();
    if v.starts_with("DB-")
        && v.len() <= 20
        && v[3..].bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        return Ok(v.to_string());
    }
    DocId::parse(v).map(|d| d.to_string())
}

fn text(field: &str, raw: &str, required: bool) -> Result<String, Violations> {
    let r = if required {
        reserve_core::text::required(raw, 500)
    } else {
        reserve_core::text::optional(raw, 500)
    };
    r.map_err(|e| Violations::one(field, e))
}

fn state_filter(raw: i32) -> Result<Option<State>, Status> {
    match raw {
        0 => Ok(None),
        n => State::from_number(i64::from(n))
            .map(Some)
            .ok_or_else(|| invalid("state", format!("{n} is not an order state"))),
    }
}

fn priority_filter(raw: i32) -> Result<Option<Priority>, Status> {
    match raw {
        0 => Ok(None),
        n => Priority::from_number(i64::from(n))
            .map(Some)
            .ok_or_else(|| invalid("priority", format!("{n} is not a priority"))),
    }
}

#[tonic::async_trait]
impl AllocationService for AllocationApi {
    async fn create_allocation_order(
        &self,
        req: Request<pb::CreateAllocationOrderRequest>,
    ) -> Answer<pb::CreateAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let msg = req.into_inner();
        let parsed = match &msg.order {
            Some(o) => NewOrder::parse(&OrderDraft::from(o), "order"),
            None => Err(Violations::one("order", "is required")),
        };
        let method = Self::method("CreateAllocationOrder");
        let (new, meta) = self.ctx.write(p, &msg.request_id, &method, &msg, parsed)?;
        let w = self
            .ctx
            .store
            .create_order(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateAllocationOrderResponse {
            order: Some(order_pb(&w.value)),
        }))
    }

    async fn get_allocation_order(
        &self,
        req: Request<pb::GetAllocationOrderRequest>,
    ) -> Answer<pb::GetAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = order_ref(&req.get_ref().order_id).map_err(|e| invalid("order_id", e))?;
        let Some((order, paths)) = self
            .ctx
            .store
            .get_order(&id)
            .await
            .map_err(status_of_store)?
        else {
            return Err(Status::not_found(format!(
                "allocationOrders/{id} not found"
            )));
        };
        let scope = self.ctx.scope_path(&p).await?;
        let touched: Vec<_> = paths.iter().map(|(c, path)| (c, path)).collect();
        order_reader(&p, Some(&scope), &touched).map_err(|d| status_of_kind(d.kind()))?;
        Ok(Response::new(pb::GetAllocationOrderResponse {
            order: Some(order_pb(&order)),
        }))
    }

    async fn list_allocation_orders(
        &self,
        req: Request<pb::ListAllocationOrdersRequest>,
    ) -> Answer<pb::ListAllocationOrdersResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let size = page_size(r.page_size)?;
        let filter = OrderFilter {
            subtree: Some(self.ctx.in_scope(&p, &depot).await?),
            state: state_filter(r.state)?,
            priority: priority_filter(r.priority)?,
            incident: match r.incident_id.trim() {
                "" => None,
                i => Some(
                    DocId::parse(i)
                        .map_err(|e| invalid("incident_id", e))?
                        .to_string(),
                ),
            },
            from: millis(r.start_time.as_ref(), "start_time")?,
            to: millis(r.end_time.as_ref(), "end_time")?,
        };
        let page = self
            .ctx
            .store
            .list_orders(&filter, size, &r.page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListAllocationOrdersResponse {
            orders: page.items.iter().map(order_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn amend_allocation_order(
        &self,
        req: Request<pb::AmendAllocationOrderRequest>,
    ) -> Answer<pb::AmendAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let msg = req.into_inner();
        let order = msg.order.clone().unwrap_or_default();
        let parsed = match &msg.order {
            Some(o) => NewOrder::parse(&OrderDraft::from(o), "order").map(OrderCommand::Amend),
            None => Err(Violations::one("order", "is required")),
        };
        let o = self
            .act(
                p,
                "AmendAllocationOrder",
                &msg,
                &msg.request_id,
                ("order.id", &order.id),
                &msg.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::AmendAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn submit_allocation_order(
        &self,
        req: Request<pb::SubmitAllocationOrderRequest>,
    ) -> Answer<pb::SubmitAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let o = self
            .act(
                p,
                "SubmitAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                Ok(OrderCommand::Submit),
            )
            .await?;
        Ok(Response::new(pb::SubmitAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn approve_allocation_order(
        &self,
        req: Request<pb::ApproveAllocationOrderRequest>,
    ) -> Answer<pb::ApproveAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let note = text("note", &m.note, false);
        let why = if m.override_upkeep_overdue {
            text("upkeep_override_reason", &m.upkeep_override_reason, true)
                .map(Some)
                .map_err(|_| {
                    Violations::one(
                        "upkeep_override_reason",
                        "is required when override_upkeep_overdue is set",
                    )
                })
        } else {
            Ok(None)
        };
        let parsed = match (note, why) {
            (Ok(n), Ok(w)) => Ok(OrderCommand::Approve(n, w)),
            (Err(mut a), Err(b)) => {
                for v in b.into_vec() {
                    a.add(v.field, v.description);
                }
                Err(a)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        let o = self
            .act(
                p,
                "ApproveAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::ApproveAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn reject_allocation_order(
        &self,
        req: Request<pb::RejectAllocationOrderRequest>,
    ) -> Answer<pb::RejectAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = text("reason", &m.reason, true).map(OrderCommand::Reject);
        let o = self
            .act(
                p,
                "RejectAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::RejectAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn dispatch_allocation_order(
        &self,
        req: Request<pb::DispatchAllocationOrderRequest>,
    ) -> Answer<pb::DispatchAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = DispatchNote::parse(&(&m).into()).map(OrderCommand::Dispatch);
        let o = self
            .act(
                p,
                "DispatchAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::DispatchAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn receive_allocation_order(
        &self,
        req: Request<pb::ReceiveAllocationOrderRequest>,
    ) -> Answer<pb::ReceiveAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = Arrival::parse_all(&arrivals(&m)).map(OrderCommand::Receive);
        let o = self
            .act(
                p,
                "ReceiveAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::ReceiveAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn close_allocation_order(
        &self,
        req: Request<pb::CloseAllocationOrderRequest>,
    ) -> Answer<pb::CloseAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = text("note", &m.note, false).map(OrderCommand::Close);
        let o = self
            .act(
                p,
                "CloseAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::CloseAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn cancel_allocation_order(
        &self,
        req: Request<pb::CancelAllocationOrderRequest>,
    ) -> Answer<pb::CancelAllocationOrderResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = text("reason", &m.reason, true).map(OrderCommand::Cancel);
        let o = self
            .act(
                p,
                "CancelAllocationOrder",
                &m,
                &m.request_id,
                ("order_id", &m.order_id),
                &m.etag,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::CancelAllocationOrderResponse {
            order: Some(o),
        }))
    }

    async fn list_overdue_backfills(
        &self,
        req: Request<pb::ListOverdueBackfillsRequest>,
    ) -> Answer<pb::ListOverdueBackfillsResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let size = page_size(r.page_size)?;
        let path = self.ctx.in_scope(&p, &depot).await?;
        let page = self
            .ctx
            .store
            .list_overdue_backfills(&path, self.ctx.clock.now(), size, &r.page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListOverdueBackfillsResponse {
            orders: page.items.iter().map(order_pb).collect(),
            next_page_token: page.next_token,
        }))
    }
}
