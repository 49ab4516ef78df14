//! `reservectl audit list`: the audit log.

use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
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
        #[command(flatten)]
        limit: LimitArg,
    },
}

/// Runs an audit command.
pub async fn run(cmd: AuditCmd, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let c = AuditServiceClient::new(ch);
    let AuditCmd::List {
        depot,
        actor,
        method,
        resource,
        limit,
    } = cmd;
    let template = pb::ListAuditEventsRequest {
        depot_code: depot.unwrap_or_default(),
        actor: actor.unwrap_or_default(),
        method: method.unwrap_or_default(),
        resource: resource.unwrap_or_default(),
        ..Default::default()
    };
    let got = paging::fetch(limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListAuditEventsRequest {
            page_size,
            page_token,
            ..template.clone()
        };
        async move {
            let r = c.list_audit_events(req).await?.into_inner();
            Ok((r.events, r.next_page_token))
        }
    })
    .await?;
    if fmt == Format::Json {
        got.note_more(fmt);
        return json(
            "reserve.v1.ListAuditEventsResponse",
            &pb::ListAuditEventsResponse {
                events: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    let mut t = table(&[
        "#",
        "time (Beijing)",
        "actor",
        "method",
        "resource",
        "changes",
    ]);
    for e in &got.items {
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
    got.note_more(fmt);
    Ok(())
}
