//! `reserve-server`: serves the reserve network over gRPC.
//!
//! With no configuration it runs on `reserve.db` (SQLite) in the working
//! directory on 127.0.0.1:50051 with a generated development key.

use anyhow::Context;
use clap::{Parser, Subcommand};
use reserve_api::auth::Verifier;
use reserve_core::time::{Clock, SystemClock};
use reserve_server::config::{DbArgs, LogFormat, ServeArgs, console_for, resolve_key, sqlite_file};
use reserve_server::lock::DbLock;
use reserve_server::{App, seed};
use reserve_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

// Many small allocations per call (HTTP/2 frames, rows, JSON): mimalloc
// handles them with less contention than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The emergency reserve network service.
#[derive(Parser, Debug)]
#[command(
    name = "reserve-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve gRPC (the default when no command is given).
    Serve(Box<ServeArgs>),
    /// Load the demo network into the database; does nothing if it is there.
    SeedDemo {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Recompute every stock balance from the ledger and list any difference;
    /// exits 1 if there is one.
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Re-seal owners' private data under the first key of the key file
    /// (after adding a new key to rotate); prints how many rows moved.
    Rekey {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        privacy: reserve_server::config::PrivacyArgs,
    },
    /// Copy the embedded SQLite database, consistently, while it serves
    /// (PostgreSQL: use pg_dump).
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// The backup file to write; it must not exist.
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup, when no server or command
    /// has it open, then check the ledger; exits 1 if anything fails.
    Restore {
        #[command(flatten)]
        db: DbArgs,
        /// The backup file to restore.
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
    },
}

/// Holds the shared lock of a SQLite database file for as long as it lives,
/// so `restore` cannot replace the file under this process.
fn lock_shared(db: &DbArgs) -> anyhow::Result<Option<DbLock>> {
    sqlite_file(&db.database_url)
        .map(|f| DbLock::shared(&f))
        .transpose()
}

/// Prints an integrity report; true when every figure matches.
fn print_report(report: &reserve_store::stock::IntegrityReport) -> bool {
    println!(
        "checked {} stock lines against {} ledger entries, and {} open documents",
        report.lines_checked, report.entries_checked, report.documents_checked
    );
    if report.issues.is_empty() {
        println!("every balance matches the ledger and every document's share");
        return true;
    }
    for i in &report.issues {
        println!(
            "MISMATCH depot {} item {} lot {}{}: {:?} stored {} but recomputed {}",
            i.depot,
            i.item,
            i.lot_number,
            i.subject
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            i.figure,
            i.stored,
            i.recomputed
        );
    }
    false
}

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn open(db: &DbArgs) -> anyhow::Result<Store> {
    let url = db.url();
    let store = Store::connect(&url, &db.options())
        .await
        .with_context(|| format!("connecting to {}", reserve_store::db::redact(&url)))?;
    store.migrate().await?;
    tracing::info!(database = %reserve_store::db::redact(&url), backend = ?store.backend(), "database ready");
    Ok(store)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (key, dev_key) = resolve_key(&args.auth, &args.db, args.listen)?;
    let verifier = Verifier::new(&key, &args.auth.jwt_issuer, &args.auth.jwt_audience)
        .map_err(|e| anyhow::anyhow!("token key: {e}"))?;
    let console = console_for(&key, dev_key.as_deref(), &args.auth)?;
    let sealer = args.privacy.sealer(&args.db, Some(args.listen))?;
    let privacy = args.privacy.config()?;
    let _lock = lock_shared(&args.db)?;
    let store = open(&args.db).await?.with_sealer(sealer);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if args.seed_demo {
        let s = seed::seed_demo(&store, clock.now()).await?;
        tracing::info!(
            depots = s.depots,
            items = s.items,
            norms = s.norms,
            receipts = s.receipts,
            units = s.units,
            assets = s.assets,
            "demo network ready"
        );
    }
    let metrics = start_metrics(&args.metrics, &store, &clock).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(address = %listener.local_addr()?, "serving reserve.v1");
    if let Some(path) = dev_key {
        tracing::info!(
            key = %path.display(),
            "tokens: run `reservectl token --role admin --scope HB` in this directory to get one"
        );
    }
    let app = App {
        store: store.clone(),
        verifier: Arc::new(verifier),
        clock,
        health_interval: Duration::from_secs(2),
        drain_timeout: Duration::from_secs(20),
        sourcing: args.sourcing.config()?,
        maintenance: args.maintenance.config()?,
        slow_call: Duration::from_millis(args.slow_call_ms),
        max_concurrent_calls: args.max_concurrent_calls,
        privacy,
    };
    if console.dev_login() {
        tracing::info!(
            url = %format!("http://{}/", listener.local_addr()?),
            "command-centre page, with one-click sign-in (development key)"
        );
    } else {
        tracing::info!(url = %format!("http://{}/", listener.local_addr()?), "command-centre page");
    }
    reserve_server::serve_with(app, console, listener, shutdown_signal()).await?;
    if let Some(mut tasks) = metrics {
        tasks.abort_all();
    }
    store.close().await;
    Ok(())
}

/// Starts the metrics endpoint and its gauge refresher when
/// `--metrics-listen` is given; they run until aborted.
async fn start_metrics(
    args: &reserve_server::config::MetricsArgs,
    store: &reserve_store::Store,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<Option<tokio::task::JoinSet<()>>> {
    let Some(addr) = args.metrics_listen else {
        return Ok(None);
    };
    reserve_server::metrics::check_listen(addr, args.metrics_allow_remote)?;
    let refresh = args.refresh()?;
    let handle = reserve_server::metrics::install()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics address {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving metrics at /metrics");
    let mut tasks = tokio::task::JoinSet::new();
    let h = handle.clone();
    tasks.spawn(async move {
        if let Err(e) = reserve_server::metrics::serve(listener, h, std::future::pending()).await {
            tracing::error!(error = %e, "the metrics endpoint stopped");
        }
    });
    tasks.spawn(reserve_server::metrics::refresh(
        store.clone(),
        clock.clone(),
        handle,
        refresh,
    ));
    Ok(Some(tasks))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => {
            init_logging(cli.serve.log_format);
            serve(cli.serve).await
        }
        Some(Command::Serve(args)) => {
            init_logging(args.log_format);
            serve(*args).await
        }
        Some(Command::SeedDemo { db }) => {
            init_logging(LogFormat::Pretty);
            let _lock = lock_shared(&db)?;
            let store = open(&db).await?;
            let s = seed::seed_demo(&store, SystemClock.now()).await?;
            println!(
                "demo network ready: {} depots, {} items, {} norms added; \
                 stock: {} receipts posted, {} units ({} serial-numbered)",
                s.depots, s.items, s.norms, s.receipts, s.units, s.assets
            );
            store.close().await;
            Ok(())
        }
        Some(Command::Rekey { db, privacy }) => {
            init_logging(LogFormat::Pretty);
            let sealer = privacy.sealer(&db, None)?;
            let _lock = lock_shared(&db)?;
            let store = open(&db).await?.with_sealer(sealer);
            let n = store.rekey_private_data().await?;
            store.close().await;
            println!("re-sealed {n} rows of owners' private data under the current key");
            Ok(())
        }
        Some(Command::Check { db }) => {
            init_logging(LogFormat::Pretty);
            let _lock = lock_shared(&db)?;
            let store = open(&db).await?;
            let report = store
                .check_integrity(&reserve_core::depot::DepotPath::from_stored("/".into()))
                .await?;
            store.close().await;
            if !print_report(&report) {
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Command::Backup { db, to }) => {
            init_logging(LogFormat::Pretty);
            let info = reserve_server::backup::backup(&db, &to).await?;
            println!(
                "backed up to {} (schema version {}, {} migrations; integrity ok)",
                to.display(),
                info.schema_version,
                info.migrations
            );
            Ok(())
        }
        Some(Command::Restore { db, from }) => {
            init_logging(LogFormat::Pretty);
            let (info, report) = reserve_server::backup::restore(&db, &from).await?;
            println!(
                "restored {} (schema version {}{}; integrity ok)",
                from.display(),
                info.schema_version,
                if info.pending_migrations > 0 {
                    format!(", {} newer migrations applied", info.pending_migrations)
                } else {
                    String::new()
                }
            );
            if !print_report(&report) {
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Command::Migrate { db }) => {
            init_logging(LogFormat::Pretty);
            let _lock = lock_shared(&db)?;
            let store = open(&db).await?;
            store.close().await;
            Ok(())
        }
    }
}
