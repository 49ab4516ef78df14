//! The `reserve-server` binary as a new user runs it: no configuration,
//! SQLite in the working directory, the demo network, a development key;
//! and as an operator stops it: SIGTERM drains and exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_serving(port: u16) -> tonic::transport::Channel {
    // Bounded: the binary migrates and seeds before it listens.
    for _ in 0..300 {
        if let Ok(ch) = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            let mut h = HealthClient::new(ch.clone());
            if let Ok(r) = h
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                && r.into_inner().status() == ServingStatus::Serving
            {
                return ch;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start serving within 30 s");
}

#[tokio::test]
async fn the_readme_run_command_serves_the_demo_network_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_reserve-server"))
            .arg("--seed-demo")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RESERVE_LISTEN", format!("127.0.0.1:{port}"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ch = wait_until_serving(port).await;
    assert!(
        dir.path().join("reserve.db").exists(),
        "the database file is created in the working directory"
    );
    let key = dir.path().join("reserve-dev.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Reflection lists the reserve services, so grpcurl works without protos.
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut r = ServerReflectionClient::new(ch.clone());
    let mut s = r
        .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        s.next().await.unwrap().unwrap().message_response
    else {
        panic!("no service list");
    };
    assert!(
        list.service
            .iter()
            .any(|s| s.name == "reserve.v1.NetworkService")
    );

    // A token minted from the development key is accepted.
    let secret = reserve_api::devkey::read(&key).unwrap();
    let token = reserve_api::auth::Minter::hs256(&secret, "reserve-dev", "reserve.v1")
        .unwrap()
        .mint(&reserve_api::auth::TokenRequest {
            subject: "readme".into(),
            name: "readme".into(),
            roles: vec!["auditor".into()],
            scope_depot: "HB".into(),
            ttl_seconds: 60,
        })
        .unwrap();
    let v: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let mut net = reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient::with_interceptor(
        ch,
        move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", v.clone());
            Ok(req)
        },
    );
    let sy = net
        .get_depot(reserve_api::pb::reserve::v1::GetDepotRequest {
            code: "HB-SY".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(sy.name, "十堰市应急物资储备中心");

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || {
        let s = server.0.wait().unwrap();
        std::mem::forget(server);
        s
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM drains and exits 0");
}

#[test]
fn without_a_key_the_server_refuses_postgres_and_public_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_reserve-server"))
            .args(args)
            .env_clear()
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[
        "--database-url",
        "postgres://postgres@127.0.0.1:5432/postgres",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without a token key"));
    let out = run(&["--listen", "0.0.0.0:0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without a token key"));
    assert!(
        !dir.path().join("reserve-dev.key").exists(),
        "no key is created when refusing"
    );
}

/// The database a test runs the binary on: a SQLite file in `dir`, or a
/// fresh PostgreSQL database (made and dropped with `psql`) when
/// `RESERVE_TEST_DATABASE_URL` names a PostgreSQL server.
struct Database {
    url: String,
    postgres: Option<(String, String)>,
}

impl Database {
    fn new(dir: &std::path::Path) -> Database {
        match std::env::var("RESERVE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin) => {
                let name = format!("reserve_bin_{}_{}", std::process::id(), uuid_like());
                run_ok(Command::new("psql").args([
                    admin.as_str(),
                    "-qc",
                    &format!("CREATE DATABASE \"{name}\""),
                ]));
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Database {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin.clone(), name)),
                }
            }
            None => Database {
                url: format!("sqlite://{}/reserve.db", dir.display()),
                postgres: None,
            },
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            let _ = Command::new("psql")
                .args([
                    admin.as_str(),
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// Runs a command that must succeed (the `openssl` tool), returning stdout.
fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Base64url without padding, as JWTs use.
fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A key pair made by `openssl genpkey`: (private PEM file, public PEM file).
fn key_pair(dir: &std::path::Path, name: &str, algorithm: &[&str]) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    run_ok(
        Command::new("openssl")
            .arg("genpkey")
            .args(algorithm)
            .arg("-out")
            .arg(&private),
    );
    run_ok(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public),
    );
    (private, public)
}

/// A token for an auditor of the whole province, signed with `openssl`:
/// RS256 or EdDSA with the private key in `key`, or HS256 keyed with the
/// bytes of `key`.
fn token(dir: &std::path::Path, alg: &str, key: &std::path::Path) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = reserve_api::auth::Claims {
        sub: "issuer-test".into(),
        name: "签发测试".into(),
        roles: vec!["auditor".into()],
        scope_depot: "HB".into(),
        iss: reserve_api::auth::DEFAULT_ISSUER.into(),
        aud: reserve_api::auth::DEFAULT_AUDIENCE.into(),
        exp: now + 600,
        nbf: None,
        iat: Some(now),
    };
    let input = format!(
        "{}.{}",
        b64url(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()),
        b64url(&serde_json::to_vec(&claims).unwrap())
    );
    let file = dir.join(format!("signing-input-{}", uuid_like()));
    std::fs::write(&file, &input).unwrap();
    let signature = match alg {
        "RS256" => run_ok(
            Command::new("openssl")
                .args(["dgst", "-sha256", "-sign"])
                .arg(key)
                .arg(&file),
        ),
        "EdDSA" => run_ok(
            Command::new("openssl")
                .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
                .arg(key)
                .arg("-in")
                .arg(&file),
        ),
        "HS256" => {
            let hex: String = std::fs::read(key)
                .unwrap()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            run_ok(
                Command::new("openssl")
                    .args(["dgst", "-sha256", "-binary", "-mac", "HMAC", "-macopt"])
                    .arg(format!("hexkey:{hex}"))
                    .arg(&file),
            )
        }
        other => panic!("no signer for {other}"),
    };
    format!("{input}.{}", b64url(&signature))
}

/// A name no other call of this process uses.
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

/// The code of a catalogue read made with `token`.
async fn list_items_with(ch: tonic::transport::Channel, token: &str) -> tonic::Code {
    let v: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let mut cat =
        reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient::with_interceptor(
            ch,
            move |mut req: tonic::Request<()>| {
                req.metadata_mut().insert("authorization", v.clone());
                Ok(req)
            },
        );
    match cat
        .list_items(reserve_api::pb::reserve::v1::ListItemsRequest::default())
        .await
    {
        Ok(_) => tonic::Code::Ok,
        Err(s) => s.code(),
    }
}

/// A private-data key file (mode 0600) in `dir`, as an operator configures
/// one on PostgreSQL.
fn private_key(dir: &std::path::Path) -> PathBuf {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("private.key");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    f.write_all(b"test-1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
        .unwrap();
    path
}

/// Starts the binary on `db` with the issuer's public key.
fn serve_with_public_key(
    db: &Database,
    dir: &std::path::Path,
    port: u16,
    key: &std::path::Path,
    alg: &str,
) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_reserve-server"))
            .args(["--database-url", &db.url])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--jwt-public-key-file")
            .arg(key)
            .args(["--jwt-algorithm", alg])
            .arg("--private-data-key-file")
            .arg(private_key(dir))
            .env_clear()
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Serves with the public key of a fresh `genpkey` key pair configured as
/// `--jwt-algorithm alg`; `jwt_alg` is the JWT header's name for it.
async fn a_public_key_server_accepts_only_its_issuers_tokens(
    alg: &str,
    jwt_alg: &str,
    algorithm: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let (issuer, issuer_pub) = key_pair(dir.path(), "issuer", algorithm);
    let (other, _) = key_pair(dir.path(), "other", algorithm);
    let db = Database::new(dir.path());
    let port = free_port();
    let _server = serve_with_public_key(&db, dir.path(), port, &issuer_pub, alg);
    let ch = wait_until_serving(port).await;
    let good = token(dir.path(), jwt_alg, &issuer);
    assert_eq!(
        list_items_with(ch.clone(), &good).await,
        tonic::Code::Ok,
        "a token signed by the issuer's key"
    );
    let forged = token(dir.path(), jwt_alg, &other);
    assert_eq!(
        list_items_with(ch.clone(), &forged).await,
        tonic::Code::Unauthenticated,
        "a token signed by another key"
    );
    // The public key is public: an HS256 token keyed with it is refused.
    let confused = token(dir.path(), "HS256", &issuer_pub);
    assert_eq!(
        list_items_with(ch, &confused).await,
        tonic::Code::Unauthenticated,
        "an HS256 token keyed with the public key"
    );
    assert!(
        !dir.path().join("reserve-dev.key").exists(),
        "no development key is made when a key is configured"
    );
}

#[tokio::test]
async fn with_an_rs256_public_key_the_server_accepts_tokens_of_that_key_only() {
    a_public_key_server_accepts_only_its_issuers_tokens(
        "rs256",
        "RS256",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    )
    .await;
}

#[tokio::test]
async fn with_an_eddsa_public_key_the_server_accepts_tokens_of_that_key_only() {
    a_public_key_server_accepts_only_its_issuers_tokens(
        "eddsa",
        "EdDSA",
        &["-algorithm", "ed25519"],
    )
    .await;
}

#[test]
fn seed_demo_then_check_finds_every_balance_matching_its_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::new(dir.path());
    let run = |command: &str| {
        Command::new(env!("CARGO_BIN_EXE_reserve-server"))
            .args([command, "--database-url", &db.url])
            .env_clear()
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let seeded = run("seed-demo");
    let said = String::from_utf8_lossy(&seeded.stdout);
    assert!(
        seeded.status.success(),
        "seed-demo failed: {said}{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    assert!(said.contains("demo network ready"), "{said}");
    let checked = run("check");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "check failed: {said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(said.contains("every balance matches the ledger"), "{said}");
    assert!(!said.contains("MISMATCH"), "{said}");
}

#[tokio::test]
async fn sigint_drains_and_exits_zero_saying_it_is_shutting_down() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::new(dir.path());
    // A configured key, which PostgreSQL needs.
    let secret = dir.path().join("hs256.secret");
    std::fs::write(&secret, "a-shared-secret-of-more-than-32-characters").unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reserve-server"))
        .args(["--database-url", &db.url])
        .arg("--jwt-hs256-secret-file")
        .arg(&secret)
        .arg("--private-data-key-file")
        .arg(private_key(dir.path()))
        .env_clear()
        .env("RESERVE_LISTEN", format!("127.0.0.1:{port}"))
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log as it comes, so a full pipe never blocks the server.
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let logs = [
        read(Box::new(child.stdout.take().unwrap())),
        read(Box::new(child.stderr.take().unwrap())),
    ];
    let mut server = Server(child);
    wait_until_serving(port).await;
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || server.0.wait().unwrap())
        .await
        .unwrap();
    let log: String = logs.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(status.code(), Some(0), "SIGINT drains and exits 0: {log}");
    assert!(log.contains("shutting down"), "{log}");
}

/// A token for the keeper of the city depot of the demo network, minted
/// from the development key beside the database.
fn keeper_token(key: &std::path::Path) -> String {
    let secret = reserve_api::devkey::read(key).unwrap();
    reserve_api::auth::Minter::hs256(&secret, "reserve-dev", "reserve.v1")
        .unwrap()
        .mint(&reserve_api::auth::TokenRequest {
            subject: "backup-test".into(),
            name: "backup-test".into(),
            roles: vec!["depot_keeper".into()],
            scope_depot: "HB-SY".into(),
            ttl_seconds: 600,
        })
        .unwrap()
}

type StockClient = reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send>,
    >,
>;

fn stock_client(ch: tonic::transport::Channel, token: &str) -> StockClient {
    let v: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient::with_interceptor(
        ch,
        Box::new(move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", v.clone());
            Ok(req)
        }),
    )
}

/// Starts the binary with the development key on the SQLite file `db`.
fn serve_sqlite(dir: &std::path::Path, db: &std::path::Path, port: u16, seed: bool) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reserve-server"));
    if seed {
        cmd.arg("--seed-demo");
    }
    Server(
        cmd.arg("--database-url")
            .arg(format!("sqlite://{}", db.display()))
            .env_clear()
            .env("RESERVE_LISTEN", format!("127.0.0.1:{port}"))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Runs a `reserve-server` command to completion.
async fn command(dir: &std::path::Path, args: Vec<String>) -> std::process::Output {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_reserve-server"))
            .args(&args)
            .env_clear()
            .current_dir(dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_write_load_restores_every_receipt_acknowledged_before_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live").join("reserve.db");
    std::fs::create_dir_all(live.parent().unwrap()).unwrap();
    let live_url = format!("sqlite://{}", live.display());
    let port = free_port();
    let mut server = serve_sqlite(dir.path(), &live, port, true);
    let ch = wait_until_serving(port).await;
    let token = keeper_token(&live.parent().unwrap().join("reserve-dev.key"));

    // Four clients post 200 receipts, one lot each; every acknowledgement
    // notes whether the backup had already started when it arrived.
    const RECEIPTS: usize = 200;
    let started = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let before = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..4 {
        let mut stock = stock_client(ch.clone(), &token);
        let (started, acked, before) = (started.clone(), acked.clone(), before.clone());
        workers.push(tokio::spawn(async move {
            for n in (w..RECEIPTS).step_by(4) {
                stock
                    .receive_stock(reserve_api::pb::reserve::v1::ReceiveStockRequest {
                        request_id: format!("backup-load-{n}"),
                        depot_code: "HB-SY".into(),
                        item_id: "tent-12m2".into(),
                        lot_number: format!("BK-{n:04}"),
                        quantity: 1,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                if !started.load(Ordering::SeqCst) {
                    before.lock().unwrap().push(format!("BK-{n:04}"));
                }
                acked.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    while acked.load(Ordering::SeqCst) < 60 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let backup = dir.path().join("reserve-backup.db");
    started.store(true, Ordering::SeqCst);
    let out = command(
        dir.path(),
        vec![
            "backup".into(),
            "--database-url".into(),
            live_url.clone(),
            "--to".into(),
            backup.display().to_string(),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "backup failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for w in workers {
        w.await.unwrap();
    }
    let must_have = before.lock().unwrap().clone();
    assert!(must_have.len() >= 60);

    let again = command(
        dir.path(),
        vec![
            "backup".into(),
            "--database-url".into(),
            live_url.clone(),
            "--to".into(),
            backup.display().to_string(),
        ],
    )
    .await;
    assert!(!again.status.success(), "a second backup to the same file");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let busy = command(
        dir.path(),
        vec![
            "restore".into(),
            "--database-url".into(),
            live_url.clone(),
            "--from".into(),
            backup.display().to_string(),
        ],
    )
    .await;
    assert!(!busy.status.success(), "restore under a running server");
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&busy.stderr)
    );

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || {
        let s = server.0.wait().unwrap();
        std::mem::forget(server);
        s
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(0));

    let restored = dir.path().join("restored").join("reserve.db");
    let out = command(
        dir.path(),
        vec![
            "restore".into(),
            "--database-url".into(),
            format!("sqlite://{}", restored.display()),
            "--from".into(),
            backup.display().to_string(),
        ],
    )
    .await;
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "restore failed: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("every balance matches the ledger"), "{said}");

    let port = free_port();
    let _restored_server = serve_sqlite(dir.path(), &restored, port, false);
    let ch = wait_until_serving(port).await;
    let token = keeper_token(&restored.parent().unwrap().join("reserve-dev.key"));
    let mut stock = stock_client(ch, &token);
    let mut lots = std::collections::HashSet::new();
    let mut page_token = String::new();
    loop {
        let page = stock
            .list_stock(reserve_api::pb::reserve::v1::ListStockRequest {
                depot_code: "HB-SY".into(),
                item_id: "tent-12m2".into(),
                page_size: 1000,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        lots.extend(
            page.lines
                .into_iter()
                .filter_map(|l| l.lot.map(|l| l.lot_number)),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let missing: Vec<_> = must_have.iter().filter(|l| !lots.contains(*l)).collect();
    assert!(
        missing.is_empty(),
        "receipts acknowledged before the backup are missing: {missing:?}"
    );
}

#[tokio::test]
async fn every_call_leaves_one_json_log_line_with_method_code_and_caller_and_never_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reserve-server"))
        .args([
            "--seed-demo",
            "--log-format",
            "json",
            "--slow-call-ms",
            "60000",
        ])
        .env_clear()
        .env("RESERVE_LISTEN", format!("127.0.0.1:{port}"))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let logs = [
        read(Box::new(child.stdout.take().unwrap())),
        read(Box::new(child.stderr.take().unwrap())),
    ];
    let mut server = Server(child);
    let ch = wait_until_serving(port).await;
    let token = keeper_token(&dir.path().join("reserve-dev.key"));

    assert_eq!(list_items_with(ch.clone(), &token).await, tonic::Code::Ok);
    assert_eq!(
        list_items_with(ch.clone(), "not-a-token").await,
        tonic::Code::Unauthenticated
    );
    // A write: its body's request id is on its line.
    stock_client(ch.clone(), &token)
        .receive_stock(reserve_api::pb::reserve::v1::ReceiveStockRequest {
            request_id: "log-body-rid-1".into(),
            depot_code: "HB-SY".into(),
            item_id: "tent-12m2".into(),
            lot_number: "LOG-1".into(),
            quantity: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let v: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let mut net = reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient::with_interceptor(
        ch,
        move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", v.clone());
            req.metadata_mut()
                .insert("x-request-id", "log-test-1".parse().unwrap());
            Ok(req)
        },
    );
    let missing = net
        .get_depot(reserve_api::pb::reserve::v1::GetDepotRequest {
            code: "HB-NOPE".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::task::spawn_blocking(move || server.0.wait().unwrap())
        .await
        .unwrap();
    let log: String = logs.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(!log.contains(&token), "the token reached the log");
    assert!(!log.contains("Bearer"), "a bearer string reached the log");
    let calls: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "reserve::call")
        .collect();
    let of = |method: &str| -> Vec<&serde_json::Value> {
        calls.iter().filter(|v| v["method"] == method).collect()
    };
    let items = of("/reserve.v1.CatalogService/ListItems");
    assert_eq!(items.len(), 2, "{calls:?}");
    assert!(items.iter().any(|v| v["code"] == "Ok"
        && v["subject"] == "backup-test"
        && v["scope"] == "HB-SY"
        && v["level"] == "INFO"));
    assert!(
        items
            .iter()
            .any(|v| v["code"] == "Unauthenticated" && v["subject"] == "")
    );
    let depot = of("/reserve.v1.NetworkService/GetDepot");
    assert_eq!(depot.len(), 1, "{calls:?}");
    assert_eq!(depot[0]["code"], "NotFound");
    assert_eq!(depot[0]["request_id"], "log-test-1");
    assert_eq!(depot[0]["body_request_id"], "");
    assert!(depot[0]["latency_ms"].as_f64().is_some());
    let receipt = of("/reserve.v1.StockService/ReceiveStock");
    assert_eq!(receipt.len(), 1, "{calls:?}");
    assert_eq!(receipt[0]["code"], "Ok");
    assert_eq!(receipt[0]["body_request_id"], "log-body-rid-1");
    assert!(!log.contains("LOG-1"), "a request body reached the log");
}
