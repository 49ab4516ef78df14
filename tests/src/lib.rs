//! Test harness: a real server on `127.0.0.1:0` over its own fresh database
//! (a temporary SQLite file, or a new PostgreSQL database when
//! `RESERVE_TEST_DATABASE_URL` names a server), with a clock the test
//! controls, real tokens and typed clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reserve_api::auth::{Claims, KeySpec, Minter, TokenRequest, Verifier};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;
use reserve_api::pb::reserve::v1::audit_service_client::AuditServiceClient;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;
use reserve_api::pb::reserve::v1::incident_service_client::IncidentServiceClient;
use reserve_api::pb::reserve::v1::maintenance_service_client::MaintenanceServiceClient;
use reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_core::time::ManualClock;
use reserve_server::App;
use reserve_store::{Store, StoreOptions};
use sqlx::Connection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// Issuer and audience of test tokens (the production defaults).
pub use reserve_api::auth::{DEFAULT_AUDIENCE as AUDIENCE, DEFAULT_ISSUER as ISSUER};

/// 2026-11-28T04:00:00Z (noon in Beijing): where every test clock starts.
pub const T0: i64 = 1_795_838_400_000;

/// Adds a fixed authorization header (or none) to every call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// A channel carrying a token.
pub type Authed = InterceptedService<Channel, Bearer>;

/// Which database backs the test.
#[derive(Debug)]
enum Db {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Db::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop may run inside the test's runtime; use a thread of our own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// The database URL of the backend under test, if PostgreSQL was asked for.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("RESERVE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

async fn fresh_database() -> (Db, String) {
    match postgres_admin_url() {
        Some(admin) => {
            let name = format!("reserve_test_{}", uuid::Uuid::new_v4().simple());
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to RESERVE_TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut c)
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            let url = format!("{base}/{name}");
            (
                Db::Postgres {
                    admin_url: admin,
                    name,
                },
                url,
            )
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/reserve.db?mode=rwc", dir.path().display());
            (Db::Sqlite(dir), url)
        }
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A plain channel (no token).
    pub channel: Channel,
    /// Direct access to the same database, for checks behind the API.
    pub store: Store,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    minter: Minter,
    secret: Vec<u8>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _db: Db,
    url: String,
}

impl TestApp {
    /// A server over an empty (migrated) database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Duration::from_secs(3600)).await
    }

    /// A server over the demo network (depots, items, norms) with empty
    /// depots, so a test owns every unit it sees.
    pub async fn with_demo() -> TestApp {
        let app = Self::spawn().await;
        reserve_server::seed::seed_demo_network(&app.store, T0)
            .await
            .unwrap();
        app
    }

    /// A server over the demo network with its demo stock, as
    /// `reserve-server --seed-demo` starts.
    pub async fn with_demo_stock() -> TestApp {
        let app = Self::spawn().await;
        reserve_server::seed::seed_demo(&app.store, T0)
            .await
            .unwrap();
        app
    }

    /// A server over the demo network with its demo stock whose console
    /// offers one-click sign-in (as on a local run with the development key)
    /// when `dev_login` is set, and only the page otherwise.
    pub async fn with_demo_stock_console(dev_login: bool) -> TestApp {
        let app = Self::spawn_full(
            Duration::from_secs(3600),
            reserve_server::app::DEFAULT_MAX_CONCURRENT_CALLS,
            dev_login,
        )
        .await;
        reserve_server::seed::seed_demo(&app.store, T0)
            .await
            .unwrap();
        app
    }

    /// A server whose health check pings the database every `health_interval`.
    pub async fn spawn_with(health_interval: Duration) -> TestApp {
        Self::spawn_full(
            health_interval,
            reserve_server::app::DEFAULT_MAX_CONCURRENT_CALLS,
            false,
        )
        .await
    }

    /// A server admitting at most `max_concurrent_calls` calls at a time.
    pub async fn spawn_limited(health_interval: Duration, max_concurrent_calls: usize) -> TestApp {
        Self::spawn_full(health_interval, max_concurrent_calls, false).await
    }

    async fn spawn_full(
        health_interval: Duration,
        max_concurrent_calls: usize,
        dev_login: bool,
    ) -> TestApp {
        let (db, url) = fresh_database().await;
        let store = Store::connect(
            &url,
            &StoreOptions {
                max_connections: 8,
                acquire_timeout: Duration::from_secs(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let store = store.with_sealer(
            reserve_store::sealed::Sealer::from_key_text(
                &reserve_store::sealed::Sealer::new_key_line("test-1"),
            )
            .unwrap(),
        );
        let secret: Vec<u8> = format!("test-secret-{}", uuid::Uuid::new_v4()).into_bytes();
        let verifier = Verifier::new(&KeySpec::Hs256(secret.clone()), ISSUER, AUDIENCE).unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let app = App {
            store: store.clone(),
            verifier: Arc::new(verifier),
            clock: clock.clone(),
            health_interval,
            drain_timeout: Duration::from_secs(2),
            sourcing: Default::default(),
            maintenance: Default::default(),
            slow_call: std::time::Duration::from_millis(500),
            max_concurrent_calls,
            privacy: Default::default(),
        };
        let console = if dev_login {
            reserve_server::console::Console::with_dev_login(
                Minter::hs256(&secret, ISSUER, AUDIENCE).unwrap(),
            )
        } else {
            reserve_server::console::Console::new()
        };
        let handle = tokio::spawn(reserve_server::serve_with(
            app,
            console,
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        TestApp {
            addr,
            channel,
            store,
            clock,
            minter: Minter::hs256(&secret, ISSUER, AUDIENCE).unwrap(),
            secret,
            shutdown: Some(tx),
            handle: Some(handle),
            _db: db,
            url: url.clone(),
        }
    }

    /// The database URL the server runs on.
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// A valid token for `subject` with `roles`, scoped to `scope`.
    pub fn token_for(&self, subject: &str, roles: &[Role], scope: &str) -> String {
        self.minter
            .mint(&TokenRequest {
                subject: subject.into(),
                name: subject.into(),
                roles: roles.iter().map(|r| r.claim().to_string()).collect(),
                scope_depot: scope.into(),
                ttl_seconds: 3600,
            })
            .unwrap()
    }

    /// A valid token for a user named after the role and scope.
    pub fn token(&self, roles: &[Role], scope: &str) -> String {
        let who: Vec<&str> = roles.iter().map(|r| r.claim()).collect();
        self.token_for(&format!("{}@{scope}", who.join("+")), roles, scope)
    }

    /// Signs arbitrary claims with the server's key.
    pub fn sign(&self, claims: &Claims) -> String {
        self.minter.mint_claims(claims).unwrap()
    }

    /// Signs arbitrary claims with some other key.
    pub fn sign_with_other_key(&self, claims: &Claims) -> String {
        let mut other = self.secret.clone();
        other.push(b'x');
        Minter::hs256(&other, ISSUER, AUDIENCE)
            .unwrap()
            .mint_claims(claims)
            .unwrap()
    }

    /// A channel that sends `token` (or no token).
    pub fn authed(&self, token: Option<&str>) -> Authed {
        let v = token.map(|t| MetadataValue::try_from(format!("Bearer {t}")).unwrap());
        InterceptedService::new(self.channel.clone(), Bearer(v))
    }

    /// Network client with a token.
    pub fn network(&self, token: &str) -> NetworkServiceClient<Authed> {
        NetworkServiceClient::new(self.authed(Some(token)))
    }

    /// Catalogue client with a token.
    pub fn catalog(&self, token: &str) -> CatalogServiceClient<Authed> {
        CatalogServiceClient::new(self.authed(Some(token)))
    }

    /// Audit client with a token.
    pub fn audit(&self, token: &str) -> AuditServiceClient<Authed> {
        AuditServiceClient::new(self.authed(Some(token)))
    }

    /// Stock client with a token.
    pub fn stock(&self, token: &str) -> StockServiceClient<Authed> {
        StockServiceClient::new(self.authed(Some(token)))
    }

    /// Allocation client with a token.
    pub fn allocation(&self, token: &str) -> AllocationServiceClient<Authed> {
        AllocationServiceClient::new(self.authed(Some(token)))
    }

    /// Maintenance client with a token.
    pub fn maintenance(&self, token: &str) -> MaintenanceServiceClient<Authed> {
        MaintenanceServiceClient::new(self.authed(Some(token)))
    }

    /// Incident client with a token.
    pub fn incident(&self, token: &str) -> IncidentServiceClient<Authed> {
        IncidentServiceClient::new(self.authed(Some(token)))
    }

    /// A second server over the same database, with the same key and clock
    /// reading: two instances behind one PostgreSQL.
    pub async fn twin(&self) -> Twin {
        let store = Store::connect(
            &self.url,
            &StoreOptions {
                max_connections: 8,
                acquire_timeout: Duration::from_secs(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let store = match self.store.sealing() {
            Some(s) => store.with_sealer(s.clone()),
            None => store,
        };
        let verifier =
            Verifier::new(&KeySpec::Hs256(self.secret.clone()), ISSUER, AUDIENCE).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let app = App {
            store: store.clone(),
            verifier: Arc::new(verifier),
            clock: self.clock.clone(),
            health_interval: Duration::from_secs(3600),
            drain_timeout: Duration::from_secs(2),
            sourcing: Default::default(),
            maintenance: Default::default(),
            slow_call: std::time::Duration::from_millis(500),
            max_concurrent_calls: reserve_server::app::DEFAULT_MAX_CONCURRENT_CALLS,
            privacy: Default::default(),
        };
        let handle = tokio::spawn(reserve_server::serve(app, listener, async move {
            let _ = rx.await;
        }));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        Twin {
            channel,
            _shutdown: tx,
            handle,
        }
    }

    /// A depot keeper's stock client at `depot`, as user `who`.
    pub fn keeper(&self, who: &str, depot: &str) -> StockServiceClient<Authed> {
        self.stock(&self.token_for(who, &[Role::DepotKeeper], depot))
    }

    /// Asserts that every balance equals the sum of its ledger entries, both
    /// through the admin RPC and straight from the store.
    pub async fn assert_ledger_consistent(&self) {
        let r = self
            .stock(&self.root_admin())
            .check_ledger_integrity(pb::CheckLedgerIntegrityRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(
            r.issues.is_empty(),
            "ledger integrity issues: {:?}",
            r.issues
        );
        let all = self
            .store
            .check_integrity(&reserve_core::depot::DepotPath::from_stored("/".into()))
            .await
            .unwrap();
        assert!(
            all.issues.is_empty(),
            "ledger integrity issues: {:?}",
            all.issues
        );
    }

    /// An admin client for the whole demo province.
    pub fn root_admin(&self) -> String {
        self.token(&[Role::Admin, Role::Auditor], "HB")
    }

    /// Everything a user could see change, as one comparable value: every
    /// depot, item and norm with its etag, and the length of the audit log.
    pub async fn fingerprint(&self) -> String {
        let t = self.root_admin();
        let mut out = String::new();
        let mut net = self.network(&t);
        let mut token = String::new();
        loop {
            let p = net
                .list_depots(pb::ListDepotsRequest {
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            for d in p.depots {
                out.push_str(&format!("{}:{};", d.code, d.etag));
            }
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        let mut cat = self.catalog(&t);
        let items = cat
            .list_items(pb::ListItemsRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for i in items.items {
            out.push_str(&format!("{}:{};", i.id, i.etag));
        }
        let norms = cat
            .list_reserve_norms(pb::ListReserveNormsRequest {
                depot_code: "HB".into(),
                include_descendants: true,
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        for n in norms.norms {
            out.push_str(&format!("{}/{}:{};", n.depot_code, n.item_id, n.etag));
        }
        let audit = self
            .store
            .count_audit(&reserve_core::depot::DepotCode::parse("HB").unwrap())
            .await;
        out.push_str(&format!("audit={audit:?}"));
        out
    }

    /// Everything a user could see change in the stock of `depot`, as one
    /// comparable value: its stock lines (empty ones too) and assets, the
    /// length of the province's ledger and its newest entry, every
    /// adjustment and scrap application with its status and etag, and the
    /// length of the audit log.
    pub async fn stock_fingerprint(&self, depot: &str) -> String {
        let mut s = self.stock(&self.root_admin());
        let mut out = String::new();
        let mut token = String::new();
        loop {
            let p = s
                .list_stock(pb::ListStockRequest {
                    depot_code: depot.into(),
                    include_empty: true,
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            for l in p.lines {
                let lot = l.lot.map(|l| l.lot_number).unwrap_or_default();
                out.push_str(&format!(
                    "{}/{lot}:{},{},{},{},{}@{:?};",
                    l.item_id,
                    l.on_hand,
                    l.reserved,
                    l.held,
                    l.held_by_documents,
                    l.available,
                    l.update_time
                ));
            }
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        let mut token = String::new();
        loop {
            let p = s
                .list_assets(pb::ListAssetsRequest {
                    depot_code: depot.into(),
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            for a in p.assets {
                out.push_str(&format!(
                    "{}#{}:{}:{};",
                    a.item_id, a.serial_number, a.status, a.holder
                ));
            }
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        let (mut entries, mut newest, mut token) = (0usize, None, String::new());
        loop {
            let p = s
                .list_ledger_entries(pb::ListLedgerEntriesRequest {
                    depot_code: "HB".into(),
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            if newest.is_none() {
                newest = p.entries.first().map(|e| e.id.clone());
            }
            entries += p.entries.len();
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        out.push_str(&format!("ledger={entries}@{newest:?};"));
        let mut token = String::new();
        loop {
            let p = s
                .list_adjustments(pb::ListAdjustmentsRequest {
                    depot_code: "HB".into(),
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            for a in p.adjustments {
                out.push_str(&format!("adj {}:{}:{};", a.id, a.status, a.etag));
            }
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        let mut token = String::new();
        loop {
            let p = s
                .list_scrap_applications(pb::ListScrapApplicationsRequest {
                    depot_code: "HB".into(),
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            for a in p.applications {
                out.push_str(&format!("scrap {}:{}:{};", a.id, a.status, a.etag));
            }
            if p.next_page_token.is_empty() {
                break;
            }
            token = p.next_page_token;
        }
        out.push_str(&format!("audit={}", self.audit_count().await));
        out
    }

    /// How many audit events the whole province has: one per change made.
    pub async fn audit_count(&self) -> i64 {
        self.store
            .count_audit(&reserve_core::depot::DepotCode::parse("HB").unwrap())
            .await
            .unwrap()
    }

    /// Every value of the one text column `sql` selects, read straight from
    /// the database (what a dump or an auditor with SQL would see).
    pub async fn column_text(&self, sql: &str) -> Vec<String> {
        use sqlx::{Connection, Row};
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        let rows = sqlx::query(sql).fetch_all(&mut c).await.unwrap();
        c.close().await.unwrap();
        rows.iter()
            .map(|r| {
                r.try_get::<Option<String>, _>(0)
                    .unwrap()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Runs raw SQL against the server's database, bypassing every rule:
    /// only for tests that must corrupt data to show it is detected.
    pub async fn tamper(&self, sql: &str) {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }

    /// Stops the server (draining in-flight calls) and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let result = match self.handle.take() {
            Some(h) => h.await?,
            None => Ok(()),
        };
        self.store.close().await;
        result
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

/// A second server over a test app's database.
pub struct Twin {
    /// A plain channel to it.
    pub channel: Channel,
    _shutdown: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Twin {
    /// A channel to the twin sending `token`.
    pub fn authed(&self, token: &str) -> Authed {
        let v = MetadataValue::try_from(format!("Bearer {token}")).unwrap();
        InterceptedService::new(self.channel.clone(), Bearer(Some(v)))
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// The field paths named by an INVALID_ARGUMENT status.
pub fn violated_fields(s: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    s.get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// The ErrorInfo reason of a status, if any.
pub fn reason(s: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    s.get_error_details().error_info().map(|i| i.reason.clone())
}

/// A `google.type.Date`.
pub fn date(y: i32, m: i32, d: i32) -> Option<reserve_api::pb::google::r#type::Date> {
    Some(reserve_api::pb::google::r#type::Date {
        year: y,
        month: m,
        day: d,
    })
}

/// A fresh request id.
pub fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A depot message with the fields every depot needs.
pub fn depot(code: &str, tier: pb::Tier, parent: &str, division: &str) -> pb::Depot {
    pb::Depot {
        code: code.into(),
        name: format!("测试储备库 {code}"),
        tier: tier as i32,
        parent_code: parent.into(),
        division_code: division.into(),
        location: Some(pb::Place {
            lat_lng: Some(reserve_api::pb::google::r#type::LatLng {
                latitude: 32.6,
                longitude: 110.8,
            }),
            address: String::new(),
        }),
        ..Default::default()
    }
}

/// A `google.protobuf.Struct` as JSON, whole numbers as integers.
pub fn struct_json(s: &prost_types::Struct) -> serde_json::Value {
    fn value(v: &prost_types::Value) -> serde_json::Value {
        use prost_types::value::Kind;
        match &v.kind {
            None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
            Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
            Some(Kind::NumberValue(n)) if n.fract() == 0.0 => serde_json::Value::from(*n as i64),
            Some(Kind::NumberValue(n)) => serde_json::Value::from(*n),
            Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
            Some(Kind::ListValue(l)) => l.values.iter().map(value).collect(),
            Some(Kind::StructValue(s)) => struct_json(s),
        }
    }
    serde_json::Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value(v)))
            .collect(),
    )
}
