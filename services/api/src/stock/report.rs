//! Reports over a subtree and the integrity check.

use super::wire::line_pb;
use super::{Answer, StockApi, optional_item};
use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::wire::{page_size, tier};
use reserve_core::authz::Action;
use reserve_core::depot::DepotCode;
use reserve_core::item::{ItemId, parse_code_prefix};
use reserve_store::stock::RollUpOf;
use tonic::{Request, Response};

pub(super) async fn roll_up(
    api: &StockApi,
    req: Request<pb::RollUpStockRequest>,
) -> Answer<pb::RollUpStockResponse> {
    let p = Ctx::principal(&req)?;
    let pb::RollUpStockRequest {
        depot_code,
        item_id,
        category_prefix,
    } = req.into_inner();
    let of = match (item_id.trim(), category_prefix.trim()) {
        ("", "") => return Err(invalid("item_id", "give an item_id or a category_prefix")),
        (i, "") => RollUpOf::Item(ItemId::parse(i).map_err(|e| invalid("item_id", e))?),
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
    let (depot, subtree) = api.readable(&p, &depot_code).await?;
    let rows = api
        .ctx
        .store
        .roll_up(&subtree, &of, api.today())
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
            in_transit: r.in_transit,
            on_lease: r.on_lease,
            recallable: r.recallable,
            upkeep_overdue: r.upkeep_overdue,
        };
        total.on_hand = total.on_hand.saturating_add(states.on_hand);
        total.available = total.available.saturating_add(states.available);
        total.reserved = total.reserved.saturating_add(states.reserved);
        total.held = total.held.saturating_add(states.held);
        total.near_expiry = total.near_expiry.saturating_add(states.near_expiry);
        total.expired = total.expired.saturating_add(states.expired);
        total.in_transit = total.in_transit.saturating_add(states.in_transit);
        total.on_lease = total.on_lease.saturating_add(states.on_lease);
        total.recallable = total.recallable.saturating_add(states.recallable);
        total.upkeep_overdue = total.upkeep_overdue.saturating_add(states.upkeep_overdue);
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

pub(super) async fn expiring(
    api: &StockApi,
    req: Request<pb::ListExpiringLotsRequest>,
) -> Answer<pb::ListExpiringLotsResponse> {
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
    let (_, subtree) = api.readable(&p, &depot_code).await?;
    let today = api.today();
    let page = api
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

pub(super) async fn shortfalls(
    api: &StockApi,
    req: Request<pb::ListShortfallsRequest>,
) -> Answer<pb::ListShortfallsResponse> {
    let p = Ctx::principal(&req)?;
    let pb::ListShortfallsRequest {
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
        .list_shortfalls(&subtree, item.as_ref(), api.today(), size, &page_token)
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
                upkeep_overdue: s.upkeep_overdue,
            })
            .collect(),
        next_page_token: page.next_token,
    }))
}

pub(super) async fn rotation(
    api: &StockApi,
    req: Request<pb::ListRotationCandidatesRequest>,
) -> Answer<pb::ListRotationCandidatesResponse> {
    let p = Ctx::principal(&req)?;
    let pb::ListRotationCandidatesRequest {
        depot_code,
        page_size: size,
        page_token,
    } = req.into_inner();
    let size = page_size(size)?;
    let (_, subtree) = api.readable(&p, &depot_code).await?;
    let today = api.today();
    let page = api
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

pub(super) async fn integrity(
    api: &StockApi,
    req: Request<pb::CheckLedgerIntegrityRequest>,
) -> Answer<pb::CheckLedgerIntegrityResponse> {
    let p = Ctx::principal(&req)?;
    Ctx::require(&p, Action::CheckIntegrity)?;
    let pb::CheckLedgerIntegrityRequest { depot_code } = req.into_inner();
    let depot = match depot_code.trim() {
        "" => p.scope.clone(),
        c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
    };
    let subtree = api.ctx.in_scope(&p, &depot).await?;
    let report = api
        .ctx
        .store
        .check_integrity(&subtree)
        .await
        .map_err(status_of_store)?;
    Ok(Response::new(pb::CheckLedgerIntegrityResponse {
        lines_checked: report.lines_checked,
        entries_checked: report.entries_checked,
        documents_checked: report.documents_checked,
        issues: report
            .issues
            .into_iter()
            .map(|i| pb::IntegrityIssue {
                depot_code: i.depot,
                item_id: i.item,
                lot_number: i.lot_number,
                figure: pb::IntegrityFigure::from(i.figure) as i32,
                subject: i.subject.unwrap_or_default(),
                stored: i.stored,
                recomputed: i.recomputed,
            })
            .collect(),
    }))
}
