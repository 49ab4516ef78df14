//! `reservectl propose`: where the supplies for a need would come from and
//! when they would arrive: the destination's own county (or city) first,
//! then depots by travel time, then enterprise reserves, and what nobody
//! can give. With `--create-order` the proposal becomes a draft allocation
//! order in the same call.

use super::choices::{KindArg, PriorityArg, name};
use super::orders::{draft::OrderHeader, view};
use super::request_id;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::sourcing_service_client::SourcingServiceClient;

/// The largest quantity the server takes for one need.
const MAX_QUANTITY: i64 = 1_000_000_000;

/// Order header flags that only mean something with `--create-order`.
const ORDER_ONLY: [&str; 14] = [
    "kind",
    "priority",
    "incident",
    "reason",
    "people",
    "required_by",
    "receiving_unit",
    "receiver_name",
    "receiver_duty",
    "receiver_phone",
    "sender_name",
    "sender_duty",
    "sender_phone",
    "justification",
];

/// A proposal, or a draft order made from one.
#[derive(clap::Args, Debug)]
#[command(
    group = clap::ArgGroup::new("destination").args(["to", "site_lat"]).required(true),
    mut_args(|a| {
        if ORDER_ONLY.contains(&a.get_id().as_str()) {
            a.requires("create_order")
                .help_heading("The order, with --create-order")
        } else {
            a
        }
    }),
    mut_arg("to", |a| a.help("Destination depot")),
    mut_arg("site_lat", |a| {
        a.help("Destination site latitude, WGS-84: a place rather than a depot")
    }),
    mut_arg("kind", |a| {
        a.help("What the order does (default: transfer to a depot, incident-site to a site)")
    }),
    mut_arg("reason", |a| a.required_if_eq("create_order", "true")),
    mut_arg("receiver_name", |a| a.required_if_eq("create_order", "true")),
    mut_arg("receiver_phone", |a| a.required_if_eq("create_order", "true")),
)]
pub struct ProposeArgs {
    /// The destination, and with --create-order the rest of the order's
    /// header.
    #[command(flatten)]
    header: OrderHeader,
    /// For a site: the depot whose own subtree goes first (default: your
    /// scope depot); with --create-order, the order's command depot.
    #[arg(long)]
    command_depot: Option<String>,
    /// An item needed: ITEM:QTY; repeat for more items, e.g. --need
    /// quilt-cotton:500 --need tent-12m2:20.
    #[arg(long = "need", required = true, value_parser = parse_need, value_name = "ITEM:QTY")]
    needs: Vec<pb::Need>,
    /// An emergency: depots may give units below their reserve minimums
    /// (after every unit above them); with --create-order, the order's
    /// priority.
    #[arg(long, conflicts_with = "priority")]
    emergency: bool,
    /// Raise the proposal as a draft allocation order in the same call
    /// (needs --reason, --receiver-name and --receiver-phone, as `orders
    /// create` does); its depot sources become the order's lines, and what
    /// enterprise reserves would add or nobody can give is shown beside it.
    #[arg(long)]
    create_order: bool,
}

/// `ITEM:QTY`, a whole number of units from 1 to 1,000,000,000.
pub fn parse_need(s: &str) -> Result<pb::Need, String> {
    let (item, qty) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("'{s}': no quantity; expected ITEM:QTY, e.g. quilt-cotton:500"))?;
    let item = item.trim();
    if item.is_empty() {
        return Err(format!("'{s}': no item; expected ITEM:QTY"));
    }
    let quantity: i64 = qty
        .trim()
        .parse()
        .map_err(|_| format!("'{s}': the quantity '{qty}' is not a whole number"))?;
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(format!(
            "'{s}': the quantity must be 1 to {MAX_QUANTITY}, not {quantity}"
        ));
    }
    Ok(pb::Need {
        item_id: item.to_string(),
        quantity,
    })
}

/// An item named twice among `needs`, by its ITEM:QTY forms: nothing is
/// sent then.
pub fn twice(needs: &[pb::Need]) -> Option<String> {
    needs.iter().enumerate().find_map(|(i, n)| {
        needs[..i]
            .iter()
            .any(|m| m.item_id == n.item_id)
            .then(|| format!("{} is needed twice: give one --need per item", n.item_id))
    })
}

impl ProposeArgs {
    /// What is wrong with the flags together, before anything is asked.
    pub fn check(&self) -> Result<(), String> {
        if let Some(e) = twice(&self.needs) {
            return Err(format!("--need: {e}"));
        }
        Ok(())
    }
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    if let Some(rest) = field.strip_prefix("needs[")
        && let Some((n, _)) = rest.split_once(']')
        && let Ok(n) = n.parse::<usize>()
    {
        return Some(format!("--need #{}", n + 1));
    }
    match field {
        "needs" => return Some("--need".into()),
        "emergency" => return Some("--emergency".into()),
        // The lines of a draft come from the proposal, not from flags.
        f if f.starts_with("order.lines") => {
            return Some("the lines proposed for --need".into());
        }
        _ => {}
    }
    super::orders::flag_of(field)
}

/// Runs `propose`.
pub async fn run(
    a: ProposeArgs,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = SourcingServiceClient::new(ch);
    let to_site = a.header.site_lat.is_some();
    if a.create_order {
        let priority = if a.emergency {
            PriorityArg::Emergency
        } else {
            PriorityArg::Routine
        };
        let kind = if to_site {
            KindArg::IncidentSite
        } else {
            KindArg::Transfer
        };
        let order = a.header.over(pb::AllocationOrder {
            kind: kind.wire(),
            priority: priority.wire(),
            command_depot_code: a.command_depot.unwrap_or_default(),
            ..Default::default()
        });
        let emergency = order.priority == PriorityArg::Emergency.wire();
        let r = c
            .create_order_from_proposal(pb::CreateOrderFromProposalRequest {
                request_id: request_id(&rid),
                order: Some(order),
                needs: a.needs,
            })
            .await?
            .into_inner();
        if fmt == Format::Json {
            return json("reserve.v1.CreateOrderFromProposalResponse", &r);
        }
        let o = r.order.unwrap_or_default();
        println!(
            "raised {} (id {}) as a draft from the proposal",
            o.number, o.id
        );
        view::changed(&o);
        println!();
        println!("the proposal it came from, to {}:", view::destination(&o));
        proposal(&r.proposal, emergency);
        left_out(&r.proposal);
        return Ok(());
    }
    let dest = a.header.over(pb::AllocationOrder::default());
    let r = c
        .propose_sources(pb::ProposeSourcesRequest {
            destination_depot_code: dest.destination_depot_code.clone(),
            destination_site: dest.destination_site.clone(),
            command_depot_code: a.command_depot.unwrap_or_default(),
            needs: a.needs,
            emergency: a.emergency,
        })
        .await?
        .into_inner();
    if fmt == Format::Json {
        return json("reserve.v1.ProposeSourcesResponse", &r);
    }
    println!(
        "proposal for {}{}: {}'s own subtree first, then the nearest depots",
        view::destination(&dest),
        if a.emergency { " (emergency)" } else { "" },
        r.own_subtree_depot_code
    );
    proposal(&r.lines, a.emergency);
    Ok(())
}

/// Hours as people read them: `1.08 h`.
pub fn hours(h: f64) -> String {
    format!("{h:.2} h")
}

/// One line's plan in a sentence: what depots, agreements and nobody give,
/// and when the last unit arrives.
fn summary(l: &pb::ProposedLine) -> String {
    let depots: i64 = l.sources.iter().map(|s| s.quantity).sum();
    let agreements: i64 = l.agreements.iter().map(|a| a.quantity).sum();
    let when = match (&l.complete_time, l.unmet) {
        (Some(t), 0) => format!("all arrive by {} (Beijing)", time(Some(t))),
        (Some(t), _) => format!("what can be sent arrives by {} (Beijing)", time(Some(t))),
        (None, _) => "nothing can be sent".into(),
    };
    format!(
        "{}: {} needed; {depots} from {} depot{}, {agreements} from agreement reserves, {} unmet; {when}",
        l.item_id,
        l.needed,
        l.sources.len(),
        if l.sources.len() == 1 { "" } else { "s" },
        l.unmet
    )
}

/// Prints each need's plan: the depots in the order they are used, the
/// enterprise reserves, and what is unmet.
pub fn proposal(lines: &[pb::ProposedLine], emergency: bool) {
    for l in lines {
        println!();
        println!("{}", summary(l));
        if !l.sources.is_empty() {
            let mut t = table(&[
                "#",
                "depot",
                "name",
                "own subtree",
                "lots",
                "units",
                "below minimum",
                "road km",
                "hours",
                "arrival (Beijing)",
            ]);
            for (i, s) in l.sources.iter().enumerate() {
                let lots = s
                    .lots
                    .iter()
                    .map(|l| format!("{} {}", l.lot_number, l.quantity))
                    .collect::<Vec<_>>()
                    .join(", ");
                t.add_row(vec![
                    (i + 1).to_string(),
                    s.depot_code.clone(),
                    s.depot_name.clone(),
                    if s.own_subtree { "yes" } else { "no" }.to_string(),
                    lots,
                    s.quantity.to_string(),
                    s.below_minimum.to_string(),
                    format!("{:.1}", s.road_km),
                    hours(s.travel_hours),
                    time(s.arrival_time.as_ref()),
                ]);
            }
            print_table(&t);
        }
        if !l.agreements.is_empty() {
            println!("agreement reserves (call them off with `reservectl agreements call-off`):");
            let mut t = table(&[
                "agreement",
                "company",
                "kind",
                "units",
                "hours",
                "arrival (Beijing)",
            ]);
            for a in &l.agreements {
                t.add_row(vec![
                    a.agreement_id.clone(),
                    a.company_name.clone(),
                    name::<pb::ReserveKind>(a.kind),
                    a.quantity.to_string(),
                    hours(a.hours),
                    time(a.arrival_time.as_ref()),
                ]);
            }
            print_table(&t);
        }
        if l.unmet > 0 {
            let (depots, hint) = if emergency {
                ("no depot", "")
            } else {
                (
                    "no depot above its reserve minimum",
                    " (--emergency also takes units below the minimums)",
                )
            };
            println!(
                "UNMET: {} {}: {depots} and no agreement reserve can give them{hint}",
                l.unmet, l.item_id
            );
        }
    }
}

/// What the draft order does not carry: units from enterprise reserves
/// (called off separately) and units nobody can give.
fn left_out(lines: &[pb::ProposedLine]) {
    let agreements: Vec<String> = lines
        .iter()
        .filter(|l| !l.agreements.is_empty())
        .map(|l| {
            let q: i64 = l.agreements.iter().map(|a| a.quantity).sum();
            format!("{} {q}", l.item_id)
        })
        .collect();
    let unmet: Vec<String> = lines
        .iter()
        .filter(|l| l.unmet > 0)
        .map(|l| format!("{} {}", l.item_id, l.unmet))
        .collect();
    println!();
    if agreements.is_empty() && unmet.is_empty() {
        println!("the draft carries every unit needed");
        return;
    }
    if !agreements.is_empty() {
        println!(
            "not in the draft, from agreement reserves: {} (call them off with `reservectl agreements call-off`)",
            agreements.join(", ")
        );
    }
    if !unmet.is_empty() {
        println!("not in the draft, unmet: {}", unmet.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_need_is_an_item_and_a_whole_positive_quantity() {
        let n = parse_need("quilt-cotton:500").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((n.item_id.as_str(), n.quantity), ("quilt-cotton", 500));
        for (bad, says) in [
            ("quilt-cotton", "no quantity"),
            (":5", "no item"),
            ("quilt-cotton:many", "'many' is not a whole number"),
            ("quilt-cotton:0", "must be 1 to"),
            ("quilt-cotton:-5", "must be 1 to"),
        ] {
            let e = parse_need(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn an_item_needed_twice_is_refused() {
        let needs: Vec<pb::Need> = ["quilt-cotton:5", "tent-12m2:2", "quilt-cotton:7"]
            .iter()
            .map(|s| parse_need(s).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert!(twice(&needs).is_some_and(|e| e.contains("quilt-cotton")));
        assert_eq!(twice(&needs[..2]), None);
    }

    #[test]
    fn the_server_s_field_names_point_at_the_flags() {
        assert_eq!(flag_of("needs[1].quantity").as_deref(), Some("--need #2"));
        assert_eq!(flag_of("needs").as_deref(), Some("--need"));
        assert_eq!(
            flag_of("order.receiver_contact.phone").as_deref(),
            Some("--receiver-phone")
        );
        assert_eq!(flag_of("destination_depot_code").as_deref(), Some("--to"));
        assert_eq!(
            flag_of("order.lines[0].sources[1].quantity").as_deref(),
            Some("the lines proposed for --need")
        );
    }

    #[test]
    fn a_line_says_what_depots_agreements_and_nobody_give() {
        let l = pb::ProposedLine {
            item_id: "quilt-cotton".into(),
            needed: 500,
            sources: vec![pb::ProposedSource {
                quantity: 100,
                ..Default::default()
            }],
            agreements: vec![pb::ProposedAgreement {
                quantity: 300,
                ..Default::default()
            }],
            unmet: 100,
            complete_time: None,
        };
        assert_eq!(
            summary(&l),
            "quilt-cotton: 500 needed; 100 from 1 depot, 300 from agreement reserves, 100 unmet; nothing can be sent"
        );
    }
}
