//! `reservectl export stock|ledger|rollup|shortfalls`: what the read calls
//! show for a subtree, read to the end page by page, written as CSV or as
//! an Excel workbook for finance and auditors.

use crate::commands::choices::name;
use crate::conn::Authed;
use crate::output::time;
use anyhow::Context;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;
use reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use std::path::{Path, PathBuf};

/// What to export.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// Stock lines of every depot in the subtree.
    Stock,
    /// Ledger entries of the subtree, newest first.
    Ledger,
    /// Per item, the subtree's stock by tier and state.
    Rollup,
    /// Depots and items below their reserve norms.
    Shortfalls,
}

/// File format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values, UTF-8 with a byte-order mark (Excel opens it).
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// Flags of `export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    what: What,
    /// Root of the subtree (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Only this item.
    #[arg(long)]
    item: Option<String>,
    /// File format (default: from the --out extension, else csv).
    #[arg(long, value_enum)]
    format: Option<FileFormat>,
    /// File to write; an existing file is replaced.
    #[arg(long)]
    out: PathBuf,
}

/// A cell: text, or a whole number kept a number in Excel.
#[derive(Clone, Debug)]
pub enum Cell {
    Text(String),
    Int(i64),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

/// A sheet to write: its header and rows.
pub struct Table {
    header: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
}

fn day(d: Option<&reserve_api::pb::google::r#type::Date>) -> String {
    d.filter(|d| d.year != 0)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_default()
}

pub async fn run(a: ExportArgs, ch: Authed, scope: Option<String>) -> anyhow::Result<()> {
    let depot = a
        .depot
        .clone()
        .or(scope)
        .context("no depot: give --depot (your token names none)")?;
    let item = a.item.clone().unwrap_or_default();
    let table = match a.what {
        What::Stock => stock(ch, &depot, &item).await?,
        What::Ledger => ledger(ch, &depot, &item).await?,
        What::Rollup => rollup(ch, &depot, &item).await?,
        What::Shortfalls => shortfalls(ch, &depot, &item).await?,
    };
    let format = a
        .format
        .unwrap_or_else(|| match a.out.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("xlsx") => FileFormat::Xlsx,
            _ => FileFormat::Csv,
        });
    let sheet = format!("{:?}", a.what).to_lowercase();
    match format {
        FileFormat::Csv => write_csv(&a.out, &table)?,
        FileFormat::Xlsx => write_xlsx(&a.out, &sheet, &table)?,
    }
    eprintln!(
        "wrote {} rows of {sheet} under {depot} to {}",
        table.rows.len(),
        a.out.display()
    );
    Ok(())
}

fn write_csv(path: &Path, t: &Table) -> anyhow::Result<()> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut bytes);
        w.write_record(t.header)?;
        for r in &t.rows {
            w.write_record(r.iter().map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Int(n) => n.to_string(),
            }))?;
        }
        w.flush()?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn write_xlsx(path: &Path, sheet_name: &str, t: &Table) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name)?;
    let bold = Format::new().set_bold();
    for (c, h) in t.header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).context("too many rows for one sheet")?;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => sheet.write_string(r, c, s)?,
                Cell::Int(n) => sheet.write_number(r, c, *n as f64)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save(path)
        .with_context(|| format!("writing {}", path.display()))
}

/// The root and every depot below it that the caller may read.
async fn subtree(ch: Authed, root: &str) -> anyhow::Result<Vec<String>> {
    let mut c = NetworkServiceClient::new(ch);
    let mut out = vec![root.to_string()];
    let mut token = String::new();
    loop {
        let page = c
            .list_descendants(pb::ListDescendantsRequest {
                code: root.to_string(),
                page_size: 1000,
                page_token: token,
            })
            .await?
            .into_inner();
        out.extend(page.depots.into_iter().map(|d| d.code));
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

async fn stock(ch: Authed, root: &str, item: &str) -> anyhow::Result<Table> {
    let depots = subtree(ch.clone(), root).await?;
    let mut c = StockServiceClient::new(ch);
    let mut rows = Vec::new();
    for depot in depots {
        let mut token = String::new();
        loop {
            let page = c
                .list_stock(pb::ListStockRequest {
                    depot_code: depot.clone(),
                    item_id: item.to_string(),
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for l in page.lines {
                let lot = l.lot.clone().unwrap_or_default();
                rows.push(vec![
                    Cell::from(l.depot_code),
                    l.item_id.into(),
                    lot.lot_number.into(),
                    day(lot.production_date.as_ref()).into(),
                    day(lot.expiry_date.as_ref()).into(),
                    lot.manufacturer.into(),
                    name::<pb::FundingSource>(lot.funding_source).into(),
                    name::<pb::Tier>(l.owning_tier).into(),
                    l.on_hand.into(),
                    l.reserved.into(),
                    l.held.into(),
                    l.available.into(),
                    (if l.expired {
                        "expired"
                    } else if l.near_expiry {
                        "near expiry"
                    } else {
                        ""
                    })
                    .into(),
                ]);
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
    }
    Ok(Table {
        header: &[
            "depot",
            "item",
            "lot",
            "production_date",
            "expiry_date",
            "manufacturer",
            "funding",
            "owning_tier",
            "on_hand",
            "reserved",
            "held",
            "available",
            "expiry_state",
        ],
        rows,
    })
}

async fn ledger(ch: Authed, root: &str, item: &str) -> anyhow::Result<Table> {
    let mut c = StockServiceClient::new(ch);
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                depot_code: root.to_string(),
                item_id: item.to_string(),
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await?
            .into_inner();
        for e in page.entries {
            rows.push(vec![
                Cell::from(e.sequence),
                e.id.into(),
                name::<pb::EntryType>(e.entry_type).into(),
                e.depot_code.into(),
                e.item_id.into(),
                e.lot_number.into(),
                e.quantity.into(),
                e.held_delta.into(),
                e.reserved_delta.into(),
                e.serial_numbers.join(" ").into(),
                e.reason.into(),
                e.document.into(),
                e.counterparty.into(),
                time(e.occurred_time.as_ref()).into(),
                time(e.record_time.as_ref()).into(),
                e.actor.into(),
                e.countersigned_by.into(),
                e.reverses_entry_id.into(),
            ]);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    Ok(Table {
        header: &[
            "sequence",
            "entry_id",
            "type",
            "depot",
            "item",
            "lot",
            "quantity",
            "held_change",
            "reserved_change",
            "serial_numbers",
            "reason",
            "document",
            "counterparty",
            "occurred_beijing",
            "recorded_beijing",
            "actor",
            "countersigned_by",
            "reverses",
        ],
        rows,
    })
}

async fn rollup(ch: Authed, root: &str, item: &str) -> anyhow::Result<Table> {
    let items = if item.is_empty() {
        let mut cat = CatalogServiceClient::new(ch.clone());
        let mut ids = Vec::new();
        let mut token = String::new();
        loop {
            let page = cat
                .list_items(pb::ListItemsRequest {
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            ids.extend(page.items.into_iter().map(|i| i.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        ids
    } else {
        vec![item.to_string()]
    };
    let mut c = StockServiceClient::new(ch);
    let mut rows = Vec::new();
    let states = |s: pb::StockStates| -> Vec<Cell> {
        vec![
            s.on_hand.into(),
            s.available.into(),
            s.reserved.into(),
            s.held.into(),
            s.in_transit.into(),
            s.on_lease.into(),
            s.near_expiry.into(),
            s.expired.into(),
            s.upkeep_overdue.into(),
        ]
    };
    for id in items {
        let r = c
            .roll_up_stock(pb::RollUpStockRequest {
                depot_code: root.to_string(),
                item_id: id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        for t in r.tiers {
            let mut row = vec![
                Cell::from(id.as_str()),
                name::<pb::Tier>(t.tier).into(),
                i64::from(t.depots).into(),
            ];
            row.extend(states(t.states.unwrap_or_default()));
            rows.push(row);
        }
        let mut row = vec![Cell::from(id.as_str()), "total".into(), "".into()];
        row.extend(states(r.total.unwrap_or_default()));
        rows.push(row);
    }
    Ok(Table {
        header: &[
            "item",
            "tier",
            "depots",
            "on_hand",
            "available",
            "reserved",
            "held",
            "in_transit",
            "on_lease",
            "near_expiry",
            "expired",
            "upkeep_overdue",
        ],
        rows,
    })
}

async fn shortfalls(ch: Authed, root: &str, item: &str) -> anyhow::Result<Table> {
    let mut c = StockServiceClient::new(ch);
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_shortfalls(pb::ListShortfallsRequest {
                depot_code: root.to_string(),
                item_id: item.to_string(),
                page_size: 1000,
                page_token: token,
            })
            .await?
            .into_inner();
        for s in page.shortfalls {
            rows.push(vec![
                Cell::from(s.depot_code),
                s.item_id.into(),
                s.minimum.into(),
                s.target.into(),
                s.on_hand.into(),
                s.available.into(),
                (if s.below_minimum { "yes" } else { "no" }).into(),
                s.short_of_minimum.into(),
                s.short_of_target.into(),
                s.upkeep_overdue.into(),
            ]);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    Ok(Table {
        header: &[
            "depot",
            "item",
            "minimum",
            "target",
            "on_hand",
            "available",
            "below_minimum",
            "short_of_minimum",
            "short_of_target",
            "upkeep_overdue",
        ],
        rows,
    })
}
