//! `reservectl audit list`: the audit log.

use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::audit_service_client::AuditServiceClient;

/// Audit commands.
#[derive(clap::Subcommand, Debug)]
pub enum AuditCmd {
    /// List audit events, newest first.
    List {
        /// Only this depot's subtree (default: your scope).
        #[arg(long)]
        depot: Option<String>,
        /// Only this user.
        #[arg(long)]
        actor: Option<String>,
        /// Only this method (e.g. CreateDepot).
        #[arg(long)]
        method: Option<String>,
        /// Only this resource (e.g. depots/HB-SY).
        #[arg(long)]
        resource: Option<String>,
        /// How many events to show.
        #[arg(long, default_value_t = 50)]
        limit: i32,
    },
}

/// Runs an audit command.
pub async fn run(cmd: AuditCmd, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let mut c = AuditServiceClient::new(ch);
    let AuditCmd::List {
        depot,
        actor,
        method,
        resource,
        limit,
    } = cmd;
    let r = c
        .list_audit_events(pb::ListAuditEventsRequest {
            page_size: limit,
            page_token: String::new(),
            depot_code: depot.unwrap_or_default(),
            actor: actor.unwrap_or_default(),
            method: method.unwrap_or_default(),
            resource: resource.unwrap_or_default(),
            start_time: None,
            end_time: None,
        })
        .await?
        .into_inner();
    if fmt == Format::Json {
        return json("reserve.v1.ListAuditEventsResponse", &r);
    }
    let mut t = table(&[
        "#",
        "time (Beijing)",
        "actor",
        "method",
        "resource",
        "changes",
    ]);
    for e in &r.events {
        let method = e.method.rsplit('/').next().unwrap_or(&e.method).to_string();
        let mut changes = crate::output::struct_json(e.changes.as_ref());
        if changes.chars().count() > 80 {
            changes = changes.chars().take(77).collect::<String>() + "...";
        }
        t.add_row(vec![
            e.sequence.to_string(),
            time(e.time.as_ref()),
            format!("{} ({})", e.actor_name, e.actor),
            method,
            e.resource.clone(),
            changes,
        ]);
    }
    print_table(&t);
    Ok(())
}
