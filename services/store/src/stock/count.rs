//! Stock counts (盘点): open with a snapshot, record, submit, approve
//! (posting every variance in one transaction) or cancel. Each op is load /
//! transition (core) / post / save / audit.

use super::post::post;
use super::rows::{
    LOT_COLUMNS, load_assets, load_assets_in_lot, load_line, lot_from, lot_or_refuse, new_id,
};
use super::{rule, summary};
use crate::catalog::load_item;
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::{load_depot_for_stock, load_scope_and_path};
use crate::sql::{Arg, Sql};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::{countersigner, keeper_at};
use reserve_core::depot::{DepotCode, DepotStatus};
use reserve_core::item::{ItemId, Tracking};
use reserve_core::request::Etag;
use reserve_core::stock::count::{
    AtRecord, CountAction, CountLine, CountStatus, Counted, NewCount, SnapshotLine, StockCount,
    count_transition,
};
use reserve_core::stock::document::DocId;
use reserve_core::stock::pick::LineState;
use reserve_core::stock::{
    Acting, Balance, LedgerEntry, LotId, LotNumber, SerialNumber, StockError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, FromRow, Row};

#[derive(FromRow)]
struct CountRow {
    id: String,
    depot_code: String,
    status: i64,
    scope_items: String,
    note: String,
    opened_by: String,
    opened_at: i64,
    recorded_by: String,
    submitted_by: Option<String>,
    submitted_at: Option<i64>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    decision_note: String,
    version: i64,
}

#[derive(FromRow)]
struct LineRow {
    lot_id: String,
    item_id: String,
    tracking: i64,
    lot_number: String,
    expected: i64,
    expected_serials: String,
    counted: Option<i64>,
    counted_serials: Option<String>,
    on_hand_at_record: Option<i64>,
    serials_at_record: String,
    held_by_documents: String,
    recorded_by: Option<String>,
    recorded_at: Option<i64>,
    on_hand_at_post: Option<i64>,
    posted_variance: Option<i64>,
    entry_ids: String,
}

fn json_list(raw: &str) -> Result<Vec<SerialNumber>, StoreError> {
    Ok(serde_json::from_str(raw)?)
}

async fn load(tx: &mut AnyConnection, id: &str) -> Result<Option<StockCount>, StoreError> {
    let row: Option<CountRow> = sqlx::query_as(
        "SELECT id, depot_code, status, scope_items, note, opened_by, opened_at, recorded_by, submitted_by, \
         submitted_at, decided_by, decided_at, decision_note, version FROM stock_counts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(c) = row else { return Ok(None) };
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT c.lot_id, c.item_id, i.tracking, t.lot_number, c.expected, c.expected_serials, c.counted, \
         c.counted_serials, c.on_hand_at_record, c.serials_at_record, c.held_by_documents, c.recorded_by, \
         c.recorded_at, c.on_hand_at_post, c.posted_variance, c.entry_ids \
         FROM stock_count_lines c JOIN lots t ON t.id = c.lot_id JOIN items i ON i.id = c.item_id \
         WHERE c.count_id = $1 ORDER BY c.item_id, t.lot_number",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for l in rows {
        lines.push(CountLine {
            item: ItemId::from_stored(l.item_id),
            serial: l.tracking == Tracking::Serial.number(),
            lot: LotId(l.lot_id),
            lot_number: LotNumber::from_stored(l.lot_number),
            expected: l.expected,
            expected_serials: json_list(&l.expected_serials)?,
            counted: l.counted,
            counted_serials: match l.counted_serials {
                Some(s) => json_list(&s)?,
                None => Vec::new(),
            },
            on_hand_at_record: l.on_hand_at_record,
            serials_at_record: json_list(&l.serials_at_record)?,
            held_by_documents: json_list(&l.held_by_documents)?,
            recorded_by: l.recorded_by,
            recorded_at: l.recorded_at,
            on_hand_at_approval: l.on_hand_at_post,
            posted_variance: l.posted_variance,
            entry_ids: serde_json::from_str(&l.entry_ids)?,
        });
    }
    Ok(Some(StockCount {
        status: CountStatus::from_number(c.status)
            .ok_or_else(|| StoreError::Corrupt(format!("count {}: status", c.id)))?,
        items: serde_json::from_str(&c.scope_items)?,
        recorded_by: serde_json::from_str(&c.recorded_by)?,
        id: c.id,
        depot: DepotCode::from_stored(c.depot_code),
        note: c.note,
        opened_by: c.opened_by,
        opened_at: c.opened_at,
        submitted_by: c.submitted_by,
        submitted_at: c.submitted_at,
        decided_by: c.decided_by,
        decided_at: c.decided_at,
        decision_note: c.decision_note,
        version: c.version,
        lines,
    }))
}

async fn count_or_refuse(
    tx: &mut AnyConnection,
    id: &DocId,
) -> Result<StockCount, OpError<StockError>> {
    match load(tx, id.as_str()).await? {
        Some(c) => Ok(c),
        None => rule(StockError::DocumentNotFound {
            kind: "stockCounts",
            id: id.to_string(),
        }),
    }
}

/// Writes what changed between `before` (as read) and `after`: the header
/// if its version is still the one read, and every new or changed line.
async fn save(
    tx: &mut AnyConnection,
    before: Option<&StockCount>,
    after: &StockCount,
) -> Result<(), StoreError> {
    match before {
        None => {
            sqlx::query(
                "INSERT INTO stock_counts (id, depot_code, status, scope_items, note, opened_by, opened_at, \
                 recorded_by, decision_note, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&after.id)
            .bind(after.depot.as_str())
            .bind(after.status.number())
            .bind(serde_json::to_string(&after.items)?)
            .bind(&after.note)
            .bind(&after.opened_by)
            .bind(after.opened_at)
            .bind(serde_json::to_string(&after.recorded_by)?)
            .bind(&after.decision_note)
            .bind(after.version)
            .execute(&mut *tx)
            .await?;
        }
        Some(b) => {
            let n = sqlx::query(
                "UPDATE stock_counts SET status = $1, recorded_by = $2, submitted_by = $3, submitted_at = $4, \
                 decided_by = $5, decided_at = $6, decision_note = $7, version = $8 WHERE id = $9 AND version = $10",
            )
            .bind(after.status.number())
            .bind(serde_json::to_string(&after.recorded_by)?)
            .bind(after.submitted_by.clone())
            .bind(after.submitted_at)
            .bind(after.decided_by.clone())
            .bind(after.decided_at)
            .bind(&after.decision_note)
            .bind(after.version)
            .bind(&after.id)
            .bind(b.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict);
            }
        }
    }
    for l in &after.lines {
        let old = before.and_then(|b| b.lines.iter().find(|o| o.lot == l.lot));
        if old == Some(l) {
            continue;
        }
        let counted_serials = l
            .counted
            .map(|_| serde_json::to_string(&l.counted_serials))
            .transpose()?;
        let values = (
            serde_json::to_string(&l.serials_at_record)?,
            serde_json::to_string(&l.held_by_documents)?,
            serde_json::to_string(&l.entry_ids)?,
        );
        let q = if old.is_some() {
            sqlx::query(
                "UPDATE stock_count_lines SET counted = $3, counted_serials = $4, on_hand_at_record = $5, \
                 serials_at_record = $6, held_by_documents = $7, recorded_by = $8, recorded_at = $9, \
                 on_hand_at_post = $10, posted_variance = $11, entry_ids = $12 \
                 WHERE count_id = $1 AND lot_id = $2",
            )
        } else {
            sqlx::query(
                "INSERT INTO stock_count_lines (count_id, lot_id, counted, counted_serials, on_hand_at_record, \
                 serials_at_record, held_by_documents, recorded_by, recorded_at, on_hand_at_post, posted_variance, \
                 entry_ids, item_id, expected, expected_serials) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
        };
        let mut q = q
            .bind(&after.id)
            .bind(l.lot.as_str())
            .bind(l.counted)
            .bind(counted_serials)
            .bind(l.on_hand_at_record)
            .bind(values.0)
            .bind(values.1)
            .bind(l.recorded_by.clone())
            .bind(l.recorded_at)
            .bind(l.on_hand_at_approval)
            .bind(l.posted_variance)
            .bind(values.2);
        if old.is_none() {
            q = q
                .bind(l.item.as_str())
                .bind(l.expected)
                .bind(serde_json::to_string(&l.expected_serials)?);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

fn audit(
    c: &StockCount,
    changes: serde_json::Value,
    entries: &[LedgerEntry],
) -> reserve_core::audit::AuditRecord {
    summary::document(&c.doc_ref(), &c.depot, changes, entries)
}

/// An approved count and the adjustment entries it posted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountPosted {
    /// The count with its variance report.
    pub count: StockCount,
    /// Entries posted.
    pub entries: Vec<LedgerEntry>,
}

impl Store {
    /// One count with its lines.
    pub async fn get_count(&self, id: &DocId) -> Result<Option<StockCount>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load(&mut c, id.as_str()).await
    }

    /// Opens a count, snapshotting expected quantities.
    pub async fn open_count(
        &self,
        meta: &WriteMeta,
        new: NewCount,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(meta, &OpenOp { new }).await
    }

    /// Records counted quantities, each as the shelf stood when recorded.
    pub async fn record_count(
        &self,
        meta: &WriteMeta,
        id: DocId,
        counted: Vec<Counted>,
        etag: Option<Etag>,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(meta, &RecordOp { id, counted, etag }).await
    }

    /// Submits a count for approval.
    pub async fn submit_count(
        &self,
        meta: &WriteMeta,
        id: DocId,
        etag: Option<Etag>,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(meta, &SubmitOp { id, etag }).await
    }

    /// Cancels a count.
    pub async fn cancel_count(
        &self,
        meta: &WriteMeta,
        id: DocId,
        reason: String,
        etag: Option<Etag>,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(meta, &CancelOp { id, reason, etag }).await
    }

    /// Approves a submitted count and posts its variances.
    pub async fn approve_count(
        &self,
        meta: &WriteMeta,
        id: DocId,
        note: String,
        etag: Option<Etag>,
    ) -> Result<Written<CountPosted>, OpError<StockError>> {
        self.run(meta, &ApproveOp { id, note, etag }).await
    }
}

fn acting(meta: &WriteMeta, etag: Option<Etag>) -> Acting<'_> {
    Acting {
        who: &meta.actor.subject,
        now: meta.now,
        etag,
    }
}

struct OpenOp {
    new: NewCount,
}

impl Op for OpenOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<StockCount, StockError> {
        let n = &self.new;
        keeper_at(&meta.actor, &n.depot).map_err(|d| OpError::Rule(d.into()))?;
        // Shared with every write that brings stock in: a depot closing
        // meanwhile waits for this count to open (and then sees it) or has
        // closed before it is read.
        let Some(depot) = load_depot_for_stock(tx, n.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(n.depot.to_string()));
        };
        if depot.status == DepotStatus::Closed {
            return rule(StockError::DepotNotActive {
                depot: depot.code.to_string(),
                status: depot.status.name(),
                action: "be counted",
            });
        }
        for i in &n.items {
            if load_item(tx, i.as_str()).await?.is_none() {
                return rule(StockError::ItemNotFound(i.to_string()));
            }
        }
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM stock_counts WHERE depot_code = $1 AND status IN (1, 2)",
        )
        .bind(n.depot.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = open {
            return rule(StockError::CountInProgress(id));
        }
        let mut sql = Sql::new(
            "SELECT l.lot_id, l.item_id, t.lot_number, l.on_hand, i.tracking FROM stock_lines l \
             JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id WHERE ",
        );
        sql.push(
            "l.depot_code = ? AND l.on_hand > 0",
            Arg::Text(n.depot.to_string()),
        );
        if !n.items.is_empty() {
            sql.in_list(" AND l.item_id IN ", n.items.iter().map(|i| i.to_string()));
        }
        sql.raw(" ORDER BY l.item_id, t.lot_number");
        let mut snapshot = Vec::new();
        for r in sql.fetch_all(&mut *tx).await? {
            let (lot, item, number, on_hand, tracking): (String, String, String, i64, i64) =
                FromRow::from_row(&r)?;
            let tracking = Tracking::from_number(tracking)
                .ok_or_else(|| StoreError::Corrupt(format!("item {item}: tracking")))?;
            let serials = if tracking == Tracking::Serial {
                load_assets_in_lot(tx, n.depot.as_str(), &lot)
                    .await?
                    .into_iter()
                    .map(|a| a.serial)
                    .collect()
            } else {
                Vec::new()
            };
            snapshot.push(SnapshotLine {
                item: ItemId::from_stored(item),
                tracking,
                lot: LotId(lot),
                lot_number: LotNumber::from_stored(number),
                on_hand,
                serials,
            });
        }
        let id = new_id();
        let plan = count_transition(
            None,
            CountAction::Open(n, &snapshot, &id),
            acting(meta, None),
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        // A count opened at the same moment is a unique violation here; the
        // run retries and finds it.
        save(tx, None, &plan.doc).await?;
        let c = plan.doc;
        let changes = json!({"opened": {"items": c.items, "lines": c.lines.len(), "note": c.note}});
        let audit = audit(&c, changes, &[]);
        Ok((c, audit))
    }
}

struct RecordOp {
    id: DocId,
    counted: Vec<Counted>,
    etag: Option<Etag>,
}

impl Op for RecordOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<StockCount, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        keeper_at(&meta.actor, &count.depot).map_err(|d| OpError::Rule(d.into()))?;
        let mut at = Vec::with_capacity(self.counted.len());
        for c in &self.counted {
            let Some(item) = load_item(tx, c.item.as_str()).await? else {
                return rule(StockError::ItemNotFound(c.item.to_string()));
            };
            let lot = lot_or_refuse(tx, &c.item, &c.lot_number).await?;
            let balance = load_line(tx, count.depot.as_str(), lot.id.as_str())
                .await?
                .map(|l| l.balance)
                .unwrap_or_default();
            let assets = if item.tracking == Tracking::Serial {
                // On hand in the lot here, and whatever the seen serial
                // numbers name elsewhere (a unit found again).
                let mut assets =
                    load_assets_in_lot(tx, count.depot.as_str(), lot.id.as_str()).await?;
                let elsewhere: Vec<SerialNumber> = c
                    .serials
                    .iter()
                    .filter(|s| !assets.iter().any(|a| &a.serial == *s))
                    .cloned()
                    .collect();
                assets.extend(load_assets(tx, c.item.as_str(), &elsewhere).await?);
                assets
            } else {
                Vec::new()
            };
            at.push(AtRecord {
                lot,
                tracking: item.tracking,
                balance,
                assets,
            });
        }
        let plan = count_transition(
            Some(&count),
            CountAction::Record(&self.counted, &at),
            acting(meta, self.etag),
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        save(tx, Some(&count), &plan.doc).await?;
        let recorded: Vec<_> = self
            .counted
            .iter()
            .zip(&at)
            .map(|(c, a)| {
                json!({"item": c.item.as_str(), "lot": c.lot_number.as_str(), "counted": c.counted,
                       "on_hand_at_record": a.balance.on_hand})
            })
            .collect();
        let audit = audit(&plan.doc, json!({ "recorded": recorded }), &[]);
        Ok((plan.doc, audit))
    }
}

struct SubmitOp {
    id: DocId,
    etag: Option<Etag>,
}

impl Op for SubmitOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<StockCount, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        keeper_at(&meta.actor, &count.depot).map_err(|d| OpError::Rule(d.into()))?;
        let plan = count_transition(
            Some(&count),
            CountAction::Submit,
            acting(meta, self.etag),
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        save(tx, Some(&count), &plan.doc).await?;
        let audit = audit(&plan.doc, json!({"status": ["open", "submitted"]}), &[]);
        Ok((plan.doc, audit))
    }
}

struct CancelOp {
    id: DocId,
    reason: String,
    etag: Option<Etag>,
}

impl Op for CancelOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<StockCount, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        keeper_at(&meta.actor, &count.depot).map_err(|d| OpError::Rule(d.into()))?;
        let plan = count_transition(
            Some(&count),
            CountAction::Cancel {
                reason: &self.reason,
            },
            acting(meta, self.etag),
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        save(tx, Some(&count), &plan.doc).await?;
        let audit = audit(
            &plan.doc,
            json!({"status": [count.status.name(), "cancelled"], "reason": self.reason}),
            &[],
        );
        Ok((plan.doc, audit))
    }
}

struct ApproveOp {
    id: DocId,
    note: String,
    etag: Option<Etag>,
}

/// Every lot of the count with its balance at the depot now (zero where it
/// has no line), in one query.
async fn lines_now(
    tx: &mut AnyConnection,
    count: &StockCount,
) -> Result<Vec<LineState>, StoreError> {
    if count.lines.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(&format!(
        "SELECT {LOT_COLUMNS}, CAST(COALESCE(l.on_hand, 0) AS BIGINT) AS on_hand, \
         CAST(COALESCE(l.reserved, 0) AS BIGINT) AS reserved, CAST(COALESCE(l.held, 0) AS BIGINT) AS held, \
         CAST(COALESCE(l.doc_held, 0) AS BIGINT) AS doc_held, \
         CAST(COALESCE(l.on_lease, 0) AS BIGINT) AS on_lease, \
         CAST(COALESCE(l.owning_tier, d.owning_tier) AS BIGINT) AS line_owner \
         FROM lots t JOIN depots d ON d.code = "
    ));
    sql.push(
        "? LEFT JOIN stock_lines l ON l.lot_id = t.id AND l.depot_code = d.code WHERE",
        Arg::Text(count.depot.to_string()),
    );
    sql.in_list(" t.id IN ", count.lines.iter().map(|l| l.lot.0.clone()));
    let mut out = Vec::new();
    for r in sql.fetch_all(&mut *tx).await? {
        out.push(LineState {
            lot: lot_from(&r)?,
            balance: Balance {
                on_hand: r.try_get("on_hand")?,
                reserved: r.try_get("reserved")?,
                held: r.try_get("held")?,
                doc_held: r.try_get("doc_held")?,
                on_lease: r.try_get("on_lease")?,
            },
            // A lot the depot never held (found by the count) is the depot's.
            owner: reserve_core::tier::Tier::from_number(r.try_get("line_owner")?).ok_or_else(
                || StoreError::Corrupt(format!("stock count {}: owning tier", count.id)),
            )?,
        });
    }
    Ok(out)
}

impl Op for ApproveOp {
    type Output = CountPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<CountPosted, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        let (scope, path) = load_scope_and_path(tx, &meta.actor.scope, &count.depot).await?;
        let path =
            path.ok_or_else(|| OpError::Rule(StockError::DepotNotFound(count.depot.to_string())))?;
        countersigner(
            &meta.actor,
            scope.as_ref().map(|s| &s.path),
            &count.depot,
            &path,
        )
        .map_err(|d| OpError::Rule(d.into()))?;
        let Some(depot) = load_depot_for_stock(tx, count.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(count.depot.to_string()));
        };
        let lines = lines_now(tx, &count).await?;
        let mut assets = Vec::new();
        for l in count.lines.iter().filter(|l| l.serial) {
            let mut serials = l.missing();
            serials.extend(l.found());
            assets.extend(load_assets(tx, l.item.as_str(), &serials).await?);
        }
        let plan = count_transition(
            Some(&count),
            CountAction::Approve {
                note: &self.note,
                depot: &depot,
                lines: &lines,
                assets: &assets,
            },
            acting(meta, self.etag),
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let posted = post(tx, meta, plan.entries, 0).await?;
        save(tx, Some(&count), &plan.doc).await?;
        let audit = audit(
            &plan.doc,
            json!({"status": ["submitted", "approved"], "note": self.note}),
            &posted.entries,
        );
        Ok((
            CountPosted {
                count: plan.doc,
                entries: posted.entries,
            },
            audit,
        ))
    }
}
