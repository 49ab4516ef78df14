//! `reservectl stock ...`: a depot keeper's journeys and the stock reports.

use super::request_id;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time, yuan};
use anyhow::{Context, bail};
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;

/// Stock commands. The depot defaults to your token's scope depot.
#[derive(clap::Subcommand, Debug)]
pub enum StockCmd {
    /// Stock lines of a depot.
    List {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Only this item.
        #[arg(long)]
        item: Option<String>,
        /// Also lines with nothing on hand.
        #[arg(long)]
        all: bool,
    },
    /// Receive stock into a lot.
    Receive(ReceiveArgs),
    /// Issue stock (first-expired-first-out unless --lot or --serial).
    Issue(IssueArgs),
    /// Hold units (quarantine, damage, under repair).
    Hold(HoldArgs),
    /// Release held units.
    Release(MoveArgs),
    /// Reverse a mistaken entry.
    Reverse {
        /// Entry id.
        entry: String,
        /// Why it was wrong.
        #[arg(long)]
        reason: String,
    },
    /// Propose a correction; it posts when someone else countersigns it.
    Adjust {
        /// Item.
        #[arg(long)]
        item: String,
        /// Lot number.
        #[arg(long)]
        lot: String,
        /// Signed change, e.g. -3 or +2.
        #[arg(long, allow_hyphen_values = true)]
        qty: i64,
        /// Serial numbers missing or found.
        #[arg(long = "serial")]
        serials: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Adjustments of a subtree.
    Adjustments {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Only pending ones.
        #[arg(long)]
        pending: bool,
    },
    /// Countersign and post an adjustment.
    ApproveAdjustment {
        /// Adjustment id.
        id: String,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject (or, as its author, withdraw) an adjustment.
    RejectAdjustment {
        /// Adjustment id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Apply to scrap units; they are held until the owning tier decides.
    Scrap {
        /// Item.
        #[arg(long)]
        item: String,
        /// Lot number.
        #[arg(long)]
        lot: String,
        /// Units (lot-tracked items).
        #[arg(long, default_value_t = 0)]
        qty: i64,
        /// Serial numbers (serial-tracked items).
        #[arg(long = "serial")]
        serials: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        /// destroy, auction or recycle.
        #[arg(long, value_enum)]
        disposal: DisposalArg,
    },
    /// Scrap applications of a subtree.
    Scraps {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Only pending ones.
        #[arg(long)]
        pending: bool,
    },
    /// Approve a scrap application (dispatcher or admin of the owning tier).
    ApproveScrap {
        /// Application id.
        id: String,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reject a scrap application; its units are released.
    RejectScrap {
        /// Application id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Stock counts (盘点).
    #[command(subcommand)]
    Count(CountCmd),
    /// Ledger history of a subtree, newest first.
    Ledger {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Only this item.
        #[arg(long)]
        item: Option<String>,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: i32,
    },
    /// Sum an item or category over a subtree, by tier and state.
    Rollup {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Item.
        #[arg(long, conflicts_with = "category")]
        item: Option<String>,
        /// Category code prefix, e.g. 1 or 101.
        #[arg(long)]
        category: Option<String>,
    },
    /// Lots near expiry (and, with --expired, expired ones).
    Expiring {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Within this many days (default: each item's window).
        #[arg(long, default_value_t = 0)]
        within: i32,
        /// Include expired lots.
        #[arg(long)]
        expired: bool,
    },
    /// Depots below their reserve norms.
    Shortfalls {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
    /// Lots to rotate out before they expire, with replacement quantities.
    Rotation {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
    /// Serialised assets of a depot.
    Assets {
        /// Depot (default: yours).
        #[arg(long)]
        depot: Option<String>,
        /// Only this item.
        #[arg(long)]
        item: Option<String>,
    },
    /// Recompute every balance from the ledger (admins).
    Check {
        /// Subtree (default: yours).
        #[arg(long)]
        depot: Option<String>,
    },
}

/// Stock count commands.
#[derive(clap::Subcommand, Debug)]
pub enum CountCmd {
    /// Open a count at your depot and snapshot what is expected.
    Open {
        /// Only these items (default: all).
        #[arg(long = "item")]
        items: Vec<String>,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Record counted quantities: --line ITEM:LOT=N for lots, --seen
    /// ITEM:LOT=SERIAL,SERIAL,... for serial-tracked items (repeatable).
    Record {
        /// Count id.
        id: String,
        /// ITEM:LOT=N, e.g. quilt-cotton:Q-2026-07=97.
        #[arg(long = "line")]
        lines: Vec<String>,
        /// ITEM:LOT=SERIAL,SERIAL,..., e.g. generator-5kw:G-2026=GEN-001,GEN-003.
        #[arg(long = "seen")]
        seen: Vec<String>,
    },
    /// Submit a fully counted count.
    Submit {
        /// Count id.
        id: String,
    },
    /// Approve a submitted count (a second person) and post its variances.
    Approve {
        /// Count id.
        id: String,
        /// Note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Cancel a count.
    Cancel {
        /// Count id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Show a count and its variance report.
    Show {
        /// Count id.
        id: String,
    },
}

/// Fields of a receipt.
#[derive(clap::Args, Debug)]
pub struct ReceiveArgs {
    /// Depot (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Item.
    #[arg(long)]
    item: String,
    /// Lot number.
    #[arg(long)]
    lot: String,
    /// Units (lot-tracked items).
    #[arg(long, default_value_t = 0)]
    qty: i64,
    /// Serial numbers (serial-tracked items); repeat.
    #[arg(long = "serial")]
    serials: Vec<String>,
    /// Expiry date YYYY-MM-DD.
    #[arg(long)]
    expiry: Option<String>,
    /// Production date YYYY-MM-DD.
    #[arg(long)]
    production: Option<String>,
    /// Manufacturer.
    #[arg(long, default_value = "")]
    manufacturer: String,
    /// budget, donation or requisition.
    #[arg(long, value_enum)]
    funding: Option<FundingArg>,
    /// Document number (delivery note).
    #[arg(long, default_value = "")]
    document: String,
    /// Supplier or donor.
    #[arg(long = "from", default_value = "")]
    counterparty: String,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
}

/// Fields of an issue.
#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// Depot (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Item.
    #[arg(long)]
    item: String,
    /// Units.
    #[arg(long, default_value_t = 0)]
    qty: i64,
    /// Only from this lot.
    #[arg(long, default_value = "")]
    lot: String,
    /// These serial numbers; repeat.
    #[arg(long = "serial")]
    serials: Vec<String>,
    /// incident or use.
    #[arg(long, value_enum, default_value = "incident")]
    purpose: PurposeArg,
    /// The incident or user the stock goes to.
    #[arg(long = "to")]
    recipient: String,
    /// Document number.
    #[arg(long, default_value = "")]
    document: String,
    /// Why.
    #[arg(long, default_value = "")]
    reason: String,
    /// Break the reserve minimum, giving the reason (e.g. the order number).
    #[arg(long)]
    override_minimum: Option<String>,
}

/// Fields of a hold.
#[derive(clap::Args, Debug)]
pub struct HoldArgs {
    #[command(flatten)]
    what: MoveArgs,
    /// quarantine, damage or repair.
    #[arg(long, value_enum)]
    reason: HoldArg,
}

/// Which units a hold or release moves.
#[derive(clap::Args, Debug)]
pub struct MoveArgs {
    /// Depot (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Item.
    #[arg(long)]
    item: String,
    /// Lot number (lot-tracked items).
    #[arg(long, default_value = "")]
    lot: String,
    /// Units (lot-tracked items).
    #[arg(long, default_value_t = 0)]
    qty: i64,
    /// Serial numbers (serial-tracked items); repeat.
    #[arg(long = "serial")]
    serials: Vec<String>,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
}

/// Funding sources.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FundingArg {
    /// Budget.
    Budget,
    /// Donation.
    Donation,
    /// Requisition.
    Requisition,
}

/// Issue purposes.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum PurposeArg {
    /// To an incident.
    Incident,
    /// For use.
    Use,
}

/// Hold reasons.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum HoldArg {
    /// Quarantine.
    Quarantine,
    /// Damage.
    Damage,
    /// Under repair.
    Repair,
}

/// Disposals.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DisposalArg {
    /// Destroy.
    Destroy,
    /// Auction.
    Auction,
    /// Recycle.
    Recycle,
}

fn parse_date(raw: &Option<String>, flag: &str) -> anyhow::Result<Option<Date>> {
    let Some(s) = raw else { return Ok(None) };
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--{flag} must be YYYY-MM-DD"))?;
    use chrono::Datelike;
    Ok(Some(Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    }))
}

fn show_date(d: &Option<Date>) -> String {
    d.as_ref()
        .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_else(|| "-".into())
}

fn entry_type(raw: i32) -> String {
    pb::EntryType::try_from(raw)
        .map(|t| {
            t.as_str_name()
                .trim_start_matches("ENTRY_TYPE_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| "-".into())
}

fn status_name(raw: i32) -> String {
    pb::ApprovalStatus::try_from(raw)
        .map(|t| {
            t.as_str_name()
                .trim_start_matches("APPROVAL_STATUS_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| "-".into())
}

fn print_lines(lines: &[pb::StockLine]) {
    let mut t = table(&[
        "depot",
        "item",
        "lot",
        "expiry",
        "on hand",
        "reserved",
        "held",
        "available",
        "note",
    ]);
    for l in lines {
        let lot = l.lot.clone().unwrap_or_default();
        let note = if l.expired {
            "expired".to_string()
        } else if l.near_expiry {
            format!("expires in {} d", l.days_to_expiry.unwrap_or_default())
        } else {
            String::new()
        };
        t.add_row(vec![
            l.depot_code.clone(),
            l.item_id.clone(),
            lot.lot_number,
            show_date(&lot.expiry_date),
            l.on_hand.to_string(),
            l.reserved.to_string(),
            l.held.to_string(),
            l.available.to_string(),
            note,
        ]);
    }
    print_table(&t);
}

fn print_entries(entries: &[pb::LedgerEntry]) {
    let mut t = table(&[
        "time (Beijing)",
        "type",
        "depot",
        "item",
        "lot",
        "qty",
        "held",
        "by",
        "reason",
        "entry",
    ]);
    for e in entries {
        let by = if e.countersigned_by.is_empty() {
            e.actor.clone()
        } else {
            format!("{} / {}", e.actor, e.countersigned_by)
        };
        let mut lot = e.lot_number.clone();
        if !e.serial_numbers.is_empty() {
            lot = format!("{lot} [{}]", e.serial_numbers.join(" "));
        }
        t.add_row(vec![
            time(e.occurred_time.as_ref()),
            entry_type(e.entry_type),
            e.depot_code.clone(),
            e.item_id.clone(),
            lot,
            format!("{:+}", e.quantity),
            format!("{:+}", e.held_delta),
            by,
            e.reason.clone(),
            e.id.clone(),
        ]);
    }
    print_table(&t);
}

fn print_count(c: &pb::StockCount) {
    println!(
        "count {}  depot {}  {}  opened by {} at {}",
        c.id,
        c.depot_code,
        pb::CountStatus::try_from(c.status)
            .map(|s| s
                .as_str_name()
                .trim_start_matches("COUNT_STATUS_")
                .to_lowercase())
            .unwrap_or_default(),
        c.opened_by,
        time(c.open_time.as_ref())
    );
    let mut t = table(&[
        "item",
        "lot",
        "expected",
        "counted",
        "variance",
        "on hand at approval",
        "value",
    ]);
    for l in &c.lines {
        t.add_row(vec![
            l.item_id.clone(),
            l.lot_number.clone(),
            l.expected.to_string(),
            l.counted
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            if l.counted.is_some() {
                format!("{:+}", l.variance)
            } else {
                "-".into()
            },
            l.on_hand_at_approval
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            yuan(l.variance_value_fen),
        ]);
    }
    print_table(&t);
    println!(
        "total variance {:+} units, {}",
        c.total_variance,
        yuan(c.total_variance_value_fen)
    );
}

fn parse_line(s: &str, serials: bool) -> anyhow::Result<pb::CountedLine> {
    let shape = if serials {
        "--seen ITEM:LOT=SERIAL,SERIAL"
    } else {
        "--line ITEM:LOT=N"
    };
    let (left, right) = s
        .rsplit_once('=')
        .with_context(|| format!("must be {shape}"))?;
    let (item, lot) = left
        .split_once(':')
        .with_context(|| format!("must be {shape}"))?;
    let (counted, serial_numbers) = if serials {
        let list: Vec<String> = right
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        (list.len() as i64, list)
    } else {
        (
            right
                .trim()
                .parse()
                .context("the count after '=' must be a number")?,
            vec![],
        )
    };
    Ok(pb::CountedLine {
        item_id: item.trim().into(),
        lot_number: lot.trim().into(),
        counted,
        serial_numbers,
    })
}

/// Runs a stock command; `scope` is the token's scope depot.
pub async fn run(
    cmd: StockCmd,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = StockServiceClient::new(ch);
    let depot = |d: Option<String>| -> anyhow::Result<String> {
        d.or_else(|| scope.clone())
            .context("give --depot (no scope depot found in the token)")
    };
    match cmd {
        StockCmd::List {
            depot: d,
            item,
            all,
        } => {
            let r = c
                .list_stock(pb::ListStockRequest {
                    depot_code: depot(d)?,
                    item_id: item.unwrap_or_default(),
                    include_empty: all,
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListStockResponse", &r);
            }
            print_lines(&r.lines);
        }
        StockCmd::Receive(a) => {
            let r = c
                .receive_stock(pb::ReceiveStockRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(a.depot)?,
                    item_id: a.item,
                    lot_number: a.lot,
                    production_date: parse_date(&a.production, "production")?,
                    expiry_date: parse_date(&a.expiry, "expiry")?,
                    manufacturer: a.manufacturer,
                    funding_source: match a.funding {
                        None => 0,
                        Some(FundingArg::Budget) => 1,
                        Some(FundingArg::Donation) => 2,
                        Some(FundingArg::Requisition) => 3,
                    },
                    owning_tier: 0,
                    quantity: a.qty,
                    serial_numbers: a.serials,
                    document: a.document,
                    counterparty: a.counterparty,
                    note: a.note,
                    occurred_time: None,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ReceiveStockResponse", &r);
            }
            print_entries(&r.entry.into_iter().collect::<Vec<_>>());
            print_lines(&r.line.into_iter().collect::<Vec<_>>());
        }
        StockCmd::Issue(a) => {
            let r = c
                .issue_stock(pb::IssueStockRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(a.depot)?,
                    item_id: a.item,
                    quantity: a.qty,
                    lot_number: a.lot,
                    serial_numbers: a.serials,
                    purpose: match a.purpose {
                        PurposeArg::Incident => 1,
                        PurposeArg::Use => 2,
                    },
                    recipient: a.recipient,
                    document: a.document,
                    reason: a.reason,
                    override_reserve_minimum: a.override_minimum.is_some(),
                    override_reason: a.override_minimum.unwrap_or_default(),
                    occurred_time: None,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.IssueStockResponse", &r);
            }
            print_entries(&r.entries);
            print_lines(&r.lines);
        }
        StockCmd::Hold(a) => {
            let m = a.what;
            let r = c
                .hold_stock(pb::HoldStockRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(m.depot)?,
                    item_id: m.item,
                    lot_number: m.lot,
                    quantity: m.qty,
                    serial_numbers: m.serials,
                    reason: match a.reason {
                        HoldArg::Quarantine => 1,
                        HoldArg::Damage => 2,
                        HoldArg::Repair => 3,
                    },
                    note: m.note,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.HoldStockResponse", &r);
            }
            print_entries(&r.entries);
            print_lines(&r.lines);
        }
        StockCmd::Release(m) => {
            let r = c
                .release_stock(pb::ReleaseStockRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(m.depot)?,
                    item_id: m.item,
                    lot_number: m.lot,
                    quantity: m.qty,
                    serial_numbers: m.serials,
                    reason: m.note,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ReleaseStockResponse", &r);
            }
            print_entries(&r.entries);
            print_lines(&r.lines);
        }
        StockCmd::Reverse { entry, reason } => {
            let r = c
                .reverse_entry(pb::ReverseEntryRequest {
                    request_id: request_id(&rid),
                    entry_id: entry,
                    reason,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ReverseEntryResponse", &r);
            }
            print_entries(&r.entry.into_iter().collect::<Vec<_>>());
            print_lines(&r.line.into_iter().collect::<Vec<_>>());
        }
        StockCmd::Adjust {
            item,
            lot,
            qty,
            serials,
            reason,
        } => {
            let r = c
                .create_adjustment(pb::CreateAdjustmentRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(None)?,
                    item_id: item,
                    lot_number: lot,
                    quantity: qty,
                    serial_numbers: serials,
                    reason,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateAdjustmentResponse", &r);
            }
            let a = r.adjustment.unwrap_or_default();
            println!(
                "adjustment {} proposed ({:+} of {} lot {}); it posts when another person approves it:\n  reservectl stock approve-adjustment {}",
                a.id, a.quantity, a.item_id, a.lot_number, a.id
            );
        }
        StockCmd::Adjustments { depot: d, pending } => {
            let r = c
                .list_adjustments(pb::ListAdjustmentsRequest {
                    depot_code: depot(d)?,
                    status: if pending { 1 } else { 0 },
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListAdjustmentsResponse", &r);
            }
            let mut t = table(&[
                "id",
                "depot",
                "item",
                "lot",
                "qty",
                "status",
                "by",
                "decided by",
                "reason",
            ]);
            for a in &r.adjustments {
                t.add_row(vec![
                    a.id.clone(),
                    a.depot_code.clone(),
                    a.item_id.clone(),
                    a.lot_number.clone(),
                    format!("{:+}", a.quantity),
                    status_name(a.status),
                    a.requested_by.clone(),
                    a.decided_by.clone(),
                    a.reason.clone(),
                ]);
            }
            print_table(&t);
        }
        StockCmd::ApproveAdjustment { id, note } => {
            let r = c
                .approve_adjustment(pb::ApproveAdjustmentRequest {
                    etag: String::new(),
                    request_id: request_id(&rid),
                    adjustment_id: id,
                    note,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ApproveAdjustmentResponse", &r);
            }
            print_entries(&r.entry.into_iter().collect::<Vec<_>>());
            print_lines(&r.line.into_iter().collect::<Vec<_>>());
        }
        StockCmd::RejectAdjustment { id, reason } => {
            let r = c
                .reject_adjustment(pb::RejectAdjustmentRequest {
                    etag: String::new(),
                    request_id: request_id(&rid),
                    adjustment_id: id,
                    reason,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RejectAdjustmentResponse", &r);
            }
            println!(
                "adjustment {} rejected",
                r.adjustment.unwrap_or_default().id
            );
        }
        StockCmd::Scrap {
            item,
            lot,
            qty,
            serials,
            reason,
            disposal,
        } => {
            let r = c
                .create_scrap_application(pb::CreateScrapApplicationRequest {
                    request_id: request_id(&rid),
                    depot_code: depot(None)?,
                    item_id: item,
                    lot_number: lot,
                    quantity: qty,
                    serial_numbers: serials,
                    reason,
                    disposal: match disposal {
                        DisposalArg::Destroy => 1,
                        DisposalArg::Auction => 2,
                        DisposalArg::Recycle => 3,
                    },
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CreateScrapApplicationResponse", &r);
            }
            let a = r.application.unwrap_or_default();
            println!(
                "scrap application {} filed; {} unit(s) of {} lot {} are held until the owning tier decides",
                a.id, a.quantity, a.item_id, a.lot_number
            );
        }
        StockCmd::Scraps { depot: d, pending } => {
            let r = c
                .list_scrap_applications(pb::ListScrapApplicationsRequest {
                    depot_code: depot(d)?,
                    status: if pending { 1 } else { 0 },
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListScrapApplicationsResponse", &r);
            }
            let mut t = table(&[
                "id",
                "depot",
                "item",
                "lot",
                "qty",
                "status",
                "applied by",
                "decided by",
                "reason",
            ]);
            for a in &r.applications {
                t.add_row(vec![
                    a.id.clone(),
                    a.depot_code.clone(),
                    a.item_id.clone(),
                    a.lot_number.clone(),
                    a.quantity.to_string(),
                    status_name(a.status),
                    a.applied_by.clone(),
                    a.decided_by.clone(),
                    a.reason.clone(),
                ]);
            }
            print_table(&t);
        }
        StockCmd::ApproveScrap { id, note } => {
            let r = c
                .approve_scrap_application(pb::ApproveScrapApplicationRequest {
                    etag: String::new(),
                    request_id: request_id(&rid),
                    application_id: id,
                    note,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ApproveScrapApplicationResponse", &r);
            }
            print_entries(&r.entry.into_iter().collect::<Vec<_>>());
        }
        StockCmd::RejectScrap { id, reason } => {
            let r = c
                .reject_scrap_application(pb::RejectScrapApplicationRequest {
                    etag: String::new(),
                    request_id: request_id(&rid),
                    application_id: id,
                    reason,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RejectScrapApplicationResponse", &r);
            }
            print_entries(&r.entry.into_iter().collect::<Vec<_>>());
        }
        StockCmd::Count(cc) => return count(&mut c, cc, fmt, depot(None).ok(), rid).await,
        StockCmd::Ledger {
            depot: d,
            item,
            limit,
        } => {
            let r = c
                .list_ledger_entries(pb::ListLedgerEntriesRequest {
                    depot_code: depot(d)?,
                    item_id: item.unwrap_or_default(),
                    page_size: limit,
                    ..Default::default()
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListLedgerEntriesResponse", &r);
            }
            print_entries(&r.entries);
        }
        StockCmd::Rollup {
            depot: d,
            item,
            category,
        } => {
            if item.is_none() && category.is_none() {
                bail!("give --item or --category");
            }
            let r = c
                .roll_up_stock(pb::RollUpStockRequest {
                    depot_code: depot(d)?,
                    item_id: item.unwrap_or_default(),
                    category_prefix: category.unwrap_or_default(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.RollUpStockResponse", &r);
            }
            let mut t = table(&[
                "tier",
                "depots",
                "on hand",
                "available",
                "reserved",
                "held",
                "near expiry",
                "expired",
                "in transit",
                "on lease",
            ]);
            let row = |label: String, depots: String, s: &pb::StockStates| {
                vec![
                    label,
                    depots,
                    s.on_hand.to_string(),
                    s.available.to_string(),
                    s.reserved.to_string(),
                    s.held.to_string(),
                    s.near_expiry.to_string(),
                    s.expired.to_string(),
                    s.in_transit.to_string(),
                    s.on_lease.to_string(),
                ]
            };
            for tr in &r.tiers {
                t.add_row(row(
                    super::tier_label(tr.tier),
                    tr.depots.to_string(),
                    &tr.states.unwrap_or_default(),
                ));
            }
            t.add_row(row(
                format!("total ({})", r.depot_code),
                String::new(),
                &r.total.unwrap_or_default(),
            ));
            print_table(&t);
        }
        StockCmd::Expiring {
            depot: d,
            within,
            expired,
        } => {
            let r = c
                .list_expiring_lots(pb::ListExpiringLotsRequest {
                    depot_code: depot(d)?,
                    within_days: within,
                    include_expired: expired,
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListExpiringLotsResponse", &r);
            }
            print_lines(&r.lines);
        }
        StockCmd::Shortfalls { depot: d } => {
            let r = c
                .list_shortfalls(pb::ListShortfallsRequest {
                    depot_code: depot(d)?,
                    item_id: String::new(),
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListShortfallsResponse", &r);
            }
            let mut t = table(&[
                "depot",
                "item",
                "minimum",
                "target",
                "available",
                "short of minimum",
                "short of target",
            ]);
            for s in &r.shortfalls {
                t.add_row(vec![
                    s.depot_code.clone(),
                    s.item_id.clone(),
                    s.minimum.to_string(),
                    s.target.to_string(),
                    s.available.to_string(),
                    if s.below_minimum {
                        s.short_of_minimum.to_string()
                    } else {
                        "-".into()
                    },
                    s.short_of_target.to_string(),
                ]);
            }
            print_table(&t);
        }
        StockCmd::Rotation { depot: d } => {
            let r = c
                .list_rotation_candidates(pb::ListRotationCandidatesRequest {
                    depot_code: depot(d)?,
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListRotationCandidatesResponse", &r);
            }
            let mut t = table(&[
                "depot",
                "item",
                "lot",
                "expiry",
                "days left",
                "rotate out",
                "buy to replace",
            ]);
            for cnd in &r.candidates {
                let l = cnd.line.clone().unwrap_or_default();
                let lot = l.lot.unwrap_or_default();
                t.add_row(vec![
                    l.depot_code,
                    l.item_id,
                    lot.lot_number,
                    show_date(&lot.expiry_date),
                    l.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
                    cnd.quantity.to_string(),
                    cnd.replacement_quantity.to_string(),
                ]);
            }
            print_table(&t);
        }
        StockCmd::Assets { depot: d, item } => {
            let r = c
                .list_assets(pb::ListAssetsRequest {
                    depot_code: depot(d)?,
                    item_id: item.unwrap_or_default(),
                    status: 0,
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ListAssetsResponse", &r);
            }
            let mut t = table(&[
                "item",
                "serial",
                "lot",
                "depot",
                "status",
                "since (Beijing)",
            ]);
            for a in &r.assets {
                t.add_row(vec![
                    a.item_id.clone(),
                    a.serial_number.clone(),
                    a.lot_number.clone(),
                    a.depot_code.clone(),
                    pb::AssetStatus::try_from(a.status)
                        .map(|s| {
                            s.as_str_name()
                                .trim_start_matches("ASSET_STATUS_")
                                .to_lowercase()
                        })
                        .unwrap_or_default(),
                    time(a.update_time.as_ref()),
                ]);
            }
            print_table(&t);
        }
        StockCmd::Check { depot: d } => {
            let r = c
                .check_ledger_integrity(pb::CheckLedgerIntegrityRequest {
                    depot_code: d.unwrap_or_default(),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.CheckLedgerIntegrityResponse", &r);
            }
            println!(
                "checked {} stock lines against {} ledger entries",
                r.lines_checked, r.entries_checked
            );
            if r.issues.is_empty() {
                println!("every balance matches the ledger");
            } else {
                for i in &r.issues {
                    println!(
                        "MISMATCH {} {} lot {}: {} stored {}, recomputed {}",
                        i.depot_code,
                        i.item_id,
                        i.lot_number,
                        pb::IntegrityFigure::try_from(i.figure)
                            .map(|f| f.as_str_name())
                            .unwrap_or("?"),
                        i.stored,
                        i.recomputed
                    );
                }
                bail!(
                    "{} difference(s) between balances and the ledger",
                    r.issues.len()
                );
            }
        }
    }
    Ok(())
}

async fn count(
    c: &mut StockServiceClient<Authed>,
    cmd: CountCmd,
    fmt: Format,
    scope: Option<String>,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let count = match cmd {
        CountCmd::Open { items, note } => {
            c.open_stock_count(pb::OpenStockCountRequest {
                request_id: request_id(&rid),
                depot_code: scope.context("no scope depot in the token")?,
                item_ids: items,
                note,
            })
            .await?
            .into_inner()
            .count
        }
        CountCmd::Record { id, lines, seen } => {
            c.record_count_lines(pb::RecordCountLinesRequest {
                etag: String::new(),
                request_id: request_id(&rid),
                count_id: id,
                lines: lines
                    .iter()
                    .map(|l| parse_line(l, false))
                    .chain(seen.iter().map(|l| parse_line(l, true)))
                    .collect::<Result<_, _>>()?,
            })
            .await?
            .into_inner()
            .count
        }
        CountCmd::Submit { id } => {
            c.submit_stock_count(pb::SubmitStockCountRequest {
                etag: String::new(),
                request_id: request_id(&rid),
                count_id: id,
            })
            .await?
            .into_inner()
            .count
        }
        CountCmd::Approve { id, note } => {
            let r = c
                .approve_stock_count(pb::ApproveStockCountRequest {
                    etag: String::new(),
                    request_id: request_id(&rid),
                    count_id: id,
                    note,
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.ApproveStockCountResponse", &r);
            }
            r.count
        }
        CountCmd::Cancel { id, reason } => {
            c.cancel_stock_count(pb::CancelStockCountRequest {
                etag: String::new(),
                request_id: request_id(&rid),
                count_id: id,
                reason,
            })
            .await?
            .into_inner()
            .count
        }
        CountCmd::Show { id } => {
            c.get_stock_count(pb::GetStockCountRequest { count_id: id })
                .await?
                .into_inner()
                .count
        }
    };
    let count = count.unwrap_or_default();
    if fmt == Format::Json {
        return json("reserve.v1.StockCount", &count);
    }
    print_count(&count);
    Ok(())
}
