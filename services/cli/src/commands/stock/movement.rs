//! Plain movements a keeper makes at their own depot: receive, issue, hold,
//! release, and the reversal of a mistaken entry.

use super::{Ctx, print};
use crate::commands::choices::{FundingArg, HoldArg, PurposeArg, TierArg};
use crate::output::json;
use crate::when;
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;

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
    /// Expiry date YYYY-MM-DD (default: production date plus shelf life).
    #[arg(long, value_parser = when::date)]
    expiry: Option<Date>,
    /// Production date YYYY-MM-DD.
    #[arg(long, value_parser = when::date)]
    production: Option<Date>,
    /// Manufacturer.
    #[arg(long, default_value = "")]
    manufacturer: String,
    /// Where the money came from (default: budget).
    #[arg(long, value_enum)]
    funding: Option<FundingArg>,
    /// Tier that owns the stock (事权), whose dispatchers decide its scrapping
    /// (default: the depot's owning tier).
    #[arg(long, value_enum)]
    owning_tier: Option<TierArg>,
    /// Document number (delivery note).
    #[arg(long, default_value = "")]
    document: String,
    /// Supplier or donor.
    #[arg(long = "from", default_value = "")]
    counterparty: String,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
    /// When the goods arrived, if not now (at most 30 days back): a date or
    /// time, Beijing time unless a zone is given.
    #[arg(long, value_parser = when::at)]
    occurred: Option<prost_types::Timestamp>,
    /// Requisitioned goods: the requisition number (ZY-2026-000001) they
    /// were taken under; the lot then belongs to it (funding: requisition).
    #[arg(long, requires = "requisition_line")]
    requisition: Option<String>,
    /// The requisition's line the goods are.
    #[arg(long, requires = "requisition")]
    requisition_line: Option<i32>,
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
    /// What the issue is for.
    #[arg(long, value_enum, default_value = "incident")]
    purpose: PurposeArg,
    /// The incident or user the stock goes to.
    #[arg(long = "to")]
    recipient: String,
    /// The recorded incident it goes to (its id), for purpose incident.
    #[arg(long)]
    incident: Option<String>,
    /// Document number.
    #[arg(long, default_value = "")]
    document: String,
    /// Why.
    #[arg(long, default_value = "")]
    reason: String,
    /// Break the reserve minimum, giving the reason (e.g. the order number).
    #[arg(long)]
    override_minimum: Option<String>,
    /// Issue assets overdue for upkeep, giving the reason.
    #[arg(long)]
    override_upkeep: Option<String>,
    /// When the goods left, if not now (at most 30 days back): a date or
    /// time, Beijing time unless a zone is given.
    #[arg(long, value_parser = when::at)]
    occurred: Option<prost_types::Timestamp>,
}

/// Which units a hold or release moves.
#[derive(clap::Args, Debug)]
pub struct Units {
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
}

/// Fields of a hold.
#[derive(clap::Args, Debug)]
pub struct HoldArgs {
    #[command(flatten)]
    units: Units,
    /// Why the units are held.
    #[arg(long, value_enum)]
    reason: HoldArg,
    /// Note.
    #[arg(long, default_value = "")]
    note: String,
}

/// Fields of a release.
#[derive(clap::Args, Debug)]
pub struct ReleaseArgs {
    #[command(flatten)]
    units: Units,
    /// Why the units may be used again, e.g. 晾晒后完好 or 质检合格.
    #[arg(long)]
    reason: String,
}

/// Fields of a reversal.
#[derive(clap::Args, Debug)]
pub struct ReverseArgs {
    /// Id of the entry to reverse.
    entry: String,
    /// Why it was wrong.
    #[arg(long)]
    reason: String,
}

pub async fn receive(x: &mut Ctx, a: ReceiveArgs) -> anyhow::Result<()> {
    let r =
        x.c.receive_stock(pb::ReceiveStockRequest {
            request_id: x.request_id(),
            depot_code: x.depot(a.depot)?,
            item_id: a.item,
            lot_number: a.lot,
            production_date: a.production,
            expiry_date: a.expiry,
            manufacturer: a.manufacturer,
            funding_source: FundingArg::wire_or_unset(a.funding),
            owning_tier: TierArg::wire_or_unset(a.owning_tier),
            quantity: a.qty,
            serial_numbers: a.serials,
            document: a.document,
            counterparty: a.counterparty,
            note: a.note,
            occurred_time: a.occurred,
            requisition_id: a.requisition.unwrap_or_default(),
            requisition_line_number: a.requisition_line.unwrap_or_default(),
            ..Default::default()
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.ReceiveStockResponse", &r);
    }
    print::entries(r.entry.as_slice());
    print::lines(r.line.as_slice());
    Ok(())
}

pub async fn issue(x: &mut Ctx, a: IssueArgs) -> anyhow::Result<()> {
    let r =
        x.c.issue_stock(pb::IssueStockRequest {
            request_id: x.request_id(),
            depot_code: x.depot(a.depot)?,
            item_id: a.item,
            quantity: a.qty,
            lot_number: a.lot,
            serial_numbers: a.serials,
            purpose: a.purpose.wire(),
            recipient: a.recipient,
            document: a.document,
            reason: a.reason,
            override_reserve_minimum: a.override_minimum.is_some(),
            override_reason: a.override_minimum.unwrap_or_default(),
            occurred_time: a.occurred,
            incident_id: a.incident.unwrap_or_default(),
            override_upkeep_overdue: a.override_upkeep.is_some(),
            upkeep_override_reason: a.override_upkeep.unwrap_or_default(),
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.IssueStockResponse", &r);
    }
    print::entries(&r.entries);
    print::lines(&r.lines);
    Ok(())
}

pub async fn hold(x: &mut Ctx, a: HoldArgs) -> anyhow::Result<()> {
    let u = a.units;
    let r =
        x.c.hold_stock(pb::HoldStockRequest {
            request_id: x.request_id(),
            depot_code: x.depot(u.depot)?,
            item_id: u.item,
            lot_number: u.lot,
            quantity: u.qty,
            serial_numbers: u.serials,
            reason: a.reason.wire(),
            note: a.note,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.HoldStockResponse", &r);
    }
    print::entries(&r.entries);
    print::lines(&r.lines);
    Ok(())
}

pub async fn release(x: &mut Ctx, a: ReleaseArgs) -> anyhow::Result<()> {
    let u = a.units;
    let r =
        x.c.release_stock(pb::ReleaseStockRequest {
            request_id: x.request_id(),
            depot_code: x.depot(u.depot)?,
            item_id: u.item,
            lot_number: u.lot,
            quantity: u.qty,
            serial_numbers: u.serials,
            reason: a.reason,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.ReleaseStockResponse", &r);
    }
    print::entries(&r.entries);
    print::lines(&r.lines);
    Ok(())
}

pub async fn reverse(x: &mut Ctx, a: ReverseArgs) -> anyhow::Result<()> {
    let r =
        x.c.reverse_entry(pb::ReverseEntryRequest {
            request_id: x.request_id(),
            entry_id: a.entry,
            reason: a.reason,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.ReverseEntryResponse", &r);
    }
    print::entries(r.entry.as_slice());
    print::lines(r.line.as_slice());
    Ok(())
}
