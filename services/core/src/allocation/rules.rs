//! The rules that decide where an order's units come from: what a source
//! has to give (first-expired-first-out, free units only, never an asset
//! held or under repair), its reserve minimum, and own subtree first.

use super::{AllocationError, Line, Order, Override, Priority, Share};
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::stock::entry::AssetStatus;
use crate::stock::minimum::check_minimum;
use crate::stock::pick::{AssetState, LineState, insufficient, sorted_fefo};
use crate::stock::{Day, LotId, LotNumber, SerialNumber, StockError};
use std::collections::BTreeMap;

/// What one source depot holds of one item, as loaded for an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceStock {
    /// The source depot.
    pub depot: DepotCode,
    /// The item.
    pub item: ItemId,
    /// Every lot of the item there, with its balance.
    pub lines: Vec<LineState>,
    /// The reserve minimum there (0 = no norm).
    pub minimum: i64,
    /// For serial-tracked items: the assets free to allocate there (in
    /// stock, held by no document).
    pub free_assets: Vec<AssetState>,
}

/// The destination's own county (or city) subtree and what it has to give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnSubtree {
    /// Its root: the destination's county depot, or the destination itself
    /// when that is a city or provincial depot.
    pub root: DepotCode,
    /// Every depot in it.
    pub members: Vec<DepotCode>,
    /// Per item and depot (the destination left out): units available above
    /// the depot's reserve minimum.
    pub spare: BTreeMap<ItemId, Vec<(DepotCode, i64)>>,
}

/// Everything an order's actions read besides the order.
#[derive(Clone, Debug, Default)]
pub struct OrderWorld {
    /// The items of the order's lines.
    pub items: Vec<Item>,
    /// Stock at the sources an action takes from.
    pub stock: Vec<SourceStock>,
    /// The destination's own subtree, for submission and approval.
    pub own: Option<OwnSubtree>,
    /// The owning tier of the destination depot (units received there pass
    /// to it), if the destination is a depot.
    pub destination_owner: Option<crate::tier::Tier>,
    /// Today in Beijing.
    pub today: Option<Day>,
    /// Every lot the order's shares name.
    pub lots: Vec<crate::stock::Lot>,
}

impl OrderWorld {
    pub(crate) fn item(&self, id: &ItemId) -> Result<&Item, AllocationError> {
        self.items
            .iter()
            .find(|i| &i.id == id)
            .ok_or_else(|| AllocationError::ItemNotFound(id.to_string()))
    }

    fn stock(&self, depot: &DepotCode, item: &ItemId) -> Option<&SourceStock> {
        self.stock
            .iter()
            .find(|s| &s.depot == depot && &s.item == item)
    }
}

/// Free units at a source as they are used up while one action plans.
struct Pool<'a> {
    stock: Option<&'a SourceStock>,
    /// Units still free per lot (expired lots give none).
    left: BTreeMap<LotId, i64>,
    /// Serials still free.
    serials: Vec<&'a AssetState>,
    /// Free units before anything was taken.
    available: i64,
    taken: i64,
}

impl<'a> Pool<'a> {
    fn new(stock: Option<&'a SourceStock>, today: Day) -> Self {
        let mut left = BTreeMap::new();
        let mut available: i64 = 0;
        for l in stock.map(|s| s.lines.as_slice()).unwrap_or_default() {
            let a = l.balance.available(l.lot.is_expired(today)).max(0);
            available = available.saturating_add(a);
            left.insert(l.lot.id.clone(), a);
        }
        let serials = stock
            .map(|s| {
                s.free_assets
                    .iter()
                    .filter(|a| a.status == AssetStatus::InStock && a.holder.is_none())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            stock,
            left,
            serials,
            available,
            taken: 0,
        }
    }
}

/// One planned take: units of a line from a source, in a named lot or
/// first-expired-first-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedTake {
    /// Line number.
    pub line: u32,
    /// Source.
    pub depot: DepotCode,
    /// Named lot.
    pub lot: Option<LotNumber>,
    /// Units.
    pub quantity: i64,
}

/// The order's planned takes at `source` (all sources when `None`).
pub fn planned(order: &Order, source: Option<&DepotCode>) -> Vec<PlannedTake> {
    order
        .lines
        .iter()
        .flat_map(|l| {
            l.sources.iter().map(|s| PlannedTake {
                line: l.number,
                depot: s.depot.clone(),
                lot: s.lot.clone(),
                quantity: s.quantity,
            })
        })
        .filter(|p| source.is_none_or(|s| s == &p.depot))
        .collect()
}

/// Plans the shares of the order's takes at `sources` (all sources when
/// `None`): first-expired-first-out where no lot is named, free units only,
/// and serial items by their free assets. Returns the shares (with
/// `reserved` set to the units taken) and the reserve minimums broken,
/// which only an emergency order may break (`decided_by` decides).
pub fn take_units(
    order: &Order,
    world: &OrderWorld,
    sources: Option<&DepotCode>,
    decided_by: &str,
) -> Result<(Vec<Share>, Vec<Override>), AllocationError> {
    take_planned(order, world, &planned(order, sources), decided_by)
}

/// Plans the shares of `takes`: those naming a lot first (so first expired
/// first out never eats a lot another take names), then the rest.
pub fn take_planned(
    order: &Order,
    world: &OrderWorld,
    takes: &[PlannedTake],
    decided_by: &str,
) -> Result<(Vec<Share>, Vec<Override>), AllocationError> {
    let today = world.today.unwrap_or(Day(0));
    let mut pools: BTreeMap<(DepotCode, ItemId), Pool<'_>> = BTreeMap::new();
    let mut shares: Vec<Share> = Vec::new();
    let mut ordered: Vec<&PlannedTake> = takes.iter().collect();
    ordered.sort_by_key(|t| t.lot.is_none());
    for plan in ordered {
        let Some(line) = order.lines.iter().find(|l| l.number == plan.line) else {
            continue;
        };
        let item = world.item(&line.item)?;
        {
            let pool = pools
                .entry((plan.depot.clone(), line.item.clone()))
                .or_insert_with(|| Pool::new(world.stock(&plan.depot, &line.item), today));
            let takes = take(
                item,
                line,
                &plan.depot,
                plan.lot.as_ref(),
                plan.quantity,
                pool,
            )?;
            pool.taken = pool.taken.saturating_add(plan.quantity);
            for (lot, lot_number, q, serials) in takes {
                match shares
                    .iter_mut()
                    .find(|s| s.line == line.number && s.source == plan.depot && s.lot == lot)
                {
                    Some(s) => {
                        s.reserved += q;
                        s.serials.extend(serials);
                    }
                    None => shares.push(Share {
                        line: line.number,
                        item: line.item.clone(),
                        source: plan.depot.clone(),
                        lot,
                        lot_number,
                        serials,
                        arrived: Vec::new(),
                        reserved: q,
                        dispatched: 0,
                        received: 0,
                        damaged: 0,
                        rejected: 0,
                        short: 0,
                    }),
                }
            }
        }
    }
    let mut overrides = Vec::new();
    for ((depot, item), pool) in &pools {
        let minimum = pool.stock.map(|s| s.minimum).unwrap_or(0);
        let emergency = (order.priority == Priority::Emergency).then_some("emergency order");
        if let Some(o) = check_minimum(depot, item, minimum, pool.available, pool.taken, emergency)?
        {
            overrides.push(Override {
                source: depot.clone(),
                item: item.clone(),
                minimum: o.minimum,
                left: o.left,
                decided_by: decided_by.to_string(),
            });
        }
    }
    Ok((shares, overrides))
}

type Taken = (LotId, LotNumber, i64, Vec<SerialNumber>);

fn take(
    item: &Item,
    line: &Line,
    depot: &DepotCode,
    lot: Option<&LotNumber>,
    quantity: i64,
    pool: &mut Pool<'_>,
) -> Result<Vec<Taken>, AllocationError> {
    let lines: &[LineState] = pool.stock.map(|s| s.lines.as_slice()).unwrap_or_default();
    let mut candidates: Vec<&LineState> = sorted_fefo(lines)
        .into_iter()
        .filter(|l| lot.is_none_or(|n| &l.lot.number == n))
        .collect();
    if let Some(n) = lot
        && candidates.is_empty()
    {
        return Err(StockError::LotNotAtDepot {
            depot: depot.to_string(),
            item: line.item.to_string(),
            lot: n.as_str().to_string(),
        }
        .into());
    }
    let free: i64 = candidates
        .iter()
        .map(|l| pool.left.get(&l.lot.id).copied().unwrap_or(0))
        .sum();
    let free = match item.tracking {
        Tracking::Lot => free,
        Tracking::Serial => free.min(
            pool.serials
                .iter()
                .filter(|a| candidates.iter().any(|l| l.lot.id == a.lot))
                .count() as i64,
        ),
    };
    if free < quantity {
        return Err(insufficient(depot, &line.item, lot, quantity, free).into());
    }
    let mut need = quantity;
    let mut out = Vec::new();
    for l in candidates.drain(..) {
        if need == 0 {
            break;
        }
        let left = pool.left.get(&l.lot.id).copied().unwrap_or(0);
        let mut q = left.min(need);
        let mut serials = Vec::new();
        if item.tracking == Tracking::Serial {
            let mut mine: Vec<&AssetState> = pool
                .serials
                .iter()
                .copied()
                .filter(|a| a.lot == l.lot.id)
                .collect();
            mine.sort_by(|a, b| a.serial.cmp(&b.serial));
            mine.truncate(usize::try_from(q).unwrap_or(0));
            q = mine.len() as i64;
            serials = mine.iter().map(|a| a.serial.clone()).collect();
            pool.serials.retain(|a| !serials.contains(&a.serial));
        }
        if q == 0 {
            continue;
        }
        pool.left.insert(l.lot.id.clone(), left - q);
        need -= q;
        out.push((l.lot.id.clone(), l.lot.number.clone(), q, serials));
    }
    if need > 0 {
        return Err(insufficient(depot, &line.item, lot, quantity, quantity - need).into());
    }
    Ok(out)
}

/// Own subtree first: a line that takes units from outside the destination's
/// own subtree while the subtree has units available above its reserve
/// minimums (after what the order itself takes there) needs a justification.
pub fn check_own_subtree(order: &Order, own: &OwnSubtree) -> Result<(), AllocationError> {
    if !order.justification.is_empty() {
        return Ok(());
    }
    for line in &order.lines {
        let inside = |d: &DepotCode| own.members.contains(d);
        let outside: i64 = line
            .sources
            .iter()
            .filter(|s| !inside(&s.depot))
            .map(|s| s.quantity)
            .sum();
        if outside == 0 {
            continue;
        }
        let spare: i64 = own
            .spare
            .get(&line.item)
            .map(|depots| {
                depots
                    .iter()
                    .map(|(d, spare)| {
                        let planned: i64 = line
                            .sources
                            .iter()
                            .filter(|s| &s.depot == d)
                            .map(|s| s.quantity)
                            .sum();
                        (spare - planned).max(0)
                    })
                    .sum()
            })
            .unwrap_or(0);
        if spare > 0 {
            return Err(AllocationError::OwnSubtreeFirst {
                line: line.number,
                item: line.item.to_string(),
                own: own.root.to_string(),
                spare,
                outside,
            });
        }
    }
    Ok(())
}

/// Every line's sources add up to what it requests.
pub fn check_fully_sourced(order: &Order) -> Result<(), AllocationError> {
    for line in &order.lines {
        let sourced: i64 = line.sources.iter().map(|s| s.quantity).sum();
        if sourced != line.requested {
            return Err(AllocationError::NotFullySourced {
                line: line.number,
                item: line.item.to_string(),
                requested: line.requested,
                sourced,
            });
        }
    }
    Ok(())
}
