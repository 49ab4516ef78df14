//! Lots and serialised assets: lists of a subtree and one of each in full.

use super::{Ctx, print};
use crate::output::json;
use crate::paging::{self, LimitArg};
use reserve_api::pb::reserve::v1 as pb;

/// Which lots to list.
#[derive(clap::Args, Debug)]
pub struct LotsArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only lots of this item.
    #[arg(long)]
    item: Option<String>,
    #[command(flatten)]
    limit: LimitArg,
}

/// Which assets to list.
#[derive(clap::Args, Debug)]
pub struct AssetsArgs {
    /// Depot (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only this item.
    #[arg(long)]
    item: Option<String>,
    #[command(flatten)]
    limit: LimitArg,
}

pub async fn list(x: &mut Ctx, a: LotsArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let item = a.item.unwrap_or_default();
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListLotsRequest {
            depot_code: depot.clone(),
            item_id: item.clone(),
            page_size,
            page_token,
        };
        async move {
            let r = c.list_lots(req).await?.into_inner();
            Ok((r.lots, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListLotsResponse",
            &pb::ListLotsResponse {
                lots: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    print::lots(&got.items);
    got.note_more(x.fmt);
    Ok(())
}

pub async fn get(x: &mut Ctx, item: String, lot: String) -> anyhow::Result<()> {
    let r =
        x.c.get_lot(pb::GetLotRequest {
            item_id: item,
            lot_number: lot,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.GetLotResponse", &r);
    }
    print::lot(&r.lot.unwrap_or_default());
    Ok(())
}

pub async fn assets(x: &mut Ctx, a: AssetsArgs) -> anyhow::Result<()> {
    let depot = x.depot(a.depot)?;
    let item = a.item.unwrap_or_default();
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListAssetsRequest {
            depot_code: depot.clone(),
            item_id: item.clone(),
            status: pb::AssetStatus::Unspecified as i32,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_assets(req).await?.into_inner();
            Ok((r.assets, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListAssetsResponse",
            &pb::ListAssetsResponse {
                assets: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    print::assets(&got.items);
    got.note_more(x.fmt);
    Ok(())
}

pub async fn asset(x: &mut Ctx, item: String, serial: String) -> anyhow::Result<()> {
    let r =
        x.c.get_asset(pb::GetAssetRequest {
            item_id: item,
            serial_number: serial,
        })
        .await?
        .into_inner();
    if x.json() {
        return json("reserve.v1.GetAssetResponse", &r);
    }
    print::asset(&r.asset.unwrap_or_default());
    Ok(())
}
