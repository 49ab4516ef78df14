//! Reading and writing the stock tables: lots, lines, assets, ledger entries.
//! Every balance change goes through [`apply_delta`], a conditional update
//! that can never break the balance rules, whatever runs beside it; plans
//! reach it only through [`super::post`].

use crate::catalog::{item_columns, item_from};
use crate::error::{OpError, StoreError};
use crate::sql::{Arg, Sql};
use reserve_core::depot::DepotCode;
use reserve_core::item::{Item, ItemId};
use reserve_core::stock::entry::{AssetPlace, AssetStatus};
use reserve_core::stock::pick::{AssetState, LineState};
use reserve_core::stock::{
    Balance, Day, Delta, DocRef, FundingSource, LedgerEntry, Lot, LotId, LotNumber, SerialNumber,
    StockError,
};
use reserve_core::tier::Tier;
use reserve_core::time::UtcMillis;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};
use std::sync::LazyLock;

/// Lot columns under the alias `t`, named so they never clash in a join.
pub(crate) const LOT_COLUMNS: &str = "t.id AS lot_id, t.item_id AS lot_item_id, t.lot_number, t.production_day, \
     t.expiry_day, t.manufacturer, t.funding_source, t.created_at AS lot_created_at";

#[derive(FromRow)]
struct LotRow {
    lot_id: String,
    lot_item_id: String,
    lot_number: String,
    production_day: Option<i64>,
    expiry_day: Option<i64>,
    manufacturer: String,
    funding_source: i64,
    lot_created_at: i64,
}

pub(crate) fn lot_from(row: &AnyRow) -> Result<Lot, StoreError> {
    let r = LotRow::from_row(row)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("lot {}: {what}", r.lot_id));
    Ok(Lot {
        funding: FundingSource::from_number(r.funding_source)
            .ok_or_else(|| corrupt("funding source"))?,
        id: LotId(r.lot_id),
        item: ItemId::from_stored(r.lot_item_id),
        number: LotNumber::from_stored(r.lot_number),
        production: r.production_day.map(Day),
        expiry: r.expiry_day.map(Day),
        manufacturer: r.manufacturer,
        created_at: r.lot_created_at,
    })
}

/// A stock line as shown to clients: the lot, its balance, and what is
/// needed to judge expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    /// Depot.
    pub depot: DepotCode,
    /// The lot.
    pub lot: Lot,
    /// Its balance here.
    pub balance: Balance,
    /// The tier owning these units here (事权).
    pub owning_tier: Tier,
    /// The item's near-expiry window in days.
    pub near_expiry_days: i32,
    /// Last change.
    pub updated_at: UtcMillis,
}

/// Line columns under the alias `l`.
pub(crate) const LINE_COLUMNS: &str = "l.depot_code, l.on_hand, l.reserved, l.held, l.doc_held, l.on_lease, l.owning_tier AS line_owning_tier, \
     l.updated_at AS line_updated_at";

#[derive(FromRow)]
struct LineRow {
    depot_code: String,
    on_hand: i64,
    reserved: i64,
    held: i64,
    doc_held: i64,
    on_lease: i64,
    line_owning_tier: i64,
    line_updated_at: i64,
}

impl LineRow {
    fn owner(&self) -> Result<Tier, StoreError> {
        Tier::from_number(self.line_owning_tier).ok_or_else(|| {
            StoreError::Corrupt(format!("stock line at {}: owning tier", self.depot_code))
        })
    }

    fn balance(&self) -> Balance {
        Balance {
            on_hand: self.on_hand,
            reserved: self.reserved,
            held: self.held,
            doc_held: self.doc_held,
            on_lease: self.on_lease,
        }
    }
}

/// A line view from a row holding LINE_COLUMNS, LOT_COLUMNS and `near_expiry_days`.
pub(crate) fn view_from(row: &AnyRow) -> Result<LineView, StoreError> {
    let l = LineRow::from_row(row)?;
    let (near,): (i64,) = (sqlx::Row::try_get(row, "near_expiry_days")?,);
    Ok(LineView {
        balance: l.balance(),
        owning_tier: l.owner()?,
        depot: DepotCode::from_stored(l.depot_code),
        lot: lot_from(row)?,
        near_expiry_days: i32::try_from(near).unwrap_or(i32::MAX),
        updated_at: l.line_updated_at,
    })
}

/// Everything an issue-like movement needs about one item at one depot, in
/// one round trip: the item, every line with its lot, and the reserve minimum.
pub(crate) struct ItemAtDepot {
    pub item: Option<Item>,
    pub lines: Vec<LineView>,
    pub minimum: i64,
}

impl ItemAtDepot {
    pub(crate) fn states(&self) -> Vec<LineState> {
        self.lines.iter().map(LineView::state).collect()
    }
}

/// The query of [`load_item_at`], built once: it runs on every issue.
static ITEM_AT_DEPOT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, {LINE_COLUMNS}, {LOT_COLUMNS}, \
         COALESCE((SELECT n.minimum FROM reserve_norms n WHERE n.depot_code = $1 AND n.item_id = $2), 0) AS minimum \
         FROM stock_lines l JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id \
         WHERE l.depot_code = $1 AND l.item_id = $2",
        item_columns("i")
    )
});

static LOT_BY_NUMBER: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {LOT_COLUMNS} FROM lots t WHERE t.item_id = $1 AND t.lot_number = $2")
});

static LOT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {LOT_COLUMNS} FROM lots t WHERE t.id = $1"));

static LINE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {LINE_COLUMNS}, {LOT_COLUMNS}, i.near_expiry_days FROM stock_lines l \
         JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id \
         WHERE l.depot_code = $1 AND l.lot_id = $2"
    )
});

pub(crate) async fn load_item_at(
    tx: &mut AnyConnection,
    depot: &str,
    item: &str,
) -> Result<ItemAtDepot, StoreError> {
    let rows = sqlx::query(&ITEM_AT_DEPOT)
        .bind(depot)
        .bind(item)
        .fetch_all(&mut *tx)
        .await?;
    if rows.is_empty() {
        let item = crate::catalog::load_item(tx, item).await?;
        return Ok(ItemAtDepot {
            item,
            lines: Vec::new(),
            minimum: 0,
        });
    }
    let it = item_from(&rows[0])?;
    let minimum: i64 = sqlx::Row::try_get(&rows[0], "minimum")?;
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        let l = LineRow::from_row(r)?;
        lines.push(LineView {
            balance: l.balance(),
            owning_tier: l.owner()?,
            depot: DepotCode::from_stored(l.depot_code),
            lot: lot_from(r)?,
            near_expiry_days: it.near_expiry_days,
            updated_at: l.line_updated_at,
        });
    }
    Ok(ItemAtDepot {
        item: Some(it),
        lines,
        minimum,
    })
}

pub(crate) async fn load_lot_by_number(
    tx: &mut AnyConnection,
    item: &str,
    number: &str,
) -> Result<Option<Lot>, StoreError> {
    let row = sqlx::query(&LOT_BY_NUMBER)
        .bind(item)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
    row.as_ref().map(lot_from).transpose()
}

pub(crate) async fn load_lot(tx: &mut AnyConnection, id: &str) -> Result<Option<Lot>, StoreError> {
    let row = sqlx::query(&LOT_BY_ID)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    row.as_ref().map(lot_from).transpose()
}

pub(crate) async fn load_line(
    tx: &mut AnyConnection,
    depot: &str,
    lot: &str,
) -> Result<Option<LineView>, StoreError> {
    let row = sqlx::query(&LINE)
        .bind(depot)
        .bind(lot)
        .fetch_optional(&mut *tx)
        .await?;
    row.as_ref().map(view_from).transpose()
}

pub(crate) async fn insert_lot(tx: &mut AnyConnection, lot: &Lot) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO lots (id, item_id, lot_number, production_day, expiry_day, manufacturer, funding_source, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(lot.id.as_str())
    .bind(lot.item.as_str())
    .bind(lot.number.as_str())
    .bind(lot.production.map(|d| d.0))
    .bind(lot.expiry.map(|d| d.0))
    .bind(&lot.manufacturer)
    .bind(lot.funding.number())
    .bind(lot.created_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Creates an empty line for a lot at a depot if there is none, owned by
/// `owner` (the depot's own owning tier when `None`). A line that exists
/// keeps its owner.
pub(crate) async fn ensure_line(
    tx: &mut AnyConnection,
    depot: &str,
    item: &str,
    lot: &str,
    owner: Option<Tier>,
    now: UtcMillis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO stock_lines (depot_code, lot_id, item_id, on_hand, reserved, held, version, created_at, updated_at, \
         owning_tier) SELECT $1, $2, $3, 0, 0, 0, 0, $4, $4, COALESCE($5, d.owning_tier) FROM depots d WHERE d.code = $1 \
         ON CONFLICT (depot_code, lot_id) DO NOTHING",
    )
    .bind(depot)
    .bind(lot)
    .bind(item)
    .bind(now)
    .bind(owner.map(Tier::number))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Applies `d` to a line only if the result keeps every balance rule (the
/// same rules as [`Balance::check`] and the table's CHECK), and returns the
/// new balance. When the guard fails the line changed since the plan read it:
/// the transaction is retried and decided again.
pub(crate) async fn apply_delta(
    tx: &mut AnyConnection,
    depot: &str,
    lot: &str,
    d: Delta,
    now: UtcMillis,
) -> Result<(Balance, Tier, UtcMillis), StoreError> {
    let row: Option<(i64, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "UPDATE stock_lines SET on_hand = on_hand + $1, reserved = reserved + $2, held = held + $3, \
         doc_held = doc_held + $4, on_lease = on_lease + $9, version = version + 1, updated_at = $5 \
         WHERE depot_code = $6 AND lot_id = $7 AND on_hand + $1 >= 0 AND on_hand + $1 <= $8 \
         AND reserved + $2 >= 0 AND held + $3 >= 0 AND doc_held + $4 >= 0 AND doc_held + $4 <= held + $3 \
         AND reserved + $2 + held + $3 <= on_hand + $1 AND on_lease + $9 >= 0 AND on_lease + $9 <= $8 \
         RETURNING on_hand, reserved, held, doc_held, on_lease, owning_tier, updated_at",
    )
    .bind(d.on_hand)
    .bind(d.reserved)
    .bind(d.held)
    .bind(d.doc_held)
    .bind(now)
    .bind(depot)
    .bind(lot)
    .bind(reserve_core::stock::balance::MAX_BALANCE)
    .bind(d.on_lease)
    .fetch_optional(&mut *tx)
    .await?;
    match row {
        Some((on_hand, reserved, held, doc_held, on_lease, owner, at)) => Ok((
            Balance {
                on_hand,
                reserved,
                held,
                doc_held,
                on_lease,
            },
            Tier::from_number(owner).ok_or_else(|| {
                StoreError::Corrupt(format!("stock line at {depot}: owning tier"))
            })?,
            at,
        )),
        None => Err(StoreError::Conflict),
    }
}

/// Appends an entry and returns its ledger position.
pub(crate) async fn insert_entry(
    tx: &mut AnyConnection,
    e: &LedgerEntry,
) -> Result<i64, StoreError> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO ledger_entries (id, entry_type, depot_code, item_id, lot_id, quantity, held_delta, \
         reserved_delta, doc_held_delta, reason, document, owner, counterparty, occurred_at, recorded_at, actor, \
         countersigned_by, reverses_id, request_id, serials, incident_id, on_lease_delta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
         RETURNING seq",
    )
    .bind(&e.id)
    .bind(e.kind.number())
    .bind(e.depot.as_str())
    .bind(e.item.as_str())
    .bind(e.lot.as_str())
    .bind(e.delta.on_hand)
    .bind(e.delta.held)
    .bind(e.delta.reserved)
    .bind(e.delta.doc_held)
    .bind(&e.reason)
    .bind(&e.document)
    .bind(e.owner.as_ref().map(DocRef::name))
    .bind(&e.counterparty)
    .bind(e.occurred_at)
    .bind(e.recorded_at)
    .bind(&e.actor)
    .bind(e.countersigned_by.clone())
    .bind(e.reverses.clone())
    .bind(&e.request_id)
    .bind(serde_json::to_string(&e.serials)?)
    .bind(e.incident.clone())
    .bind(e.delta.on_lease)
    .fetch_one(&mut *tx)
    .await?;
    Ok(seq)
}

#[derive(FromRow)]
struct AssetRow {
    serial_number: String,
    lot_id: String,
    depot_code: String,
    status: i64,
    holder: Option<String>,
}

const ASSET_COLUMNS: &str = "serial_number, lot_id, depot_code, status, holder";

fn asset_from(r: AssetRow) -> Result<AssetState, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("asset {}: {what}", r.serial_number));
    Ok(AssetState {
        status: AssetStatus::from_number(r.status).ok_or_else(|| corrupt("status"))?,
        holder: match &r.holder {
            Some(h) => Some(DocRef::parse_name(h).ok_or_else(|| corrupt("holder"))?),
            None => None,
        },
        serial: SerialNumber::from_stored(r.serial_number),
        lot: LotId(r.lot_id),
        depot: DepotCode::from_stored(r.depot_code),
    })
}

/// The assets of `item` with these serial numbers, wherever they are.
pub(crate) async fn load_assets(
    tx: &mut AnyConnection,
    item: &str,
    serials: &[SerialNumber],
) -> Result<Vec<AssetState>, StoreError> {
    let mut out = Vec::with_capacity(serials.len());
    for chunk in serials.chunks(SERIALS_PER_STATEMENT) {
        let mut sql = Sql::new(&format!("SELECT {ASSET_COLUMNS} FROM assets WHERE "));
        sql.push("item_id = ?", Arg::Text(item.to_string()));
        sql.in_list(
            " AND serial_number IN ",
            chunk.iter().map(|s| s.as_str().to_string()),
        );
        for r in sql.fetch_all(&mut *tx).await? {
            out.push(asset_from(AssetRow::from_row(&r)?)?);
        }
    }
    Ok(out)
}

/// The assets of `item` physically at `depot` (in stock or held).
pub(crate) async fn load_assets_at(
    tx: &mut AnyConnection,
    depot: &str,
    item: &str,
) -> Result<Vec<AssetState>, StoreError> {
    let rows: Vec<AssetRow> = sqlx::query_as(&format!(
        "SELECT {ASSET_COLUMNS} FROM assets WHERE depot_code = $1 AND item_id = $2 AND status IN {}",
        AssetStatus::ON_HAND_SQL
    ))
    .bind(depot)
    .bind(item)
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter().map(asset_from).collect()
}

/// Moves serials from one place to another; every one must be at `depot`
/// in `from` (status and holder), or the line changed under the plan. With
/// `to_depot` they end at that depot (a transfer in).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn move_assets(
    tx: &mut AnyConnection,
    item: &str,
    depot: &str,
    serials: &[SerialNumber],
    from: &AssetPlace,
    to: &AssetPlace,
    to_depot: Option<&str>,
    now: UtcMillis,
) -> Result<(), StoreError> {
    // Bounded statements: a bind list far below every engine's limit.
    for chunk in serials.chunks(SERIALS_PER_STATEMENT) {
        move_chunk(tx, item, depot, chunk, from, to, to_depot, now).await?;
    }
    Ok(())
}

/// Serial numbers bound in one statement.
pub(crate) const SERIALS_PER_STATEMENT: usize = 500;

#[allow(clippy::too_many_arguments)]
async fn move_chunk(
    tx: &mut AnyConnection,
    item: &str,
    depot: &str,
    serials: &[SerialNumber],
    from: &AssetPlace,
    to: &AssetPlace,
    to_depot: Option<&str>,
    now: UtcMillis,
) -> Result<(), StoreError> {
    let mut sql = Sql::new("UPDATE assets SET ");
    sql.push("status = ?", Arg::Int(to.status.number()))
        .push(
            ", depot_code = ?",
            Arg::Text(to_depot.unwrap_or(depot).to_string()),
        )
        .push(
            ", holder = ?",
            Arg::OptText(to.holder.as_ref().map(DocRef::name)),
        )
        .push(", version = version + 1, updated_at = ?", Arg::Int(now))
        .push(" WHERE item_id = ?", Arg::Text(item.to_string()))
        .push(" AND depot_code = ?", Arg::Text(depot.to_string()))
        .push(" AND status = ?", Arg::Int(from.status.number()));
    match &from.holder {
        Some(h) => sql.push(" AND holder = ?", Arg::Text(h.name())),
        None => sql.raw(" AND holder IS NULL"),
    };
    sql.in_list(
        " AND serial_number IN ",
        serials.iter().map(|s| s.as_str().to_string()),
    );
    let n = sql.execute(&mut *tx).await?;
    if n != serials.len() as u64 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Puts assets on the books at `depot` in `lot`, placed at `to`: new ones
/// are recorded, and known ones come back only if they may
/// ([`AssetState::may_enter`]: written off as missing at this depot, or
/// void); the conditional upsert states that rule, so a unit that came back
/// or moved since the plan read it is a conflict, never a second copy.
pub(crate) async fn enter_assets(
    tx: &mut AnyConnection,
    item: &str,
    lot: &str,
    depot: &str,
    serials: &[SerialNumber],
    to: &AssetPlace,
    now: UtcMillis,
) -> Result<(), StoreError> {
    static UPSERT: LazyLock<String> = LazyLock::new(|| {
        format!(
            " ON CONFLICT (item_id, serial_number) DO UPDATE SET lot_id = excluded.lot_id, \
             depot_code = excluded.depot_code, status = excluded.status, holder = excluded.holder, \
             version = assets.version + 1, updated_at = excluded.updated_at \
             WHERE assets.holder IS NULL AND (assets.status = {void} \
             OR (assets.status = {missing} AND assets.depot_code = excluded.depot_code))",
            void = AssetStatus::Void.number(),
            missing = AssetStatus::Missing.number(),
        )
    });
    for chunk in serials.chunks(200) {
        let mut sql = Sql::new(
            "INSERT INTO assets (item_id, serial_number, lot_id, depot_code, status, holder, version, updated_at) VALUES ",
        );
        for (i, s) in chunk.iter().enumerate() {
            if i > 0 {
                sql.raw(", ");
            }
            sql.push("(?", Arg::Text(item.to_string()))
                .push(", ?", Arg::Text(s.as_str().to_string()))
                .push(", ?", Arg::Text(lot.to_string()))
                .push(", ?", Arg::Text(depot.to_string()))
                .push(", ?", Arg::Int(to.status.number()))
                .push(", ?, 1", Arg::OptText(to.holder.as_ref().map(DocRef::name)))
                .push(", ?)", Arg::Int(now));
        }
        sql.raw(&UPSERT);
        if sql.execute(&mut *tx).await? != chunk.len() as u64 {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

/// A fresh time-ordered id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Loads an item or refuses with NOT_FOUND.
pub(crate) async fn item_or_refuse(
    tx: &mut AnyConnection,
    id: &ItemId,
) -> Result<Item, OpError<StockError>> {
    match crate::catalog::load_item(tx, id.as_str()).await? {
        Some(i) => Ok(i),
        None => super::rule(StockError::ItemNotFound(id.to_string())),
    }
}

/// Loads a lot by item and number or refuses with NOT_FOUND.
pub(crate) async fn lot_or_refuse(
    tx: &mut AnyConnection,
    item: &ItemId,
    number: &LotNumber,
) -> Result<Lot, OpError<StockError>> {
    match load_lot_by_number(tx, item.as_str(), number.as_str()).await? {
        Some(l) => Ok(l),
        None => super::rule(StockError::LotNotFound {
            item: item.to_string(),
            lot: number.as_str().to_string(),
        }),
    }
}

impl LineView {
    /// The line as a planner reads it.
    pub(crate) fn state(&self) -> LineState {
        LineState {
            lot: self.lot.clone(),
            balance: self.balance,
            owner: self.owning_tier,
        }
    }
}

/// The assets of a lot on hand at a depot (in stock or held), with holders.
pub(crate) async fn load_assets_in_lot(
    tx: &mut AnyConnection,
    depot: &str,
    lot: &str,
) -> Result<Vec<AssetState>, StoreError> {
    let rows: Vec<AssetRow> = sqlx::query_as(&format!(
        "SELECT {ASSET_COLUMNS} FROM assets WHERE depot_code = $1 AND lot_id = $2 AND status IN {} \
         ORDER BY serial_number",
        AssetStatus::ON_HAND_SQL
    ))
    .bind(depot)
    .bind(lot)
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter().map(asset_from).collect()
}

/// The open documents holding units of `item` at `depot`, per lot; read
/// only to name them when a request would take their units.
pub(crate) async fn holders_at(
    tx: &mut AnyConnection,
    depot: &str,
    item: &str,
) -> Result<Vec<(LotId, DocRef)>, StoreError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT lot_id, id, 'scrap' FROM scrap_applications WHERE depot_code = $1 AND item_id = $2 AND status = 1 \
         UNION ALL SELECT lot_id, id, 'repair' FROM repairs WHERE depot_code = $1 AND item_id = $2 AND status = 1",
    )
    .bind(depot)
    .bind(item)
    .fetch_all(&mut *tx)
    .await?;
    use reserve_core::stock::DocKind;
    Ok(rows
        .into_iter()
        .map(|(lot, id, kind)| {
            let kind = if kind == "repair" {
                DocKind::Repair
            } else {
                DocKind::ScrapApplication
            };
            (LotId(lot), DocRef::new(kind, &id))
        })
        .collect())
}
