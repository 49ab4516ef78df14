//! `reservectl norms ...`: reserve norms (储备定额), the minimum and target
//! each depot keeps of an item.

use super::request_id;
use crate::conn::Authed;
use crate::output::{Format, json, print_table, table, time};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;

/// Reserve norm commands.
#[derive(clap::Subcommand, Debug)]
pub enum NormsCmd {
    /// Set (or change) a depot's norm for an item. Admins in scope.
    Set {
        /// Depot code.
        #[arg(long)]
        depot: String,
        /// Item id.
        #[arg(long)]
        item: String,
        /// Units never to go below without an override or an emergency order.
        #[arg(long = "min")]
        minimum: i64,
        /// Units the depot should hold.
        #[arg(long)]
        target: i64,
        /// The etag read, to change the norm only if nobody else did since.
        #[arg(long)]
        etag: Option<String>,
    },
    /// List norms of a depot (default: your scope), optionally of its subtree.
    List {
        /// Depot code.
        #[arg(long)]
        depot: Option<String>,
        /// Also the depots below it.
        #[arg(long)]
        subtree: bool,
        /// Only this item.
        #[arg(long)]
        item: Option<String>,
    },
}

/// Runs a norm command.
pub async fn run(
    cmd: NormsCmd,
    ch: Authed,
    fmt: Format,
    rid: Option<String>,
) -> anyhow::Result<()> {
    let mut c = CatalogServiceClient::new(ch);
    match cmd {
        NormsCmd::Set {
            depot,
            item,
            minimum,
            target,
            etag,
        } => {
            let r = c
                .set_reserve_norm(pb::SetReserveNormRequest {
                    request_id: request_id(&rid),
                    norm: Some(pb::ReserveNorm {
                        depot_code: depot,
                        item_id: item,
                        minimum,
                        target,
                        etag: etag.unwrap_or_default(),
                        update_time: None,
                    }),
                })
                .await?
                .into_inner();
            if fmt == Format::Json {
                return json("reserve.v1.SetReserveNormResponse", &r);
            }
            let n = r.norm.unwrap_or_default();
            println!(
                "{} {}: minimum {}, target {} (etag {})",
                n.depot_code, n.item_id, n.minimum, n.target, n.etag
            );
        }
        NormsCmd::List {
            depot,
            subtree,
            item,
        } => {
            let mut all = Vec::new();
            let mut token = String::new();
            loop {
                let page = c
                    .list_reserve_norms(pb::ListReserveNormsRequest {
                        depot_code: depot.clone().unwrap_or_default(),
                        include_descendants: subtree,
                        item_id: item.clone().unwrap_or_default(),
                        page_size: 1000,
                        page_token: token,
                    })
                    .await?
                    .into_inner();
                all.extend(page.norms);
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            if fmt == Format::Json {
                return json(
                    "reserve.v1.ListReserveNormsResponse",
                    &pb::ListReserveNormsResponse {
                        norms: all,
                        next_page_token: String::new(),
                    },
                );
            }
            if all.is_empty() {
                println!("nothing to show");
                return Ok(());
            }
            let mut t = table(&["depot", "item", "minimum", "target", "updated"]);
            for n in &all {
                t.add_row(vec![
                    n.depot_code.clone(),
                    n.item_id.clone(),
                    n.minimum.to_string(),
                    n.target.to_string(),
                    time(n.update_time.as_ref()),
                ]);
            }
            print_table(&t);
        }
    }
    Ok(())
}
