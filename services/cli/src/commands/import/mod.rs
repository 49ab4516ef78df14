//! `reservectl import ...`: load a depot's opening stock, or a province's
//! depots, items and reserve norms, from CSV or Excel sheets. Every file is
//! checked whole first and every problem reported at once (row, column,
//! rule); nothing is posted unless the whole file is valid. Templates are in
//! docs/templates/.

mod setup;
pub mod sheet;
mod stock;

use crate::conn::Authed;
use crate::output::Format;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;
use sha2::{Digest, Sha256};
use sheet::Problems;
use std::collections::HashMap;
use tonic::Code;
use tonic_types::StatusExt;

/// What to import.
#[derive(clap::Subcommand, Debug)]
pub enum ImportCmd {
    /// A depot's opening stock (期初库存): one opening-balance receipt per
    /// row. Running the same file again posts nothing twice.
    Stock(stock::StockArgs),
    /// Depots, parents before children (administrators).
    Depots(setup::SetupArgs),
    /// Catalogue items (administrators).
    Items(setup::SetupArgs),
    /// Reserve norms: the minimum and target per depot and item
    /// (administrators).
    Norms(setup::SetupArgs),
}

pub async fn run(
    cmd: ImportCmd,
    ch: Authed,
    fmt: Format,
    scope: Option<String>,
) -> anyhow::Result<()> {
    match cmd {
        ImportCmd::Stock(a) => stock::run(a, ch, fmt, scope).await,
        ImportCmd::Depots(a) => setup::depots(a, ch, fmt).await,
        ImportCmd::Items(a) => setup::items(a, ch, fmt).await,
        ImportCmd::Norms(a) => setup::norms(a, ch, fmt).await,
    }
}

/// The request id of the `k`-th row with this content in an import of
/// `kind` into `scope`: the same file run again gives the same ids.
pub fn derived_id(kind: &str, scope: &str, body: &[u8], k: u32) -> String {
    let mut h = Sha256::new();
    for part in [kind.as_bytes(), scope.as_bytes(), body, &k.to_be_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("import-{kind}-{hex}")
}

/// Turns a refusal of one row into problems of that row: each field the
/// server named, or the rule it gave. A refusal that is not about the row
/// (no permission, the server unreachable) stops the import.
pub fn server_problems(
    row: usize,
    s: &tonic::Status,
    column_of: fn(&str) -> &str,
    column_of_reason: fn(&str) -> &'static str,
    problems: &mut Problems,
) -> anyhow::Result<()> {
    match s.code() {
        Code::InvalidArgument => {
            let fields = s
                .get_details_bad_request()
                .map(|b| b.field_violations)
                .unwrap_or_default();
            if fields.is_empty() {
                problems.add(row, "-", s.message());
            }
            for f in fields {
                problems.add(row, column_of(&f.field), &f.description);
            }
        }
        Code::FailedPrecondition | Code::NotFound | Code::AlreadyExists => {
            let reason = s.get_details_error_info().map(|i| i.reason);
            let column = reason.as_deref().map_or("-", column_of_reason);
            let rule = match reason {
                Some(r) => format!("{r}: {}", s.message()),
                None => s.message().to_string(),
            };
            problems.add(row, column, &rule);
        }
        _ => anyhow::bail!(
            "row {row}: the server refused ({:?}): {}; nothing more was sent",
            s.code(),
            s.message()
        ),
    }
    Ok(())
}

/// The item catalogue, to find items by id or by GB/T 38565 code.
pub struct Catalogue {
    by_id: HashMap<String, pb::Item>,
    by_code: HashMap<String, Vec<String>>,
}

impl Catalogue {
    /// Reads the whole catalogue, page after page.
    pub async fn load(ch: Authed) -> anyhow::Result<Self> {
        let mut c = CatalogServiceClient::new(ch);
        let mut token = String::new();
        let mut by_id = HashMap::new();
        let mut by_code: HashMap<String, Vec<String>> = HashMap::new();
        loop {
            let page = c
                .list_items(pb::ListItemsRequest {
                    page_size: 1000,
                    page_token: token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for i in page.items {
                by_code
                    .entry(i.code.clone())
                    .or_default()
                    .push(i.id.clone());
                by_id.insert(i.id.clone(), i);
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        Ok(Catalogue { by_id, by_code })
    }

    /// The item a cell names: its id, or a code only one item has.
    pub fn resolve(&self, cell: &str) -> Result<&pb::Item, String> {
        if cell.is_empty() {
            return Err("is required (an item id or its 7-digit code)".into());
        }
        if let Some(i) = self.by_id.get(cell) {
            return Ok(i);
        }
        match self.by_code.get(cell).map(Vec::as_slice) {
            Some([one]) => self.by_id.get(one).ok_or_else(|| format!("no item {cell}")),
            Some(many) => Err(format!(
                "code {cell} names {} items ({}); give the item id",
                many.len(),
                many.join(", ")
            )),
            None => Err(format!(
                "no item has the id or code \"{cell}\" in the catalogue"
            )),
        }
    }

    /// Whether an item id is in the catalogue.
    pub fn has(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// The name of an item, for display.
    pub fn name(&self, id: &str) -> String {
        self.by_id
            .get(id)
            .map(|i| i.name.clone())
            .unwrap_or_default()
    }
}
