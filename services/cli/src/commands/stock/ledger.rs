//! The ledger: its history, filtered, and one entry in full.

use super::{Ctx, print};
use crate::commands::choices::EntryTypeArg;
use crate::output::json;
use crate::paging::{self, LimitArg};
use crate::when;
use reserve_api::pb::reserve::v1 as pb;

/// Which ledger entries to list.
#[derive(clap::Args, Debug)]
pub struct LedgerArgs {
    /// Subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only this item.
    #[arg(long)]
    item: Option<String>,
    /// Only this lot of the item (lot numbers are per item, so give --item).
    #[arg(long, requires = "item")]
    lot: Option<String>,
    /// Only entries of this type.
    #[arg(long = "type", value_enum)]
    entry_type: Option<EntryTypeArg>,
    /// Only entries that happened at or after this: a date or time, Beijing
    /// time unless a zone is given (2026-11-01, "2026-11-28 09:30",
    /// 2026-11-28T01:30:00Z).
    #[arg(long, value_parser = when::at)]
    since: Option<prost_types::Timestamp>,
    /// Only entries that happened before this; a bare date includes that
    /// whole day.
    #[arg(long, value_parser = when::until)]
    until: Option<prost_types::Timestamp>,
    /// Only entries for this incident (its id): what went to it.
    #[arg(long)]
    incident: Option<String>,
    #[command(flatten)]
    limit: LimitArg,
}

pub async fn list(x: &mut Ctx, a: LedgerArgs) -> anyhow::Result<()> {
    let template = pb::ListLedgerEntriesRequest {
        depot_code: x.depot(a.depot)?,
        item_id: a.item.unwrap_or_default(),
        lot_number: a.lot.unwrap_or_default(),
        entry_type: EntryTypeArg::wire_or_unset(a.entry_type),
        start_time: a.since,
        end_time: a.until,
        page_size: 0,
        page_token: String::new(),
        incident_id: a.incident.unwrap_or_default(),
    };
    let c = x.c.clone();
    let got = paging::fetch(a.limit, |page_token, page_size| {
        let mut c = c.clone();
        let req = pb::ListLedgerEntriesRequest {
            page_size,
            page_token,
            ..template.clone()
        };
        async move {
            let r = c.list_ledger_entries(req).await?.into_inner();
            Ok((r.entries, r.next_page_token))
        }
    })
    .await?;
    if x.json() {
        got.note_more(x.fmt);
        return json(
            "reserve.v1.ListLedgerEntriesResponse",
            &pb::ListLedgerEntriesResponse {
                entries: got.items,
                next_page_token: got.next_page_token,
            },
        );
    }
    print::entries(&got.items);
    got.note_more(x.fmt);
    Ok(())
}

pub async fn entry(x: &mut Ctx, id: String) -> anyhow::Result<()> {
    let r =
        x.c.get_ledger_entry(pb::GetLedgerEntryRequest { entry_id: id })
            .await?
            .into_inner();
    if x.json() {
        return json("reserve.v1.GetLedgerEntryResponse", &r);
    }
    print::entry(&r.entry.unwrap_or_default());
    Ok(())
}
