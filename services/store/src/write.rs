//! The one way anything is written: an idempotent, audited transaction.
//!
//! Every mutating call goes through [`Store::run`]: it opens a transaction,
//! claims the caller's request id (or finds the answer it already gave),
//! runs the operation, appends its audit events, records the answer under
//! the request id and commits, all or nothing. Serialization failures and
//! deadlocks retry the whole transaction a bounded number of times.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::Principal;
use reserve_core::request::RequestId;
use reserve_core::time::UtcMillis;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::AnyConnection;
use std::future::Future;
use std::time::Duration;

/// Who is writing, under which request id, with which call.
#[derive(Clone, Debug)]
pub struct WriteMeta {
    /// The signed-in user.
    pub actor: Principal,
    /// The client's idempotency key.
    pub request_id: RequestId,
    /// Full gRPC method name.
    pub method: String,
    /// Fingerprint of the request, to tell a retry from a reuse of the id.
    pub request_hash: String,
    /// The time the change is recorded at.
    pub now: UtcMillis,
}

/// The answer of a write, and whether it is a replay of an earlier one.
#[derive(Clone, Debug, PartialEq)]
pub struct Written<T> {
    /// The result.
    pub value: T,
    /// True when the request id had already been answered: nothing changed now.
    pub replayed: bool,
}

/// What an operation returns: its answer and the audit events it caused.
pub(crate) type Applied<T, E> = Result<(T, Vec<AuditRecord>), OpError<E>>;

/// A change that runs inside a write transaction. `apply` reads what it
/// needs, asks core's rules, writes, and says what to put in the audit log.
pub(crate) trait Op: Sync {
    /// The answer, stored under the request id for replays.
    type Output: Serialize + DeserializeOwned + Send;
    /// The business-rule error.
    type Error: Send;

    /// Performs the change on `tx` at time `now`.
    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        now: UtcMillis,
    ) -> impl Future<Output = Applied<Self::Output, Self::Error>> + Send + 'a;
}

/// How many times a transaction is attempted before reporting contention.
const MAX_ATTEMPTS: u32 = 8;

enum Claim {
    Fresh,
    Replay(String),
    Reused(String),
}

impl Store {
    /// Runs `op` once per request id, atomically with its audit events.
    pub(crate) async fn run<O: Op>(
        &self,
        meta: &WriteMeta,
        op: &O,
    ) -> Result<Written<O::Output>, OpError<O::Error>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(meta, op).await {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, "write conflicted; retrying");
                    // Spread retries so colliding writers do not collide again.
                    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 8;
                    tokio::time::sleep(Duration::from_millis((1 << attempt.min(6)) + jitter)).await;
                }
                Err(e) if e.is_retryable() => {
                    return Err(OpError::Store(StoreError::Contention(attempt)));
                }
                other => return other,
            }
        }
    }

    async fn attempt<O: Op>(
        &self,
        meta: &WriteMeta,
        op: &O,
    ) -> Result<Written<O::Output>, OpError<O::Error>> {
        let mut tx = self.begin_write().await?;
        match claim(&mut tx, meta).await? {
            Claim::Replay(json) => {
                tx.rollback().await?;
                let value = serde_json::from_str(&json)?;
                return Ok(Written {
                    value,
                    replayed: true,
                });
            }
            Claim::Reused(method) => {
                tx.rollback().await?;
                return Err(OpError::RequestIdReused { method });
            }
            Claim::Fresh => {}
        }
        let (value, events) = op.apply(&mut tx, meta.now).await?;
        for event in &events {
            append_audit(&mut tx, meta, event).await?;
        }
        let answer = serde_json::to_string(&value)?;
        sqlx::query(
            "UPDATE idempotency_keys SET response = $1 WHERE actor = $2 AND request_id = $3",
        )
        .bind(answer)
        .bind(&meta.actor.subject)
        .bind(meta.request_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Written {
            value,
            replayed: false,
        })
    }
}

/// Claims the request id for this transaction. A concurrent claim of the
/// same id waits here until the other transaction ends, then sees its answer.
async fn claim(tx: &mut AnyConnection, meta: &WriteMeta) -> Result<Claim, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (actor, request_id, method, request_hash, response, created_at) \
         VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT (actor, request_id) DO NOTHING",
    )
    .bind(&meta.actor.subject)
    .bind(meta.request_id.as_str())
    .bind(&meta.method)
    .bind(&meta.request_hash)
    .bind(meta.now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let row: (String, String, Option<String>) = sqlx::query_as(
        "SELECT method, request_hash, response FROM idempotency_keys WHERE actor = $1 AND request_id = $2",
    )
    .bind(&meta.actor.subject)
    .bind(meta.request_id.as_str())
    .fetch_one(&mut *tx)
    .await?;
    match row {
        (method, hash, Some(resp)) if method == meta.method && hash == meta.request_hash => {
            Ok(Claim::Replay(resp))
        }
        (method, _, _) => Ok(Claim::Reused(method)),
    }
}

async fn append_audit(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    event: &AuditRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events \
         (occurred_at, actor, actor_name, actor_roles, method, resource, depot_code, request_id, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(meta.now)
    .bind(&meta.actor.subject)
    .bind(&meta.actor.name)
    .bind(meta.actor.role_claims().join(","))
    .bind(&meta.method)
    .bind(&event.resource)
    .bind(event.depot.as_str())
    .bind(meta.request_id.as_str())
    .bind(event.changes.to_string())
    .execute(&mut *tx)
    .await?;
    Ok(())
}
