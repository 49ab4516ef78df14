//! Scrap applications: a keeper applies (the application holds the units),
//! the owning tier decides. Each op is load / transition (core) / post /
//! save / audit.

use super::post::{Posted, post};
use super::rows::{item_or_refuse, load_assets, load_line, lot_or_refuse, new_id};
use super::{rule, summary};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_scope_and_path;
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::{keeper_at, scrap_decider};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::request::{Etag, PageSize};
use reserve_core::stock::document::DocId;
use reserve_core::stock::scrap::{
    Disposal, NewScrap, ScrapAction, ScrapApplication, ScrapWorld, scrap_transition,
};
use reserve_core::stock::{
    Acting, ApprovalStatus, Decision, LedgerEntry, LotId, LotNumber, StockError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

const COLUMNS: &str = "s.id, s.depot_code, s.item_id, s.lot_id, t.lot_number, s.quantity, s.serials, s.reason, \
     s.disposal, s.status, s.applied_by, s.applied_at, s.decided_by, s.decided_at, s.decision_note, s.hold_entry_id, \
     s.final_entry_id, s.version";

#[derive(FromRow)]
struct Row {
    id: String,
    depot_code: String,
    item_id: String,
    lot_id: String,
    lot_number: String,
    quantity: i64,
    serials: String,
    reason: String,
    disposal: i64,
    status: i64,
    applied_by: String,
    applied_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    decision_note: String,
    hold_entry_id: String,
    final_entry_id: Option<String>,
    version: i64,
}

pub(crate) fn scrap_from(row: &AnyRow) -> Result<ScrapApplication, StoreError> {
    let r = Row::from_row(row)?;
    let corrupt = |w: &str| StoreError::Corrupt(format!("scrap application {}: {w}", r.id));
    Ok(ScrapApplication {
        status: ApprovalStatus::from_number(r.status).ok_or_else(|| corrupt("status"))?,
        disposal: Disposal::from_number(r.disposal).ok_or_else(|| corrupt("disposal"))?,
        serials: serde_json::from_str(&r.serials)?,
        id: r.id,
        depot: DepotCode::from_stored(r.depot_code),
        item: ItemId::from_stored(r.item_id),
        lot: LotId(r.lot_id),
        lot_number: LotNumber::from_stored(r.lot_number),
        quantity: r.quantity,
        reason: r.reason,
        applied_by: r.applied_by,
        applied_at: r.applied_at,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        decision_note: r.decision_note,
        hold_entry_id: r.hold_entry_id,
        final_entry_id: r.final_entry_id,
        version: r.version,
    })
}

/// Scrap application columns and the join they need, for other readers.
pub(crate) fn select_all() -> String {
    format!("SELECT {COLUMNS} FROM scrap_applications s JOIN lots t ON t.id = s.lot_id")
}

async fn load(tx: &mut AnyConnection, id: &str) -> Result<Option<ScrapApplication>, StoreError> {
    let row = sqlx::query(&format!("{} WHERE s.id = $1", select_all()))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    row.as_ref().map(scrap_from).transpose()
}

/// Stores a new application (its entries are posted by the caller).
pub(crate) async fn insert_scrap(
    tx: &mut AnyConnection,
    a: &ScrapApplication,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO scrap_applications (id, depot_code, item_id, lot_id, quantity, serials, reason, disposal, \
         status, applied_by, applied_at, decided_by, decided_at, decision_note, hold_entry_id, final_entry_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, '', $12, NULL, $13)",
    )
    .bind(&a.id)
    .bind(a.depot.as_str())
    .bind(a.item.as_str())
    .bind(a.lot.as_str())
    .bind(a.quantity)
    .bind(serde_json::to_string(&a.serials)?)
    .bind(&a.reason)
    .bind(a.disposal.number())
    .bind(a.status.number())
    .bind(&a.applied_by)
    .bind(a.applied_at)
    .bind(&a.hold_entry_id)
    .bind(a.version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Writes a decided application if it is still at the version it was read at.
async fn save(
    tx: &mut AnyConnection,
    a: &ScrapApplication,
    read_version: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE scrap_applications SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, \
         final_entry_id = $5, version = $6 WHERE id = $7 AND version = $8",
    )
    .bind(a.status.number())
    .bind(a.decided_by.clone())
    .bind(a.decided_at)
    .bind(&a.decision_note)
    .bind(a.final_entry_id.clone())
    .bind(a.version)
    .bind(&a.id)
    .bind(read_version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// A scrap application and the entries its step posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapPosted {
    /// The application.
    pub application: ScrapApplication,
    /// The (first) hold, the scrap or the release entry.
    pub entry: Option<LedgerEntry>,
    /// Every entry posted: an application may post two holds, one taking
    /// over units already held and one holding free units. Empty in answers
    /// recorded before it existed, which posted only `entry`.
    #[serde(default)]
    pub entries: Vec<LedgerEntry>,
}

impl Store {
    /// One scrap application.
    pub async fn get_scrap(&self, id: &DocId) -> Result<Option<ScrapApplication>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load(&mut c, id.as_str()).await
    }

    /// Applies to scrap units; the application holds them at once.
    pub async fn create_scrap(
        &self,
        meta: &WriteMeta,
        new: NewScrap,
    ) -> Result<Written<ScrapPosted>, OpError<StockError>> {
        self.run(meta, &ApplyOp { new }).await
    }

    /// Approves or rejects a scrap application.
    pub async fn decide_scrap(
        &self,
        meta: &WriteMeta,
        id: DocId,
        decision: Decision,
        etag: Option<Etag>,
    ) -> Result<Written<ScrapPosted>, OpError<StockError>> {
        self.run(meta, &DecideOp { id, decision, etag }).await
    }

    /// Scrap applications of a subtree, newest first.
    pub async fn list_scraps(
        &self,
        subtree: &DepotPath,
        status: Option<ApprovalStatus>,
        size: PageSize,
        token: &str,
    ) -> Result<Page<ScrapApplication>, OpError<StockError>> {
        let filters = format!(
            "sub={};s={:?}",
            subtree.as_str(),
            status.map(|s| s.number())
        );
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "{} JOIN depots d ON d.code = s.depot_code WHERE ",
            select_all()
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if let Some(st) = status {
            sql.push(" AND s.status = ?", Arg::Int(st.number()));
        }
        if let Some((at, id)) = after {
            sql.push(" AND (s.applied_at, s.id) < (?", Arg::Int(at))
                .push(", ?)", Arg::Text(id));
        }
        sql.push(
            " ORDER BY s.applied_at DESC, s.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows.iter().map(scrap_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(items, size.get(), &filters, |a| {
            (a.applied_at, a.id.clone())
        }))
    }
}

struct ApplyOp {
    new: NewScrap,
}

impl Op for ApplyOp {
    type Output = ScrapPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<ScrapPosted, StockError> {
        let n = &self.new;
        keeper_at(&meta.actor, &n.depot).map_err(|d| OpError::Rule(d.into()))?;
        let item = item_or_refuse(tx, &n.item).await?;
        let lot = lot_or_refuse(tx, &n.item, &n.lot_number).await?;
        let Some(line) = load_line(tx, n.depot.as_str(), lot.id.as_str()).await? else {
            return rule(StockError::LotNotAtDepot {
                depot: n.depot.to_string(),
                item: n.item.to_string(),
                lot: n.lot_number.as_str().to_string(),
            });
        };
        let assets = load_assets(tx, n.item.as_str(), &n.serials).await?;
        let state = line.state();
        let world = ScrapWorld {
            item: &item,
            line: &state,
            assets: &assets,
        };
        let acting = Acting {
            who: &meta.actor.subject,
            now: meta.now,
            etag: None,
        };
        let id = new_id();
        let plan = scrap_transition(
            None,
            ScrapAction::Apply(n, &id),
            acting,
            &world,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let Posted { entries, .. } = post(tx, meta, plan.entries, item.near_expiry_days).await?;
        insert_scrap(tx, &plan.doc).await?;
        let app = plan.doc;
        let audit = summary::document(
            &app.doc_ref(),
            &app.depot,
            json!({"applied": {"lot": app.lot_number.as_str(), "quantity": app.quantity,
                "reason": app.reason, "disposal": app.disposal.name()}}),
            &entries,
        );
        Ok((
            ScrapPosted {
                application: app,
                entry: entries.first().cloned(),
                entries,
            },
            audit,
        ))
    }
}

struct DecideOp {
    id: DocId,
    decision: Decision,
    etag: Option<Etag>,
}

impl Op for DecideOp {
    type Output = ScrapPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<ScrapPosted, StockError> {
        let Some(app) = load(tx, self.id.as_str()).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "scrapApplications",
                id: self.id.to_string(),
            });
        };
        let Some(line) = load_line(tx, app.depot.as_str(), app.lot.as_str()).await? else {
            return Err(OpError::Store(StoreError::Corrupt(format!(
                "scrap application {} has no stock line",
                app.id
            ))));
        };
        let (scope, path) = load_scope_and_path(tx, &meta.actor.scope, &app.depot).await?;
        let path =
            path.ok_or_else(|| OpError::Rule(StockError::DepotNotFound(app.depot.to_string())))?;
        scrap_decider(
            &meta.actor,
            scope.as_ref(),
            &app.depot,
            &path,
            app.lot_number.as_str(),
            line.owning_tier,
        )
        .map_err(|d| OpError::Rule(d.into()))?;
        let item = item_or_refuse(tx, &app.item).await?;
        let assets = load_assets(tx, app.item.as_str(), &app.serials).await?;
        let state = line.state();
        let world = ScrapWorld {
            item: &item,
            line: &state,
            assets: &assets,
        };
        let acting = Acting {
            who: &meta.actor.subject,
            now: meta.now,
            etag: self.etag,
        };
        let plan = scrap_transition(
            Some(&app),
            ScrapAction::Decide(&self.decision),
            acting,
            &world,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let Posted { entries, .. } = post(tx, meta, plan.entries, item.near_expiry_days).await?;
        save(tx, &plan.doc, app.version).await?;
        let audit = summary::document(
            &plan.doc.doc_ref(),
            &plan.doc.depot,
            json!({"status": [app.status.name(), plan.doc.status.name()], "note": self.decision.note()}),
            &entries,
        );
        Ok((
            ScrapPosted {
                application: plan.doc,
                entry: entries.first().cloned(),
                entries,
            },
            audit,
        ))
    }
}
