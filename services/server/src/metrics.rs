//! Prometheus text at `/metrics` (`--metrics-listen`): the recorder of the
//! `metrics` facade that the call log and the store report to, the HTTP
//! listener that renders it, and a task that refreshes the gauges read
//! from the database (pool use every tick, open documents and expiring
//! lines every tick, the ledger integrity check at start and then every
//! `integrity_every`).

use anyhow::{Context, bail};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use reserve_core::depot::DepotPath;
use reserve_core::stock::Day;
use reserve_core::time::Clock;
use reserve_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Latency buckets, in seconds, of every `_seconds` histogram.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Whether `addr` may serve metrics: loopback always, anything else only
/// when the operator allowed it explicitly.
pub fn check_listen(addr: SocketAddr, allow_remote: bool) -> anyhow::Result<()> {
    if addr.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    bail!(
        "--metrics-listen {addr} is not a loopback address: the metrics show the service's \
         internals to anyone who can reach the port; pass --metrics-allow-remote to serve them there"
    )
}

/// Installs the process-wide recorder (once; later calls return the same
/// handle) and describes every metric.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut slot = HANDLE
        .lock()
        .map_err(|_| anyhow::anyhow!("metrics recorder lock poisoned"))?;
    if let Some(h) = slot.as_ref() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
        .context("metric buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    describe();
    *slot = Some(handle.clone());
    Ok(handle)
}

fn describe() {
    describe_counter!(
        "reserve_grpc_calls_total",
        "gRPC calls answered, by method and status code"
    );
    describe_histogram!(
        "reserve_grpc_call_duration_seconds",
        metrics::Unit::Seconds,
        "gRPC call latency until the response headers, by method"
    );
    describe_gauge!(
        "reserve_db_pool_connections",
        "database connections open, by pool"
    );
    describe_gauge!(
        "reserve_db_pool_idle_connections",
        "database connections open and idle, by pool"
    );
    describe_gauge!(
        "reserve_db_pool_max_connections",
        "most database connections a pool opens"
    );
    describe_histogram!(
        "reserve_db_write_acquire_seconds",
        metrics::Unit::Seconds,
        "wait for a write transaction (a connection, and on SQLite the write lock)"
    );
    describe_counter!(
        "reserve_write_retries_total",
        "write transactions retried after contention (serialization failure, deadlock, changed rows)"
    );
    describe_counter!(
        "reserve_write_contention_failures_total",
        "writes that kept conflicting and were answered UNAVAILABLE"
    );
    describe_gauge!(
        "reserve_write_queue_depth",
        "writes waiting for a write transaction"
    );
    describe_gauge!("reserve_writes_in_flight", "writes running or waiting");
    describe_gauge!("reserve_open_documents", "documents still open, by kind");
    describe_gauge!(
        "reserve_stock_lines_expired",
        "stock lines (depot and lot) holding units of an expired lot"
    );
    describe_gauge!(
        "reserve_stock_lines_near_expiry",
        "stock lines holding units of a lot within its near-expiry window"
    );
    describe_gauge!(
        "reserve_integrity_issues",
        "differences found by the last ledger integrity check (0: clean)"
    );
    describe_gauge!(
        "reserve_integrity_last_run_timestamp_seconds",
        "when the last ledger integrity check finished (Unix time)"
    );
    describe_counter!(
        "reserve_metrics_refresh_failures_total",
        "gauge refreshes or integrity checks that failed to read the database"
    );
}

/// Serves `handle` as Prometheus text at `/metrics` on `listener` until
/// `shutdown` resolves.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    shutdown: F,
) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    use axum::http::header::CONTENT_TYPE;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let h = handle.clone();
            async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    h.render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving metrics")
}

/// How often the refresher reads the database.
#[derive(Clone, Copy, Debug)]
pub struct Refresh {
    /// Pool use, open documents and expiring lines.
    pub every: Duration,
    /// The ledger integrity check (it reads every balance and entry).
    pub integrity_every: Duration,
}

/// Refreshes the database gauges on `r`'s periods until the task is
/// dropped; each round is a handful of counting queries, and the integrity
/// check runs once at start and then on its own, slower period.
pub async fn refresh(store: Store, clock: Arc<dyn Clock>, handle: PrometheusHandle, r: Refresh) {
    let mut tick = tokio::time::interval(r.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_check: Option<Instant> = None;
    loop {
        tick.tick().await;
        handle.run_upkeep();
        for p in store.pool_use() {
            gauge!("reserve_db_pool_connections", "pool" => p.pool).set(f64::from(p.size));
            gauge!("reserve_db_pool_idle_connections", "pool" => p.pool).set(p.idle as f64);
            gauge!("reserve_db_pool_max_connections", "pool" => p.pool).set(f64::from(p.max));
        }
        match store.vital_signs(Day::today(clock.now())).await {
            Ok(v) => {
                for (kind, n) in v.open_documents {
                    gauge!("reserve_open_documents", "kind" => kind).set(n as f64);
                }
                gauge!("reserve_stock_lines_expired").set(v.lines_expired as f64);
                gauge!("reserve_stock_lines_near_expiry").set(v.lines_near_expiry as f64);
            }
            Err(e) => {
                counter!("reserve_metrics_refresh_failures_total").increment(1);
                tracing::warn!(error = %e, "metrics: reading the vital signs failed");
            }
        }
        if last_check.is_none_or(|t| t.elapsed() >= r.integrity_every) {
            last_check = Some(Instant::now());
            match store
                .check_integrity(&DepotPath::from_stored("/".into()))
                .await
            {
                Ok(report) => {
                    gauge!("reserve_integrity_issues").set(report.issues.len() as f64);
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64());
                    gauge!("reserve_integrity_last_run_timestamp_seconds").set(now);
                    if !report.issues.is_empty() {
                        tracing::error!(
                            issues = report.issues.len(),
                            "ledger integrity check found differences; run `reserve-server check`"
                        );
                    }
                }
                Err(e) => {
                    counter!("reserve_metrics_refresh_failures_total").increment(1);
                    tracing::warn!(error = %e, "metrics: the integrity check failed");
                }
            }
        }
    }
}
