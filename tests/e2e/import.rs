//! `reservectl import`: a depot's opening stock from CSV and Excel, and a
//! province's depots, items and norms, run with the real binary against a
//! real server.

use super::cli::reservectl_path;
use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::TestApp;
use std::path::Path;
use std::process::Command;

/// What one run of `reservectl` did.
struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn reservectl(app: &TestApp, token: &str, dir: &Path, args: &[&str]) -> Out {
    let mut cmd = Command::new(reservectl_path());
    cmd.current_dir(dir)
        .env_remove("RESERVE_TOKEN")
        .env_remove("RESERVE_SERVER")
        .env_remove("RESERVE_TOKEN_FILE")
        .args([
            "--server",
            &format!("http://{}", app.addr),
            "--token",
            token,
        ])
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run reservectl");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The opening stock of the tests: quilts in one lot over two rows, water
/// named by its catalogue code with an explicit expiry, and two generators
/// by serial number.
const HEADER: [&str; 8] = [
    "item",
    "lot",
    "quantity",
    "production_date",
    "expiry_date",
    "manufacturer",
    "funding",
    "serials",
];
const ROWS: [[&str; 8]; 4] = [
    [
        "quilt-cotton",
        "QC-OPEN-1",
        "120",
        "2026-09-01",
        "",
        "湖北某纺织公司",
        "budget",
        "",
    ],
    [
        "1060101",
        "WB-OPEN-1",
        "1,000",
        "",
        "2027-06-30",
        "",
        "donation",
        "",
    ],
    [
        "quilt-cotton",
        "QC-OPEN-1",
        "30",
        "2026-09-01",
        "",
        "湖北某纺织公司",
        "budget",
        "",
    ],
    [
        "generator-5kw",
        "GEN-OPEN",
        "2",
        "",
        "",
        "",
        "",
        "GO-0001; GO-0002",
    ],
];

fn csv_of(header: &[&str], rows: &[Vec<&str>]) -> String {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .map(|c| {
                if c.contains(',') {
                    format!("\"{c}\"")
                } else {
                    c.to_string()
                }
            })
            .collect();
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

fn rows() -> Vec<Vec<&'static str>> {
    ROWS.iter().map(|r| r.to_vec()).collect()
}

/// The same rows as an Excel workbook, dates as real Excel dates and
/// quantities as numbers, the way a keeper's spreadsheet holds them.
fn write_xlsx(path: &Path, serials: &str) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in ROWS.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            if cell.is_empty() {
                continue;
            }
            if HEADER[c as usize] == "serials" {
                sheet.write_string(r, c, serials).unwrap();
            } else if HEADER[c as usize].ends_with("_date") {
                let d = ExcelDateTime::parse_from_str(cell).unwrap();
                sheet.write_datetime_with_format(r, c, &d, &day).unwrap();
            } else if HEADER[c as usize] == "quantity" {
                let n: f64 = cell.replace(',', "").parse().unwrap();
                sheet.write_number(r, c, n).unwrap();
            } else {
                sheet.write_string(r, c, *cell).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

/// Every ledger entry at `depot`, oldest first: type, item, lot, quantity.
async fn ledger(app: &TestApp, depot: &str) -> Vec<(i32, String, String, i64)> {
    let mut s = app.stock(&app.root_admin());
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let p = s
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                depot_code: depot.into(),
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(
            p.entries
                .into_iter()
                .map(|e| (e.entry_type, e.item_id, e.lot_number, e.quantity)),
        );
        if p.next_page_token.is_empty() {
            break;
        }
        token = p.next_page_token;
    }
    out.reverse();
    out
}

/// The stock lines of `depot`: item, lot, on hand, expiry.
async fn stock(app: &TestApp, depot: &str) -> Vec<(String, String, i64, String)> {
    let lines = app
        .stock(&app.root_admin())
        .list_stock(pb::ListStockRequest {
            depot_code: depot.into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    let mut out: Vec<_> = lines
        .into_iter()
        .map(|l| {
            let lot = l.lot.unwrap_or_default();
            let exp = lot
                .expiry_date
                .map(|d| format!("{}-{:02}-{:02}", d.year, d.month, d.day))
                .unwrap_or_default();
            (l.item_id, lot.lot_number, l.on_hand, exp)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opening_stock_file_posts_each_row_once_and_a_second_run_posts_nothing() {
    let app = TestApp::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opening.csv");
    std::fs::write(&file, csv_of(&HEADER, &rows())).unwrap();
    let keeper = app.token_for("wang", &[Role::DepotKeeper], "HB-SY-ZS-01");

    // A dry run checks and shows, and posts nothing.
    let dry = reservectl(
        &app,
        &keeper,
        dir.path(),
        &["import", "stock", "opening.csv", "--dry-run"],
    )
    .await;
    assert!(dry.ok, "{}", dry.stderr);
    assert!(dry.stdout.contains("4 rows are valid"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("quilt-cotton: 150 units"),
        "{}",
        dry.stdout
    );
    assert!(ledger(&app, "HB-SY-ZS-01").await.is_empty());

    let first = reservectl(
        &app,
        &keeper,
        dir.path(),
        &["-o", "json", "import", "stock", "opening.csv"],
    )
    .await;
    assert!(first.ok, "{}", first.stderr);
    let v: serde_json::Value = serde_json::from_str(first.stdout.trim()).unwrap();
    assert_eq!(v["posted"], 4, "{v}");
    assert_eq!(v["alreadyPosted"], 0, "{v}");
    let opening = pb::EntryType::OpeningBalance as i32;
    let mut posted = ledger(&app, "HB-SY-ZS-01").await;
    posted.sort();
    assert_eq!(
        posted,
        vec![
            (opening, "generator-5kw".into(), "GEN-OPEN".into(), 2),
            (opening, "quilt-cotton".into(), "QC-OPEN-1".into(), 30),
            (opening, "quilt-cotton".into(), "QC-OPEN-1".into(), 120),
            (opening, "water-bottled".into(), "WB-OPEN-1".into(), 1000),
        ]
    );
    // Serial numbers became assets in stock at the depot.
    let mut s = app.stock(&app.root_admin());
    for serial in ["GO-0001", "GO-0002"] {
        let a = s
            .get_asset(pb::GetAssetRequest {
                item_id: "generator-5kw".into(),
                serial_number: serial.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .asset
            .unwrap();
        assert_eq!(a.depot_code, "HB-SY-ZS-01");
        assert_eq!(a.lot_number, "GEN-OPEN");
        assert_eq!(a.status, pb::AssetStatus::InStock as i32);
    }
    // The ledger history shows the entry type by name.
    let hist = reservectl(
        &app,
        &keeper,
        dir.path(),
        &["stock", "ledger", "--type", "opening-balance"],
    )
    .await;
    assert!(hist.ok, "{}", hist.stderr);
    assert!(hist.stdout.contains("opening-balance"), "{}", hist.stdout);

    let again = reservectl(
        &app,
        &keeper,
        dir.path(),
        &["import", "stock", "opening.csv"],
    )
    .await;
    assert!(again.ok, "{}", again.stderr);
    assert!(
        again.stdout.contains("0 posted") && again.stdout.contains("4 already posted"),
        "{}",
        again.stdout
    );
    assert_eq!(ledger(&app, "HB-SY-ZS-01").await.len(), 4);
    app.assert_ledger_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_bad_rows_reports_every_one_and_posts_nothing() {
    let app = TestApp::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let keeper = app.token_for("wang", &[Role::DepotKeeper], "HB-SY-ZS-01");
    // Row 2 is fine; rows 3 to 9 each break a rule, one of them (row 6, a
    // lot already expired) one only the server can tell.
    let bad = vec![
        ROWS[0].to_vec(),
        vec!["no-such-item", "X-1", "5", "", "", "", "", ""],
        vec!["quilt-cotton", "QC-2", "-3", "2026-09-01", "", "", "", ""],
        vec!["water-bottled", "WB-2", "10", "2026-13-01", "", "", "", ""],
        vec![
            "water-bottled",
            "WB-OLD",
            "10",
            "",
            "2025-01-31",
            "",
            "",
            "",
        ],
        vec!["generator-5kw", "GEN-X", "", "", "", "", "", ""],
        vec![
            "quilt-cotton",
            "QC-OPEN-1",
            "5",
            "2026-08-01",
            "",
            "湖北某纺织公司",
            "budget",
            "",
        ],
        vec!["quilt-cotton", "QC-3", "5", "", "", "", "gift", ""],
    ];
    std::fs::write(dir.path().join("bad.csv"), csv_of(&HEADER, &bad)).unwrap();
    let before = app.stock_fingerprint("HB-SY-ZS-01").await;
    let out = reservectl(&app, &keeper, dir.path(), &["import", "stock", "bad.csv"]).await;
    assert!(!out.ok, "{}", out.stdout);
    let err = out.stderr;
    for expected in [
        "row 3, column item: no item has the id or code \"no-such-item\"",
        "row 4, column quantity: must be from 1",
        "row 5, column production_date: \"2026-13-01\" is not a date",
        "row 6, column lot: LOT_EXPIRED",
        "row 7, column serials: generator-5kw is tracked by serial number",
        "row 9, column funding: \"gift\" is not one of",
        "row 8, column production_date: differs from row 2 of the same lot QC-OPEN-1",
        "nothing was posted",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(!err.contains("row 2,"), "{err}");
    assert_eq!(app.stock_fingerprint("HB-SY-ZS-01").await, before);
    assert!(ledger(&app, "HB-SY-ZS-01").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excel_and_csv_files_of_the_same_rows_post_the_same_stock() {
    let app = TestApp::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("opening.csv"), csv_of(&HEADER, &rows())).unwrap();
    // A serial number is one asset across the network: the workbook's
    // generators carry their own.
    write_xlsx(&dir.path().join("opening.xlsx"), "GX-0001;GX-0002");
    let a = app.token_for("wang", &[Role::DepotKeeper], "HB-SY-ZS-01");
    let b = app.token_for("ma", &[Role::DepotKeeper], "HB-SY-FX-01");
    let from_csv = reservectl(&app, &a, dir.path(), &["import", "stock", "opening.csv"]).await;
    assert!(from_csv.ok, "{}", from_csv.stderr);
    let from_xlsx = reservectl(&app, &b, dir.path(), &["import", "stock", "opening.xlsx"]).await;
    assert!(from_xlsx.ok, "{}", from_xlsx.stderr);
    assert!(
        from_xlsx.stdout.contains("4 posted"),
        "{}",
        from_xlsx.stdout
    );
    let zs = stock(&app, "HB-SY-ZS-01").await;
    let fx = stock(&app, "HB-SY-FX-01").await;
    assert_eq!(zs, fx);
    assert_eq!(zs.len(), 3, "{zs:?}");
    assert!(zs.contains(&(
        "water-bottled".into(),
        "WB-OPEN-1".into(),
        1000,
        "2027-06-30".into()
    )));
    let a = app
        .stock(&app.root_admin())
        .get_asset(pb::GetAssetRequest {
            item_id: "generator-5kw".into(),
            serial_number: "GX-0002".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .asset
        .unwrap();
    assert_eq!(a.depot_code, "HB-SY-FX-01");
    app.assert_ledger_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_province_loads_its_items_depots_and_norms_from_sheets() {
    let app = TestApp::with_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = app.token_for("admin", &[Role::Admin], "HB");
    std::fs::write(
        dir.path().join("items.csv"),
        "id,code,name,specification,unit,tracking,shelf_life_days,recoverable,unit_value_fen\n\
         lamp-solar,2030101,太阳能照明灯,20瓦,台,lot,0,yes,35000\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("depots.csv"),
        "code,name,tier,parent_code,division_code,latitude,longitude,address,owning_tier,contacts\n\
         HB-SY-ZS-09,竹山县测试镇应急物资储备点,township,HB-SY-ZS,420323109,32.2,110.2,竹山县测试镇,county,\"李四,值班员,13800000000\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("norms.csv"),
        "depot_code,item,minimum,target\nHB-SY-ZS-09,lamp-solar,5,10\nHB-SY-ZS-09,1060101,60,120\n",
    )
    .unwrap();
    for (kind, file) in [
        ("items", "items.csv"),
        ("depots", "depots.csv"),
        ("norms", "norms.csv"),
    ] {
        let out = reservectl(&app, &admin, dir.path(), &["import", kind, file]).await;
        assert!(out.ok, "import {kind}: {}", out.stderr);
    }
    let item = app
        .catalog(&admin)
        .get_item(pb::GetItemRequest {
            id: "lamp-solar".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(
        (item.code.as_str(), item.recoverable, item.unit_value_fen),
        ("2030101", true, 35000)
    );
    let depot = app
        .network(&admin)
        .get_depot(pb::GetDepotRequest {
            code: "HB-SY-ZS-09".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(depot.parent_code, "HB-SY-ZS");
    assert_eq!(depot.duty_contacts.len(), 1);
    let mut norms: Vec<(String, i64, i64)> = app
        .catalog(&admin)
        .list_reserve_norms(pb::ListReserveNormsRequest {
            depot_code: "HB-SY-ZS-09".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .norms
        .into_iter()
        .map(|n| (n.item_id, n.minimum, n.target))
        .collect();
    norms.sort();
    assert_eq!(
        norms,
        vec![
            ("lamp-solar".into(), 5, 10),
            ("water-bottled".into(), 60, 120)
        ]
    );
    // Loading the same sheets again changes nothing.
    let before = app.fingerprint().await;
    for (kind, file) in [
        ("items", "items.csv"),
        ("depots", "depots.csv"),
        ("norms", "norms.csv"),
    ] {
        let out = reservectl(&app, &admin, dir.path(), &["import", kind, file]).await;
        assert!(out.ok, "import {kind} again: {}", out.stderr);
    }
    assert_eq!(app.fingerprint().await, before);
    // A sheet with a bad row sends none of its rows.
    std::fs::write(
        dir.path().join("bad-norms.csv"),
        "depot_code,item,minimum,target\nHB-SY-ZS-09,tent-12m2,5,10\nHB-SY-NOPE,tent-12m2,1,2\nHB-SY-ZS-09,quilt-cotton,9,3\n",
    )
    .unwrap();
    let out = reservectl(
        &app,
        &admin,
        dir.path(),
        &["import", "norms", "bad-norms.csv"],
    )
    .await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains("row 3, column depot_code"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("row 4, column target"),
        "{}",
        out.stderr
    );
    assert_eq!(app.fingerprint().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_templates_in_docs_load_as_the_readme_says() {
    let app = TestApp::with_demo().await;
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/templates");
    let admin = app.token_for("admin", &[Role::Admin], "HB");
    for kind in ["items", "depots", "norms"] {
        let file = templates.join(format!("{kind}.csv"));
        let out = reservectl(
            &app,
            &admin,
            &templates,
            &["import", kind, file.to_str().unwrap()],
        )
        .await;
        assert!(out.ok, "import {kind}: {}", out.stderr);
    }
    let keeper = app.token_for("li", &[Role::DepotKeeper], "HB-SY-ZS-05");
    let file = templates.join("stock.csv");
    let out = reservectl(
        &app,
        &keeper,
        &templates,
        &["import", "stock", file.to_str().unwrap()],
    )
    .await;
    assert!(out.ok, "import stock: {}", out.stderr);
    assert!(out.stdout.contains("3 posted"), "{}", out.stdout);
    assert_eq!(ledger(&app, "HB-SY-ZS-05").await.len(), 3);
}

/// The cells of a CSV `reservectl export` wrote, header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .expect("a byte-order mark for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The cells of the first sheet of a workbook, as text.
fn xlsx_rows(path: &Path) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let first = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&first).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_write_what_the_read_calls_show() {
    let app = TestApp::with_demo_stock().await;
    let dir = tempfile::tempdir().unwrap();
    let auditor = app.token_for("qian", &[Role::Auditor], "HB-SY-ZS");
    // Stock of the county and its points, in both formats.
    for file in ["stock.csv", "stock.xlsx"] {
        let out = reservectl(
            &app,
            &auditor,
            dir.path(),
            &["export", "stock", "--depot", "HB-SY-ZS", "--out", file],
        )
        .await;
        assert!(out.ok, "{}", out.stderr);
    }
    let csv = csv_rows(&dir.path().join("stock.csv"));
    let xlsx = xlsx_rows(&dir.path().join("stock.xlsx"));
    assert_eq!(csv[0][..3], ["depot", "item", "lot"]);
    assert_eq!(csv, xlsx);
    let on_hand = csv[0].iter().position(|h| h == "on_hand").unwrap();
    let mut exported: Vec<(String, String, String, i64)> = csv[1..]
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                r[2].clone(),
                r[on_hand].parse().unwrap(),
            )
        })
        .collect();
    exported.sort();
    let mut shown = Vec::new();
    let mut depots = vec!["HB-SY-ZS".to_string()];
    depots.extend(
        app.network(&auditor)
            .list_descendants(pb::ListDescendantsRequest {
                code: "HB-SY-ZS".into(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .depots
            .into_iter()
            .map(|d| d.code),
    );
    for d in &depots {
        for (item, lot, n, _) in stock(&app, d).await {
            shown.push((d.clone(), item, lot, n));
        }
    }
    shown.sort();
    assert!(!shown.is_empty());
    assert_eq!(exported, shown);

    // The ledger: one row per entry the ledger call lists for the subtree
    // (the depot filter of the call is a subtree).
    let out = reservectl(
        &app,
        &auditor,
        dir.path(),
        &[
            "export",
            "ledger",
            "--depot",
            "HB-SY-ZS",
            "--out",
            "ledger.csv",
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let entries = ledger(&app, "HB-SY-ZS").await.len();
    assert!(entries > 0);
    assert_eq!(csv_rows(&dir.path().join("ledger.csv")).len() - 1, entries);

    // Shortfalls of the city: the same depots and items the call lists.
    let city = app.token_for("chen", &[Role::Auditor], "HB-SY");
    let out = reservectl(
        &app,
        &city,
        dir.path(),
        &[
            "export",
            "shortfalls",
            "--depot",
            "HB-SY",
            "--out",
            "short.xlsx",
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let listed: Vec<(String, String)> = app
        .stock(&city)
        .list_shortfalls(pb::ListShortfallsRequest {
            depot_code: "HB-SY".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .shortfalls
        .into_iter()
        .map(|s| (s.depot_code, s.item_id))
        .collect();
    assert!(!listed.is_empty(), "the demo has depots below their norms");
    let rows: Vec<(String, String)> = xlsx_rows(&dir.path().join("short.xlsx"))[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(rows, listed);

    // The roll-up of one item: a row per tier and the total, as the call says.
    let out = reservectl(
        &app,
        &auditor,
        dir.path(),
        &[
            "export",
            "rollup",
            "--depot",
            "HB-SY-ZS",
            "--item",
            "quilt-cotton",
            "--out",
            "rollup.csv",
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let r = app
        .stock(&auditor)
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: "HB-SY-ZS".into(),
            item_id: "quilt-cotton".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let rows = csv_rows(&dir.path().join("rollup.csv"));
    let total = rows.iter().find(|r| r[1] == "total").unwrap();
    assert_eq!(total[3], r.total.unwrap().on_hand.to_string());
    assert_eq!(rows.len() - 2, r.tiers.len());
}

/// An opening-balance receipt of quilts at HB-SY-ZS-01 under `request_id`.
fn opening(request_id: &str, lot: &str, qty: i64) -> pb::ReceiveStockRequest {
    pb::ReceiveStockRequest {
        request_id: request_id.into(),
        depot_code: "HB-SY-ZS-01".into(),
        item_id: "quilt-cotton".into(),
        lot_number: lot.into(),
        production_date: reserve_tests::date(2026, 9, 1),
        quantity: qty,
        opening_balance: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_posts_and_records_nothing_and_a_checked_receipt_then_posts_once() {
    let app = TestApp::with_demo().await;
    let mut k = app.keeper("wang", "HB-SY-ZS-01");
    let before = app.stock_fingerprint("HB-SY-ZS-01").await;
    let check = |r: pb::ReceiveStockRequest| pb::ReceiveStockRequest {
        validate_only: true,
        ..r
    };
    let ok = k
        .receive_stock(check(opening("ob-1", "QC-OB", 40)))
        .await
        .unwrap()
        .into_inner();
    assert!(ok.entry.is_none() && ok.line.is_none());
    // Rules only the server knows are checked too.
    let unknown = k
        .receive_stock(check(pb::ReceiveStockRequest {
            item_id: "no-such-item".into(),
            ..opening("ob-2", "X", 1)
        }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound, "{unknown:?}");
    let expired = k
        .receive_stock(check(pb::ReceiveStockRequest {
            item_id: "water-bottled".into(),
            production_date: None,
            expiry_date: reserve_tests::date(2025, 1, 31),
            ..opening("ob-3", "WB-OLD", 1)
        }))
        .await
        .unwrap_err();
    assert_eq!(
        reserve_tests::reason(&expired).as_deref(),
        Some("LOT_EXPIRED")
    );
    let bad = k
        .receive_stock(check(opening("ob-4", "", 0)))
        .await
        .unwrap_err();
    assert_eq!(
        reserve_tests::violated_fields(&bad),
        vec!["lot_number".to_string(), "quantity".to_string()]
    );
    assert_eq!(app.stock_fingerprint("HB-SY-ZS-01").await, before);

    // The checked request id then posts, once, however many race with it.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let mut k = app.keeper("wang", "HB-SY-ZS-01");
            tokio::spawn(async move { k.receive_stock(opening("ob-1", "QC-OB", 40)).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap().unwrap().into_inner().entry.unwrap());
    }
    assert!(answers.iter().all(|e| e == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].entry_type, pb::EntryType::OpeningBalance as i32);
    assert_eq!(ledger(&app, "HB-SY-ZS-01").await.len(), 1);
    // Checked again, it answers with what it posted; under another request
    // the same id is refused naming request_id.
    let again = k
        .receive_stock(check(opening("ob-1", "QC-OB", 40)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.entry.as_ref(), Some(&answers[0]));
    let reused = k
        .receive_stock(check(opening("ob-1", "QC-OB", 41)))
        .await
        .unwrap_err();
    assert_eq!(
        reserve_tests::violated_fields(&reused),
        vec!["request_id".to_string()]
    );
    app.assert_ledger_consistent().await;
}
