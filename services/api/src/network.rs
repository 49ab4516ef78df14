//! `reserve.v1.NetworkService`: the depot tree.

use crate::context::Ctx;
use crate::error::{invalid, invalid_all, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::network_service_server::NetworkService;
use crate::wire::{page_size, tier, tier_filter, timestamp};
use reserve_core::authz::{Action, Principal};
use reserve_core::depot::{
    ContactDraft, Depot, DepotCode, DepotDraft, DepotPatch, DepotStatus, NewDepot,
};
use reserve_core::request::Etag;
use reserve_core::text;
use reserve_store::network::DepotFilter;
use tonic::{Code, Request, Response, Status};

/// The network service over a shared context.
#[derive(Clone, Debug)]
pub struct NetworkApi {
    ctx: Ctx,
}

impl NetworkApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }
}

const SERVICE: &str = "/reserve.v1.NetworkService/";

/// A stored depot on the wire.
pub fn depot_pb(d: &Depot) -> pb::Depot {
    pb::Depot {
        code: d.code.as_str().to_string(),
        name: d.name.clone(),
        tier: tier(d.tier),
        parent_code: d
            .parent
            .as_ref()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        division_code: d.division.as_str().to_string(),
        location: Some(crate::wire::place_pb(&d.location, &d.address)),
        storage_area_m2: d.storage_area_m2,
        operating_unit: d.operating_unit.clone(),
        owning_tier: tier(d.owning_tier),
        duty_contacts: d
            .contacts
            .iter()
            .map(|c| pb::Contact {
                name: c.name.clone(),
                duty: c.duty.clone(),
                phone: c.phone.clone(),
            })
            .collect(),
        status: status_pb(d.status),
        etag: Etag::of(d.version).to_string(),
        create_time: timestamp(d.created_at),
        update_time: timestamp(d.updated_at),
    }
}

fn status_pb(s: DepotStatus) -> i32 {
    match s {
        DepotStatus::Active => pb::DepotStatus::Active as i32,
        DepotStatus::Suspended => pb::DepotStatus::Suspended as i32,
        DepotStatus::Closed => pb::DepotStatus::Closed as i32,
    }
}

/// A wire depot as a draft. Every field is named so that a new proto field
/// fails to compile here until it is handled.
pub fn draft_of(d: &pb::Depot) -> DepotDraft {
    let pb::Depot {
        code,
        name,
        tier,
        parent_code,
        division_code,
        location,
        storage_area_m2,
        operating_unit,
        owning_tier,
        duty_contacts,
        status,
        etag: _,
        create_time: _,
        update_time: _,
    } = d;
    DepotDraft {
        code: code.trim().to_string(),
        name: name.clone(),
        tier: *tier,
        parent_code: parent_code.trim().to_string(),
        division_code: division_code.clone(),
        latitude: location
            .as_ref()
            .and_then(|l| l.lat_lng.as_ref())
            .map(|l| l.latitude)
            .unwrap_or_default(),
        longitude: location
            .as_ref()
            .and_then(|l| l.lat_lng.as_ref())
            .map(|l| l.longitude)
            .unwrap_or_default(),
        address: location
            .as_ref()
            .map(|l| l.address.clone())
            .unwrap_or_default(),
        storage_area_m2: *storage_area_m2,
        operating_unit: operating_unit.clone(),
        owning_tier: *owning_tier,
        contacts: duty_contacts
            .iter()
            .map(|c| ContactDraft {
                name: c.name.clone(),
                duty: c.duty.clone(),
                phone: c.phone.clone(),
            })
            .collect(),
        status: *status,
    }
}

fn code_of(raw: &str, field: &str) -> Result<DepotCode, Status> {
    DepotCode::parse(raw.trim()).map_err(|e| invalid(field, e))
}

fn etag_of(raw: &str, field: &str) -> Result<Option<i64>, Status> {
    Etag::parse_optional(raw)
        .map(|e| e.map(Etag::version))
        .map_err(|e| invalid(field, e))
}

impl NetworkApi {
    /// Checks that a parent named in a request may be used by the caller: it
    /// exists (else the field is invalid) and lies in the caller's scope.
    async fn parent_in_scope(&self, p: &Principal, parent: &DepotCode) -> Result<(), Status> {
        match self.ctx.in_scope(p, parent).await {
            Err(s) if s.code() == Code::NotFound => Err(invalid(
                "depot.parent_code",
                format!("no depot has code {parent}"),
            )),
            other => other.map(|_| ()),
        }
    }
}

#[tonic::async_trait]
impl NetworkService for NetworkApi {
    async fn create_depot(
        &self,
        req: Request<pb::CreateDepotRequest>,
    ) -> Result<Response<pb::CreateDepotResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::WriteNetwork)?;
        let msg = req.into_inner();
        let d = msg
            .depot
            .as_ref()
            .ok_or_else(|| invalid("depot", "is required"))?;
        let new = NewDepot::parse(&draft_of(d)).map_err(|v| invalid_all(v.prefixed("depot")))?;
        match &new.parent {
            None if p.scope != new.code => {
                return Err(Status::permission_denied(format!(
                    "a provincial sub-depot can only be created by an admin whose scope depot is that depot ({}); yours is {}",
                    new.code, p.scope
                )));
            }
            None => {}
            Some(parent) => self.parent_in_scope(&p, parent).await?,
        }
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &format!("{SERVICE}CreateDepot"), &msg)?;
        let w = self
            .ctx
            .store
            .create_depot(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateDepotResponse {
            depot: Some(depot_pb(&w.value)),
        }))
    }

    async fn get_depot(
        &self,
        req: Request<pb::GetDepotRequest>,
    ) -> Result<Response<pb::GetDepotResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadNetwork)?;
        let pb::GetDepotRequest { code } = req.into_inner();
        let code = code_of(&code, "code")?;
        self.ctx.in_scope(&p, &code).await?;
        let depot = self
            .ctx
            .store
            .get_depot(&code)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| Status::not_found(format!("depots/{code} not found")))?;
        Ok(Response::new(pb::GetDepotResponse {
            depot: Some(depot_pb(&depot)),
        }))
    }

    async fn list_depots(
        &self,
        req: Request<pb::ListDepotsRequest>,
    ) -> Result<Response<pb::ListDepotsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadNetwork)?;
        let pb::ListDepotsRequest {
            page_size: size,
            page_token,
            tier,
            parent_code,
            status,
            division_code_prefix,
        } = req.into_inner();
        let size = page_size(size)?;
        let tier = tier_filter(tier, "tier")?;
        let status = match status {
            0 => None,
            n => Some(
                DepotStatus::from_number(i64::from(n))
                    .ok_or_else(|| invalid("status", format!("{n} is not a depot status")))?,
            ),
        };
        let prefix = division_code_prefix.trim();
        if prefix.len() > 9 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("division_code_prefix", "must be up to 9 digits"));
        }
        let parent = match parent_code.trim() {
            "" => None,
            c => {
                let c = code_of(c, "parent_code")?;
                self.ctx.in_scope(&p, &c).await?;
                Some(c)
            }
        };
        let scope = self.ctx.scope_path(&p).await?;
        let filter = DepotFilter {
            tier,
            parent,
            status,
            division_prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        };
        let page = self
            .ctx
            .store
            .list_depots(&scope, &filter, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListDepotsResponse {
            depots: page.items.iter().map(depot_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn update_depot(
        &self,
        req: Request<pb::UpdateDepotRequest>,
    ) -> Result<Response<pb::UpdateDepotResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::WriteNetwork)?;
        let msg = req.into_inner();
        let d = msg
            .depot
            .as_ref()
            .ok_or_else(|| invalid("depot", "is required"))?;
        let code = code_of(&d.code, "depot.code")?;
        let etag = etag_of(&d.etag, "depot.etag")?;
        let mask: Vec<String> = msg
            .update_mask
            .as_ref()
            .map(|m| m.paths.iter().map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        self.ctx.in_scope(&p, &code).await?;
        if mask.iter().any(|m| m == "parent_code") && !d.parent_code.trim().is_empty() {
            let parent = code_of(&d.parent_code, "depot.parent_code")?;
            self.parent_in_scope(&p, &parent).await?;
        }
        let patch = DepotPatch {
            mask,
            values: draft_of(d),
        };
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &format!("{SERVICE}UpdateDepot"), &msg)?;
        let w = self
            .ctx
            .store
            .update_depot(&meta, code, etag, patch)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::UpdateDepotResponse {
            depot: Some(depot_pb(&w.value)),
        }))
    }

    async fn close_depot(
        &self,
        req: Request<pb::CloseDepotRequest>,
    ) -> Result<Response<pb::CloseDepotResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::WriteNetwork)?;
        let msg = req.into_inner();
        let code = code_of(&msg.code, "code")?;
        let etag = etag_of(&msg.etag, "etag")?;
        let reason = text::required(&msg.reason, 500).map_err(|e| invalid("reason", e))?;
        self.ctx.in_scope(&p, &code).await?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &format!("{SERVICE}CloseDepot"), &msg)?;
        let w = self
            .ctx
            .store
            .close_depot(&meta, code, etag, reason)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CloseDepotResponse {
            depot: Some(depot_pb(&w.value)),
        }))
    }

    async fn list_descendants(
        &self,
        req: Request<pb::ListDescendantsRequest>,
    ) -> Result<Response<pb::ListDescendantsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadNetwork)?;
        let pb::ListDescendantsRequest {
            code,
            page_size: size,
            page_token,
        } = req.into_inner();
        let code = code_of(&code, "code")?;
        let size = page_size(size)?;
        let root = self.ctx.in_scope(&p, &code).await?;
        let page = self
            .ctx
            .store
            .list_descendants(&root, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListDescendantsResponse {
            depots: page.items.iter().map(depot_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_ancestors(
        &self,
        req: Request<pb::ListAncestorsRequest>,
    ) -> Result<Response<pb::ListAncestorsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadNetwork)?;
        let pb::ListAncestorsRequest { code } = req.into_inner();
        let code = code_of(&code, "code")?;
        let path = self.ctx.in_scope(&p, &code).await?;
        let refs = self
            .ctx
            .store
            .ancestors(&path)
            .await
            .map_err(status_of_store)?;
        Ok(Response::new(pb::ListAncestorsResponse {
            ancestors: refs
                .into_iter()
                .map(|r| pb::DepotRef {
                    code: r.code.as_str().to_string(),
                    name: r.name,
                    tier: tier(r.tier),
                })
                .collect(),
        }))
    }
}
