//! Scrap applications: a keeper applies, the units are held at once, and the
//! owning tier's dispatcher or admin approves (scrap) or rejects (release).

use super::{Approve, Ctx, Reject, print};
use crate::commands::choices::{DisposalArg, name};
use crate::output::{json, print_table, table, time};
use crate::paging::{self, LimitArg};
use reserve_api::pb::reserve::v1 as pb;

/// Fields of a scrap application.
#[derive(clap::Args, Debug)]
pub struct ScrapArgs {
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
    /// Why (quality test result, damage, expiry).
    #[arg(long)]
    reason: String,
    /// How the units will be disposed of.
    #[arg(long, value_enum)]
    disposal: DisposalArg,
}

/// Which applications to list.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only those waiting for a decision.
    #[arg(long)]
    pending: bool,
    #[command(flatten)]
    limit: LimitArg,
}

fn lot_and_serials(a: &pb::ScrapApplication) -> String {
    if a.serial_numbers.is_empty() {
        a.lot_number.clone()
    } else {
        format!("{} [{}]", a.lot_number, a.serial_numbers.join(" "))
    }
}

pub async fn create(x: &mut Ctx, a: ScrapArgs) -> anyhow::Result<()> {
    let r =
        x.c.create_scrap_application(pb::CreateScrapApplicationRequest {
            request_id: x.request_id(),
            depot_code: x.depot(None)?,
            item_id: a.item,
            lot_number: a.lot,
            quantity: a.qty,
            serial_numbers: a.serials,
            reason: a.reason,
            disposal: a.disposal.wire(),
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.CreateScrapApplicationResponse", &r);
    }
    let a = r.application.unwrap_or_default();
    println!(
        "scrap application {} filed; {} unit(s) of {} lot {} are held until the owning tier decides",
        a.id, a.quantity, a.item_id, a.lot_number
    );
    print::entries(&r.hold_entries);
    Ok(())
}

pub async fn list(x: &mut Ctx, a: ListArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let status = if a.pending {
        pb::ApprovalStatus::Pending as i32
    } else {
        pb::ApprovalStatus::Unspecified as i32
    };
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListScrapApplicationsRequest {
            depot_code: depot.clone(),
            status,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_scrap_applications(req).await?.into_inner();
            Ok((r.applications, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListScrapApplicationsResponse",
            &pb::ListScrapApplicationsResponse {
                applications: got.items,
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
        "disposal",
        "status",
        "applied by",
        "decided by",
        "reason",
    ]);
    for a in &got.items {
        t.add_row(vec![
            a.id.clone(),
            a.depot_code.clone(),
            a.item_id.clone(),
            lot_and_serials(a),
            a.quantity.to_string(),
            name::<pb::Disposal>(a.disposal),
            name::<pb::ApprovalStatus>(a.status),
            a.applied_by.clone(),
            a.decided_by.clone(),
            a.reason.clone(),
        ]);
    }
    print_table(&t);
    got.note_more(x.fmt);
    Ok(())
}

pub async fn get(x: &mut Ctx, id: String) -> anyhow::Result<()> {
    let r =
        x.c.get_scrap_application(pb::GetScrapApplicationRequest { application_id: id })
            .await?
            .into_inner();
    if x.json() {
        return json("reserve.v1.GetScrapApplicationResponse", &r);
    }
    let a = r.application.unwrap_or_default();
    print::fields(vec![
        ("application", a.id.clone()),
        ("depot", a.depot_code.clone()),
        ("item", a.item_id.clone()),
        ("lot", lot_and_serials(&a)),
        ("quantity", a.quantity.to_string()),
        ("reason", a.reason.clone()),
        ("disposal", name::<pb::Disposal>(a.disposal)),
        ("status", name::<pb::ApprovalStatus>(a.status)),
        ("applied by", a.applied_by.clone()),
        ("applied (Beijing)", time(a.apply_time.as_ref())),
        ("decided by", print::or_dash(&a.decided_by)),
        ("decided (Beijing)", time(a.decide_time.as_ref())),
        ("decision note", print::or_dash(&a.decision_note)),
        ("hold entry", print::or_dash(&a.hold_entry_id)),
        ("final entry", print::or_dash(&a.final_entry_id)),
        ("etag", a.etag.clone()),
    ]);
    Ok(())
}

pub async fn approve(x: &mut Ctx, a: Approve) -> anyhow::Result<()> {
    let r =
        x.c.approve_scrap_application(pb::ApproveScrapApplicationRequest {
            request_id: x.request_id(),
            application_id: a.id,
            note: a.note,
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.ApproveScrapApplicationResponse", &r);
    }
    let app = r.application.unwrap_or_default();
    println!(
        "scrap application {} approved by {}; scrapped:",
        app.id, app.decided_by
    );
    print::entries(r.entry.as_slice());
    Ok(())
}

pub async fn reject(x: &mut Ctx, a: Reject) -> anyhow::Result<()> {
    let r =
        x.c.reject_scrap_application(pb::RejectScrapApplicationRequest {
            request_id: x.request_id(),
            application_id: a.id,
            reason: a.reason,
            etag: a.etag.etag,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.RejectScrapApplicationResponse", &r);
    }
    let app = r.application.unwrap_or_default();
    println!(
        "scrap application {} rejected by {}; its units are released:",
        app.id, app.decided_by
    );
    print::entries(r.entry.as_slice());
    Ok(())
}
