//! The ledger history: one entry, or entries of a subtree, filtered.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::request::PageSize;
use reserve_core::stock::document::DocId;
use reserve_core::stock::{Delta, DocRef, EntryType, LedgerEntry, LotId, LotNumber, StockError};
use reserve_core::time::UtcMillis;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

const ENTRY_COLUMNS: &str = "e.seq, e.id, e.entry_type, e.depot_code, e.item_id, e.lot_id, t.lot_number, \
     e.quantity, e.held_delta, e.reserved_delta, e.doc_held_delta, e.reason, e.document, e.owner, e.counterparty, \
     e.occurred_at, e.recorded_at, e.actor, e.countersigned_by, e.reverses_id, e.request_id, e.serials, e.incident_id, e.on_lease_delta";

#[derive(FromRow)]
struct EntryRow {
    seq: i64,
    id: String,
    entry_type: i64,
    depot_code: String,
    item_id: String,
    lot_id: String,
    lot_number: String,
    quantity: i64,
    held_delta: i64,
    reserved_delta: i64,
    doc_held_delta: i64,
    reason: String,
    document: String,
    owner: Option<String>,
    counterparty: String,
    occurred_at: i64,
    recorded_at: i64,
    actor: String,
    countersigned_by: Option<String>,
    reverses_id: Option<String>,
    request_id: String,
    serials: String,
    incident_id: Option<String>,
    on_lease_delta: i64,
}

fn entry_from(row: &AnyRow) -> Result<LedgerEntry, StoreError> {
    let r = EntryRow::from_row(row)?;
    let owner = match &r.owner {
        Some(o) => Some(
            DocRef::parse_name(o)
                .ok_or_else(|| StoreError::Corrupt(format!("entry {}: owner", r.id)))?,
        ),
        None => None,
    };
    Ok(LedgerEntry {
        owner,
        kind: EntryType::from_number(r.entry_type)
            .ok_or_else(|| StoreError::Corrupt(format!("entry {}: type", r.id)))?,
        serials: serde_json::from_str(&r.serials)?,
        id: r.id,
        seq: r.seq,
        depot: DepotCode::from_stored(r.depot_code),
        item: ItemId::from_stored(r.item_id),
        lot: LotId(r.lot_id),
        lot_number: LotNumber::from_stored(r.lot_number),
        delta: Delta {
            on_hand: r.quantity,
            reserved: r.reserved_delta,
            held: r.held_delta,
            doc_held: r.doc_held_delta,
            on_lease: r.on_lease_delta,
        },
        reason: r.reason,
        document: r.document,
        counterparty: r.counterparty,
        occurred_at: r.occurred_at,
        recorded_at: r.recorded_at,
        actor: r.actor,
        countersigned_by: r.countersigned_by,
        reverses: r.reverses_id,
        request_id: r.request_id,
        incident: r.incident_id,
    })
}

pub(crate) async fn load_entry(
    tx: &mut AnyConnection,
    id: &str,
) -> Result<Option<LedgerEntry>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries e JOIN lots t ON t.id = e.lot_id WHERE e.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.as_ref().map(entry_from).transpose()
}

/// Filters of the ledger history.
#[derive(Clone, Debug)]
pub struct LedgerFilter {
    /// Subtree.
    pub subtree: DepotPath,
    /// Only this item.
    pub item: Option<ItemId>,
    /// Only this lot (of the item).
    pub lot: Option<LotNumber>,
    /// Only this kind.
    pub kind: Option<EntryType>,
    /// Happened at or after.
    pub start: Option<UtcMillis>,
    /// Happened before.
    pub end: Option<UtcMillis>,
    /// Only entries for this incident.
    pub incident: Option<String>,
}

impl Store {
    /// One ledger entry.
    pub async fn get_entry(&self, id: &DocId) -> Result<Option<LedgerEntry>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load_entry(&mut c, id.as_str()).await
    }

    /// Ledger entries of a subtree, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_ledger(
        &self,
        f: &LedgerFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<LedgerEntry>, OpError<StockError>> {
        let filters = format!(
            "sub={};i={:?};l={:?};k={:?};s={:?};e={:?};inc={:?}",
            f.subtree.as_str(),
            f.item,
            f.lot,
            f.kind.map(|k| k.number()),
            f.start,
            f.end,
            f.incident
        );
        let before: Option<i64> = page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries e JOIN lots t ON t.id = e.lot_id \
             JOIN depots d ON d.code = e.depot_code WHERE "
        ));
        sql.push(
            "d.path LIKE ?",
            Arg::Text(format!("{}%", f.subtree.as_str())),
        );
        if let Some(i) = &f.item {
            sql.push(" AND e.item_id = ?", Arg::Text(i.to_string()));
        }
        if let Some(l) = &f.lot {
            sql.push(" AND t.lot_number = ?", Arg::Text(l.as_str().to_string()));
        }
        if let Some(k) = f.kind {
            sql.push(" AND e.entry_type = ?", Arg::Int(k.number()));
        }
        if let Some(s) = f.start {
            sql.push(" AND e.occurred_at >= ?", Arg::Int(s));
        }
        if let Some(e) = f.end {
            sql.push(" AND e.occurred_at < ?", Arg::Int(e));
        }
        if let Some(i) = &f.incident {
            sql.push(" AND e.incident_id = ?", Arg::Text(i.clone()));
        }
        if let Some(b) = before {
            sql.push(" AND e.seq < ?", Arg::Int(b));
        }
        sql.push(
            " ORDER BY e.seq DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let entries = rows.iter().map(entry_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(entries, size.get(), &filters, |e| e.seq))
    }
}
