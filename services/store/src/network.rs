//! Depots: the tree of the reserve network.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{Op, WriteMeta, Written};
use reserve_core::audit::{self, AuditRecord};
use reserve_core::depot::{
    CloseBlockers, Contact, Depot, DepotCode, DepotError, DepotPatch, DepotPath, DepotStatus,
    DivisionCode, GeoPoint, NewDepot, check_close, check_etag,
};
use reserve_core::request::PageSize;
use reserve_core::tier::Tier;
use sqlx::AnyConnection;
use sqlx::FromRow;
use sqlx::any::AnyRow;
use std::sync::LazyLock;

const DEPOT_COLUMNS: &str = "code, name, tier, parent_code, path, division_code, latitude, longitude, address, \
     storage_area_m2, operating_unit, owning_tier, contacts, status, version, created_at, updated_at";

#[derive(FromRow)]
struct DepotRow {
    code: String,
    name: String,
    tier: i64,
    parent_code: Option<String>,
    path: String,
    division_code: String,
    latitude: f64,
    longitude: f64,
    address: String,
    storage_area_m2: f64,
    operating_unit: String,
    owning_tier: i64,
    contacts: String,
    status: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DepotRow> for Depot {
    type Error = StoreError;

    fn try_from(r: DepotRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("depot {}: {what}", r.code));
        Ok(Depot {
            tier: Tier::from_number(r.tier).ok_or_else(|| corrupt("tier"))?,
            owning_tier: Tier::from_number(r.owning_tier).ok_or_else(|| corrupt("owning tier"))?,
            status: DepotStatus::from_number(r.status).ok_or_else(|| corrupt("status"))?,
            contacts: serde_json::from_str::<Vec<Contact>>(&r.contacts)
                .map_err(|_| corrupt("contacts"))?,
            code: DepotCode::from_stored(r.code),
            name: r.name,
            parent: r.parent_code.map(DepotCode::from_stored),
            path: DepotPath::from_stored(r.path),
            division: DivisionCode::from_stored(r.division_code),
            location: GeoPoint {
                latitude: r.latitude,
                longitude: r.longitude,
            },
            address: r.address,
            storage_area_m2: r.storage_area_m2,
            operating_unit: r.operating_unit,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn depot_from(row: &AnyRow) -> Result<Depot, StoreError> {
    DepotRow::from_row(row)?.try_into()
}

/// Reads one depot inside an open connection or transaction.
pub(crate) async fn load_depot(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<Depot>, StoreError> {
    static ONE: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {DEPOT_COLUMNS} FROM depots WHERE code = $1"));
    let row = sqlx::query(&ONE)
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(depot_from).transpose()
}

/// Reads one depot and locks it against closing until the transaction ends:
/// a share lock on PostgreSQL (closing takes the row exclusively first), and
/// nothing more on SQLite, whose write transactions run one at a time. Every
/// write that brings stock into a depot reads it this way.
pub(crate) async fn load_depot_for_stock(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<Depot>, StoreError> {
    static SHARED: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {DEPOT_COLUMNS} FROM depots WHERE code = $1 FOR SHARE"));
    if conn.backend_name() != "PostgreSQL" {
        return load_depot(conn, code).await;
    }
    let row = sqlx::query(&SHARED)
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(depot_from).transpose()
}

/// Reads one depot and locks it for a change of the tree: closing it, or
/// hanging a depot under it. On PostgreSQL this waits for every write that
/// holds it with [`load_depot_for_stock`].
async fn load_depot_for_update(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<Depot>, StoreError> {
    static LOCKED: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {DEPOT_COLUMNS} FROM depots WHERE code = $1 FOR UPDATE"));
    if conn.backend_name() != "PostgreSQL" {
        return load_depot(conn, code).await;
    }
    let row = sqlx::query(&LOCKED)
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(depot_from).transpose()
}

/// Takes the network's one structure lock: creating, moving and closing
/// depots run one at a time, so none of them reads a path or a parent that
/// another is rewriting. They are rare, administrative changes.
async fn lock_tree(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE network_tree_lock SET changes = changes + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The caller's scope depot (path and tier) and the path of `target`, read
/// inside the transaction that acts on them.
pub(crate) async fn load_scope_and_path(
    conn: &mut AnyConnection,
    scope: &DepotCode,
    target: &DepotCode,
) -> Result<(Option<reserve_core::authz::Scope>, Option<DepotPath>), StoreError> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT code, path, tier FROM depots WHERE code = $1 OR code = $2")
            .bind(scope.as_str())
            .bind(target.as_str())
            .fetch_all(&mut *conn)
            .await?;
    let mut out = (None, None);
    for (code, path, tier) in rows {
        let path = DepotPath::from_stored(path);
        if code == scope.as_str() {
            out.0 = Some(reserve_core::authz::Scope {
                path: path.clone(),
                tier: Tier::from_number(tier)
                    .ok_or_else(|| StoreError::Corrupt(format!("depot {code}: tier")))?,
            });
        }
        if code == target.as_str() {
            out.1 = Some(path);
        }
    }
    Ok(out)
}

/// Filters of a depot list.
#[derive(Clone, Debug, Default)]
pub struct DepotFilter {
    /// Only this tier.
    pub tier: Option<Tier>,
    /// Only children of this depot.
    pub parent: Option<DepotCode>,
    /// Only this status.
    pub status: Option<DepotStatus>,
    /// Only division codes starting with these digits.
    pub division_prefix: Option<String>,
}

/// A short reference to a depot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepotRef {
    /// Code.
    pub code: DepotCode,
    /// Name.
    pub name: String,
    /// Tier.
    pub tier: Tier,
}

impl Store {
    /// One depot, if it exists.
    #[tracing::instrument(level = "debug", skip_all, fields(code))]
    pub async fn get_depot(&self, code: &DepotCode) -> Result<Option<Depot>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        load_depot(&mut conn, code.as_str()).await
    }

    /// The tree paths of the named depots that exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn depot_paths(
        &self,
        codes: &[&DepotCode],
    ) -> Result<Vec<(DepotCode, DepotPath)>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT code, path FROM depots WHERE code IN (");
        for (i, c) in codes.iter().enumerate() {
            if i > 0 {
                sql.raw(", ");
            }
            sql.push("?", Arg::Text(c.as_str().to_string()));
        }
        sql.raw(")");
        let rows = sql.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                let (code, path): (String, String) = sqlx::FromRow::from_row(r)?;
                Ok((DepotCode::from_stored(code), DepotPath::from_stored(path)))
            })
            .collect()
    }

    /// Depots inside `scope`, filtered, in code order.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_depots(
        &self,
        scope: &DepotPath,
        filter: &DepotFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Depot>, OpError<DepotError>> {
        let filters = format!(
            "scope={};tier={:?};parent={:?};status={:?};div={:?}",
            scope.as_str(),
            filter.tier,
            filter.parent,
            filter.status,
            filter.division_prefix
        );
        let after: Option<String> = page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!("SELECT {DEPOT_COLUMNS} FROM depots WHERE "));
        sql.push("path LIKE ?", Arg::Text(format!("{}%", scope.as_str())));
        if let Some(t) = filter.tier {
            sql.push(" AND tier = ?", Arg::Int(t.number()));
        }
        if let Some(p) = &filter.parent {
            sql.push(" AND parent_code = ?", Arg::Text(p.as_str().to_string()));
        }
        if let Some(s) = filter.status {
            sql.push(" AND status = ?", Arg::Int(s.number()));
        }
        if let Some(d) = &filter.division_prefix {
            sql.push(" AND division_code LIKE ?", Arg::Text(format!("{d}%")));
        }
        if let Some(a) = after {
            sql.push(" AND code > ?", Arg::Text(a));
        }
        sql.push(
            " ORDER BY code LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let depots = rows.iter().map(depot_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(depots, size.get(), &filters, |d| {
            d.code.as_str().to_string()
        }))
    }

    /// The subtree below `root` (without it), parents before children.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_descendants(
        &self,
        root: &DepotPath,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Depot>, OpError<DepotError>> {
        let filters = format!("root={}", root.as_str());
        let after: String = page::decode(token, &filters)
            .map_err(OpError::Invalid)?
            .unwrap_or_else(|| root.as_str().to_string());
        let mut sql = Sql::new(&format!("SELECT {DEPOT_COLUMNS} FROM depots WHERE "));
        sql.push("path LIKE ?", Arg::Text(format!("{}%", root.as_str())))
            .push(" AND path > ?", Arg::Text(after))
            .push(
                " ORDER BY path LIMIT ?",
                Arg::Int(i64::from(size.get()) + 1),
            );
        let rows = sql.fetch_all(self.reader()).await?;
        let depots = rows.iter().map(depot_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(depots, size.get(), &filters, |d| {
            d.path.as_str().to_string()
        }))
    }

    /// The depots above `path`, root first, without the depot itself.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ancestors(&self, path: &DepotPath) -> Result<Vec<DepotRef>, StoreError> {
        let codes = path.codes();
        let above = &codes[..codes.len().saturating_sub(1)];
        if above.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT code, name, tier FROM depots WHERE code IN (");
        for (i, c) in above.iter().enumerate() {
            if i > 0 {
                sql.raw(", ");
            }
            sql.push("?", Arg::Text((*c).to_string()));
        }
        sql.raw(") ORDER BY tier");
        let rows = sql.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                let (code, name, tier): (String, String, i64) = sqlx::FromRow::from_row(r)?;
                Ok(DepotRef {
                    code: DepotCode::from_stored(code),
                    name,
                    tier: Tier::from_number(tier)
                        .ok_or_else(|| StoreError::Corrupt("tier".into()))?,
                })
            })
            .collect()
    }

    /// Creates a depot under its parent.
    #[tracing::instrument(level = "debug", skip_all, fields(code = %new.code))]
    pub async fn create_depot(
        &self,
        meta: &WriteMeta,
        new: NewDepot,
    ) -> Result<Written<Depot>, OpError<DepotError>> {
        self.run(meta, &CreateDepot { new }).await
    }

    /// Applies an update to a depot.
    #[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
    pub async fn update_depot(
        &self,
        meta: &WriteMeta,
        code: DepotCode,
        etag: Option<i64>,
        patch: DepotPatch,
    ) -> Result<Written<Depot>, OpError<DepotError>> {
        self.run(meta, &UpdateDepot { code, etag, patch }).await
    }

    /// Closes a depot for good.
    #[tracing::instrument(level = "debug", skip_all, fields(code = %code))]
    pub async fn close_depot(
        &self,
        meta: &WriteMeta,
        code: DepotCode,
        etag: Option<i64>,
        reason: String,
    ) -> Result<Written<Depot>, OpError<DepotError>> {
        self.run(meta, &CloseDepot { code, etag, reason }).await
    }
}

async fn insert_depot(tx: &mut AnyConnection, d: &Depot) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO depots ({DEPOT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(d.code.as_str())
    .bind(&d.name)
    .bind(d.tier.number())
    .bind(d.parent.as_ref().map(|p| p.as_str().to_string()))
    .bind(d.path.as_str())
    .bind(d.division.as_str())
    .bind(d.location.latitude)
    .bind(d.location.longitude)
    .bind(&d.address)
    .bind(d.storage_area_m2)
    .bind(&d.operating_unit)
    .bind(d.owning_tier.number())
    .bind(serde_json::to_string(&d.contacts)?)
    .bind(d.status.number())
    .bind(d.version)
    .bind(d.created_at)
    .bind(d.updated_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Writes every mutable column of `d` if the stored version is still `expected_version`.
async fn store_depot(
    tx: &mut AnyConnection,
    d: &Depot,
    expected_version: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE depots SET name = $1, parent_code = $2, path = $3, division_code = $4, latitude = $5, \
         longitude = $6, address = $7, storage_area_m2 = $8, operating_unit = $9, owning_tier = $10, \
         contacts = $11, status = $12, version = $13, updated_at = $14 WHERE code = $15 AND version = $16",
    )
    .bind(&d.name)
    .bind(d.parent.as_ref().map(|p| p.as_str().to_string()))
    .bind(d.path.as_str())
    .bind(d.division.as_str())
    .bind(d.location.latitude)
    .bind(d.location.longitude)
    .bind(&d.address)
    .bind(d.storage_area_m2)
    .bind(&d.operating_unit)
    .bind(d.owning_tier.number())
    .bind(serde_json::to_string(&d.contacts)?)
    .bind(d.status.number())
    .bind(d.version)
    .bind(d.updated_at)
    .bind(d.code.as_str())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The answer when the row changed between reading and writing it: with an
/// etag the caller asked for that version, so the change is refused; without
/// one the transaction is simply run again on the new version.
fn stale(d: &Depot, sent: Option<i64>) -> OpError<DepotError> {
    match sent {
        Some(sent) => OpError::Rule(DepotError::StaleEtag {
            depot: d.code.clone(),
            sent,
            current: d.version + 1,
        }),
        None => OpError::Store(StoreError::Conflict),
    }
}

fn depot_audit(d: &Depot, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("depots/{}", d.code),
        depot: d.code.clone(),
        changes,
    }
}

struct CreateDepot {
    new: NewDepot,
}

impl Op for CreateDepot {
    type Output = Depot;
    type Error = DepotError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> crate::write::Applied<Depot, DepotError> {
        let now = meta.now;
        let new = &self.new;
        lock_tree(tx).await?;
        if load_depot(tx, new.code.as_str()).await?.is_some() {
            return Err(OpError::Rule(DepotError::AlreadyExists(new.code.clone())));
        }
        let parent = match &new.parent {
            Some(p) => load_depot_for_update(tx, p.as_str()).await?,
            None => None,
        };
        let path = new.place_under(parent.as_ref()).map_err(OpError::Rule)?;
        let depot = new.clone().into_depot(path, now);
        match insert_depot(tx, &depot).await {
            Err(e) if e.is_unique_violation() => {
                return Err(OpError::Rule(DepotError::AlreadyExists(new.code.clone())));
            }
            other => other?,
        }
        let audit = depot_audit(&depot, audit::created(&depot));
        Ok((depot, audit))
    }
}

struct UpdateDepot {
    code: DepotCode,
    etag: Option<i64>,
    patch: DepotPatch,
}

impl Op for UpdateDepot {
    type Output = Depot;
    type Error = DepotError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> crate::write::Applied<Depot, DepotError> {
        let now = meta.now;
        lock_tree(tx).await?;
        let current = load_depot_for_update(tx, self.code.as_str())
            .await?
            .ok_or_else(|| OpError::Rule(DepotError::NotFound(self.code.clone())))?;
        check_etag(&current.code, self.etag, current.version).map_err(OpError::Rule)?;
        let change = self
            .patch
            .check(&current)
            .map_err(|v| OpError::Rule(v.into()))?;
        let parent = match &change.after.parent {
            Some(p) => load_depot_for_update(tx, p.as_str()).await?,
            None => None,
        };
        let child_divisions: Vec<DivisionCode> = if change.division_changes {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT division_code FROM depots WHERE parent_code = $1")
                    .bind(current.code.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
            rows.into_iter()
                .map(|(d,)| DivisionCode::from_stored(d))
                .collect()
        } else {
            Vec::new()
        };
        let path = change
            .check_against(&current, parent.as_ref(), &child_divisions)
            .map_err(OpError::Rule)?;
        let a = change.after;
        let updated = Depot {
            code: current.code.clone(),
            name: a.name,
            tier: current.tier,
            parent: a.parent,
            division: a.division,
            location: a.location,
            address: a.address,
            storage_area_m2: a.storage_area_m2,
            operating_unit: a.operating_unit,
            owning_tier: a.owning_tier,
            contacts: a.contacts,
            status: a.status,
            path: path.clone(),
            version: current.version + 1,
            created_at: current.created_at,
            updated_at: now,
        };
        if !store_depot(tx, &updated, current.version).await? {
            return Err(stale(&current, self.etag));
        }
        if change.moves {
            // Rewrite the paths of the whole subtree below the moved depot.
            let old = current.path.as_str();
            sqlx::query(
                "UPDATE depots SET path = $1 || substr(path, CAST($2 AS INTEGER)) \
                 WHERE path LIKE $3 AND code <> $4",
            )
            .bind(path.as_str())
            .bind(old.len() as i64 + 1)
            .bind(format!("{old}%"))
            .bind(current.code.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let audit = depot_audit(&updated, audit::diff(&current, &updated));
        Ok((updated, audit))
    }
}

struct CloseDepot {
    code: DepotCode,
    etag: Option<i64>,
    reason: String,
}

impl Op for CloseDepot {
    type Output = Depot;
    type Error = DepotError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> crate::write::Applied<Depot, DepotError> {
        let now = meta.now;
        lock_tree(tx).await?;
        // Exclusive on PostgreSQL: receipts in flight finish first, and later
        // ones find the depot closed.
        let current = load_depot_for_update(tx, self.code.as_str())
            .await?
            .ok_or_else(|| OpError::Rule(DepotError::NotFound(self.code.clone())))?;
        check_etag(&current.code, self.etag, current.version).map_err(OpError::Rule)?;
        let (open_children,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM depots WHERE parent_code = $1 AND status <> $2")
                .bind(current.code.as_str())
                .bind(DepotStatus::Closed.number())
                .fetch_one(&mut *tx)
                .await?;
        let (units,): (i64,) =
            sqlx::query_as("SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM stock_lines WHERE depot_code = $1")
                .bind(current.code.as_str())
                .fetch_one(&mut *tx)
                .await?;
        let documents: Vec<(String,)> = sqlx::query_as(
            "SELECT 'stockCounts/' || id FROM stock_counts WHERE depot_code = $1 AND status IN (1, 2) \
             UNION ALL SELECT 'adjustments/' || id FROM adjustments WHERE depot_code = $1 AND status = 1 \
             UNION ALL SELECT 'scrapApplications/' || id FROM scrap_applications WHERE depot_code = $1 AND status = 1 \
             UNION ALL SELECT 'allocationOrders/' || o.number FROM allocation_orders o \
               JOIN allocation_order_depots od ON od.order_id = o.id WHERE od.depot_code = $1 AND o.state IN (1, 2, 3, 4, 5) \
             UNION ALL SELECT 'leases/' || number FROM leases WHERE depot_code = $1 AND state = 1",
        )
        .bind(current.code.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let blockers = CloseBlockers {
            open_children,
            units_in_stock: units,
            open_documents: documents.into_iter().map(|(d,)| d).collect(),
        };
        check_close(&current, &blockers).map_err(OpError::Rule)?;
        let closed = Depot {
            status: DepotStatus::Closed,
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        if !store_depot(tx, &closed, current.version).await? {
            return Err(stale(&closed, self.etag));
        }
        let mut changes = audit::diff(&current, &closed);
        if let Some(m) = changes.as_object_mut() {
            m.insert(
                "reason".into(),
                serde_json::Value::String(self.reason.clone()),
            );
        }
        Ok((closed.clone(), depot_audit(&closed, changes)))
    }
}
