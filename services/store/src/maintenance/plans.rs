//! Upkeep plans: set (or replace) and deactivate, each a compare-and-set on
//! the plan's version; listed over a subtree.

use super::{PLAN_COLUMNS, authorize, load_asset_upkeep, plan_from};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::stock::rule;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::maintenance::planner;
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::maintenance::plan::{NewPlan, Plan, PlanTarget};
use reserve_core::request::{Etag, PageSize};
use reserve_core::stock::StockError;
use reserve_core::stock::document::DocId;
use serde_json::json;
use sqlx::AnyConnection;

async fn load_by(
    tx: &mut AnyConnection,
    column: &str,
    value: &str,
) -> Result<Option<Plan>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {PLAN_COLUMNS} FROM upkeep_plans p WHERE p.{column} = $1"
    ))
    .bind(value)
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref().map(plan_from).transpose()
}

/// The depot whose authority a plan needs: its own, or its asset's.
async fn plan_depot(
    tx: &mut AnyConnection,
    target: &PlanTarget,
) -> Result<DepotCode, OpError<StockError>> {
    match target {
        PlanTarget::Item { depot, .. } => Ok(depot.clone()),
        PlanTarget::Asset { item, serial } => match load_asset_upkeep(tx, item, serial).await? {
            Some(a) => Ok(DepotCode::from_stored(a.depot_code)),
            None => rule(StockError::DocumentNotFound {
                kind: "assets",
                id: format!("{item}/{serial}"),
            }),
        },
    }
}

fn audit(plan: &Plan, depot: &DepotCode, what: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("upkeepPlans/{}", plan.id),
        depot: depot.clone(),
        changes: json!({ "plan": plan.target.key(), "change": what }),
    }
}

impl Store {
    /// Sets the plan of a target, replacing the one in force.
    pub async fn set_plan(
        &self,
        meta: &WriteMeta,
        new: NewPlan,
    ) -> Result<Written<Plan>, OpError<StockError>> {
        self.run(meta, &SetOp { new }).await
    }

    /// Ends a plan.
    pub async fn deactivate_plan(
        &self,
        meta: &WriteMeta,
        id: DocId,
        etag: Option<Etag>,
    ) -> Result<Written<Plan>, OpError<StockError>> {
        self.run(meta, &DeactivateOp { id, etag }).await
    }

    /// Plans of a subtree: item plans at its depots and asset plans of
    /// assets there, by id.
    pub async fn list_plans(
        &self,
        subtree: &DepotPath,
        item: Option<&ItemId>,
        include_inactive: bool,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Plan>, OpError<StockError>> {
        let filters = format!("sub={};i={item:?};x={include_inactive}", subtree.as_str());
        let after: Option<String> = page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {PLAN_COLUMNS} FROM upkeep_plans p \
             LEFT JOIN assets a ON a.item_id = p.item_id AND a.serial_number = p.serial_number \
             JOIN depots d ON d.code = COALESCE(p.depot_code, a.depot_code) WHERE "
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if let Some(i) = item {
            sql.push(" AND p.item_id = ?", Arg::Text(i.to_string()));
        }
        if !include_inactive {
            sql.raw(" AND p.active = 1");
        }
        if let Some(id) = after {
            sql.push(" AND p.id > ?", Arg::Text(id));
        }
        sql.push(
            " ORDER BY p.id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows.iter().map(plan_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(items, size.get(), &filters, |p| p.id.clone()))
    }
}

struct SetOp {
    new: NewPlan,
}

impl Op for SetOp {
    type Output = Plan;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Plan, StockError> {
        let n = &self.new;
        if crate::catalog::load_item(tx, n.target.item().as_str())
            .await?
            .is_none()
        {
            return rule(StockError::ItemNotFound(n.target.item().to_string()));
        }
        let depot = plan_depot(tx, &n.target).await?;
        authorize(tx, meta, &depot, planner).await?;
        let key = n.target.key();
        let existing = load_by(tx, "target_key", &key).await?;
        let plan = Plan {
            id: existing
                .as_ref()
                .map(|p| p.id.clone())
                .unwrap_or_else(crate::stock::rows::new_id),
            target: n.target.clone(),
            interval: n.interval,
            kind: n.kind,
            note: n.note.clone(),
            active: true,
            set_by: meta.actor.subject.clone(),
            updated_at: meta.now,
            version: existing.as_ref().map_or(1, |p| p.version + 1),
        };
        let (depot_col, serial_col) = match &plan.target {
            PlanTarget::Item { depot, .. } => (Some(depot.to_string()), None),
            PlanTarget::Asset { serial, .. } => (None, Some(serial.to_string())),
        };
        match &existing {
            None => {
                sqlx::query(
                    "INSERT INTO upkeep_plans (id, target_key, depot_code, item_id, serial_number, interval_days, \
                     interval_months, kind, note, active, set_by, updated_at, version) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12)",
                )
                .bind(&plan.id)
                .bind(&key)
                .bind(depot_col)
                .bind(plan.target.item().as_str())
                .bind(serial_col)
                .bind(plan.interval.days())
                .bind(plan.interval.months())
                .bind(plan.kind.number())
                .bind(&plan.note)
                .bind(&plan.set_by)
                .bind(plan.updated_at)
                .bind(plan.version)
                .execute(&mut *tx)
                .await?;
            }
            Some(old) => {
                let n = sqlx::query(
                    "UPDATE upkeep_plans SET interval_days = $1, interval_months = $2, kind = $3, note = $4, \
                     active = 1, set_by = $5, updated_at = $6, version = $7 WHERE id = $8 AND version = $9",
                )
                .bind(plan.interval.days())
                .bind(plan.interval.months())
                .bind(plan.kind.number())
                .bind(&plan.note)
                .bind(&plan.set_by)
                .bind(plan.updated_at)
                .bind(plan.version)
                .bind(&plan.id)
                .bind(old.version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(OpError::Store(StoreError::Conflict));
                }
            }
        }
        let audit = audit(
            &plan,
            &depot,
            json!({"interval": plan.interval.describe(), "kind": plan.kind.name(),
                "replaced": existing.map(|p| p.interval.describe())}),
        );
        Ok((plan, audit))
    }
}

struct DeactivateOp {
    id: DocId,
    etag: Option<Etag>,
}

impl Op for DeactivateOp {
    type Output = Plan;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Plan, StockError> {
        let Some(old) = load_by(tx, "id", self.id.as_str()).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "upkeepPlans",
                id: self.id.to_string(),
            });
        };
        let depot = plan_depot(tx, &old.target).await?;
        authorize(tx, meta, &depot, planner).await?;
        if let Some(e) = self.etag
            && e.version() != old.version
        {
            return rule(StockError::StaleEtag {
                kind: "upkeepPlans",
                id: old.id.clone(),
                sent: e.version(),
                current: old.version,
            });
        }
        if !old.active {
            return rule(StockError::InvalidTransition {
                kind: "upkeepPlans",
                id: old.id.clone(),
                status: "inactive",
                action: "deactivated",
            });
        }
        let plan = Plan {
            active: false,
            set_by: meta.actor.subject.clone(),
            updated_at: meta.now,
            version: old.version + 1,
            ..old.clone()
        };
        let n = sqlx::query(
            "UPDATE upkeep_plans SET active = 0, set_by = $1, updated_at = $2, version = $3 \
             WHERE id = $4 AND version = $5",
        )
        .bind(&plan.set_by)
        .bind(plan.updated_at)
        .bind(plan.version)
        .bind(&plan.id)
        .bind(old.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(OpError::Store(StoreError::Conflict));
        }
        let audit = audit(&plan, &depot, json!({"active": [true, false]}));
        Ok((plan, audit))
    }
}
