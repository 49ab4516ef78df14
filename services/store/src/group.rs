//! Group commit for the embedded database: many writes, one transaction.
//!
//! SQLite has one writer, and a commit is the costly part of a small write.
//! Writers here take turns on the one write connection, as before, but a
//! turn does not open and commit a transaction of its own: the first turn
//! opens a batch (`BEGIN IMMEDIATE`), every turn runs its write under a
//! `SAVEPOINT`, and the batch commits when nobody else is waiting for a
//! turn, or when it holds [`GroupCommit::max_writes`] writes, or when it is
//! [`GroupCommit::max_wait`] old. Each caller then waits for that commit
//! and answers only once it is durable: a write is acknowledged only after
//! the commit that contains it, and if that commit fails every write in the
//! batch is answered UNAVAILABLE (none of them happened, and a retry with
//! the same request id runs afresh).
//!
//! Within a turn everything is decided exactly as in a transaction of its
//! own (see [`crate::write`]): a write refused by a rule, or whose request
//! id turns out to be taken, rolls back to its savepoint alone, and the
//! request-id check sees the writes before it in the same batch, so a
//! duplicate request id in one batch gets the first answer. A refusal may
//! rest on the batch's earlier writes, so it too waits for the commit.
//!
//! A caller whose future is dropped mid-turn (a deadline, a client gone)
//! leaves the turn to a spawned task that rolls back to its savepoint and
//! settles the batch; commits always run in a spawned task, so no
//! cancellation can leave a batch half-committed or unannounced, and every
//! batch also has a timer that commits it if all its callers vanish.

use crate::error::{OpError, StoreError};
use crate::write::{Claim, Op, WriteMeta, Written, append_audit, claim};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// How writes are grouped into one transaction on SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCommit {
    /// Writes in one transaction at most; 1 turns grouping off (each write
    /// its own transaction, as on PostgreSQL).
    pub max_writes: usize,
    /// How long a batch may stay open while writers keep arriving.
    pub max_wait: Duration,
}

impl Default for GroupCommit {
    fn default() -> Self {
        Self {
            max_writes: 64,
            max_wait: Duration::from_micros(500),
        }
    }
}

/// The outcome of a batch's commit, announced to every write in it.
type Done = Option<Result<(), String>>;

struct Batch {
    id: u64,
    conn: PoolConnection<Any>,
    writes: usize,
    opened: Instant,
    done: watch::Sender<Done>,
}

#[derive(Default)]
struct Slot {
    batch: Option<Batch>,
    next_id: u64,
}

/// The shared writer: the open batch and who is waiting for a turn.
pub(crate) struct GroupWriter {
    slot: Arc<Mutex<Slot>>,
    waiting: AtomicUsize,
    pool: AnyPool,
    config: GroupCommit,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One writer's turn on the batch. Dropped before it is finished (its
/// caller cancelled, or an error returned early), it hands the batch to a
/// task that undoes its partial write and settles the batch.
struct Turn {
    guard: Option<OwnedMutexGuard<Slot>>,
    writer: Arc<GroupWriter>,
    in_savepoint: bool,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let writer = self.writer.clone();
            let undo = self.in_savepoint;
            rt.spawn(async move { writer.settle(guard, undo).await });
        }
    }
}

/// Counts a caller as waiting for a turn until dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lost(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("the write batch did not commit: {e}"))
}

impl GroupWriter {
    /// A writer over `pool`, the single-connection write pool.
    pub(crate) fn new(pool: AnyPool, config: GroupCommit) -> Arc<GroupWriter> {
        Arc::new(GroupWriter {
            slot: Arc::new(Mutex::new(Slot::default())),
            waiting: AtomicUsize::new(0),
            pool,
            config,
        })
    }

    /// Runs one attempt of `op` in the current batch and answers once the
    /// batch has committed.
    pub(crate) async fn attempt<O: Op>(
        self: &Arc<Self>,
        meta: &WriteMeta,
        op: &O,
    ) -> Result<Written<O::Output>, OpError<O::Error>> {
        let mut turn = self.turn().await?;
        let outcome = turn.write(meta, op).await;
        let done = turn.finish();
        match outcome {
            // Nothing of this write is in the batch: answer now (a conflict
            // is retried by the caller after the batch has moved on).
            Err(OpError::Store(e)) => Err(OpError::Store(e)),
            answer => {
                let mut done = done;
                match done.wait_for(Option::is_some).await {
                    Ok(result) => match &*result {
                        Some(Ok(())) => answer,
                        Some(Err(e)) => Err(OpError::Store(lost(e))),
                        None => Err(OpError::Store(lost("no outcome"))),
                    },
                    Err(_) => Err(OpError::Store(lost("the batch was dropped"))),
                }
            }
        }
    }

    /// Waits for a turn and makes sure a batch is open.
    async fn turn(self: &Arc<Self>) -> Result<Turn, StoreError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting(&self.waiting);
        let guard = self.slot.clone().lock_owned().await;
        drop(waiting);
        let guard = if guard.batch.is_none() {
            // Opened in a task of its own: a caller cancelled half-way
            // through BEGIN would otherwise hand the connection back to the
            // pool inside a transaction nobody knows of.
            let writer = self.clone();
            tokio::spawn(async move { writer.open(guard).await })
                .await
                .map_err(|e| StoreError::Unavailable(format!("opening a write batch: {e}")))??
        } else {
            guard
        };
        Ok(Turn {
            guard: Some(guard),
            writer: self.clone(),
            in_savepoint: false,
        })
    }

    async fn open(
        self: Arc<Self>,
        mut guard: OwnedMutexGuard<Slot>,
    ) -> Result<OwnedMutexGuard<Slot>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let id = guard.next_id;
        guard.next_id += 1;
        let (done, _) = watch::channel(None);
        guard.batch = Some(Batch {
            id,
            conn,
            writes: 0,
            opened: Instant::now(),
            done,
        });
        // The safety net: commits the batch even if every caller in it has
        // gone away before deciding to.
        let writer = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(writer.config.max_wait * 4).await;
            let guard = writer.slot.clone().lock_owned().await;
            if guard.batch.as_ref().is_some_and(|b| b.id == id) {
                writer.commit(guard).await;
            }
        });
        Ok(guard)
    }

    /// Ends a turn: undoes a partial write if asked, then commits the batch
    /// if it should be, or leaves it open for the next turn.
    async fn settle(&self, mut guard: OwnedMutexGuard<Slot>, undo: bool) {
        if undo && let Some(batch) = guard.batch.as_mut() {
            let undone = sqlx::query("ROLLBACK TO w").execute(&mut *batch.conn).await;
            if let Err(e) = undone {
                // The transaction itself is gone (SQLite rolls back the
                // whole of it on some errors): nothing in it happened.
                self.abort(&mut guard, &e.to_string()).await;
                return;
            }
        }
        if self.due(&guard) {
            self.commit(guard).await;
        }
    }

    fn due(&self, guard: &Slot) -> bool {
        guard.batch.as_ref().is_some_and(|b| {
            b.writes >= self.config.max_writes
                || b.opened.elapsed() >= self.config.max_wait
                || self.waiting.load(Ordering::SeqCst) == 0
        })
    }

    /// Commits the open batch and announces the outcome.
    async fn commit(&self, mut guard: OwnedMutexGuard<Slot>) {
        let Some(mut batch) = guard.batch.take() else {
            return;
        };
        let outcome = match sqlx::query("COMMIT").execute(&mut *batch.conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(error = %e, writes = batch.writes, "a write batch failed to commit");
                if sqlx::query("ROLLBACK")
                    .execute(&mut *batch.conn)
                    .await
                    .is_err()
                {
                    batch.conn.close_on_drop();
                }
                Err(e.to_string())
            }
        };
        batch.done.send_replace(Some(outcome));
    }

    /// Rolls the open batch back and tells every write in it.
    async fn abort(&self, guard: &mut OwnedMutexGuard<Slot>, why: &str) {
        let Some(mut batch) = guard.batch.take() else {
            return;
        };
        tracing::error!(
            error = why,
            writes = batch.writes,
            "a write batch was rolled back"
        );
        if sqlx::query("ROLLBACK")
            .execute(&mut *batch.conn)
            .await
            .is_err()
        {
            batch.conn.close_on_drop();
        }
        batch.done.send_replace(Some(Err(why.to_string())));
    }

    /// Commits the open batch now, if any (before closing the store).
    pub(crate) async fn flush(&self) {
        let guard = self.slot.clone().lock_owned().await;
        self.commit(guard).await;
    }
}

impl Turn {
    fn batch(&mut self) -> &mut Batch {
        // A turn always has a batch: `turn()` opens one and only `finish`,
        // `settle` or `Drop` (which consume the guard) end it.
        #[allow(clippy::expect_used)]
        self.guard
            .as_mut()
            .and_then(|g| g.batch.as_mut())
            .expect("a turn holds an open batch")
    }

    async fn exec(&mut self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::query(sql).execute(&mut *self.batch().conn).await?;
        Ok(())
    }

    /// Runs `op` under a savepoint, as [`crate::write`] runs it in a
    /// transaction of its own.
    async fn write<O: Op>(
        &mut self,
        meta: &WriteMeta,
        op: &O,
    ) -> Result<Written<O::Output>, OpError<O::Error>> {
        // Marked only once the savepoint exists: a SAVEPOINT that failed
        // must not make the undo roll back to the previous turn's `w`, which
        // would take an accepted write with it.
        self.exec("SAVEPOINT w").await?;
        self.in_savepoint = true;
        let batch = self.batch();
        batch.writes += 1;
        let conn = &mut *batch.conn;
        let applied = op.apply(conn, meta).await;
        let (value, event) = match applied {
            Ok(done) => done,
            Err(OpError::Store(e)) if e.is_unique_violation() => {
                return match self.earlier_answer(meta).await? {
                    Some(answer) => answer,
                    None => Err(OpError::Store(StoreError::Conflict)),
                };
            }
            Err(e @ (OpError::Rule(_) | OpError::Invalid(_))) => {
                return match self.earlier_answer(meta).await? {
                    Some(answer) => answer,
                    None => Err(e),
                };
            }
            Err(e) => {
                self.exec("ROLLBACK TO w").await?;
                self.in_savepoint = false;
                return Err(e);
            }
        };
        let answer = serde_json::to_string(&value)?;
        if !append_audit(&mut self.batch().conn, meta, &event, &answer).await? {
            return match self.earlier_answer(meta).await? {
                Some(answer) => answer,
                None => Err(OpError::Store(StoreError::Conflict)),
            };
        }
        // The savepoint stays on the stack: the batch's COMMIT releases it,
        // and a later ROLLBACK TO w names the latest savepoint of that name.
        self.in_savepoint = false;
        Ok(Written {
            value,
            replayed: false,
        })
    }

    /// Undoes this turn's write and answers from the request id's record,
    /// which sees every write before it, in this batch or committed.
    async fn earlier_answer<T: serde::de::DeserializeOwned, E>(
        &mut self,
        meta: &WriteMeta,
    ) -> Result<Option<Result<Written<T>, OpError<E>>>, StoreError> {
        self.exec("ROLLBACK TO w").await?;
        let claimed = claim(&mut self.batch().conn, meta).await?;
        // The claim's placeholder goes too.
        self.exec("ROLLBACK TO w").await?;
        self.in_savepoint = false;
        Ok(match claimed {
            Claim::Fresh => None,
            Claim::Replay(json) => Some(Ok(Written {
                value: serde_json::from_str(&json)?,
                replayed: true,
            })),
            Claim::Reused(method) => Some(Err(OpError::RequestIdReused { method })),
        })
    }

    /// Ends the turn: commits the batch now if it is due (in a task of its
    /// own, so the caller's cancellation cannot interrupt it), and returns
    /// where the batch's outcome will be announced.
    fn finish(mut self) -> watch::Receiver<Done> {
        let writer = self.writer.clone();
        let in_savepoint = self.in_savepoint;
        let done = self.batch().done.subscribe();
        let Some(guard) = self.guard.take() else {
            return done;
        };
        if in_savepoint {
            tokio::spawn(async move { writer.settle(guard, true).await });
        } else if writer.due(&guard) {
            tokio::spawn(async move { writer.commit(guard).await });
        }
        done
    }
}
