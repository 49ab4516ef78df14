//! Maintenance: upkeep plans, records, due lists and repairs. Each write op
//! is load / authorise (core) / plan (core) / write / audit, inside
//! [`Store::run`]; repairs post their holds through the stock ledger's one
//! writer ([`crate::stock::post`]).

pub mod due;
pub mod plans;
pub mod records;
pub mod repairs;

pub use due::DueFilter;
pub use records::RecordPosted;
pub use repairs::{RepairFilter, RepairPosted};

use crate::error::{OpError, StoreError};
use crate::network::load_scope_and_path;
use crate::write::WriteMeta;
use reserve_core::authz::{Denied, Principal};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::maintenance::UpkeepKind;
use reserve_core::maintenance::calendar::Interval;
use reserve_core::maintenance::plan::{Plan, PlanTarget, Plans};
use reserve_core::stock::{SerialNumber, StockError};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

/// A rule of who may act where, as in `core::authz::maintenance`.
pub(crate) type Rule =
    fn(&Principal, Option<&DepotPath>, &DepotCode, &DepotPath) -> Result<(), Denied>;

/// Applies `rule` to the caller at `depot`; returns the depot's path.
pub(crate) async fn authorize(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    depot: &DepotCode,
    rule: Rule,
) -> Result<DepotPath, OpError<StockError>> {
    let (scope, path) = load_scope_and_path(tx, &meta.actor.scope, depot).await?;
    let Some(path) = path else {
        return Err(OpError::Rule(StockError::DepotNotFound(depot.to_string())));
    };
    rule(&meta.actor, scope.as_ref().map(|s| &s.path), depot, &path)
        .map_err(|d| OpError::Rule(d.into()))?;
    Ok(path)
}

pub(crate) const PLAN_COLUMNS: &str = "p.id, p.depot_code, p.item_id, p.serial_number, p.interval_days, \
     p.interval_months, p.kind, p.note, p.active, p.set_by, p.updated_at, p.version";

#[derive(FromRow)]
struct PlanRow {
    id: String,
    depot_code: Option<String>,
    item_id: String,
    serial_number: Option<String>,
    interval_days: i64,
    interval_months: i64,
    kind: i64,
    note: String,
    active: i64,
    set_by: String,
    updated_at: i64,
    version: i64,
}

pub(crate) fn plan_from(row: &AnyRow) -> Result<Plan, StoreError> {
    let r = PlanRow::from_row(row)?;
    let corrupt = |w: &str| StoreError::Corrupt(format!("upkeep plan {}: {w}", r.id));
    let item = ItemId::from_stored(r.item_id.clone());
    let target = match (&r.depot_code, &r.serial_number) {
        (Some(d), None) => PlanTarget::Item {
            depot: DepotCode::from_stored(d.clone()),
            item,
        },
        (None, Some(s)) => PlanTarget::Asset {
            item,
            serial: SerialNumber::from_stored(s.clone()),
        },
        _ => return Err(corrupt("target")),
    };
    Ok(Plan {
        interval: Interval::parse(r.interval_days, r.interval_months)
            .map_err(|_| corrupt("interval"))?,
        kind: UpkeepKind::from_number(r.kind).ok_or_else(|| corrupt("kind"))?,
        id: r.id,
        target,
        note: r.note,
        active: r.active == 1,
        set_by: r.set_by,
        updated_at: r.updated_at,
        version: r.version,
    })
}

/// The active plans of `item` (every item when `None`), item plans with
/// the path of their depot.
pub(crate) async fn load_plans(
    conn: &mut AnyConnection,
    item: Option<&ItemId>,
) -> Result<Plans, StoreError> {
    let sql = format!(
        "SELECT {PLAN_COLUMNS}, d.path FROM upkeep_plans p LEFT JOIN depots d ON d.code = p.depot_code \
         WHERE p.active = 1 AND ($1 = '' OR p.item_id = $1)"
    );
    let rows = sqlx::query(&sql)
        .bind(item.map(|i| i.to_string()).unwrap_or_default())
        .fetch_all(&mut *conn)
        .await?;
    let mut plans = Plans::default();
    for row in &rows {
        let p = plan_from(row)?;
        let path: Option<String> = sqlx::Row::try_get(row, "path")?;
        match (&p.target, path) {
            (PlanTarget::Item { .. }, Some(path)) => {
                plans.items.push((DepotPath::from_stored(path), p))
            }
            (PlanTarget::Asset { .. }, _) => plans.assets.push(p),
            (PlanTarget::Item { .. }, None) => {
                return Err(StoreError::Corrupt(format!("upkeep plan {}: depot", p.id)));
            }
        }
    }
    Ok(plans)
}

/// An asset with its upkeep columns.
#[derive(Clone, Debug, FromRow)]
pub(crate) struct AssetUpkeep {
    pub depot_code: String,
    pub status: i64,
    pub last_upkeep_day: Option<i64>,
    pub next_upkeep_day: Option<i64>,
    pub entered_at: i64,
}

/// One asset's place and upkeep, if it exists.
pub(crate) async fn load_asset_upkeep(
    conn: &mut AnyConnection,
    item: &ItemId,
    serial: &SerialNumber,
) -> Result<Option<AssetUpkeep>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT a.depot_code, a.status, a.last_upkeep_day, a.next_upkeep_day, t.created_at AS entered_at \
         FROM assets a JOIN lots t ON t.id = a.lot_id WHERE a.item_id = $1 AND a.serial_number = $2",
    )
    .bind(item.as_str())
    .bind(serial.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}
