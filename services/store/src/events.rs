//! The event stream's storage: every change appends to an outbox in its own
//! transaction; a sequencer (one at a time, under the `event_sequence` row)
//! moves committed outbox rows into `events` with ids that only ever grow,
//! so a reader resuming after id N never misses a row and never sees one
//! twice, whichever server wrote it. Alerts are raised by a scan, once
//! while each holds.

use crate::db::Store;
use crate::error::StoreError;
use crate::write::WriteMeta;
use reserve_core::allocation::State;
use reserve_core::audit::AuditRecord;
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::enterprise::EXPIRING_WITHIN_DAYS;
use reserve_core::events::EventKind;
use reserve_core::stock::Day;
use reserve_core::time::UtcMillis;
use serde_json::json;
use sqlx::{AnyConnection, FromRow};
use std::collections::{BTreeMap, BTreeSet};

/// One event as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    /// Id, increasing.
    pub id: i64,
    /// Kind.
    pub kind: EventKind,
    /// When.
    pub at: UtcMillis,
    /// Depot.
    pub depot: DepotCode,
    /// Its path, for scope.
    pub path: DepotPath,
    /// Resource.
    pub resource: String,
    /// Method (empty for alerts).
    pub method: String,
    /// Actor (empty for alerts).
    pub actor: String,
    /// Detail, JSON text.
    pub detail: String,
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    occurred_at: i64,
    kind: i64,
    depot_code: String,
    depot_path: String,
    resource: String,
    method: String,
    actor: String,
    detail: String,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(StoredEvent {
            kind: EventKind::from_number(r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("event {}: kind", r.id)))?,
            id: r.id,
            at: r.occurred_at,
            depot: DepotCode::from_stored(r.depot_code),
            path: DepotPath::from_stored(r.depot_path),
            resource: r.resource,
            method: r.method,
            actor: r.actor,
            detail: r.detail,
        })
    }
}

/// Appends the event of a change to the outbox, in the change's transaction.
pub(crate) async fn append(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    event: &AuditRecord,
) -> Result<(), StoreError> {
    let kind = EventKind::of_change(&meta.method, &event.resource);
    outbox(
        tx,
        meta.now,
        kind,
        &event.depot,
        &event.resource,
        &meta.method,
        &meta.actor.subject,
        &event.changes.to_string(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn outbox(
    tx: &mut AnyConnection,
    at: UtcMillis,
    kind: EventKind,
    depot: &DepotCode,
    resource: &str,
    method: &str,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO event_outbox (occurred_at, kind, depot_code, depot_path, resource, method, actor, detail) \
         SELECT $1, $2, $3, COALESCE((SELECT path FROM depots WHERE code = $3), ''), $4, $5, $6, $7",
    )
    .bind(at)
    .bind(kind.number())
    .bind(depot.as_str())
    .bind(resource)
    .bind(method)
    .bind(actor)
    .bind(detail)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Outbox rows one sequencing round moves at most.
const ROUND: i64 = 1000;

impl Store {
    /// Moves committed outbox rows into `events`, in outbox order, with ids
    /// after the last one given. Rounds run one at a time across every
    /// server (the `event_sequence` row is their lock). Returns the last id.
    pub async fn sequence_events(&self) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let (last,): (i64,) =
            sqlx::query_as("UPDATE event_sequence SET last = last WHERE id = 1 RETURNING last")
                .fetch_one(&mut *tx)
                .await?;
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT seq FROM event_outbox ORDER BY seq LIMIT $1")
                .bind(ROUND)
                .fetch_all(&mut *tx)
                .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(last);
        }
        let mut next = last;
        for (seq,) in &rows {
            next += 1;
            sqlx::query(
                "INSERT INTO events (id, occurred_at, kind, depot_code, depot_path, resource, method, actor, detail) \
                 SELECT $1, occurred_at, kind, depot_code, depot_path, resource, method, actor, detail \
                 FROM event_outbox WHERE seq = $2",
            )
            .bind(next)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        }
        // Exactly the rows moved: one committing meanwhile with a smaller
        // seq is left for the next round, never dropped.
        sqlx::query(&del_sql_numeric(&rows))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE event_sequence SET last = $1 WHERE id = 1")
            .bind(next)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Events after `after`, at most `limit`, in id order.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, occurred_at, kind, depot_code, depot_path, resource, method, actor, detail \
             FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(StoredEvent::try_from).collect()
    }

    /// The last sequenced event id.
    pub async fn last_event_id(&self) -> Result<i64, StoreError> {
        let (last,): (i64,) = sqlx::query_as("SELECT last FROM event_sequence WHERE id = 1")
            .fetch_one(self.reader())
            .await?;
        Ok(last)
    }

    /// Raises the alerts that newly hold at `now` (once each while they
    /// hold) and forgets those that no longer do. Returns how many it raised.
    pub async fn scan_alerts(&self, now: UtcMillis) -> Result<usize, StoreError> {
        let today = Day::today(now);
        let mut tx = self.begin_write().await?;
        let current = current_alerts(&mut tx, now, today).await?;
        let raised: BTreeSet<String> =
            sqlx::query_as::<_, (String,)>("SELECT key FROM alerts_raised")
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(k,)| k)
                .collect();
        let mut n = 0;
        for (key, a) in &current {
            if raised.contains(key) {
                continue;
            }
            let fresh = sqlx::query(
                "INSERT INTO alerts_raised (key, raised_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fresh == 1 {
                outbox(
                    &mut tx,
                    now,
                    a.kind,
                    &a.depot,
                    &a.resource,
                    "",
                    "",
                    &a.detail.to_string(),
                )
                .await?;
                n += 1;
            }
        }
        for key in raised.difference(&current.keys().cloned().collect()) {
            sqlx::query("DELETE FROM alerts_raised WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// `DELETE ... WHERE seq IN (1, 2, ...)` with the numbers inlined (they
/// are integers read from the table, never client text).
fn del_sql_numeric(rows: &[(i64,)]) -> String {
    let list: Vec<String> = rows.iter().map(|(s,)| s.to_string()).collect();
    format!(
        "DELETE FROM event_outbox WHERE seq IN ({})",
        list.join(", ")
    )
}

struct Alert {
    kind: EventKind,
    depot: DepotCode,
    resource: String,
    detail: serde_json::Value,
}

async fn current_alerts(
    tx: &mut AnyConnection,
    now: UtcMillis,
    today: Day,
) -> Result<BTreeMap<String, Alert>, StoreError> {
    let mut out = BTreeMap::new();
    // Below the reserve minimum: available (not expired, free) under it.
    let low: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT n.depot_code, n.item_id, n.minimum, CAST(COALESCE(SUM(CASE WHEN t.expiry_day IS NULL OR t.expiry_day > $1 \
         THEN l.on_hand - l.reserved - l.held ELSE 0 END), 0) AS BIGINT) \
         FROM reserve_norms n JOIN depots d ON d.code = n.depot_code \
         LEFT JOIN stock_lines l ON l.depot_code = n.depot_code AND l.item_id = n.item_id \
         LEFT JOIN lots t ON t.id = l.lot_id \
         WHERE n.minimum > 0 AND d.status = 1 GROUP BY n.depot_code, n.item_id, n.minimum",
    )
    .bind(today.0)
    .fetch_all(&mut *tx)
    .await?;
    for (depot, item, minimum, available) in low {
        if available < minimum {
            out.insert(
                format!("low:{depot}:{item}"),
                Alert {
                    kind: EventKind::LowStock,
                    resource: format!("depots/{depot}/stock/{item}"),
                    detail: json!({"item": item, "minimum": minimum, "available": available}),
                    depot: DepotCode::from_stored(depot),
                },
            );
        }
    }
    // Lots with stock inside their item's near-expiry window.
    let near: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT l.depot_code, l.item_id, l.lot_id, t.lot_number, t.expiry_day, l.on_hand \
         FROM stock_lines l JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id \
         WHERE l.on_hand > 0 AND t.expiry_day > $1 AND t.expiry_day - i.near_expiry_days <= $1",
    )
    .bind(today.0)
    .fetch_all(&mut *tx)
    .await?;
    for (depot, item, lot_id, lot, expiry, on_hand) in near {
        out.insert(
            format!("near:{depot}:{lot_id}"),
            Alert {
                kind: EventKind::NearExpiry,
                resource: format!("depots/{depot}/stock/{item}"),
                detail: json!({"item": item, "lot": lot, "on_hand": on_hand,
                    "expiry": Day(expiry).date().to_string()}),
                depot: DepotCode::from_stored(depot),
            },
        );
    }
    // Emergency orders whose back-filled approval is overdue.
    let overdue: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, number, COALESCE(destination_depot_code, command_depot_code), backfill_due \
         FROM allocation_orders WHERE approved_at IS NULL AND backfill_due IS NOT NULL AND backfill_due < $1 \
         AND state IN ($2, $3)",
    )
    .bind(now)
    .bind(State::Dispatched.number())
    .bind(State::Received.number())
    .fetch_all(&mut *tx)
    .await?;
    for (id, number, depot, due) in overdue {
        out.insert(
            format!("backfill:{id}"),
            Alert {
                kind: EventKind::OverdueBackfill,
                resource: format!("allocationOrders/{id}"),
                detail: json!({"number": number, "due": due}),
                depot: DepotCode::from_stored(depot),
            },
        );
    }
    // Agreements ending within 60 days.
    let ending: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, company_name, depot_code, valid_until FROM agreements \
         WHERE valid_until >= $1 AND valid_until <= $2",
    )
    .bind(today.0)
    .bind(today.0.saturating_add(EXPIRING_WITHIN_DAYS))
    .fetch_all(&mut *tx)
    .await?;
    for (id, company, depot, until) in ending {
        out.insert(
            format!("agreement:{id}"),
            Alert {
                kind: EventKind::ExpiringAgreement,
                resource: format!("agreements/{id}"),
                detail: json!({"company": company, "valid_until": Day(until).date().to_string()}),
                depot: DepotCode::from_stored(depot),
            },
        );
    }
    Ok(out)
}

/// Whether a subscriber of `subtree` asking for `kinds` (all if empty)
/// sees `e`.
pub fn visible(e: &StoredEvent, subtree: &DepotPath, kinds: &[EventKind]) -> bool {
    subtree.covers(&e.path) && (kinds.is_empty() || kinds.contains(&e.kind))
}
