//! The one way anything is written: an idempotent, audited transaction.
//!
//! Every mutating call goes through [`Store::run`]: it opens a transaction,
//! runs the operation, appends its audit event — which records the caller's
//! request id with the answer given — and commits, all or nothing. If the request id
//! was already recorded — a retry, or a duplicate racing the original — the
//! run is rolled back and the recorded answer returned; a request refused by
//! a rule is checked the same way, since the original's own effect may be
//! what refuses the retry. Recording the id last, in the audit event,
//! keeps the common path to one statement for both. Serialization failures,
//! deadlocks, guarded updates that found their rows changed, and unique
//! violations (another transaction created the same thing first) retry the
//! whole transaction a bounded number of times: the retry re-reads and
//! re-decides, so a rule that still fails is answered as that rule, and a
//! request that turns out to have run already gets its first answer.

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
use std::time::{Duration, Instant};

/// A gauge raised while the value lives and lowered when it is dropped,
/// also when the future holding it is cancelled.
struct Gauged(&'static str);

impl Gauged {
    fn new(name: &'static str) -> Self {
        metrics::gauge!(name).increment(1.0);
        Gauged(name)
    }
}

impl Drop for Gauged {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

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

/// What an operation returns: its answer and the audit event of the change.
/// One call is one change: one audit event, which is also the record of the
/// request id that made it.
pub(crate) type Applied<T, E> = Result<(T, AuditRecord), OpError<E>>;

/// A change that runs inside a write transaction. `apply` reads what it
/// needs, asks core's rules, writes, and says what to put in the audit log.
pub(crate) trait Op: Sync {
    /// The answer, stored under the request id for replays.
    type Output: Serialize + DeserializeOwned + Send;
    /// The business-rule error.
    type Error: Send;

    /// Performs the change on `tx` for the caller, request and time in `meta`.
    fn apply<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        meta: &'a WriteMeta,
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
    /// Runs `op` once per request id, atomically with its audit event.
    #[tracing::instrument(level = "debug", name = "write", skip_all,
        fields(method = %meta.method, request_id = %meta.request_id.as_str()))]
    pub(crate) async fn run<O: Op>(
        &self,
        meta: &WriteMeta,
        op: &O,
    ) -> Result<Written<O::Output>, OpError<O::Error>> {
        let _in_flight = Gauged::new("reserve_writes_in_flight");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = self.attempt(meta, op).await;
            crate::calltrace::add_db_time(started.elapsed());
            match result {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, "write conflicted; retrying");
                    metrics::counter!("reserve_write_retries_total").increment(1);
                    // Spread retries so colliding writers do not collide again.
                    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 8;
                    tokio::time::sleep(Duration::from_millis((1 << attempt.min(6)) + jitter)).await;
                }
                Err(e) if e.is_retryable() => {
                    metrics::counter!("reserve_write_contention_failures_total").increment(1);
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
        let mut tx = {
            let _queued = Gauged::new("reserve_write_queue_depth");
            let waited = Instant::now();
            let tx = self.begin_write().await?;
            metrics::histogram!("reserve_db_write_acquire_seconds")
                .record(waited.elapsed().as_secs_f64());
            tx
        };
        let (value, event) = match op.apply(&mut tx, meta).await {
            Ok(done) => done,
            Err(OpError::Store(e)) if e.is_unique_violation() => {
                // Someone created the same row first: this very request
                // (answer as it did), or another one (re-read and decide again).
                tx.rollback().await?;
                return match self.earlier_answer(meta).await? {
                    Some(answer) => answer,
                    None => Err(OpError::Store(StoreError::Conflict)),
                };
            }
            Err(e @ (OpError::Rule(_) | OpError::Invalid(_))) => {
                // A refused request may be the retry of one that already
                // succeeded (its effect is what refuses it now): answer that.
                tx.rollback().await?;
                return match self.earlier_answer(meta).await? {
                    Some(answer) => answer,
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let answer = serde_json::to_string(&value)?;
        // The audit event records the request id with the answer, in the
        // change's own transaction. If the id is taken, this request already
        // ran (or is running and just committed): undo this run and answer
        // as it did.
        if !append_audit(&mut tx, meta, &event, &answer).await? {
            tx.rollback().await?;
            return match self.earlier_answer(meta).await? {
                Some(answer) => answer,
                None => Err(OpError::Store(StoreError::Conflict)),
            };
        }
        tx.commit().await?;
        Ok(Written {
            value,
            replayed: false,
        })
    }

    /// The answer already given to this request id, if any. A transaction
    /// still recording one is waited for (the insert below blocks on it).
    async fn earlier_answer<T: DeserializeOwned, E>(
        &self,
        meta: &WriteMeta,
    ) -> Result<Option<Result<Written<T>, OpError<E>>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let claim = claim(&mut tx, meta).await?;
        tx.rollback().await?;
        Ok(match claim {
            Claim::Fresh => None,
            Claim::Replay(json) => Some(Ok(Written {
                value: serde_json::from_str(&json)?,
                replayed: true,
            })),
            Claim::Reused(method) => Some(Err(OpError::RequestIdReused { method })),
        })
    }
}

impl Store {
    /// The answer already recorded for this request id, read without
    /// claiming it: `None` when the id is new, the earlier answer when this
    /// very request ran, and `RequestIdReused` when the id made another.
    /// For checks that post nothing (`validate_only`).
    pub(crate) async fn recorded<T: DeserializeOwned, E>(
        &self,
        meta: &WriteMeta,
    ) -> Result<Option<T>, OpError<E>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT method, request_hash, response FROM audit_events WHERE actor = $1 AND request_id = $2",
        )
        .bind(&meta.actor.subject)
        .bind(meta.request_id.as_str())
        .fetch_optional(self.reader())
        .await?;
        match row {
            None => Ok(None),
            Some((method, hash, json)) if method == meta.method && hash == meta.request_hash => {
                Ok(Some(serde_json::from_str(&json)?))
            }
            Some((method, _, _)) => Err(OpError::RequestIdReused { method }),
        }
    }
}

/// Tries to claim the request id with a placeholder event (the caller rolls
/// it back). A concurrent change under the same id makes this wait until it
/// ends, then see its answer.
async fn claim(tx: &mut AnyConnection, meta: &WriteMeta) -> Result<Claim, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO audit_events (occurred_at, actor, actor_name, actor_roles, method, resource, depot_code, \
         request_id, request_hash, changes, response) VALUES ($1, $2, '', '', $3, '', $4, $5, $6, '{}', '') \
         ON CONFLICT (actor, request_id) DO NOTHING",
    )
    .bind(meta.now)
    .bind(&meta.actor.subject)
    .bind(&meta.method)
    .bind(meta.actor.scope.as_str())
    .bind(meta.request_id.as_str())
    .bind(&meta.request_hash)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (method, hash, response): (String, String, String) = sqlx::query_as(
        "SELECT method, request_hash, response FROM audit_events WHERE actor = $1 AND request_id = $2",
    )
    .bind(&meta.actor.subject)
    .bind(meta.request_id.as_str())
    .fetch_one(&mut *tx)
    .await?;
    if method == meta.method && hash == meta.request_hash {
        Ok(Claim::Replay(response))
    } else {
        Ok(Claim::Reused(method))
    }
}

/// Appends the audit event of a change with the answer given; false if the
/// request id was already recorded.
async fn append_audit(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    event: &AuditRecord,
    answer: &str,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "INSERT INTO audit_events \
         (occurred_at, actor, actor_name, actor_roles, method, resource, depot_code, request_id, request_hash, \
          changes, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (actor, request_id) DO NOTHING",
    )
    .bind(meta.now)
    .bind(&meta.actor.subject)
    .bind(&meta.actor.name)
    .bind(meta.actor.role_claims().join(","))
    .bind(&meta.method)
    .bind(&event.resource)
    .bind(event.depot.as_str())
    .bind(meta.request_id.as_str())
    .bind(&meta.request_hash)
    .bind(event.changes.to_string())
    .bind(answer)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        crate::events::append(tx, meta, event).await?;
    }
    Ok(n == 1)
}
