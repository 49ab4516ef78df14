//! Upkeep records: appended, never changed; each moves its unit's dates
//! (an asset's row, or the (depot, item) row of lot-tracked stock).

use super::{authorize, load_asset_upkeep, load_plans};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::stock::rule;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::maintenance::maintainer;
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::{ItemId, Tracking};
use reserve_core::maintenance::due::next_due;
use reserve_core::maintenance::record::{NewRecord, Record, sets_next_due, unit_after};
use reserve_core::maintenance::{Condition, UpkeepKind, UpkeepResult};
use reserve_core::request::PageSize;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::{Day, SerialNumber, StockError};
use reserve_core::violation::Violations;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow};

/// A record and the next due date of its unit afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPosted {
    /// The record.
    pub record: Record,
    /// When the unit is next due now, as the due list has it (`None`: no
    /// schedule covers it).
    pub unit_next_due: Option<Day>,
}

const COLUMNS: &str = "r.id, r.depot_code, r.item_id, r.serial_number, r.kind, r.day, r.result, r.condition, \
     r.cost_fen, r.notes, r.next_due_day, r.repair_id, r.recorded_by, r.recorded_at";

#[derive(FromRow)]
struct Row {
    id: String,
    depot_code: String,
    item_id: String,
    serial_number: Option<String>,
    kind: i64,
    day: i64,
    result: i64,
    condition: Option<i64>,
    cost_fen: i64,
    notes: String,
    next_due_day: Option<i64>,
    repair_id: Option<String>,
    recorded_by: String,
    recorded_at: i64,
}

fn record_from(row: &AnyRow) -> Result<Record, StoreError> {
    let r = Row::from_row(row)?;
    let corrupt = |w: &str| StoreError::Corrupt(format!("upkeep record {}: {w}", r.id));
    Ok(Record {
        kind: UpkeepKind::from_number(r.kind).ok_or_else(|| corrupt("kind"))?,
        result: UpkeepResult::from_number(r.result).ok_or_else(|| corrupt("result"))?,
        condition: match r.condition {
            Some(c) => Some(Condition::from_number(c).ok_or_else(|| corrupt("condition"))?),
            None => None,
        },
        id: r.id,
        depot: DepotCode::from_stored(r.depot_code),
        item: ItemId::from_stored(r.item_id),
        serial: r.serial_number.map(SerialNumber::from_stored),
        day: Day(r.day),
        cost_fen: r.cost_fen,
        notes: r.notes,
        next_due: r.next_due_day.map(Day),
        repair: r.repair_id,
        recorded_by: r.recorded_by,
        recorded_at: r.recorded_at,
    })
}

/// Appends `rec` and moves its unit's dates (and an asset's condition).
/// Returns the unit's next due date afterwards.
pub(crate) async fn append(
    tx: &mut AnyConnection,
    rec: &Record,
    now: i64,
) -> Result<Option<Day>, StoreError> {
    sqlx::query(
        "INSERT INTO upkeep_records (id, depot_code, item_id, serial_number, kind, day, result, condition, \
         cost_fen, notes, next_due_day, repair_id, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&rec.id)
    .bind(rec.depot.as_str())
    .bind(rec.item.as_str())
    .bind(rec.serial.as_ref().map(|s| s.to_string()))
    .bind(rec.kind.number())
    .bind(rec.day.0)
    .bind(rec.result.number())
    .bind(rec.condition.map(Condition::number))
    .bind(rec.cost_fen)
    .bind(&rec.notes)
    .bind(rec.next_due.map(|d| d.0))
    .bind(rec.repair.clone())
    .bind(&rec.recorded_by)
    .bind(rec.recorded_at)
    .execute(&mut *tx)
    .await?;
    match &rec.serial {
        Some(serial) => {
            let a = load_asset_upkeep(tx, &rec.item, serial)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("asset {serial} vanished")))?;
            let (last, next) = unit_after(
                a.last_upkeep_day.map(Day),
                a.next_upkeep_day.map(Day),
                rec.day,
                rec.next_due,
            );
            // Guarded on the dates read: a record committed meanwhile makes
            // the run re-read and decide again, so a late record never
            // writes back dates older than one already there.
            let moved = sqlx::query(
                "UPDATE assets SET last_upkeep_day = $1, next_upkeep_day = $2, \
                 condition = COALESCE($3, condition), updated_at = $4 WHERE item_id = $5 AND serial_number = $6 \
                 AND last_upkeep_day IS NOT DISTINCT FROM $7 AND next_upkeep_day IS NOT DISTINCT FROM $8",
            )
            .bind(last.map(|d| d.0))
            .bind(next.map(|d| d.0))
            .bind(rec.condition.map(Condition::number))
            .bind(now)
            .bind(rec.item.as_str())
            .bind(serial.as_str())
            .bind(a.last_upkeep_day)
            .bind(a.next_upkeep_day)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict);
            }
            Ok(next)
        }
        None => {
            let old: Option<(Option<i64>, Option<i64>, i64)> = sqlx::query_as(
                "SELECT last_upkeep_day, next_upkeep_day, version FROM upkeep_status \
                 WHERE depot_code = $1 AND item_id = $2",
            )
            .bind(rec.depot.as_str())
            .bind(rec.item.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let (l, n, version) = old.unwrap_or((None, None, 0));
            let (last, next) = unit_after(l.map(Day), n.map(Day), rec.day, rec.next_due);
            // Compare-and-set on the version read (0: no row yet, and a
            // first record racing another meets the key): a record
            // committed meanwhile makes the run re-read and decide again.
            let moved = if version == 0 {
                sqlx::query(
                    "INSERT INTO upkeep_status (depot_code, item_id, last_upkeep_day, next_upkeep_day, version, updated_at) \
                     VALUES ($1, $2, $3, $4, 1, $5)",
                )
                .bind(rec.depot.as_str())
                .bind(rec.item.as_str())
                .bind(last.map(|d| d.0))
                .bind(next.map(|d| d.0))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                sqlx::query(
                    "UPDATE upkeep_status SET last_upkeep_day = $1, next_upkeep_day = $2, version = version + 1, \
                     updated_at = $3 WHERE depot_code = $4 AND item_id = $5 AND version = $6",
                )
                .bind(last.map(|d| d.0))
                .bind(next.map(|d| d.0))
                .bind(now)
                .bind(rec.depot.as_str())
                .bind(rec.item.as_str())
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            };
            if moved != 1 {
                return Err(StoreError::Conflict);
            }
            Ok(next)
        }
    }
}

/// Filters of a record list.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    /// Only this item.
    pub item: Option<ItemId>,
    /// Only this asset.
    pub serial: Option<SerialNumber>,
}

impl Store {
    /// Records upkeep.
    pub async fn record_upkeep(
        &self,
        meta: &WriteMeta,
        new: NewRecord,
    ) -> Result<Written<RecordPosted>, OpError<StockError>> {
        self.run(meta, &RecordOp { new }).await
    }

    /// Records of a subtree, newest first.
    pub async fn list_records(
        &self,
        subtree: &DepotPath,
        f: &RecordFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Record>, OpError<StockError>> {
        let filters = format!("sub={};i={:?};s={:?}", subtree.as_str(), f.item, f.serial);
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM upkeep_records r JOIN depots d ON d.code = r.depot_code WHERE "
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if let Some(i) = &f.item {
            sql.push(" AND r.item_id = ?", Arg::Text(i.to_string()));
        }
        if let Some(s) = &f.serial {
            sql.push(" AND r.serial_number = ?", Arg::Text(s.to_string()));
        }
        if let Some((at, id)) = after {
            sql.push(" AND (r.recorded_at, r.id) < (?", Arg::Int(at))
                .push(", ?)", Arg::Text(id));
        }
        sql.push(
            " ORDER BY r.recorded_at DESC, r.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows
            .iter()
            .map(record_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(items, size.get(), &filters, |r| {
            (r.recorded_at, r.id.clone())
        }))
    }
}

struct RecordOp {
    new: NewRecord,
}

impl Op for RecordOp {
    type Output = RecordPosted;
    type Error = StockError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<RecordPosted, StockError> {
        let n = &self.new;
        let path = authorize(tx, meta, &n.depot, maintainer).await?;
        let Some(item) = crate::catalog::load_item(tx, n.item.as_str()).await? else {
            return rule(StockError::ItemNotFound(n.item.to_string()));
        };
        match (item.tracking, &n.serial) {
            (Tracking::Serial, None) => {
                return rule(Violations::one(
                    "record.serial_number",
                    format!("is required: {} is tracked by serial number", item.id),
                ));
            }
            (Tracking::Lot, Some(_)) => {
                return rule(Violations::one(
                    "record.serial_number",
                    format!(
                        "must be empty: {} is tracked by lot; a record covers the item at the depot",
                        item.id
                    ),
                ));
            }
            (Tracking::Serial, Some(s)) => {
                let found = load_asset_upkeep(tx, &n.item, s).await?;
                let here = found.as_ref().is_some_and(|a| {
                    a.depot_code == n.depot.as_str()
                        && AssetStatus::from_number(a.status).is_some_and(AssetStatus::on_hand)
                });
                if !here {
                    return rule(StockError::SerialNotAvailable {
                        serial: s.to_string(),
                        // As the other serial refusals say it: "on lease at
                        // HB-SY-MJ", or "unknown".
                        status: found
                            .map(|a| {
                                let status = AssetStatus::from_number(a.status)
                                    .map_or("in an unknown state", AssetStatus::name);
                                format!("{status} at {}", a.depot_code)
                            })
                            .unwrap_or_else(|| "unknown".into()),
                        needed: "in the depot (in stock, held, reserved or under repair)",
                        depot: n.depot.to_string(),
                    });
                }
            }
            (Tracking::Lot, None) => {}
        }
        let plans = load_plans(tx, Some(&n.item)).await?;
        let schedule = plans.schedule(&item, &path, n.serial.as_ref());
        let record = Record {
            id: crate::stock::rows::new_id(),
            depot: n.depot.clone(),
            item: n.item.clone(),
            serial: n.serial.clone(),
            kind: n.kind,
            day: n.day,
            result: n.result,
            condition: n.condition,
            cost_fen: n.cost_fen,
            notes: n.notes.clone(),
            next_due: sets_next_due(n.next_due, n.result, n.day, schedule.as_ref()),
            repair: None,
            recorded_by: meta.actor.subject.clone(),
            recorded_at: meta.now,
        };
        let stored = append(tx, &record, meta.now).await?;
        // What the due list will say: the stored date, or for a unit never
        // given one, one interval after it entered the books.
        let entered =
            match &n.serial {
                Some(s) => load_asset_upkeep(tx, &n.item, s)
                    .await?
                    .map(|a| a.entered_at),
                None => sqlx::query_as::<_, (Option<i64>,)>(
                    "SELECT MIN(t.created_at) FROM stock_lines l JOIN lots t ON t.id = l.lot_id \
                     WHERE l.depot_code = $1 AND l.item_id = $2 AND l.on_hand > 0",
                )
                .bind(n.depot.as_str())
                .bind(n.item.as_str())
                .fetch_one(&mut *tx)
                .await?
                .0,
            };
        let unit_next_due = next_due(
            stored,
            schedule.as_ref(),
            Day::today(entered.unwrap_or(meta.now)),
        );
        let audit = AuditRecord {
            resource: format!("upkeepRecords/{}", record.id),
            depot: record.depot.clone(),
            changes: json!({
                "item": record.item.as_str(),
                "serial": record.serial.as_ref().map(|s| s.as_str()),
                "kind": record.kind.name(), "result": record.result.name(),
                "day": record.day.date().to_string(), "cost_fen": record.cost_fen,
                "next_due": unit_next_due.map(|d| d.date().to_string()),
            }),
        };
        Ok((
            RecordPosted {
                record,
                unit_next_due,
            },
            audit,
        ))
    }
}
