//! Adjustments: a correction a keeper proposes and a second person
//! countersigns before it posts.

use super::{Approve, Ctx, Reject, print};
use crate::commands::choices::name;
use crate::output::{json, print_table, table, time};
use crate::paging::{self, LimitArg};
use reserve_api::pb::reserve::v1 as pb;

/// Fields of a proposed adjustment.
#[derive(clap::Args, Debug)]
pub struct AdjustArgs {
    /// Item.
    #[arg(long)]
    item: String,
    /// Lot number.
    #[arg(long)]
    lot: String,
    /// Signed change, e.g. -3 or +2.
    #[arg(long, allow_hyphen_values = true)]
    qty: i64,
    /// Serial numbers missing (negative change) or found (positive).
    #[arg(long = "serial")]
    serials: Vec<String>,
    /// Why.
    #[arg(long)]
    reason: String,
}

/// Which adjustments to list.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only those waiting for a countersignature.
    #[arg(long)]
    pending: bool,
    #[command(flatten)]
    limit: LimitArg,
}

fn status_filter(pending: bool) -> i32 {
    if pending {
        pb::ApprovalStatus::Pending as i32
    } else {
        pb::ApprovalStatus::Unspecified as i32
    }
}

pub async fn create(x: &mut Ctx, a: AdjustArgs) -> anyhow::Result<()> {
    let r =
        x.c.create_adjustment(pb::CreateAdjustmentRequest {
            request_id: x.request_id(),
            depot_code: x.depot(None)?,
            item_id: a.item,
            lot_number: a.lot,
            quantity: a.qty,
            serial_numbers: a.serials,
            reason: a.reason,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.CreateAdjustmentResponse", &r);
    }
    let a = r.adjustment.unwrap_or_default();
    println!(
        "adjustment {} proposed ({:+} of {} lot {}); it posts when another person approves it:\n  reservectl stock approve-adjustment {}",
        a.id, a.quantity, a.item_id, a.lot_number, a.id
    );
    Ok(())
}

pub async fn list(x: &mut Ctx, a: ListArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let status = status_filter(a.pending);
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListAdjustmentsRequest {
            depot_code: depot.clone(),
            status,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_adjustments(req).await?.into_inner();
            Ok((r.adjustments, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListAdjustmentsResponse",
            &pb::ListAdjustmentsResponse {
                adjustments: got.items,
                next_page_token: got.next_page_token,
            },
        );
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
        "proposed (Beijing)",
    ]);
    for a in &got.items {
        t.add_row(vec![
            a.id.clone(),
            a.depot_code.clone(),
            a.item_id.clone(),
            lot_and_serials(&a.lot_number, &a.serial_numbers),
            format!("{:+}", a.quantity),
            name::<pb::ApprovalStatus>(a.status),
            a.requested_by.clone(),
            a.decided_by.clone(),
            a.reason.clone(),
            time(a.request_time.as_ref()),
        ]);
    }
    print_table(&t);
    got.note_more(x.fmt);
    Ok(())
}

fn lot_and_serials(lot: &str, serials: &[String]) -> String {
    if serials.is_empty() {
        lot.to_string()
    } else {
        format!("{lot} [{}]", serials.join(" "))
    }
}

fn show(a: &pb::Adjustment) {
    print::fields(vec![
        ("adjustment", a.id.clone()),
        ("depot", a.depot_code.clone()),
        ("item", a.item_id.clone()),
        ("lot", lot_and_serials(&a.lot_number, &a.serial_numbers)),
        ("quantity", format!("{:+}", a.quantity)),
        ("reason", a.reason.clone()),
        ("status", name::<pb::ApprovalStatus>(a.status)),
        ("proposed by", a.requested_by.clone()),
        ("proposed (Beijing)", time(a.request_time.as_ref())),
        ("decided by", print::or_dash(&a.decided_by)),
        ("decided (Beijing)", time(a.decide_time.as_ref())),
        ("decision note", print::or_dash(&a.decision_note)),
        ("entry", print::or_dash(&a.entry_id)),
        ("etag", a.etag.clone()),
    ]);
}

pub async fn get(x: &mut Ctx, id: String) -> anyhow::Result<()> {
    let r =
        x.c.get_adjustment(pb::GetAdjustmentRequest { adjustment_id: id })
            .await?
            .into_inner();
    if x.json() {
        return json("reserve.v1.GetAdjustmentResponse", &r);
    }
    show(&r.adjustment.unwrap_or_default());
    Ok(())
}

pub async fn approve(x: &mut Ctx, a: Approve) -> anyhow::Result<()> {
    let r =
        x.c.approve_adjustment(pb::ApproveAdjustmentRequest {
            request_id: x.request_id(),
            adjustment_id: a.id,
            note: a.note,
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.ApproveAdjustmentResponse", &r);
    }
    let adj = r.adjustment.unwrap_or_default();
    println!(
        "adjustment {} approved by {}; posted:",
        adj.id, adj.decided_by
    );
    print::entries(r.entry.as_slice());
    print::lines(r.line.as_slice());
    Ok(())
}

pub async fn reject(x: &mut Ctx, a: Reject) -> anyhow::Result<()> {
    let r =
        x.c.reject_adjustment(pb::RejectAdjustmentRequest {
            request_id: x.request_id(),
            adjustment_id: a.id,
            reason: a.reason,
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.RejectAdjustmentResponse", &r);
    }
    let adj = r.adjustment.unwrap_or_default();
    println!(
        "adjustment {} rejected by {}; nothing posted",
        adj.id, adj.decided_by
    );
    Ok(())
}
