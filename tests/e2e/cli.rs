//! The README's walk-through with `reservectl`, its "Stock: a depot keeper's
//! day", its "Allocation: a flood order from need to receipt" and its
//! "Sourcing, readiness and a live watch" and its "Leasing: tents to a
//! company, and an emergency recall", run line by line with the real
//! `reservectl` binary against a real server over the demo network and its
//! demo stock, as `reserve-server --seed-demo` starts; and `reservectl
//! watch` followed as a child process while an order moves.
//!
//! The commands are read from README.md itself, so a README change that
//! breaks a command breaks this test. Each `export RESERVE_TOKEN=$(reservectl
//! token ...)` line is run as written (against a throwaway development key)
//! and its claims re-signed with the test server's key. A placeholder such as
//! `COUNT_ID`, `ORDER` or `QUILT_LOT` (also inside a word, as in
//! `--share 1:HB-SY-ZS:QUILT_LOT:received=300`) is read from the `-o json`
//! answer of the command just before its first use in its section, as a
//! keeper would read it off the screen. Everything else runs exactly as written, and the test
//! checks what a keeper or a dispatcher would notice.

use reserve_api::auth::Claims;
use reserve_tests::TestApp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const README: &str = include_str!("../../README.md");
/// The README sections whose first shell block the test runs, in order.
/// (The sourcing section's second block, `reservectl watch` in a second
/// terminal, runs until Ctrl-C; `a_watch_follows_an_order_as_it_moves`
/// covers it.)
const SECTIONS: [&str; 7] = [
    "## A walk-through with `reservectl`",
    "### Stock: a depot keeper's day",
    "### Allocation: a flood order from need to receipt",
    "### Sourcing, readiness and a live watch",
    "### Maintenance: a generator's monthly test run and a pump's repair",
    "### Leasing: tents to a company, and an emergency recall",
    "### Requisition and compensation: an excavator and 300 quilts, from the scene to a paid claim",
];
/// Where the sections above are in `SECTIONS`.
const ALLOCATION: usize = 2;
const SOURCING: usize = 3;
const MAINTENANCE: usize = 4;
const LEASING: usize = 5;
const REQUISITION: usize = 6;

/// The shell blocks of the README sections, with continuation lines joined,
/// comments and the `alias` line removed: one command per entry, in words,
/// with the index of its section.
fn readme_commands() -> Vec<(usize, Vec<String>)> {
    SECTIONS
        .iter()
        .enumerate()
        .flat_map(|(i, s)| section_commands(s).into_iter().map(move |w| (i, w)))
        .filter(|(_, words)| words[0] != "alias")
        .collect()
}

fn section_commands(section: &str) -> Vec<Vec<String>> {
    let start = README
        .find(section)
        .unwrap_or_else(|| panic!("README.md has no section {section:?}"));
    let rest = &README[start..];
    let open = rest.find("```sh\n").expect("the section has a sh block") + "```sh\n".len();
    let body = &rest[open..];
    let body = &body[..body.find("```").expect("the sh block is closed")];
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in body.lines() {
        let line = strip_comment(line);
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(&line);
        let words = shell_words(&pending);
        pending.clear();
        if !words.is_empty() {
            out.push(words);
        }
    }
    assert!(pending.trim().is_empty(), "a continued line never ends");
    out
}

/// The line up to an unquoted `#` that starts a word.
fn strip_comment(line: &str) -> String {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return line[..i].to_string(),
            _ => {}
        }
        prev = c;
    }
    line.to_string()
}

/// Words as a POSIX shell splits them, for the quoting the README uses
/// (double and single quotes, no escapes or expansions inside words).
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in {s:?}");
    words.extend(word);
    words
}

/// A placeholder the README asks the reader to fill in: `COUNT_ID`,
/// `ORDER`, `QUILT_LOT`.
fn is_placeholder(run: &str) -> bool {
    (run.ends_with("_ID") || run.ends_with("_LOT") || run == "ORDER")
        && run.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

/// The placeholders in a word: its runs of capitals and `_` that are
/// placeholders, e.g. `QUILT_LOT` in `1:HB-SY-ZS:QUILT_LOT:received=300`
/// (and not `HB`, `SY` or `ZS`).
fn placeholders(word: &str) -> Vec<String> {
    word.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|run| is_placeholder(run))
        .map(str::to_string)
        .collect()
}

/// `word` with every placeholder in it replaced by what it stands for.
fn fill(word: &str, ids: &BTreeMap<String, String>, line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if is_placeholder(run) {
            let id = ids
                .get(run.as_str())
                .unwrap_or_else(|| panic!("{run} is used before it is known: {line}"));
            out.push_str(id);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in word.chars() {
        if c.is_ascii_uppercase() || c == '_' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The lot of the only share of the order's line whose item starts with
/// `prefix` (`QUILT_LOT` is the lot of the quilt-cotton line).
fn lot_of_line(order: &Value, prefix: &str) -> String {
    let item = prefix.to_lowercase();
    let lines: Vec<&Value> = order["lines"]
        .as_array()
        .expect("the order has lines")
        .iter()
        .filter(|l| text(&l["itemId"]).starts_with(&item))
        .collect();
    assert_eq!(lines.len(), 1, "one {item} line: {order}");
    let shares = lines[0]["shares"].as_array().expect("the line has shares");
    assert_eq!(shares.len(), 1, "one share of {item}: {order}");
    text(&shares[0]["lotNumber"]).to_string()
}

/// The `reservectl` that `cargo build -p reserve-cli` (or `cargo test
/// --workspace`) puts beside this test binary's `deps` folder.
pub(crate) fn reservectl_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let bin = dir.join(format!("reservectl{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p reserve-cli` first \
         (`cargo test --workspace` builds it)",
        bin.display()
    );
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .expect("reservectl's modification time");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../services/cli/src");
    if let Some(newest) = newest_file(&sources) {
        assert!(
            built >= newest,
            "{} is older than services/cli/src: run `cargo build -p reserve-cli` first",
            bin.display()
        );
    }
    bin
}

fn newest_file(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            newest_file(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// What one run printed.
struct Ran {
    stdout: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "-o json printed more than one message ({e}):\n{}",
                self.stdout
            )
        })
    }

    /// Whether a table row mentions every one of `cells`.
    fn has_row(&self, cells: &[&str]) -> bool {
        self.stdout.lines().any(|l| {
            let row: Vec<&str> = l.split(['│', '┆']).map(str::trim).collect();
            cells.iter().all(|c| row.contains(c))
        })
    }
}

/// Runs `reservectl` in a scratch directory, against the test server, as
/// the holder of `token`.
struct Cli {
    bin: PathBuf,
    dir: tempfile::TempDir,
    server: String,
}

impl Cli {
    fn command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).current_dir(self.dir.path());
        for var in [
            "RESERVE_SERVER",
            "RESERVE_TOKEN",
            "RESERVE_TOKEN_FILE",
            "RESERVE_DEV_KEY_FILE",
            "RESERVE_JWT_ISSUER",
            "RESERVE_JWT_AUDIENCE",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    async fn run(&self, token: &str, args: &[String]) -> Ran {
        let mut all = vec![
            "--server".to_string(),
            self.server.clone(),
            "--token".to_string(),
            token.to_string(),
        ];
        all.extend_from_slice(args);
        self.exec(all).await
    }

    async fn exec(&self, args: Vec<String>) -> Ran {
        let mut cmd = self.command(&args);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("run reservectl");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "reservectl {} failed ({}):\n{stderr}\n{stdout}",
            args.join(" "),
            out.status
        );
        Ran { stdout }
    }
}

fn words(s: &str) -> Vec<String> {
    shell_words(s)
}

/// An int64 of canonical proto JSON (a string), absent meaning zero.
fn int(v: &Value) -> i64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => n.as_i64().unwrap(),
        Value::Null => 0,
        other => panic!("not an integer: {other}"),
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The id of the only pending document in a list answer.
fn only_pending(list: &Value, status: &str) -> String {
    let pending: Vec<&Value> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["status"] == status)
        .collect();
    assert_eq!(pending.len(), 1, "one pending document: {list}");
    text(&pending[0]["id"]).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_keeper_walk_through_runs_as_written_against_a_real_server() {
    let bin = reservectl_path();
    // What `reserve-server --seed-demo` starts with: the demo network and
    // its stock. The keeper's new point holds only what they receive in it.
    let app = TestApp::with_demo_stock().await;
    let cli = Cli {
        bin,
        dir: tempfile::tempdir().unwrap(),
        server: format!("http://{}", app.addr),
    };
    // `reservectl token` in the reader's directory signs with the development
    // key there; the test re-signs the same claims with the server's key.
    reserve_api::devkey::load_or_create(&cli.dir.path().join(reserve_api::devkey::FILE_NAME))
        .unwrap();

    let steps = readme_commands();
    assert!(steps.len() > 20, "the walk-through is read: {steps:?}");
    assert!(
        steps.iter().any(|(s, _)| *s == SOURCING),
        "the sourcing section is read"
    );
    let mut token = String::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut seen = Vec::new();
    let mut journey = Journey::default();
    let mut fx = FxJourney::default();
    let mut current = 0;

    for (n, (section, step)) in steps.iter().enumerate() {
        // A placeholder stands for what its own section printed: the
        // sourcing section's ORDER is not the allocation section's.
        if *section != current {
            ids.clear();
            current = *section;
        }
        let line = step.join(" ");
        if step[0] == "export" {
            let rest = step[1..].join(" ");
            let inner = rest
                .strip_prefix("RESERVE_TOKEN=$(")
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or_else(|| panic!("unexpected export in the README: {line}"));
            let args = words(inner);
            assert_eq!(args[0], "reservectl", "{line}");
            let minted = cli.exec(args[1..].to_vec()).await.stdout;
            token = app.sign(&claims_of(minted.trim()));
            continue;
        }
        assert_eq!(
            step[0], "reservectl",
            "unexpected line in the README: {line}"
        );
        let args: Vec<String> = step[1..].iter().map(|w| fill(w, &ids, &line)).collect();
        assert!(!token.is_empty(), "no token before {line}");

        // The command right before a placeholder's first use is where the
        // reader takes it from; read it from the JSON answer.
        let mut defines: Vec<String> = steps[n + 1..]
            .first()
            .filter(|(next, _)| next == section)
            .into_iter()
            .flat_map(|(_, words)| words)
            .flat_map(|w| placeholders(w))
            .filter(|p| !ids.contains_key(p))
            .collect();
        defines.sort();
        defines.dedup();
        let ran = if defines.is_empty() {
            cli.run(&token, &args).await
        } else {
            let mut json_args = words("-o json");
            json_args.extend(args.iter().cloned());
            let answer = cli.run(&token, &json_args).await.json();
            let mut a_read = false;
            let mut found = Vec::new();
            for placeholder in &defines {
                let id = match placeholder.as_str() {
                    "ENTRY_ID" => text(&answer["entry"]["id"]).to_string(),
                    "COUNT_ID" => text(&answer["count"]["id"]).to_string(),
                    "INCIDENT_ID" => text(&answer["incident"]["id"]).to_string(),
                    "ORDER" => text(&answer["order"]["number"]).to_string(),
                    "REQUISITION_ID" => text(&answer["requisition"]["number"]).to_string(),
                    "CLAIM_ID" => text(&answer["claim"]["number"]).to_string(),
                    "LEASE_ID" => {
                        a_read = true;
                        let open = answer["leases"].as_array().expect("a list of leases");
                        assert_eq!(open.len(), 1, "one open lease: {answer}");
                        text(&open[0]["number"]).to_string()
                    }
                    "ADJUSTMENT_ID" => {
                        a_read = true;
                        only_pending(&answer["adjustments"], "APPROVAL_STATUS_PENDING")
                    }
                    "REPAIR_ID" => {
                        a_read = true;
                        let open = answer["repairs"].as_array().expect("a list of repairs");
                        assert_eq!(open.len(), 1, "one open repair: {answer}");
                        text(&open[0]["id"]).to_string()
                    }
                    "APPLICATION_ID" => {
                        a_read = true;
                        only_pending(&answer["applications"], "APPROVAL_STATUS_PENDING")
                    }
                    lot if lot.ends_with("_LOT") => {
                        a_read = true;
                        lot_of_line(&answer["order"], lot.trim_end_matches("_LOT"))
                    }
                    other => panic!("the test does not know where {other} comes from"),
                };
                assert!(!id.is_empty(), "{placeholder} from {line}: {answer}");
                ids.insert(placeholder.clone(), id.clone());
                found.push(id);
            }
            if a_read {
                // Reading changes nothing: also show it as the reader sees
                // it, with what to copy.
                let table = cli.run(&token, &args).await;
                for id in &found {
                    assert!(
                        table.stdout.contains(id.as_str()),
                        "{line} shows {id}:\n{}",
                        table.stdout
                    );
                }
                table
            } else {
                Ran {
                    stdout: answer.to_string(),
                }
            }
        };
        // Shown when the test fails: the walk-through as the keeper saw it.
        println!("$ reservectl {}\n{}", args.join(" "), ran.stdout);
        seen.push(format!("reservectl {}", args.join(" ")));
        match *section {
            ALLOCATION => {
                check_order_step(&cli, &token, &ids, &args, &ran, &mut journey).await;
            }
            SOURCING => check_sourcing_step(&cli, &token, &args, &ran, &mut fx).await,
            LEASING => check_lease_step(&cli, &token, &args, &ran).await,
            REQUISITION => check_requisition_step(&cli, &token, &args, &ran).await,
            MAINTENANCE => check_maintenance_step(&args, &ran),
            _ => check_step(&cli, &token, &ids, &args, &ran).await,
        }
    }

    // Every kind of step the assertions below rely on was in the README.
    for must in [
        "stock issue --item water-bottled",
        "stock reverse",
        "stock count approve",
        "stock approve-adjustment",
        "stock approve-scrap",
        "stock check",
        "incidents create",
        "orders create",
        "orders approve",
        "orders dispatch",
        "orders receive",
        "orders close",
        "audit list --order",
        "propose --to HB-SY-FX-01",
        "--create-order",
        "agreements create",
        "agreements list",
        "readiness --depot HB-SY-FX",
        "leases create",
        "leases recall-all",
        "leases return",
        "leases statement",
        "upkeep plan",
        "upkeep record",
        "repairs start",
        "repairs finish",
        "requisitions create",
        "requisitions voucher",
        "--requisition-line",
        "requisitions outcome",
        "claims open",
        "claims assess",
        "claims approve",
        "claims pay",
        "claims report",
        "claims export",
    ] {
        assert!(
            seen.iter().any(|s| s.contains(must)),
            "the walk-through no longer has `{must}`"
        );
    }
    app.assert_ledger_consistent().await;
}

/// What a keeper notices in the maintenance walk-through: the plan as set,
/// the due dates a month after receipt (the test clock stands at
/// 2026-11-28), the next due date each record sets, the repair and its cost.
fn check_maintenance_step(args: &[String], ran: &Ran) {
    let cmd = args.join(" ");
    let out = &ran.stdout;
    let has = |s: &str| assert!(out.contains(s), "{cmd} should show {s:?}:\n{out}");
    if cmd.starts_with("upkeep plan") {
        has("test-run of generator-5kw every 1 month(s) at HB-SY and below");
    } else if cmd.starts_with("upkeep due --within-days") {
        for serial in ["G5-0001", "G5-0002"] {
            assert!(
                ran.has_row(&["2026-12-28", "HB-SY-ZS-04", serial, "test-run", "due"]),
                "{serial} is due on 2026-12-28:\n{out}"
            );
        }
        has("2 unit(s) as of 2026-11-28");
    } else if cmd.starts_with("upkeep record") {
        // Passed: one month on; needs repair: left where it was.
        has("on 2026-11-28");
        has("next due 2026-12-28");
    } else if cmd.starts_with("repairs start") {
        has("pump-drainage PD-0001 open, 叶轮磨损，出水量不足");
    } else if cmd.starts_with("repairs list") {
        assert!(ran.has_row(&["PD-0001", "open"]), "{out}");
    } else if cmd.starts_with("repairs finish") {
        has("PD-0001 repaired");
        has("cost ¥420.00");
        // The pump's catalogue interval is 90 days.
        has("next due 2027-02-26");
    } else if cmd.starts_with("upkeep due --overdue") {
        has("0 unit(s) as of 2026-11-28");
    }
}

/// What the dispatcher, keeper and finance notice in the requisition
/// walk-through: masked data for the dispatcher and in full for finance,
/// the requisitioned lot emptied back to the owner, the claim's figures in
/// yuan, the outstanding amount between payments, and the CSV export.
async fn check_requisition_step(cli: &Cli, token: &str, args: &[String], ran: &Ran) {
    let cmd: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = &ran.stdout;
    let has = |s: &str| {
        assert!(
            out.contains(s),
            "{} should show {s:?}:\n{out}",
            cmd.join(" ")
        )
    };
    match cmd.as_slice() {
        ["requisitions", "create", ..] => {
            has("ZY-2026-");
            has("6222***********3445");
            assert!(
                !out.contains("6222020200112233445"),
                "a dispatcher sees the account masked: {out}"
            );
        }
        ["requisitions", "voucher", ..] => has("十堰征凭 0032"),
        [
            "requisitions",
            "outcome",
            ..,
            "--certificate",
            "退还单 ZS-001",
        ] => {
            let a = words("-o json stock list --depot HB-SY-ZS --item quilt-cotton");
            let lines = cli.run(token, &a).await.json();
            let left: i64 = lines["lines"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter(|x| x["lot"]["lotNumber"] == "ZY-QUILT-01")
                        .map(|x| int(&x["onHand"]))
                        .sum()
                })
                .unwrap_or(0);
            assert_eq!(left, 0, "the 20 left went back to the company: {lines}");
        }
        ["requisitions", "outcome", .., "--certificate", "十堰损-001"] => has("resolved"),
        ["claims", "open", ..] => {
            has("BC-2026-");
            has("6222020200112233445");
        }
        ["claims", "assess", ..] => {
            assert!(ran.has_row(&["usage ¥", "25000.00"]), "{out}");
            assert!(ran.has_row(&["repair ¥", "30000.00"]), "{out}");
            assert!(ran.has_row(&["loss ¥", "42000.00"]), "{out}");
            assert!(ran.has_row(&["direct costs ¥", "20345.00"]), "{out}");
            assert!(ran.has_row(&["total ¥", "117345.00"]), "{out}");
        }
        ["claims", "approve", ..] => assert!(ran.has_row(&["approved ¥", "117345.00"]), "{out}"),
        ["claims", "pay", _, "--amount", "50000", ..] => {
            assert!(ran.has_row(&["outstanding ¥", "67345.00"]), "{out}");
        }
        ["claims", "report"] => has("67345.00"),
        ["claims", "pay", ..] => assert!(ran.has_row(&["state", "paid"]), "{out}"),
        ["claims", "export", ..] => {
            let csv = std::fs::read_to_string(cli.dir.path().join("claims.csv")).unwrap();
            assert!(
                csv.contains("BC-2026-") && csv.contains("117345.00"),
                "{csv}"
            );
            assert!(
                csv.contains("6222020200112233445"),
                "finance's export carries the account: {csv}"
            );
        }
        _ => {}
    }
}

/// The claims of a token `reservectl token` printed.
fn claims_of(jwt: &str) -> Claims {
    use base64::Engine;
    let body = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// What a keeper would notice after each step (`args` with the
/// placeholders filled in).
async fn check_step(
    cli: &Cli,
    token: &str,
    ids: &BTreeMap<String, String>,
    args: &[String],
    ran: &Ran,
) {
    let cmd: Vec<&str> = args.iter().map(String::as_str).collect();
    let json = |args: &str| {
        let mut a = words("-o json");
        a.extend(words(args));
        a
    };
    match cmd.as_slice() {
        ["stock", "issue", "--item", "water-bottled", ..] => {
            // First expired, first out: all of WB-2026-03, then WB-2026-09.
            assert!(
                ran.has_row(&["issue", "WB-2026-03", "-120"]),
                "{}",
                ran.stdout
            );
            assert!(
                ran.has_row(&["issue", "WB-2026-09", "-30"]),
                "{}",
                ran.stdout
            );
            let issued = cli
                .run(
                    token,
                    &json("stock ledger --item water-bottled --type issue"),
                )
                .await
                .json();
            let taken: Vec<(String, i64)> = issued["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (text(&e["lotNumber"]).to_string(), int(&e["quantity"])))
                .collect();
            assert_eq!(taken.len(), 2, "{issued}");
            assert!(taken.contains(&("WB-2026-03".into(), -120)), "{taken:?}");
            assert!(taken.contains(&("WB-2026-09".into(), -30)), "{taken:?}");
        }
        ["stock", "release", ..] => {
            // 5 held, 2 released: 3 still held, 197 available.
            assert!(
                ran.has_row(&["quilt-cotton", "QC-2026-11", "200", "3", "197"]),
                "{}",
                ran.stdout
            );
        }
        ["stock", "reverse", entry, ..] => {
            assert!(
                ran.stdout.contains(&format!("reverses {entry}")),
                "the reversal points at {entry}:\n{}",
                ran.stdout
            );
            let reversals = cli
                .run(token, &json("stock ledger --type reversal --limit 1"))
                .await
                .json();
            let reversal = &reversals["entries"][0];
            assert_eq!(text(&reversal["reversesEntryId"]), *entry, "{reversals}");
            assert_eq!(int(&reversal["quantity"]), -10, "{reversals}");
            let shown = cli
                .run(
                    token,
                    &words(&format!("stock entry {}", text(&reversal["id"]))),
                )
                .await;
            assert!(shown.has_row(&["reverses", entry]), "{}", shown.stdout);
        }
        ["stock", "count", "approve", id, ..] => {
            // The variance report: 2 quilts missing against the books at
            // recording, everything else as counted.
            assert!(
                ran.has_row(&["quilt-cotton", "QC-2026-11", "200", "198", "-2", "-¥520.00"]),
                "{}",
                ran.stdout
            );
            assert!(
                ran.stdout.contains("total variance -2 units, -¥520.00"),
                "{}",
                ran.stdout
            );
            let count = cli
                .run(token, &json(&format!("stock count show {id}")))
                .await
                .json()["count"]
                .clone();
            assert_eq!(count["status"], "COUNT_STATUS_APPROVED", "{count}");
            let variances: BTreeMap<(String, String), i64> = count["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        (
                            text(&l["itemId"]).to_string(),
                            text(&l["lotNumber"]).to_string(),
                        ),
                        int(&l["variance"]),
                    )
                })
                .collect();
            assert_eq!(
                variances.get(&("quilt-cotton".into(), "QC-2026-11".into())),
                Some(&-2),
                "{count}"
            );
            assert_eq!(variances.values().sum::<i64>(), -2, "{count}");
            assert_eq!(int(&count["totalVarianceValueFen"]), -52_000, "{count}");
        }
        ["stock", "approve-adjustment", id, ..] => {
            assert!(
                ran.has_row(&["adjustment", "WB-2026-09", "-1"]),
                "{}",
                ran.stdout
            );
            assert!(
                ran.stdout.contains(&format!("adjustments/{id}")),
                "{}",
                ran.stdout
            );
        }
        ["stock", "approve-scrap", id, ..] => {
            assert!(
                ran.has_row(&["scrap", "QC-2026-11", "-3"]),
                "{}",
                ran.stdout
            );
            assert!(
                ran.stdout.contains(&format!("scrapApplications/{id}")),
                "{}",
                ran.stdout
            );
        }
        [
            "stock",
            "ledger",
            "--item",
            "quilt-cotton",
            "--lot",
            "QC-2026-11",
            ..,
        ] => {
            // The keeper's own hold, and the scrap application's, which
            // belongs to the application.
            let app_id = &ids["APPLICATION_ID"];
            assert!(ran.has_row(&["hold", "+5"]), "{}", ran.stdout);
            assert!(
                ran.stdout.contains(&format!("scrapApplications/{app_id}")),
                "{}",
                ran.stdout
            );
        }
        ["stock", "check", ..] => {
            assert!(
                ran.stdout.contains("every balance matches the ledger"),
                "{}",
                ran.stdout
            );
        }
        _ => {}
    }
}

/// What the allocation walk-through has seen so far.
#[derive(Default)]
struct Journey {
    /// Quilts and tents on hand at the county, and quilts on hand at the
    /// township, when the order was raised.
    before: Option<(i64, i64, i64)>,
    /// Receipts posted.
    receipts: usize,
}

/// Units of `item` at `depot`: (on hand, reserved, held), over its lots.
async fn stock_of(cli: &Cli, token: &str, depot: &str, item: &str) -> (i64, i64, i64) {
    let mut a = words("-o json stock list --depot");
    a.push(depot.into());
    a.extend(words(&format!("--item {item}")));
    let list = cli.run(token, &a).await.json();
    list["lines"]
        .as_array()
        .map(|l| l.as_slice())
        .unwrap_or_default()
        .iter()
        .fold((0, 0, 0), |(h, r, d), l| {
            (
                h + int(&l["onHand"]),
                r + int(&l["reserved"]),
                d + int(&l["held"]),
            )
        })
}

/// The order as `orders show -o json` gives it.
async fn order_json(cli: &Cli, token: &str, order: &str) -> Value {
    let mut a = words("-o json orders show");
    a.push(order.into());
    cli.run(token, &a).await.json()["order"].clone()
}

/// The only share of the order's line of `item`.
fn share_of<'a>(order: &'a Value, item: &str) -> &'a Value {
    let line = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["itemId"] == item)
        .unwrap_or_else(|| panic!("no {item} line: {order}"));
    assert_eq!(line["shares"].as_array().unwrap().len(), 1, "{order}");
    &line["shares"][0]
}

/// What a dispatcher or keeper would notice along the flood order.
async fn check_order_step(
    cli: &Cli,
    token: &str,
    ids: &BTreeMap<String, String>,
    args: &[String],
    ran: &Ran,
    journey: &mut Journey,
) {
    const COUNTY: &str = "HB-SY-ZS";
    const TOWN: &str = "HB-SY-ZS-01";
    let cmd: Vec<&str> = args.iter().map(String::as_str).collect();
    match cmd.as_slice() {
        ["incidents", "create", ..] => {
            let incident = &ran.json()["incident"];
            assert_eq!(incident["type"], "INCIDENT_TYPE_FLOOD", "{incident}");
            assert_eq!(incident["depotCode"], COUNTY, "{incident}");
        }
        ["orders", "create", ..] => {
            let order = &ran.json()["order"];
            assert_eq!(order["state"], "ALLOCATION_STATE_DRAFT", "{order}");
            assert_eq!(text(&order["incidentId"]), ids["INCIDENT_ID"], "{order}");
            let lines: Vec<(&str, i64)> = order["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| (text(&l["itemId"]), int(&l["requested"])))
                .collect();
            assert_eq!(lines, vec![("quilt-cotton", 500), ("tent-12m2", 20)]);
            let (quilts, _, _) = stock_of(cli, token, COUNTY, "quilt-cotton").await;
            let (tents, _, _) = stock_of(cli, token, COUNTY, "tent-12m2").await;
            let (town, _, _) = stock_of(cli, token, TOWN, "quilt-cotton").await;
            // Enough above the county's norms (500 quilts, 50 tents).
            assert!(
                quilts >= 1000 && tents >= 70,
                "{quilts} quilts, {tents} tents"
            );
            journey.before = Some((quilts, tents, town));
        }
        ["orders", "show", order] => {
            let o = order_json(cli, token, order).await;
            match text(&o["state"]) {
                "ALLOCATION_STATE_DRAFT" => {
                    assert!(
                        ran.has_row(&["1", "quilt-cotton", "500", "HB-SY-ZS 500"]),
                        "{}",
                        ran.stdout
                    );
                }
                "ALLOCATION_STATE_DISPATCHED" => {
                    assert_eq!(int(&share_of(&o, "quilt-cotton")["inTransit"]), 500);
                    assert_eq!(int(&share_of(&o, "tent-12m2")["inTransit"]), 20);
                }
                "ALLOCATION_STATE_CLOSED" => {
                    // The timeline: who did each step.
                    let steps: Vec<(&str, &str)> = o["timeline"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| (text(&e["action"]), text(&e["actor"])))
                        .collect();
                    assert_eq!(
                        steps,
                        vec![
                            ("created", "zhou"),
                            ("submitted", "zhou"),
                            ("approved", "wu"),
                            ("dispatched", "zheng"),
                            ("received", "feng"),
                            ("received", "feng"),
                            ("closed", "zhou"),
                        ]
                    );
                    for row in [
                        &["周九 (zhou)", "created", "draft"][..],
                        &[
                            "吴十 (wu)",
                            "approved",
                            "submitted → approved",
                            "同意，优先保障城关镇",
                        ],
                        &["郑十一 (zheng)", "dispatched", "approved → dispatched"],
                        &["冯十二 (feng)", "received", "dispatched → received"],
                        &["周九 (zhou)", "closed", "received → closed", "已全部入库"],
                    ] {
                        assert!(ran.has_row(row), "{row:?}:\n{}", ran.stdout);
                    }
                    assert!(
                        ran.stdout.contains("2 short (途中遇雨，3床受潮，2床缺件)"),
                        "{}",
                        ran.stdout
                    );
                }
                other => panic!("the walk-through shows an order {other}: {o}"),
            }
        }
        ["orders", "approve", order, ..] => {
            assert!(ran.stdout.contains("APPROVED"), "{}", ran.stdout);
            let o = order_json(cli, token, order).await;
            assert_eq!(text(&o["approvedBy"]), "wu", "{o}");
            assert_eq!(int(&share_of(&o, "quilt-cotton")["reserved"]), 500);
            assert_eq!(int(&share_of(&o, "tent-12m2")["reserved"]), 20);
            let (_, reserved, _) = stock_of(cli, token, COUNTY, "quilt-cotton").await;
            assert_eq!(reserved, 500);
        }
        ["orders", "dispatch", ..] => {
            assert!(ran.stdout.contains("DISPATCHED"), "{}", ran.stdout);
            assert!(
                ran.has_row(&["HB-SY-ZS", "鄂C·12345", "王师傅"]),
                "{}",
                ran.stdout
            );
            let (quilts, tents, _) = journey.before.expect("the order was raised");
            let (q, r, _) = stock_of(cli, token, COUNTY, "quilt-cotton").await;
            assert_eq!((q, r), (quilts - 500, 0), "the quilts left the county");
            let (t, _, _) = stock_of(cli, token, COUNTY, "tent-12m2").await;
            assert_eq!(t, tents - 20, "the tents left the county");
        }
        ["stock", "rollup", "--item", "quilt-cotton"] => {
            assert!(ran.has_row(&["乡镇 township", "500"]), "{}", ran.stdout);
            let rollup = cli
                .run(token, &words("-o json stock rollup --item quilt-cotton"))
                .await
                .json();
            assert_eq!(int(&rollup["total"]["inTransit"]), 500, "{rollup}");
        }
        ["orders", "receive", order, ..] => {
            journey.receipts += 1;
            let o = order_json(cli, token, order).await;
            let q = share_of(&o, "quilt-cotton");
            let t = share_of(&o, "tent-12m2");
            if journey.receipts == 1 {
                assert_eq!(o["state"], "ALLOCATION_STATE_DISPATCHED", "{o}");
                assert_eq!((int(&q["received"]), int(&q["inTransit"])), (300, 200));
                assert_eq!((int(&t["received"]), int(&t["inTransit"])), (20, 0));
            } else {
                assert!(ran.stdout.contains("RECEIVED"), "{}", ran.stdout);
                assert_eq!(o["state"], "ALLOCATION_STATE_RECEIVED", "{o}");
                let got: Vec<i64> = ["received", "damaged", "rejected", "short", "inTransit"]
                    .iter()
                    .map(|k| int(&q[*k]))
                    .collect();
                assert_eq!(got, vec![495, 3, 0, 2, 0], "{o}");
            }
        }
        ["stock", "list", "--item", "quilt-cotton"] if ids.contains_key("QUILT_LOT") => {
            // At the township: the county's lot, what came in good order
            // and the damaged quilts held.
            let lot = ids["QUILT_LOT"].as_str();
            assert!(
                ran.has_row(&[TOWN, "quilt-cotton", lot, "498", "3", "495"]),
                "{}",
                ran.stdout
            );
            let (_, _, town) = journey.before.expect("the order was raised");
            let (on_hand, _, held) = stock_of(cli, token, TOWN, "quilt-cotton").await;
            assert_eq!((on_hand, held), (town + 498, 3));
        }
        ["orders", "list", "--state", "received"] => {
            assert!(
                ran.has_row(&[ids["ORDER"].as_str(), "received"]),
                "{}",
                ran.stdout
            );
        }
        ["orders", "close", order, ..] => {
            assert!(ran.stdout.contains("CLOSED"), "{}", ran.stdout);
            let o = order_json(cli, token, order).await;
            assert_eq!(o["state"], "ALLOCATION_STATE_CLOSED", "{o}");
        }
        ["audit", "list", "--order", order] => {
            let o = order_json(cli, token, order).await;
            let mut a = words("-o json audit list --order");
            a.push(order.to_string());
            let events = cli.run(token, &a).await.json();
            let methods: Vec<&str> = events["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    assert_eq!(
                        text(&e["resource"]),
                        format!("allocationOrders/{}", text(&o["id"]))
                    );
                    text(&e["method"]).rsplit('/').next().unwrap_or_default()
                })
                .collect();
            // Newest first.
            assert_eq!(
                methods,
                vec![
                    "CloseAllocationOrder",
                    "ReceiveAllocationOrder",
                    "ReceiveAllocationOrder",
                    "DispatchAllocationOrder",
                    "ApproveAllocationOrder",
                    "SubmitAllocationOrder",
                    "CreateAllocationOrder",
                ]
            );
            assert!(
                ran.has_row(&["吴十 (wu)", "ApproveAllocationOrder"]),
                "{}",
                ran.stdout
            );
        }
        _ => {}
    }
}

/// What the sourcing walk-through has seen so far.
#[derive(Default)]
struct FxJourney {
    /// The plain proposal's depot sources per item: (depot, units).
    proposed: BTreeMap<String, Vec<(String, i64)>>,
}

/// The depot sources of each line of a proposal, depot by depot.
fn proposed_sources(lines: &Value) -> BTreeMap<String, Vec<(String, i64)>> {
    lines
        .as_array()
        .expect("proposal lines")
        .iter()
        .map(|l| {
            let sources = l["sources"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|s| (text(&s["depotCode"]).to_string(), int(&s["quantity"])))
                .collect();
            (text(&l["itemId"]).to_string(), sources)
        })
        .collect()
}

/// A proposal as a dispatcher reads it: every need met, 房县's own depots
/// first, then the rest by travel time, the units adding up.
fn assert_fang_county_first(lines: &Value) {
    const FX: &str = "HB-SY-FX";
    for l in lines.as_array().expect("proposal lines") {
        let sources = l["sources"].as_array().expect("sources");
        assert!(!sources.is_empty(), "{l}");
        assert_eq!(int(&l["unmet"]), 0, "the demo stock meets it: {l}");
        let own: Vec<bool> = sources.iter().map(|s| s["ownSubtree"] == true).collect();
        assert!(own[0], "房县 goes first: {l}");
        let own_end = own.iter().take_while(|o| **o).count();
        assert!(own[own_end..].iter().all(|o| !o), "{l}");
        for s in &sources[..own_end] {
            assert!(text(&s["depotCode"]).starts_with(FX), "{l}");
        }
        let hours: Vec<f64> = sources[own_end..]
            .iter()
            .map(|s| s["travelHours"].as_f64().unwrap_or_default())
            .collect();
        assert!(hours.windows(2).all(|w| w[0] <= w[1]), "{l}");
        let given: i64 = sources.iter().map(|s| int(&s["quantity"])).sum();
        assert_eq!(given, int(&l["needed"]), "{l}");
        assert!(
            sources
                .iter()
                .all(|s| text(&s["depotCode"]) != "HB-SY-FX-01"),
            "the township never sources its own need: {l}"
        );
    }
}

/// What a 房县 dispatcher would notice along the sourcing walk-through.
async fn check_sourcing_step(
    cli: &Cli,
    token: &str,
    args: &[String],
    ran: &Ran,
    fx: &mut FxJourney,
) {
    const FX: &str = "HB-SY-FX";
    let cmd: Vec<&str> = args.iter().map(String::as_str).collect();
    match cmd.as_slice() {
        ["propose", ..] if !cmd.contains(&"--create-order") => {
            let mut a = words("-o json");
            a.extend(args.iter().cloned());
            let p = cli.run(token, &a).await.json();
            assert_eq!(text(&p["ownSubtreeDepotCode"]), FX, "{p}");
            assert_fang_county_first(&p["lines"]);
            let items: Vec<&str> = p["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| text(&l["itemId"]))
                .collect();
            assert_eq!(items, vec!["quilt-cotton", "tent-12m2"], "{p}");
            // The table: 房县's county depot is the first source, its own.
            assert!(
                ran.has_row(&["1", FX, "房县应急物资储备库", "yes"]),
                "{}",
                ran.stdout
            );
            assert!(
                ran.stdout
                    .contains("quilt-cotton: 500 needed; 500 from 1 depot"),
                "{}",
                ran.stdout
            );
            fx.proposed = proposed_sources(&p["lines"]);
            // What the README says 房县's county depot holds.
            let (quilts, _, _) = stock_of(cli, token, FX, "quilt-cotton").await;
            let (tents, _, _) = stock_of(cli, token, FX, "tent-12m2").await;
            assert_eq!((quilts, tents), (1059, 112), "the README's figures");
        }
        ["propose", ..] => {
            // Read as JSON, for ORDER.
            let made = ran.json();
            let order = &made["order"];
            assert_eq!(order["state"], "ALLOCATION_STATE_DRAFT", "{order}");
            assert_eq!(order["priority"], "ALLOCATION_PRIORITY_URGENT", "{order}");
            assert_eq!(text(&order["destinationDepotCode"]), "HB-SY-FX-01");
            assert_fang_county_first(&made["proposal"]);
            // The draft's lines are the proposal's depot sources, depot by
            // depot; approval picks lots first expired first out, as the
            // proposal did.
            let proposal = proposed_sources(&made["proposal"]);
            let lines: BTreeMap<String, Vec<(String, i64)>> = order["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    let needed = made["proposal"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|p| p["itemId"] == l["itemId"])
                        .map(|p| int(&p["needed"]));
                    assert_eq!(Some(int(&l["requested"])), needed, "{l}");
                    let sources = l["sources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| {
                            assert_eq!(text(&s["lotNumber"]), "", "{s}");
                            (text(&s["sourceDepotCode"]).to_string(), int(&s["quantity"]))
                        })
                        .collect();
                    (text(&l["itemId"]).to_string(), sources)
                })
                .collect();
            assert_eq!(lines, proposal, "{made}");
            // Nothing moved between the two: the same plan as proposed.
            assert_eq!(proposal, fx.proposed, "{made}");
        }
        ["orders", "show", order] => {
            let o = order_json(cli, token, order).await;
            assert_eq!(o["state"], "ALLOCATION_STATE_DRAFT", "{o}");
            for (item, sources) in &fx.proposed {
                let n = if item == "quilt-cotton" { "1" } else { "2" };
                let planned = sources
                    .iter()
                    .map(|(d, q)| format!("{d} {q}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let requested = if item == "quilt-cotton" { "500" } else { "20" };
                assert!(
                    ran.has_row(&[n, item, requested, planned.as_str()]),
                    "{planned}:\n{}",
                    ran.stdout
                );
            }
        }
        ["orders", "approve", order, ..] => {
            let o = order_json(cli, token, order).await;
            assert_eq!(o["state"], "ALLOCATION_STATE_APPROVED", "{o}");
            assert_eq!(int(&share_of(&o, "quilt-cotton")["reserved"]), 500);
            assert_eq!(int(&share_of(&o, "tent-12m2")["reserved"]), 20);
        }
        ["orders", "dispatch", order, ..] => {
            let o = order_json(cli, token, order).await;
            assert_eq!(o["state"], "ALLOCATION_STATE_DISPATCHED", "{o}");
            assert_eq!(int(&share_of(&o, "quilt-cotton")["inTransit"]), 500);
            assert_eq!(int(&share_of(&o, "tent-12m2")["inTransit"]), 20);
        }
        ["agreements", "create", ..] => {
            assert!(ran.stdout.contains("recorded agreement"), "{}", ran.stdout);
            let list = cli
                .run(token, &words("-o json agreements list"))
                .await
                .json();
            let a = &list["agreements"][0];
            assert_eq!(text(&a["creditCode"]), "91420325MA49R6KU05", "{list}");
            assert_eq!(text(&a["depotCode"]), FX, "{list}");
            assert_eq!(a["kind"], "RESERVE_KIND_AGREEMENT", "{list}");
            let items: BTreeMap<&str, i64> = a["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| (text(&i["itemId"]), int(&i["committed"])))
                .collect();
            assert_eq!(
                items,
                BTreeMap::from([("quilt-cotton", 1000), ("tent-12m2", 100)])
            );
        }
        ["agreements", "list"] => {
            assert!(
                ran.has_row(&[
                    "房县鑫源帐篷被服有限公司",
                    "91420325MA49R6KU05",
                    "agreement",
                    FX,
                    "2028-12-31"
                ]),
                "{}",
                ran.stdout
            );
        }
        ["readiness", ..] => {
            let mut a = words("-o json");
            a.extend(args.iter().cloned());
            let r = cli.run(token, &a).await.json();
            let places = r["places"].as_array().expect("places");
            assert_eq!(places.len(), 4, "房县 and its three townships: {r}");
            for p in places {
                let code = text(&p["depotCode"]);
                assert!(code.starts_with(FX), "{p}");
                let levels = p["levels"].as_array().expect("levels");
                let targets: Vec<f64> = levels
                    .iter()
                    .map(|l| l["targetHours"].as_f64().unwrap())
                    .collect();
                assert_eq!(targets, vec![6.0, 8.0, 10.0], "{p}");
                for l in levels {
                    let met = l["met"] == true;
                    match l["arrivalHours"].as_f64() {
                        Some(h) => assert_eq!(met, h <= l["targetHours"].as_f64().unwrap(), "{l}"),
                        None => {
                            assert!(!met, "{l}");
                            assert!(int(&l["unmet"]) > 0, "{l}");
                            assert!(!text(&l["bindingItemId"]).is_empty(), "{l}");
                        }
                    }
                }
                let all = levels.iter().all(|l| l["met"] == true);
                assert_eq!(p["met"] == true, all, "{p}");
                // What the README says: 房县 lacks tents for the county's 6
                // hours, and the city's stock arrives within 8.
                let (county, city) = (&levels[0], &levels[1]);
                assert_eq!(county["tier"], "TIER_COUNTY", "{p}");
                assert_eq!(city["tier"], "TIER_CITY", "{p}");
                assert!(county["met"] != true, "{p}");
                assert!(county["arrivalHours"].is_null(), "{p}");
                assert_eq!(text(&county["bindingItemId"]), "tent-12m2", "{p}");
                assert_eq!(city["met"], true, "{p}");
                // The table row says the same.
                let cell = format!("MISSED: tent-12m2 short {}", int(&county["unmet"]));
                let overall = if all { "met" } else { "MISSED" };
                assert!(
                    ran.has_row(&[code, cell.as_str(), overall]),
                    "{code} {cell}:\n{}",
                    ran.stdout
                );
            }
            assert!(
                ran.stdout.contains("4 of 4 places miss a target"),
                "{}",
                ran.stdout
            );
        }
        _ => {}
    }
}

/// What a keeper and a dispatcher see at each step of the leasing section.
async fn check_lease_step(cli: &Cli, token: &str, args: &[String], ran: &Ran) {
    const ZX: &str = "HB-SY-ZX";
    let cmd: Vec<&str> = args.iter().map(String::as_str).collect();
    match cmd.as_slice() {
        ["leases", "create", ..] => {
            assert!(
                ran.stdout.contains("leased out on ZL-2026-"),
                "{}",
                ran.stdout
            );
            assert!(ran.has_row(&["state", "open"]), "{}", ran.stdout);
            assert!(ran.has_row(&["units out", "30"]), "{}", ran.stdout);
            assert!(
                ran.has_row(&["1", "tent-12m2", "30", "0", "5.00"]),
                "{}",
                ran.stdout
            );
        }
        ["stock", "rollup", ..] => {
            let mut a = words("-o json");
            a.extend(args.iter().cloned());
            let total = &cli.run(token, &a).await.json()["total"];
            assert_eq!(
                (int(&total["onLease"]), int(&total["recallable"])),
                (30, 30),
                "{total}"
            );
        }
        ["leases", "recall-all", ..] => {
            assert!(ran.stdout.contains("recalled 1 lease(s)"), "{}", ran.stdout);
        }
        ["leases", "list", ..] => {
            assert!(ran.stdout.contains("ZL-2026-"), "{}", ran.stdout);
            assert!(ran.stdout.contains("due back"), "{}", ran.stdout);
        }
        ["leases", "return", ..] => {
            assert!(ran.stdout.contains("0 unit(s) still out"), "{}", ran.stdout);
            // All 30 back on hand, 3 of them held for repair or scrap.
            let (on_hand, _, held) = stock_of(cli, token, ZX, "tent-12m2").await;
            let mut a = words("-o json stock list --depot");
            a.push(ZX.into());
            a.extend(words("--item tent-12m2"));
            let lines = cli.run(token, &a).await.json();
            let on_lease: i64 = lines["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| int(&l["onLease"]))
                .sum();
            assert_eq!((held, on_lease), (3, 0), "{lines}");
            assert!(on_hand >= 30, "{on_hand}");
        }
        ["leases", "statement", ..] => {
            for cells in [
                &["usage (yuan)", "150.00"][..],
                &["damage (yuan)", "30.00"],
                &["deposit (yuan)", "200.00"],
                &["refund to lessee (yuan)", "20.00"],
            ] {
                assert!(ran.has_row(cells), "{cells:?}:\n{}", ran.stdout);
            }
            assert!(ran.stdout.contains("(final)"), "{}", ran.stdout);
        }
        _ => {}
    }
}

/// `reservectl watch -o json --after N` as a child process: the lines of
/// an order that moves meanwhile (created from a proposal, submitted,
/// approved, dispatched) come in order, each one JSON object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_follows_an_order_as_it_moves() {
    use reserve_api::pb::reserve::v1 as pb;
    use reserve_api::pb::reserve::v1::event_service_client::EventServiceClient;
    use reserve_core::authz::Role;
    use std::io::BufRead;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    const FX: &str = "HB-SY-FX";
    let bin = reservectl_path();
    let app = TestApp::with_demo_stock().await;
    let cli = Cli {
        bin,
        dir: tempfile::tempdir().unwrap(),
        server: format!("http://{}", app.addr),
    };
    let watcher = app.token_for("ma", &[Role::Dispatcher], FX);

    // N: the id of a receipt made now, read off a stream of our own.
    let mut first = EventServiceClient::new(app.authed(Some(&watcher)))
        .watch_events(pb::WatchEventsRequest {
            depot_code: "HB-SY-FX-01".into(),
            kinds: vec![pb::EventKind::Stock as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    app.keeper("keeper@FX-01", "HB-SY-FX-01")
        .receive_stock(pb::ReceiveStockRequest {
            request_id: reserve_tests::rid(),
            depot_code: "HB-SY-FX-01".into(),
            item_id: "tarpaulin".into(),
            lot_number: "TP-W".into(),
            quantity: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), first.message())
        .await
        .expect("the receipt's event comes")
        .unwrap()
        .unwrap()
        .events[0]
        .id;
    drop(first);

    let mut args: Vec<String> = vec![
        "--server".into(),
        cli.server.clone(),
        "--token".into(),
        watcher.clone(),
    ];
    args.extend(words(&format!("-o json watch --after {n} --depot {FX}")));
    let mut child = cli
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start reservectl watch");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // Another terminal raises, submits, approves and dispatches an order.
    let ma = app.token_for("ma", &[Role::Dispatcher], FX);
    let made = cli
        .run(
            &ma,
            &words(
                "propose --to HB-SY-FX-01 --need quilt-cotton:500 --need tent-12m2:20 \
                 --create-order --priority urgent --reason 山洪 --receiver-name 张华 \
                 --receiver-phone 13997800000",
            ),
        )
        .await
        .stdout;
    // "raised DB-2026-000001 (id ...) as a draft from the proposal"
    let raised = made
        .lines()
        .find_map(|l| l.strip_prefix("raised "))
        .unwrap_or_else(|| panic!("{made}"));
    let (number, rest) = raised.split_once(" (id ").unwrap();
    let id = rest.split_once(')').unwrap().0.to_string();
    let number = number.to_string();
    assert!(
        made.contains("the draft carries every unit needed"),
        "{made}"
    );
    assert!(made.contains("the proposal it came from"), "{made}");
    cli.run(&ma, &words(&format!("orders submit {number}")))
        .await;
    let niu = app.token_for("niu", &[Role::Dispatcher], FX);
    cli.run(
        &niu,
        &words(&format!("orders approve {number} --note 同意")),
    )
    .await;
    let yang = app.token_for("yang", &[Role::DepotKeeper], FX);
    cli.run(
        &yang,
        &words(&format!("orders dispatch {number} --source {FX}")),
    )
    .await;

    let want = [
        "CreateOrderFromProposal",
        "SubmitAllocationOrder",
        "ApproveAllocationOrder",
        "DispatchAllocationOrder",
    ];
    let resource = format!("allocationOrders/{id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    let mut methods: Vec<String> = Vec::new();
    while methods.len() < want.len() {
        match rx.try_recv() {
            Ok(line) => {
                let e: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|err| panic!("not one JSON object per line ({err}): {line}"));
                if text(&e["resource"]) == resource {
                    methods.push(
                        text(&e["method"])
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
                lines.push(e);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "watch gave {methods:?} of {want:?} ({e:?}); stderr:\n{}\nlines: {lines:?}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(methods, want, "{lines:?}");
    let ids: Vec<i64> = lines.iter().map(|e| int(&e["id"])).collect();
    assert!(
        ids.iter().all(|i| *i > n),
        "only what came after {n}: {ids:?}"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    for e in &lines {
        assert!(text(&e["depotCode"]).starts_with(FX), "{e}");
        assert!(text(&e["time"]).ends_with('Z'), "{e}");
    }
    let order_events: Vec<&Value> = lines
        .iter()
        .filter(|e| text(&e["resource"]) == resource)
        .collect();
    assert!(
        order_events
            .iter()
            .all(|e| e["kind"] == "EVENT_KIND_DOCUMENT"),
        "{order_events:?}"
    );
    assert_eq!(
        order_events[0]["detail"]["created"]["number"], number,
        "{order_events:?}"
    );
    assert_eq!(
        order_events[3]["detail"]["state"],
        serde_json::json!(["approved", "dispatched"])
    );
}
