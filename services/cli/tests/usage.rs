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
