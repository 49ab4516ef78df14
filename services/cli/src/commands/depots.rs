//! `reservectl depots ...`: the network tree.

use super::choices::{DepotStatusArg, TierArg, name, tier_label};
use super::request_id;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient;

/// Depot commands.
#[derive(clap::Subcommand, Debug)]
pub enum DepotsCmd {
    /// Show the network as a tree below a depot (default: your scope).
    Tree {
        /// Root of the tree.
        root: Option<String>,
    },
    /// List depots in your scope.
    List {
        /// Only this tier.
        #[arg(long, value_enum)]
        tier: Option<TierArg>,
        /// Only children of this depot.
        #[arg(long)]
        parent: Option<String>,
        /// Only division codes starting with these digits.
        #[arg(long)]
        division: Option<String>,
        /// Only depots in this state.
        #[arg(long, value_enum)]
        status: Option<DepotStatusArg>,
        #[command(flatten)]
        limit: LimitArg,
    },
    /// Show one depot and the chain above it.
    Show {
        /// Depot code.
        code: String,
    },
    /// Create a depot.
    Create(CreateArgs),
}

/// Fields of a new depot.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Stable code, e.g. HB-SY-ZS-04.
    #[arg(long)]
    code: String,
    /// Name, e.g. 竹山县擂鼓镇应急物资储备点.
    #[arg(long)]
    name: String,
    /// Tier.
    #[arg(long, value_enum)]
    tier: TierArg,
    /// Parent code (one tier up); omit for a provincial sub-depot.
    #[arg(long, default_value = "")]
    parent: String,
    /// GB/T 2260 division code.
    #[arg(long)]
    division: String,
    /// WGS-84 latitude.
    #[arg(long, allow_hyphen_values = true)]
    lat: f64,
    /// WGS-84 longitude.
    #[arg(long, allow_hyphen_values = true)]
    lon: f64,
    /// Street address.
    #[arg(long, default_value = "")]
    address: String,
    /// Storage area in m².
    #[arg(long, default_value_t = 0.0)]
    area: f64,
    /// Operating unit (承储单位).
    #[arg(long, default_value = "")]
    operating_unit: String,
    /// Owning tier (事权): whose budget owns the depot's reserve; defaults
    /// to the depot's own tier. A township point kept for the county is
    /// `--owning-tier county`.
    #[arg(long, value_enum)]
    owning_tier: Option<TierArg>,
    /// Duty contact as "name,duty,phone"; repeat for several.
    #[arg(long = "contact")]
    contacts: Vec<String>,
}

fn status_label(raw: i32) -> String {
    name::<pb::DepotStatus>(raw)
}

async fn all_descendants(
    c: &mut NetworkServiceClient<Authed>,
    code: &str,
) -> anyhow::Result<Vec<pb::Depot>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_descendants(pb::ListDescendantsRequest {
                code: code.to_string(),
                page_size: 1000,
                page_token: token,
            })
            .await?
            .into_inner();
        out.extend(page.depots);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

/// Runs a depot command.
pub async fn run(
    cmd: DepotsCmd,
    ch: Authed,
    fmt: Format,
    scope_hint: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = NetworkServiceClient::new(ch);
    match cmd {
        DepotsCmd::Tree { root } => {
            let root = root.or(scope_hint).unwrap_or_else(|| "HB".into());
            let top = c
                .get_depot(pb::GetDepotRequest { code: root.clone() })
                .await?
                .into_inner()
                .depot
                .unwrap_or_default();
            let below = all_descendants(&mut c, &root).await?;
            if fmt == Format::Json {
                let all = pb::ListDescendantsResponse {
                    depots: std::iter::once(top).chain(below).collect(),
                    next_page_token: String::new(),
                };
                return json("reserve.v1.ListDescendantsResponse", &all);
            }
            let base = top.tier;
            let mut t = table(&["depot", "code", "tier", "division", "status"]);
            for d in std::iter::once(&top).chain(below.iter()) {
                let indent = "  ".repeat((d.tier - base).max(0) as usize);
                t.add_row(vec![
                    format!("{indent}{}", d.name),
                    d.code.clone(),
                    tier_label(d.tier),
                    d.division_code.clone(),
                    status_label(d.status),
                ]);
            }
            print_table(&t);
            println!("{} depots", below.len() + 1);
        }
        DepotsCmd::List {
            tier,
            parent,
            division,
            status,
            limit,
        } => {
            let template = pb::ListDepotsRequest {
                tier: TierArg::wire_or_unset(tier),
                parent_code: parent.unwrap_or_default(),
                status: DepotStatusArg::wire_or_unset(status),
                division_code_prefix: division.unwrap_or_default(),
                ..Default::default()
            };
            let got = paging::fetch(limit, |page_token, page_size| {
                let mut c = c.clone();
                let req = pb::ListDepotsRequest {
                    page_size,
                    page_token,
                    ..template.clone()
                };
                async move {
                    let r = c.list_depots(req).await?.into_inner();
                    Ok((r.depots, r.next_page_token))
                }
            })
            .await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListDepotsResponse",
                    &pb::ListDepotsResponse {
                        depots: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            let all = &got.items;
            let mut t = table(&["code", "name", "tier", "parent", "division", "status"]);
            for d in all {
                t.add_row(vec![
                    d.code.clone(),
                    d.name.clone(),
                    tier_label(d.tier),
                    d.parent_code.clone(),
                    d.division_code.clone(),
                    status_label(d.status),
                ]);
            }
            print_table(&t);
            println!("{} depots", all.len());
            got.note_more(fmt);
        }
        DepotsCmd::Show { code } => {
            let d = c
                .get_depot(pb::GetDepotRequest { code: code.clone() })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetDepotResponse", &d);
            }
            let d = d.depot.unwrap_or_default();
            let up = c
                .list_ancestors(pb::ListAncestorsRequest { code })
                .await?
                .into_inner()
                .ancestors;
            let chain: Vec<String> = up
                .iter()
                .map(|a| format!("{} ({})", a.name, a.code))
                .collect();
            let mut t = table(&["field", "value"]);
            let contacts: Vec<String> = d
                .duty_contacts
                .iter()
                .map(|c| format!("{} {} {}", c.name, c.duty, c.phone))
                .collect();
            for (k, v) in [
                ("code", d.code.clone()),
                ("name", d.name.clone()),
                ("tier", tier_label(d.tier)),
                ("above", chain.join(" > ")),
                ("division", d.division_code.clone()),
                (
                    "location",
                    d.location
                        .as_ref()
                        .and_then(|l| l.lat_lng.as_ref())
                        .map(|l| format!("{:.4}, {:.4}", l.latitude, l.longitude))
                        .unwrap_or_default(),
                ),
                (
                    "address",
                    d.location
                        .as_ref()
                        .map(|l| l.address.clone())
                        .unwrap_or_default(),
                ),
                ("storage area", format!("{} m²", d.storage_area_m2)),
                ("operating unit", d.operating_unit.clone()),
                ("owning tier", tier_label(d.owning_tier)),
                ("contacts", contacts.join("\n")),
                ("status", status_label(d.status)),
                ("etag", d.etag.clone()),
                ("updated", time(d.update_time.as_ref())),
            ] {
                t.add_row(vec![k.to_string(), v]);
            }
            print_table(&t);
        }
        DepotsCmd::Create(a) => {
            let contacts = a
                .contacts
                .iter()
                .map(|s| {
                    let parts: Vec<&str> = s.splitn(3, ',').collect();
                    match parts.as_slice() {
                        [name, duty, phone] => Ok(pb::Contact {
                            name: name.to_string(),
                            duty: duty.to_string(),
                            phone: phone.to_string(),
                        }),
                        _ => Err(anyhow::anyhow!(
                            "--contact must be \"name,duty,phone\", got \"{s}\""
                        )),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let created = c
                .create_depot(pb::CreateDepotRequest {
                    request_id: request_id(&rid),
                    depot: Some(pb::Depot {
                        code: a.code,
                        name: a.name,
                        tier: a.tier.wire(),
                        parent_code: a.parent,
                        division_code: a.division,
                        location: Some(pb::Place {
                            lat_lng: Some(reserve_api::pb::google::r#type::LatLng {
                                latitude: a.lat,
                                longitude: a.lon,
                            }),
                            address: a.address,
                        }),
                        storage_area_m2: a.area,
                        operating_unit: a.operating_unit,
                        owning_tier: TierArg::wire_or_unset(a.owning_tier),
                        duty_contacts: contacts,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateDepotResponse", &created);
            }
            let d = created.depot.unwrap_or_default();
            println!("created {} {} ({})", d.code, d.name, tier_label(d.tier));
        }
    }
    Ok(())
}
