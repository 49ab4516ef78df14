//! Adjustments and scrap applications: documents that post to the ledger
//! only with a second signature.

use super::movements::{item_or_refuse, post_view, rule, stock_audit};
use super::rows::{
    LineView, ensure_line, entry, insert_assets, load_assets, load_line, load_lot_by_number,
    move_assets, new_id,
};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::{DepotPath, Principal};
use reserve_core::depot::DepotCode;
use reserve_core::item::{ItemId, Tracking};
use reserve_core::request::PageSize;
use reserve_core::stock::approval::{
    Adjustment, ApprovalStatus, Disposal, NewAdjustment, NewScrap, Proposal, ScrapApplication,
    check_adjustment, check_countersign, check_reject, check_scrap_decision, scrap_delta,
};
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::movement::{LineState, Move, plan_hold};
use reserve_core::stock::{
    Delta, EntryType, LedgerEntry, Lot, LotId, LotNumber, SerialNumber, StockError,
};
use reserve_core::tier::Tier;
use reserve_core::time::UtcMillis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

const ADJ_COLUMNS: &str = "a.id, a.depot_code, a.item_id, a.lot_id, t.lot_number, a.quantity, a.serials, a.reason, \
     a.status, a.requested_by, a.requested_at, a.decided_by, a.decided_at, a.decision_note, a.entry_id, a.version";

#[derive(FromRow)]
struct AdjRow {
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
    let r = AdjRow::from_row(row)?;
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

async fn load_adjustment(
    tx: &mut AnyConnection,
    id: &str,
) -> Result<Option<Adjustment>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {ADJ_COLUMNS} FROM adjustments a JOIN lots t ON t.id = a.lot_id WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref().map(adjustment_from).transpose()
}

const SCRAP_COLUMNS: &str = "s.id, s.depot_code, s.item_id, s.lot_id, t.lot_number, s.quantity, s.serials, s.reason, \
     s.disposal, s.status, s.applied_by, s.applied_at, s.decided_by, s.decided_at, s.decision_note, s.hold_entry_id, \
     s.final_entry_id, s.version";

#[derive(FromRow)]
struct ScrapRow {
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

fn scrap_from(row: &AnyRow) -> Result<ScrapApplication, StoreError> {
    let r = ScrapRow::from_row(row)?;
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

async fn load_scrap(
    tx: &mut AnyConnection,
    id: &str,
) -> Result<Option<ScrapApplication>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {SCRAP_COLUMNS} FROM scrap_applications s JOIN lots t ON t.id = s.lot_id WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref().map(scrap_from).transpose()
}

/// An approved adjustment and what it posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentPosted {
    /// The adjustment.
    pub adjustment: Adjustment,
    /// The entry.
    pub entry: LedgerEntry,
    /// The line afterwards.
    pub line: LineView,
}

/// A scrap application and the entry its step posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapPosted {
    /// The application.
    pub application: ScrapApplication,
    /// The hold, scrap or release entry.
    pub entry: LedgerEntry,
}

/// Who decides a scrap application: the principal, and the tier of their
/// scope depot (which must cover the application's depot; the API checks that).
#[derive(Clone, Debug)]
pub struct Decider {
    /// The user.
    pub who: Principal,
    /// Tier of their scope depot.
    pub scope_tier: Tier,
}

impl Store {
    /// One adjustment.
    pub async fn get_adjustment(&self, id: &str) -> Result<Option<Adjustment>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load_adjustment(&mut c, id).await
    }

    /// One scrap application.
    pub async fn get_scrap(&self, id: &str) -> Result<Option<ScrapApplication>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load_scrap(&mut c, id).await
    }

    /// Proposes an adjustment.
    pub async fn create_adjustment(
        &self,
        meta: &WriteMeta,
        new: NewAdjustment,
    ) -> Result<Written<Adjustment>, OpError<StockError>> {
        self.run(
            meta,
            &CreateAdjustmentOp {
                new,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Countersigns and posts an adjustment.
    pub async fn approve_adjustment(
        &self,
        meta: &WriteMeta,
        id: String,
        note: String,
    ) -> Result<Written<AdjustmentPosted>, OpError<StockError>> {
        self.run(
            meta,
            &DecideAdjustmentOp {
                id,
                note,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Rejects (or withdraws) an adjustment.
    pub async fn reject_adjustment(
        &self,
        meta: &WriteMeta,
        id: String,
        reason: String,
    ) -> Result<Written<Adjustment>, OpError<StockError>> {
        self.run(
            meta,
            &RejectAdjustmentOp {
                id,
                reason,
                meta: meta.clone(),
            },
        )
        .await
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
            "SELECT {ADJ_COLUMNS} FROM adjustments a JOIN lots t ON t.id = a.lot_id \
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

    /// Applies to scrap units; holds them at once.
    pub async fn create_scrap(
        &self,
        meta: &WriteMeta,
        new: NewScrap,
    ) -> Result<Written<ScrapPosted>, OpError<StockError>> {
        self.run(
            meta,
            &CreateScrapOp {
                new,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Approves or rejects a scrap application.
    pub async fn decide_scrap(
        &self,
        meta: &WriteMeta,
        id: String,
        decider: Decider,
        approve: bool,
        note: String,
    ) -> Result<Written<ScrapPosted>, OpError<StockError>> {
        self.run(
            meta,
            &DecideScrapOp {
                id,
                decider,
                approve,
                note,
                meta: meta.clone(),
            },
        )
        .await
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
            "SELECT {SCRAP_COLUMNS} FROM scrap_applications s JOIN lots t ON t.id = s.lot_id \
             JOIN depots d ON d.code = s.depot_code WHERE "
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

/// Loads what an adjustment touches and checks it; returns the lot, the line
/// (if any), the change, the item's tracking and near-expiry window.
async fn check_against_store(
    tx: &mut AnyConnection,
    depot: &DepotCode,
    item: &ItemId,
    lot_number: &LotNumber,
    quantity: i64,
    serials: &[SerialNumber],
) -> Result<(Lot, Option<LineView>, Delta, Tracking, i32), OpError<StockError>> {
    let it = item_or_refuse(tx, item).await?;
    let Some(lot) = load_lot_by_number(tx, item.as_str(), lot_number.as_str()).await? else {
        return rule(StockError::LotNotFound {
            item: item.to_string(),
            lot: lot_number.as_str().to_string(),
        });
    };
    let line = load_line(tx, depot.as_str(), lot.id.as_str()).await?;
    if line.is_none() && quantity < 0 {
        return rule(StockError::LotNotAtDepot {
            depot: depot.to_string(),
            item: item.to_string(),
            lot: lot_number.as_str().to_string(),
        });
    }
    let assets = load_assets(tx, item.as_str(), serials).await?;
    let known: Vec<SerialNumber> = assets.iter().map(|a| a.serial.clone()).collect();
    let state = line.as_ref().map(|l| LineState {
        lot: l.lot.clone(),
        balance: l.balance,
    });
    let proposal = Proposal {
        depot,
        lot_id: &lot.id,
        lot_number,
        quantity,
        serials,
    };
    let delta =
        check_adjustment(proposal, &it, state.as_ref(), &assets, &known).map_err(OpError::Rule)?;
    Ok((lot, line, delta, it.tracking, it.near_expiry_days))
}

struct CreateAdjustmentOp {
    new: NewAdjustment,
    meta: WriteMeta,
}

impl Op for CreateAdjustmentOp {
    type Output = Adjustment;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<Adjustment, StockError> {
        let n = &self.new;
        let (lot, ..) =
            check_against_store(tx, &n.depot, &n.item, &n.lot_number, n.quantity, &n.serials)
                .await?;
        let adj = Adjustment {
            id: new_id(),
            depot: n.depot.clone(),
            item: n.item.clone(),
            lot: lot.id.clone(),
            lot_number: lot.number.clone(),
            quantity: n.quantity,
            serials: n.serials.clone(),
            reason: n.reason.clone(),
            status: ApprovalStatus::Pending,
            requested_by: self.meta.actor.subject.clone(),
            requested_at: now,
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            entry_id: None,
            version: 1,
        };
        sqlx::query(
            "INSERT INTO adjustments (id, depot_code, item_id, lot_id, quantity, serials, reason, status, \
             requested_by, requested_at, decided_by, decided_at, decision_note, entry_id, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, '', NULL, 1)",
        )
        .bind(&adj.id)
        .bind(adj.depot.as_str())
        .bind(adj.item.as_str())
        .bind(adj.lot.as_str())
        .bind(adj.quantity)
        .bind(serde_json::to_string(&adj.serials)?)
        .bind(&adj.reason)
        .bind(adj.status.number())
        .bind(&adj.requested_by)
        .bind(adj.requested_at)
        .execute(&mut *tx)
        .await?;
        let audit = reserve_core::audit::AuditRecord {
            resource: format!("adjustments/{}", adj.id),
            depot: adj.depot.clone(),
            changes: reserve_core::audit::created(&adj),
        };
        Ok((adj, audit))
    }
}

struct DecideAdjustmentOp {
    id: String,
    note: String,
    meta: WriteMeta,
}

/// The decision on a document: who, when, what, and the entry it posted.
struct Decision<'a> {
    status: ApprovalStatus,
    who: &'a str,
    at: UtcMillis,
    note: &'a str,
    entry_id: Option<&'a str>,
}

/// Records a decision on a row of `table` if its version is still `version`.
/// `entry_column` names where the posted entry goes.
async fn store_decision(
    tx: &mut AnyConnection,
    table: &str,
    entry_column: &str,
    (id, version): (&str, i64),
    d: Decision<'_>,
) -> Result<(), StoreError> {
    let n = sqlx::query(&format!(
        "UPDATE {table} SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, \
         {entry_column} = $5, version = version + 1 WHERE id = $6 AND version = $7"
    ))
    .bind(d.status.number())
    .bind(d.who)
    .bind(d.at)
    .bind(d.note)
    .bind(d.entry_id.map(str::to_string))
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

impl Op for DecideAdjustmentOp {
    type Output = AdjustmentPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<AdjustmentPosted, StockError> {
        let Some(adj) = load_adjustment(tx, &self.id).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "adjustments",
                id: self.id.clone(),
            });
        };
        check_countersign(&adj, &self.meta.actor).map_err(OpError::Rule)?;
        let (lot, _, delta, tracking, near) = check_against_store(
            tx,
            &adj.depot,
            &adj.item,
            &adj.lot_number,
            adj.quantity,
            &adj.serials,
        )
        .await?;
        ensure_line(
            tx,
            adj.depot.as_str(),
            adj.item.as_str(),
            lot.id.as_str(),
            now,
        )
        .await?;
        let mut e = entry(
            EntryType::Adjustment,
            &adj.depot,
            &lot,
            delta,
            adj.serials.clone(),
            format!("adjustment: {}", adj.reason),
            format!("adjustment {}", adj.id),
            String::new(),
            now,
            &self.meta,
        );
        e.actor = adj.requested_by.clone();
        e.countersigned_by = Some(self.meta.actor.subject.clone());
        let (e, line) = post_view(tx, e, &lot, near).await?;
        if tracking == Tracking::Serial {
            if adj.quantity < 0 {
                move_assets(
                    tx,
                    adj.item.as_str(),
                    adj.depot.as_str(),
                    &adj.serials,
                    AssetStatus::InStock,
                    AssetStatus::Missing,
                    now,
                )
                .await?;
            } else {
                insert_assets(
                    tx,
                    adj.item.as_str(),
                    lot.id.as_str(),
                    adj.depot.as_str(),
                    &adj.serials,
                    now,
                )
                .await?;
            }
        }
        store_decision(
            tx,
            "adjustments",
            "entry_id",
            (&adj.id, adj.version),
            Decision {
                status: ApprovalStatus::Approved,
                who: &self.meta.actor.subject,
                at: now,
                note: &self.note,
                entry_id: Some(&e.id),
            },
        )
        .await?;
        let approved = Adjustment {
            status: ApprovalStatus::Approved,
            decided_by: Some(self.meta.actor.subject.clone()),
            decided_at: Some(now),
            decision_note: self.note.clone(),
            entry_id: Some(e.id.clone()),
            version: adj.version + 1,
            ..adj
        };
        let audit = stock_audit(
            &approved.depot,
            &approved.item,
            "adjusted",
            json!({"adjustment": approved.id, "requested_by": approved.requested_by, "reason": approved.reason}),
            std::slice::from_ref(&e),
        );
        Ok((
            AdjustmentPosted {
                adjustment: approved,
                entry: e,
                line,
            },
            audit,
        ))
    }
}

struct RejectAdjustmentOp {
    id: String,
    reason: String,
    meta: WriteMeta,
}

impl Op for RejectAdjustmentOp {
    type Output = Adjustment;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<Adjustment, StockError> {
        let Some(adj) = load_adjustment(tx, &self.id).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "adjustments",
                id: self.id.clone(),
            });
        };
        check_reject(&adj).map_err(OpError::Rule)?;
        let who = self.meta.actor.subject.clone();
        store_decision(
            tx,
            "adjustments",
            "entry_id",
            (&adj.id, adj.version),
            Decision {
                status: ApprovalStatus::Rejected,
                who: &who,
                at: now,
                note: &self.reason,
                entry_id: None,
            },
        )
        .await?;
        let rejected = Adjustment {
            status: ApprovalStatus::Rejected,
            decided_by: Some(who),
            decided_at: Some(now),
            decision_note: self.reason.clone(),
            version: adj.version + 1,
            ..adj
        };
        let audit = reserve_core::audit::AuditRecord {
            resource: format!("adjustments/{}", rejected.id),
            depot: rejected.depot.clone(),
            changes: json!({"status": ["pending", "rejected"], "reason": self.reason}),
        };
        Ok((rejected, audit))
    }
}

struct CreateScrapOp {
    new: NewScrap,
    meta: WriteMeta,
}

impl Op for CreateScrapOp {
    type Output = ScrapPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<ScrapPosted, StockError> {
        let n = &self.new;
        let item = item_or_refuse(tx, &n.item).await?;
        let Some(lot) = load_lot_by_number(tx, n.item.as_str(), n.lot_number.as_str()).await?
        else {
            return rule(StockError::LotNotFound {
                item: n.item.to_string(),
                lot: n.lot_number.as_str().to_string(),
            });
        };
        let Some(line) = load_line(tx, n.depot.as_str(), lot.id.as_str()).await? else {
            return rule(StockError::LotNotAtDepot {
                depot: n.depot.to_string(),
                item: n.item.to_string(),
                lot: n.lot_number.as_str().to_string(),
            });
        };
        let assets = load_assets(tx, n.item.as_str(), &n.serials).await?;
        let m = Move {
            depot: n.depot.clone(),
            item: n.item.clone(),
            lot_number: Some(n.lot_number.clone()),
            quantity: n.quantity,
            serials: n.serials.clone(),
            note: n.reason.clone(),
        };
        let state = LineState {
            lot: line.lot.clone(),
            balance: line.balance,
        };
        let takes =
            plan_hold(&m, &item, std::slice::from_ref(&state), &assets).map_err(OpError::Rule)?;
        let id = new_id();
        let Some(take) = takes.into_iter().next() else {
            return Err(OpError::Store(StoreError::Corrupt(
                "a scrap hold planned no lot".into(),
            )));
        };
        let e = entry(
            EntryType::Hold,
            &n.depot,
            &lot,
            Delta::held(take.quantity),
            take.serials.clone(),
            format!("hold: pending scrap application {id}: {}", n.reason),
            format!("scrap application {id}"),
            String::new(),
            now,
            &self.meta,
        );
        let (e, _) = post_view(tx, e, &lot, item.near_expiry_days).await?;
        move_assets(
            tx,
            n.item.as_str(),
            n.depot.as_str(),
            &take.serials,
            AssetStatus::InStock,
            AssetStatus::Held,
            now,
        )
        .await?;
        let app = ScrapApplication {
            id,
            depot: n.depot.clone(),
            item: n.item.clone(),
            lot: lot.id.clone(),
            lot_number: lot.number.clone(),
            quantity: take.quantity,
            serials: take.serials,
            reason: n.reason.clone(),
            disposal: n.disposal,
            status: ApprovalStatus::Pending,
            applied_by: self.meta.actor.subject.clone(),
            applied_at: now,
            decided_by: None,
            decided_at: None,
            decision_note: String::new(),
            hold_entry_id: e.id.clone(),
            final_entry_id: None,
            version: 1,
        };
        sqlx::query(
            "INSERT INTO scrap_applications (id, depot_code, item_id, lot_id, quantity, serials, reason, disposal, \
             status, applied_by, applied_at, decided_by, decided_at, decision_note, hold_entry_id, final_entry_id, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, '', $12, NULL, 1)",
        )
        .bind(&app.id)
        .bind(app.depot.as_str())
        .bind(app.item.as_str())
        .bind(app.lot.as_str())
        .bind(app.quantity)
        .bind(serde_json::to_string(&app.serials)?)
        .bind(&app.reason)
        .bind(app.disposal.number())
        .bind(app.status.number())
        .bind(&app.applied_by)
        .bind(app.applied_at)
        .bind(&app.hold_entry_id)
        .execute(&mut *tx)
        .await?;
        let audit = stock_audit(
            &app.depot,
            &app.item,
            "held for scrap",
            json!({"scrap_application": app.id, "reason": app.reason, "disposal": format!("{:?}", app.disposal)}),
            std::slice::from_ref(&e),
        );
        Ok((
            ScrapPosted {
                application: app,
                entry: e,
            },
            audit,
        ))
    }
}

struct DecideScrapOp {
    id: String,
    decider: Decider,
    approve: bool,
    note: String,
    meta: WriteMeta,
}

impl Op for DecideScrapOp {
    type Output = ScrapPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<ScrapPosted, StockError> {
        let Some(app) = load_scrap(tx, &self.id).await? else {
            return rule(StockError::DocumentNotFound {
                kind: "scrapApplications",
                id: self.id.clone(),
            });
        };
        let Some(line) = load_line(tx, app.depot.as_str(), app.lot.as_str()).await? else {
            return Err(OpError::Store(StoreError::Corrupt(format!(
                "scrap application {} has no stock line",
                app.id
            ))));
        };
        let action = if self.approve { "approved" } else { "rejected" };
        check_scrap_decision(
            &app,
            &self.decider.who,
            self.decider.scope_tier,
            true,
            line.lot.owning_tier,
            action,
        )
        .map_err(OpError::Rule)?;
        let (kind, delta, to, status, label) = if self.approve {
            (
                EntryType::Scrap,
                scrap_delta(app.quantity),
                AssetStatus::Scrapped,
                ApprovalStatus::Approved,
                format!("scrap ({:?}): {}", app.disposal, app.reason).to_lowercase(),
            )
        } else {
            (
                EntryType::Release,
                Delta::held(-app.quantity),
                AssetStatus::InStock,
                ApprovalStatus::Rejected,
                format!(
                    "release: scrap application {} rejected: {}",
                    app.id, self.note
                ),
            )
        };
        let mut e = entry(
            kind,
            &app.depot,
            &line.lot,
            delta,
            app.serials.clone(),
            label,
            format!("scrap application {}", app.id),
            String::new(),
            now,
            &self.meta,
        );
        e.actor = app.applied_by.clone();
        e.countersigned_by = Some(self.meta.actor.subject.clone());
        let near = line.near_expiry_days;
        let (e, _) = post_view(tx, e, &line.lot, near).await?;
        move_assets(
            tx,
            app.item.as_str(),
            app.depot.as_str(),
            &app.serials,
            AssetStatus::Held,
            to,
            now,
        )
        .await?;
        store_decision(
            tx,
            "scrap_applications",
            "final_entry_id",
            (&app.id, app.version),
            Decision {
                status,
                who: &self.meta.actor.subject,
                at: now,
                note: &self.note,
                entry_id: Some(&e.id),
            },
        )
        .await?;
        let decided = ScrapApplication {
            status,
            decided_by: Some(self.meta.actor.subject.clone()),
            decided_at: Some(now),
            decision_note: self.note.clone(),
            final_entry_id: Some(e.id.clone()),
            version: app.version + 1,
            ..app
        };
        let audit = stock_audit(
            &decided.depot,
            &decided.item,
            if self.approve {
                "scrapped"
            } else {
                "scrap rejected"
            },
            json!({"scrap_application": decided.id, "note": self.note}),
            std::slice::from_ref(&e),
        );
        Ok((
            ScrapPosted {
                application: decided,
                entry: e,
            },
            audit,
        ))
    }
}
