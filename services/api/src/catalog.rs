//! `reserve.v1.CatalogService`: items and reserve norms.

use crate::context::Ctx;
use crate::error::{invalid, invalid_all, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::catalog_service_server::CatalogService;
use crate::wire::{page_size, timestamp};
use reserve_core::authz::Action;
use reserve_core::depot::DepotCode;
use reserve_core::item::{Item, ItemDraft, ItemId, NewItem, Tracking, parse_code_prefix};
use reserve_core::norm::{NewNorm, ReserveNorm};
use reserve_core::request::Etag;
use reserve_store::catalog::{ItemFilter, NormFilter};
use tonic::{Request, Response, Status};

/// The catalogue service over a shared context.
#[derive(Clone, Debug)]
pub struct CatalogApi {
    ctx: Ctx,
}

impl CatalogApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }
}

const SERVICE: &str = "/reserve.v1.CatalogService/";

fn tracking_pb(t: Tracking) -> i32 {
    match t {
        Tracking::Lot => pb::TrackingMode::Lot as i32,
        Tracking::Serial => pb::TrackingMode::Serial as i32,
    }
}

/// A stored item on the wire.
pub fn item_pb(i: &Item) -> pb::Item {
    pb::Item {
        id: i.id.as_str().to_string(),
        code: i.code.as_str().to_string(),
        name: i.name.clone(),
        specification: i.specification.clone(),
        unit: i.unit.clone(),
        tracking: tracking_pb(i.tracking),
        shelf_life_days: i.shelf_life_days,
        quality_test_interval_days: i.quality_test_interval_days,
        near_expiry_days: Some(i.near_expiry_days),
        upkeep_interval_days: i.upkeep_interval_days,
        recoverable: i.recoverable,
        leasable: i.leasable,
        unit_value_fen: i.unit_value_fen,
        volume_per_unit_cm3: i.volume_per_unit_cm3,
        owner_depot_code: i.owner.as_str().to_string(),
        etag: Etag::of(i.version).to_string(),
        create_time: timestamp(i.created_at),
        update_time: timestamp(i.updated_at),
    }
}

/// A wire item as a draft; every field named so new ones must be handled.
pub fn draft_of(i: &pb::Item) -> ItemDraft {
    let pb::Item {
        id,
        code,
        name,
        specification,
        unit,
        tracking,
        shelf_life_days,
        quality_test_interval_days,
        near_expiry_days,
        upkeep_interval_days,
        recoverable,
        leasable,
        unit_value_fen,
        volume_per_unit_cm3,
        owner_depot_code: _,
        etag: _,
        create_time: _,
        update_time: _,
    } = i;
    ItemDraft {
        id: id.trim().to_string(),
        code: code.clone(),
        name: name.clone(),
        specification: specification.clone(),
        unit: unit.clone(),
        tracking: *tracking,
        shelf_life_days: *shelf_life_days,
        quality_test_interval_days: *quality_test_interval_days,
        near_expiry_days: *near_expiry_days,
        upkeep_interval_days: *upkeep_interval_days,
        recoverable: *recoverable,
        leasable: *leasable,
        unit_value_fen: *unit_value_fen,
        volume_per_unit_cm3: *volume_per_unit_cm3,
    }
}

/// A stored norm on the wire.
pub fn norm_pb(n: &ReserveNorm) -> pb::ReserveNorm {
    pb::ReserveNorm {
        depot_code: n.depot.as_str().to_string(),
        item_id: n.item.as_str().to_string(),
        minimum: n.minimum,
        target: n.target,
        etag: Etag::of(n.version).to_string(),
        update_time: timestamp(n.updated_at),
    }
}

fn item_id_of(raw: &str, field: &str) -> Result<ItemId, Status> {
    ItemId::parse(raw.trim()).map_err(|e| invalid(field, e))
}

fn etag_of(raw: &str, field: &str) -> Result<Option<i64>, Status> {
    Etag::parse_optional(raw)
        .map(|e| e.map(Etag::version))
        .map_err(|e| invalid(field, e))
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn create_item(
        &self,
        req: Request<pb::CreateItemRequest>,
    ) -> Result<Response<pb::CreateItemResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::WriteCatalog)?;
        let msg = req.into_inner();
        let i = msg
            .item
            .as_ref()
            .ok_or_else(|| invalid("item", "is required"))?;
        let new = NewItem::parse(&draft_of(i)).map_err(|v| invalid_all(v.prefixed("item")))?;
        self.ctx.scope_path(&p).await?;
        let owner = p.scope.clone();
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &format!("{SERVICE}CreateItem"), &msg)?;
        let w = self
            .ctx
            .store
            .create_item(&meta, new, owner)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateItemResponse {
            item: Some(item_pb(&w.value)),
        }))
    }

    async fn get_item(
        &self,
        req: Request<pb::GetItemRequest>,
    ) -> Result<Response<pb::GetItemResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadCatalog)?;
        let pb::GetItemRequest { id } = req.into_inner();
        let id = item_id_of(&id, "id")?;
        let item = self
            .ctx
            .store
            .get_item(&id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| Status::not_found(format!("items/{id} not found")))?;
        Ok(Response::new(pb::GetItemResponse {
            item: Some(item_pb(&item)),
        }))
    }

    async fn list_items(
        &self,
        req: Request<pb::ListItemsRequest>,
    ) -> Result<Response<pb::ListItemsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadCatalog)?;
        let pb::ListItemsRequest {
            page_size: size,
            page_token,
            code_prefix,
            tracking,
        } = req.into_inner();
        let size = page_size(size)?;
        let code_prefix = match code_prefix.trim() {
            "" => None,
            c => Some(parse_code_prefix(c).map_err(|e| invalid("code_prefix", e))?),
        };
        let tracking = match tracking {
            0 => None,
            n => Some(
                Tracking::from_number(i64::from(n))
                    .ok_or_else(|| invalid("tracking", format!("{n} is not a tracking mode")))?,
            ),
        };
        let page = self
            .ctx
            .store
            .list_items(
                &ItemFilter {
                    code_prefix,
                    tracking,
                },
                size,
                &page_token,
            )
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListItemsResponse {
            items: page.items.iter().map(item_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn update_item(
        &self,
        req: Request<pb::UpdateItemRequest>,
    ) -> Result<Response<pb::UpdateItemResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::WriteCatalog)?;
        let msg = req.into_inner();
        let i = msg
            .item
            .as_ref()
            .ok_or_else(|| invalid("item", "is required"))?;
        let id = item_id_of(&i.id, "item.id")?;
        let etag = etag_of(&i.etag, "item.etag")?;
        let mask: Vec<String> = msg
            .update_mask
            .as_ref()
            .map(|m| m.paths.iter().map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        let current = self
            .ctx
            .store
            .get_item(&id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| Status::not_found(format!("items/{id} not found")))?;
        self.ctx.in_scope(&p, &current.owner).await.map_err(|s| {
            if s.code() == tonic::Code::PermissionDenied {
                Status::permission_denied(format!(
                    "item {id} is maintained by depot {}, outside your scope ({} and below)",
                    current.owner, p.scope
                ))
            } else {
                s
            }
        })?;
        let meta =
            self.ctx
                .write_meta(p, &msg.request_id, &format!("{SERVICE}UpdateItem"), &msg)?;
        let w = self
            .ctx
            .store
            .update_item(&meta, id, etag, mask, draft_of(i))
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::UpdateItemResponse {
            item: Some(item_pb(&w.value)),
        }))
    }

    async fn set_reserve_norm(
        &self,
        req: Request<pb::SetReserveNormRequest>,
    ) -> Result<Response<pb::SetReserveNormResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::WriteNorms)?;
        let msg = req.into_inner();
        let n = msg
            .norm
            .as_ref()
            .ok_or_else(|| invalid("norm", "is required"))?;
        let pb::ReserveNorm {
            depot_code,
            item_id,
            minimum,
            target,
            etag,
            update_time: _,
        } = n;
        let norm = NewNorm::parse(depot_code.trim(), item_id.trim(), *minimum, *target)
            .map_err(|v| invalid_all(v.prefixed("norm")))?;
        let etag = etag_of(etag, "norm.etag")?;
        self.ctx.in_scope(&p, &norm.depot).await?;
        let meta = self.ctx.write_meta(
            p,
            &msg.request_id,
            &format!("{SERVICE}SetReserveNorm"),
            &msg,
        )?;
        let w = self
            .ctx
            .store
            .set_norm(&meta, norm, etag)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::SetReserveNormResponse {
            norm: Some(norm_pb(&w.value)),
        }))
    }

    async fn list_reserve_norms(
        &self,
        req: Request<pb::ListReserveNormsRequest>,
    ) -> Result<Response<pb::ListReserveNormsResponse>, Status> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadNorms)?;
        let pb::ListReserveNormsRequest {
            depot_code,
            include_descendants,
            item_id,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let depot = match depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let item = match item_id.trim() {
            "" => None,
            i => Some(item_id_of(i, "item_id")?),
        };
        let path = self.ctx.in_scope(&p, &depot).await?;
        let filter = NormFilter {
            depot: path,
            descendants: include_descendants,
            item,
        };
        let page = self
            .ctx
            .store
            .list_norms(&filter, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListReserveNormsResponse {
            norms: page.items.iter().map(norm_pb).collect(),
            next_page_token: page.next_token,
        }))
    }
}
