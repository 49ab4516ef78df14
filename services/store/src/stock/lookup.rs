//! Lookups: the stock lines of a depot, lots, and serialised assets.

use super::rows::{LINE_COLUMNS, LOT_COLUMNS, LineView, lot_from, view_from};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::request::PageSize;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::{DocRef, Lot, LotId, LotNumber, SerialNumber, StockError};
use reserve_core::time::UtcMillis;
use sqlx::FromRow;
use sqlx::any::AnyRow;

/// A serialised asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetView {
    /// Item.
    pub item: ItemId,
    /// Serial.
    pub serial: SerialNumber,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Depot.
    pub depot: DepotCode,
    /// Status.
    pub status: AssetStatus,
    /// The document holding it, if one does.
    pub holder: Option<DocRef>,
    /// Last change.
    pub updated_at: UtcMillis,
}

const ASSET_SELECT: &str = "SELECT a.item_id, a.serial_number, a.lot_id, t.lot_number, a.depot_code, a.status, \
     a.holder, a.updated_at FROM assets a JOIN lots t ON t.id = a.lot_id";

fn asset_from(r: &AnyRow) -> Result<AssetView, StoreError> {
    #[allow(clippy::type_complexity)]
    let (item, serial, lot, lot_number, depot, status, holder, at): (
        String,
        String,
        String,
        String,
        String,
        i64,
        Option<String>,
        i64,
    ) = FromRow::from_row(r)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("asset {serial}: {what}"));
    Ok(AssetView {
        status: AssetStatus::from_number(status).ok_or_else(|| corrupt("status"))?,
        holder: match &holder {
            Some(h) => Some(DocRef::parse_name(h).ok_or_else(|| corrupt("holder"))?),
            None => None,
        },
        item: ItemId::from_stored(item),
        serial: SerialNumber::from_stored(serial),
        lot: LotId(lot),
        lot_number: LotNumber::from_stored(lot_number),
        depot: DepotCode::from_stored(depot),
        updated_at: at,
    })
}

impl Store {
    /// Stock lines of one depot, by item then first-expired-first-out.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_stock(
        &self,
        depot: &DepotCode,
        item: Option<&ItemId>,
        include_empty: bool,
        size: PageSize,
        token: &str,
    ) -> Result<Page<LineView>, OpError<StockError>> {
        let filters = format!("depot={depot};item={item:?};empty={include_empty}");
        let after: Option<(String, i64, String, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {LINE_COLUMNS}, {LOT_COLUMNS}, i.near_expiry_days FROM stock_lines l \
             JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id WHERE "
        ));
        sql.push("l.depot_code = ?", Arg::Text(depot.to_string()));
        if let Some(i) = item {
            sql.push(" AND l.item_id = ?", Arg::Text(i.to_string()));
        }
        if !include_empty {
            sql.raw(" AND l.on_hand > 0");
        }
        if let Some((i, e, n, id)) = after {
            sql.push(
                " AND (l.item_id, COALESCE(t.expiry_day, 999999999), t.lot_number, l.lot_id) > (?",
                Arg::Text(i),
            )
            .push(", ?", Arg::Int(e))
            .push(", ?", Arg::Text(n))
            .push(", ?)", Arg::Text(id));
        }
        sql.push(
            " ORDER BY l.item_id, COALESCE(t.expiry_day, 999999999), t.lot_number, l.lot_id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let lines = rows.iter().map(view_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(lines, size.get(), &filters, |l| {
            (
                l.lot.item.to_string(),
                l.lot.expiry.map(|d| d.0).unwrap_or(999_999_999),
                l.lot.number.as_str().to_string(),
                l.lot.id.0.clone(),
            )
        }))
    }

    /// A lot that has (or had) a stock line in `subtree`.
    pub async fn get_lot(
        &self,
        subtree: &DepotPath,
        item: &ItemId,
        number: &LotNumber,
    ) -> Result<Option<Lot>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {LOT_COLUMNS} FROM lots t WHERE t.item_id = $1 AND t.lot_number = $2 AND EXISTS \
             (SELECT 1 FROM stock_lines l JOIN depots d ON d.code = l.depot_code \
              WHERE l.lot_id = t.id AND d.path LIKE $3)"
        ))
        .bind(item.as_str())
        .bind(number.as_str())
        .bind(format!("{}%", subtree.as_str()))
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(lot_from).transpose()
    }

    /// Lots that have (or had) a stock line in `subtree`, by item then number.
    pub async fn list_lots(
        &self,
        subtree: &DepotPath,
        item: Option<&ItemId>,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Lot>, OpError<StockError>> {
        let filters = format!("sub={};i={item:?}", subtree.as_str());
        let after: Option<(String, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {LOT_COLUMNS} FROM lots t WHERE EXISTS (SELECT 1 FROM stock_lines l \
             JOIN depots d ON d.code = l.depot_code WHERE l.lot_id = t.id AND "
        ));
        sql.push(
            "d.path LIKE ?)",
            Arg::Text(format!("{}%", subtree.as_str())),
        );
        if let Some(i) = item {
            sql.push(" AND t.item_id = ?", Arg::Text(i.to_string()));
        }
        if let Some((i, n)) = after {
            sql.push(" AND (t.item_id, t.lot_number) > (?", Arg::Text(i))
                .push(", ?)", Arg::Text(n));
        }
        sql.push(
            " ORDER BY t.item_id, t.lot_number LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let lots = rows.iter().map(lot_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(lots, size.get(), &filters, |l| {
            (l.item.to_string(), l.number.as_str().to_string())
        }))
    }

    /// One asset, wherever it is.
    pub async fn get_asset(
        &self,
        item: &ItemId,
        serial: &SerialNumber,
    ) -> Result<Option<AssetView>, StoreError> {
        let row = sqlx::query(&format!(
            "{ASSET_SELECT} WHERE a.item_id = $1 AND a.serial_number = $2"
        ))
        .bind(item.as_str())
        .bind(serial.as_str())
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(asset_from).transpose()
    }

    /// Serialised assets of a depot.
    pub async fn list_assets(
        &self,
        depot: &DepotCode,
        item: Option<&ItemId>,
        status: Option<AssetStatus>,
        size: PageSize,
        token: &str,
    ) -> Result<Page<AssetView>, OpError<StockError>> {
        let filters = format!("d={depot};i={item:?};s={:?}", status.map(|s| s.number()));
        let after: Option<(String, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!("{ASSET_SELECT} WHERE "));
        sql.push("a.depot_code = ?", Arg::Text(depot.to_string()));
        if let Some(i) = item {
            sql.push(" AND a.item_id = ?", Arg::Text(i.to_string()));
        }
        if let Some(s) = status {
            sql.push(" AND a.status = ?", Arg::Int(s.number()));
        }
        if let Some((i, s)) = after {
            sql.push(" AND (a.item_id, a.serial_number) > (?", Arg::Text(i))
                .push(", ?)", Arg::Text(s));
        }
        sql.push(
            " ORDER BY a.item_id, a.serial_number LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let out = rows.iter().map(asset_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(out, size.get(), &filters, |a| {
            (a.item.to_string(), a.serial.as_str().to_string())
        }))
    }
}
