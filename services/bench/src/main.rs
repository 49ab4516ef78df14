//! `reserve-bench`: drives stock movements (IssueStock, one unit, first
//! expired first out) with N concurrent depot keepers for T seconds, over
//! gRPC against a server on 127.0.0.1, and the same transaction straight
//! against the database through the store, and prints throughput and
//! latency percentiles for each, so one run gives the ratio.
//!
//! Everything is bounded: at most 256 clients and 600 seconds, and only
//! 127.0.0.1 is ever contacted.

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use reserve_api::auth::{KeySpec, Minter, TokenRequest, Verifier};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::{Principal, Role};
use reserve_core::depot::DepotCode;
use reserve_core::request::RequestId;
use reserve_core::stock::issue::{Issue, IssueDraft};
use reserve_core::stock::receipt::{Receipt, ReceiptDraft};
use reserve_core::time::{Clock, SystemClock};
use reserve_store::{Store, StoreOptions, WriteMeta};
use sqlx::Connection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// The same allocator as reserve-server, so the in-process server is the real one.
mod crash;
mod floors;
mod propose;
mod sweep;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Which paths to measure.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// IssueStock over gRPC, token checks and all.
    Grpc,
    /// The same transaction through the store, no network.
    Db,
    /// Both, one after the other, over the same database.
    Both,
    /// ProposeSources over gRPC on a generated province of about 1,300
    /// depots and 300 items, one proposal at a time.
    Propose,
    /// IssueStock over gRPC at 1, 2, 4, 8, 16, 32 and 64 clients on every
    /// engine in `--database` (comma-separated), with a PNG chart (`--chart`).
    Sweep,
    /// `--clients` clients against a server admitting `--limit` calls at a
    /// time, then against one admitting all: calls refused, and the p99 of
    /// the admitted ones beside the p99 with no limit.
    Overload,
    /// The crash harness: the reserve-server binary killed `--kills` times
    /// under mixed writes (`--database sqlite` or `postgres`, a throwaway
    /// cluster, which is also restarted `--db-restarts` times).
    Crash,
    /// What a call costs with none of the service's work in it: the bare
    /// engine's movement transaction through sqlx (1 and `--clients`
    /// clients), and a gRPC health check against the real server.
    Floors,
}

/// Load generator for the reserve service.
#[derive(Parser, Debug)]
#[command(name = "reserve-bench", about)]
struct Args {
    /// `sqlite` (a temporary file) or a PostgreSQL URL on 127.0.0.1; a
    /// throwaway database is created beside the one named and dropped after.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Concurrent clients (each a keeper at its own depot), 1 to 256.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds to measure each mode, 1 to 600.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds of unmeasured warm-up before each mode.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// What to measure.
    #[arg(long, value_enum, default_value = "both")]
    mode: Mode,
    /// Also run pgbench's built-in TPC-B script (scale 10, the same clients
    /// and seconds) on the same PostgreSQL cluster first, for the ratio.
    #[arg(long)]
    pgbench: bool,
    /// HTTP/2 connections the gRPC clients share, round robin (default: one
    /// per client, as separate command-centre clients would have).
    #[arg(long)]
    connections: Option<usize>,
    /// SQLite: writes per group commit at most (1: each write commits alone).
    #[arg(long, default_value_t = 64)]
    group_commit: usize,
    /// `--mode overload`: calls the server admits at a time (1 to 256).
    #[arg(long, default_value_t = 8)]
    limit: usize,
    /// `--mode crash`: how many times the server is killed (1 to 1000).
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// `--mode crash` on PostgreSQL: how many times the database is stopped
    /// and started under load (0 to 20).
    #[arg(long, default_value_t = 3)]
    db_restarts: usize,
    /// `--mode sweep`: where to write the chart (PNG).
    #[arg(long, default_value = "docs/benchmarks-sweep.png")]
    chart: String,
    /// Proposals to measure in `--mode propose`, 1 to 100,000.
    #[arg(long, default_value_t = 500)]
    proposals: usize,
}

/// Where the benchmark database lives, and how to get rid of it.
enum Db {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: String, name: String },
}

async fn fresh_database(spec: &str) -> anyhow::Result<(Db, String)> {
    if spec == "sqlite" {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
        return Ok((Db::Sqlite(dir), url));
    }
    if !spec.starts_with("postgres") {
        bail!("--database must be `sqlite` or a postgres:// URL");
    }
    let host_ok =
        spec.contains("@127.0.0.1") || spec.contains("@localhost") || spec.contains("//127.0.0.1");
    if !host_ok {
        bail!("the benchmark only targets 127.0.0.1");
    }
    let name = format!("reserve_bench_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(spec)
        .await
        .context("connecting to PostgreSQL")?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut c)
        .await?;
    let base = spec.rsplit_once('/').map(|(b, _)| b).unwrap_or(spec);
    Ok((
        Db::Postgres {
            admin: spec.to_string(),
            name: name.clone(),
        },
        format!("{base}/{name}"),
    ))
}

async fn drop_database(db: Db) {
    if let Db::Postgres { admin, name } = db
        && let Ok(mut c) = sqlx::PgConnection::connect(&admin).await
    {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut c)
            .await;
    }
}

const ITEM: &str = "tent-36m2";

/// The depots the clients work at: every county and township of the demo.
fn depots() -> Vec<String> {
    reserve_server::seed::demo_depots()
        .into_iter()
        .filter(|d| d.tier >= 3)
        .map(|d| d.code)
        .collect()
}

fn keeper(depot: &str) -> Principal {
    Principal {
        subject: format!("bench-keeper@{depot}"),
        name: "bench".into(),
        roles: [Role::DepotKeeper].into_iter().collect(),
        scope: DepotCode::from_stored(depot.to_string()),
    }
}

fn meta(depot: &str, method: &str) -> anyhow::Result<WriteMeta> {
    Ok(WriteMeta {
        actor: keeper(depot),
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string())
            .map_err(anyhow::Error::msg)?,
        method: method.into(),
        request_hash: uuid::Uuid::new_v4().to_string(),
        now: SystemClock.now(),
    })
}

fn issue_draft(depot: &str) -> IssueDraft {
    IssueDraft {
        depot: depot.into(),
        item: ITEM.into(),
        quantity: 1,
        purpose: 2,
        recipient: "benchmark".into(),
        ..Default::default()
    }
}

/// Seeds the demo network and a large lot at every depot a client uses.
async fn prepare(store: &Store, depots: &[String]) -> anyhow::Result<()> {
    reserve_server::seed::seed_demo(store, SystemClock.now()).await?;
    for d in depots {
        let r = Receipt::parse(
            &ReceiptDraft {
                depot: d.clone(),
                item: ITEM.into(),
                lot_number: format!("BENCH-{d}"),
                quantity: 1_000_000_000,
                ..Default::default()
            },
            SystemClock.now(),
        )
        .map_err(|v| anyhow::anyhow!("{v}"))?;
        store
            .receive(&meta(d, "bench/receive")?, r)
            .await
            .map_err(|e| anyhow::anyhow!("seeding stock: {e}"))?;
    }
    Ok(())
}

/// What one client saw.
pub(crate) struct Tally {
    pub(crate) latency: Histogram<u64>,
    pub(crate) errors: u64,
    /// Calls the server refused RESOURCE_EXHAUSTED (not counted in errors).
    pub(crate) refused: u64,
}

impl Tally {
    pub(crate) fn new() -> anyhow::Result<Tally> {
        Ok(Tally {
            latency: Histogram::new_with_bounds(1, 60_000_000, 3)?,
            errors: 0,
            refused: 0,
        })
    }
}

fn tally() -> anyhow::Result<Tally> {
    Tally::new()
}

async fn run_db(
    store: Store,
    depot: String,
    warm_until: Instant,
    until: Instant,
) -> anyhow::Result<Tally> {
    let mut t = tally()?;
    let draft = issue_draft(&depot);
    while Instant::now() < until {
        let issue = Issue::parse(&draft, SystemClock.now()).map_err(|v| anyhow::anyhow!("{v}"))?;
        let m = meta(&depot, "/reserve.v1.StockService/IssueStock")?;
        let start = Instant::now();
        let ok = store.issue(&m, issue).await.is_ok();
        if start >= warm_until {
            if ok {
                t.latency
                    .record(start.elapsed().as_micros().max(1) as u64)?;
            } else {
                t.errors += 1;
            }
        }
    }
    Ok(t)
}

async fn run_grpc(
    channel: Channel,
    token: String,
    depot: String,
    warm_until: Instant,
    until: Instant,
) -> anyhow::Result<Tally> {
    let mut t = tally()?;
    let value: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut c = StockServiceClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", value.clone());
        Ok(r)
    });
    while Instant::now() < until {
        let req = pb::IssueStockRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            depot_code: depot.clone(),
            item_id: ITEM.into(),
            quantity: 1,
            purpose: pb::IssuePurpose::Use as i32,
            recipient: "benchmark".into(),
            ..Default::default()
        };
        let start = Instant::now();
        let answer = c.issue_stock(req).await;
        let measured = start >= warm_until;
        match answer {
            Ok(_) if measured => {
                t.latency
                    .record(start.elapsed().as_micros().max(1) as u64)?;
            }
            Err(e) if e.code() == tonic::Code::ResourceExhausted => {
                // Refused at the door: back off, as a client should.
                if measured {
                    t.refused += 1;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(_) if measured => t.errors += 1,
            _ => {}
        }
    }
    Ok(t)
}

/// A server started in this process for a measurement.
pub(crate) struct Served {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) minter: Minter,
    pub(crate) stop: tokio::sync::oneshot::Sender<()>,
    pub(crate) server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Starts the real server over `store` on 127.0.0.1 with a fresh key.
pub(crate) async fn serve(store: &Store) -> anyhow::Result<Served> {
    serve_limited(store, reserve_server::app::DEFAULT_MAX_CONCURRENT_CALLS).await
}

/// The same, admitting at most `limit` calls at a time.
pub(crate) async fn serve_limited(store: &Store, limit: usize) -> anyhow::Result<Served> {
    let secret = uuid::Uuid::new_v4().to_string().into_bytes();
    let verifier = Verifier::new(&KeySpec::Hs256(secret.clone()), "bench", "reserve.v1")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let minter =
        Minter::hs256(&secret, "bench", "reserve.v1").map_err(|e| anyhow::anyhow!("{e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = reserve_server::App {
        store: store.clone(),
        verifier: Arc::new(verifier),
        clock: Arc::new(SystemClock),
        health_interval: Duration::from_secs(5),
        drain_timeout: Duration::from_secs(5),
        sourcing: Default::default(),
        maintenance: Default::default(),
        slow_call: std::time::Duration::from_millis(500),
        max_concurrent_calls: limit,
        privacy: Default::default(),
    };
    let server = tokio::spawn(reserve_server::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    Ok(Served {
        addr,
        minter,
        stop,
        server,
    })
}

pub(crate) fn report(
    label: &str,
    clients: usize,
    seconds: u64,
    tallies: Vec<Tally>,
) -> anyhow::Result<f64> {
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    for t in &tallies {
        all.add(&t.latency)?;
        errors += t.errors;
    }
    let ops = all.len();
    let tps = ops as f64 / seconds as f64;
    let ms = |q: f64| all.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{label:<5} clients={clients:<3} seconds={seconds:<3} ops={ops:<8} tps={tps:>8.0}  p50={:>7.2}ms  p99={:>7.2}ms  p999={:>7.2}ms  errors={errors}",
        ms(0.5),
        ms(0.99),
        ms(0.999)
    );
    Ok(tps)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if !(1..=256).contains(&a.clients) {
        bail!("--clients must be 1 to 256");
    }
    if !(1..=1000).contains(&a.group_commit) {
        bail!("--group-commit must be 1 to 1000");
    }
    if !(1..=600).contains(&a.seconds) || a.warmup > 60 {
        bail!("--seconds must be 1 to 600 and --warmup at most 60");
    }
    let baseline = if a.pgbench {
        if !a.database.starts_with("postgres") {
            bail!("--pgbench needs a PostgreSQL --database");
        }
        Some(pgbench(&a).await?)
    } else {
        None
    };
    if a.mode == Mode::Sweep {
        return sweep(&a).await;
    }
    if a.mode == Mode::Crash {
        let postgres = match a.database.as_str() {
            "sqlite" => false,
            "postgres" => true,
            _ => bail!("--mode crash takes --database sqlite or postgres (a throwaway cluster)"),
        };
        return crash::run(&crash::CrashArgs {
            postgres,
            kills: a.kills,
            clients: a.clients,
            db_restarts: a.db_restarts,
        })
        .await;
    }
    let (db, url) = fresh_database(&a.database).await?;
    let result = if a.mode == Mode::Floors {
        floors::run(&url, a.clients, a.seconds, a.warmup).await
    } else if a.mode == Mode::Overload {
        overload(&a, &url).await
    } else {
        bench(&a, &url, baseline).await
    };
    drop_database(db).await;
    result
}

/// pgbench TPC-B (built-in script) on a throwaway database of the same
/// cluster, with the same clients and seconds; returns its tps.
async fn pgbench(a: &Args) -> anyhow::Result<f64> {
    use std::str::FromStr;
    let opts = sqlx::postgres::PgConnectOptions::from_str(&a.database)?;
    let name = format!("reserve_pgbench_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(&a.database).await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut c)
        .await?;
    let base = [
        "-h".to_string(),
        opts.get_host().to_string(),
        "-p".into(),
        opts.get_port().to_string(),
        "-U".into(),
        opts.get_username().to_string(),
    ];
    let run = |extra: Vec<String>| {
        std::process::Command::new("pgbench")
            .args(base.iter().cloned().chain(extra))
            .output()
            .context("running pgbench (is it on PATH?)")
    };
    let init = run(vec![
        "-i".into(),
        "-s".into(),
        "10".into(),
        "-q".into(),
        name.clone(),
    ])?;
    let out = if init.status.success() {
        run(vec![
            "-c".into(),
            a.clients.to_string(),
            "-j".into(),
            "2".into(),
            "-T".into(),
            a.seconds.to_string(),
            name.clone(),
        ])?
    } else {
        init
    };
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut c)
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    let tps = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| {
            format!(
                "pgbench printed no tps:\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let latency = text
        .lines()
        .find_map(|l| l.strip_prefix("latency average = "))
        .unwrap_or("?");
    println!(
        "pgbench tpcb clients={:<3} seconds={:<3} tps={tps:>8.0}  latency average={latency}",
        a.clients, a.seconds
    );
    Ok(tps)
}

async fn bench(a: &Args, url: &str, baseline: Option<f64>) -> anyhow::Result<()> {
    let store = Store::connect(
        url,
        &StoreOptions {
            max_connections: (a.clients as u32 + 4).max(16),
            acquire_timeout: Duration::from_secs(30),
            group_commit: reserve_store::GroupCommit {
                max_writes: a.group_commit,
                ..Default::default()
            },
        },
    )
    .await?;
    store.migrate().await?;
    if a.mode == Mode::Propose {
        if !(1..=100_000).contains(&a.proposals) {
            bail!("--proposals must be 1 to 100,000");
        }
        let r = propose::run(&store, a.proposals, 20).await;
        store.close().await;
        return r;
    }
    let all = depots();
    let used: Vec<String> = (0..a.clients).map(|i| all[i % all.len()].clone()).collect();
    let mut distinct = used.clone();
    distinct.sort();
    distinct.dedup();
    prepare(&store, &distinct).await?;
    println!(
        "backend={:?} item={ITEM} one unit per IssueStock, FEFO; {} clients over {} depots, {} gRPC connection(s)",
        store.backend(),
        a.clients,
        distinct.len(),
        a.connections.unwrap_or(a.clients).clamp(1, a.clients)
    );
    let mut grpc_tps = None;
    let mut db_tps = None;

    if matches!(a.mode, Mode::Db | Mode::Both) {
        let warm_until = Instant::now() + Duration::from_secs(a.warmup);
        let until = warm_until + Duration::from_secs(a.seconds);
        let tasks: Vec<_> = used
            .iter()
            .map(|d| tokio::spawn(run_db(store.clone(), d.clone(), warm_until, until)))
            .collect();
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await??);
        }
        db_tps = Some(report("db", a.clients, a.seconds, tallies)?);
    }

    if matches!(a.mode, Mode::Grpc | Mode::Both) {
        let Served {
            addr,
            minter,
            stop,
            server,
        } = serve(&store).await?;
        let warm_until = Instant::now() + Duration::from_secs(a.warmup);
        let until = warm_until + Duration::from_secs(a.seconds);
        let mut channels = Vec::new();
        for _ in 0..a.connections.unwrap_or(a.clients).clamp(1, a.clients) {
            channels.push(
                Channel::from_shared(format!("http://{addr}"))?
                    .connect()
                    .await?,
            );
        }
        let mut tasks = Vec::new();
        for (i, d) in used.iter().enumerate() {
            let channel = channels[i % channels.len()].clone();
            let token = minter
                .mint(&TokenRequest {
                    subject: format!("bench-keeper@{d}"),
                    name: "bench".into(),
                    roles: vec!["depot_keeper".into()],
                    scope_depot: d.clone(),
                    ttl_seconds: 3600,
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tasks.push(tokio::spawn(run_grpc(
                channel,
                token,
                d.clone(),
                warm_until,
                until,
            )));
        }
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await??);
        }
        grpc_tps = Some(report("grpc", a.clients, a.seconds, tallies)?);
        let _ = stop.send(());
        server.await??;
    }

    if let (Some(g), Some(d)) = (grpc_tps, db_tps) {
        println!("ratio grpc/db = {:.2}", g / d);
    }
    if let Some(p) = baseline {
        if let Some(g) = grpc_tps {
            println!("ratio grpc/pgbench = {:.2}", g / p);
        }
        if let Some(d) = db_tps {
            println!("ratio db/pgbench = {:.2}", d / p);
        }
    }
    let report = store
        .check_integrity(&reserve_core::depot::DepotPath::from_stored("/".into()))
        .await?;
    println!(
        "integrity: {} lines, {} entries, {} differences",
        report.lines_checked,
        report.entries_checked,
        report.issues.len()
    );
    store.close().await;
    if !report.issues.is_empty() {
        bail!("the ledger and the balances disagree after the run");
    }
    Ok(())
}

/// What one gRPC measurement saw, over all clients.
struct Step {
    tps: f64,
    p99_ms: f64,
    refused: u64,
    errors: u64,
}

/// IssueStock over gRPC from one client per depot in `used` against a
/// server over `store` admitting `limit` calls at a time.
async fn grpc_step(
    store: &Store,
    used: &[String],
    a: &Args,
    limit: usize,
    label: &str,
) -> anyhow::Result<Step> {
    let Served {
        addr,
        minter,
        stop,
        server,
    } = serve_limited(store, limit).await?;
    let warm_until = Instant::now() + Duration::from_secs(a.warmup);
    let until = warm_until + Duration::from_secs(a.seconds);
    let connections = a.connections.unwrap_or(used.len()).clamp(1, used.len());
    let mut channels = Vec::new();
    for _ in 0..connections {
        channels.push(
            Channel::from_shared(format!("http://{addr}"))?
                .connect()
                .await?,
        );
    }
    let mut tasks = Vec::new();
    for (i, d) in used.iter().enumerate() {
        let token = minter
            .mint(&TokenRequest {
                subject: format!("bench-keeper@{d}"),
                name: "bench".into(),
                roles: vec!["depot_keeper".into()],
                scope_depot: d.clone(),
                ttl_seconds: 3600,
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tasks.push(tokio::spawn(run_grpc(
            channels[i % channels.len()].clone(),
            token,
            d.clone(),
            warm_until,
            until,
        )));
    }
    let mut tallies = Vec::new();
    for t in tasks {
        tallies.push(t.await??);
    }
    let refused: u64 = tallies.iter().map(|t| t.refused).sum();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for t in &tallies {
        all.add(&t.latency)?;
    }
    let tps = report(label, used.len(), a.seconds, tallies)?;
    let _ = stop.send(());
    server.await??;
    Ok(Step {
        tps,
        p99_ms: all.value_at_quantile(0.99) as f64 / 1000.0,
        refused,
        errors,
    })
}

fn store_options(clients: usize, group_commit: usize) -> StoreOptions {
    StoreOptions {
        max_connections: (clients as u32 + 4).max(16),
        acquire_timeout: Duration::from_secs(30),
        group_commit: reserve_store::GroupCommit {
            max_writes: group_commit,
            ..Default::default()
        },
    }
}

/// `--mode sweep`: every engine named, every client count, one chart.
async fn sweep(a: &Args) -> anyhow::Result<()> {
    const CLIENTS: [usize; 7] = [1, 2, 4, 8, 16, 32, 64];
    let mut series = Vec::new();
    for spec in a.database.split(',') {
        let (db, url) = fresh_database(spec.trim()).await?;
        let result = async {
            let store = Store::connect(&url, &store_options(64, a.group_commit)).await?;
            store.migrate().await?;
            let all = depots();
            let mut distinct: Vec<String> = (0..64).map(|i| all[i % all.len()].clone()).collect();
            distinct.sort();
            distinct.dedup();
            prepare(&store, &distinct).await?;
            let name = match store.backend() {
                reserve_store::Backend::Sqlite => "SQLite".to_string(),
                reserve_store::Backend::Postgres => "PostgreSQL".to_string(),
            };
            let mut points = Vec::new();
            for &n in &CLIENTS {
                let used: Vec<String> = (0..n).map(|i| all[i % all.len()].clone()).collect();
                let step = grpc_step(&store, &used, a, 100_000, "grpc").await?;
                let (rss, peak) = sweep::rss_mb();
                println!(
                    "sweep {name} clients={n} tps={:.0} p99={:.2}ms rss={rss:.0}MiB peak={peak:.0}MiB errors={}",
                    step.tps, step.p99_ms, step.errors
                );
                points.push(sweep::Point {
                    clients: n,
                    tps: step.tps,
                    p99_ms: step.p99_ms,
                    rss_mb: rss,
                });
            }
            check(&store).await?;
            store.close().await;
            anyhow::Ok((name, points))
        }
        .await;
        drop_database(db).await;
        series.push(result?);
    }
    println!(
        "clients | {}",
        series
            .iter()
            .map(|(n, _)| format!("{n} tps | {n} p99 ms | {n} RSS MiB"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    for (i, n) in [1, 2, 4, 8, 16, 32, 64].iter().enumerate() {
        let cells: Vec<String> = series
            .iter()
            .map(|(_, p)| format!("{:.0} | {:.2} | {:.0}", p[i].tps, p[i].p99_ms, p[i].rss_mb))
            .collect();
        println!("{n} | {}", cells.join(" | "));
    }
    sweep::chart(&a.chart, &series)?;
    println!("chart written to {}", a.chart);
    Ok(())
}

/// `--mode overload`: the same clients against a limited server, then an
/// unlimited one.
async fn overload(a: &Args, url: &str) -> anyhow::Result<()> {
    if !(1..=256).contains(&a.limit) {
        bail!("--limit must be 1 to 256");
    }
    let store = Store::connect(url, &store_options(a.clients, a.group_commit)).await?;
    store.migrate().await?;
    let all = depots();
    let used: Vec<String> = (0..a.clients).map(|i| all[i % all.len()].clone()).collect();
    let mut distinct = used.clone();
    distinct.sort();
    distinct.dedup();
    prepare(&store, &distinct).await?;
    let limited = grpc_step(&store, &used, a, a.limit, "limit").await?;
    let open = grpc_step(&store, &used, a, 100_000, "open").await?;
    println!(
        "overload backend={:?} clients={} limit={}: admitted tps={:.0} p99={:.2}ms refused={} ({:.0}/s) errors={}; without a limit: tps={:.0} p99={:.2}ms errors={}",
        store.backend(),
        a.clients,
        a.limit,
        limited.tps,
        limited.p99_ms,
        limited.refused,
        limited.refused as f64 / a.seconds as f64,
        limited.errors,
        open.tps,
        open.p99_ms,
        open.errors
    );
    check(&store).await?;
    store.close().await;
    Ok(())
}

async fn check(store: &Store) -> anyhow::Result<()> {
    let report = store
        .check_integrity(&reserve_core::depot::DepotPath::from_stored("/".into()))
        .await?;
    println!(
        "integrity: {} lines, {} entries, {} differences",
        report.lines_checked,
        report.entries_checked,
        report.issues.len()
    );
    if !report.issues.is_empty() {
        bail!("the ledger and the balances disagree after the run");
    }
    Ok(())
}
