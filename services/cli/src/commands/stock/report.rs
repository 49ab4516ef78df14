//! What a depot holds and what needs attention: stock lines, roll-ups, lots
//! near expiry, shortfalls against reserve norms and rotation candidates.

use super::{Ctx, print};
use crate::commands::choices::tier_label;
use crate::output::{json, print_table, table};
use crate::paging::{self, LimitArg};
use crate::when::show_date;
use anyhow::bail;
use reserve_api::pb::reserve::v1 as pb;

/// Which stock lines to list.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Depot (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only this item.
    #[arg(long)]
    item: Option<String>,
    /// Also lines with nothing on hand.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    limit: LimitArg,
}

/// What to sum.
#[derive(clap::Args, Debug)]
pub struct RollupArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Item.
    #[arg(long, conflicts_with = "category")]
    item: Option<String>,
    /// Category code prefix, e.g. 1 or 101.
    #[arg(long)]
    category: Option<String>,
}

/// Which lots near expiry to list.
#[derive(clap::Args, Debug)]
pub struct ExpiringArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Within this many days (default: each item's window).
    #[arg(long, default_value_t = 0)]
    within: i32,
    /// Include expired lots.
    #[arg(long)]
    expired: bool,
    #[command(flatten)]
    limit: LimitArg,
}

/// A subtree report.
#[derive(clap::Args, Debug)]
pub struct SubtreeArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    #[command(flatten)]
    limit: LimitArg,
}

pub async fn list(x: &mut Ctx, a: ListArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let item = a.item.unwrap_or_default();
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListStockRequest {
            depot_code: depot.clone(),
            item_id: item.clone(),
            include_empty: a.all,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_stock(req).await?.into_inner();
            Ok((r.lines, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListStockResponse",
            &pb::ListStockResponse {
                lines: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    print::lines(&got.items);
    got.note_more(x.fmt);
    Ok(())
}

pub async fn rollup(x: &mut Ctx, a: RollupArgs) -> anyhow::Result<()> {
    if a.item.is_none() && a.category.is_none() {
        bail!("give --item or --category");
    }
    let r =
        x.c.roll_up_stock(pb::RollUpStockRequest {
            depot_code: x.depot(a.depot)?,
            item_id: a.item.unwrap_or_default(),
            category_prefix: a.category.unwrap_or_default(),
        })
        .await?
        .into_inner();
    if x.json() {
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
        "recallable",
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
            s.recallable.to_string(),
        ]
    };
    for tr in &r.tiers {
        t.add_row(row(
            tier_label(tr.tier),
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
    Ok(())
}

pub async fn expiring(x: &mut Ctx, a: ExpiringArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListExpiringLotsRequest {
            depot_code: depot.clone(),
            within_days: a.within,
            include_expired: a.expired,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_expiring_lots(req).await?.into_inner();
            Ok((r.lines, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListExpiringLotsResponse",
            &pb::ListExpiringLotsResponse {
                lines: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    print::lines(&got.items);
    got.note_more(x.fmt);
    Ok(())
}

pub async fn shortfalls(x: &mut Ctx, a: SubtreeArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListShortfallsRequest {
            depot_code: depot.clone(),
            item_id: String::new(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_shortfalls(req).await?.into_inner();
            Ok((r.shortfalls, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListShortfallsResponse",
            &pb::ListShortfallsResponse {
                shortfalls: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    let mut t = table(&[
        "depot",
        "item",
        "minimum",
        "target",
        "on hand",
        "available",
        "short of minimum",
        "short of target",
    ]);
    for s in &got.items {
        t.add_row(vec![
            s.depot_code.clone(),
            s.item_id.clone(),
            s.minimum.to_string(),
            s.target.to_string(),
            s.on_hand.to_string(),
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
    got.note_more(x.fmt);
    Ok(())
}

pub async fn rotation(x: &mut Ctx, a: SubtreeArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListRotationCandidatesRequest {
            depot_code: depot.clone(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_rotation_candidates(req).await?.into_inner();
            Ok((r.candidates, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListRotationCandidatesResponse",
            &pb::ListRotationCandidatesResponse {
                candidates: got.items,
                next_page_token: got.next_page_token,
            },
        );
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
    for cnd in &got.items {
        let l = cnd.line.clone().unwrap_or_default();
        let lot = l.lot.unwrap_or_default();
        t.add_row(vec![
            l.depot_code,
            l.item_id,
            lot.lot_number,
            show_date(lot.expiry_date.as_ref()),
            l.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
            cnd.quantity.to_string(),
            cnd.replacement_quantity.to_string(),
        ]);
    }
    print_table(&t);
    got.note_more(x.fmt);
    Ok(())
}
