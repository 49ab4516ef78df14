//! Assembling the gRPC server: services behind the token check, health,
//! reflection, grpc-web, and a graceful drain on shutdown.

use futures::FutureExt;
use reserve_api::allocation::AllocationApi;
use reserve_api::audit::AuditApi;
use reserve_api::auth::{self, Verifier};
use reserve_api::catalog::CatalogApi;
use reserve_api::compensation::CompensationApi;
use reserve_api::context::Ctx;
use reserve_api::enterprise::EnterpriseApi;
use reserve_api::events::{EventApi, EventHub};
use reserve_api::incident::IncidentApi;
use reserve_api::lease::LeaseApi;
use reserve_api::maintenance::MaintenanceApi;
use reserve_api::network::NetworkApi;
use reserve_api::pb::reserve::v1::allocation_service_server::AllocationServiceServer;
use reserve_api::pb::reserve::v1::audit_service_server::AuditServiceServer;
use reserve_api::pb::reserve::v1::catalog_service_server::CatalogServiceServer;
use reserve_api::pb::reserve::v1::compensation_service_server::CompensationServiceServer;
use reserve_api::pb::reserve::v1::enterprise_reserve_service_server::EnterpriseReserveServiceServer;
use reserve_api::pb::reserve::v1::event_service_server::EventServiceServer;
use reserve_api::pb::reserve::v1::incident_service_server::IncidentServiceServer;
use reserve_api::pb::reserve::v1::lease_service_server::LeaseServiceServer;
use reserve_api::pb::reserve::v1::maintenance_service_server::MaintenanceServiceServer;
use reserve_api::pb::reserve::v1::network_service_server::NetworkServiceServer;
use reserve_api::pb::reserve::v1::requisition_service_server::RequisitionServiceServer;
use reserve_api::pb::reserve::v1::sourcing_service_server::SourcingServiceServer;
use reserve_api::pb::reserve::v1::stock_service_server::StockServiceServer;
use reserve_api::requisition::RequisitionApi;
use reserve_api::sourcing::SourcingApi;
use reserve_api::stock::StockApi;
use reserve_core::time::Clock;
use reserve_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// The fully qualified names of the reserve services, as health reports them.
pub const SERVICE_NAMES: [&str; 13] = [
    "reserve.v1.NetworkService",
    "reserve.v1.CatalogService",
    "reserve.v1.AuditService",
    "reserve.v1.StockService",
    "reserve.v1.IncidentService",
    "reserve.v1.AllocationService",
    "reserve.v1.EnterpriseReserveService",
    "reserve.v1.SourcingService",
    "reserve.v1.EventService",
    "reserve.v1.LeaseService",
    "reserve.v1.MaintenanceService",
    "reserve.v1.RequisitionService",
    "reserve.v1.CompensationService",
];

/// Calls in progress at most, unless configured otherwise.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 256;

/// Aborts a background task when the server that spawned it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a running server is made of.
#[derive(Clone, Debug)]
pub struct App {
    /// The database.
    pub store: Store,
    /// Token verification.
    pub verifier: Arc<Verifier>,
    /// Source of "now".
    pub clock: Arc<dyn Clock>,
    /// How often the database is pinged for health.
    pub health_interval: Duration,
    /// How long a drain waits for in-flight calls (and open streams such as
    /// health watches) before closing them.
    pub drain_timeout: Duration,
    /// Sourcing estimates and the relief kit.
    pub sourcing: reserve_api::sourcing::SourcingConfig,
    /// Maintenance settings (when a repair is overdue).
    pub maintenance: reserve_api::maintenance::MaintenanceConfig,
    /// A call slower than this is logged at warn; zero never warns.
    pub slow_call: Duration,
    /// Calls in progress at most; more are refused RESOURCE_EXHAUSTED.
    pub max_concurrent_calls: usize,
    /// How long owners' private data is kept after settlement.
    pub privacy: reserve_api::compensation::PrivacyConfig,
}

async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in SERVICE_NAMES {
        reporter.set_service_status(name, status).await;
    }
}

/// Reports NOT_SERVING while the database does not answer, SERVING again
/// when it does, until draining starts.
async fn watch_database(
    store: Store,
    reporter: HealthReporter,
    draining: Arc<AtomicBool>,
    every: Duration,
) {
    let mut healthy = true;
    loop {
        tokio::time::sleep(every).await;
        if draining.load(Ordering::SeqCst) {
            return;
        }
        let ok = store.ping().await;
        if draining.load(Ordering::SeqCst) {
            return;
        }
        if ok != healthy {
            healthy = ok;
            if ok {
                tracing::info!("database reachable again; serving");
                set_all(&reporter, ServingStatus::Serving).await;
            } else {
                tracing::error!("database unreachable; reporting NOT_SERVING");
                set_all(&reporter, ServingStatus::NotServing).await;
            }
        }
    }
}

/// Serves on `listener` until `shutdown` resolves, then reports NOT_SERVING,
/// stops accepting calls and waits for in-flight calls to finish. The
/// console page is served at `/` without one-click sign-in.
pub async fn serve<F>(app: App, listener: TcpListener, shutdown: F) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(app, crate::console::Console::new(), listener, shutdown).await
}

/// [`serve`] with the console as given (one-click sign-in for a local run
/// with the development key).
pub async fn serve_with<F>(
    app: App,
    console: crate::console::Console,
    listener: TcpListener,
    shutdown: F,
) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (reporter, health) = tonic_health::server::health_reporter();
    set_all(&reporter, ServingStatus::Serving).await;
    let draining = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_database(
        app.store.clone(),
        reporter.clone(),
        draining.clone(),
        app.health_interval,
    ));

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(reserve_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(reserve_api::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let ctx = Ctx::new(app.store.clone(), app.clock.clone());
    // The event pump: sequences this database's events and feeds this
    // server's subscribers; it ends with the server.
    let hub = EventHub::default();
    let pump = tokio::spawn(hub.clone().pump(
        app.store.clone(),
        app.clock.clone(),
        Duration::from_millis(100),
        Duration::from_secs(30),
    ));
    let _pump_guard = AbortOnDrop(pump);
    let check = auth::interceptor(app.verifier.clone());
    let (fired, drain_started) = tokio::sync::oneshot::channel::<()>();
    let drain = {
        let draining = draining.clone();
        let reporter = reporter.clone();
        let hub = hub.clone();
        shutdown.then(move |_| async move {
            tracing::info!("shutting down: draining in-flight calls");
            draining.store(true, Ordering::SeqCst);
            // Open event streams end now, telling clients where to resume.
            hub.close();
            set_all(&reporter, ServingStatus::NotServing).await;
            let _ = fired.send(());
        })
    };
    let grace = app.drain_timeout;
    let deadline = async move {
        match drain_started.await {
            Ok(()) => tokio::time::sleep(grace).await,
            Err(_) => std::future::pending::<()>().await,
        }
    };

    let server = Server::builder()
        .accept_http1(true)
        .timeout(Duration::from_secs(60))
        // Outermost: the page's plain HTTP GETs never reach grpc-web.
        .layer(console)
        .layer(crate::calllog::CallLogLayer::new(app.slow_call))
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(crate::overload::OverloadLayer::new(
            app.max_concurrent_calls,
        ))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(NetworkServiceServer::with_interceptor(
            NetworkApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(CatalogServiceServer::with_interceptor(
            CatalogApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(AuditServiceServer::with_interceptor(
            AuditApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(StockServiceServer::with_interceptor(
            StockApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(IncidentServiceServer::with_interceptor(
            IncidentApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(AllocationServiceServer::with_interceptor(
            AllocationApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(EnterpriseReserveServiceServer::with_interceptor(
            EnterpriseApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(LeaseServiceServer::with_interceptor(
            LeaseApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(SourcingServiceServer::with_interceptor(
            SourcingApi::new(ctx.clone(), app.sourcing.clone()),
            check.clone(),
        ))
        .add_service(MaintenanceServiceServer::with_interceptor(
            MaintenanceApi::new(ctx.clone(), app.maintenance),
            check.clone(),
        ))
        .add_service(RequisitionServiceServer::with_interceptor(
            RequisitionApi::new(ctx.clone()),
            check.clone(),
        ))
        .add_service(CompensationServiceServer::with_interceptor(
            CompensationApi::new(ctx.clone(), app.privacy),
            check.clone(),
        ))
        .add_service(EventServiceServer::with_interceptor(
            EventApi::new(ctx.clone(), hub),
            check,
        ))
        .serve_with_incoming_shutdown(
            // Small gRPC frames must not wait for delayed ACKs (Nagle).
            TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .with_keepalive(Some(Duration::from_secs(60))),
            drain,
        );
    let result = tokio::select! {
        r = server => r.map_err(anyhow::Error::from),
        () = deadline => {
            tracing::warn!(seconds = grace.as_secs(), "calls still open after the drain deadline; closing them");
            Ok(())
        }
    };
    watcher.abort();
    result?;
    tracing::info!("drained; bye");
    Ok(())
}
