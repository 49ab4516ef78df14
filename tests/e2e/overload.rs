//! Overload: calls beyond the server's limit are refused RESOURCE_EXHAUSTED
//! at once while the admitted ones go through; a call whose deadline has
//! passed is not started; an oversized message is refused
//! RESOURCE_EXHAUSTED. Every refusal changes nothing.

use reserve_api::pb::reserve::v1 as pb;
use reserve_tests::{TestApp, rid};
use sqlx::Connection;
use std::time::Duration;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const ZS: &str = "HB-SY-ZS";
const TARP: &str = "tarpaulin";

fn receipt(qty: i64) -> pb::ReceiveStockRequest {
    pb::ReceiveStockRequest {
        request_id: rid(),
        depot_code: ZS.into(),
        item_id: TARP.into(),
        lot_number: "TP-1".into(),
        quantity: qty,
        document: "RK-2026-001".into(),
        counterparty: "湖北某供应商".into(),
        ..Default::default()
    }
}

async fn on_hand(app: &TestApp) -> i64 {
    app.keeper("keeper", ZS)
        .list_stock(pb::ListStockRequest {
            depot_code: ZS.into(),
            item_id: TARP.into(),
            include_empty: true,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines
        .iter()
        .map(|l| l.on_hand)
        .sum()
}

/// Holds the database's write lock from outside the server until dropped
/// or released, so that admitted writes stay in progress.
enum WriteBlock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteBlock {
    async fn take(url: &str) -> WriteBlock {
        if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut c)
                .await
                .unwrap();
            WriteBlock::Sqlite(c)
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE audit_events IN EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .unwrap();
            WriteBlock::Postgres(c)
        }
    }

    async fn release(self) {
        match self {
            WriteBlock::Sqlite(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
            WriteBlock::Postgres(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_beyond_the_limit_are_refused_at_once_and_the_admitted_ones_succeed() {
    const LIMIT: usize = 4;
    const EXCESS: usize = 12;
    let app = TestApp::spawn_limited(Duration::from_secs(3600), LIMIT).await;
    reserve_server::seed::seed_demo_network(&app.store, reserve_tests::T0)
        .await
        .unwrap();
    let keeper = app.keeper("keeper", ZS);

    // The admitted writes wait on the database's write lock, so they stay
    // in progress while the rest arrive.
    let block = WriteBlock::take(app.database_url()).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..LIMIT + EXCESS {
        let mut k = keeper.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let r = k.receive_stock(receipt(10)).await;
            let _ = tx.send(r.map(|r| r.into_inner()));
        });
    }
    let mut refused = 0;
    let wait = Duration::from_secs(60);
    while refused < EXCESS {
        let r = tokio::time::timeout(wait, rx.recv())
            .await
            .expect("the calls beyond the limit were not refused at once")
            .unwrap();
        let e = r.expect_err("a call beyond the limit succeeded while the limit was held");
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        assert!(e.message().contains("limit of 4"), "{e:?}");
        refused += 1;
    }
    // Health checks are never refused, even at the limit.
    let health = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);

    block.release().await;
    let mut admitted = 0;
    for _ in 0..LIMIT {
        let r = tokio::time::timeout(wait, rx.recv())
            .await
            .expect("an admitted call never finished")
            .unwrap();
        let done = r.expect("an admitted call failed");
        assert!(done.entry.is_some());
        admitted += 1;
    }
    assert_eq!(admitted, LIMIT);
    // Exactly the admitted receipts are in the ledger; the refused ones
    // changed nothing.
    assert_eq!(on_hand(&app).await, 10 * LIMIT as i64);
    // With the limit free again, a call goes through.
    app.keeper("keeper", ZS)
        .receive_stock(receipt(1))
        .await
        .unwrap();
    assert_eq!(on_hand(&app).await, 10 * LIMIT as i64 + 1);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

/// A unary call as raw grpc-web over HTTP/1.1 with a `grpc-timeout`
/// header: tonic's own client would also enforce the deadline itself and
/// could answer first, so this shows what the server alone answers.
async fn call_with_timeout(app: &TestApp, token: &str, message: &[u8], timeout: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /reserve.v1.StockService/ReceiveStock HTTP/1.1\r\nhost: {}\r\n\
         content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n\
         authorization: Bearer {token}\r\ngrpc-timeout: {timeout}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        app.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&raw)
        .to_lowercase()
        .replace(": ", ":")
}

#[tokio::test]
async fn a_call_whose_deadline_has_passed_is_not_started() {
    use prost::Message;
    let app = TestApp::with_demo().await;
    let token = app.token_for("keeper", &[reserve_core::authz::Role::DepotKeeper], ZS);
    let answer = call_with_timeout(&app, &token, &receipt(5).encode_to_vec(), "1n").await;
    assert!(
        answer.contains("grpc-status:4\r\n") || answer.contains("grpc-status:4\n"),
        "DEADLINE_EXCEEDED expected: {answer}"
    );
    assert_eq!(on_hand(&app).await, 0);
    // The same call with time to spare runs.
    let answer = call_with_timeout(&app, &token, &receipt(5).encode_to_vec(), "30S").await;
    assert!(answer.contains("grpc-status:0"), "{answer}");
    assert_eq!(on_hand(&app).await, 5);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_message_above_four_mebibytes_is_refused_resource_exhausted() {
    let app = TestApp::with_demo().await;
    let before = app.audit_count().await;
    let mut big = receipt(5);
    big.counterparty = "x".repeat(reserve_server::overload::MAX_REQUEST_BYTES + 1);
    let e = app
        .keeper("keeper", ZS)
        .receive_stock(big)
        .await
        .expect_err("an oversized message must be refused");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert_eq!(on_hand(&app).await, 0);
    assert_eq!(app.audit_count().await, before);
    // Just under the limit is decoded and judged on its merits (a
    // counterparty that long breaks a field rule, not the size limit).
    let mut large = receipt(5);
    large.counterparty = "x".repeat(1024 * 1024);
    let e = app
        .keeper("keeper", ZS)
        .receive_stock(large)
        .await
        .expect_err("a megabyte counterparty is not a counterparty");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    app.stop().await.unwrap();
}
