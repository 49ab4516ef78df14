//! `reservectl agreements ...`: enterprise reserves beside the depots.
//! Agreement reserves (协议储备: stock a company keeps for the bureau) and
//! capacity reserves (产能储备: a company's commitment to produce) belong
//! to a depot; a dispatcher calls units off, and the depot's keeper
//! receives the delivery as stock funded by the agreement.

use super::choices::{ReserveKindArg, name};
use super::propose::{parse_need, twice};
use super::request_id;
use super::stock::print::{entries, fields, or_dash};
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use crate::when::{self, show_date};
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::enterprise_reserve_service_client::EnterpriseReserveServiceClient;
use reserve_core::enterprise::CreditCode;

/// Enterprise reserve commands.
#[derive(clap::Subcommand, Debug)]
pub enum AgreementsCmd {
    /// Record an agreement with a company (admins, and dispatchers over the
    /// owning depot); prints its id.
    Create(CreateArgs),
    /// Show one agreement with what has been called off and delivered.
    Get {
        /// Agreement id.
        id: String,
    },
    /// Agreements in force in a subtree, by end date; with --expiring,
    /// those ending soon.
    List(ListArgs),
    /// Call off units of an agreement in force (a dispatcher over the owning
    /// depot): records what was asked for, and when it is due.
    CallOff(CallOffArgs),
    /// Receive a delivery against a call-off into the owning depot (its
    /// keeper), as stock funded by the agreement.
    Receive(ReceiveArgs),
    /// Call-offs of a subtree, newest first.
    CallOffs(CallOffsArgs),
}

/// A new agreement.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// The company's name, e.g. 房县鑫源被服有限公司.
    #[arg(long)]
    company: String,
    /// Its unified social credit code (统一社会信用代码): 18 characters,
    /// the last a check character per GB 32100.
    #[arg(long, value_parser = credit_code)]
    credit_code: String,
    /// What the company commits to: stock it keeps (agreement) or stock it
    /// produces (capacity).
    #[arg(long, value_enum)]
    kind: ReserveKindArg,
    /// The depot whose tier owns the agreement; deliveries arrive there
    /// (default: your scope depot).
    #[arg(long)]
    depot: Option<String>,
    /// Hours the company has to deliver after a call-off: 1 to 720.
    #[arg(long, value_parser = response_hours)]
    response_hours: f64,
    /// First day in force, YYYY-MM-DD.
    #[arg(long, value_parser = when::date)]
    valid_from: Date,
    /// Last day in force, YYYY-MM-DD.
    #[arg(long, value_parser = when::date)]
    valid_until: Date,
    /// An item committed: ITEM:QTY; repeat for more items.
    #[arg(long = "item", required = true, value_parser = parse_need, value_name = "ITEM:QTY")]
    items: Vec<pb::Need>,
    /// The company's contact as "name,duty,phone".
    #[arg(long, value_parser = contact, value_name = "NAME,DUTY,PHONE")]
    contact: Option<pb::Contact>,
    /// Contract number and notes.
    #[arg(long, default_value = "")]
    note: String,
}

/// Which agreements.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Subtree of owning depots (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only agreements that end within this many days (1 to 3650; 60 when
    /// given alone), soonest first.
    #[arg(
        long,
        num_args = 0..=1,
        default_missing_value = "60",
        value_name = "DAYS",
        value_parser = clap::value_parser!(i32).range(1..=3650)
    )]
    expiring: Option<i32>,
    #[command(flatten)]
    limit: LimitArg,
}

/// A call-off.
#[derive(clap::Args, Debug)]
pub struct CallOffArgs {
    /// Agreement id.
    agreement: String,
    /// An item asked for: ITEM:QTY, within what remains committed; repeat.
    #[arg(long = "item", required = true, value_parser = parse_need, value_name = "ITEM:QTY")]
    items: Vec<pb::Need>,
    /// Why.
    #[arg(long)]
    reason: String,
    /// The allocation order it serves (its id or number).
    #[arg(long, default_value = "")]
    order: String,
    /// The incident it serves (its id).
    #[arg(long, default_value = "")]
    incident: String,
}

/// A delivery against a call-off.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("units").args(["qty", "serials"]).required(true))]
pub struct ReceiveArgs {
    /// Call-off id.
    call_off: String,
    /// Item delivered.
    #[arg(long)]
    item: String,
    /// Lot number on the delivery note.
    #[arg(long)]
    lot: String,
    /// Production date YYYY-MM-DD.
    #[arg(long, value_parser = when::date)]
    production: Option<Date>,
    /// Expiry date YYYY-MM-DD (default: production date plus shelf life).
    #[arg(long, value_parser = when::date)]
    expiry: Option<Date>,
    /// Units (lot-tracked items), at most what the call-off still awaits.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    qty: Option<i64>,
    /// Serial numbers (serial-tracked items); repeat.
    #[arg(long = "serial", conflicts_with = "qty")]
    serials: Vec<String>,
    /// Delivery note number.
    #[arg(long, default_value = "")]
    document: String,
}

/// Which call-offs.
#[derive(clap::Args, Debug)]
pub struct CallOffsArgs {
    /// Subtree of owning depots (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only those still awaiting delivery.
    #[arg(long)]
    open: bool,
    #[command(flatten)]
    limit: LimitArg,
}

/// A unified social credit code with a right check character.
pub(super) fn credit_code(s: &str) -> Result<String, String> {
    CreditCode::parse(s).map(|c| c.to_string())
}

/// Response hours, 1 to 720.
fn response_hours(s: &str) -> Result<f64, String> {
    let h: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of hours"))?;
    if !(1.0..=720.0).contains(&h) {
        return Err(format!("must be 1 to 720 hours, not {s}"));
    }
    Ok(h)
}

/// `name,duty,phone` (the duty may be empty).
pub(super) fn contact(s: &str) -> Result<pb::Contact, String> {
    let parts: Vec<&str> = s.splitn(3, ',').map(str::trim).collect();
    match parts.as_slice() {
        [name, duty, phone] if !name.is_empty() && !phone.is_empty() => Ok(pb::Contact {
            name: name.to_string(),
            duty: duty.to_string(),
            phone: phone.to_string(),
        }),
        _ => Err(format!(
            "'{s}' is not \"name,duty,phone\" (the duty may be empty: \"李明,,13900000000\")"
        )),
    }
}

impl AgreementsCmd {
    /// What is wrong with the flags together, before anything is asked.
    pub fn check(&self) -> Result<(), String> {
        match self {
            AgreementsCmd::Create(a) => {
                if let Some(e) = twice(&a.items) {
                    return Err(format!("--item: {}", e.replace("needed", "committed")));
                }
                let day = |d: &Date| (d.year, d.month, d.day);
                if day(&a.valid_until) < day(&a.valid_from) {
                    return Err(format!(
                        "--valid-until {} is before --valid-from {}",
                        show_date(Some(&a.valid_until)),
                        show_date(Some(&a.valid_from))
                    ));
                }
                Ok(())
            }
            AgreementsCmd::CallOff(a) => match twice(&a.items) {
                Some(e) => Err(format!("--item: {}", e.replace("needed", "asked for"))),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    let indexed = |list: &str| -> Option<usize> {
        let rest = field.strip_prefix(list)?.strip_prefix('[')?;
        rest.split_once(']')?.0.parse::<usize>().ok()
    };
    if let Some(n) = indexed("agreement.items").or_else(|| indexed("lines")) {
        return Some(format!("--item #{}", n + 1));
    }
    if field.starts_with("agreement.contact") {
        return Some("--contact".into());
    }
    let flag = match field {
        "agreement.kind" => "--kind",
        "agreement.company_name" => "--company",
        "agreement.credit_code" => "--credit-code",
        "agreement.depot_code" | "depot_code" => "--depot",
        "agreement.response_hours" => "--response-hours",
        "agreement.valid_from" => "--valid-from",
        "agreement.valid_until" => "--valid-until",
        "agreement.items" | "lines" | "item_id" => "--item",
        "agreement.note" => "--note",
        "agreement_id" => "the agreement id",
        "order_id" => "--order",
        "incident_id" => "--incident",
        "reason" => "--reason",
        "call_off_id" => "the call-off id",
        "lot_number" => "--lot",
        "production_date" => "--production",
        "expiry_date" => "--expiry",
        "quantity" => "--qty",
        "serial_numbers" => "--serial",
        "document" => "--document",
        "expiring_within_days" => "--expiring",
        "request_id" => "--request-id",
        _ => return None,
    };
    Some(flag.to_string())
}

/// What is committed, called off and delivered of each item, in a few
/// words: `quilt-cotton 2000 (called off 300, delivered 300)`.
fn items(a: &pb::Agreement) -> String {
    a.items
        .iter()
        .map(|i| {
            if i.called_off == 0 && i.delivered == 0 {
                format!("{} {}", i.item_id, i.committed)
            } else {
                format!(
                    "{} {} (called off {}, delivered {})",
                    i.item_id, i.committed, i.called_off, i.delivered
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn contact_text(c: Option<&pb::Contact>) -> String {
    match c {
        Some(c) => [&c.name, &c.duty, &c.phone]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        None => "-".into(),
    }
}

/// An agreement in full: its fields, then each item with what is left.
fn show(a: &pb::Agreement) {
    fields(vec![
        ("agreement", a.id.clone()),
        ("company", a.company_name.clone()),
        ("credit code", a.credit_code.clone()),
        ("kind", name::<pb::ReserveKind>(a.kind)),
        ("depot", a.depot_code.clone()),
        ("response hours", format!("{}", a.response_hours)),
        ("valid from", show_date(a.valid_from.as_ref())),
        ("valid until", show_date(a.valid_until.as_ref())),
        ("contact", contact_text(a.contact.as_ref())),
        ("note", or_dash(&a.note)),
        ("recorded by", a.created_by.clone()),
        ("recorded (Beijing)", time(a.create_time.as_ref())),
    ]);
    let mut t = table(&["item", "committed", "called off", "delivered", "left"]);
    for i in &a.items {
        t.add_row(vec![
            i.item_id.clone(),
            i.committed.to_string(),
            i.called_off.to_string(),
            i.delivered.to_string(),
            (i.committed - i.called_off).to_string(),
        ]);
    }
    print_table(&t);
}

/// Agreements, one row each.
fn list(agreements: &[pb::Agreement]) {
    let mut t = table(&[
        "agreement",
        "company",
        "credit code",
        "kind",
        "depot",
        "response h",
        "valid from",
        "valid until",
        "items",
        "contact",
    ]);
    for a in agreements {
        t.add_row(vec![
            a.id.clone(),
            a.company_name.clone(),
            a.credit_code.clone(),
            name::<pb::ReserveKind>(a.kind),
            a.depot_code.clone(),
            format!("{}", a.response_hours),
            show_date(a.valid_from.as_ref()),
            show_date(a.valid_until.as_ref()),
            items(a),
            contact_text(a.contact.as_ref()),
        ]);
    }
    print_table(&t);
}

/// What a call-off asked for and what has come: `quilt-cotton 300
/// (delivered 100)`.
fn call_off_lines(c: &pb::CallOff) -> String {
    c.lines
        .iter()
        .map(|l| format!("{} {} (delivered {})", l.item_id, l.quantity, l.delivered))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Call-offs, one row each.
fn call_offs(list: &[pb::CallOff]) {
    let mut t = table(&[
        "call-off",
        "agreement",
        "company",
        "depot",
        "lines",
        "called by",
        "called (Beijing)",
        "due (Beijing)",
        "complete",
    ]);
    for c in list {
        t.add_row(vec![
            c.id.clone(),
            c.agreement_id.clone(),
            c.company_name.clone(),
            c.depot_code.clone(),
            call_off_lines(c),
            c.called_by.clone(),
            time(c.call_time.as_ref()),
            time(c.due_time.as_ref()),
            if c.complete { "yes" } else { "no" }.to_string(),
        ]);
    }
    print_table(&t);
}

/// One call-off in full.
fn show_call_off(c: &pb::CallOff) {
    fields(vec![
        ("call-off", c.id.clone()),
        ("agreement", c.agreement_id.clone()),
        ("company", c.company_name.clone()),
        ("delivered to", c.depot_code.clone()),
        ("lines", call_off_lines(c)),
        ("order", or_dash(&c.order_id)),
        ("incident", or_dash(&c.incident_id)),
        ("reason", c.reason.clone()),
        ("called by", c.called_by.clone()),
        ("called (Beijing)", time(c.call_time.as_ref())),
        ("due (Beijing)", time(c.due_time.as_ref())),
        (
            "complete",
            if c.complete { "yes" } else { "no" }.to_string(),
        ),
    ]);
}

/// Runs an agreements command.
pub async fn run(
    cmd: AgreementsCmd,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = EnterpriseReserveServiceClient::new(ch);
    match cmd {
        AgreementsCmd::Create(a) => {
            let r = c
                .create_agreement(pb::CreateAgreementRequest {
                    request_id: request_id(&rid),
                    agreement: Some(pb::Agreement {
                        kind: a.kind.wire(),
                        company_name: a.company,
                        credit_code: a.credit_code,
                        depot_code: a.depot.unwrap_or_default(),
                        response_hours: a.response_hours,
                        valid_from: Some(a.valid_from),
                        valid_until: Some(a.valid_until),
                        items: a
                            .items
                            .into_iter()
                            .map(|n| pb::AgreementItem {
                                item_id: n.item_id,
                                committed: n.quantity,
                                ..Default::default()
                            })
                            .collect(),
                        contact: a.contact,
                        note: a.note,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateAgreementResponse", &r);
            }
            let a = r.agreement.unwrap_or_default();
            println!("recorded agreement {} with {}", a.id, a.company_name);
            show(&a);
        }
        AgreementsCmd::Get { id } => {
            let r = c
                .get_agreement(pb::GetAgreementRequest { agreement_id: id })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetAgreementResponse", &r);
            }
            show(&r.agreement.unwrap_or_default());
        }
        AgreementsCmd::List(a) => {
            let template = pb::ListAgreementsRequest {
                depot_code: a.depot.unwrap_or_default(),
                expiring_within_days: a.expiring.unwrap_or(0),
                ..Default::default()
            };
            let got = paging::fetch(a.limit, |page_token, page_size| {
                let mut c = c.clone();
                let req = pb::ListAgreementsRequest {
                    page_size,
                    page_token,
                    ..template.clone()
                };
                async move {
                    let r = c.list_agreements(req).await?.into_inner();
                    Ok((r.agreements, r.next_page_token))
                }
            })
            .await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListAgreementsResponse",
                    &pb::ListAgreementsResponse {
                        agreements: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            list(&got.items);
            got.note_more(fmt);
        }
        AgreementsCmd::CallOff(a) => {
            let r = c
                .call_off_agreement(pb::CallOffAgreementRequest {
                    request_id: request_id(&rid),
                    agreement_id: a.agreement,
                    lines: a
                        .items
                        .into_iter()
                        .map(|n| pb::CallOffLine {
                            item_id: n.item_id,
                            quantity: n.quantity,
                            delivered: 0,
                        })
                        .collect(),
                    order_id: a.order,
                    incident_id: a.incident,
                    reason: a.reason,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CallOffAgreementResponse", &r);
            }
            let call = r.call_off.unwrap_or_default();
            println!(
                "called off {} from {}: due {} (Beijing)",
                call.id,
                call.company_name,
                time(call.due_time.as_ref())
            );
            show_call_off(&call);
            if let Some(a) = &r.agreement {
                println!("the agreement now:");
                list(std::slice::from_ref(a));
            }
        }
        AgreementsCmd::Receive(a) => {
            let r = c
                .receive_call_off(pb::ReceiveCallOffRequest {
                    request_id: request_id(&rid),
                    call_off_id: a.call_off,
                    item_id: a.item,
                    lot_number: a.lot,
                    production_date: a.production,
                    expiry_date: a.expiry,
                    quantity: a.qty.unwrap_or(0),
                    serial_numbers: a.serials,
                    document: a.document,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ReceiveCallOffResponse", &r);
            }
            let call = r.call_off.unwrap_or_default();
            println!(
                "received against {} ({}){}",
                call.id,
                call.company_name,
                if call.complete {
                    "; everything called off has come"
                } else {
                    ""
                }
            );
            entries(&r.entry.into_iter().collect::<Vec<_>>());
            show_call_off(&call);
        }
        AgreementsCmd::CallOffs(a) => {
            let template = pb::ListCallOffsRequest {
                depot_code: a.depot.unwrap_or_default(),
                open_only: a.open,
                ..Default::default()
            };
            let got = paging::fetch(a.limit, |page_token, page_size| {
                let mut c = c.clone();
                let req = pb::ListCallOffsRequest {
                    page_size,
                    page_token,
                    ..template.clone()
                };
                async move {
                    let r = c.list_call_offs(req).await?.into_inner();
                    Ok((r.call_offs, r.next_page_token))
                }
            })
            .await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListCallOffsResponse",
                    &pb::ListCallOffsResponse {
                        call_offs: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            call_offs(&got.items);
            got.note_more(fmt);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credit_code_is_checked_before_it_is_sent() {
        assert_eq!(
            credit_code("91420325ma49r6ku05").as_deref(),
            Ok("91420325MA49R6KU05")
        );
        let e = credit_code("91420325MA49R6KU06").unwrap_err();
        assert!(e.contains("check character"), "{e}");
        assert!(credit_code("9142").is_err());
    }

    #[test]
    fn response_hours_and_contacts_take_their_shapes() {
        assert_eq!(response_hours("12"), Ok(12.0));
        assert!(response_hours("0.5").is_err());
        assert!(response_hours("a day").is_err());
        let c = contact("王强,销售经理,13907190000").unwrap_or_default();
        assert_eq!(
            (c.name.as_str(), c.duty.as_str(), c.phone.as_str()),
            ("王强", "销售经理", "13907190000")
        );
        assert!(contact("王强,,13907190000").is_ok());
        assert!(contact("王强").is_err());
    }

    #[test]
    fn the_server_s_field_names_point_at_the_flags() {
        for (field, flag) in [
            ("agreement.credit_code", "--credit-code"),
            ("agreement.items[1].committed", "--item #2"),
            ("lines[0].quantity", "--item #1"),
            ("agreement.contact.phone", "--contact"),
            ("order_id", "--order"),
            ("quantity", "--qty"),
        ] {
            assert_eq!(flag_of(field).as_deref(), Some(flag), "{field}");
        }
    }
}
