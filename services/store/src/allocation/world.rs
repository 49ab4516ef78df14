//! What an order's action reads besides the order: its items and lots, the
//! stock at the sources it takes from, and the destination's own subtree.

use super::rows::Placed;
use crate::catalog::load_item;
use crate::error::OpError;
use crate::sql::{Arg, Sql};
use crate::stock::rows::{load_assets_at, load_item_at, load_lot};
use reserve_core::allocation::{
    AllocationError, Order, OrderWorld, OwnSubtree, Priority, SourceStock,
};
use reserve_core::depot::{DepotCode, DepotPath, DepotStatus};
use reserve_core::item::{ItemId, Tracking};
use reserve_core::stock::Day;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::tier::Tier;
use reserve_core::time::UtcMillis;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// What to load.
#[derive(Clone, Debug, Default)]
pub(crate) struct Needs {
    /// Stock at these sources (for the items they give on the order).
    pub stock_at: Vec<DepotCode>,
    /// The destination's own subtree.
    pub own: bool,
}

type Fail = OpError<AllocationError>;

/// Loads the world an action on `order` reads.
pub(crate) async fn load_world(
    tx: &mut AnyConnection,
    order: &Order,
    placed: &BTreeMap<DepotCode, Placed>,
    needs: &Needs,
    now: UtcMillis,
) -> Result<OrderWorld, Fail> {
    let today = Day::today(now);
    let mut world = OrderWorld {
        today: Some(today),
        destination_owner: order
            .destination
            .depot()
            .and_then(|d| placed.get(d))
            .map(|p| p.owning_tier),
        ..OrderWorld::default()
    };
    for line in &order.lines {
        match load_item(tx, line.item.as_str()).await? {
            Some(i) => world.items.push(i),
            None => {
                return Err(OpError::Rule(AllocationError::ItemNotFound(
                    line.item.to_string(),
                )));
            }
        }
    }
    for s in &order.shares {
        if !world.lots.iter().any(|l| l.id == s.lot)
            && let Some(l) = load_lot(tx, s.lot.as_str()).await?
        {
            world.lots.push(l);
        }
    }
    for depot in &needs.stock_at {
        for line in &order.lines {
            if !line.sources.iter().any(|s| &s.depot == depot) {
                continue;
            }
            world
                .stock
                .push(source_stock(tx, order, depot, &line.item, &world).await?);
        }
    }
    if needs.own {
        world.own = Some(own_subtree(tx, order, placed, today).await?);
    }
    Ok(world)
}

async fn source_stock(
    tx: &mut AnyConnection,
    order: &Order,
    depot: &DepotCode,
    item: &ItemId,
    world: &OrderWorld,
) -> Result<SourceStock, Fail> {
    let mut at = load_item_at(tx, depot.as_str(), item.as_str()).await?;
    if at.minimum > 0 && order.priority != Priority::Emergency {
        // The reserve minimum is a rule over all lots of the item there:
        // lock them so two orders (or an order and an issue) cannot each
        // pass it and together break it.
        sqlx::query(
            "UPDATE stock_lines SET version = version WHERE depot_code = $1 AND item_id = $2",
        )
        .bind(depot.as_str())
        .bind(item.as_str())
        .execute(&mut *tx)
        .await?;
        at = load_item_at(tx, depot.as_str(), item.as_str()).await?;
    }
    let serial = world
        .items
        .iter()
        .any(|i| &i.id == item && i.tracking == Tracking::Serial);
    let free_assets = if serial {
        load_assets_at(tx, depot.as_str(), item.as_str())
            .await?
            .into_iter()
            .filter(|a| a.status == AssetStatus::InStock && a.holder.is_none())
            .collect()
    } else {
        Vec::new()
    };
    Ok(SourceStock {
        depot: depot.clone(),
        item: item.clone(),
        lines: at.states(),
        minimum: at.minimum,
        free_assets,
    })
}

/// The destination's own county (or city) subtree: the county above a
/// township, or the depot itself from county tier up. For an incident site
/// the command depot stands for the destination.
async fn own_subtree(
    tx: &mut AnyConnection,
    order: &Order,
    placed: &BTreeMap<DepotCode, Placed>,
    today: Day,
) -> Result<OwnSubtree, Fail> {
    let answering = order.answering_depot();
    let Some(p) = placed.get(answering) else {
        return Err(OpError::Rule(AllocationError::DepotNotFound(
            answering.to_string(),
        )));
    };
    let codes = p.path.codes();
    let root_path = if p.tier == Tier::Township && codes.len() >= 2 {
        // The parent's path: the township's without its last code.
        let mut parent = DepotPath::root(&DepotCode::from_stored(codes[0].to_string()));
        for c in &codes[1..codes.len() - 1] {
            parent = parent.child(&DepotCode::from_stored((*c).to_string()));
        }
        parent
    } else {
        p.path.clone()
    };
    let root = root_path
        .codes()
        .last()
        .map(|c| DepotCode::from_stored((*c).to_string()))
        .unwrap_or_else(|| answering.clone());
    let like = format!("{}%", root_path.as_str());
    let members: Vec<(String,)> = sqlx::query_as("SELECT code FROM depots WHERE path LIKE $1")
        .bind(&like)
        .fetch_all(&mut *tx)
        .await?;
    let mut spare: BTreeMap<ItemId, Vec<(DepotCode, i64)>> = BTreeMap::new();
    for line in &order.lines {
        let mut sql = Sql::new(
            "SELECT l.depot_code, CAST(SUM(CASE WHEN t.expiry_day IS NULL OR t.expiry_day > ",
        );
        sql.push(
            "? THEN l.on_hand - l.reserved - l.held ELSE 0 END) AS BIGINT) AS free, ",
            Arg::Int(today.0),
        )
        .raw("CAST(COALESCE(MAX(n.minimum), 0) AS BIGINT) AS minimum FROM stock_lines l ")
        .raw("JOIN lots t ON t.id = l.lot_id JOIN depots d ON d.code = l.depot_code ")
        .raw("LEFT JOIN reserve_norms n ON n.depot_code = l.depot_code AND n.item_id = l.item_id ")
        .push("WHERE d.path LIKE ?", Arg::Text(like.clone()))
        .push(" AND l.item_id = ?", Arg::Text(line.item.to_string()))
        .push(" AND d.status = ?", Arg::Int(DepotStatus::Active.number()))
        // The destination does not source itself; for a site, the command
        // depot's own stock counts.
        .push(
            " AND l.depot_code <> ?",
            Arg::Text(
                order
                    .destination
                    .depot()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
        )
        .raw(" GROUP BY l.depot_code");
        let mut per_depot = Vec::new();
        for r in sql.fetch_all(&mut *tx).await? {
            let (code, free, minimum): (String, i64, i64) = sqlx::FromRow::from_row(&r)?;
            let s = free.saturating_sub(minimum);
            if s > 0 {
                per_depot.push((DepotCode::from_stored(code), s));
            }
        }
        spare.insert(line.item.clone(), per_depot);
    }
    Ok(OwnSubtree {
        root,
        members: members
            .into_iter()
            .map(|(c,)| DepotCode::from_stored(c))
            .collect(),
        spare,
    })
}
