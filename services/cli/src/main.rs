//! `reservectl`: the command-centre client of the reserve network.

mod commands;
mod conn;
mod output;
mod paging;
mod when;

use base64::Engine;
use clap::{CommandFactory, Parser, Subcommand};
use commands::{
    agreements::AgreementsCmd,
    audit::AuditCmd,
    depots::DepotsCmd,
    import::ImportCmd,
    incidents::IncidentsCmd,
    items::ItemsCmd,
    leases::LeasesCmd,
    maintenance::{RepairsCmd, UpkeepCmd},
    norms::NormsCmd,
    orders::OrdersCmd,
    propose::ProposeArgs,
    readiness::ReadinessArgs,
    stock::StockCmd,
    token::TokenArgs,
    watch::WatchArgs,
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
    /// Propose where the supplies for a need come from and when they
    /// arrive; with --create-order, raise the proposal as a draft order.
    Propose(ProposeArgs),
    /// Enterprise reserves: agreements with companies, call-offs and their
    /// deliveries.
    #[command(subcommand)]
    Agreements(AgreementsCmd),
    /// Leases of equipment and supplies to outside organisations: out,
    /// back after inspection, statements, and emergency recall.
    #[command(subcommand)]
    Leases(LeasesCmd),
    /// Requisitions (征用): property taken at the scene, its voucher, and
    /// what became of each item.
    #[command(subcommand)]
    Requisitions(commands::requisitions::RequisitionsCmd),
    /// Compensation claims for requisitioned property: assess, approve, pay,
    /// report and export (finance).
    #[command(subcommand)]
    Claims(commands::claims::ClaimsCmd),
    /// How soon a relief kit reaches each township and county, against the
    /// first-batch targets (county 6 h, city 8 h, province 10 h).
    Readiness(ReadinessArgs),
    /// Follow what happens, live: stock movements, document transitions and
    /// alerts, one line each, until Ctrl-C.
    Watch(WatchArgs),
    /// Upkeep: plans, records, and what is due.
    #[command(subcommand)]
    Upkeep(UpkeepCmd),
    /// Repairs: send equipment for repair and end the repair.
    #[command(subcommand)]
    Repairs(RepairsCmd),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Load opening stock, depots, items or reserve norms from CSV or Excel
    /// (templates in docs/templates/); every bad row is reported and
    /// nothing is posted unless the whole file is valid.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Write stock, ledger history, roll-ups or shortfalls of a subtree to
    /// a CSV or Excel file.
    Export(commands::export::ExportArgs),
}

impl Cmd {
    /// What is wrong with flags that are each fine but not together (an
    /// item named twice, dates out of order), found before anything is
    /// sent.
    fn check(&self) -> Result<(), String> {
        match self {
            Cmd::Propose(a) => a.check(),
            Cmd::Agreements(c) => c.check(),
            _ => Ok(()),
        }
    }
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
        Cmd::Import(c) => {
            let scope = token_scope(&cli.conn);
            commands::import::run(c, cli.conn.connect().await?, cli.output, scope).await
        }
        Cmd::Export(a) => {
            let scope = token_scope(&cli.conn);
            commands::export::run(a, cli.conn.connect().await?, scope).await
        }
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
        Cmd::Propose(a) => {
            commands::propose::run(a, cli.conn.connect().await?, cli.output, cli.request_id).await
        }
        Cmd::Agreements(c) => {
            commands::agreements::run(c, cli.conn.connect().await?, cli.output, cli.request_id)
                .await
        }
        Cmd::Leases(c) => {
            commands::leases::run(c, cli.conn.connect().await?, cli.output, cli.request_id).await
        }
        Cmd::Requisitions(c) => {
            commands::requisitions::run(c, cli.conn.connect().await?, cli.output, cli.request_id)
                .await
        }
        Cmd::Claims(c) => {
            commands::claims::run(c, cli.conn.connect().await?, cli.output, cli.request_id).await
        }
        Cmd::Readiness(a) => {
            commands::readiness::run(a, cli.conn.connect().await?, cli.output).await
        }
        Cmd::Watch(a) => commands::watch::run(a, cli.conn.connect().await?, cli.output).await,
        Cmd::Upkeep(c) => {
            let scope = token_scope(&cli.conn);
            commands::maintenance::upkeep(
                c,
                cli.conn.connect().await?,
                cli.output,
                scope,
                cli.request_id,
            )
            .await
        }
        Cmd::Repairs(c) => {
            let scope = token_scope(&cli.conn);
            commands::maintenance::repairs(
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
    if let Err(e) = cli.command.check() {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, e)
            .exit();
    }
    let flag_of: output::FlagOf = match &cli.command {
        Cmd::Orders(_) => commands::orders::flag_of,
        Cmd::Incidents(_) => commands::incidents::flag_of,
        Cmd::Propose(_) => commands::propose::flag_of,
        Cmd::Agreements(_) => commands::agreements::flag_of,
        Cmd::Readiness(_) => commands::readiness::flag_of,
        Cmd::Leases(_) => commands::leases::flag_of,
        Cmd::Requisitions(_) => commands::requisitions::flag_of,
        Cmd::Claims(_) => commands::claims::flag_of,
        Cmd::Watch(_) => commands::watch::flag_of,
        Cmd::Upkeep(_) | Cmd::Repairs(_) => commands::maintenance::flag_of,
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
