//! The crash harness: the real `reserve-server` binary under mixed writes,
//! killed with SIGKILL at random moments and restarted, while every client
//! retries each unanswered call with the same request id until it is
//! answered. Afterwards the ledger holds exactly the entries the clients
//! were given (each once, nothing else), every balance equals its ledger,
//! every answered request id has its one audit event, and
//! `reserve-server check` is clean.
//!
//! On PostgreSQL it runs on a throwaway cluster of its own (initdb and
//! pg_ctl on a free 127.0.0.1 port; the machine's own cluster is never
//! touched) and also stops and starts that cluster under load: calls fail
//! UNAVAILABLE, health turns NOT_SERVING, and the same server process
//! recovers when the database is back.
//!
//! Bounded: at most 1,000 kills, every call retried for at most 120 s,
//! only 127.0.0.1.

use anyhow::{Context, bail};
use rand::Rng;
use reserve_api::auth::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, Minter, TokenRequest};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const ITEM: &str = "tent-36m2";
const CALL_RETRY_LIMIT: Duration = Duration::from_secs(120);

/// What the harness is asked to do.
pub(crate) struct CrashArgs {
    pub(crate) postgres: bool,
    pub(crate) kills: usize,
    pub(crate) clients: usize,
    pub(crate) db_restarts: usize,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A PostgreSQL cluster of the harness's own, stopped and removed on drop.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

fn as_postgres(cmd: &str) -> Command {
    // As root, PostgreSQL's tools must run as the postgres user.
    let root = std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
    if root {
        let mut c = Command::new("su");
        c.args(["postgres", "-c", cmd]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", cmd]);
        c
    }
}

impl Cluster {
    fn create(base: &Path) -> anyhow::Result<Cluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .context("PostgreSQL's binaries are not under /usr/lib/postgresql")?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .context("no initdb under /usr/lib/postgresql/*/bin")?;
        let dir = base.join("pg");
        std::fs::create_dir_all(&dir)?;
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(base)
            .status();
        let port = free_port()?;
        let data = dir.join("data");
        let ok = as_postgres(&format!(
            "{}/initdb -D {} -U postgres --auth=trust -E UTF8 >/dev/null",
            bin.display(),
            data.display()
        ))
        .status()?
        .success();
        if !ok {
            bail!("initdb failed");
        }
        std::fs::write(
            data.join("postgresql.auto.conf"),
            format!(
                "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\nfsync = on\n"
            ),
        )?;
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status();
        let c = Cluster { dir, bin, port };
        c.start()?;
        Ok(c)
    }

    fn ctl(&self, what: &str) -> anyhow::Result<()> {
        let ok = as_postgres(&format!(
            "{}/pg_ctl -D {} -l {} -w {what} >/dev/null",
            self.bin.display(),
            self.dir.join("data").display(),
            self.dir.join("log").display()
        ))
        .status()?
        .success();
        if !ok {
            bail!("pg_ctl {what} failed");
        }
        Ok(())
    }

    fn start(&self) -> anyhow::Result<()> {
        self.ctl("start")
    }

    fn stop(&self) -> anyhow::Result<()> {
        self.ctl("stop -m immediate")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The server binary, restarted as often as it is killed.
struct Server {
    bin: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self, seed: bool) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut cmd = Command::new(&self.bin);
        cmd.args(&self.args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if seed {
            cmd.arg("--seed-demo");
        }
        self.child = Some(cmd.spawn().context("starting reserve-server")?);
        Ok(())
    }

    fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?; // SIGKILL
            c.wait()?;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

async fn health(channel: &Channel) -> Option<ServingStatus> {
    let mut h = HealthClient::new(channel.clone());
    let r = tokio::time::timeout(
        Duration::from_secs(2),
        h.check(HealthCheckRequest {
            service: String::new(),
        }),
    )
    .await
    .ok()?
    .ok()?;
    Some(r.into_inner().status())
}

async fn wait_for(channel: &Channel, want: ServingStatus, within: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if health(channel).await == Some(want) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("health did not turn {want:?} within {within:?}")
}

/// What the clients were told, all together.
#[derive(Default)]
struct Ledger {
    /// Entry id → (depot, signed quantity), from every OK answer.
    entries: BTreeMap<String, (String, i64)>,
    /// Request ids answered OK.
    answered: BTreeSet<String>,
    refused: u64,
}

struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    unavailable: AtomicU64,
}

enum Req {
    Receive(pb::ReceiveStockRequest),
    Issue(pb::IssueStockRequest),
}

/// One keeper at `depot`: mixed receipts and issues on its own lot until
/// `stop`, each retried with its request id until answered.
async fn client(
    channel: Channel,
    token: String,
    depot: String,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> anyhow::Result<Ledger> {
    let value: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut c = StockServiceClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
        r.metadata_mut().insert("authorization", value.clone());
        Ok(r)
    });
    let lot = format!("CRASH-{depot}");
    let mut out = Ledger::default();
    let mut first = true;
    while first || !stop.load(Ordering::SeqCst) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (receive, qty) = {
            let mut rng = rand::rng();
            (first || rng.random_bool(0.4), rng.random_range(1..=3i64))
        };
        let req = if receive {
            Req::Receive(pb::ReceiveStockRequest {
                request_id: request_id.clone(),
                depot_code: depot.clone(),
                item_id: ITEM.into(),
                lot_number: lot.clone(),
                quantity: if first { 1000 } else { qty },
                document: "CRASH".into(),
                counterparty: "crash harness".into(),
                ..Default::default()
            })
        } else {
            Req::Issue(pb::IssueStockRequest {
                request_id: request_id.clone(),
                depot_code: depot.clone(),
                item_id: ITEM.into(),
                lot_number: lot.clone(),
                quantity: qty,
                purpose: pb::IssuePurpose::Use as i32,
                recipient: "crash harness".into(),
                ..Default::default()
            })
        };
        first = false;
        let started = Instant::now();
        counters.calls.fetch_add(1, Ordering::Relaxed);
        loop {
            let answer = match &req {
                Req::Receive(r) => c
                    .receive_stock(r.clone())
                    .await
                    .map(|a| a.into_inner().entry.into_iter().collect::<Vec<_>>()),
                Req::Issue(r) => c
                    .issue_stock(r.clone())
                    .await
                    .map(|a| a.into_inner().entries),
            };
            match answer {
                Ok(entries) => {
                    for e in entries {
                        out.entries.insert(e.id, (depot.clone(), e.quantity));
                    }
                    out.answered.insert(request_id.clone());
                    break;
                }
                Err(s)
                    if matches!(
                        s.code(),
                        Code::Unavailable
                            | Code::Unknown
                            | Code::Cancelled
                            | Code::DeadlineExceeded
                            | Code::Internal
                            | Code::ResourceExhausted
                    ) =>
                {
                    if s.code() == Code::Unavailable {
                        counters.unavailable.fetch_add(1, Ordering::Relaxed);
                    }
                    if started.elapsed() > CALL_RETRY_LIMIT {
                        bail!("a call stayed unanswered for {CALL_RETRY_LIMIT:?}: {s:?}");
                    }
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(s) if s.code() == Code::FailedPrecondition => {
                    out.refused += 1;
                    break;
                }
                Err(s) => bail!("unexpected answer: {s:?}"),
            }
        }
    }
    Ok(out)
}

pub(crate) async fn run(a: &CrashArgs) -> anyhow::Result<()> {
    if !(1..=1000).contains(&a.kills) || !(1..=64).contains(&a.clients) || a.db_restarts > 20 {
        bail!("--kills must be 1 to 1000, --clients 1 to 64, --db-restarts at most 20");
    }
    let bin = std::env::current_exe()?.with_file_name("reserve-server");
    if !bin.exists() {
        bail!(
            "{} is missing: build it beside reserve-bench (cargo build --release -p reserve-server -p reserve-bench)",
            bin.display()
        );
    }
    let dir = tempfile::tempdir()?;
    let cluster = if a.postgres {
        Some(Cluster::create(dir.path())?)
    } else {
        None
    };
    let url = match &cluster {
        Some(c) => c.url(),
        None => format!("sqlite://{}/crash.db?mode=rwc", dir.path().display()),
    };
    let secret = format!("crash-harness-{}", uuid::Uuid::new_v4().simple());
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, &secret)?;
    // PostgreSQL needs a configured key for owners' private data too.
    let private_key = dir.path().join("private.key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&private_key)?
            .write_all(reserve_store::sealed::Sealer::new_key_line("crash-1").as_bytes())?;
    }
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let mut server = Server {
        bin: bin.clone(),
        args: vec![
            "--listen".into(),
            addr.clone(),
            "--database-url".into(),
            url.clone(),
            "--jwt-hs256-secret-file".into(),
            secret_file.display().to_string(),
            "--private-data-key-file".into(),
            private_key.display().to_string(),
        ],
        log: dir.path().join("server.log"),
        child: None,
    };
    println!(
        "crash harness: {} on {addr}, {} clients, {} kills{}",
        if a.postgres {
            "PostgreSQL (throwaway cluster)"
        } else {
            "SQLite"
        },
        a.clients,
        a.kills,
        if a.postgres {
            format!(", {} database restarts", a.db_restarts)
        } else {
            String::new()
        }
    );
    server.start(true)?;
    let channel = Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .connect_lazy();
    wait_for(&channel, ServingStatus::Serving, Duration::from_secs(120)).await?;

    let minter = Minter::hs256(secret.as_bytes(), DEFAULT_ISSUER, DEFAULT_AUDIENCE)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let depots: Vec<String> = reserve_server::seed::demo_depots()
        .into_iter()
        .filter(|d| d.tier >= 3)
        .map(|d| d.code)
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters {
        calls: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        unavailable: AtomicU64::new(0),
    });
    let mut tasks = Vec::new();
    for i in 0..a.clients {
        let depot = depots[i % depots.len()].clone();
        let token = minter
            .mint(&TokenRequest {
                subject: format!("crash-{i}@{depot}"),
                name: "crash".into(),
                roles: vec!["depot_keeper".into()],
                scope_depot: depot.clone(),
                ttl_seconds: 3600,
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tasks.push(tokio::spawn(client(
            channel.clone(),
            token,
            depot,
            stop.clone(),
            counters.clone(),
        )));
    }

    let started = Instant::now();
    for k in 1..=a.kills {
        let pause = rand::rng().random_range(150..900);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill()?;
        server.start(false)?;
        wait_for(&channel, ServingStatus::Serving, Duration::from_secs(60)).await?;
        if k % 5 == 0 || k == a.kills {
            println!(
                "  kill {k}: {} calls so far, {} retries",
                counters.calls.load(Ordering::Relaxed),
                counters.retries.load(Ordering::Relaxed)
            );
        }
    }
    if let Some(c) = &cluster {
        for r in 1..=a.db_restarts {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let before = counters.unavailable.load(Ordering::Relaxed);
            c.stop()?;
            wait_for(&channel, ServingStatus::NotServing, Duration::from_secs(30))
                .await
                .context("health while the database is down")?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let during = counters.unavailable.load(Ordering::Relaxed) - before;
            c.start()?;
            wait_for(&channel, ServingStatus::Serving, Duration::from_secs(60))
                .await
                .context("health after the database came back")?;
            // Recovered: every client has finished a call since (its pooled
            // connections to the old cluster fail once each, and are retried).
            let back = Instant::now();
            let calls = counters.calls.load(Ordering::Relaxed);
            while counters.calls.load(Ordering::Relaxed) < calls + a.clients as u64 {
                if back.elapsed() > Duration::from_secs(60) {
                    bail!("calls did not resume within 60 s of the database coming back");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            println!(
                "  database restart {r}: health NOT_SERVING while down, {during} calls answered UNAVAILABLE meanwhile, SERVING again without a server restart, calls completing again {:.2} s after",
                back.elapsed().as_secs_f64()
            );
            if during == 0 {
                bail!("no call was answered UNAVAILABLE while the database was down");
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    let mut all = Ledger::default();
    for t in tasks {
        let l = t.await??;
        all.entries.extend(l.entries);
        all.answered.extend(l.answered);
        all.refused += l.refused;
    }
    let seconds = started.elapsed().as_secs_f64();
    server.kill()?;

    // Checks, straight on the database with the server down.
    let check = Command::new(&bin)
        .args(["check", "--database-url", &url])
        .output()?;
    print!("{}", String::from_utf8_lossy(&check.stdout));
    if !check.status.success() {
        bail!(
            "reserve-server check failed: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT e.id, e.depot_code, e.quantity FROM ledger_entries e JOIN lots l ON l.id = e.lot_id \
         WHERE l.lot_number LIKE 'CRASH-%'",
    )
    .fetch_all(&pool)
    .await?;
    let stored: BTreeMap<String, (String, i64)> = rows
        .into_iter()
        .map(|(id, depot, q)| (id, (depot, q)))
        .collect();
    let missing: Vec<_> = all
        .entries
        .keys()
        .filter(|k| !stored.contains_key(*k))
        .collect();
    let extra: Vec<_> = stored
        .keys()
        .filter(|k| !all.entries.contains_key(*k))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        bail!(
            "the ledger differs from what clients were told: {} answered entries missing, {} entries nobody was told of",
            missing.len(),
            extra.len()
        );
    }
    let mut balance: BTreeMap<String, i64> = BTreeMap::new();
    for (depot, q) in all.entries.values() {
        *balance.entry(depot.clone()).or_default() += q;
    }
    for (depot, want) in &balance {
        let (on_hand,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(s.on_hand), 0) AS BIGINT) FROM stock_lines s JOIN lots l ON l.id = s.lot_id \
             WHERE l.lot_number = $1 AND s.depot_code = $2",
        )
        .bind(format!("CRASH-{depot}"))
        .bind(depot)
        .fetch_one(&pool)
        .await?;
        if on_hand != *want {
            bail!("{depot}: on hand {on_hand}, but the answered movements sum to {want}");
        }
    }
    let (events,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_events WHERE actor LIKE 'crash-%' AND response <> ''",
    )
    .fetch_one(&pool)
    .await?;
    if events != all.answered.len() as i64 {
        bail!(
            "{events} audit events for {} answered requests",
            all.answered.len()
        );
    }
    pool.close().await;
    println!(
        "crash harness passed: {} kills{} in {seconds:.0} s; {} calls ({} retries after a kill or outage, {} UNAVAILABLE), {} answered with {} ledger entries all present exactly once, {} refused by a rule; balances match; {} audit events, one per answered request",
        a.kills,
        if a.postgres {
            format!(" and {} database restarts", a.db_restarts)
        } else {
            String::new()
        },
        counters.calls.load(Ordering::Relaxed),
        counters.retries.load(Ordering::Relaxed),
        counters.unavailable.load(Ordering::Relaxed),
        all.answered.len(),
        all.entries.len(),
        all.refused,
        events
    );
    drop(server);
    drop(cluster);
    Ok(())
}
