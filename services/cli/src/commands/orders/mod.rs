//! `reservectl orders ...`: allocation orders (调拨单) from need to receipt.
//! A dispatcher raises, submits and closes; a second dispatcher approves;
//! the source's keeper dispatches; the destination's keeper receives.
//! Orders are named by id or by number (DB-2026-000001).

pub(crate) mod draft;
mod units;
pub(crate) mod view;

use super::choices::{PriorityArg, StateArg};
use super::request_id;
use super::stock::EtagArg;
use crate::conn::Authed;
use crate::output::{Format, json};
use crate::paging::{self, LimitArg};
use crate::when;
use anyhow::{Context, bail};
use draft::OrderFields;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;

/// Allocation order commands.
#[derive(clap::Subcommand, Debug)]
pub enum OrdersCmd {
    /// Raise an order as a draft (a dispatcher over the destination); prints
    /// its number.
    Create(CreateArgs),
    /// Change a draft: what you give replaces what it says, the rest stays
    /// (--line or --lines-file replace every line).
    Amend(AmendArgs),
    /// Submit a draft for approval; every line must be fully sourced.
    Submit(Act),
    /// Approve a submitted order (a dispatcher over every source and the
    /// destination): its units are reserved at the sources.
    Approve(ApproveArgs),
    /// Reject a submitted order.
    Reject(Reasoned),
    /// Dispatch what one source sends (the source's keeper): reserved units
    /// leave and are in transit.
    Dispatch(DispatchArgs),
    /// Receive units in transit (the destination's keeper; for an incident
    /// site, a dispatcher over the command depot), in one go or several.
    Receive(ReceiveArgs),
    /// Close a fully received order.
    Close(Noted),
    /// Cancel an order before anything is dispatched, releasing its
    /// reservations; once some sources have dispatched, call off those yet
    /// to send (what is on the road still arrives).
    Cancel(Reasoned),
    /// Show an order: lines with their shares, dispatches, overrides and the
    /// timeline.
    Show {
        /// Order id or number.
        order: String,
    },
    /// Orders touching a subtree (as source, destination or command depot),
    /// newest first.
    List(ListArgs),
    /// Emergency orders dispatched before approval whose approval is past due
    /// (48 hours after the first dispatch).
    Overdue {
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
        #[command(flatten)]
        limit: LimitArg,
    },
}

/// A new order.
#[derive(clap::Args, Debug)]
#[command(
    group = clap::ArgGroup::new("destination").args(["to", "site_lat"]).required(true),
    group = clap::ArgGroup::new("items").args(["lines", "lines_file"]).required(true),
    mut_arg("reason", |a| a.required(true)),
    mut_arg("receiver_name", |a| a.required(true)),
    mut_arg("receiver_phone", |a| a.required(true)),
)]
pub struct CreateArgs {
    #[command(flatten)]
    fields: OrderFields,
    /// The command depot whose dispatchers answer for the order (default:
    /// your scope depot).
    #[arg(long)]
    command_depot: Option<String>,
}

/// A change to a draft.
#[derive(clap::Args, Debug)]
pub struct AmendArgs {
    /// Order id or number.
    order: String,
    #[command(flatten)]
    fields: OrderFields,
    #[command(flatten)]
    etag: EtagArg,
}

/// An action on an order that needs nothing else.
#[derive(clap::Args, Debug)]
pub struct Act {
    /// Order id or number.
    order: String,
    #[command(flatten)]
    etag: EtagArg,
}

/// An action on an order with an optional note.
#[derive(clap::Args, Debug)]
pub struct Noted {
    /// Order id or number.
    order: String,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    etag: EtagArg,
}

/// Approving an order.
#[derive(clap::Args, Debug)]
pub struct ApproveArgs {
    #[command(flatten)]
    noted: Noted,
    /// Reserve generators or pumps overdue for upkeep, giving the reason.
    #[arg(long)]
    override_upkeep: Option<String>,
}

/// An action on an order that needs a reason.
#[derive(clap::Args, Debug)]
pub struct Reasoned {
    /// Order id or number.
    order: String,
    /// Why.
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    etag: EtagArg,
}

/// One source's dispatch.
#[derive(clap::Args, Debug)]
pub struct DispatchArgs {
    /// Order id or number.
    order: String,
    /// The source depot dispatching (default: your scope depot).
    #[arg(long)]
    source: Option<String>,
    /// Vehicle (plate number).
    #[arg(long, default_value = "")]
    vehicle: String,
    /// Driver's name.
    #[arg(long, default_value = "")]
    driver: String,
    /// Driver's phone.
    #[arg(long, default_value = "")]
    driver_phone: String,
    /// When it leaves: a date or time, Beijing time unless a zone is given.
    #[arg(long, value_parser = when::at)]
    departure: Option<prost_types::Timestamp>,
    /// When it is expected.
    #[arg(long, value_parser = when::at)]
    eta: Option<prost_types::Timestamp>,
    /// A share that leaves short of its reservation: LINE:LOT:QTY, or for
    /// serial-tracked items LINE:LOT:SERIAL+SERIAL; the rest of its
    /// reservation is released. Repeat; needs --note.
    #[arg(long = "short", value_parser = units::parse_short, value_name = "LINE:LOT:QTY", requires = "note")]
    short: Vec<pb::DispatchedShare>,
    /// Why fewer units leave.
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    etag: EtagArg,
}

/// What arrived.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("what").args(["shares", "all"]).required(true))]
pub struct ReceiveArgs {
    /// Order id or number.
    order: String,
    /// What arrived of one share (as `orders show` lists them):
    /// LINE:SOURCE:LOT:received=N[,damaged=N,rejected=N,short=N]; for
    /// serial-tracked items name the serials, received=GEN-1+GEN-2 (a lone
    /// serial of digits only ends with +: received=0042+). Repeat.
    #[arg(
        long = "share",
        value_parser = units::parse_share,
        value_name = "LINE:SOURCE:LOT:received=N,..."
    )]
    shares: Vec<pb::ReceivedShare>,
    /// Everything still in transit, in good order (reads the order first).
    #[arg(long, conflicts_with = "shares")]
    all: bool,
    /// Why there is damage, a refusal or a shortage (required with any).
    #[arg(long, default_value = "")]
    reason: String,
    #[command(flatten)]
    etag: EtagArg,
}

/// Which orders to list.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only orders in this state.
    #[arg(long, value_enum)]
    state: Option<StateArg>,
    /// Only orders of this priority.
    #[arg(long, value_enum)]
    priority: Option<PriorityArg>,
    /// Only orders for this incident (its id).
    #[arg(long)]
    incident: Option<String>,
    /// Only orders raised at or after this: a date or time, Beijing time
    /// unless a zone is given.
    #[arg(long, value_parser = when::at)]
    since: Option<prost_types::Timestamp>,
    /// Only orders raised before this; a bare date includes that whole day.
    #[arg(long, value_parser = when::until)]
    until: Option<prost_types::Timestamp>,
    #[command(flatten)]
    limit: LimitArg,
}

/// The flag behind a request field the server names in an error, e.g.
/// `order.receiver_contact.phone` is `--receiver-phone`, `shares[1].damaged`
/// is `--share #2`.
pub fn flag_of(field: &str) -> Option<String> {
    let f = field.strip_prefix("order.").unwrap_or(field);
    // An indexed field: which occurrence of a repeated flag it came from.
    let nth = |list: &str| -> Option<usize> {
        let rest = f.strip_prefix(list)?.strip_prefix('[')?;
        let n: usize = rest.split_once(']')?.0.parse().ok()?;
        Some(n + 1)
    };
    if f.starts_with("shares[") && f.ends_with(".reason") {
        return Some("--reason".into());
    }
    if let Some(n) = nth("lines") {
        return Some(format!("--line #{n}, or entry #{n} of --lines-file"));
    }
    if let Some(n) = nth("shares") {
        return Some(format!("--share #{n}"));
    }
    if let Some(n) = nth("short_shares") {
        return Some(format!("--short #{n}"));
    }
    let flag = match f {
        "kind" => "--kind",
        "priority" => "--priority",
        "incident_id" => "--incident",
        "reason" => "--reason",
        "people_affected" => "--people",
        "required_by_time" => "--required-by",
        "command_depot_code" => "--command-depot",
        "destination_depot_code" => "--to",
        "destination_site" => "--site-lat, --site-lng and --site-address",
        "destination_site.lat_lng.latitude" => "--site-lat",
        "destination_site.lat_lng.longitude" => "--site-lng",
        "destination_site.address" => "--site-address",
        "receiving_unit" => "--receiving-unit",
        "receiver_contact" => "--receiver-name and --receiver-phone",
        "receiver_contact.name" => "--receiver-name",
        "receiver_contact.duty" => "--receiver-duty",
        "receiver_contact.phone" => "--receiver-phone",
        "sender_contact.name" => "--sender-name",
        "sender_contact.duty" => "--sender-duty",
        "sender_contact.phone" => "--sender-phone",
        "justification" => "--justification",
        "lines" => "--line or --lines-file",
        "shares" => "--share or --all",
        "note" => "--note",
        "etag" => "--etag",
        "request_id" => "--request-id",
        "source_depot_code" => "--source",
        "transport.vehicle" => "--vehicle",
        "transport.driver" => "--driver",
        "transport.driver_phone" => "--driver-phone",
        "transport.departure_time" => "--departure",
        "transport.eta" => "--eta",
        "depot_code" => "--depot",
        "state" => "--state",
        "start_time" => "--since",
        "end_time" => "--until",
        _ => return None,
    };
    Some(flag.to_string())
}

/// What every order command needs.
struct Ctx {
    c: AllocationServiceClient<Authed>,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
}

impl Ctx {
    fn request_id(&self) -> String {
        request_id(&self.rid)
    }

    async fn get(&mut self, order: String) -> anyhow::Result<pb::AllocationOrder> {
        Ok(self
            .c
            .get_allocation_order(pb::GetAllocationOrderRequest { order_id: order })
            .await?
            .into_inner()
            .order
            .unwrap_or_default())
    }

    /// Prints what a change answered: `response` as JSON, or the order.
    fn changed<M: prost::Message>(
        &self,
        full_name: &str,
        response: &M,
        order: Option<&pb::AllocationOrder>,
    ) -> anyhow::Result<()> {
        if self.fmt == Format::Json {
            return json(full_name, response);
        }
        view::changed(&order.cloned().unwrap_or_default());
        Ok(())
    }
}

/// Runs an order command; `scope` is the token's scope depot.
pub async fn run(
    cmd: OrdersCmd,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut x = Ctx {
        c: AllocationServiceClient::new(ch),
        fmt,
        scope,
        rid,
    };
    let x = &mut x;
    match cmd {
        OrdersCmd::Create(a) => create(x, a).await,
        OrdersCmd::Amend(a) => amend(x, a).await,
        OrdersCmd::Submit(a) => {
            let r =
                x.c.submit_allocation_order(pb::SubmitAllocationOrderRequest {
                    request_id: x.request_id(),
                    order_id: a.order,
                    etag: a.etag.etag,
                })
                .await?
                .into_inner();
            x.changed(
                "reserve.v1.SubmitAllocationOrderResponse",
                &r,
                r.order.as_ref(),
            )
        }
        OrdersCmd::Approve(a) => {
            let r =
                x.c.approve_allocation_order(pb::ApproveAllocationOrderRequest {
                    request_id: x.request_id(),
                    order_id: a.noted.order,
                    note: a.noted.note,
                    etag: a.noted.etag.etag,
                    override_upkeep_overdue: a.override_upkeep.is_some(),
                    upkeep_override_reason: a.override_upkeep.unwrap_or_default(),
                })
                .await?
                .into_inner();
            x.changed(
                "reserve.v1.ApproveAllocationOrderResponse",
                &r,
                r.order.as_ref(),
            )
        }
        OrdersCmd::Reject(a) => {
            let r =
                x.c.reject_allocation_order(pb::RejectAllocationOrderRequest {
                    request_id: x.request_id(),
                    order_id: a.order,
                    reason: a.reason,
                    etag: a.etag.etag,
                })
                .await?
                .into_inner();
            x.changed(
                "reserve.v1.RejectAllocationOrderResponse",
                &r,
                r.order.as_ref(),
            )
        }
        OrdersCmd::Dispatch(a) => dispatch(x, a).await,
        OrdersCmd::Receive(a) => receive(x, a).await,
        OrdersCmd::Close(a) => {
            let r =
                x.c.close_allocation_order(pb::CloseAllocationOrderRequest {
                    request_id: x.request_id(),
                    order_id: a.order,
                    note: a.note,
                    etag: a.etag.etag,
                })
                .await?
                .into_inner();
            x.changed(
                "reserve.v1.CloseAllocationOrderResponse",
                &r,
                r.order.as_ref(),
            )
        }
        OrdersCmd::Cancel(a) => {
            let r =
                x.c.cancel_allocation_order(pb::CancelAllocationOrderRequest {
                    request_id: x.request_id(),
                    order_id: a.order,
                    reason: a.reason,
                    etag: a.etag.etag,
                })
                .await?
                .into_inner();
            x.changed(
                "reserve.v1.CancelAllocationOrderResponse",
                &r,
                r.order.as_ref(),
            )
        }
        OrdersCmd::Show { order } => {
            let r =
                x.c.get_allocation_order(pb::GetAllocationOrderRequest { order_id: order })
                    .await?
                    .into_inner();
            if x.fmt == Format::Json {
                return json("reserve.v1.GetAllocationOrderResponse", &r);
            }
            view::show(&r.order.unwrap_or_default());
            Ok(())
        }
        OrdersCmd::List(a) => list(x, a).await,
        OrdersCmd::Overdue { depot, limit } => overdue(x, depot, limit).await,
    }
}

async fn create(x: &mut Ctx, a: CreateArgs) -> anyhow::Result<()> {
    let start = pb::AllocationOrder {
        kind: pb::AllocationKind::Transfer as i32,
        priority: pb::AllocationPriority::Routine as i32,
        command_depot_code: a.command_depot.unwrap_or_default(),
        ..Default::default()
    };
    let order = a.fields.over(start);
    let r =
        x.c.create_allocation_order(pb::CreateAllocationOrderRequest {
            request_id: x.request_id(),
            order: Some(order),
        })
        .await?
        .into_inner();
    if x.fmt == Format::Json {
        return json("reserve.v1.CreateAllocationOrderResponse", &r);
    }
    let o = r.order.unwrap_or_default();
    println!("raised {} (id {}) as a draft", o.number, o.id);
    view::changed(&o);
    Ok(())
}

async fn amend(x: &mut Ctx, a: AmendArgs) -> anyhow::Result<()> {
    // What the draft says now, with what was given written over it. The
    // request carries only the editable fields, so a retry with the same
    // --request-id builds the same request.
    let current = x.get(a.order.clone()).await?;
    let order = a.fields.over(draft::editable(&current));
    let r =
        x.c.amend_allocation_order(pb::AmendAllocationOrderRequest {
            request_id: x.request_id(),
            order: Some(order),
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    x.changed(
        "reserve.v1.AmendAllocationOrderResponse",
        &r,
        r.order.as_ref(),
    )
}

async fn dispatch(x: &mut Ctx, a: DispatchArgs) -> anyhow::Result<()> {
    let source = a
        .source
        .or_else(|| x.scope.clone())
        .context("give --source (no scope depot found in the token)")?;
    let transport = if a.vehicle.is_empty()
        && a.driver.is_empty()
        && a.driver_phone.is_empty()
        && a.departure.is_none()
        && a.eta.is_none()
    {
        None
    } else {
        Some(pb::Transport {
            vehicle: a.vehicle,
            driver: a.driver,
            driver_phone: a.driver_phone,
            departure_time: a.departure,
            eta: a.eta,
        })
    };
    let r =
        x.c.dispatch_allocation_order(pb::DispatchAllocationOrderRequest {
            request_id: x.request_id(),
            order_id: a.order,
            source_depot_code: source,
            transport,
            short_shares: a.short,
            note: a.note,
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    x.changed(
        "reserve.v1.DispatchAllocationOrderResponse",
        &r,
        r.order.as_ref(),
    )
}

async fn receive(x: &mut Ctx, a: ReceiveArgs) -> anyhow::Result<()> {
    let mut shares = if a.all {
        let o = x.get(a.order.clone()).await?;
        let all = units::all_in_transit(&o);
        if all.is_empty() {
            bail!(
                "nothing of {} is in transit ({})",
                o.number,
                view::state(o.state)
            );
        }
        all
    } else {
        a.shares
    };
    if a.reason.trim().is_empty() && shares.iter().any(units::has_discrepancy) {
        bail!("--reason is required with damaged, rejected or short units: say what happened");
    }
    for s in &mut shares {
        s.reason = a.reason.clone();
    }
    let r =
        x.c.receive_allocation_order(pb::ReceiveAllocationOrderRequest {
            request_id: x.request_id(),
            order_id: a.order,
            shares,
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    x.changed(
        "reserve.v1.ReceiveAllocationOrderResponse",
        &r,
        r.order.as_ref(),
    )
}

async fn list(x: &mut Ctx, a: ListArgs) -> anyhow::Result<()> {
    let template = pb::ListAllocationOrdersRequest {
        depot_code: a.depot.unwrap_or_default(),
        state: StateArg::wire_or_unset(a.state),
        priority: PriorityArg::wire_or_unset(a.priority),
        incident_id: a.incident.unwrap_or_default(),
        start_time: a.since,
        end_time: a.until,
        ..Default::default()
    };
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListAllocationOrdersRequest {
            page_size,
            page_token,
            ..template.clone()
        };
        async move {
            let r = c.list_allocation_orders(req).await?.into_inner();
            Ok((r.orders, r.next_page_token))
        }
    })
    .await?;
    if x.fmt == Format::Json {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListAllocationOrdersResponse",
            &pb::ListAllocationOrdersResponse {
                orders: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    view::list(&got.items, false);
    got.note_more(x.fmt);
    Ok(())
}

async fn overdue(x: &mut Ctx, depot: Option<String>, limit: LimitArg) -> anyhow::Result<()> {
    let depot = depot.unwrap_or_default();
    let c = x.c.clone();
    let got = paging::fetch(limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListOverdueBackfillsRequest {
            depot_code: depot.clone(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_overdue_backfills(req).await?.into_inner();
            Ok((r.orders, r.next_page_token))
        }
    })
    .await?;
    if x.fmt == Format::Json {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListOverdueBackfillsResponse",
            &pb::ListOverdueBackfillsResponse {
                orders: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    view::list(&got.items, true);
    got.note_more(x.fmt);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::flag_of;

    #[test]
    fn the_server_s_field_names_point_at_the_flags() {
        for (field, flag) in [
            ("order.receiver_contact.phone", "--receiver-phone"),
            ("order.destination_depot_code", "--to"),
            (
                "order.lines[1].sources[0].quantity",
                "--line #2, or entry #2 of --lines-file",
            ),
            ("shares[0].damaged", "--share #1"),
            ("shares[2].reason", "--reason"),
            ("short_shares[0].lot_number", "--short #1"),
            ("transport.driver_phone", "--driver-phone"),
        ] {
            assert_eq!(flag_of(field).as_deref(), Some(flag), "{field}");
        }
        assert_eq!(flag_of("order.lines[x]"), None);
        assert_eq!(flag_of("order.number"), None);
    }
}
