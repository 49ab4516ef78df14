//! `--mode floors`: what a call costs on this machine with none of the
//! service's own work in it, measured in the same run as the movement so
//! that the gap can be split into its parts.
//!
//! - `engine`: the bare engine's movement transaction (the shape of
//!   `../shared/tools/limits.sh`: `BEGIN`, a guarded `UPDATE … RETURNING` of
//!   a balance, a ledger `INSERT`, `COMMIT`) sent through sqlx the way the
//!   store sends its statements (on SQLite one writer connection, each
//!   statement a message to the driver's worker thread and back; on
//!   PostgreSQL a pool of one connection per client), once with one client
//!   and once with `--clients`. Read beside `limits.sh`, it is the price of
//!   the driver alone.
//! - `grpc-noop`: `grpc.health.v1.Health/Check` against the real server
//!   (every layer a call passes: console router, call log, grpc-web,
//!   concurrency limit, HTTP/2) from `--clients` clients in this process. The
//!   handler does no work, so this is the most calls per second any RPC can
//!   reach here, whatever its database.

use crate::{Tally, report, serve};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

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
    create_tables(&pool).await?;
    println!(
        "floors: {} — the bare engine's transaction through sqlx, then a gRPC call that does nothing",
        if sqlite {
            "SQLite, one writer connection"
        } else {
            "PostgreSQL, one connection per client"
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

    let store = reserve_store::Store::connect(url, &reserve_store::StoreOptions::default()).await?;
    store.migrate().await?;
    let served = serve(&store).await?;
    let channels = {
        let mut v = Vec::new();
        for _ in 0..clients {
            v.push(
                Channel::from_shared(format!("http://{}", served.addr))?
                    .connect()
                    .await?,
            );
        }
        v
    };
    let tallies = drive(clients, warmup, seconds, |i, w| {
        noop_client(channels[i].clone(), w)
    })
    .await?;
    report("noop", clients, seconds, tallies)?;
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

async fn create_tables(pool: &AnyPool) -> anyhow::Result<()> {
    sqlx::query("CREATE TABLE floor_balance (item BIGINT PRIMARY KEY, qty BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    sqlx::query(
        "CREATE TABLE floor_ledger (id BIGINT PRIMARY KEY, item BIGINT NOT NULL, delta BIGINT NOT NULL, ts BIGINT NOT NULL)",
    )
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
    // A small xorshift: the same sequence per client every run.
    let mut x = 0x9E37_79B9_7F4A_7C15_u64 ^ (seed + 1);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
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

/// One client of the gRPC floor: health checks, back to back.
async fn noop_client(channel: Channel, w: Window) -> anyhow::Result<Tally> {
    let mut t = Tally::new()?;
    let mut c = HealthClient::new(channel);
    while Instant::now() < w.until {
        let start = Instant::now();
        let answer = c.check(HealthCheckRequest::default()).await;
        if start >= w.warm {
            match answer {
                Ok(_) => t
                    .latency
                    .record(start.elapsed().as_micros().max(1) as u64)?,
                Err(_) => t.errors += 1,
            }
        }
    }
    Ok(t)
}
