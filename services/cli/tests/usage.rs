//! What `reservectl` refuses before it ever reaches a server: flags that are
//! required, depend on each other, or must be one of a set. Having this test
//! also makes `cargo test --workspace` build the binary, which the
//! end-to-end walk-through in `tests/e2e/cli.rs` runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn reservectl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reservectl"))
        .args(args)
        // Never reach a real server or use a real token from the environment.
        .env("RESERVE_SERVER", "http://127.0.0.1:9")
        .env_remove("RESERVE_TOKEN")
        .env_remove("RESERVE_TOKEN_FILE")
        .output()
        .expect("run reservectl")
}

/// Asserts a usage error (exit status 2) whose message contains `needles`.
fn refused(args: &[&str], needles: &[&str]) {
    let out = reservectl(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?} should mention {n}: {err}");
    }
}

#[test]
fn a_release_needs_a_reason_and_no_longer_takes_a_note() {
    refused(
        &[
            "stock",
            "release",
            "--item",
            "quilt-cotton",
            "--lot",
            "QC-2026-11",
            "--qty",
            "2",
        ],
        &["--reason"],
    );
    refused(
        &[
            "stock",
            "release",
            "--item",
            "quilt-cotton",
            "--lot",
            "QC-2026-11",
            "--qty",
            "2",
            "--reason",
            "晾晒后完好",
            "--note",
            "x",
        ],
        &["--note"],
    );
}

#[test]
fn a_ledger_lot_filter_needs_its_item() {
    refused(&["stock", "ledger", "--lot", "QC-2026-11"], &["--item"]);
}

#[test]
fn ledger_filters_name_what_they_accept() {
    refused(
        &["stock", "ledger", "--type", "sale"],
        &["transfer-out", "reversal"],
    );
    refused(&["stock", "ledger", "--since", "yesterday"], &["RFC 3339"]);
    refused(&["stock", "ledger", "--limit", "0"], &["--limit"]);
}

#[test]
fn choices_come_from_the_api_enums() {
    refused(
        &["depots", "list", "--status", "open"],
        &["active", "suspended", "closed"],
    );
    refused(
        &[
            "stock",
            "receive",
            "--item",
            "x",
            "--lot",
            "y",
            "--owning-tier",
            "village",
        ],
        &["province", "township"],
    );
}

#[test]
fn help_lists_the_read_commands_of_single_records() {
    let out = reservectl(&["stock", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "entry",
        "adjustment",
        "scrap-application",
        "lot",
        "lots",
        "asset",
    ] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "stock --help lacks {cmd}: {help}"
        );
    }
}

/// The flags of an order a dispatcher must give, for `orders create`.
const ORDER: [&str; 10] = [
    "orders",
    "create",
    "--to",
    "HB-SY-ZS-01",
    "--reason",
    "城关镇内涝",
    "--receiver-name",
    "李明",
    "--receiver-phone",
    "13972800000",
];

#[test]
fn a_new_order_needs_a_reason_a_receiver_a_destination_and_lines() {
    refused(
        &["orders", "create"],
        &[
            "--reason",
            "--receiver-name",
            "--receiver-phone",
            "--to",
            "--site-lat",
            "--line",
            "--lines-file",
        ],
    );
    refused(&ORDER, &["--line", "--lines-file"]);
    let mut both = ORDER.to_vec();
    both.extend(["--site-lat", "32.2", "--site-lng", "110.2"]);
    both.extend(["--line", "quilt-cotton:5"]);
    refused(&both, &["--to", "--site-lat"]);
}

#[test]
fn a_bad_line_is_refused_naming_the_flag_and_the_part() {
    for (line, says) in [
        ("quilt-cotton", "no quantity"),
        ("quilt-cotton:many", "quantity 'many'"),
        ("quilt-cotton:500:HB-SY-ZS", "no '=QTY'"),
        ("quilt-cotton:500:HB-SY-ZS=lots", "source quantity 'lots'"),
    ] {
        let mut args = ORDER.to_vec();
        args.extend(["--line", line]);
        refused(&args, &["--line", says]);
    }
    let mut args = ORDER.to_vec();
    args.extend(["--line", "quilt-cotton:5", "--lines-file", "lines.yaml"]);
    refused(&args, &["--lines-file"]);
}

#[test]
fn a_lines_file_is_read_before_the_server_is_asked() {
    let mut args = ORDER.to_vec();
    args.extend(["--lines-file", "/nonexistent/lines.yaml"]);
    refused(
        &args,
        &["--lines-file", "cannot read /nonexistent/lines.yaml"],
    );
    let dir = std::env::temp_dir().join(format!("reservectl-usage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("lines.yaml");
    std::fs::write(
        &bad,
        "- item: quilt-cotton\n  quantity: 500\n  from: HB-SY-ZS\n",
    )
    .unwrap();
    let mut args = ORDER.to_vec();
    let path = bad.to_string_lossy().into_owned();
    args.extend(["--lines-file", path.as_str()]);
    refused(&args, &["--lines-file", "unknown field `from`", "line 3"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_receipt_names_its_shares_or_takes_everything() {
    refused(
        &["orders", "receive", "DB-2026-000001"],
        &["--share", "--all"],
    );
    refused(
        &[
            "orders",
            "receive",
            "DB-2026-000001",
            "--all",
            "--share",
            "1:HB-SY-ZS:L:received=1",
        ],
        &["--all", "--share"],
    );
    for (share, says) in [
        ("1:HB-SY-ZS:received=3", "LINE:SOURCE:LOT"),
        ("one:HB-SY-ZS:L:received=3", "not a line number"),
        ("1:HB-SY-ZS:L:arrived=3", "'arrived'"),
    ] {
        refused(
            &["orders", "receive", "DB-2026-000001", "--share", share],
            &["--share", says],
        );
    }
}

#[test]
fn a_short_dispatch_needs_a_note_and_names_line_lot_and_quantity() {
    refused(
        &["orders", "dispatch", "DB-2026-000001", "--short", "1:L:480"],
        &["--note"],
    );
    refused(
        &[
            "orders",
            "dispatch",
            "DB-2026-000001",
            "--short",
            "480",
            "--note",
            "x",
        ],
        &["--short", "LINE:LOT:QTY"],
    );
    refused(
        &["orders", "dispatch", "DB-2026-000001", "--eta", "soon"],
        &["--eta", "RFC 3339"],
    );
}

#[test]
fn order_and_incident_choices_come_from_the_api_enums() {
    refused(
        &["orders", "list", "--state", "open"],
        &["draft", "dispatched", "cancelled"],
    );
    refused(
        &["orders", "list", "--priority", "high"],
        &["routine", "urgent", "emergency"],
    );
    let mut kind = ORDER.to_vec();
    kind.extend(["--kind", "loan", "--line", "quilt-cotton:5"]);
    refused(&kind, &["transfer", "incident-site", "pre-position"]);
    refused(
        &["incidents", "list", "--type", "volcano"],
        &["flood", "snow-and-ice", "wind"],
    );
    refused(
        &["incidents", "create", "--name", "x", "--type", "flood"],
        &["--time", "--lat", "--lng", "--address"],
    );
}

#[test]
fn the_audit_log_of_an_order_is_one_filter() {
    refused(
        &[
            "audit",
            "list",
            "--order",
            "DB-2026-000001",
            "--resource",
            "depots/HB",
        ],
        &["--order", "--resource"],
    );
}

#[test]
fn help_lists_every_order_and_incident_command() {
    for (group, cmds) in [
        (
            "orders",
            &[
                "create", "amend", "submit", "approve", "reject", "dispatch", "receive", "close",
                "cancel", "show", "list", "overdue",
            ][..],
        ),
        ("incidents", &["create", "get", "list"][..]),
    ] {
        let out = reservectl(&[group, "--help"]);
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for cmd in cmds {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
                "{group} --help lacks {cmd}: {help}"
            );
        }
    }
}

/// A proposal to 房县城关镇 for 500 quilts.
const PROPOSE: [&str; 5] = [
    "propose",
    "--to",
    "HB-SY-FX-01",
    "--need",
    "quilt-cotton:500",
];

#[test]
fn a_proposal_needs_a_destination_and_needs_of_whole_units() {
    refused(&["propose"], &["--need", "--to", "--site-lat"]);
    refused(&["propose", "--to", "HB-SY-FX-01"], &["--need"]);
    refused(
        &["propose", "--need", "quilt-cotton:500"],
        &["--to", "--site-lat"],
    );
    for (need, says) in [
        ("quilt-cotton", "no quantity"),
        ("quilt-cotton:many", "'many' is not a whole number"),
        ("quilt-cotton:0", "must be 1 to 1000000000"),
        (":5", "no item"),
    ] {
        refused(
            &["propose", "--to", "HB-SY-FX-01", "--need", need],
            &["--need", says],
        );
    }
    let mut twice = PROPOSE.to_vec();
    twice.extend(["--need", "tent-12m2:20", "--need", "quilt-cotton:3"]);
    refused(&twice, &["--need", "quilt-cotton is needed twice"]);
    let mut both = PROPOSE.to_vec();
    both.extend(["--site-lat", "32.1", "--site-lng", "110.7"]);
    refused(&both, &["--to", "--site-lat"]);
    refused(
        &[
            "propose",
            "--site-lat",
            "32.1",
            "--need",
            "quilt-cotton:500",
        ],
        &["--site-lng"],
    );
}

#[test]
fn order_flags_on_a_proposal_need_create_order_and_then_a_reason_and_a_receiver() {
    let mut stray = PROPOSE.to_vec();
    stray.extend(["--reason", "山洪"]);
    refused(&stray, &["--create-order"]);
    let mut order = PROPOSE.to_vec();
    order.push("--create-order");
    refused(&order, &["--reason", "--receiver-name", "--receiver-phone"]);
    let mut both = order.clone();
    both.extend([
        "--reason",
        "山洪",
        "--receiver-name",
        "张华",
        "--receiver-phone",
        "13997800000",
        "--priority",
        "urgent",
        "--emergency",
    ]);
    refused(&both, &["--emergency", "--priority"]);
    let mut kind = order.clone();
    kind.extend(["--kind", "loan"]);
    refused(&kind, &["transfer", "incident-site"]);
}

/// An agreement with every flag it needs.
const AGREEMENT: [&str; 16] = [
    "agreements",
    "create",
    "--company",
    "房县鑫源帐篷被服有限公司",
    "--credit-code",
    "91420325MA49R6KU05",
    "--kind",
    "agreement",
    "--response-hours",
    "12",
    "--valid-from",
    "2026-01-01",
    "--valid-until",
    "2028-12-31",
    "--item",
    "tent-12m2:100",
];

/// `AGREEMENT` with `flag` given `value` instead.
fn agreement_with(flag: &str, value: &str) -> Vec<String> {
    let mut a: Vec<String> = AGREEMENT.iter().map(|s| s.to_string()).collect();
    let at = a.iter().position(|s| s == flag).unwrap();
    a[at + 1] = value.to_string();
    a
}

fn refused_owned(args: &[String], needles: &[&str]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, needles);
}

#[test]
fn an_agreement_needs_its_company_code_kind_hours_dates_and_items() {
    refused(
        &["agreements", "create"],
        &[
            "--company",
            "--credit-code",
            "--kind",
            "--response-hours",
            "--valid-from",
            "--valid-until",
            "--item",
        ],
    );
    refused(&AGREEMENT[..14], &["--item"]);
}

#[test]
fn a_bad_agreement_flag_is_refused_naming_it_before_anything_is_sent() {
    refused_owned(
        &agreement_with("--credit-code", "91420325MA49R6KU06"),
        &["--credit-code", "wrong check character '6'", "'5'"],
    );
    refused_owned(
        &agreement_with("--credit-code", "9142032"),
        &["--credit-code", "18 characters"],
    );
    refused_owned(
        &agreement_with("--kind", "loan"),
        &["--kind", "agreement", "capacity"],
    );
    refused_owned(
        &agreement_with("--response-hours", "0"),
        &["--response-hours", "1 to 720"],
    );
    refused_owned(
        &agreement_with("--valid-from", "2026-13-01"),
        &["--valid-from", "YYYY-MM-DD"],
    );
    refused_owned(
        &agreement_with("--valid-until", "2025-12-31"),
        &["--valid-until", "before --valid-from"],
    );
    refused_owned(
        &agreement_with("--item", "tent-12m2"),
        &["--item", "no quantity"],
    );
    let mut twice: Vec<&str> = AGREEMENT.to_vec();
    twice.extend(["--item", "tent-12m2:5"]);
    refused(&twice, &["--item", "tent-12m2", "twice"]);
    let mut contact: Vec<&str> = AGREEMENT.to_vec();
    contact.extend(["--contact", "王强"]);
    refused(&contact, &["--contact", "name,duty,phone"]);
}

#[test]
fn a_call_off_and_its_delivery_name_what_they_need() {
    refused(&["agreements", "call-off", "A1"], &["--item", "--reason"]);
    refused(
        &[
            "agreements",
            "call-off",
            "A1",
            "--item",
            "tent-12m2:-3",
            "--reason",
            "x",
        ],
        &["--item", "must be 1 to"],
    );
    refused(
        &[
            "agreements",
            "receive",
            "C1",
            "--item",
            "tent-12m2",
            "--lot",
            "L",
        ],
        &["--qty", "--serial"],
    );
    refused(
        &[
            "agreements",
            "receive",
            "C1",
            "--item",
            "tent-12m2",
            "--lot",
            "L",
            "--qty",
            "3",
            "--serial",
            "S1",
        ],
        &["--serial", "--qty"],
    );
    refused(
        &[
            "agreements",
            "receive",
            "C1",
            "--item",
            "tent-12m2",
            "--lot",
            "L",
            "--qty",
            "0",
        ],
        &["--qty"],
    );
    refused(
        &["agreements", "receive", "C1", "--lot", "L", "--qty", "3"],
        &["--item"],
    );
    refused(&["agreements", "list", "--expiring", "0"], &["--expiring"]);
    refused(
        &["agreements", "list", "--expiring", "4000"],
        &["--expiring"],
    );
}

#[test]
fn readiness_and_watch_refuse_values_out_of_range() {
    refused(&["readiness", "--people", "0"], &["--people"]);
    refused(&["readiness", "--people", "many"], &["--people"]);
    refused(
        &["watch", "--kind", "orders"],
        &[
            "stock",
            "document",
            "alert-low-stock",
            "alert-expiring-agreement",
        ],
    );
    refused(&["watch", "--after", "0"], &["--after"]);
    refused(&["watch", "--after", "-5"], &["--after"]);
}

#[test]
fn help_lists_the_sourcing_commands() {
    let out = reservectl(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["propose", "agreements", "readiness", "watch"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "--help lacks {cmd}: {help}"
        );
    }
    let out = reservectl(&["agreements", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["create", "get", "list", "call-off", "receive", "call-offs"] {
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "agreements --help lacks {cmd}: {help}"
        );
    }
}
