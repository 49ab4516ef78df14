//! Adjustments: proposed by a keeper, countersigned by someone else. Each op
//! is load / transition (core) / post / save / audit.

use super::post::{Posted, post};
use super::rows::{
    LineView, item_or_refuse, load_assets, load_line, load_lot, lot_or_refuse, new_id,
};
use super::{rule, summary};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::{load_depot_for_stock, load_scope_and_path};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::{adjustment_rejecter, countersigner, keeper_at};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::request::{Etag, PageSize};
use reserve_core::stock::adjustment::{
    Adjustment, AdjustmentAction, AdjustmentWorld, NewAdjustment, adjustment_transition,
};
use reserve_core::stock::document::DocId;
use reserve_core::stock::{
    Acting, ApprovalStatus, Decision, LedgerEntry, LotId, LotNumber, StockError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

const COLUMNS: &str = "a.id, a.depot_code, a.item_id, a.lot_id, t.lot_number, a.quantity, a.serials, a.reason, \
     a.status, a.requested_by, a.requested_at, a.decided_by, a.decided_at, a.decision_note, a.entry_id, a.version";

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
    status: i64,
    requested_by: String,
    requested_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    decision_note: String,
    entry_id: Option<String>,
    version: i64,
}

fn adjustment_from(row: &AnyRow) -> Result<Adjustment, StoreError> {
    let r = Row::from_row(row)?;
    Ok(Adjustment {
        status: ApprovalStatus::from_number(r.status)
            .ok_or_else(|| StoreError::Corrupt(format!("adjustment {}: status", r.id)))?,
        serials: serde_json::from_str(&r.serials)?,
        id: r.id,
        depot: DepotCode::from_stored(r.depot_code),
        item: ItemId::from_stored(r.item_id),
        lot: LotId(r.lot_id),
        lot_number: LotNumber::from_stored(r.lot_number),
        quantity: r.quantity,
        reason: r.reason,
        requested_by: r.requested_by,
        requested_at: r.requested_at,
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        decision_note: r.decision_note,
        entry_id: r.entry_id,
        version: r.version,
    })
}

async fn load(tx: &mut AnyConnection, id: &str) -> Result<Option<Adjustment>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM adjustments a JOIN lots t ON t.id = a.lot_id WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref().map(adjustment_from).transpose()
}

async fn insert(tx: &mut AnyConnection, a: &Adjustment) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO adjustments (id, depot_code, item_id, lot_id, quantity, serials, reason, status, \
         requested_by, requested_at, decided_by, decided_at, decision_note, entry_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, '', NULL, $11)",
    )
    .bind(&a.id)
    .bind(a.depot.as_str())
    .bind(a.item.as_str())
    .bind(a.lot.as_str())
    .bind(a.quantity)
    .bind(serde_json::to_string(&a.serials)?)
    .bind(&a.reason)
    .bind(a.status.number())
    .bind(&a.requested_by)
    .bind(a.requested_at)
    .bind(a.version)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Writes a decided adjustment if it is still at the version it was read at.
async fn save(tx: &mut AnyConnection, a: &Adjustment, read_version: i64) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE adjustments SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, \
         entry_id = $5, version = $6 WHERE id = $7 AND version = $8",
    )
    .bind(a.status.number())
    .bind(a.decided_by.clone())
    .bind(a.decided_at)
    .bind(&a.decision_note)
    .bind(a.entry_id.clone())
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

/// An approved adjustment and what it posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentPosted {
    /// The adjustment.
    pub adjustment: Adjustment,
    /// The entry, once approved.
    pub entry: Option<LedgerEntry>,
    /// The line afterwards, once approved.
    pub line: Option<LineView>,
}

impl Store {
    /// One adjustment.
    pub async fn get_adjustment(&self, id: &DocId) -> Result<Option<Adjustment>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load(&mut c, id.as_str()).await
    }

    /// Proposes an adjustment.
    pub async fn create_adjustment(
        &self,
        meta: &WriteMeta,
        new: NewAdjustment,
    ) -> Result<Written<Adjustment>, OpError<StockError>> {
        self.run(meta, &ProposeOp { new }).await
    }

    /// Approves (countersigns and posts) or rejects an adjustment.
    pub async fn decide_adjustment(
        &self,
        meta: &WriteMeta,
        id: DocId,
        decision: Decision,
        etag: Option<Etag>,
    ) -> Result<Written<AdjustmentPosted>, OpError<StockError>> {
        self.run(meta, &DecideOp { id, decision, etag }).await
    }

    /// Adjustments of a subtree, newest first.
    pub async fn list_adjustments(
        &self,
        subtree: &DepotPath,
        status: Option<ApprovalStatus>,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Adjustment>, OpError<StockError>> {
        let filters = format!(
            "sub={};s={:?}",
            subtree.as_str(),
            status.map(|s| s.number())
        );
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM adjustments a JOIN lots t ON t.id = a.lot_id \
             JOIN depots d ON d.code = a.depot_code WHERE "
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if let Some(s) = status {
            sql.push(" AND a.status = ?", Arg::Int(s.number()));
        }
        if let Some((at, id)) = after {
            sql.push(" AND (a.requested_at, a.id) < (?", Arg::Int(at))
                .push(", ?)", Arg::Text(id));
        }
        sql.push(
            " ORDER BY a.requested_at DESC, a.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows
            .iter()
            .map(adjustment_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(items, size.get(), &filters, |a| {
            (a.requested_at, a.id.clone())
        }))
    }
}

struct ProposeOp {
    new: NewAdjustment,
}

impl Op for ProposeOp {
    type Output = Adjustment;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Adjustment, StockError> {
        let n = &self.new;
        keeper_at(&meta.actor, &n.depot).map_err(|d| OpError::Rule(d.into()))?;
        let Some(depot) = load_depot_for_stock(tx, n.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(n.depot.to_string()));
        };
        let item = item_or_refuse(tx, &n.item).await?;
        let lot = lot_or_refuse(tx, &n.item, &n.lot_number).await?;
        let line = load_line(tx, n.depot.as_str(), lot.id.as_str())
            .await?
            .map(|l| l.state());
        let assets = load_assets(tx, n.item.as_str(), &n.serials).await?;
        let world = AdjustmentWorld {
            item: &item,
            depot: &depot,
            lot: &lot,
            line: line.as_ref(),
            assets: &assets,
        };
        let acting = Acting {
            who: &meta.actor.subject,
            now: meta.now,
            etag: None,
        };
        let id = new_id();
        let plan = adjustment_transition(
            None,
            AdjustmentAction::Propose(n, &id),
            acting,
            &world,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        insert(tx, &plan.doc).await?;
        let audit = summary::document(
            &plan.doc.doc_ref(),
            &plan.doc.depot,
            reserve_core::audit::created(&plan.doc),
            &[],
        );
        Ok((plan.doc, audit))
    }
}

struct DecideOp {
    id: DocId,
    decision: Decision,
    etag: Option<Etag>,
}

impl Op for DecideOp {
    type Output = AdjustmentPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<AdjustmentPosted, StockError> {
        let Some(adj) = load(tx, self.id.as_str()).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "adjustments",
                id: self.id.to_string(),
            });
        };
        let (scope, path) = load_scope_and_path(tx, &meta.actor.scope, &adj.depot).await?;
        let path =
            path.ok_or_else(|| OpError::Rule(StockError::DepotNotFound(adj.depot.to_string())))?;
        let p = &meta.actor;
        match &self.decision {
            Decision::Approve { .. } => {
                countersigner(p, scope.as_ref().map(|s| &s.path), &adj.depot, &path)
            }
            Decision::Reject { .. } => adjustment_rejecter(
                p,
                &adj.requested_by,
                scope.as_ref().map(|s| &s.path),
                &adj.depot,
                &path,
            ),
        }
        .map_err(|d| OpError::Rule(d.into()))?;
        let Some(depot) = load_depot_for_stock(tx, adj.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(adj.depot.to_string()));
        };
        let item = item_or_refuse(tx, &adj.item).await?;
        let Some(lot) = load_lot(tx, adj.lot.as_str()).await? else {
            return Err(OpError::Store(StoreError::Corrupt(format!(
                "adjustment {}: lot {}",
                adj.id, adj.lot.0
            ))));
        };
        let line = load_line(tx, adj.depot.as_str(), lot.id.as_str())
            .await?
            .map(|l| l.state());
        let assets = load_assets(tx, adj.item.as_str(), &adj.serials).await?;
        let world = AdjustmentWorld {
            item: &item,
            depot: &depot,
            lot: &lot,
            line: line.as_ref(),
            assets: &assets,
        };
        let acting = Acting {
            who: &p.subject,
            now: meta.now,
            etag: self.etag,
        };
        let plan = adjustment_transition(
            Some(&adj),
            AdjustmentAction::Decide(&self.decision),
            acting,
            &world,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let Posted { entries, lines } = post(tx, meta, plan.entries, item.near_expiry_days).await?;
        save(tx, &plan.doc, adj.version).await?;
        let audit = summary::document(
            &plan.doc.doc_ref(),
            &plan.doc.depot,
            json!({
                "status": [adj.status.name(), plan.doc.status.name()],
                "requested_by": adj.requested_by,
                "note": self.decision.note(),
            }),
            &entries,
        );
        Ok((
            AdjustmentPosted {
                adjustment: plan.doc,
                entry: entries.into_iter().next(),
                line: lines.into_iter().next(),
            },
            audit,
        ))
    }
}
