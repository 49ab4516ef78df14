//! `reservectl items ...`: the catalogue.

use super::choices::name;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time, yuan};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;

/// Catalogue commands.
#[derive(clap::Subcommand, Debug)]
pub enum ItemsCmd {
    /// List catalogue items.
    List {
        /// Only codes starting with these digits (1 living supplies, 2 equipment, 3 engineering).
        #[arg(long)]
        code_prefix: Option<String>,
    },
    /// Show one item.
    Show {
        /// Item id.
        id: String,
    },
}

fn tracking_label(raw: i32) -> String {
    name::<pb::TrackingMode>(raw)
}

fn days(d: i32) -> String {
    if d == 0 { "-".into() } else { format!("{d} d") }
}

/// Runs a catalogue command.
pub async fn run(cmd: ItemsCmd, ch: Authed, fmt: Format) -> anyhow::Result<()> {
    let mut c = CatalogServiceClient::new(ch);
    match cmd {
        ItemsCmd::List { code_prefix } => {
            let mut all = Vec::new();
            let mut token = String::new();
            loop {
                let page = c
                    .list_items(pb::ListItemsRequest {
                        page_size: 1000,
                        page_token: token,
                        code_prefix: code_prefix.clone().unwrap_or_default(),
                        tracking: pb::TrackingMode::Unspecified as i32,
                    })
                    .await?
                    .into_inner();
                all.extend(page.items);
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            if fmt == Format::Json {
                return json(
                    "reserve.v1.ListItemsResponse",
                    &pb::ListItemsResponse {
                        items: all,
                        next_page_token: String::new(),
                    },
                );
            }
            let mut t = table(&[
                "id",
                "code",
                "name",
                "specification",
                "unit",
                "tracking",
                "shelf life",
                "value",
            ]);
            for i in &all {
                t.add_row(vec![
                    i.id.clone(),
                    i.code.clone(),
                    i.name.clone(),
                    i.specification.clone(),
                    i.unit.clone(),
                    tracking_label(i.tracking),
                    days(i.shelf_life_days),
                    yuan(i.unit_value_fen),
                ]);
            }
            print_table(&t);
            println!("{} items", all.len());
        }
        ItemsCmd::Show { id } => {
            let r = c.get_item(pb::GetItemRequest { id }).await?.into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.GetItemResponse", &r);
            }
            let i = r.item.unwrap_or_default();
            let mut t = table(&["field", "value"]);
            for (k, v) in [
                ("id", i.id.clone()),
                ("code", i.code.clone()),
                ("name", i.name.clone()),
                ("specification", i.specification.clone()),
                ("unit", i.unit.clone()),
                ("tracking", tracking_label(i.tracking)),
                ("shelf life", days(i.shelf_life_days)),
                ("quality test every", days(i.quality_test_interval_days)),
                ("near expiry window", days(i.near_expiry_days.unwrap_or(0))),
                ("upkeep every", days(i.upkeep_interval_days)),
                (
                    "recoverable",
                    if i.recoverable { "yes" } else { "no" }.to_string(),
                ),
                (
                    "leasable",
                    if i.leasable { "yes" } else { "no" }.to_string(),
                ),
                ("unit value", yuan(i.unit_value_fen)),
                ("volume per unit", format!("{} cm³", i.volume_per_unit_cm3)),
                ("maintained by", i.owner_depot_code.clone()),
                ("etag", i.etag.clone()),
                ("updated", time(i.update_time.as_ref())),
            ] {
                t.add_row(vec![k.to_string(), v]);
            }
            print_table(&t);
        }
    }
    Ok(())
}
