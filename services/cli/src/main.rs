//! `reservectl`: the command-centre client of the reserve network.

mod commands;
mod conn;
mod output;
mod paging;
mod when;

use base64::Engine;
use clap::{Parser, Subcommand};
use commands::{
    audit::AuditCmd, depots::DepotsCmd, incidents::IncidentsCmd, items::ItemsCmd, norms::NormsCmd,
    orders::OrdersCmd, stock::StockCmd, token::TokenArgs,
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
    /// Incidents: the floods, earthquakes and fires orders are made for.
    #[command(subcommand)]
    Incidents(IncidentsCmd),
    /// Allocation orders (调拨单): raise, approve, dispatch, receive, close.
    #[command(subcommand)]
    Orders(OrdersCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
}

/// The scope depot named in the token, read without verifying it (the
/// server verifies); used only to pick defaults: the root of `depots tree`,
/// the depot of stock commands, the source of a dispatch.
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
        Cmd::Incidents(c) => {
            commands::incidents::run(c, cli.conn.connect().await?, cli.output, cli.request_id).await
        }
        Cmd::Orders(c) => {
            let scope = token_scope(&cli.conn);
            commands::orders::run(
                c,
                cli.conn.connect().await?,
                cli.output,
                scope,
                cli.request_id,
            )
            .await
        }
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
    let flag_of: output::FlagOf = match &cli.command {
        Cmd::Orders(_) => commands::orders::flag_of,
        Cmd::Incidents(_) => commands::incidents::flag_of,
        _ => output::no_flags,
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<tonic::Status>() {
                Some(s) => eprintln!("error: {}", output::status_text(s, flag_of)),
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
