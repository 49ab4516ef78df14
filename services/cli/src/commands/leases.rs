//! `reservectl leases ...`: leasing equipment and supplies to outside
//! organisations in ordinary times, taking them back after inspection, fee
//! statements, and the dispatcher's emergency recall.

use super::agreements::{contact, credit_code};
use super::choices::{ConditionArg, name};
use super::request_id;
use super::stock::print::{fields, or_dash};
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use crate::paging::{self, LimitArg};
use crate::when::{self, show_date};
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::lease_service_client::LeaseServiceClient;

/// Lease commands.
#[derive(clap::Subcommand, Debug)]
pub enum LeasesCmd {
    /// Lease units out of your depot (its keeper): they leave on hand into
    /// on lease until they come back. Prints the lease number.
    Create(CreateArgs),
    /// Take units of a lease back after inspecting them (the depot's keeper).
    Return(ReturnArgs),
    /// The fee statement: days × daily rate per unit, damage, deposit.
    Statement {
        /// Lease id or number (ZL-2026-000001).
        lease: String,
    },
    /// Show one lease.
    Get {
        /// Lease id or number.
        lease: String,
    },
    /// Leases of a subtree, newest first: all, open, overdue, or recalled
    /// and not back by the deadline.
    List(ListArgs),
    /// Recall one lease in an emergency (a dispatcher): fees stop now.
    Recall(RecallArgs),
    /// Recall every recallable open lease in a subtree in one call.
    RecallAll(RecallAllArgs),
}

/// A new lease.
#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// The depot the units leave from (default: your scope depot).
    #[arg(long)]
    depot: Option<String>,
    /// The lessee organisation, e.g. 十堰市城建工程有限公司.
    #[arg(long)]
    lessee: String,
    /// Its unified social credit code (18 characters, check character per GB 32100).
    #[arg(long, value_parser = credit_code)]
    credit_code: String,
    /// Its contact as "name,duty,phone" (the duty may be empty).
    #[arg(long, value_parser = contact, value_name = "NAME,DUTY,PHONE")]
    contact: pb::Contact,
    /// The date the units are due back, YYYY-MM-DD.
    #[arg(long, value_parser = when::date)]
    due: Date,
    /// A line: ITEM:QTY@YUAN_PER_DAY for lot items, or
    /// ITEM:[SN1,SN2]@YUAN_PER_DAY for serial items; repeat.
    #[arg(long = "line", required = true, value_parser = lease_line, value_name = "ITEM:QTY@RATE")]
    lines: Vec<pb::LeaseLine>,
    /// Deposit taken, in yuan (e.g. 200 or 200.50).
    #[arg(long, value_parser = yuan, default_value = "0")]
    deposit: i64,
    /// The lease may not be recalled in an emergency.
    #[arg(long)]
    no_recall: bool,
    /// The paper contract number.
    #[arg(long, default_value = "")]
    contract: String,
    /// Notes.
    #[arg(long, default_value = "")]
    note: String,
}

/// Units coming back on one line.
#[derive(clap::Args, Debug)]
pub struct ReturnArgs {
    /// Lease id or number.
    lease: String,
    /// The lease line (1 for the first).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..))]
    line: i32,
    /// Units back intact (lot items).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    qty: i64,
    /// Units back damaged (lot items): they go into a hold.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    damaged: i64,
    /// A serial number back intact; repeat.
    #[arg(long = "serial")]
    serials: Vec<String>,
    /// A serial number back damaged; repeat.
    #[arg(long = "damaged-serial")]
    damaged_serials: Vec<String>,
    /// How the intact units are: good or worn.
    #[arg(long, value_enum, default_value = "good")]
    condition: ConditionArg,
    /// How the damaged units are: needs-repair or unserviceable.
    #[arg(long, value_enum, default_value = "needs-repair")]
    damaged_condition: ConditionArg,
    /// When the units came back, if not now (at most 30 days back): a date
    /// or time, Beijing time unless a zone is given. Fees run to its date.
    #[arg(long, value_parser = when::at)]
    returned: Option<prost_types::Timestamp>,
    /// Damage charged to the lessee, in yuan.
    #[arg(long, value_parser = yuan, default_value = "0")]
    damage: i64,
    /// What the inspector saw.
    #[arg(long, default_value = "")]
    note: String,
}

/// Which leases.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("which").args(["open", "overdue", "recall_missed"]))]
pub struct ListArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only leases with units out.
    #[arg(long)]
    open: bool,
    /// Only open leases past their due date.
    #[arg(long)]
    overdue: bool,
    /// Only recalled leases still out after the deadline.
    #[arg(long)]
    recall_missed: bool,
    #[command(flatten)]
    limit: LimitArg,
}

/// One recall.
#[derive(clap::Args, Debug)]
pub struct RecallArgs {
    /// Lease id or number.
    lease: String,
    /// Hours from now the units must be back by: 1 to 720.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=720))]
    hours: i32,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// A subtree recall.
#[derive(clap::Args, Debug)]
pub struct RecallAllArgs {
    /// The subtree to recall, e.g. a county (named explicitly: a recall
    /// cannot be undone).
    #[arg(long)]
    depot: String,
    /// Hours from now the units must be back by: 1 to 720.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=720))]
    hours: i32,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// Yuan with at most two decimals, as fen.
pub(crate) fn yuan(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not an amount of yuan like 200 or 5.50");
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let w: i64 = whole.parse().map_err(|_| bad())?;
    let f: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    w.checked_mul(100)
        .and_then(|x| x.checked_add(f))
        .ok_or_else(bad)
}

/// Fen as yuan: `1234.50`.
pub(crate) fn show_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// `ITEM:QTY@RATE` or `ITEM:[SN1,SN2]@RATE`.
fn lease_line(s: &str) -> Result<pb::LeaseLine, String> {
    let bad = || format!("'{s}' is not ITEM:QTY@YUAN_PER_DAY or ITEM:[SN1,SN2]@YUAN_PER_DAY");
    let (left, rate) = s.rsplit_once('@').ok_or_else(bad)?;
    let (item, units) = left.split_once(':').ok_or_else(bad)?;
    let rate = yuan(rate)?;
    let mut line = pb::LeaseLine {
        item_id: item.trim().to_string(),
        daily_rate_fen: rate,
        ..Default::default()
    };
    let units = units.trim();
    if let Some(list) = units.strip_prefix('[').and_then(|u| u.strip_suffix(']')) {
        line.serial_numbers = list
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect();
        if line.serial_numbers.is_empty() {
            return Err(bad());
        }
    } else {
        line.quantity = units.parse().map_err(|_| bad())?;
    }
    if line.item_id.is_empty() {
        return Err(bad());
    }
    Ok(line)
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    if let Some(rest) = field.strip_prefix("lease.lines[") {
        let n: usize = rest.split_once(']')?.0.parse().ok()?;
        return Some(format!("--line #{}", n + 1));
    }
    if field.starts_with("lease.lessee.contact") {
        return Some("--contact".into());
    }
    if field.starts_with("lines[") {
        let f = field.rsplit_once('.').map(|(_, f)| f).unwrap_or("");
        let flag = match f {
            "quantity" => "--qty",
            "damaged_quantity" => "--damaged",
            "serial_numbers" => "--serial",
            "damaged_serial_numbers" => "--damaged-serial",
            "condition" => "--condition",
            "damaged_condition" => "--damaged-condition",
            "damage_fen" => "--damage",
            "note" => "--note",
            _ => "--line",
        };
        return Some(flag.into());
    }
    let flag = match field {
        "lease.depot_code" | "depot_code" => "--depot",
        "lease.lessee.name" => "--lessee",
        "lease.lessee.credit_code" => "--credit-code",
        "lease.due_date" => "--due",
        "lease.deposit_fen" => "--deposit",
        "lease.lines" => "--line",
        "lease.contract" => "--contract",
        "lease.note" => "--note",
        "deadline_hours" => "--hours",
        "occurred_time" => "--returned",
        "reason" => "--reason",
        "lease_id" => "the lease id or number",
        "request_id" => "--request-id",
        _ => return None,
    };
    Some(flag.to_string())
}

fn lines_text(l: &pb::Lease) -> String {
    l.lines
        .iter()
        .map(|x| format!("{} {} ({} out)", x.item_id, x.quantity, x.outstanding))
        .collect::<Vec<_>>()
        .join(", ")
}

fn recall_text(l: &pb::Lease) -> String {
    match &l.recall {
        Some(r) => format!(
            "by {} at {}, due back {}: {}",
            r.recalled_by,
            time(r.recall_time.as_ref()),
            time(r.deadline.as_ref()),
            r.reason
        ),
        None if l.recallable => "recallable".into(),
        None => "not recallable".into(),
    }
}

/// One lease in full: its fields, then its lines lot by lot.
fn show(l: &pb::Lease) {
    let lessee = l.lessee.clone().unwrap_or_default();
    let c = lessee.contact.unwrap_or_default();
    fields(vec![
        ("lease", l.number.clone()),
        ("id", l.id.clone()),
        ("depot", l.depot_code.clone()),
        ("lessee", lessee.name),
        ("credit code", lessee.credit_code),
        ("contact", format!("{} {}", c.name, c.phone)),
        ("state", name::<pb::LeaseState>(l.state)),
        ("out since (Beijing)", time(l.start_time.as_ref())),
        ("due", show_date(l.due_date.as_ref())),
        ("overdue", if l.overdue { "yes" } else { "no" }.into()),
        ("deposit (yuan)", show_yuan(l.deposit_fen)),
        ("recall", recall_text(l)),
        ("contract", or_dash(&l.contract)),
        ("units out", l.outstanding.to_string()),
    ]);
    let mut t = table(&[
        "line",
        "item",
        "lot",
        "leased",
        "back",
        "damaged",
        "out",
        "serials out",
        "yuan/day",
    ]);
    for x in &l.lines {
        for s in &x.shares {
            t.add_row(vec![
                x.line_number.to_string(),
                x.item_id.clone(),
                s.lot_number.clone(),
                s.quantity.to_string(),
                s.returned.to_string(),
                s.damaged.to_string(),
                (s.quantity - s.returned).to_string(),
                or_dash(&s.serial_numbers_out.join(" ")),
                show_yuan(x.daily_rate_fen),
            ]);
        }
    }
    print_table(&t);
}

fn list(leases: &[pb::Lease]) {
    let mut t = table(&[
        "lease", "depot", "lessee", "state", "lines", "due", "overdue", "recall",
    ]);
    for l in leases {
        t.add_row(vec![
            l.number.clone(),
            l.depot_code.clone(),
            l.lessee
                .as_ref()
                .map(|x| x.name.clone())
                .unwrap_or_default(),
            name::<pb::LeaseState>(l.state),
            lines_text(l),
            show_date(l.due_date.as_ref()),
            if l.overdue { "yes" } else { "no" }.into(),
            match &l.recall {
                Some(r) => format!("due back {}", time(r.deadline.as_ref())),
                None => "-".into(),
            },
        ]);
    }
    print_table(&t);
}

fn statement(s: &pb::GetLeaseStatementResponse) {
    let l = s.lease.clone().unwrap_or_default();
    println!(
        "statement of lease {} to {} as of {}{}",
        l.number,
        l.lessee.map(|x| x.name).unwrap_or_default(),
        show_date(s.as_of.as_ref()),
        if s.r#final {
            " (final)"
        } else {
            " (interim: units still out)"
        }
    );
    let mut t = table(&[
        "line", "item", "lot", "units", "from", "to", "days", "yuan/day", "yuan",
    ]);
    for c in &s.charges {
        t.add_row(vec![
            c.line_number.to_string(),
            c.item_id.clone(),
            c.lot_number.clone(),
            c.units.to_string(),
            show_date(c.from_date.as_ref()),
            if c.still_out {
                format!("{} (still out)", show_date(c.to_date.as_ref()))
            } else {
                show_date(c.to_date.as_ref())
            },
            c.days.to_string(),
            show_yuan(c.daily_rate_fen),
            show_yuan(c.amount_fen),
        ]);
    }
    print_table(&t);
    let mut rows = vec![
        ("usage (yuan)", show_yuan(s.usage_fen)),
        ("damage (yuan)", show_yuan(s.damage_fen)),
        ("total (yuan)", show_yuan(s.total_fen)),
        ("deposit (yuan)", show_yuan(s.deposit_fen)),
    ];
    if s.balance_fen >= 0 {
        rows.push(("lessee owes (yuan)", show_yuan(s.balance_fen)));
    } else {
        rows.push(("refund to lessee (yuan)", show_yuan(-s.balance_fen)));
    }
    if s.fees_stop_date.is_some() {
        rows.push((
            "fees stopped (recall)",
            show_date(s.fees_stop_date.as_ref()),
        ));
    }
    fields(rows);
}

/// Runs a leases command.
pub async fn run(
    cmd: LeasesCmd,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = LeaseServiceClient::new(ch);
    match cmd {
        LeasesCmd::Create(a) => {
            let r = c
                .create_lease(pb::CreateLeaseRequest {
                    request_id: request_id(&rid),
                    lease: Some(pb::Lease {
                        depot_code: a.depot.unwrap_or_default(),
                        lessee: Some(pb::Lessee {
                            name: a.lessee,
                            credit_code: a.credit_code,
                            contact: Some(a.contact),
                        }),
                        lines: a.lines,
                        due_date: Some(a.due),
                        deposit_fen: a.deposit,
                        recallable: !a.no_recall,
                        contract: a.contract,
                        note: a.note,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateLeaseResponse", &r);
            }
            let l = r.lease.unwrap_or_default();
            println!("leased out on {}", l.number);
            show(&l);
        }
        LeasesCmd::Return(a) => {
            let r = c
                .return_lease(pb::ReturnLeaseRequest {
                    request_id: request_id(&rid),
                    lease_id: a.lease,
                    lines: vec![pb::LeaseReturnLine {
                        line_number: a.line,
                        quantity: a.qty,
                        serial_numbers: a.serials,
                        damaged_quantity: a.damaged,
                        damaged_serial_numbers: a.damaged_serials,
                        condition: a.condition.wire(),
                        damaged_condition: a.damaged_condition.wire(),
                        damage_fen: a.damage,
                        note: a.note,
                    }],
                    etag: String::new(),
                    occurred_time: a.returned,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ReturnLeaseResponse", &r);
            }
            let l = r.lease.unwrap_or_default();
            println!(
                "taken back on {}: {} unit(s) still out",
                l.number, l.outstanding
            );
            show(&l);
        }
        LeasesCmd::Statement { lease } => {
            let r = c
                .get_lease_statement(pb::GetLeaseStatementRequest { lease_id: lease })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetLeaseStatementResponse", &r);
            }
            statement(&r);
        }
        LeasesCmd::Get { lease } => {
            let r = c
                .get_lease(pb::GetLeaseRequest { lease_id: lease })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetLeaseResponse", &r);
            }
            show(&r.lease.unwrap_or_default());
        }
        LeasesCmd::List(a) => {
            let filter = if a.open {
                pb::LeaseFilter::Open
            } else if a.overdue {
                pb::LeaseFilter::Overdue
            } else if a.recall_missed {
                pb::LeaseFilter::RecallMissed
            } else {
                pb::LeaseFilter::Unspecified
            };
            let template = pb::ListLeasesRequest {
                depot_code: a.depot.unwrap_or_default(),
                filter: filter as i32,
                ..Default::default()
            };
            let got = paging::fetch(a.limit, |page_token, page_size| {
                let mut c = c.clone();
                let req = pb::ListLeasesRequest {
                    page_size,
                    page_token,
                    ..template.clone()
                };
                async move {
                    let r = c.list_leases(req).await?.into_inner();
                    Ok((r.leases, r.next_page_token))
                }
            })
            .await?;
            if fmt == Format::Json {
                got.note_more(fmt);
                return json(
                    "reserve.v1.ListLeasesResponse",
                    &pb::ListLeasesResponse {
                        leases: got.items,
                        next_page_token: got.next_page_token,
                    },
                );
            }
            list(&got.items);
            got.note_more(fmt);
        }
        LeasesCmd::Recall(a) => {
            let r = c
                .recall_lease(pb::RecallLeaseRequest {
                    request_id: request_id(&rid),
                    lease_id: a.lease,
                    deadline_hours: a.hours,
                    reason: a.reason,
                    etag: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RecallLeaseResponse", &r);
            }
            let l = r.lease.unwrap_or_default();
            println!("recalled {}: {}", l.number, recall_text(&l));
        }
        LeasesCmd::RecallAll(a) => {
            let r = c
                .recall_leases(pb::RecallLeasesRequest {
                    request_id: request_id(&rid),
                    depot_code: a.depot,
                    deadline_hours: a.hours,
                    reason: a.reason,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RecallLeasesResponse", &r);
            }
            println!(
                "recalled {} lease(s); left alone (not recallable or recalled already): {}",
                r.leases.len(),
                if r.skipped_numbers.is_empty() {
                    "none".to_string()
                } else {
                    r.skipped_numbers.join(", ")
                }
            );
            list(&r.leases);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_are_read_as_exact_fen() {
        assert_eq!(yuan("200"), Ok(20_000));
        assert_eq!(yuan("5.5"), Ok(550));
        assert_eq!(yuan("0.05"), Ok(5));
        assert!(yuan("1.234").is_err());
        assert!(yuan("-1").is_err());
        assert!(yuan("abc").is_err());
        assert_eq!(show_yuan(-1_505), "-15.05");
    }

    #[test]
    fn lines_name_units_or_serials_and_a_daily_rate() {
        let l = lease_line("tent-12m2:30@5").unwrap();
        assert_eq!((l.quantity, l.daily_rate_fen), (30, 500));
        let s = lease_line("lighting-tower:[LT-A, LT-B]@120.00").unwrap();
        assert_eq!(s.serial_numbers, vec!["LT-A", "LT-B"]);
        assert!(lease_line("tent-12m2:30").is_err());
        assert!(lease_line("tent-12m2:[]@5").is_err());
    }
}
