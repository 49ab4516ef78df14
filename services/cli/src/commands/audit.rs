//! `reservectl audit list`: the audit log.

use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;
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
        /// Only this allocation order (its id or number, DB-2026-000001).
        #[arg(long, conflicts_with = "resource")]
        order: Option<String>,
        #[command(flatten)]
        limit: LimitArg,
    },
}

/// Runs an audit command.
pub async fn run(cmd: AuditCmd, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let AuditCmd::List {
        depot,
        actor,
        method,
        resource,
        order,
        limit,
    } = cmd;
    // The log names an order by its id: look the number up.
    let resource = match order {
        Some(o) => {
            let found = AllocationServiceClient::new(ch.clone())
                .get_allocation_order(pb::GetAllocationOrderRequest { order_id: o })
                .await?
                .into_inner()
                .order
                .unwrap_or_default();
            format!("allocationOrders/{}", found.id)
        }
        None => resource.unwrap_or_default(),
    };
    let c = AuditServiceClient::new(ch);
    let template = pb::ListAuditEventsRequest {
        depot_code: depot.unwrap_or_default(),
        actor: actor.unwrap_or_default(),
        method: method.unwrap_or_default(),
        resource,
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
