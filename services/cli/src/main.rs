//! `reservectl`: the command-centre client of the reserve network.

mod commands;
mod conn;
mod output;
mod paging;
mod when;

use base64::Engine;
use clap::{Parser, Subcommand};
use commands::{
    audit::AuditCmd, depots::DepotsCmd, items::ItemsCmd, norms::NormsCmd, stock::StockCmd,
    token::TokenArgs,
};
use conn::ConnArgs;
use output::Format;
use std::process::ExitCode;

/// Command-centre client of the emergency reserve network.
#[derive(Parser, Debug)]
#[command(name = "reservectl", version, about)]
struct Cli {
    #[command(flatten)]
    conn: ConnArgs,
    /// Output format.
    #[arg(long, short, global = true, value_enum, default_value = "table")]
    output: Format,
    /// Request id of a write, to retry it safely: a retry with the same id
    /// returns the first answer and changes nothing (default: a new one).
    #[arg(long, global = true)]
    request_id: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Mint a token for the local development key.
    Token(TokenArgs),
    /// The depot network.
    #[command(subcommand)]
    Depots(DepotsCmd),
    /// The item catalogue.
    #[command(subcommand)]
    Items(ItemsCmd),
    /// Reserve norms: the minimum and target each depot keeps of an item.
    #[command(subcommand)]
    Norms(NormsCmd),
    /// Stock: receive, issue, hold, correct, count, and the reports.
    #[command(subcommand)]
    Stock(StockCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
}

/// The scope depot named in the token, read without verifying it (the
/// server verifies); used only to pick a default for `depots tree`.
fn token_scope(conn: &ConnArgs) -> Option<String> {
    let token = conn.token().ok().flatten()?;
    let body = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("scope_depot")?.as_str().map(str::to_string)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Token(a) => commands::token::run(a),
        Cmd::Depots(c) => {
            let hint = token_scope(&cli.conn);
            commands::depots::run(
                c,
                cli.conn.connect().await?,
                cli.output,
                hint,
                cli.request_id,
            )
            .await
        }
        Cmd::Items(c) => commands::items::run(c, cli.conn.connect().await?, cli.output).await,
        Cmd::Norms(c) => {
            commands::norms::run(c, cli.conn.connect().await?, cli.output, cli.request_id).await
        }
        Cmd::Audit(c) => commands::audit::run(c, cli.conn.connect().await?, cli.output).await,
        Cmd::Stock(c) => {
            let scope = token_scope(&cli.conn);
            commands::stock::run(
                c,
                cli.conn.connect().await?,
                cli.output,
                scope,
                cli.request_id,
            )
            .await
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<tonic::Status>() {
                Some(s) => eprintln!("error: {}", output::status_text(s)),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
