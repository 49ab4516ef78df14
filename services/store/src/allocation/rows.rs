//! Reading and writing allocation orders: the order row (filter columns and
//! the document as JSON), its shares as rows, and the depots it touches.
//! An order moves only by compare-and-set on its version.

use crate::error::StoreError;
use crate::sql::Sql;
use chrono::Datelike;
use reserve_core::allocation::{Destination, Order, Share, State, order_number};
use reserve_core::depot::{DepotCode, DepotPath, DepotStatus};
use reserve_core::item::ItemId;
use reserve_core::stock::{LotId, LotNumber};
use reserve_core::tier::Tier;
use reserve_core::time::{UtcMillis, local_date};
use sqlx::{AnyConnection, FromRow};
use std::collections::BTreeMap;

pub(crate) const ORDER_COLUMNS: &str = "o.id, o.state, o.body, o.version";

#[derive(FromRow)]
pub(crate) struct OrderRow {
    id: String,
    state: i64,
    body: String,
    version: i64,
}

#[derive(FromRow)]
struct ShareRow {
    order_id: String,
    line_number: i64,
    source_depot_code: String,
    lot_id: String,
    lot_number: String,
    item_id: String,
    serials: String,
    arrived: String,
    reserved: i64,
    dispatched: i64,
    received: i64,
    damaged: i64,
    rejected: i64,
    short: i64,
}

impl TryFrom<ShareRow> for Share {
    type Error = StoreError;

    fn try_from(r: ShareRow) -> Result<Self, StoreError> {
        Ok(Share {
            line: u32::try_from(r.line_number)
                .map_err(|_| StoreError::Corrupt(format!("order {}: line number", r.order_id)))?,
            item: ItemId::from_stored(r.item_id),
            source: DepotCode::from_stored(r.source_depot_code),
            lot: LotId(r.lot_id),
            lot_number: LotNumber::from_stored(r.lot_number),
            serials: serde_json::from_str(&r.serials)?,
            arrived: serde_json::from_str(&r.arrived)?,
            reserved: r.reserved,
            dispatched: r.dispatched,
            received: r.received,
            damaged: r.damaged,
            rejected: r.rejected,
            short: r.short,
        })
    }
}

/// Orders from their rows, with their shares (one more query).
pub(crate) async fn orders_from(
    conn: &mut AnyConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<Order>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(
        "SELECT s.order_id, s.line_number, s.source_depot_code, s.lot_id, t.lot_number, s.item_id, s.serials, \
         s.arrived, s.reserved, s.dispatched, s.received, s.damaged, s.rejected, s.short \
         FROM allocation_shares s JOIN lots t ON t.id = s.lot_id WHERE",
    );
    sql.in_list(" s.order_id IN ", rows.iter().map(|r| r.id.clone()));
    sql.raw(" ORDER BY s.order_id, s.line_number, s.source_depot_code, t.expiry_day, t.lot_number");
    let mut shares: BTreeMap<String, Vec<Share>> = BTreeMap::new();
    for r in sql.fetch_all(&mut *conn).await? {
        let s = ShareRow::from_row(&r)?;
        let id = s.order_id.clone();
        shares.entry(id).or_default().push(s.try_into()?);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut o: Order = serde_json::from_str(&r.body)?;
        o.state = State::from_number(r.state)
            .ok_or_else(|| StoreError::Corrupt(format!("order {}: state", r.id)))?;
        o.version = r.version;
        o.shares = shares.remove(&r.id).unwrap_or_default();
        out.push(o);
    }
    Ok(out)
}

/// One order by id or number.
pub(crate) async fn load_order(
    conn: &mut AnyConnection,
    id_or_number: &str,
) -> Result<Option<Order>, StoreError> {
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "SELECT {ORDER_COLUMNS} FROM allocation_orders o WHERE o.id = $1 OR o.number = $1"
    ))
    .bind(id_or_number)
    .fetch_all(&mut *conn)
    .await?;
    Ok(orders_from(conn, rows).await?.into_iter().next())
}

/// The next number of `year` (Beijing) at `now`.
pub(crate) async fn next_number(
    tx: &mut AnyConnection,
    now: UtcMillis,
) -> Result<String, StoreError> {
    let year = local_date(now).year();
    let (n,): (i64,) = sqlx::query_as(
        "INSERT INTO allocation_numbers (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = allocation_numbers.last + 1 RETURNING last",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *tx)
    .await?;
    Ok(order_number(year, n))
}

fn body(o: &Order) -> Result<String, StoreError> {
    let mut doc = o.clone();
    doc.shares.clear();
    Ok(serde_json::to_string(&doc)?)
}

fn destination_code(o: &Order) -> Option<String> {
    o.destination.depot().map(|d| d.to_string())
}

/// Stores a new order with its shares and depots.
pub(crate) async fn insert_order(tx: &mut AnyConnection, o: &Order) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO allocation_orders (id, number, kind, priority, state, incident_id, command_depot_code, \
         destination_depot_code, raised_at, approved_at, backfill_due, body, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&o.id)
    .bind(&o.number)
    .bind(o.kind.number())
    .bind(o.priority.number())
    .bind(o.state.number())
    .bind(o.incident.as_ref().map(|i| i.to_string()))
    .bind(o.command_depot.as_str())
    .bind(destination_code(o))
    .bind(o.raised_at)
    .bind(o.approved_at)
    .bind(o.backfill_due)
    .bind(body(o)?)
    .bind(o.version)
    .execute(&mut *tx)
    .await?;
    write_children(tx, o).await
}

/// Writes an order if it is still at the version it was read at.
pub(crate) async fn save_order(
    tx: &mut AnyConnection,
    o: &Order,
    read_version: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE allocation_orders SET kind = $1, priority = $2, state = $3, incident_id = $4, \
         destination_depot_code = $5, approved_at = $6, backfill_due = $7, body = $8, version = $9 \
         WHERE id = $10 AND version = $11",
    )
    .bind(o.kind.number())
    .bind(o.priority.number())
    .bind(o.state.number())
    .bind(o.incident.as_ref().map(|i| i.to_string()))
    .bind(destination_code(o))
    .bind(o.approved_at)
    .bind(o.backfill_due)
    .bind(body(o)?)
    .bind(o.version)
    .bind(&o.id)
    .bind(read_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict);
    }
    sqlx::query("DELETE FROM allocation_shares WHERE order_id = $1")
        .bind(&o.id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM allocation_order_depots WHERE order_id = $1")
        .bind(&o.id)
        .execute(&mut *tx)
        .await?;
    write_children(tx, o).await
}

async fn write_children(tx: &mut AnyConnection, o: &Order) -> Result<(), StoreError> {
    for s in &o.shares {
        sqlx::query(
            "INSERT INTO allocation_shares (order_id, line_number, source_depot_code, lot_id, item_id, serials, \
             arrived, reserved, dispatched, received, damaged, rejected, short) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&o.id)
        .bind(i64::from(s.line))
        .bind(s.source.as_str())
        .bind(s.lot.as_str())
        .bind(s.item.as_str())
        .bind(serde_json::to_string(&s.serials)?)
        .bind(serde_json::to_string(&s.arrived)?)
        .bind(s.reserved)
        .bind(s.dispatched)
        .bind(s.received)
        .bind(s.damaged)
        .bind(s.rejected)
        .bind(s.short)
        .execute(&mut *tx)
        .await?;
    }
    for d in touched(o) {
        sqlx::query("INSERT INTO allocation_order_depots (order_id, depot_code) VALUES ($1, $2)")
            .bind(&o.id)
            .bind(d.as_str())
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Every depot an order touches: command depot, destination and sources.
pub(crate) fn touched(o: &Order) -> Vec<DepotCode> {
    let mut out = vec![o.command_depot.clone()];
    if let Destination::Depot(d) = &o.destination {
        out.push(d.clone());
    }
    for s in o.sources() {
        out.push(s);
    }
    for s in &o.shares {
        out.push(s.source.clone());
    }
    out.sort();
    out.dedup();
    out
}

/// A depot as the order's rules need it.
#[derive(Clone, Debug)]
pub(crate) struct Placed {
    pub path: DepotPath,
    pub tier: Tier,
    pub owning_tier: Tier,
    pub status: DepotStatus,
}

/// The depots named, by code; absent ones are missing from the map.
pub(crate) async fn load_placed(
    conn: &mut AnyConnection,
    codes: &[DepotCode],
) -> Result<BTreeMap<DepotCode, Placed>, StoreError> {
    let mut out = BTreeMap::new();
    if codes.is_empty() {
        return Ok(out);
    }
    let mut sql = Sql::new("SELECT code, path, tier, owning_tier, status FROM depots WHERE");
    sql.in_list(" code IN ", codes.iter().map(|c| c.to_string()));
    for r in sql.fetch_all(&mut *conn).await? {
        let (code, path, tier, owning, status): (String, String, i64, i64, i64) =
            sqlx::FromRow::from_row(&r)?;
        let corrupt = |w: &str| StoreError::Corrupt(format!("depot {code}: {w}"));
        out.insert(
            DepotCode::from_stored(code.clone()),
            Placed {
                path: DepotPath::from_stored(path),
                tier: Tier::from_number(tier).ok_or_else(|| corrupt("tier"))?,
                owning_tier: Tier::from_number(owning).ok_or_else(|| corrupt("owning tier"))?,
                status: DepotStatus::from_number(status).ok_or_else(|| corrupt("status"))?,
            },
        );
    }
    Ok(out)
}
