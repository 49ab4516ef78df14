//! The item catalogue and reserve norms.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_depot;
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{Op, WriteMeta, Written};
use reserve_core::audit::{self, AuditRecord};
use reserve_core::depot::DepotPath;
use reserve_core::depot::{DepotCode, DepotStatus};
use reserve_core::item::{Item, ItemCode, ItemDraft, ItemError, ItemId, NewItem, Tracking};
use reserve_core::norm::{NewNorm, NormError, ReserveNorm};
use reserve_core::request::PageSize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};
use std::sync::LazyLock;

pub(crate) const ITEM_COLUMNS: &str = "id, code, name, specification, unit, tracking, shelf_life_days, \
     quality_test_interval_days, near_expiry_days, upkeep_interval_days, recoverable, leasable, \
     unit_value_fen, volume_per_unit_cm3, owner_depot, version, created_at, updated_at";

#[derive(FromRow)]
struct ItemRow {
    id: String,
    code: String,
    name: String,
    specification: String,
    unit: String,
    tracking: i64,
    shelf_life_days: i64,
    quality_test_interval_days: i64,
    near_expiry_days: i64,
    upkeep_interval_days: i64,
    recoverable: i64,
    leasable: i64,
    unit_value_fen: i64,
    volume_per_unit_cm3: i64,
    owner_depot: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

fn days(v: i64, what: &str, id: &str) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(|_| StoreError::Corrupt(format!("item {id}: {what}")))
}

/// The item columns qualified by a table alias, for joins.
pub(crate) fn item_columns(alias: &str) -> String {
    ITEM_COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn item_from(row: &AnyRow) -> Result<Item, StoreError> {
    let r = ItemRow::from_row(row)?;
    Ok(Item {
        tracking: Tracking::from_number(r.tracking)
            .ok_or_else(|| StoreError::Corrupt(format!("item {}: tracking", r.id)))?,
        shelf_life_days: days(r.shelf_life_days, "shelf life", &r.id)?,
        quality_test_interval_days: days(r.quality_test_interval_days, "quality test", &r.id)?,
        near_expiry_days: days(r.near_expiry_days, "near expiry", &r.id)?,
        upkeep_interval_days: days(r.upkeep_interval_days, "upkeep", &r.id)?,
        id: ItemId::from_stored(r.id),
        code: ItemCode::from_stored(r.code),
        name: r.name,
        specification: r.specification,
        unit: r.unit,
        recoverable: r.recoverable != 0,
        leasable: r.leasable != 0,
        unit_value_fen: r.unit_value_fen,
        volume_per_unit_cm3: r.volume_per_unit_cm3,
        owner: DepotCode::from_stored(r.owner_depot),
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Reads one item inside an open connection or transaction.
pub(crate) async fn load_item(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Item>, StoreError> {
    static ONE: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"));
    let row = sqlx::query(&ONE)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(item_from).transpose()
}

/// Filters of an item list.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    /// Only codes starting with these digits.
    pub code_prefix: Option<String>,
    /// Only this tracking mode.
    pub tracking: Option<Tracking>,
}

/// Filters of a norm list.
#[derive(Clone, Debug)]
pub struct NormFilter {
    /// The depot (and, with `descendants`, its subtree).
    pub depot: DepotPath,
    /// Include the subtree.
    pub descendants: bool,
    /// Only this item.
    pub item: Option<ItemId>,
}

#[derive(FromRow)]
struct NormRow {
    depot_code: String,
    item_id: String,
    minimum: i64,
    target: i64,
    version: i64,
    updated_at: i64,
}

impl From<NormRow> for ReserveNorm {
    fn from(r: NormRow) -> Self {
        ReserveNorm {
            depot: DepotCode::from_stored(r.depot_code),
            item: ItemId::from_stored(r.item_id),
            minimum: r.minimum,
            target: r.target,
            version: r.version,
            updated_at: r.updated_at,
        }
    }
}

impl Store {
    /// One item, if it exists.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn get_item(&self, id: &ItemId) -> Result<Option<Item>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        load_item(&mut conn, id.as_str()).await
    }

    /// Items in id order, filtered.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_items(
        &self,
        filter: &ItemFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Item>, OpError<ItemError>> {
        let filters = format!(
            "code={:?};tracking={:?}",
            filter.code_prefix, filter.tracking
        );
        let after: Option<String> = page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE 1 = 1"));
        if let Some(p) = &filter.code_prefix {
            sql.push(" AND code LIKE ?", Arg::Text(format!("{p}%")));
        }
        if let Some(t) = filter.tracking {
            sql.push(" AND tracking = ?", Arg::Int(t.number()));
        }
        if let Some(a) = after {
            sql.push(" AND id > ?", Arg::Text(a));
        }
        sql.push(" ORDER BY id LIMIT ?", Arg::Int(i64::from(size.get()) + 1));
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows.iter().map(item_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(items, size.get(), &filters, |i| {
            i.id.as_str().to_string()
        }))
    }

    /// Adds an item maintained by `owner`.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %new.id))]
    pub async fn create_item(
        &self,
        meta: &WriteMeta,
        new: NewItem,
        owner: DepotCode,
    ) -> Result<Written<Item>, OpError<ItemError>> {
        self.run(meta, &CreateItem { new, owner }).await
    }

    /// Changes the masked fields of an item.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
    pub async fn update_item(
        &self,
        meta: &WriteMeta,
        id: ItemId,
        etag: Option<i64>,
        mask: Vec<String>,
        values: ItemDraft,
    ) -> Result<Written<Item>, OpError<ItemError>> {
        self.run(
            meta,
            &UpdateItem {
                id,
                etag,
                mask,
                values,
            },
        )
        .await
    }

    /// Norms of a depot or subtree, by depot then item.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_norms(
        &self,
        filter: &NormFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<ReserveNorm>, OpError<NormError>> {
        let filters = format!(
            "depot={};desc={};item={:?}",
            filter.depot.as_str(),
            filter.descendants,
            filter.item
        );
        let after: Option<(String, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(
            "SELECT n.depot_code, n.item_id, n.minimum, n.target, n.version, n.updated_at \
             FROM reserve_norms n JOIN depots d ON d.code = n.depot_code WHERE ",
        );
        if filter.descendants {
            sql.push(
                "d.path LIKE ?",
                Arg::Text(format!("{}%", filter.depot.as_str())),
            );
        } else {
            sql.push("d.path = ?", Arg::Text(filter.depot.as_str().to_string()));
        }
        if let Some(i) = &filter.item {
            sql.push(" AND n.item_id = ?", Arg::Text(i.as_str().to_string()));
        }
        if let Some((d, i)) = after {
            sql.push(" AND (n.depot_code > ?", Arg::Text(d.clone()))
                .push(" OR (n.depot_code = ?", Arg::Text(d))
                .push(" AND n.item_id > ?))", Arg::Text(i));
        }
        sql.push(
            " ORDER BY n.depot_code, n.item_id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let norms = rows
            .iter()
            .map(|r| NormRow::from_row(r).map(ReserveNorm::from))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        Ok(page::finish(norms, size.get(), &filters, |n| {
            (n.depot.as_str().to_string(), n.item.as_str().to_string())
        }))
    }

    /// Creates or replaces a reserve norm.
    #[tracing::instrument(level = "debug", skip_all, fields(depot = %norm.depot, item = %norm.item))]
    pub async fn set_norm(
        &self,
        meta: &WriteMeta,
        norm: NewNorm,
        etag: Option<i64>,
    ) -> Result<Written<ReserveNorm>, OpError<NormError>> {
        self.run(meta, &SetNorm { norm, etag }).await
    }
}

async fn write_item(tx: &mut AnyConnection, i: &Item, insert: bool) -> Result<u64, StoreError> {
    let sql = if insert {
        format!(
            "INSERT INTO items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        )
    } else {
        "UPDATE items SET code = $2, name = $3, specification = $4, unit = $5, tracking = $6, \
         shelf_life_days = $7, quality_test_interval_days = $8, near_expiry_days = $9, \
         upkeep_interval_days = $10, recoverable = $11, leasable = $12, unit_value_fen = $13, \
         volume_per_unit_cm3 = $14, owner_depot = $15, version = $16, created_at = $17, updated_at = $18 \
         WHERE id = $1 AND version = $16 - 1"
            .to_string()
    };
    let n = sqlx::query(&sql)
        .bind(i.id.as_str())
        .bind(i.code.as_str())
        .bind(&i.name)
        .bind(&i.specification)
        .bind(&i.unit)
        .bind(i.tracking.number())
        .bind(i64::from(i.shelf_life_days))
        .bind(i64::from(i.quality_test_interval_days))
        .bind(i64::from(i.near_expiry_days))
        .bind(i64::from(i.upkeep_interval_days))
        .bind(i64::from(i.recoverable))
        .bind(i64::from(i.leasable))
        .bind(i.unit_value_fen)
        .bind(i.volume_per_unit_cm3)
        .bind(i.owner.as_str())
        .bind(i.version)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(n)
}

fn item_audit(i: &Item, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("items/{}", i.id),
        depot: i.owner.clone(),
        changes,
    }
}

struct CreateItem {
    new: NewItem,
    owner: DepotCode,
}

impl Op for CreateItem {
    type Output = Item;
    type Error = ItemError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> crate::write::Applied<Item, ItemError> {
        let now = meta.now;
        if load_item(tx, self.new.id.as_str()).await?.is_some() {
            return Err(OpError::Rule(ItemError::AlreadyExists(self.new.id.clone())));
        }
        let item = self.new.clone().into_item(self.owner.clone(), now);
        match write_item(tx, &item, true).await {
            Err(e) if e.is_unique_violation() => {
                return Err(OpError::Rule(ItemError::AlreadyExists(item.id.clone())));
            }
            other => other?,
        };
        let audit = item_audit(&item, audit::created(&item));
        Ok((item, audit))
    }
}

struct UpdateItem {
    id: ItemId,
    etag: Option<i64>,
    mask: Vec<String>,
    values: ItemDraft,
}

impl Op for UpdateItem {
    type Output = Item;
    type Error = ItemError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> crate::write::Applied<Item, ItemError> {
        let now = meta.now;
        let current = load_item(tx, self.id.as_str())
            .await?
            .ok_or_else(|| OpError::Rule(ItemError::NotFound(self.id.clone())))?;
        let stale = |sent| {
            OpError::Rule(ItemError::StaleEtag {
                item: current.id.clone(),
                sent,
                current: current.version,
            })
        };
        if let Some(sent) = self.etag.filter(|e| *e != current.version) {
            return Err(stale(sent));
        }
        let n = current
            .patched(&self.mask, &self.values)
            .map_err(|v| OpError::Rule(v.into()))?;
        let updated = Item {
            version: current.version + 1,
            updated_at: now,
            ..n.into_item(current.owner.clone(), current.created_at)
        };
        if write_item(tx, &updated, false).await? != 1 {
            // Changed since it was read: refused if the caller named a
            // version, else run again on the new one.
            return Err(match self.etag {
                Some(sent) => stale(sent),
                None => OpError::Store(crate::error::StoreError::Conflict),
            });
        }
        let audit = item_audit(&updated, audit::diff(&current, &updated));
        Ok((updated, audit))
    }
}

struct SetNorm {
    norm: NewNorm,
    etag: Option<i64>,
}

impl Op for SetNorm {
    type Output = ReserveNorm;
    type Error = NormError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> crate::write::Applied<ReserveNorm, NormError> {
        let now = meta.now;
        let n = &self.norm;
        let depot = load_depot(tx, n.depot.as_str())
            .await?
            .ok_or_else(|| OpError::Rule(NormError::DepotNotFound(n.depot.clone())))?;
        if depot.status == DepotStatus::Closed {
            return Err(OpError::Rule(NormError::DepotClosed(n.depot.clone())));
        }
        if load_item(tx, n.item.as_str()).await?.is_none() {
            return Err(OpError::Rule(NormError::ItemNotFound(n.item.clone())));
        }
        let current: Option<NormRow> = sqlx::query_as(
            "SELECT depot_code, item_id, minimum, target, version, updated_at FROM reserve_norms \
             WHERE depot_code = $1 AND item_id = $2",
        )
        .bind(n.depot.as_str())
        .bind(n.item.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let current = current.map(ReserveNorm::from);
        let stale = || {
            OpError::Rule(NormError::StaleEtag {
                depot: n.depot.clone(),
                item: n.item.clone(),
            })
        };
        let current_version = current.as_ref().map(|c| c.version).unwrap_or(0);
        if self.etag.is_some_and(|e| e != current_version) {
            return Err(stale());
        }
        let norm = ReserveNorm {
            depot: n.depot.clone(),
            item: n.item.clone(),
            minimum: n.minimum,
            target: n.target,
            version: current_version + 1,
            updated_at: now,
        };
        let written = if current.is_some() {
            sqlx::query(
                "UPDATE reserve_norms SET minimum = $1, target = $2, version = $3, updated_at = $4 \
                 WHERE depot_code = $5 AND item_id = $6 AND version = $7",
            )
            .bind(norm.minimum)
            .bind(norm.target)
            .bind(norm.version)
            .bind(norm.updated_at)
            .bind(norm.depot.as_str())
            .bind(norm.item.as_str())
            .bind(current_version)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            sqlx::query(
                "INSERT INTO reserve_norms (depot_code, item_id, minimum, target, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (depot_code, item_id) DO NOTHING",
            )
            .bind(norm.depot.as_str())
            .bind(norm.item.as_str())
            .bind(norm.minimum)
            .bind(norm.target)
            .bind(norm.version)
            .bind(norm.updated_at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if written != 1 {
            return Err(match self.etag {
                Some(_) => stale(),
                None => OpError::Store(crate::error::StoreError::Conflict),
            });
        }
        let changes = match &current {
            Some(c) => audit::diff(c, &norm),
            None => audit::created(&norm),
        };
        let audit = AuditRecord {
            resource: format!("depots/{}/norms/{}", norm.depot, norm.item),
            depot: norm.depot.clone(),
            changes,
        };
        Ok((norm, audit))
    }
}
