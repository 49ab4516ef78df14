//! The command-centre page (issue 16): served at `/` on the gRPC port from
//! files embedded in the binary, one-click sign-in only with the development
//! key, the committed bundle up to date with its sources, and the page
//! itself in headless Chromium against the demo network.

use crate::allocation::{
    QUILT, ZS, ZS1, approve, dispatch, dispatcher, keeper, line, raise, submit, transfer,
};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::compensation_service_client::CompensationServiceClient;
use reserve_core::authz::Role;
use reserve_tests::TestApp;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn web_dir() -> PathBuf {
    repo().join("services/server/web")
}

/// One plain HTTP/1.1 request; returns the status, the head and the body.
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    host: &str,
) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test]
async fn the_page_is_served_at_the_root_of_the_grpc_port_and_grpc_still_answers() {
    let app = TestApp::with_demo().await;
    let host = app.addr.to_string();
    let (status, head, body) = http(app.addr, "GET", "/", &host).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("content-security-policy"), "{head}");
    assert!(body.contains("应急物资储备指挥中心"), "{body}");
    let (status, head, body) = http(app.addr, "GET", "/app.js", &host).await;
    assert_eq!(status, 200);
    assert!(head.contains("text/javascript"), "{head}");
    let committed = std::fs::read_to_string(web_dir().join("dist/app.js")).unwrap();
    assert!(body == committed, "/app.js is not the committed bundle");
    let (status, _, _) = http(app.addr, "GET", "/app.css", &host).await;
    assert_eq!(status, 200);
    assert_eq!(http(app.addr, "GET", "/no-such-file", &host).await.0, 404);

    // gRPC on the same port is untouched.
    let t = app.token(&[Role::Dispatcher], "HB-SY");
    let d = app
        .network(&t)
        .get_depot(pb::GetDepotRequest {
            code: "HB-SY".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(d.name, "十堰市应急物资储备中心");
}

#[tokio::test]
async fn without_the_development_key_there_is_no_way_to_mint_a_token() {
    // As in production: a configured key, so the console has no minter.
    let app = TestApp::with_demo().await;
    let host = app.addr.to_string();
    assert_eq!(http(app.addr, "GET", "/dev/token", &host).await.0, 404);
    let (status, _, body) = http(app.addr, "POST", "/dev/token?role=admin&scope=HB", &host).await;
    assert_eq!(status, 404);
    assert!(!body.contains('.'), "no token in {body}");
}

#[tokio::test]
async fn with_the_development_key_one_click_mints_a_token_for_this_machine_only() {
    let app = TestApp::with_demo_stock_console(true).await;
    let host = app.addr.to_string();
    assert_eq!(http(app.addr, "GET", "/dev/token", &host).await.0, 204);
    let (status, _, token) = http(
        app.addr,
        "POST",
        "/dev/token?role=dispatcher&scope=HB-SY-ZS",
        &host,
    )
    .await;
    assert_eq!(status, 200, "{token}");
    // The token works, with exactly the scope asked for.
    let depots = app
        .network(token.trim())
        .list_depots(pb::ListDepotsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .depots;
    assert!(!depots.is_empty());
    assert!(depots.iter().all(|d| d.code.starts_with(ZS)), "{depots:?}");

    // A page elsewhere whose name resolves to this machine is refused.
    let (status, _, body) = http(
        app.addr,
        "POST",
        "/dev/token?role=admin&scope=HB",
        "reserve.evil.example:80",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    // Bad roles and scopes are refused, naming the field.
    let (status, _, body) = http(app.addr, "POST", "/dev/token?role=root&scope=HB", &host).await;
    assert_eq!(status, 400);
    assert!(body.contains("role"), "{body}");
    let (status, _, body) = http(
        app.addr,
        "POST",
        "/dev/token?role=admin&scope=hb%20x",
        &host,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("scope"), "{body}");
}

/// Installs the page's npm packages from the committed lock file once per
/// test run, when they are missing.
fn npm_packages() -> PathBuf {
    static ONCE: Mutex<()> = Mutex::new(());
    let _g = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    let web = web_dir();
    let ready = ["esbuild", "buf", "tsc", "protoc-gen-es"]
        .iter()
        .all(|b| web.join("node_modules/.bin").join(b).exists())
        && web
            .join("node_modules/playwright-core/package.json")
            .exists();
    if !ready {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web)
            .output()
            .expect("`npm` is needed for the console tests: install Node.js 20 and npm");
        assert!(
            out.status.success(),
            "npm ci in {} failed:\n{}\n{}",
            web.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    web
}

#[test]
fn the_committed_console_bundle_is_built_from_the_current_sources_and_protos() {
    let web = npm_packages();
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new("node")
        .arg("build.mjs")
        .arg(out_dir.path())
        .current_dir(&web)
        .output()
        .expect("`node` is needed to build the console");
    assert!(
        out.status.success(),
        "the console does not build:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["index.html", "app.js", "app.css"] {
        let built = std::fs::read(out_dir.path().join(f)).unwrap();
        let committed = std::fs::read(web.join("dist").join(f)).unwrap();
        assert!(
            built == committed,
            "services/server/web/dist/{f} is stale: run `npm run build` in services/server/web and commit dist/"
        );
    }
}

fn chromium() -> PathBuf {
    let p = std::env::var_os("RESERVE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.exists(),
        "the console test drives Chromium at {}, which is missing: install it with \
         `apt-get install -y chromium` (Debian) or point RESERVE_CHROMIUM at a Chromium binary",
        p.display()
    );
    p
}

/// Fen as the page shows yuan: ¥1,234.56.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    let whole = (a / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", a % 100)
}

async fn quilts_on_hand(app: &TestApp, token: &str, depot: &str) -> i64 {
    app.stock(token)
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: depot.into(),
            item_id: QUILT.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total
        .unwrap()
        .on_hand
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_the_network_stock_and_a_live_order_in_chromium() {
    let browser = chromium();
    let web = npm_packages();
    let app = TestApp::with_demo_stock_console(true).await;

    // What the API says, for the page to show.
    let admin = app.root_admin();
    let depots = app
        .network(&admin)
        .list_depots(pb::ListDepotsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .depots;
    assert_eq!(depots.len(), 32, "the demo network has 32 depots");
    let quilts = quilts_on_hand(&app, &admin, "HB").await;
    let keeper_token = app.token_for("keeper@zs", &[Role::DepotKeeper], ZS);
    let keeper_depots = depots.iter().filter(|d| d.code.starts_with(ZS)).count();
    assert!(0 < quilts_on_hand(&app, &keeper_token, ZS).await);
    assert!(keeper_depots < depots.len());

    // Compensation still owed in the province, as the finance panel shows it.
    let owed =
        CompensationServiceClient::new(app.authed(Some(&app.token(&[Role::Dispatcher], "HB"))))
            .get_finance_report(pb::GetFinanceReportRequest {
                depot_code: "HB".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .total
            .map_or(0, |t| t.outstanding_fen);

    // An approved order for the page to watch.
    let mut raiser = dispatcher(&app, "liu", ZS);
    let order = raise(
        &mut raiser,
        transfer(
            pb::AllocationPriority::Urgent,
            ZS1,
            vec![line(QUILT, 100, &[(ZS, 100)])],
        ),
    )
    .await;
    submit(&mut raiser, &order.id).await.unwrap();
    approve(&mut dispatcher(&app, "niu", ZS), &order.id)
        .await
        .unwrap();

    let artifacts = repo().join("target/web-artifacts");
    let mut child = Command::new("node")
        .arg("tests/console.mjs")
        .current_dir(&web)
        .env("CONSOLE_URL", format!("http://{}/", app.addr))
        .env("CHROMIUM", &browser)
        .env("ARTIFACTS", &artifacts)
        .env("EXPECT_DEPOTS", depots.len().to_string())
        .env("EXPECT_QUILTS", quilts.to_string())
        .env("ORDER_NUMBER", &order.number)
        .env("KEEPER_TOKEN", &keeper_token)
        .env("EXPECT_KEEPER_DEPOTS", keeper_depots.to_string())
        .env("FOREIGN_DEPOT", "HB-SY-FX")
        .env("EXPECT_OUTSTANDING", yuan(owed))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("`node` is needed for the console test");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });

    let mut seen = Vec::new();
    let run = async {
        while let Some(l) = rx.recv().await {
            eprintln!("console.mjs: {l}");
            if l == "WAIT dispatch" {
                // Another client dispatches while the page watches.
                let o = dispatch(&mut keeper(&app, ZS), &order.id, ZS)
                    .await
                    .unwrap();
                assert_eq!(
                    pb::AllocationState::try_from(o.state).unwrap(),
                    pb::AllocationState::Dispatched
                );
                // The keeper's figure as it stands now the quilts are on the road.
                let keeper_quilts = quilts_on_hand(&app, &keeper_token, ZS).await;
                assert!(0 < keeper_quilts && keeper_quilts < quilts);
                writeln!(stdin, "GO {keeper_quilts}").unwrap();
                stdin.flush().unwrap();
            }
            seen.push(l);
        }
    };
    // A bound so a hung browser fails the test instead of hanging it.
    tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser script did not finish within 4 minutes");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(
        status.success() && seen.iter().any(|l| l == "PASS"),
        "the browser script failed (screenshots in {}):\n{}",
        artifacts.display(),
        seen.join("\n")
    );
    for shot in [
        "01-map.png",
        "02-rollup-quilts.png",
        "04-order-dispatched.png",
        "05-keeper.png",
    ] {
        assert!(artifacts.join(shot).exists(), "{shot} was not saved");
    }
}
