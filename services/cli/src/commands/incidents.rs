//! `reservectl incidents ...`: the floods, earthquakes and fires that
//! allocation orders and issues are made for.

use super::choices::{IncidentTypeArg, name};
use super::request_id;
use super::stock::print::{fields, or_dash};
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use crate::when;
use reserve_api::pb::google::r#type::LatLng;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::incident_service_client::IncidentServiceClient;

/// Incident commands.
#[derive(clap::Subcommand, Debug)]
pub enum IncidentsCmd {
    /// Record an incident for a command centre in your scope; prints its id.
    Create(CreateArgs),
    /// Show one incident.
    Get {
        /// Incident id.
        id: String,
    },
    /// Incidents, newest first (by when they happened).
    List {
        /// Only this command centre's subtree.
        #[arg(long)]
        depot: Option<String>,
        /// Only this kind.
        #[arg(long = "type", value_enum)]
        kind: Option<IncidentTypeArg>,
        /// Only incidents that happened at or after this: a date or time,
        /// Beijing time unless a zone is given.
        #[arg(long, value_parser = when::at)]
        since: Option<prost_types::Timestamp>,
        /// Only incidents that happened before this; a bare date includes
        /// that whole day.
        #[arg(long, value_parser = when::until)]
        until: Option<prost_types::Timestamp>,
        #[command(flatten)]
        limit: LimitArg,
    },
}

/// Fields of a new incident.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Name, e.g. 2026年11月竹山县暴雨洪涝.
    #[arg(long)]
    name: String,
    /// Kind.
    #[arg(long = "type", value_enum)]
    kind: IncidentTypeArg,
    /// When it happened (or began): a date or time, Beijing time unless a
    /// zone is given; not in the future.
    #[arg(long, value_parser = when::at)]
    time: prost_types::Timestamp,
    /// WGS-84 latitude of the place.
    #[arg(long, allow_hyphen_values = true)]
    lat: f64,
    /// WGS-84 longitude of the place.
    #[arg(long, allow_hyphen_values = true)]
    lng: f64,
    /// Address of the place, e.g. 竹山县城关镇.
    #[arg(long)]
    address: String,
    /// The command centre responsible, as a depot code (default: your scope
    /// depot).
    #[arg(long, default_value = "")]
    depot: String,
    /// What happened, in words.
    #[arg(long, default_value = "")]
    description: String,
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    let flag = match field {
        "incident.name" => "--name",
        "incident.type" | "type" => "--type",
        "incident.occur_time" => "--time",
        "incident.place.lat_lng.latitude" => "--lat",
        "incident.place.lat_lng.longitude" => "--lng",
        "incident.place" => "--lat, --lng and --address",
        "incident.place.address" => "--address",
        "incident.depot_code" | "depot_code" => "--depot",
        "incident.description" => "--description",
        "start_time" => "--since",
        "end_time" => "--until",
        "request_id" => "--request-id",
        _ => return None,
    };
    Some(flag.to_string())
}

/// Where an incident is, for people.
fn place(p: Option<&pb::Place>) -> String {
    let Some(p) = p else { return "-".into() };
    let at = p
        .lat_lng
        .as_ref()
        .map(|l| format!("{:.4}, {:.4}", l.latitude, l.longitude))
        .unwrap_or_default();
    if p.address.is_empty() {
        at
    } else {
        format!("{} ({at})", p.address)
    }
}

fn show(i: &pb::Incident) {
    fields(vec![
        ("incident", i.id.clone()),
        ("name", i.name.clone()),
        ("type", name::<pb::IncidentType>(i.r#type)),
        ("happened (Beijing)", time(i.occur_time.as_ref())),
        ("place", place(i.place.as_ref())),
        ("command centre", i.depot_code.clone()),
        ("description", or_dash(&i.description)),
        ("recorded by", i.created_by.clone()),
        ("recorded (Beijing)", time(i.create_time.as_ref())),
    ]);
}

/// Runs an incident command.
pub async fn run(
    cmd: IncidentsCmd,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = IncidentServiceClient::new(ch);
    match cmd {
        IncidentsCmd::Create(a) => {
            let r = c
                .create_incident(pb::CreateIncidentRequest {
                    request_id: request_id(&rid),
                    incident: Some(pb::Incident {
                        name: a.name,
                        r#type: a.kind.wire(),
                        occur_time: Some(a.time),
                        place: Some(pb::Place {
                            lat_lng: Some(LatLng {
                                latitude: a.lat,
                                longitude: a.lng,
                            }),
                            address: a.address,
                        }),
                        depot_code: a.depot,
                        description: a.description,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateIncidentResponse", &r);
            }
            let i = r.incident.unwrap_or_default();
            println!("recorded incident {} {}", i.id, i.name);
            show(&i);
        }
        IncidentsCmd::Get { id } => {
            let r = c
                .get_incident(pb::GetIncidentRequest { incident_id: id })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetIncidentResponse", &r);
            }
            show(&r.incident.unwrap_or_default());
        }
        IncidentsCmd::List {
            depot,
            kind,
            since,
            until,
            limit,
        } => {
            let template = pb::ListIncidentsRequest {
                depot_code: depot.unwrap_or_default(),
                r#type: IncidentTypeArg::wire_or_unset(kind),
                start_time: since,
                end_time: until,
                ..Default::default()
            };
            let got = paging::fetch(limit, |page_token, page_size| {
                let mut c = c.clone();
                let req = pb::ListIncidentsRequest {
                    page_size,
                    page_token,
                    ..template.clone()
                };
                async move {
                    let r = c.list_incidents(req).await?.into_inner();
                    Ok((r.incidents, r.next_page_token))
                }
            })
            .await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListIncidentsResponse",
                    &pb::ListIncidentsResponse {
                        incidents: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            let mut t = table(&[
                "id",
                "name",
                "type",
                "happened (Beijing)",
                "command centre",
                "place",
                "recorded by",
            ]);
            for i in &got.items {
                t.add_row(vec![
                    i.id.clone(),
                    i.name.clone(),
                    name::<pb::IncidentType>(i.r#type),
                    time(i.occur_time.as_ref()),
                    i.depot_code.clone(),
                    place(i.place.as_ref()),
                    i.created_by.clone(),
                ]);
            }
            print_table(&t);
            got.note_more(fmt);
        }
    }
    Ok(())
}
