//! What the server offers beside the reserve services: health, reflection,
//! grpc-web, and a graceful shutdown.

use futures::StreamExt;
use prost::Message;
use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::TestApp;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

#[tokio::test]
async fn health_says_serving_for_the_server_and_each_service_without_a_token() {
    let app = TestApp::spawn().await;
    let mut h = HealthClient::new(app.channel.clone());
    for service in [
        "",
        "reserve.v1.NetworkService",
        "reserve.v1.CatalogService",
        "reserve.v1.AuditService",
    ] {
        let r = h
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status(), ServingStatus::Serving, "{service:?}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn reflection_lists_the_reserve_services_in_v1_and_v1alpha() {
    let app = TestApp::spawn().await;
    {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut c = ServerReflectionClient::new(app.channel.clone());
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut stream = c
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap()
            .into_inner();
        let resp = stream.next().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
            panic!("not a service list: {resp:?}");
        };
        let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
        for s in [
            "reserve.v1.NetworkService",
            "reserve.v1.CatalogService",
            "reserve.v1.AuditService",
        ] {
            assert!(names.contains(&s.to_string()), "{s} missing from {names:?}");
        }
    }
    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let mut c = ServerReflectionClient::new(app.channel.clone());
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "reserve.v1.NetworkService".into(),
            )),
        };
        let mut stream = c
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap()
            .into_inner();
        let resp = stream.next().await.unwrap().unwrap();
        let Some(MessageResponse::FileDescriptorResponse(files)) = resp.message_response else {
            panic!("no descriptor: {resp:?}");
        };
        assert!(!files.file_descriptor_proto.is_empty());
    }
    app.stop().await.unwrap();
}

/// A raw grpc-web call over HTTP/1.1, as a browser would make it.
async fn grpc_web(
    app: &TestApp,
    path: &str,
    message: &[u8],
    token: Option<&str>,
) -> (u16, Vec<u8>) {
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/grpc-web+proto\r\n\
         x-grpc-web: 1\r\n{auth}content-length: {}\r\nconnection: close\r\n\r\n",
        app.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, raw)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_browser_can_call_over_grpc_web() {
    let app = TestApp::with_demo().await;
    let health = HealthCheckRequest {
        service: String::new(),
    }
    .encode_to_vec();
    let (status, raw) = grpc_web(&app, "/grpc.health.v1.Health/Check", &health, None).await;
    assert_eq!(status, 200);
    let serving = HealthCheckResponse {
        status: ServingStatus::Serving as i32,
    }
    .encode_to_vec();
    assert!(contains(&raw, &serving));
    assert!(
        contains(&raw, b"grpc-status:0"),
        "{}",
        String::from_utf8_lossy(&raw)
    );

    let t = app.token(&[Role::Auditor], "HB");
    let get = pb::GetDepotRequest {
        code: "HB-SY".into(),
    }
    .encode_to_vec();
    let (status, raw) = grpc_web(&app, "/reserve.v1.NetworkService/GetDepot", &get, Some(&t)).await;
    assert_eq!(status, 200);
    assert!(contains(&raw, "十堰市应急物资储备中心".as_bytes()));
    let (_, raw) = grpc_web(&app, "/reserve.v1.NetworkService/GetDepot", &get, None).await;
    let text = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(
        text.contains("grpc-status: 16") || text.contains("grpc-status:16"),
        "unauthenticated over grpc-web too: {text}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn health_turns_not_serving_when_the_database_goes_away() {
    let app = TestApp::spawn_with(Duration::from_millis(50)).await;
    let mut h = HealthClient::new(app.channel.clone());
    let mut watch = h
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    app.store.close().await;
    let next = tokio::time::timeout(Duration::from_secs(20), watch.next())
        .await
        .expect("health should change within the timeout")
        .unwrap()
        .unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    // Calls now fail as unavailable, not as internal errors.
    let t = app.token(&[Role::Admin], "HB");
    let err = app
        .network(&t)
        .get_depot(pb::GetDepotRequest { code: "HB".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_reports_not_serving_and_finishes_cleanly() {
    let app = TestApp::spawn().await;
    let mut h = HealthClient::new(app.channel.clone());
    let mut watch = h
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );
    let stopping = tokio::spawn(app.stop());
    // The open watch stream sees the drain before the connection closes.
    let drained = tokio::time::timeout(Duration::from_secs(20), watch.next())
        .await
        .expect("the watch should end or change");
    if let Some(Ok(r)) = drained {
        assert_eq!(r.status(), ServingStatus::NotServing);
    }
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("the server should stop")
        .unwrap()
        .unwrap();
}
