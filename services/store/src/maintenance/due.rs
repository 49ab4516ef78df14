//! Due and overdue units over a subtree, for the due list, the roll-up and
//! shortfall signals and the issue guard. The rows are read here; when each
//! unit is due is decided by `core::maintenance::due`.

use super::load_plans;
use crate::catalog::load_item;
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::{Item, ItemId};
use reserve_core::maintenance::due::{DueUnit, is_overdue, next_due};
use reserve_core::maintenance::plan::Plans;
use reserve_core::request::PageSize;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::pick::{AssetState, LineState};
use reserve_core::stock::{Day, SerialNumber, StockError};
use reserve_core::tier::Tier;
use sqlx::{AnyConnection, FromRow};
use std::collections::BTreeMap;
use std::collections::HashSet;

/// What a due list asks for.
#[derive(Clone, Debug)]
pub struct DueFilter {
    /// Only this item.
    pub item: Option<ItemId>,
    /// Units due within this many days from today (overdue ones included).
    pub horizon_days: i64,
    /// Only overdue units.
    pub overdue_only: bool,
}

/// A due unit with what reports group it by.
#[derive(Clone, Debug)]
pub(crate) struct Placed {
    pub unit: DueUnit,
    pub tier: Tier,
    pub item_code: String,
}

#[derive(FromRow)]
struct UnitRow {
    depot_code: String,
    path: String,
    tier: i64,
    item_id: String,
    serial_number: Option<String>,
    units: i64,
    last_day: Option<i64>,
    next_day: Option<i64>,
    entered_at: i64,
}

/// Assets in stock, held or reserved (but not those a scrap application
/// holds: they are leaving), and lot-tracked stock on hand, per (depot,
/// item), in the subtree `like`.
const UNITS: &str = "SELECT a.depot_code, d.path, d.tier, a.item_id, a.serial_number, CAST(1 AS BIGINT) AS units, \
     a.last_upkeep_day AS last_day, a.next_upkeep_day AS next_day, t.created_at AS entered_at \
     FROM assets a JOIN depots d ON d.code = a.depot_code JOIN lots t ON t.id = a.lot_id \
     JOIN items i ON i.id = a.item_id \
     WHERE a.status IN (1, 2, 8) AND i.tracking = 2 AND d.path LIKE $1 AND ($2 = '' OR a.item_id = $2) \
     AND (a.holder IS NULL OR a.holder NOT LIKE 'scrapApplications/%') \
     UNION ALL \
     SELECT l.depot_code, d.path, d.tier, l.item_id, NULL AS serial_number, CAST(SUM(l.on_hand) AS BIGINT) AS units, \
     s.last_upkeep_day AS last_day, s.next_upkeep_day AS next_day, MIN(t.created_at) AS entered_at \
     FROM stock_lines l JOIN depots d ON d.code = l.depot_code JOIN lots t ON t.id = l.lot_id \
     JOIN items i ON i.id = l.item_id \
     LEFT JOIN upkeep_status s ON s.depot_code = l.depot_code AND s.item_id = l.item_id \
     WHERE l.on_hand > 0 AND i.tracking = 1 AND d.path LIKE $1 AND ($2 = '' OR l.item_id = $2) \
     GROUP BY l.depot_code, d.path, d.tier, l.item_id, s.last_upkeep_day, s.next_upkeep_day";

/// Every unit of the subtree a schedule covers, with its due date.
pub(crate) async fn units(
    conn: &mut AnyConnection,
    subtree: &DepotPath,
    item: Option<&ItemId>,
    today: Day,
) -> Result<Vec<Placed>, StoreError> {
    let rows: Vec<UnitRow> = sqlx::query_as(UNITS)
        .bind(format!("{}%", subtree.as_str()))
        .bind(item.map(|i| i.to_string()).unwrap_or_default())
        .fetch_all(&mut *conn)
        .await?;
    let plans = load_plans(conn, item).await?;
    let mut items: BTreeMap<String, Option<Item>> = BTreeMap::new();
    let mut out = Vec::new();
    for r in rows {
        if !items.contains_key(&r.item_id) {
            let it = load_item(conn, &r.item_id).await?;
            items.insert(r.item_id.clone(), it);
        }
        let Some(Some(it)) = items.get(&r.item_id) else {
            continue;
        };
        if let Some(p) = place(&plans, it, r, today)? {
            out.push(p);
        }
    }
    Ok(out)
}

fn place(plans: &Plans, it: &Item, r: UnitRow, today: Day) -> Result<Option<Placed>, StoreError> {
    let serial = r.serial_number.map(SerialNumber::from_stored);
    let path = DepotPath::from_stored(r.path);
    let Some(schedule) = plans.schedule(it, &path, serial.as_ref()) else {
        return Ok(None);
    };
    let entered = Day::today(r.entered_at);
    let Some(due) = next_due(r.next_day.map(Day), Some(&schedule), entered) else {
        return Ok(None);
    };
    let tier = Tier::from_number(r.tier)
        .ok_or_else(|| StoreError::Corrupt(format!("depot {}: tier", r.depot_code)))?;
    Ok(Some(Placed {
        unit: DueUnit {
            depot: DepotCode::from_stored(r.depot_code),
            item: it.id.clone(),
            serial,
            units: r.units,
            due,
            overdue: is_overdue(due, today),
            last: r.last_day.map(Day),
            kind: schedule.kind,
            interval: schedule.interval,
        },
        tier,
        item_code: it.code.as_str().to_string(),
    }))
}

/// The serials of `item` at `depot` among `serials` that are overdue on
/// `today`, with their due dates: what the issue guard refuses.
/// The item's lines and assets at the depot as a pick should see them when
/// units overdue for upkeep on `today` are to be left out: the overdue
/// in-stock assets removed and their lines' free units reduced to match,
/// with how many were set aside (a reserve minimum checked against the
/// reduced stock must be lowered by as many, so that it means the same).
/// `None` when none is overdue (nothing to leave out).
pub(crate) async fn without_overdue(
    conn: &mut AnyConnection,
    depot: &DepotCode,
    item: &Item,
    lines: &[LineState],
    assets: &[AssetState],
    today: Day,
) -> Result<Option<(Vec<LineState>, Vec<AssetState>, i64)>, StoreError> {
    let free: Vec<SerialNumber> = assets
        .iter()
        .filter(|a| a.status == AssetStatus::InStock && a.holder.is_none())
        .map(|a| a.serial.clone())
        .collect();
    let overdue = overdue_serials(conn, depot, item, &free, today).await?;
    if overdue.is_empty() {
        return Ok(None);
    }
    let late: HashSet<&SerialNumber> = overdue.iter().map(|(s, _)| s).collect();
    let mut lines = lines.to_vec();
    let mut aside = 0i64;
    for a in assets.iter().filter(|a| late.contains(&a.serial)) {
        if let Some(l) = lines.iter_mut().find(|l| l.lot.id == a.lot) {
            // Set aside for this pick only: as if held.
            l.balance.held = l.balance.held.saturating_add(1);
            aside += 1;
        }
    }
    let assets = assets
        .iter()
        .filter(|a| !late.contains(&a.serial))
        .cloned()
        .collect();
    Ok(Some((lines, assets, aside)))
}

pub(crate) async fn overdue_serials(
    conn: &mut AnyConnection,
    depot: &DepotCode,
    item: &Item,
    serials: &[SerialNumber],
    today: Day,
) -> Result<Vec<(SerialNumber, Day)>, StoreError> {
    if serials.is_empty() {
        return Ok(Vec::new());
    }
    let (path,): (String,) = sqlx::query_as("SELECT path FROM depots WHERE code = $1")
        .bind(depot.as_str())
        .fetch_one(&mut *conn)
        .await?;
    let path = DepotPath::from_stored(path);
    let plans = load_plans(conn, Some(&item.id)).await?;
    let mut out = Vec::new();
    for s in serials {
        let Some(a) = super::load_asset_upkeep(conn, &item.id, s).await? else {
            continue;
        };
        let schedule = plans.schedule(item, &path, Some(s));
        if let Some(due) = next_due(
            a.next_upkeep_day.map(Day),
            schedule.as_ref(),
            Day::today(a.entered_at),
        ) && is_overdue(due, today)
        {
            out.push((s.clone(), due));
        }
    }
    Ok(out)
}

impl Store {
    /// Units of a subtree due within the horizon (or only overdue ones),
    /// soonest first.
    pub async fn list_due(
        &self,
        subtree: &DepotPath,
        f: &DueFilter,
        today: Day,
        size: PageSize,
        token: &str,
    ) -> Result<Page<DueUnit>, OpError<StockError>> {
        let filters = format!(
            "sub={};i={:?};h={};o={};d={}",
            subtree.as_str(),
            f.item,
            f.horizon_days,
            f.overdue_only,
            today.0
        );
        type Key = (i64, String, String, String);
        let after: Option<Key> = page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut conn = self.reader().acquire().await.map_err(StoreError::from)?;
        let limit = today.0.saturating_add(f.horizon_days);
        let key = |u: &DueUnit| -> Key {
            (
                u.due.0,
                u.depot.to_string(),
                u.item.to_string(),
                u.serial.as_ref().map(|s| s.to_string()).unwrap_or_default(),
            )
        };
        let mut rows: Vec<DueUnit> = units(&mut conn, subtree, f.item.as_ref(), today)
            .await?
            .into_iter()
            .map(|p| p.unit)
            .filter(|u| {
                if f.overdue_only {
                    u.overdue
                } else {
                    u.due.0 <= limit
                }
            })
            .filter(|u| after.as_ref().is_none_or(|a| &key(u) > a))
            .collect();
        rows.sort_by_key(key);
        rows.truncate(size.get() as usize + 1);
        Ok(page::finish(rows, size.get(), &filters, key))
    }

    /// Units overdue for upkeep per (tier, item code, depot, item) in a
    /// subtree: what roll-ups and shortfalls show.
    pub(crate) async fn overdue_units(
        &self,
        subtree: &DepotPath,
        item: Option<&ItemId>,
        today: Day,
    ) -> Result<Vec<(Tier, String, DepotCode, ItemId, i64)>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        let mut sums: BTreeMap<(i64, String, String, String), i64> = BTreeMap::new();
        for p in units(&mut conn, subtree, item, today).await? {
            if p.unit.overdue {
                let k = (
                    p.tier.number(),
                    p.item_code,
                    p.unit.depot.to_string(),
                    p.unit.item.to_string(),
                );
                let e = sums.entry(k).or_default();
                *e = e.saturating_add(p.unit.units);
            }
        }
        sums.into_iter()
            .map(|((t, code, d, i), n)| {
                Ok((
                    Tier::from_number(t).ok_or_else(|| StoreError::Corrupt("tier".into()))?,
                    code,
                    DepotCode::from_stored(d),
                    ItemId::from_stored(i),
                    n,
                ))
            })
            .collect()
    }
}
