//! Repairs: start (the repair holds its asset), finish (repaired, or beyond
//! repair into a new scrap application in the same transaction), get and
//! list. Each op is load / authorise / transition (core) / post / save /
//! audit; the repair moves by compare-and-set on its version.

use super::records::append;
use super::{authorize, load_plans};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::stock::post::{Posted, post};
use crate::stock::rows::{item_or_refuse, load_assets, load_line, new_id};
use crate::stock::scrap::insert_scrap;
use crate::stock::{rule, summary};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::maintenance::maintainer;
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::maintenance::record::Record;
use reserve_core::maintenance::repair::{
    Finish, NewRepair, Repair, RepairAction, RepairPlan, RepairStatus, RepairWorld,
    repair_transition,
};
use reserve_core::request::PageSize;
use reserve_core::stock::document::DocId;
use reserve_core::stock::scrap::ScrapApplication;
use reserve_core::stock::{Acting, Day, LedgerEntry, LotId, LotNumber, SerialNumber, StockError};
use reserve_core::time::UtcMillis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

const COLUMNS: &str = "r.id, r.depot_code, r.item_id, r.lot_id, t.lot_number, r.serial_number, r.fault, r.status, \
     r.started_by, r.started_at, r.finished_by, r.finished_at, r.cost_fen, r.notes, r.hold_entry_id, \
     r.final_entry_id, r.scrap_application_id, r.version";

#[derive(FromRow)]
struct Row {
    id: String,
    depot_code: String,
    item_id: String,
    lot_id: String,
    lot_number: String,
    serial_number: String,
    fault: String,
    status: i64,
    started_by: String,
    started_at: i64,
    finished_by: Option<String>,
    finished_at: Option<i64>,
    cost_fen: i64,
    notes: String,
    hold_entry_id: String,
    final_entry_id: Option<String>,
    scrap_application_id: Option<String>,
    version: i64,
}

pub(crate) fn repair_from(row: &AnyRow) -> Result<Repair, StoreError> {
    let r = Row::from_row(row)?;
    Ok(Repair {
        status: RepairStatus::from_number(r.status)
            .ok_or_else(|| StoreError::Corrupt(format!("repair {}: status", r.id)))?,
        id: r.id,
        depot: DepotCode::from_stored(r.depot_code),
        item: ItemId::from_stored(r.item_id),
        lot: LotId(r.lot_id),
        lot_number: LotNumber::from_stored(r.lot_number),
        serial: SerialNumber::from_stored(r.serial_number),
        fault: r.fault,
        started_by: r.started_by,
        started_at: r.started_at,
        finished_by: r.finished_by,
        finished_at: r.finished_at,
        cost_fen: r.cost_fen,
        notes: r.notes,
        hold_entry_id: r.hold_entry_id,
        final_entry_id: r.final_entry_id,
        scrap_application: r.scrap_application_id,
        version: r.version,
    })
}

/// Repair columns and the join they need, for other readers.
pub(crate) fn select_repairs() -> String {
    format!("SELECT {COLUMNS} FROM repairs r JOIN lots t ON t.id = r.lot_id")
}

async fn load(tx: &mut AnyConnection, id: &str) -> Result<Option<Repair>, StoreError> {
    let row = sqlx::query(&format!("{} WHERE r.id = $1", select_repairs()))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    row.as_ref().map(repair_from).transpose()
}

/// A repair, the entries its step posted, and what it opened or recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairPosted {
    /// The repair.
    pub repair: Repair,
    /// Every entry posted, the repair's first, then the scrap application's.
    pub entries: Vec<LedgerEntry>,
    /// The scrap application opened beyond repair.
    pub scrap: Option<ScrapApplication>,
    /// The repair record kept on finishing.
    pub record: Option<Record>,
}

/// Filters of a repair list.
#[derive(Clone, Debug, Default)]
pub struct RepairFilter {
    /// Only open repairs.
    pub open_only: bool,
    /// Only open repairs started more than this many whole days before `now`.
    pub open_longer_than_days: Option<i64>,
    /// The instant the age is measured at (each page's own: a repair that
    /// crosses the age between pages sorts after the cursor).
    pub now: UtcMillis,
}

impl Store {
    /// Sends an asset for repair.
    pub async fn start_repair(
        &self,
        meta: &WriteMeta,
        new: NewRepair,
    ) -> Result<Written<RepairPosted>, OpError<StockError>> {
        self.run(meta, &StartOp { new }).await
    }

    /// Ends a repair.
    pub async fn finish_repair(
        &self,
        meta: &WriteMeta,
        finish: Finish,
    ) -> Result<Written<RepairPosted>, OpError<StockError>> {
        self.run(meta, &FinishOp { finish }).await
    }

    /// One repair.
    pub async fn get_repair(&self, id: &DocId) -> Result<Option<Repair>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load(&mut c, id.as_str()).await
    }

    /// Repairs of a subtree, oldest start first.
    pub async fn list_repairs(
        &self,
        subtree: &DepotPath,
        f: &RepairFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Repair>, OpError<StockError>> {
        let filters = format!(
            "sub={};o={};d={:?}",
            subtree.as_str(),
            f.open_only,
            f.open_longer_than_days
        );
        let open_since_before = f
            .open_longer_than_days
            .map(|d| f.now.saturating_sub(d.saturating_mul(86_400_000)));
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "{} JOIN depots d ON d.code = r.depot_code WHERE ",
            select_repairs()
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if f.open_only || open_since_before.is_some() {
            sql.raw(" AND r.status = 1");
        }
        if let Some(before) = open_since_before {
            sql.push(" AND r.started_at < ?", Arg::Int(before));
        }
        if let Some((at, id)) = after {
            sql.push(" AND (r.started_at, r.id) > (?", Arg::Int(at))
                .push(", ?)", Arg::Text(id));
        }
        sql.push(
            " ORDER BY r.started_at, r.id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows
            .iter()
            .map(repair_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(items, size.get(), &filters, |r| {
            (r.started_at, r.id.clone())
        }))
    }
}

/// Posts a repair plan: the repair's entries, a scrap application's, the
/// record, the asset's condition. Returns every entry posted.
async fn write_plan(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    plan: &RepairPlan,
    near_expiry_days: i32,
) -> Result<Vec<LedgerEntry>, OpError<StockError>> {
    let Posted { mut entries, .. } =
        post(tx, meta, plan.repair.entries.clone(), near_expiry_days).await?;
    if let Some(s) = &plan.scrap {
        let Posted { entries: more, .. } =
            post(tx, meta, s.entries.clone(), near_expiry_days).await?;
        entries.extend(more);
        insert_scrap(tx, &s.doc).await?;
    }
    match &plan.record {
        Some(rec) => {
            append(tx, rec, meta.now).await?;
        }
        None => {
            let r = &plan.repair.doc;
            sqlx::query(
                "UPDATE assets SET condition = $1 WHERE item_id = $2 AND serial_number = $3",
            )
            .bind(plan.condition.number())
            .bind(r.item.as_str())
            .bind(r.serial.as_str())
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(entries)
}

struct StartOp {
    new: NewRepair,
}

impl Op for StartOp {
    type Output = RepairPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<RepairPosted, StockError> {
        let n = &self.new;
        authorize(tx, meta, &n.depot, maintainer).await?;
        let item = item_or_refuse(tx, &n.item).await?;
        let assets = load_assets(tx, n.item.as_str(), std::slice::from_ref(&n.serial)).await?;
        let Some(asset) = assets.first() else {
            return rule(StockError::DocumentNotFound {
                kind: "assets",
                id: format!("{}/{}", n.item, n.serial),
            });
        };
        let Some(line) = load_line(tx, asset.depot.as_str(), asset.lot.as_str()).await? else {
            return Err(OpError::Store(StoreError::Corrupt(format!(
                "asset {} has no stock line",
                n.serial
            ))));
        };
        let state = line.state();
        let world = RepairWorld {
            item: &item,
            asset,
            line: &state,
            schedule: None,
            today: Day::today(meta.now),
        };
        let acting = Acting {
            who: &meta.actor.subject,
            now: meta.now,
            etag: None,
        };
        let id = new_id();
        let plan = repair_transition(
            None,
            RepairAction::Start(n, &id),
            acting,
            &world,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let entries = write_plan(tx, meta, &plan, item.near_expiry_days).await?;
        let r = &plan.repair.doc;
        sqlx::query(
            "INSERT INTO repairs (id, depot_code, item_id, lot_id, serial_number, fault, status, started_by, \
             started_at, finished_by, finished_at, cost_fen, notes, hold_entry_id, final_entry_id, \
             scrap_application_id, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, 0, '', $10, NULL, NULL, $11)",
        )
        .bind(&r.id)
        .bind(r.depot.as_str())
        .bind(r.item.as_str())
        .bind(r.lot.as_str())
        .bind(r.serial.as_str())
        .bind(&r.fault)
        .bind(r.status.number())
        .bind(&r.started_by)
        .bind(r.started_at)
        .bind(&r.hold_entry_id)
        .bind(r.version)
        .execute(&mut *tx)
        .await?;
        let audit = summary::document(
            &r.doc_ref(),
            &r.depot,
            json!({"started": {"serial": r.serial.as_str(), "fault": r.fault}}),
            &entries,
        );
        Ok((
            RepairPosted {
                repair: plan.repair.doc,
                entries,
                scrap: None,
                record: None,
            },
            audit,
        ))
    }
}

struct FinishOp {
    finish: Finish,
}

impl Op for FinishOp {
    type Output = RepairPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<RepairPosted, StockError> {
        let f = &self.finish;
        let Some(repair) = load(tx, f.id.as_str()).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "repairs",
                id: f.id.to_string(),
            });
        };
        let path = authorize(tx, meta, &repair.depot, maintainer).await?;
        let item = item_or_refuse(tx, &repair.item).await?;
        let assets = load_assets(
            tx,
            repair.item.as_str(),
            std::slice::from_ref(&repair.serial),
        )
        .await?;
        let (Some(asset), Some(line)) = (
            assets.first(),
            load_line(tx, repair.depot.as_str(), repair.lot.as_str()).await?,
        ) else {
            return rule(StockError::DocumentUnitsMissing {
                document: repair.doc_ref().name(),
                lot: repair.lot_number.as_str().to_string(),
            });
        };
        let plans = load_plans(tx, Some(&repair.item)).await?;
        let schedule = plans.schedule(&item, &path, Some(&repair.serial));
        let state = line.state();
        let world = RepairWorld {
            item: &item,
            asset,
            line: &state,
            schedule: schedule.as_ref(),
            today: Day::today(meta.now),
        };
        let acting = Acting {
            who: &meta.actor.subject,
            now: meta.now,
            etag: f.etag,
        };
        let plan = repair_transition(
            Some(&repair),
            RepairAction::Finish(f),
            acting,
            &world,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let entries = write_plan(tx, meta, &plan, item.near_expiry_days).await?;
        let r = &plan.repair.doc;
        let n = sqlx::query(
            "UPDATE repairs SET status = $1, finished_by = $2, finished_at = $3, cost_fen = $4, notes = $5, \
             final_entry_id = $6, scrap_application_id = $7, version = $8 WHERE id = $9 AND version = $10",
        )
        .bind(r.status.number())
        .bind(r.finished_by.clone())
        .bind(r.finished_at)
        .bind(r.cost_fen)
        .bind(&r.notes)
        .bind(r.final_entry_id.clone())
        .bind(r.scrap_application.clone())
        .bind(r.version)
        .bind(&r.id)
        .bind(repair.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(OpError::Store(StoreError::Conflict));
        }
        let audit = summary::document(
            &r.doc_ref(),
            &r.depot,
            json!({"status": [repair.status.name(), r.status.name()], "cost_fen": r.cost_fen,
                "condition": plan.condition.name(),
                "scrap_application": r.scrap_application}),
            &entries,
        );
        Ok((
            RepairPosted {
                repair: plan.repair.doc,
                entries,
                scrap: plan.scrap.map(|s| s.doc),
                record: plan.record,
            },
            audit,
        ))
    }
}
