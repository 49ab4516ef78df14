//! The Prometheus endpoint: `/metrics` is well-formed Prometheus text, the
//! call counter moves after a call, and the gauges read from the database
//! are there. The recorder is process-wide (one per test binary), so the
//! counter is compared before and after, never to an absolute value.

use reserve_api::pb::reserve::v1 as pb;
use reserve_server::metrics::{Refresh, check_listen, install, refresh, serve};
use reserve_tests::TestApp;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// GET /metrics over a plain HTTP/1.1 connection: the status line and body.
async fn scrape(addr: SocketAddr) -> (String, String) {
    let raw = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        raw
    })
    .await
    .unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_string();
    // The body may be chunked: keep only the exposition lines.
    let body = if head.to_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

/// Parses the exposition format strictly: `# HELP name text`, `# TYPE name
/// kind`, and `name{label="value",...} number` lines, nothing else. Returns
/// every sample by its name and labels.
fn parse(body: &str) -> BTreeMap<String, f64> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    let mut samples = BTreeMap::new();
    for line in body.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut w = rest.splitn(3, ' ');
            let (kw, name, tail) = (w.next().unwrap(), w.next().unwrap(), w.next());
            assert!(name_ok(name), "bad metric name in {line:?}");
            match kw {
                "HELP" => assert!(tail.is_some(), "{line:?}"),
                "TYPE" => assert!(
                    matches!(
                        tail,
                        Some("counter" | "gauge" | "histogram" | "summary" | "untyped")
                    ),
                    "{line:?}"
                ),
                other => panic!("unknown comment {other:?} in {line:?}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let name = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("labels end with }");
                for pair in split_labels(labels) {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    assert!(name_ok(k), "bad label name in {line:?}");
                    assert!(
                        v.starts_with('"') && v.ends_with('"') && v.len() >= 2,
                        "{line:?}"
                    );
                }
                name
            }
            None => series,
        };
        assert!(name_ok(name), "bad metric name in {line:?}");
        samples.insert(series.to_string(), v);
    }
    samples
}

/// Label pairs, split on commas outside quotes.
fn split_labels(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn sample(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    m.get(series).copied().unwrap_or(0.0)
}

/// The sum of the samples of `name` carrying every one of `labels`
/// (`key="value"`), whatever the order of the labels.
fn labelled(m: &BTreeMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    m.iter()
        .filter(|(k, _)| {
            k.split_once('{').is_some_and(|(n, rest)| {
                n == name
                    && labels
                        .iter()
                        .all(|l| split_labels(rest.trim_end_matches('}')).contains(l))
            })
        })
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_and_the_call_counter_moves_after_a_call() {
    let app = TestApp::with_demo_stock().await;
    let handle = install().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, handle.clone(), std::future::pending()));
    let refresher = tokio::spawn(refresh(
        app.store.clone(),
        app.clock.clone(),
        handle,
        Refresh {
            every: Duration::from_millis(200),
            integrity_every: Duration::from_secs(3600),
        },
    ));

    let (status, body) = scrape(addr).await;
    assert!(status.contains(" 200 "), "{status}");
    let before = parse(&body);
    let calls = "reserve_grpc_calls_total";
    let ok = [
        r#"method="/reserve.v1.NetworkService/GetDepot""#,
        r#"code="Ok""#,
    ];
    let mut net = app.network(&app.root_admin());
    net.get_depot(pb::GetDepotRequest {
        code: "HB-SY".into(),
    })
    .await
    .unwrap();
    let missing = net
        .get_depot(pb::GetDepotRequest {
            code: "HB-NOPE".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);

    // The refresher's first round (pool use, open documents, the integrity
    // check at start) lands within a few ticks; wait for it, bounded.
    let mut after = BTreeMap::new();
    for _ in 0..100 {
        after = parse(&scrape(addr).await.1);
        if after.contains_key("reserve_integrity_issues") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        labelled(&after, calls, &ok) >= labelled(&before, calls, &ok) + 1.0,
        "GetDepot OK calls: before {} after {}",
        labelled(&before, calls, &ok),
        labelled(&after, calls, &ok)
    );
    let not_found = [
        r#"method="/reserve.v1.NetworkService/GetDepot""#,
        r#"code="NotFound""#,
    ];
    assert!(labelled(&after, calls, &not_found) >= 1.0, "{after:?}");
    assert!(
        labelled(
            &after,
            "reserve_grpc_call_duration_seconds_count",
            &[r#"method="/reserve.v1.NetworkService/GetDepot""#]
        ) >= 2.0,
        "no latency histogram: {after:?}"
    );
    for gauge in [
        r#"reserve_open_documents{kind="allocation_order"}"#,
        r#"reserve_open_documents{kind="lease"}"#,
        "reserve_stock_lines_expired",
        "reserve_stock_lines_near_expiry",
        "reserve_integrity_issues",
        "reserve_integrity_last_run_timestamp_seconds",
    ] {
        assert!(after.contains_key(gauge), "{gauge} missing: {after:?}");
    }
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("reserve_db_pool_connections{pool=")),
        "{after:?}"
    );
    // The demo stock has expired and near-expiry lots (the README says so).
    assert!(
        sample(&after, "reserve_stock_lines_expired") >= 1.0,
        "{after:?}"
    );
    assert!(
        sample(&after, "reserve_stock_lines_near_expiry") >= 1.0,
        "{after:?}"
    );
    assert_eq!(sample(&after, "reserve_integrity_issues"), 0.0);
    refresher.abort();
    server.abort();
}

#[test]
fn metrics_are_served_beyond_loopback_only_when_allowed() {
    let public: SocketAddr = "0.0.0.0:9464".parse().unwrap();
    let err = check_listen(public, false).unwrap_err().to_string();
    assert!(err.contains("--metrics-allow-remote"), "{err}");
    check_listen(public, true).unwrap();
    check_listen("127.0.0.1:9464".parse().unwrap(), false).unwrap();
    check_listen("[::1]:9464".parse().unwrap(), false).unwrap();
}
