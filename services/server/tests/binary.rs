//! The `reserve-server` binary as a new user runs it: no configuration,
//! SQLite in the working directory, the demo network, a development key;
//! and as an operator stops it: SIGTERM drains and exits 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::StreamExt;
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
