//! Leases as stored: the document as JSON, its shares as rows that only
//! guarded updates move, and its readable number.

use crate::error::StoreError;
use chrono::Datelike;
use reserve_core::lease::Lease;
use reserve_core::time::{UtcMillis, local_date};
use sqlx::AnyConnection;

/// Columns of `leases` under the alias `s`.
pub(crate) const LEASE_COLUMNS: &str = "s.body";

/// The next readable number of the year `now` falls in: `ZL-2026-000001`.
pub(crate) async fn next_number(
    tx: &mut AnyConnection,
    now: UtcMillis,
) -> Result<String, StoreError> {
    let year = local_date(now).year();
    let (n,): (i64,) = sqlx::query_as(
        "INSERT INTO lease_numbers (year, last) VALUES ($1, 1) \
         ON CONFLICT (year) DO UPDATE SET last = lease_numbers.last + 1 RETURNING last",
    )
    .bind(i64::from(year))
    .fetch_one(&mut *tx)
    .await?;
    Ok(format!("ZL-{year}-{n:06}"))
}

/// A lease from its stored body.
pub(crate) fn lease_from(body: &str) -> Result<Lease, StoreError> {
    Ok(serde_json::from_str(body)?)
}

/// Loads one lease by id or number.
pub(crate) async fn load_lease(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<Lease>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT {LEASE_COLUMNS} FROM leases s WHERE s.id = $1 OR s.number = $1"
    ))
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(b,)| lease_from(&b)).transpose()
}

/// Stores a new lease and its shares.
pub(crate) async fn insert_lease(tx: &mut AnyConnection, l: &Lease) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO leases (id, number, depot_code, state, lessee_name, credit_code, recallable, start_at, \
         due_day, recalled_at, recall_deadline, body, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, $10, $11)",
    )
    .bind(&l.id)
    .bind(&l.number)
    .bind(l.depot.as_str())
    .bind(l.state.number())
    .bind(&l.lessee.name)
    .bind(l.lessee.credit_code.as_str())
    .bind(i64::from(l.recallable))
    .bind(l.start)
    .bind(l.due.0)
    .bind(serde_json::to_string(l)?)
    .bind(l.version)
    .execute(&mut *tx)
    .await?;
    for s in &l.shares {
        sqlx::query(
            "INSERT INTO lease_shares (lease_id, line_number, lot_id, depot_code, item_id, quantity, returned, damaged) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0)",
        )
        .bind(&l.id)
        .bind(i64::from(s.line))
        .bind(s.lot.as_str())
        .bind(l.depot.as_str())
        .bind(s.item.as_str())
        .bind(s.quantity)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Saves `next` over the version `current` was read at; `Conflict` when
/// another writer moved the lease since (the run retries and re-decides).
/// Shares move by the difference between the two, guarded.
pub(crate) async fn save_lease(
    tx: &mut AnyConnection,
    current: &Lease,
    next: &Lease,
) -> Result<(), StoreError> {
    let (at, deadline) = match &next.recall {
        Some(r) => (Some(r.at), Some(r.deadline)),
        None => (None, None),
    };
    let moved = sqlx::query(
        "UPDATE leases SET state = $1, recalled_at = $2, recall_deadline = $3, body = $4, version = $5 \
         WHERE id = $6 AND version = $7",
    )
    .bind(next.state.number())
    .bind(at)
    .bind(deadline)
    .bind(serde_json::to_string(next)?)
    .bind(next.version)
    .bind(&next.id)
    .bind(current.version)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        return Err(StoreError::Conflict);
    }
    for (was, now) in current.shares.iter().zip(&next.shares) {
        let back = now.returned - was.returned;
        let damaged = now.damaged - was.damaged;
        if back == 0 && damaged == 0 {
            continue;
        }
        let moved = sqlx::query(
            "UPDATE lease_shares SET returned = returned + $1, damaged = damaged + $2 \
             WHERE lease_id = $3 AND line_number = $4 AND lot_id = $5 AND returned = $6 AND damaged = $7 \
             AND returned + $1 <= quantity",
        )
        .bind(back)
        .bind(damaged)
        .bind(&next.id)
        .bind(i64::from(now.line))
        .bind(now.lot.as_str())
        .bind(was.returned)
        .bind(was.damaged)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}
