//! Stock counts (盘点): open with a snapshot, record, submit, approve (posting
//! every variance in one transaction) or cancel.

use super::movements::{entries_json, rule};
use super::rows::{ensure_line, entry, load_assets, load_lot_by_number, move_assets, new_id, post};
use crate::catalog::load_item;
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_depot;
use crate::sql::{Arg, Sql};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::depot::{DepotCode, DepotStatus};
use reserve_core::item::{ItemId, Tracking};
use reserve_core::stock::count::{
    CountLine, CountStatus, Counted, StockCount, check_cancel, check_submit, plan_approval, record,
};
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::movement::AssetState;
use reserve_core::stock::{
    Balance, EntryType, LedgerEntry, LotId, LotNumber, SerialNumber, StockError,
};
use reserve_core::time::UtcMillis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, FromRow};

#[derive(FromRow)]
struct CountRow {
    id: String,
    depot_code: String,
    status: i64,
    scope_items: String,
    note: String,
    opened_by: String,
    opened_at: i64,
    submitted_by: Option<String>,
    submitted_at: Option<i64>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
    version: i64,
}

#[derive(FromRow)]
struct CountLineRow {
    lot_id: String,
    item_id: String,
    lot_number: String,
    expected: i64,
    expected_serials: String,
    counted: Option<i64>,
    counted_serials: Option<String>,
    on_hand_at_post: Option<i64>,
    posted_variance: Option<i64>,
    entry_id: Option<String>,
}

async fn load_count(tx: &mut AnyConnection, id: &str) -> Result<Option<StockCount>, StoreError> {
    let row: Option<CountRow> = sqlx::query_as(
        "SELECT id, depot_code, status, scope_items, note, opened_by, opened_at, submitted_by, submitted_at, \
         decided_by, decided_at, version FROM stock_counts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(c) = row else { return Ok(None) };
    let lines: Vec<CountLineRow> = sqlx::query_as(
        "SELECT c.lot_id, c.item_id, t.lot_number, c.expected, c.expected_serials, c.counted, c.counted_serials, \
         c.on_hand_at_post, c.posted_variance, c.entry_id FROM stock_count_lines c JOIN lots t ON t.id = c.lot_id \
         WHERE c.count_id = $1 ORDER BY c.item_id, t.lot_number",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        out.push(CountLine {
            item: ItemId::from_stored(l.item_id),
            lot: LotId(l.lot_id),
            lot_number: LotNumber::from_stored(l.lot_number),
            expected: l.expected,
            expected_serials: serde_json::from_str(&l.expected_serials)?,
            counted: l.counted,
            counted_serials: match l.counted_serials {
                Some(s) => serde_json::from_str(&s)?,
                None => Vec::new(),
            },
            on_hand_at_post: l.on_hand_at_post,
            posted_variance: l.posted_variance,
            entry_id: l.entry_id,
        });
    }
    Ok(Some(StockCount {
        status: CountStatus::from_number(c.status)
            .ok_or_else(|| StoreError::Corrupt(format!("count {}: status", c.id)))?,
        items: serde_json::from_str(&c.scope_items)?,
        id: c.id,
        depot: DepotCode::from_stored(c.depot_code),
        note: c.note,
        opened_by: c.opened_by,
        opened_at: c.opened_at,
        submitted_by: c.submitted_by,
        submitted_at: c.submitted_at,
        decided_by: c.decided_by,
        decided_at: c.decided_at,
        version: c.version,
        lines: out,
    }))
}

async fn count_or_refuse(
    tx: &mut AnyConnection,
    id: &str,
) -> Result<StockCount, OpError<StockError>> {
    match load_count(tx, id).await? {
        Some(c) => Ok(c),
        None => rule(StockError::DocumentNotFound {
            kind: "stockCounts",
            id: id.to_string(),
        }),
    }
}

/// Writes the count's header fields if its version is still `expected`.
async fn store_header(
    tx: &mut AnyConnection,
    c: &StockCount,
    expected: i64,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE stock_counts SET status = $1, submitted_by = $2, submitted_at = $3, decided_by = $4, \
         decided_at = $5, version = $6 WHERE id = $7 AND version = $8",
    )
    .bind(c.status.number())
    .bind(c.submitted_by.clone())
    .bind(c.submitted_at)
    .bind(c.decided_by.clone())
    .bind(c.decided_at)
    .bind(c.version)
    .bind(&c.id)
    .bind(expected)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

fn count_audit(c: &StockCount, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("stockCounts/{}", c.id),
        depot: c.depot.clone(),
        changes,
    }
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
    pub async fn get_count(&self, id: &str) -> Result<Option<StockCount>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load_count(&mut c, id).await
    }

    /// Opens a count at `depot`, snapshotting expected quantities.
    pub async fn open_count(
        &self,
        meta: &WriteMeta,
        depot: DepotCode,
        items: Vec<ItemId>,
        note: String,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(
            meta,
            &OpenCountOp {
                depot,
                items,
                note,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Records counted quantities.
    pub async fn record_count(
        &self,
        meta: &WriteMeta,
        id: String,
        counted: Vec<Counted>,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(meta, &RecordOp { id, counted }).await
    }

    /// Submits, cancels: the transitions that post nothing.
    pub async fn transition_count(
        &self,
        meta: &WriteMeta,
        id: String,
        submit: bool,
        reason: String,
    ) -> Result<Written<StockCount>, OpError<StockError>> {
        self.run(
            meta,
            &TransitionOp {
                id,
                submit,
                reason,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Approves a submitted count and posts its variances.
    pub async fn approve_count(
        &self,
        meta: &WriteMeta,
        id: String,
        note: String,
    ) -> Result<Written<CountPosted>, OpError<StockError>> {
        self.run(
            meta,
            &ApproveOp {
                id,
                note,
                meta: meta.clone(),
            },
        )
        .await
    }
}

struct OpenCountOp {
    depot: DepotCode,
    items: Vec<ItemId>,
    note: String,
    meta: WriteMeta,
}

impl Op for OpenCountOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<StockCount, StockError> {
        let Some(depot) = load_depot(tx, self.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(self.depot.to_string()));
        };
        if depot.status == DepotStatus::Closed {
            return rule(StockError::DepotNotActive {
                depot: depot.code.to_string(),
                status: depot.status.name(),
                action: "be counted",
            });
        }
        for i in &self.items {
            if load_item(tx, i.as_str()).await?.is_none() {
                return rule(StockError::ItemNotFound(i.to_string()));
            }
        }
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM stock_counts WHERE depot_code = $1 AND status IN (1, 2)",
        )
        .bind(self.depot.as_str())
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
            Arg::Text(self.depot.to_string()),
        );
        if !self.items.is_empty() {
            sql.in_list(
                " AND l.item_id IN ",
                self.items.iter().map(|i| i.to_string()),
            );
        }
        sql.raw(" ORDER BY l.item_id, t.lot_number");
        let rows = sql.fetch_all(&mut *tx).await?;
        let mut lines = Vec::new();
        for r in &rows {
            let (lot, item, number, on_hand, tracking): (String, String, String, i64, i64) =
                FromRow::from_row(r)?;
            let expected_serials: Vec<SerialNumber> = if tracking == Tracking::Serial.number() {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT serial_number FROM assets WHERE depot_code = $1 AND lot_id = $2 AND status IN (1, 2) \
                     ORDER BY serial_number",
                )
                .bind(self.depot.as_str())
                .bind(&lot)
                .fetch_all(&mut *tx)
                .await?;
                rows.into_iter()
                    .map(|(s,)| SerialNumber::from_stored(s))
                    .collect()
            } else {
                Vec::new()
            };
            lines.push(CountLine {
                item: ItemId::from_stored(item),
                lot: LotId(lot),
                lot_number: LotNumber::from_stored(number),
                expected: on_hand,
                expected_serials,
                counted: None,
                counted_serials: Vec::new(),
                on_hand_at_post: None,
                posted_variance: None,
                entry_id: None,
            });
        }
        let count = StockCount {
            id: new_id(),
            depot: self.depot.clone(),
            status: CountStatus::Open,
            items: self.items.clone(),
            note: self.note.clone(),
            opened_by: self.meta.actor.subject.clone(),
            opened_at: now,
            submitted_by: None,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            version: 1,
            lines,
        };
        let inserted = sqlx::query(
            "INSERT INTO stock_counts (id, depot_code, status, scope_items, note, opened_by, opened_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
        )
        .bind(&count.id)
        .bind(count.depot.as_str())
        .bind(count.status.number())
        .bind(serde_json::to_string(&count.items)?)
        .bind(&count.note)
        .bind(&count.opened_by)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            // Another count opened at the same moment: retry, and find it.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(OpError::Store(StoreError::Conflict));
            }
            other => other?,
        };
        for l in &count.lines {
            insert_line(tx, &count.id, l).await?;
        }
        let audit = count_audit(
            &count,
            json!({"opened": {"items": count.items, "lines": count.lines.len(), "note": count.note}}),
        );
        Ok((count, audit))
    }
}

async fn insert_line(tx: &mut AnyConnection, count: &str, l: &CountLine) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO stock_count_lines (count_id, lot_id, item_id, expected, expected_serials, counted, counted_serials) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(count)
    .bind(l.lot.as_str())
    .bind(l.item.as_str())
    .bind(l.expected)
    .bind(serde_json::to_string(&l.expected_serials)?)
    .bind(l.counted)
    .bind(l.counted.map(|_| serde_json::to_string(&l.counted_serials)).transpose()?)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

struct RecordOp {
    id: String,
    counted: Vec<Counted>,
}

impl Op for RecordOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        _now: UtcMillis,
    ) -> Applied<StockCount, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        let mut resolve = Vec::with_capacity(self.counted.len());
        for c in &self.counted {
            let Some(item) = load_item(tx, c.item.as_str()).await? else {
                return rule(StockError::ItemNotFound(c.item.to_string()));
            };
            let Some(lot) = load_lot_by_number(tx, c.item.as_str(), c.lot_number.as_str()).await?
            else {
                return rule(StockError::LotNotFound {
                    item: c.item.to_string(),
                    lot: c.lot_number.as_str().to_string(),
                });
            };
            let assets: Vec<AssetState> = load_assets(tx, c.item.as_str(), &c.serials)
                .await?
                .into_iter()
                .filter(|a| a.lot == lot.id)
                .collect();
            resolve.push((lot.id, item.tracking, assets));
        }
        let lines = record(&count, &self.counted, &resolve).map_err(OpError::Rule)?;
        for l in &lines {
            let Some(c) = l.counted else { continue };
            let existed = count.lines.iter().any(|x| x.lot == l.lot);
            if existed {
                sqlx::query(
                    "UPDATE stock_count_lines SET counted = $1, counted_serials = $2 WHERE count_id = $3 AND lot_id = $4",
                )
                .bind(c)
                .bind(serde_json::to_string(&l.counted_serials)?)
                .bind(&count.id)
                .bind(l.lot.as_str())
                .execute(&mut *tx)
                .await?;
            } else {
                insert_line(tx, &count.id, l).await?;
            }
        }
        let updated = StockCount {
            version: count.version + 1,
            lines,
            ..count.clone()
        };
        store_header(tx, &updated, count.version).await?;
        let recorded: Vec<_> = self
            .counted
            .iter()
            .map(|c| json!({"item": c.item.as_str(), "lot": c.lot_number.as_str(), "counted": c.counted}))
            .collect();
        let audit = count_audit(&updated, json!({ "recorded": recorded }));
        Ok((updated, audit))
    }
}

struct TransitionOp {
    id: String,
    submit: bool,
    reason: String,
    meta: WriteMeta,
}

impl Op for TransitionOp {
    type Output = StockCount;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<StockCount, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        let who = self.meta.actor.subject.clone();
        let updated = if self.submit {
            check_submit(&count).map_err(OpError::Rule)?;
            StockCount {
                status: CountStatus::Submitted,
                submitted_by: Some(who),
                submitted_at: Some(now),
                version: count.version + 1,
                ..count.clone()
            }
        } else {
            check_cancel(&count).map_err(OpError::Rule)?;
            StockCount {
                status: CountStatus::Cancelled,
                decided_by: Some(who),
                decided_at: Some(now),
                version: count.version + 1,
                ..count.clone()
            }
        };
        store_header(tx, &updated, count.version).await?;
        let audit = count_audit(
            &updated,
            json!({"status": [count.status.name(), updated.status.name()], "reason": self.reason}),
        );
        Ok((updated, audit))
    }
}

struct ApproveOp {
    id: String,
    note: String,
    meta: WriteMeta,
}

impl Op for ApproveOp {
    type Output = CountPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        now: UtcMillis,
    ) -> Applied<CountPosted, StockError> {
        let count = count_or_refuse(tx, &self.id).await?;
        let mut balances: Vec<(LotId, Balance)> = Vec::new();
        if !count.lines.is_empty() {
            let mut sql =
                Sql::new("SELECT lot_id, on_hand, reserved, held FROM stock_lines WHERE ");
            sql.push("depot_code = ?", Arg::Text(count.depot.to_string()));
            sql.in_list(
                " AND lot_id IN ",
                count.lines.iter().map(|l| l.lot.0.clone()),
            );
            for r in sql.fetch_all(&mut *tx).await? {
                let (lot, on_hand, reserved, held): (String, i64, i64, i64) =
                    FromRow::from_row(&r)?;
                balances.push((
                    LotId(lot),
                    Balance {
                        on_hand,
                        reserved,
                        held,
                    },
                ));
            }
        }
        let mut assets = Vec::new();
        for l in count
            .lines
            .iter()
            .filter(|l| !l.expected_serials.is_empty())
        {
            assets.extend(load_assets(tx, l.item.as_str(), &l.expected_serials).await?);
        }
        let posts =
            plan_approval(&count, &self.meta.actor, &balances, &assets).map_err(OpError::Rule)?;
        let author = count
            .submitted_by
            .clone()
            .unwrap_or_else(|| count.opened_by.clone());
        let mut lines = count.lines.clone();
        let mut entries = Vec::new();
        for p in posts {
            let line = &mut lines[p.index];
            if p.delta.is_zero() {
                line.on_hand_at_post = Some(p.on_hand_before);
                line.posted_variance = Some(0);
            } else {
                ensure_line(
                    tx,
                    count.depot.as_str(),
                    line.item.as_str(),
                    line.lot.as_str(),
                    now,
                )
                .await?;
                let Some(lot) = super::rows::load_lot(tx, line.lot.as_str()).await? else {
                    return Err(OpError::Store(StoreError::Corrupt(format!(
                        "count line lot {}",
                        line.lot.0
                    ))));
                };
                let mut e = entry(
                    EntryType::Adjustment,
                    &count.depot,
                    &lot,
                    p.delta,
                    p.missing.clone(),
                    format!(
                        "stock count variance: expected {}, counted {}",
                        line.expected,
                        line.counted.unwrap_or_default()
                    ),
                    format!("stock count {}", count.id),
                    String::new(),
                    now,
                    &self.meta,
                );
                e.actor = author.clone();
                e.countersigned_by = Some(self.meta.actor.subject.clone());
                let (e, after, _) = post(tx, e).await?;
                for status in [AssetStatus::InStock, AssetStatus::Held] {
                    let these: Vec<SerialNumber> = p
                        .missing
                        .iter()
                        .filter(|s| assets.iter().any(|a| &a.serial == *s && a.status == status))
                        .cloned()
                        .collect();
                    move_assets(
                        tx,
                        line.item.as_str(),
                        count.depot.as_str(),
                        &these,
                        status,
                        AssetStatus::Missing,
                        now,
                    )
                    .await?;
                }
                line.on_hand_at_post = Some(after.on_hand - p.delta.on_hand);
                line.posted_variance = Some(p.delta.on_hand);
                line.entry_id = Some(e.id.clone());
                entries.push(e);
            }
            sqlx::query(
                "UPDATE stock_count_lines SET on_hand_at_post = $1, posted_variance = $2, entry_id = $3 \
                 WHERE count_id = $4 AND lot_id = $5",
            )
            .bind(line.on_hand_at_post)
            .bind(line.posted_variance)
            .bind(line.entry_id.clone())
            .bind(&count.id)
            .bind(line.lot.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let approved = StockCount {
            status: CountStatus::Approved,
            decided_by: Some(self.meta.actor.subject.clone()),
            decided_at: Some(now),
            version: count.version + 1,
            lines,
            ..count.clone()
        };
        store_header(tx, &approved, count.version).await?;
        let audit = count_audit(
            &approved,
            json!({"status": ["submitted", "approved"], "note": self.note, "posted": entries_json(&entries)}),
        );
        Ok((
            CountPosted {
                count: approved,
                entries,
            },
            audit,
        ))
    }
}
