//! Requisitions as stored: the record as JSON (owners' private data only
//! masked) beside the columns lists filter on, and per line the counts only
//! guarded updates move.

use crate::error::StoreError;
use chrono::Datelike;
use reserve_core::requisition::Requisition;
use reserve_core::time::{UtcMillis, local_date};
use sqlx::AnyConnection;

/// The next readable number of its kind (`ZY`, `BC`) in the year `now`
/// falls in: `ZY-2026-000001`.
pub(crate) async fn next_number(
    tx: &mut AnyConnection,
    table: &str,
    prefix: &str,
    now: UtcMillis,
) -> Result<String, StoreError> {
    let year = local_date(now).year();
    let (n,): (i64,) = sqlx::query_as(&format!(
        "INSERT INTO {table} (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    ))
    .bind(i64::from(year))
    .fetch_one(&mut *tx)
    .await?;
    Ok(format!("{prefix}-{year}-{n:06}"))
}

/// Loads one requisition by id or number.
pub(crate) async fn load_requisition(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<Requisition>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT body FROM requisitions WHERE id = $1 OR number = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((body,)) = row else {
        return Ok(None);
    };
    let mut r: Requisition = serde_json::from_str(&body)?;
    fill_received(conn, &mut r).await?;
    Ok(Some(r))
}

/// Stores a new requisition and its lines.
pub(crate) async fn insert_requisition(
    tx: &mut AnyConnection,
    r: &Requisition,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO requisitions (id, number, depot_code, incident_id, owner_kind, owner_name, private_ref, \
         state, taken_at, voucher_due, has_voucher, body, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&r.id)
    .bind(&r.number)
    .bind(r.depot.as_str())
    .bind(&r.incident_id)
    .bind(r.owner.kind.number())
    .bind(&r.owner.name)
    .bind(&r.owner.private_ref)
    .bind(r.state.number())
    .bind(r.taken_at)
    .bind(r.voucher_due)
    .bind(i64::from(r.voucher.is_some()))
    .bind(serde_json::to_string(r)?)
    .bind(r.version)
    .execute(&mut *tx)
    .await?;
    for i in &r.items {
        sqlx::query(
            "INSERT INTO requisition_items (requisition_id, line_number, quantity, received, resolved) \
             VALUES ($1, $2, $3, 0, 0)",
        )
        .bind(&r.id)
        .bind(i64::from(i.number))
        .bind(i.quantity)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Writes `after` over the version `before` was read at; false if it moved.
pub(crate) async fn save_requisition(
    tx: &mut AnyConnection,
    before: &Requisition,
    after: &Requisition,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE requisitions SET state = $1, has_voucher = $2, body = $3, version = $4 \
         WHERE id = $5 AND version = $6",
    )
    .bind(after.state.number())
    .bind(i64::from(after.voucher.is_some()))
    .bind(serde_json::to_string(after)?)
    .bind(after.version)
    .bind(&after.id)
    .bind(before.version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    for (b, a) in before.items.iter().zip(&after.items) {
        let more = a.resolved() - b.resolved();
        if more == 0 {
            continue;
        }
        let moved = sqlx::query(
            "UPDATE requisition_items SET resolved = resolved + $1 \
             WHERE requisition_id = $2 AND line_number = $3 AND resolved + $1 <= quantity AND resolved = $4",
        )
        .bind(more)
        .bind(&after.id)
        .bind(i64::from(a.number))
        .bind(b.resolved())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Units of a requisition line in depot stock now (on hand or on lease, at
/// any depot, or on the road between depots): they still belong to the
/// requisition.
pub(crate) async fn units_in_stock(
    tx: &mut AnyConnection,
    requisition: &str,
    line: u32,
) -> Result<i64, StoreError> {
    let (n,): (Option<i64>,) = sqlx::query_as(
        "SELECT CAST(COALESCE((SELECT SUM(l.on_hand + l.on_lease) FROM requisition_lots q \
         JOIN stock_lines l ON l.lot_id = q.lot_id WHERE q.requisition_id = $1 AND q.line_number = $2), 0) \
         + COALESCE((SELECT SUM(s.dispatched - s.received - s.damaged - s.rejected - s.short) \
         FROM requisition_lots q JOIN allocation_shares s ON s.lot_id = q.lot_id \
         WHERE q.requisition_id = $1 AND q.line_number = $2), 0) AS BIGINT)",
    )
    .bind(requisition)
    .bind(i64::from(line))
    .fetch_one(&mut *tx)
    .await?;
    Ok(n.unwrap_or(0))
}

/// Locks a requisition line's counts for the rest of the transaction, so
/// receipts into its lots and outcomes outside stock take turns; returns
/// (quantity, resolved) as they stand once the lock is held.
pub(crate) async fn lock_line(
    tx: &mut AnyConnection,
    requisition: &str,
    line: u32,
) -> Result<Option<(i64, i64)>, StoreError> {
    sqlx::query(
        "UPDATE requisition_items SET received = received WHERE requisition_id = $1 AND line_number = $2",
    )
    .bind(requisition)
    .bind(i64::from(line))
    .execute(&mut *tx)
    .await?;
    Ok(sqlx::query_as(
        "SELECT quantity, resolved FROM requisition_items WHERE requisition_id = $1 AND line_number = $2",
    )
    .bind(requisition)
    .bind(i64::from(line))
    .fetch_optional(&mut *tx)
    .await?)
}

/// Fills each item's `received` from the counts table (the record's body
/// is written only by its own transitions).
pub(crate) async fn fill_received(
    conn: &mut AnyConnection,
    r: &mut Requisition,
) -> Result<(), StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT line_number, received FROM requisition_items WHERE requisition_id = $1",
    )
    .bind(&r.id)
    .fetch_all(&mut *conn)
    .await?;
    for (line, received) in rows {
        if let Some(i) = r.items.iter_mut().find(|i| i64::from(i.number) == line) {
            i.received = received;
        }
    }
    Ok(())
}

/// The requisition line a lot was received for, if any.
pub(crate) async fn lot_link(
    tx: &mut AnyConnection,
    lot: &str,
) -> Result<Option<(String, u32)>, StoreError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT requisition_id, line_number FROM requisition_lots WHERE lot_id = $1",
    )
    .bind(lot)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|(r, l)| (r, l.clamp(0, i64::from(u32::MAX)) as u32)))
}
