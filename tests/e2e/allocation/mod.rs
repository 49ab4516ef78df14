//! Allocation orders over gRPC (issue 10): the flood order from need to
//! receipt, the state table, the sourcing rules, the emergency path, races
//! for the last units, authority, and retries. Shared fixtures live here.

mod authority;
mod journey;
mod model;
mod races;
mod rules;
mod transitions;

use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, TestApp, date, rid};

pub type Orders = AllocationServiceClient<Authed>;

pub const CITY: &str = "HB-SY";
pub const ZS: &str = "HB-SY-ZS";
pub const ZS1: &str = "HB-SY-ZS-01";
pub const ZS2: &str = "HB-SY-ZS-02";
pub const FX: &str = "HB-SY-FX";
pub const QUILT: &str = "quilt-cotton";
pub const TENT: &str = "tent-12m2";
pub const GEN: &str = "generator-5kw";

/// A dispatcher's order client at `scope`, as `who`.
pub fn dispatcher(app: &TestApp, who: &str, scope: &str) -> Orders {
    app.allocation(&app.token_for(who, &[Role::Dispatcher], scope))
}

/// A keeper's order client at `depot`.
pub fn keeper(app: &TestApp, depot: &str) -> Orders {
    app.allocation(&app.token_for(&format!("keeper@{depot}"), &[Role::DepotKeeper], depot))
}

/// Receives stock at `depot` as its keeper.
pub async fn stock_in(
    app: &TestApp,
    depot: &str,
    item: &str,
    lot: &str,
    qty: i64,
    serials: &[&str],
) {
    app.keeper(&format!("keeper@{depot}"), depot)
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: depot.into(),
            item_id: item.into(),
            lot_number: lot.into(),
            expiry_date: if item == GEN { None } else { date(2031, 1, 1) },
            production_date: if item == GEN { date(2026, 1, 1) } else { None },
            quantity: if serials.is_empty() { qty } else { 0 },
            serial_numbers: serials.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// A line: item, units, and (source, units) pairs.
pub fn line(item: &str, requested: i64, sources: &[(&str, i64)]) -> pb::AllocationLine {
    pb::AllocationLine {
        item_id: item.into(),
        requested,
        sources: sources
            .iter()
            .map(|(d, q)| pb::SourcePlan {
                source_depot_code: d.to_string(),
                lot_number: String::new(),
                quantity: *q,
            })
            .collect(),
        ..Default::default()
    }
}

/// A transfer of `priority` to depot `to`.
pub fn transfer(
    priority: pb::AllocationPriority,
    to: &str,
    lines: Vec<pb::AllocationLine>,
) -> pb::AllocationOrder {
    pb::AllocationOrder {
        kind: pb::AllocationKind::Transfer as i32,
        priority: priority as i32,
        reason: "汛期前置".into(),
        destination_depot_code: to.into(),
        receiver_contact: Some(pb::Contact {
            name: "李明".into(),
            duty: "城关镇应急办".into(),
            phone: "13972800000".into(),
        }),
        lines,
        ..Default::default()
    }
}

/// An issue to an incident site.
pub fn to_site(incident: &str, lines: Vec<pb::AllocationLine>) -> pb::AllocationOrder {
    pb::AllocationOrder {
        kind: pb::AllocationKind::IncidentSite as i32,
        priority: pb::AllocationPriority::Emergency as i32,
        incident_id: incident.into(),
        reason: "安置受灾群众".into(),
        people_affected: 1200,
        destination_site: Some(pb::Place {
            lat_lng: Some(LatLng {
                latitude: 32.23,
                longitude: 110.23,
            }),
            address: "竹山县城关镇体育馆安置点".into(),
        }),
        receiver_contact: Some(pb::Contact {
            name: "张伟".into(),
            duty: "安置点负责人".into(),
            phone: "13972811111".into(),
        }),
        justification: "就近调拨".into(),
        lines,
        ..Default::default()
    }
}

/// Raises an order and returns it.
pub async fn raise(c: &mut Orders, order: pb::AllocationOrder) -> pb::AllocationOrder {
    c.create_allocation_order(pb::CreateAllocationOrderRequest {
        request_id: rid(),
        order: Some(order),
    })
    .await
    .unwrap()
    .into_inner()
    .order
    .unwrap()
}

pub async fn submit(c: &mut Orders, id: &str) -> Result<pb::AllocationOrder, tonic::Status> {
    c.submit_allocation_order(pb::SubmitAllocationOrderRequest {
        request_id: rid(),
        order_id: id.into(),
        etag: String::new(),
    })
    .await
    .map(|r| r.into_inner().order.unwrap())
}

pub async fn approve(c: &mut Orders, id: &str) -> Result<pb::AllocationOrder, tonic::Status> {
    c.approve_allocation_order(pb::ApproveAllocationOrderRequest {
        request_id: rid(),
        order_id: id.into(),
        note: "同意".into(),
        etag: String::new(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().order.unwrap())
}

pub async fn dispatch(
    c: &mut Orders,
    id: &str,
    source: &str,
) -> Result<pb::AllocationOrder, tonic::Status> {
    c.dispatch_allocation_order(pb::DispatchAllocationOrderRequest {
        request_id: rid(),
        order_id: id.into(),
        source_depot_code: source.into(),
        transport: Some(pb::Transport {
            vehicle: "鄂C·12345".into(),
            driver: "王师傅".into(),
            driver_phone: "13972822222".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().order.unwrap())
}

/// Receives everything still on the road of an order, in good order.
pub async fn receive_all(
    c: &mut Orders,
    order: &pb::AllocationOrder,
) -> Result<pb::AllocationOrder, tonic::Status> {
    let mut shares = Vec::new();
    for l in &order.lines {
        for s in l.shares.iter().filter(|s| s.in_transit > 0) {
            shares.push(pb::ReceivedShare {
                line_number: l.line_number,
                source_depot_code: s.source_depot_code.clone(),
                lot_number: s.lot_number.clone(),
                received: if s.in_transit_serial_numbers.is_empty() {
                    s.in_transit
                } else {
                    0
                },
                received_serial_numbers: s.in_transit_serial_numbers.clone(),
                ..Default::default()
            });
        }
    }
    c.receive_allocation_order(pb::ReceiveAllocationOrderRequest {
        request_id: rid(),
        order_id: order.id.clone(),
        shares,
        etag: String::new(),
    })
    .await
    .map(|r| r.into_inner().order.unwrap())
}

pub async fn get(c: &mut Orders, id: &str) -> pb::AllocationOrder {
    c.get_allocation_order(pb::GetAllocationOrderRequest {
        order_id: id.into(),
    })
    .await
    .unwrap()
    .into_inner()
    .order
    .unwrap()
}

/// The lines of `item` at `depot`: (lot, on hand, reserved, held).
pub async fn lines(app: &TestApp, depot: &str, item: &str) -> Vec<(String, i64, i64, i64)> {
    app.stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: depot.into(),
            item_id: item.into(),
            include_empty: true,
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .into_iter()
        .map(|l| (l.lot.unwrap().lot_number, l.on_hand, l.reserved, l.held))
        .collect()
}

/// On hand plus in transit of `item` over the whole province.
pub async fn network_total(app: &TestApp, item: &str) -> (i64, i64) {
    let t = app
        .stock(&app.root_admin())
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: "HB".into(),
            item_id: item.into(),
            category_prefix: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .total
        .unwrap();
    (t.on_hand, t.in_transit)
}

pub fn state(o: &pb::AllocationOrder) -> pb::AllocationState {
    pb::AllocationState::try_from(o.state).unwrap()
}
