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
