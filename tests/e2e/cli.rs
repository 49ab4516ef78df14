//! The README's walk-through with `reservectl` and its "Stock: a depot
//! keeper's day", run line by line with the real `reservectl` binary against
//! a real server over the demo network and its demo stock, as
//! `reserve-server --seed-demo` starts.
//!
//! The commands are read from README.md itself, so a README change that
//! breaks a command breaks this test. Each `export RESERVE_TOKEN=$(reservectl
//! token ...)` line is run as written (against a throwaway development key)
//! and its claims re-signed with the test server's key. A placeholder such as
//! `COUNT_ID` is read from the `-o json` answer of the command just before
//! its first use, as a keeper would read it off the screen. Everything else
//! runs exactly as written, and the test checks what a keeper would notice.

use reserve_api::auth::Claims;
use reserve_tests::TestApp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const README: &str = include_str!("../../README.md");
/// The README sections whose first shell block the test runs, in order.
const SECTIONS: [&str; 2] = [
    "## A walk-through with `reservectl`",
    "### Stock: a depot keeper's day",
];

/// The shell blocks of the README sections, with continuation lines joined,
/// comments and the `alias` line removed: one command per entry, in words.
fn readme_commands() -> Vec<Vec<String>> {
    SECTIONS
        .iter()
        .flat_map(|s| section_commands(s))
        .filter(|words| words[0] != "alias")
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

/// A placeholder the README asks the reader to fill in, e.g. `COUNT_ID`.
fn is_placeholder(word: &str) -> bool {
    word.ends_with("_ID") && word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

/// The `reservectl` that `cargo build -p reserve-cli` (or `cargo test
/// --workspace`) puts beside this test binary's `deps` folder.
fn reservectl_path() -> PathBuf {
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
    let mut token = String::new();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut seen = Vec::new();

    for (n, step) in steps.iter().enumerate() {
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
        let args: Vec<String> = step[1..]
            .iter()
            .map(|w| match ids.get(w) {
                Some(id) => id.clone(),
                None if is_placeholder(w) => panic!("{w} is used before it is known: {line}"),
                None => w.clone(),
            })
            .collect();
        assert!(!token.is_empty(), "no token before {line}");

        // The command right before a placeholder's first use is where the
        // reader takes it from; read it from the JSON answer.
        let defines = steps[n + 1..]
            .first()
            .into_iter()
            .flatten()
            .find(|w| is_placeholder(w) && !ids.contains_key(*w))
            .cloned();
        let ran = match defines {
            Some(placeholder) => {
                let mut json_args = words("-o json");
                json_args.extend(args.iter().cloned());
                let answer = cli.run(&token, &json_args).await.json();
                let (id, from_a_list) = match placeholder.as_str() {
                    "ENTRY_ID" => (text(&answer["entry"]["id"]).to_string(), false),
                    "COUNT_ID" => (text(&answer["count"]["id"]).to_string(), false),
                    "ADJUSTMENT_ID" => (
                        only_pending(&answer["adjustments"], "APPROVAL_STATUS_PENDING"),
                        true,
                    ),
                    "APPLICATION_ID" => (
                        only_pending(&answer["applications"], "APPROVAL_STATUS_PENDING"),
                        true,
                    ),
                    other => panic!("the test does not know where {other} comes from"),
                };
                assert!(!id.is_empty(), "{placeholder} from {line}: {answer}");
                ids.insert(placeholder, id.clone());
                if from_a_list {
                    // Reading a list changes nothing: also show it as the
                    // keeper sees it, with the id to copy.
                    let table = cli.run(&token, &args).await;
                    assert!(
                        table.stdout.contains(&id),
                        "{line} shows {id}:\n{}",
                        table.stdout
                    );
                    table
                } else {
                    Ran {
                        stdout: answer.to_string(),
                    }
                }
            }
            None => cli.run(&token, &args).await,
        };
        // Shown when the test fails: the walk-through as the keeper saw it.
        println!("$ reservectl {}\n{}", args.join(" "), ran.stdout);
        seen.push(format!("reservectl {}", args.join(" ")));
        check_step(&cli, &token, &ids, &args, &ran).await;
    }

    // Every kind of step the assertions below rely on was in the README.
    for must in [
        "stock issue --item water-bottled",
        "stock reverse",
        "stock count approve",
        "stock approve-adjustment",
        "stock approve-scrap",
        "stock check",
    ] {
        assert!(
            seen.iter().any(|s| s.contains(must)),
            "the walk-through no longer has `{must}`"
        );
    }
    app.assert_ledger_consistent().await;
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
