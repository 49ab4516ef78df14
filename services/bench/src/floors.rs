//! `--mode floors`: what a call costs on this machine with none of the
//! service's own work in it, measured in the same run as the movement so
//! that the gap to the engine can be split into its parts.
//!
//! - `engine`: the bare engine's movement transaction (the shape and schema
//!   of `../shared/tools/limits.sh`: `BEGIN`, a guarded `UPDATE … RETURNING`
//!   of a balance, a ledger `INSERT`, `COMMIT`, one movement per
//!   transaction) sent through sqlx the way the store sends its statements:
//!   on SQLite one writer connection, each statement a message to the
//!   driver's worker thread and back; on PostgreSQL a pool of one connection
//!   per client. Once with one client and once with `--clients`. Read beside
//!   `limits.sh`, it is the price of the driver alone.
//! - `thread` (SQLite only): the same transaction run by one plain thread
//!   that owns a rusqlite connection and takes whole movements from a
//!   channel, `--clients` async clients sending them: what a writer that
//!   runs whole writes on the database's own thread would reach.
//! - `refused`: `IssueStock` with an empty request against the real server,
//!   from `--clients` clients with a keeper's token: every layer a call
//!   passes (console router, call log, grpc-web, the concurrency limit,
//!   HTTP/2, the token check) and the handler's validation, which refuses
//!   it before any database work. The most calls per second any write RPC
//!   can reach here, whatever its database.

use crate::{Tally, report, serve};
use anyhow::Context;
use reserve_api::auth::TokenRequest;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::time::{Duration, Instant};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// The ledger's next row id, across clients and runs.
static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);

/// Rows in the balance table, as in `limits.sh`.
const BALANCES: i64 = 100_000;

/// Runs both floors against `url` (a fresh database) and prints them.
pub(crate) async fn run(
    url: &str,
    clients: usize,
    seconds: u64,
    warmup: u64,
) -> anyhow::Result<()> {
    let sqlite = url.starts_with("sqlite");
    let pool = engine_pool(url, sqlite, clients).await?;
    create_tables(&pool, sqlite).await?;
    println!(
        "floors on {}: the bare engine's transaction through sqlx{}, then a write RPC refused by validation",
        if sqlite {
            "SQLite (one writer connection)"
        } else {
            "PostgreSQL (one connection per client)"
        },
        if sqlite {
            " and on a writer thread of its own"
        } else {
            ""
        }
    );
    for n in [1, clients] {
        let tallies = drive(n, warmup, seconds, |i, w| {
            engine_client(pool.clone(), sqlite, i as u64, w)
        })
        .await?;
        report("engine", n, seconds, tallies)?;
    }
    pool.close().await;

    if sqlite {
        let path = url
            .strip_prefix("sqlite://")
            .and_then(|rest| rest.split('?').next())
            .context("a sqlite:// URL")?;
        let writer = WriterThread::start(path)?;
        let tallies = drive(clients, warmup, seconds, |i, w| {
            thread_client(writer.clone(), i as u64, w)
        })
        .await?;
        report("thread", clients, seconds, tallies)?;
    }

    let store = reserve_store::Store::connect(url, &reserve_store::StoreOptions::default()).await?;
    store.migrate().await?;
    let served = serve(&store).await?;
    let token = served
        .minter
        .mint(&TokenRequest {
            subject: "bench-keeper@HB-SY-MJ".into(),
            name: "bench".into(),
            roles: vec!["depot_keeper".into()],
            scope_depot: "HB-SY-MJ".into(),
            ttl_seconds: 3600,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut channels = Vec::new();
    for _ in 0..clients {
        channels.push(
            Channel::from_shared(format!("http://{}", served.addr))?
                .connect()
                .await?,
        );
    }
    let tallies = drive(clients, warmup, seconds, |i, w| {
        refused_client(channels[i].clone(), token.clone(), w)
    })
    .await?;
    report("refused", clients, seconds, tallies)?;
    let _ = served.stop.send(());
    served.server.await??;
    store.close().await;
    Ok(())
}

async fn engine_pool(url: &str, sqlite: bool, clients: usize) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let opts = AnyPoolOptions::new()
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(60));
    let pool = if sqlite {
        opts.max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?
    } else {
        opts.max_connections(clients as u32).connect(url).await?
    };
    Ok(pool)
}

async fn create_tables(pool: &AnyPool, sqlite: bool) -> anyhow::Result<()> {
    // As in limits.sh: on SQLite the keys are rowid aliases (INTEGER
    // PRIMARY KEY), so neither table carries a second index.
    let key = if sqlite { "INTEGER" } else { "BIGINT" };
    sqlx::query(&format!(
        "CREATE TABLE floor_balance (item {key} PRIMARY KEY, qty BIGINT NOT NULL)"
    ))
    .execute(pool)
    .await?;
    sqlx::query(&format!(
        "CREATE TABLE floor_ledger (id {key} PRIMARY KEY, item BIGINT NOT NULL, delta BIGINT NOT NULL, ts BIGINT NOT NULL)"
    ))
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let mut first = 1;
    while first <= BALANCES {
        let last = (first + 999).min(BALANCES);
        let values: Vec<String> = (first..=last)
            .map(|i| format!("({i}, 1000000000)"))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO floor_balance (item, qty) VALUES {}",
            values.join(",")
        ))
        .execute(&mut *tx)
        .await?;
        first = last + 1;
    }
    tx.commit().await?;
    Ok(())
}

/// When a client measures: after `warm`, until `until`.
#[derive(Clone, Copy)]
struct Window {
    warm: Instant,
    until: Instant,
}

/// Starts `n` clients built by `client` over one measuring window, and
/// waits for them all.
async fn drive<F, Fut>(n: usize, warmup: u64, seconds: u64, client: F) -> anyhow::Result<Vec<Tally>>
where
    F: Fn(usize, Window) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Tally>> + Send + 'static,
{
    let warm = Instant::now() + Duration::from_secs(warmup);
    let w = Window {
        warm,
        until: warm + Duration::from_secs(seconds),
    };
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(client(i, w))).collect();
    let mut tallies = Vec::new();
    for t in tasks {
        tallies.push(t.await??);
    }
    Ok(tallies)
}

/// One client of the engine floor: the transaction of `limits.sh`, on a
/// random balance, as fast as the writer takes it.
async fn engine_client(pool: AnyPool, sqlite: bool, seed: u64, w: Window) -> anyhow::Result<Tally> {
    let mut t = Tally::new()?;
    let mut next = xorshift(seed);
    while Instant::now() < w.until {
        let item = (next() % BALANCES as u64) as i64 + 1;
        let delta = (next() % 11) as i64 - 5;
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let start = Instant::now();
        let mut tx = if sqlite {
            pool.begin_with("BEGIN IMMEDIATE").await?
        } else {
            pool.begin().await?
        };
        let left: Option<(i64,)> = sqlx::query_as(
            "UPDATE floor_balance SET qty = qty + $1 WHERE item = $2 AND qty + $1 >= 0 RETURNING qty",
        )
        .bind(delta)
        .bind(item)
        .fetch_optional(&mut *tx)
        .await?;
        if left.is_some() {
            sqlx::query("INSERT INTO floor_ledger (id, item, delta, ts) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(item)
                .bind(delta)
                .bind(start.elapsed().as_nanos() as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if start >= w.warm {
            t.latency
                .record(start.elapsed().as_micros().max(1) as u64)?;
        }
    }
    Ok(t)
}

/// One client of the RPC floor: `IssueStock` with nothing in it, back to
/// back; every answer must be INVALID_ARGUMENT.
async fn refused_client(channel: Channel, token: String, w: Window) -> anyhow::Result<Tally> {
    let mut t = Tally::new()?;
    let value: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut c = StockServiceClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", value.clone());
        Ok(r)
    });
    while Instant::now() < w.until {
        let start = Instant::now();
        let answer = c.issue_stock(pb::IssueStockRequest::default()).await;
        if start >= w.warm {
            match answer {
                Err(e) if e.code() == tonic::Code::InvalidArgument => t
                    .latency
                    .record(start.elapsed().as_micros().max(1) as u64)?,
                _ => t.errors += 1,
            }
        }
    }
    Ok(t)
}

/// A movement for the writer thread, and where its answer goes.
struct Job {
    item: i64,
    delta: i64,
    done: tokio::sync::oneshot::Sender<rusqlite::Result<()>>,
}

/// One thread that owns the SQLite connection and runs each movement whole
/// (four statements, no hop between them); clients queue movements to it.
#[derive(Clone)]
struct WriterThread {
    jobs: tokio::sync::mpsc::Sender<Job>,
}

impl WriterThread {
    fn start(path: &str) -> anyhow::Result<WriterThread> {
        let c = rusqlite::Connection::open(path)?;
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "NORMAL")?;
        let (jobs, mut queue) = tokio::sync::mpsc::channel::<Job>(1024);
        std::thread::spawn(move || {
            // Ends when every client has dropped its sender.
            while let Some(job) = queue.blocking_recv() {
                let _ = job.done.send(movement(&c, job.item, job.delta));
            }
        });
        Ok(WriterThread { jobs })
    }
}

fn movement(c: &rusqlite::Connection, item: i64, delta: i64) -> rusqlite::Result<()> {
    c.execute_batch("BEGIN IMMEDIATE")?;
    let left: Option<i64> = c
        .prepare_cached(
            "UPDATE floor_balance SET qty = qty + ?1 WHERE item = ?2 AND qty + ?1 >= 0 RETURNING qty",
        )?
        .query_row((delta, item), |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if left.is_some() {
        c.prepare_cached(
            "INSERT INTO floor_ledger (item, delta, ts) VALUES (?1, ?2, unixepoch())",
        )?
        .execute((item, delta))?;
    }
    c.execute_batch("COMMIT")
}

/// One client of the writer-thread floor.
async fn thread_client(writer: WriterThread, seed: u64, w: Window) -> anyhow::Result<Tally> {
    let mut t = Tally::new()?;
    let mut next = xorshift(seed);
    while Instant::now() < w.until {
        let item = (next() % BALANCES as u64) as i64 + 1;
        let delta = (next() % 11) as i64 - 5;
        let start = Instant::now();
        let (done, answer) = tokio::sync::oneshot::channel();
        writer
            .jobs
            .send(Job { item, delta, done })
            .await
            .map_err(|_| anyhow::anyhow!("the writer thread stopped"))?;
        answer.await??;
        if start >= w.warm {
            t.latency
                .record(start.elapsed().as_micros().max(1) as u64)?;
        }
    }
    Ok(t)
}

/// A small xorshift: the same sequence per client every run.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (seed + 1);
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}
