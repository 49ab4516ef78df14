//! `reservectl import stock FILE`: a depot's opening stock from its old
//! ledger, one opening-balance receipt per row.
//!
//! The whole file is checked before anything is posted: first each row on
//! its own and the rows against each other (one lot, one set of dates; a
//! serial number once), then every row by the server (`validate_only`),
//! which knows the catalogue, the lots already on the books and the serial
//! numbers already known. Only a file without a single problem is posted,
//! rows concurrently. Each row's request id is derived from the depot and
//! the row's content, so running the same file again posts nothing twice.

use super::sheet::{self, Column, Columns, Problems, Row};
use super::{Catalogue, derived_id, server_problems};
use crate::commands::choices::{FundingArg, TierArg};
use crate::conn::Authed;
use crate::output::{Format, print_table, table};
use anyhow::Context;
use futures::StreamExt;
use reserve_api::pb::google::r#type::Date;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Flags of `import stock`.
#[derive(clap::Args, Debug)]
pub struct StockArgs {
    /// CSV or Excel (.xlsx) file, one row per lot (or per equipment lot with
    /// its serial numbers); see docs/templates/stock.csv.
    file: PathBuf,
    /// Depot whose opening stock it is (default: yours).
    #[arg(long)]
    depot: Option<String>,
    /// Check every row and show what would be posted; post nothing.
    #[arg(long)]
    dry_run: bool,
    /// Rows checked and posted at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "item",
        aliases: &["物资", "物资编码", "物资代码"],
        required: true,
    },
    Column {
        name: "lot",
        aliases: &["批号", "批次"],
        required: true,
    },
    Column {
        name: "quantity",
        aliases: &["数量"],
        required: true,
    },
    Column {
        name: "production_date",
        aliases: &["生产日期"],
        required: false,
    },
    Column {
        name: "expiry_date",
        aliases: &["有效期至", "失效日期"],
        required: false,
    },
    Column {
        name: "manufacturer",
        aliases: &["生产厂家"],
        required: false,
    },
    Column {
        name: "funding",
        aliases: &["资金来源"],
        required: false,
    },
    Column {
        name: "owning_tier",
        aliases: &["事权"],
        required: false,
    },
    Column {
        name: "serials",
        aliases: &["序列号"],
        required: false,
    },
    Column {
        name: "document",
        aliases: &["单据号"],
        required: false,
    },
    Column {
        name: "counterparty",
        aliases: &["来源"],
        required: false,
    },
    Column {
        name: "note",
        aliases: &["备注"],
        required: false,
    },
];

/// The column a field of ReceiveStockRequest comes from.
fn column_of(field: &str) -> &str {
    match field {
        "item_id" => "item",
        "lot_number" => "lot",
        "serial_numbers" => "serials",
        "funding_source" => "funding",
        "depot_code" => "--depot",
        other => other,
    }
}

/// The column a refusal of the server is about, by its ErrorInfo reason.
fn column_of_reason(reason: &str) -> &'static str {
    match reason {
        r if r.starts_with("LOT_") => "lot",
        r if r.starts_with("SERIAL_") => "serials",
        "DEPOT_NOT_ACTIVE" => "--depot",
        _ => "item",
    }
}

/// One parsed row, ready to send.
struct Planned {
    row: usize,
    req: pb::ReceiveStockRequest,
}

pub async fn run(
    a: StockArgs,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
) -> anyhow::Result<()> {
    let depot = a
        .depot
        .or(scope)
        .context("no depot: give --depot (your token names none)")?;
    let (sheet, _) = sheet::read(&a.file)?;
    let mut problems = Problems::default();
    let cols = Columns::find(&sheet.header, COLUMNS, &mut problems);
    let catalogue = Catalogue::load(ch.clone()).await?;
    let mut planned = Vec::new();
    for row in &sheet.rows {
        if let Some(req) = parse_row(&cols, row, &depot, &catalogue, &mut problems) {
            planned.push(Planned {
                row: row.number,
                req,
            });
        }
    }
    across_rows(&planned, &mut problems);
    assign_ids(&mut planned, &depot);
    let mut stock = StockServiceClient::new(ch);
    // The server's own checks, for every row that passed the file's.
    let checks = futures::stream::iter(planned.iter().map(|p| {
        let mut c = stock.clone();
        let req = pb::ReceiveStockRequest {
            validate_only: true,
            ..p.req.clone()
        };
        async move { (p.row, c.receive_stock(req).await) }
    }))
    .buffer_unordered(a.concurrency as usize)
    .collect::<Vec<_>>()
    .await;
    // The check answers with the entry when the row's request id already
    // posted it: such rows are not sent again.
    let mut posted_before = std::collections::HashSet::new();
    for (row, res) in checks {
        match res {
            Ok(r) if r.get_ref().entry.is_some() => {
                posted_before.insert(row);
            }
            Ok(_) => {}
            Err(s) => server_problems(row, &s, column_of, column_of_reason, &mut problems)?,
        }
    }
    let done_before = posted_before.len();
    let file = a.file.display().to_string();
    problems.into_result(&file)?;
    if a.dry_run {
        return show_plan(&planned, &depot, &catalogue, fmt, done_before);
    }
    let before = latest_sequence(&mut stock, &depot).await?;
    let to_post = planned.iter().filter(|p| !posted_before.contains(&p.row));
    let results = futures::stream::iter(to_post.map(|p| {
        let mut c = stock.clone();
        let req = p.req.clone();
        async move { (p.row, c.receive_stock(req).await) }
    }))
    .buffer_unordered(a.concurrency as usize)
    .collect::<Vec<_>>()
    .await;
    let mut posted = 0usize;
    let mut earlier = done_before;
    let mut failed = Problems::default();
    for (row, res) in results {
        match res {
            Ok(r) => match r.into_inner().entry {
                Some(e) if e.sequence > before => posted += 1,
                _ => earlier += 1,
            },
            Err(s) => server_problems(row, &s, column_of, column_of_reason, &mut failed)?,
        }
    }
    if !failed.is_empty() {
        let n = failed.0.len();
        return failed.into_result(&file).map_err(|e| {
            e.context(format!(
                "{posted} row(s) posted, {n} refused after the check (the depot's stock changed meanwhile?); \
                 fix them and run the same file again: rows already posted are not posted twice"
            ))
        });
    }
    match fmt {
        Format::Json => println!(
            "{}",
            serde_json::json!({"rows": planned.len(), "posted": posted, "alreadyPosted": earlier})
        ),
        Format::Table => println!(
            "{} rows of {file}: {posted} posted as opening balances at {depot}, {earlier} already posted by an earlier run",
            planned.len()
        ),
    }
    Ok(())
}

/// The newest ledger sequence at the depot, to tell entries this run posts
/// from those an earlier run posted (a retry answers with the first entry).
async fn latest_sequence(c: &mut StockServiceClient<Authed>, depot: &str) -> anyhow::Result<i64> {
    let page = c
        .list_ledger_entries(pb::ListLedgerEntriesRequest {
            depot_code: depot.to_string(),
            page_size: 1,
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(page.entries.first().map_or(0, |e| e.sequence))
}

fn parse_row(
    cols: &Columns,
    row: &Row,
    depot: &str,
    catalogue: &Catalogue,
    problems: &mut Problems,
) -> Option<pb::ReceiveStockRequest> {
    let n = row.number;
    let before = problems.0.len();
    let mut bad = |col: &str, rule: String| problems.add(n, col, &rule);
    let item = match catalogue.resolve(cols.get(row, "item")) {
        Ok(i) => Some(i),
        Err(e) => {
            bad("item", e);
            None
        }
    };
    let lot = cols.get(row, "lot");
    if lot.is_empty() {
        bad("lot", "is required".into());
    }
    let serials: Vec<String> = cols
        .get(row, "serials")
        .split([',', ';', '，', '；', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut quantity = 0;
    match sheet::number(cols.get(row, "quantity"), 1, 1_000_000_000) {
        Ok(Some(q)) => quantity = q,
        Ok(None) if !serials.is_empty() => {}
        Ok(None) => bad("quantity", "is required".into()),
        Err(e) => bad("quantity", e),
    }
    if let Some(item) = &item {
        if item.tracking == pb::TrackingMode::Serial as i32 {
            if serials.is_empty() {
                bad(
                    "serials",
                    format!("{} is tracked by serial number: list them", item.id),
                );
            } else if quantity != 0 && quantity != serials.len() as i64 {
                bad(
                    "quantity",
                    format!(
                        "is {quantity} but {} serial numbers are listed",
                        serials.len()
                    ),
                );
            }
            quantity = 0;
        } else if !serials.is_empty() {
            bad(
                "serials",
                format!("{} is tracked by lot, not serial number", item.id),
            );
        }
    }
    let mut day = |col: &str| match sheet::date(cols.get(row, col)) {
        Ok(d) => d.map(|(year, month, day)| Date { year, month, day }),
        Err(e) => {
            problems.add(n, col, &e);
            None
        }
    };
    let production_date = day("production_date");
    let expiry_date = day("expiry_date");
    let funding_source =
        sheet::choice::<FundingArg>(cols.get(row, "funding"), "funding", n, problems)
            .map_or(0, FundingArg::wire);
    let owning_tier =
        sheet::choice::<TierArg>(cols.get(row, "owning_tier"), "owning_tier", n, problems)
            .map_or(0, TierArg::wire);
    if problems.0.len() > before {
        return None;
    }
    Some(pb::ReceiveStockRequest {
        request_id: String::new(),
        depot_code: depot.to_string(),
        item_id: item?.id.clone(),
        lot_number: lot.to_string(),
        production_date,
        expiry_date,
        manufacturer: cols.get(row, "manufacturer").to_string(),
        funding_source,
        owning_tier,
        quantity,
        serial_numbers: serials,
        document: cols.get(row, "document").to_string(),
        counterparty: cols.get(row, "counterparty").to_string(),
        note: cols.get(row, "note").to_string(),
        occurred_time: None,
        opening_balance: true,
        validate_only: false,
        // Requisitioned goods are received against their requisition
        // (`stock receive --requisition`), not as an opening balance.
        requisition_id: String::new(),
        requisition_line_number: 0,
    })
}

/// Rules across rows: rows of one lot agree on what a lot is; a serial
/// number appears once.
fn across_rows(planned: &[Planned], problems: &mut Problems) {
    let mut lots: HashMap<(&str, &str), &Planned> = HashMap::new();
    let mut serials: HashMap<(&str, &str), usize> = HashMap::new();
    for p in planned {
        let r = &p.req;
        match lots.get(&(r.item_id.as_str(), r.lot_number.as_str())) {
            None => {
                lots.insert((&r.item_id, &r.lot_number), p);
            }
            Some(first) => {
                let f = &first.req;
                let differs = [
                    ("production_date", f.production_date != r.production_date),
                    ("expiry_date", f.expiry_date != r.expiry_date),
                    ("manufacturer", f.manufacturer != r.manufacturer),
                    ("funding", f.funding_source != r.funding_source),
                    ("owning_tier", f.owning_tier != r.owning_tier),
                ];
                for (col, d) in differs {
                    if d {
                        problems.add(
                            p.row,
                            col,
                            &format!(
                                "differs from row {} of the same lot {}; one lot has one value",
                                first.row, r.lot_number
                            ),
                        );
                    }
                }
            }
        }
        for s in &r.serial_numbers {
            if let Some(first) = serials.insert((&r.item_id, s), p.row) {
                problems.add(
                    p.row,
                    "serials",
                    &format!("{s} is also on row {first}; a serial number is one asset"),
                );
            }
        }
    }
}

/// Gives each row its request id: the depot and the row's content, and how
/// many identical rows came before it, so the same file (or the same rows
/// in another order) posts nothing twice, while a corrected row is new.
fn assign_ids(planned: &mut [Planned], depot: &str) {
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    for p in planned {
        let body = prost::Message::encode_to_vec(&p.req);
        let k = seen.entry(body.clone()).or_default();
        p.req.request_id = derived_id("stock", depot, &body, *k);
        *k += 1;
    }
}

fn show_plan(
    planned: &[Planned],
    depot: &str,
    catalogue: &Catalogue,
    fmt: Format,
    done_before: usize,
) -> anyhow::Result<()> {
    let mut units: BTreeMap<&str, i64> = BTreeMap::new();
    for p in planned {
        let n = if p.req.serial_numbers.is_empty() {
            p.req.quantity
        } else {
            p.req.serial_numbers.len() as i64
        };
        let u = units.entry(p.req.item_id.as_str()).or_default();
        *u = u.saturating_add(n);
    }
    if fmt == Format::Json {
        let rows: Vec<serde_json::Value> = planned
            .iter()
            .map(|p| {
                serde_json::json!({
                    "row": p.row, "item": p.req.item_id, "lot": p.req.lot_number,
                    "quantity": p.req.quantity, "serials": p.req.serial_numbers,
                    "requestId": p.req.request_id,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"depot": depot, "rows": rows, "alreadyPosted": done_before, "posted": 0})
        );
        return Ok(());
    }
    let mut t = table(&[
        "row",
        "item",
        "name",
        "lot",
        "units",
        "expiry",
        "serial numbers",
    ]);
    for p in planned {
        let r = &p.req;
        t.add_row(vec![
            p.row.to_string(),
            r.item_id.clone(),
            catalogue.name(&r.item_id),
            r.lot_number.clone(),
            if r.serial_numbers.is_empty() {
                r.quantity.to_string()
            } else {
                r.serial_numbers.len().to_string()
            },
            r.expiry_date
                .as_ref()
                .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                .unwrap_or_else(|| "from shelf life".into()),
            r.serial_numbers.join(" "),
        ]);
    }
    print_table(&t);
    for (item, n) in units {
        println!("{item}: {n} units");
    }
    println!(
        "{} rows are valid ({done_before} already posted by an earlier run); --dry-run posted nothing at {depot}",
        planned.len()
    );
    Ok(())
}
