//! Lookups: stock lines, lots, ledger entries and assets.

use super::wire::{asset_pb, entry_pb, line_pb, lot_pb};
use super::{Answer, StockApi, optional_item};
use crate::context::Ctx;
use crate::error::{invalid, invalid_all, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::wire::{millis, page_size};
use reserve_core::Violations;
use reserve_core::authz::Action;
use reserve_core::item::ItemId;
use reserve_core::stock::document::DocId;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::{EntryType, LotNumber, SerialNumber};
use reserve_store::stock::LedgerFilter;
use tonic::{Request, Response, Status};

pub(super) async fn list_stock(
    api: &StockApi,
    req: Request<pb::ListStockRequest>,
) -> Answer<pb::ListStockResponse> {
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
    let (depot, _) = api.readable(&p, &depot_code).await?;
    let page = api
        .ctx
        .store
        .list_stock(&depot, item.as_ref(), include_empty, size, &page_token)
        .await
        .map_err(status_of)?;
    let today = api.today();
    Ok(Response::new(pb::ListStockResponse {
        lines: page.items.iter().map(|l| line_pb(l, today)).collect(),
        next_page_token: page.next_token,
    }))
}

fn lot_of(item: &str, lot: &str) -> Result<(ItemId, LotNumber), Status> {
    let mut v = Violations::new();
    let item = v.take("item_id", ItemId::parse(item.trim()));
    let lot = v.take("lot_number", LotNumber::parse(lot));
    match (item, lot) {
        (Some(i), Some(l)) if v.is_empty() => Ok((i, l)),
        _ => Err(invalid_all(v)),
    }
}

pub(super) async fn get_lot(
    api: &StockApi,
    req: Request<pb::GetLotRequest>,
) -> Answer<pb::GetLotResponse> {
    let p = Ctx::principal(&req)?;
    let pb::GetLotRequest {
        item_id,
        lot_number,
    } = req.into_inner();
    let (item, number) = lot_of(&item_id, &lot_number)?;
    let (_, subtree) = api.readable(&p, "").await?;
    let lot = api
        .ctx
        .store
        .get_lot(&subtree, &item, &number)
        .await
        .map_err(status_of_store)?
        .ok_or_else(|| {
            Status::not_found(format!("items/{item}/lots/{} not found", number.as_str()))
        })?;
    Ok(Response::new(pb::GetLotResponse {
        lot: Some(lot_pb(&lot)),
    }))
}

pub(super) async fn list_lots(
    api: &StockApi,
    req: Request<pb::ListLotsRequest>,
) -> Answer<pb::ListLotsResponse> {
    let p = Ctx::principal(&req)?;
    let pb::ListLotsRequest {
        depot_code,
        item_id,
        page_size: size,
        page_token,
    } = req.into_inner();
    let size = page_size(size)?;
    let item = optional_item(&item_id, "item_id")?;
    let (_, subtree) = api.readable(&p, &depot_code).await?;
    let page = api
        .ctx
        .store
        .list_lots(&subtree, item.as_ref(), size, &page_token)
        .await
        .map_err(status_of)?;
    Ok(Response::new(pb::ListLotsResponse {
        lots: page.items.iter().map(lot_pb).collect(),
        next_page_token: page.next_token,
    }))
}

pub(super) async fn get_entry(
    api: &StockApi,
    req: Request<pb::GetLedgerEntryRequest>,
) -> Answer<pb::GetLedgerEntryResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ReadStock)?;
    let id = DocId::parse(&req.into_inner().entry_id).map_err(|e| invalid("entry_id", e))?;
    let e = api
        .ctx
        .store
        .get_entry(&id)
        .await
        .map_err(status_of_store)?
        .ok_or_else(|| Status::not_found(format!("ledgerEntries/{id} not found")))?;
    api.ctx.in_scope(&p, &e.depot).await?;
    Ok(Response::new(pb::GetLedgerEntryResponse {
        entry: Some(entry_pb(&e)),
    }))
}

pub(super) async fn list_ledger(
    api: &StockApi,
    req: Request<pb::ListLedgerEntriesRequest>,
) -> Answer<pb::ListLedgerEntriesResponse> {
    let p = Ctx::principal(&req)?;
    let pb::ListLedgerEntriesRequest {
        depot_code,
        item_id,
        lot_number,
        entry_type,
        start_time,
        end_time,
        page_size: size,
        page_token,
        incident_id,
    } = req.into_inner();
    let size = page_size(size)?;
    let item = optional_item(&item_id, "item_id")?;
    let incident = match incident_id.trim() {
        "" => None,
        i => Some(
            reserve_core::stock::document::DocId::parse(i)
                .map_err(|e| invalid("incident_id", e))?
                .to_string(),
        ),
    };
    let lot = match lot_number.trim() {
        "" => None,
        _ if item.is_none() => {
            return Err(invalid(
                "lot_number",
                "needs item_id: lot numbers are unique per item",
            ));
        }
        l => Some(LotNumber::parse(l).map_err(|e| invalid("lot_number", e))?),
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
    let (_, subtree) = api.readable(&p, &depot_code).await?;
    let f = LedgerFilter {
        subtree,
        item,
        lot,
        kind,
        start,
        end,
        incident,
    };
    let page = api
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

pub(super) async fn get_asset(
    api: &StockApi,
    req: Request<pb::GetAssetRequest>,
) -> Answer<pb::GetAssetResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::ReadStock)?;
    let pb::GetAssetRequest {
        item_id,
        serial_number,
    } = req.into_inner();
    let mut v = Violations::new();
    let item = v.take("item_id", ItemId::parse(item_id.trim()));
    let serial = v.take("serial_number", SerialNumber::parse(&serial_number));
    let (Some(item), Some(serial)) = (item, serial) else {
        return Err(invalid_all(v));
    };
    let a = api
        .ctx
        .store
        .get_asset(&item, &serial)
        .await
        .map_err(status_of_store)?
        .ok_or_else(|| Status::not_found(format!("items/{item}/assets/{serial} not found")))?;
    api.ctx.in_scope(&p, &a.depot).await?;
    Ok(Response::new(pb::GetAssetResponse {
        asset: Some(asset_pb(&a)),
    }))
}

pub(super) async fn list_assets(
    api: &StockApi,
    req: Request<pb::ListAssetsRequest>,
) -> Answer<pb::ListAssetsResponse> {
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
    let (depot, _) = api.readable(&p, &depot_code).await?;
    let page = api
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
