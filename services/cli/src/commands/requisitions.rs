//! `reservectl requisitions ...`: a dispatcher records property taken at
//! the scene, its voucher, and a keeper or dispatcher what became of each
//! item. Owners' identity numbers, accounts and phones print masked unless
//! the token is finance's.

use super::leases::{show_yuan, yuan};
use super::request_id;
use super::stock::print::{fields, or_dash};
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use crate::when;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::requisition_service_client::RequisitionServiceClient;

/// Requisition commands.
#[derive(clap::Subcommand, Debug)]
pub enum RequisitionsCmd {
    /// Record property requisitioned at the scene (a dispatcher). Without
    /// --voucher a voucher is due within 48 hours. Prints the number.
    Create(Box<CreateArgs>),
    /// Record the voucher issued for property taken without one.
    Voucher(VoucherArgs),
    /// Record what became of units of one line: returned, damaged, lost or
    /// consumed (partial outcomes are fine).
    Outcome(OutcomeArgs),
    /// Show one requisition.
    Get {
        /// Requisition id or number (ZY-2026-000001).
        requisition: String,
    },
    /// Requisitions of a subtree, newest first.
    List(ListArgs),
}

/// Whose property.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum OwnerKindArg {
    /// A company (unified social credit code).
    Company,
    /// A person (resident identity number).
    Person,
}

/// A requisition at the scene.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// The incident (id from `reservectl incidents`).
    #[arg(long)]
    incident: String,
    /// The requisition decision, e.g. 十堰应急征〔2026〕3号.
    #[arg(long)]
    decision: String,
    /// The issuing authority, e.g. 十堰市人民政府.
    #[arg(long)]
    authority: String,
    /// The officer carrying it out.
    #[arg(long)]
    officer: String,
    /// Depot of the requisitioning tier, whose budget pays (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Company or person.
    #[arg(long, value_enum)]
    owner_kind: OwnerKindArg,
    /// The owner's name.
    #[arg(long)]
    owner: String,
    /// Credit code (company) or resident identity number (person).
    #[arg(long)]
    owner_id: String,
    /// The owner's phone.
    #[arg(long)]
    owner_phone: String,
    /// The bank account compensation is paid into.
    #[arg(long)]
    owner_account: String,
    /// The bank.
    #[arg(long)]
    owner_bank: String,
    /// An item: DESCRIPTION|QTY|UNIT|VALUE_YUAN|YUAN_PER_DAY|returnable or
    /// consumable[|CONDITION[|WHERE_USED]]; repeat. Value is per unit.
    #[arg(long = "item", required = true, value_parser = item, value_name = "DESC|QTY|UNIT|VALUE|RATE|KIND")]
    items: Vec<pb::RequisitionItem>,
    /// Where the items are used (for items that do not say).
    #[arg(long, default_value = "")]
    used_at: String,
    /// Their condition when taken (for items that do not say).
    #[arg(long, default_value = "完好")]
    condition: String,
    /// When it was taken, if not now (a date or time, Beijing time).
    #[arg(long, value_parser = when::at)]
    taken: Option<prost_types::Timestamp>,
    /// The voucher number, if one was issued at taking.
    #[arg(long, default_value = "")]
    voucher: String,
}

/// A voucher.
#[derive(clap::Args, Debug)]
pub struct VoucherArgs {
    /// Requisition id or number.
    requisition: String,
    /// The voucher number.
    #[arg(long)]
    number: String,
    /// When it was issued, if not now.
    #[arg(long, value_parser = when::at)]
    issued: Option<prost_types::Timestamp>,
}

/// Outcomes of one line.
#[derive(clap::Args, Debug)]
pub struct OutcomeArgs {
    /// Requisition id or number.
    requisition: String,
    /// The line (1 for the first item).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
    line: i32,
    /// Units given back intact.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    returned: i64,
    /// Units given back damaged (with --repair and --certificate).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    damaged: i64,
    /// Repair cost of the damaged units, yuan.
    #[arg(long, value_parser = yuan, default_value = "0")]
    repair: i64,
    /// Units lost (with --certificate).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    lost: i64,
    /// Units used up (consumable items).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    consumed: i64,
    /// Damage or loss certificate, or return receipt.
    #[arg(long, default_value = "")]
    certificate: String,
    /// The depot whose stock the units leave, for goods received into one.
    #[arg(long)]
    from_depot: Option<String>,
    /// When, if not now (a date or time, Beijing time).
    #[arg(long, value_parser = when::at)]
    at: Option<prost_types::Timestamp>,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
}

/// Which requisitions.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("which").args(["in_use", "voucher_overdue"]))]
pub struct ListArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only those with units still out.
    #[arg(long)]
    in_use: bool,
    /// Only those whose voucher is overdue (taken without one over 48 h ago).
    #[arg(long)]
    voucher_overdue: bool,
    #[command(flatten)]
    limit: LimitArg,
}

/// `DESC|QTY|UNIT|VALUE|RATE|returnable|consumable[|CONDITION[|WHERE]]`.
fn item(s: &str) -> Result<pb::RequisitionItem, String> {
    let bad = || {
        format!(
            "'{s}' is not DESCRIPTION|QTY|UNIT|VALUE_YUAN|YUAN_PER_DAY|returnable or consumable[|CONDITION[|WHERE_USED]]"
        )
    };
    let f: Vec<&str> = s.split('|').map(str::trim).collect();
    if !(6..=8).contains(&f.len()) || f[0].is_empty() || f[2].is_empty() {
        return Err(bad());
    }
    let returnable = match f[5] {
        "returnable" => true,
        "consumable" => false,
        _ => return Err(bad()),
    };
    Ok(pb::RequisitionItem {
        description: f[0].to_string(),
        quantity: f[1].parse().map_err(|_| bad())?,
        unit: f[2].to_string(),
        unit_value_fen: yuan(f[3])?,
        daily_rate_fen: yuan(f[4])?,
        returnable,
        condition: f.get(6).map(|x| x.to_string()).unwrap_or_default(),
        used_at: f.get(7).map(|x| x.to_string()).unwrap_or_default(),
        ..Default::default()
    })
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    if let Some(rest) = field.strip_prefix("requisition.items[") {
        let n: usize = rest.split_once(']')?.0.parse().ok()?;
        return Some(format!("--item #{}", n + 1));
    }
    if let Some(rest) = field.strip_prefix("outcomes[") {
        let f = rest.rsplit_once('.').map(|(_, f)| f).unwrap_or("");
        return Some(
            match f {
                "repair_cost_fen" => "--repair",
                "certificate" => "--certificate",
                "line_number" => "--line",
                _ => "--returned/--damaged/--lost/--consumed",
            }
            .into(),
        );
    }
    let flag = match field.strip_prefix("requisition.").unwrap_or(field) {
        "owner.id_number" => "--owner-id",
        "owner.phone" => "--owner-phone",
        "owner.bank_account" => "--owner-account",
        "owner.bank_name" => "--owner-bank",
        "owner.name" => "--owner",
        "owner.kind" => "--owner-kind",
        "incident_id" => "--incident",
        "decision" => "--decision",
        "authority" => "--authority",
        "officer" => "--officer",
        "taken_time" => "--taken",
        "voucher_number" => "--voucher/--number",
        "from_depot_code" => "--from-depot",
        "occurred_time" => "--at",
        "issued_time" => "--issued",
        _ => return None,
    };
    Some(flag.into())
}

fn kind_name(k: i32) -> &'static str {
    match pb::RequisitionOutcomeKind::try_from(k) {
        Ok(pb::RequisitionOutcomeKind::ReturnedIntact) => "returned",
        Ok(pb::RequisitionOutcomeKind::Damaged) => "damaged",
        Ok(pb::RequisitionOutcomeKind::Lost) => "lost",
        Ok(pb::RequisitionOutcomeKind::Consumed) => "consumed",
        _ => "-",
    }
}

fn state_name(s: i32) -> &'static str {
    match pb::RequisitionState::try_from(s) {
        Ok(pb::RequisitionState::InUse) => "in use",
        Ok(pb::RequisitionState::Resolved) => "resolved",
        _ => "-",
    }
}

/// The owner line: masked unless the caller is finance.
pub fn owner_text(o: &pb::RequisitionOwner) -> String {
    let kind = if o.kind == pb::OwnerKind::Company as i32 {
        "company"
    } else {
        "person"
    };
    if o.purged {
        return format!("{} ({kind}; private data purged after settlement)", o.name);
    }
    format!(
        "{} ({kind}) {} · {} · {} {}",
        o.name, o.id_number, o.phone, o.bank_name, o.bank_account
    )
}

fn show(r: &pb::Requisition) {
    let owner = r.owner.clone().unwrap_or_default();
    let voucher = if r.voucher_number.is_empty() {
        match &r.voucher_due_time {
            Some(t) if r.voucher_overdue => format!("none — OVERDUE since {}", time(Some(t))),
            Some(t) => format!("none — due by {}", time(Some(t))),
            None => "-".into(),
        }
    } else {
        format!("{} ({})", r.voucher_number, time(r.voucher_time.as_ref()))
    };
    fields(vec![
        ("requisition", r.number.clone()),
        ("state", state_name(r.state).into()),
        ("incident", r.incident_id.clone()),
        ("decision", format!("{} — {}", r.decision, r.authority)),
        ("officer", r.officer.clone()),
        ("depot", r.depot_code.clone()),
        ("owner", owner_text(&owner)),
        ("taken", time(r.taken_time.as_ref())),
        ("voucher", voucher),
    ]);
    let mut t = table(&[
        "line",
        "item",
        "qty",
        "unit",
        "kind",
        "value ¥/unit",
        "¥/day",
        "in stock",
        "returned",
        "damaged",
        "lost",
        "consumed",
        "out",
    ]);
    for i in &r.items {
        t.add_row(vec![
            i.line_number.to_string(),
            i.description.clone(),
            i.quantity.to_string(),
            i.unit.clone(),
            if i.returnable {
                "returnable"
            } else {
                "consumable"
            }
            .into(),
            show_yuan(i.unit_value_fen),
            show_yuan(i.daily_rate_fen),
            i.received.to_string(),
            i.returned.to_string(),
            i.damaged.to_string(),
            i.lost.to_string(),
            i.consumed.to_string(),
            i.outstanding.to_string(),
        ]);
    }
    print_table(&t);
    if !r.outcomes.is_empty() {
        let mut t = table(&[
            "when",
            "line",
            "outcome",
            "qty",
            "repair ¥",
            "certificate",
            "from depot",
            "by",
        ]);
        for o in &r.outcomes {
            t.add_row(vec![
                time(o.occurred_time.as_ref()),
                o.line_number.to_string(),
                kind_name(o.kind).into(),
                o.quantity.to_string(),
                show_yuan(o.repair_cost_fen),
                or_dash(&o.certificate),
                or_dash(&o.from_depot_code),
                o.recorded_by.clone(),
            ]);
        }
        print_table(&t);
    }
}

/// Runs a requisitions command.
pub async fn run(
    cmd: RequisitionsCmd,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = RequisitionServiceClient::new(ch);
    let r = match cmd {
        RequisitionsCmd::Create(a) => {
            let a = *a;
            let items = a
                .items
                .into_iter()
                .map(|mut i| {
                    if i.condition.is_empty() {
                        i.condition = a.condition.clone();
                    }
                    if i.used_at.is_empty() {
                        i.used_at = a.used_at.clone();
                    }
                    i
                })
                .collect();
            let r = c
                .create_requisition(pb::CreateRequisitionRequest {
                    request_id: request_id(&rid),
                    requisition: Some(pb::Requisition {
                        depot_code: a.depot.unwrap_or_default(),
                        incident_id: a.incident,
                        decision: a.decision,
                        authority: a.authority,
                        officer: a.officer,
                        owner: Some(pb::RequisitionOwner {
                            kind: match a.owner_kind {
                                OwnerKindArg::Company => pb::OwnerKind::Company,
                                OwnerKindArg::Person => pb::OwnerKind::Person,
                            } as i32,
                            name: a.owner,
                            id_number: a.owner_id,
                            phone: a.owner_phone,
                            bank_account: a.owner_account,
                            bank_name: a.owner_bank,
                            ..Default::default()
                        }),
                        taken_time: a.taken,
                        voucher_number: a.voucher,
                        items,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateRequisitionResponse", &r);
            }
            let r = r.requisition.unwrap_or_default();
            println!("requisition recorded: {}", r.number);
            r
        }
        RequisitionsCmd::Voucher(a) => {
            let r = c
                .record_requisition_voucher(pb::RecordRequisitionVoucherRequest {
                    request_id: request_id(&rid),
                    requisition_id: a.requisition,
                    voucher_number: a.number,
                    issued_time: a.issued,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RecordRequisitionVoucherResponse", &r);
            }
            r.requisition.unwrap_or_default()
        }
        RequisitionsCmd::Outcome(a) => {
            let mut outcomes = Vec::new();
            let mut add = |kind: pb::RequisitionOutcomeKind, qty: i64, repair: i64| {
                if qty > 0 {
                    outcomes.push(pb::RequisitionOutcome {
                        line_number: a.line,
                        kind: kind as i32,
                        quantity: qty,
                        repair_cost_fen: repair,
                        certificate: a.certificate.clone(),
                        note: a.note.clone(),
                        ..Default::default()
                    });
                }
            };
            add(pb::RequisitionOutcomeKind::ReturnedIntact, a.returned, 0);
            add(pb::RequisitionOutcomeKind::Damaged, a.damaged, a.repair);
            add(pb::RequisitionOutcomeKind::Lost, a.lost, 0);
            add(pb::RequisitionOutcomeKind::Consumed, a.consumed, 0);
            if outcomes.is_empty() {
                anyhow::bail!("give at least one of --returned, --damaged, --lost or --consumed");
            }
            let r = c
                .record_requisition_outcomes(pb::RecordRequisitionOutcomesRequest {
                    request_id: request_id(&rid),
                    requisition_id: a.requisition,
                    outcomes,
                    occurred_time: a.at,
                    from_depot_code: a.from_depot.unwrap_or_default(),
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RecordRequisitionOutcomesResponse", &r);
            }
            r.requisition.unwrap_or_default()
        }
        RequisitionsCmd::Get { requisition } => {
            let r = c
                .get_requisition(pb::GetRequisitionRequest {
                    requisition_id: requisition,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetRequisitionResponse", &r);
            }
            r.requisition.unwrap_or_default()
        }
        RequisitionsCmd::List(a) => {
            let filter = if a.in_use {
                pb::RequisitionFilter::InUse
            } else if a.voucher_overdue {
                pb::RequisitionFilter::VoucherOverdue
            } else {
                pb::RequisitionFilter::Unspecified
            };
            let template = pb::ListRequisitionsRequest {
                depot_code: a.depot.unwrap_or_default(),
                filter: filter as i32,
                ..Default::default()
            };
            let got = paging::fetch(a.limit, |page_token, page_size| {
                let mut c = c.clone();
                let req = pb::ListRequisitionsRequest {
                    page_size,
                    page_token,
                    ..template.clone()
                };
                async move {
                    let r = c.list_requisitions(req).await?.into_inner();
                    Ok((r.requisitions, r.next_page_token))
                }
            })
            .await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListRequisitionsResponse",
                    &pb::ListRequisitionsResponse {
                        requisitions: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            let mut t = table(&[
                "number", "taken", "owner", "items", "out", "voucher", "state",
            ]);
            for r in &got.items {
                let out: i64 = r.items.iter().map(|i| i.outstanding).sum();
                t.add_row(vec![
                    r.number.clone(),
                    time(r.taken_time.as_ref()),
                    r.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
                    r.items
                        .iter()
                        .map(|i| format!("{} {}{}", i.description, i.quantity, i.unit))
                        .collect::<Vec<_>>()
                        .join("; "),
                    out.to_string(),
                    if !r.voucher_number.is_empty() {
                        r.voucher_number.clone()
                    } else if r.voucher_overdue {
                        "OVERDUE".into()
                    } else {
                        "due".into()
                    },
                    state_name(r.state).into(),
                ]);
            }
            print_table(&t);
            got.note_more(fmt);
            return Ok(());
        }
    };
    show(&r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_read_with_its_value_and_rate_in_fen() {
        let i = item("挖掘机 卡特320|1|台|800000|2500|returnable|完好|城关镇").unwrap();
        assert_eq!(
            (i.quantity, i.unit_value_fen, i.daily_rate_fen),
            (1, 80_000_000, 250_000)
        );
        assert!(i.returnable);
        assert_eq!(i.used_at, "城关镇");
        let q = item("棉被|300|床|150|0|consumable").unwrap();
        assert!(!q.returnable && q.condition.is_empty());
        assert!(item("棉被|300|床|150|0").is_err());
        assert!(item("棉被|x|床|150|0|consumable").is_err());
        assert!(item("棉被|3|床|1.234|0|consumable").is_err());
    }
}
