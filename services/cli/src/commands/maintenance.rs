//! `reservectl upkeep ...` and `reservectl repairs ...`: a keeper records
//! upkeep and lists what is due; a dispatcher sets plans; a keeper sends
//! equipment for repair and ends the repair.

use super::choices::{DisposalArg, UpkeepKindArg, UpkeepResultArg, name};
use super::request_id;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time, yuan};
use crate::when::{self, show_date};
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::maintenance_service_client::MaintenanceServiceClient;

/// Upkeep commands.
#[derive(clap::Subcommand, Debug)]
pub enum UpkeepCmd {
    /// Set the plan of an item at a depot (and below) or of one asset.
    Plan {
        /// Item.
        #[arg(long)]
        item: String,
        /// Depot the plan covers with its subtree (default: yours), unless --serial.
        #[arg(long)]
        depot: Option<String>,
        /// One asset's plan instead.
        #[arg(long)]
        serial: Option<String>,
        /// Every N days.
        #[arg(long, default_value_t = 0)]
        every_days: i64,
        /// Every N calendar months.
        #[arg(long, default_value_t = 0)]
        every_months: i64,
        /// The work asked for.
        #[arg(long, value_enum)]
        kind: UpkeepKindArg,
        /// What to do.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record upkeep done; prints the record and when the unit is next due.
    Record {
        /// Item.
        #[arg(long)]
        item: String,
        /// The asset (serial-tracked items).
        #[arg(long, default_value = "")]
        serial: String,
        /// The work.
        #[arg(long, value_enum)]
        kind: UpkeepKindArg,
        /// What it found.
        #[arg(long, value_enum, default_value = "pass")]
        result: UpkeepResultArg,
        /// Cost in fen.
        #[arg(long, default_value_t = 0)]
        cost_fen: i64,
        /// Notes.
        #[arg(long, default_value = "")]
        notes: String,
        /// The day it was done YYYY-MM-DD (default: today).
        #[arg(long, value_parser = when::date)]
        date: Option<Date>,
        /// The next due date (default: one interval of its plan later).
        #[arg(long, value_parser = when::date)]
        next_due: Option<Date>,
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
    /// Units due for upkeep, soonest first.
    Due {
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Due within this many days (overdue ones always shown).
        #[arg(long, default_value_t = 30)]
        within_days: i32,
        /// Only overdue units.
        #[arg(long)]
        overdue: bool,
    },
}

/// Repair commands.
#[derive(clap::Subcommand, Debug)]
pub enum RepairsCmd {
    /// Send an asset for repair: the repair holds it until it ends.
    Start {
        /// Item.
        #[arg(long)]
        item: String,
        /// The asset.
        #[arg(long)]
        serial: String,
        /// What is wrong.
        #[arg(long)]
        fault: String,
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
    /// End a repair: repaired, or beyond repair into a scrap application.
    Finish {
        /// Repair id.
        id: String,
        /// Repaired: the asset is back in stock.
        #[arg(long, conflicts_with = "beyond_repair")]
        repaired: bool,
        /// Beyond repair: a scrap application disposes of it this way.
        #[arg(long, value_enum)]
        beyond_repair: Option<DisposalArg>,
        /// What it cost, in fen.
        #[arg(long, default_value_t = 0)]
        cost_fen: i64,
        /// Notes.
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Repairs of a subtree, oldest first.
    List {
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Only open repairs.
        #[arg(long)]
        open: bool,
        /// Only repairs open longer than the server's overdue days.
        #[arg(long)]
        overdue: bool,
    },
}

/// The flag behind a request field the server names in an error.
pub fn flag_of(field: &str) -> Option<String> {
    let flag = match field {
        "record.serial_number" | "serial_number" | "plan.serial_number" => "--serial",
        "record.date" => "--date",
        "record.next_due_date" => "--next-due",
        "record.cost_fen" | "cost_fen" => "--cost-fen",
        "plan.interval_days" => "--every-days",
        "plan.interval_months" => "--every-months",
        "disposal" => "--beyond-repair",
        "outcome" => "--repaired",
        "fault" => "--fault",
        _ => return None,
    };
    Some(flag.to_string())
}

fn depot(d: Option<String>, scope: &Option<String>) -> String {
    d.or_else(|| scope.clone()).unwrap_or_default()
}

/// Runs an upkeep command.
pub async fn upkeep(
    c: UpkeepCmd,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut m = MaintenanceServiceClient::new(ch);
    match c {
        UpkeepCmd::Plan {
            item,
            depot: d,
            serial,
            every_days,
            every_months,
            kind,
            note,
        } => {
            let on_asset = serial.is_some();
            let r = m
                .set_upkeep_plan(pb::SetUpkeepPlanRequest {
                    request_id: request_id(&rid),
                    plan: Some(pb::UpkeepPlan {
                        depot_code: if on_asset {
                            String::new()
                        } else {
                            depot(d, &scope)
                        },
                        item_id: item,
                        serial_number: serial.unwrap_or_default(),
                        interval_days: every_days,
                        interval_months: every_months,
                        kind: kind.wire(),
                        note,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.SetUpkeepPlanResponse", &r);
            }
            let p = r.plan.unwrap_or_default();
            let every = if p.interval_months > 0 {
                format!("{} month(s)", p.interval_months)
            } else {
                format!("{} days", p.interval_days)
            };
            let at = if p.serial_number.is_empty() {
                format!("{} and below", p.depot_code)
            } else {
                format!("asset {}", p.serial_number)
            };
            println!(
                "plan {}: {} of {} every {every} at {at}",
                p.id,
                name::<pb::UpkeepKind>(p.kind),
                p.item_id
            );
        }
        UpkeepCmd::Record {
            item,
            serial,
            kind,
            result,
            cost_fen,
            notes,
            date,
            next_due,
            depot: d,
        } => {
            let r = m
                .record_upkeep(pb::RecordUpkeepRequest {
                    request_id: request_id(&rid),
                    record: Some(pb::UpkeepRecord {
                        depot_code: depot(d, &scope),
                        item_id: item,
                        serial_number: serial,
                        kind: kind.wire(),
                        date,
                        result: result.wire(),
                        cost_fen,
                        notes,
                        next_due_date: next_due,
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RecordUpkeepResponse", &r);
            }
            let rec = r.record.unwrap_or_default();
            let unit = if rec.serial_number.is_empty() {
                format!("{} at {}", rec.item_id, rec.depot_code)
            } else {
                format!("{} {}", rec.item_id, rec.serial_number)
            };
            println!(
                "recorded {} ({}) of {unit} on {}, cost {}; next due {}",
                name::<pb::UpkeepKind>(rec.kind),
                name::<pb::UpkeepResult>(rec.result),
                show_date(rec.date.as_ref()),
                yuan(rec.cost_fen),
                show_date(r.unit_next_due_date.as_ref()),
            );
        }
        UpkeepCmd::Due {
            depot: d,
            within_days,
            overdue,
        } => {
            let r = m
                .list_upkeep_due(pb::ListUpkeepDueRequest {
                    depot_code: d.unwrap_or_default(),
                    horizon_days: within_days,
                    overdue_only: overdue,
                    page_size: 1000,
                    ..Default::default()
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListUpkeepDueResponse", &r);
            }
            let mut t = table(&["due", "depot", "item", "unit", "work", "last", "status"]);
            for u in &r.units {
                t.add_row(vec![
                    show_date(u.due_date.as_ref()),
                    u.depot_code.clone(),
                    u.item_id.clone(),
                    if u.serial_number.is_empty() {
                        format!("{} units", u.units)
                    } else {
                        u.serial_number.clone()
                    },
                    name::<pb::UpkeepKind>(u.kind),
                    show_date(u.last_upkeep_date.as_ref()),
                    if u.overdue { "OVERDUE" } else { "due" }.to_string(),
                ]);
            }
            print_table(&t);
            println!(
                "{} unit(s) as of {}",
                r.units.len(),
                show_date(r.today.as_ref())
            );
        }
    }
    Ok(())
}

fn print_repair(r: &pb::Repair) {
    let mut line = format!(
        "repair {}: {} {} {}, {}",
        r.id,
        r.item_id,
        r.serial_number,
        name::<pb::RepairStatus>(r.status),
        r.fault
    );
    if r.cost_fen > 0 {
        line.push_str(&format!(", cost {}", yuan(r.cost_fen)));
    }
    if !r.scrap_application_id.is_empty() {
        line.push_str(&format!(
            "; scrap application {} awaits the owning tier",
            r.scrap_application_id
        ));
    }
    println!("{line}");
}

/// Runs a repair command.
pub async fn repairs(
    c: RepairsCmd,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut m = MaintenanceServiceClient::new(ch);
    match c {
        RepairsCmd::Start {
            item,
            serial,
            fault,
            depot: d,
        } => {
            let r = m
                .start_repair(pb::StartRepairRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(d, &scope),
                    item_id: item,
                    serial_number: serial,
                    fault,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.StartRepairResponse", &r);
            }
            print_repair(&r.repair.unwrap_or_default());
        }
        RepairsCmd::Finish {
            id,
            repaired,
            beyond_repair,
            cost_fen,
            notes,
        } => {
            let outcome = match (repaired, beyond_repair) {
                (_, Some(_)) => pb::RepairOutcome::BeyondRepair,
                (true, None) => pb::RepairOutcome::Repaired,
                (false, None) => pb::RepairOutcome::Unspecified,
            };
            let r = m
                .finish_repair(pb::FinishRepairRequest {
                    request_id: request_id(&rid),
                    repair_id: id,
                    outcome: outcome as i32,
                    cost_fen,
                    notes,
                    disposal: DisposalArg::wire_or_unset(beyond_repair),
                    ..Default::default()
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.FinishRepairResponse", &r);
            }
            print_repair(&r.repair.unwrap_or_default());
            if let Some(rec) = &r.record {
                println!("next due {}", show_date(rec.next_due_date.as_ref()));
            }
        }
        RepairsCmd::List {
            depot: d,
            open,
            overdue,
        } => {
            let r = m
                .list_repairs(pb::ListRepairsRequest {
                    depot_code: d.unwrap_or_default(),
                    open_only: open,
                    overdue_only: overdue,
                    page_size: 1000,
                    ..Default::default()
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListRepairsResponse", &r);
            }
            let mut t = table(&[
                "id", "depot", "item", "serial", "status", "started", "days", "cost", "fault",
            ]);
            for x in &r.repairs {
                let status = name::<pb::RepairStatus>(x.status);
                t.add_row(vec![
                    x.id.clone(),
                    x.depot_code.clone(),
                    x.item_id.clone(),
                    x.serial_number.clone(),
                    if x.overdue {
                        format!("{status} OVERDUE")
                    } else {
                        status
                    },
                    time(x.start_time.as_ref()),
                    x.days_open.to_string(),
                    yuan(x.cost_fen),
                    x.fault.clone(),
                ]);
            }
            print_table(&t);
        }
    }
    Ok(())
}
