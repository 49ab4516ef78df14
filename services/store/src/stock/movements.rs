//! Receipts, issues, holds, releases and reversals: each one transaction
//! that loads the rows it touches, asks core to decide, and posts exactly that.

use super::rows::{
    LineView, ensure_line, entry, insert_assets, insert_lot, load_assets, load_assets_at,
    load_item_at, load_line, load_lot_by_number, move_assets, new_id, post,
};
use crate::catalog::load_item;
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_depot;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::depot::DepotCode;
use reserve_core::item::{Item, ItemId, Tracking};
use reserve_core::stock::entry::{AssetStatus, reversal_of};
use reserve_core::stock::movement::{
    HoldReason, Issue, IssuePurpose, LotChoice, Move, Receipt, Take, plan_hold, plan_issue,
    plan_receipt, plan_release,
};
use reserve_core::stock::{
    Day, Delta, EntryType, LedgerEntry, Lot, LotId, SerialNumber, StockError,
};
use reserve_core::time::UtcMillis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

/// Entries posted by one call and the lines they left behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    /// The entries, in posting order.
    pub entries: Vec<LedgerEntry>,
    /// The lines after posting, one per entry.
    pub lines: Vec<LineView>,
}

pub(crate) fn rule<T>(e: StockError) -> Result<T, OpError<StockError>> {
    Err(OpError::Rule(e))
}

/// A summary of entries for the audit log.
pub(crate) fn entries_json(entries: &[LedgerEntry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                json!({
                    "entry": e.id,
                    "type": e.kind.name(),
                    "lot": e.lot_number.as_str(),
                    "quantity": e.delta.on_hand,
                    "held": e.delta.held,
                    "reserved": e.delta.reserved,
                    "serials": e.serials.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

pub(crate) fn stock_audit(
    depot: &DepotCode,
    item: &ItemId,
    what: &str,
    extra: serde_json::Value,
    entries: &[LedgerEntry],
) -> AuditRecord {
    AuditRecord {
        resource: format!("depots/{depot}/stock/{item}"),
        depot: depot.clone(),
        changes: json!({ what: entries_json(entries), "detail": extra }),
    }
}

/// Loads an item or refuses.
pub(crate) async fn item_or_refuse(
    tx: &mut AnyConnection,
    id: &ItemId,
) -> Result<Item, OpError<StockError>> {
    match load_item(tx, id.as_str()).await? {
        Some(i) => Ok(i),
        None => rule(StockError::ItemNotFound(id.to_string())),
    }
}

/// Posts `entry` and returns it with the line as it is afterwards.
pub(crate) async fn post_view(
    tx: &mut AnyConnection,
    e: LedgerEntry,
    lot: &Lot,
    near_expiry_days: i32,
) -> Result<(LedgerEntry, LineView), StoreError> {
    let depot = e.depot.clone();
    let (e, balance, at) = post(tx, e).await?;
    Ok((
        e,
        LineView {
            depot,
            lot: lot.clone(),
            balance,
            near_expiry_days,
            updated_at: at,
        },
    ))
}

impl Store {
    /// Receives stock into a lot.
    #[tracing::instrument(level = "debug", skip_all, fields(depot = %r.depot, item = %r.item))]
    pub async fn receive(
        &self,
        meta: &WriteMeta,
        r: Receipt,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(
            meta,
            &ReceiveOp {
                r,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Issues stock, FEFO unless a lot or serials are named.
    #[tracing::instrument(level = "debug", skip_all, fields(depot = %issue.depot, item = %issue.item))]
    pub async fn issue(
        &self,
        meta: &WriteMeta,
        issue: Issue,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(
            meta,
            &IssueOp {
                issue,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Holds units.
    #[tracing::instrument(level = "debug", skip_all, fields(depot = %m.depot, item = %m.item))]
    pub async fn hold(
        &self,
        meta: &WriteMeta,
        m: Move,
        reason: HoldReason,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(
            meta,
            &HoldOp {
                m,
                reason: Some(reason),
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Releases held units.
    #[tracing::instrument(level = "debug", skip_all, fields(depot = %m.depot, item = %m.item))]
    pub async fn release(
        &self,
        meta: &WriteMeta,
        m: Move,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(
            meta,
            &HoldOp {
                m,
                reason: None,
                meta: meta.clone(),
            },
        )
        .await
    }

    /// Reverses a ledger entry with a new one pointing at it.
    #[tracing::instrument(level = "debug", skip_all, fields(entry = %entry_id))]
    pub async fn reverse(
        &self,
        meta: &WriteMeta,
        entry_id: String,
        reason: String,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(
            meta,
            &ReverseOp {
                entry_id,
                reason,
                meta: meta.clone(),
            },
        )
        .await
    }
}

struct ReceiveOp {
    r: Receipt,
    meta: WriteMeta,
}

impl Op for ReceiveOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, now: UtcMillis) -> Applied<Posted, StockError> {
        let r = &self.r;
        let Some(depot) = load_depot(tx, r.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(r.depot.to_string()));
        };
        let item = item_or_refuse(tx, &r.item).await?;
        let existing = load_lot_by_number(tx, r.item.as_str(), r.lot_number.as_str()).await?;
        let known: Vec<SerialNumber> = load_assets(tx, r.item.as_str(), &r.serials)
            .await?
            .into_iter()
            .map(|a| a.serial)
            .collect();
        let plan = plan_receipt(r, &item, &depot, existing.as_ref(), &known, Day::today(now))
            .map_err(OpError::Rule)?;
        let lot = match plan.lot {
            LotChoice::Existing(l) => l,
            LotChoice::New {
                production,
                expiry,
                manufacturer,
                funding,
                owning_tier,
            } => {
                let lot = Lot {
                    id: LotId(new_id()),
                    item: r.item.clone(),
                    number: r.lot_number.clone(),
                    production,
                    expiry,
                    manufacturer,
                    funding,
                    owning_tier,
                    created_at: now,
                };
                // A concurrent receipt of the same new lot number makes this
                // a unique violation; the retry then finds the lot.
                match insert_lot(tx, &lot).await {
                    Err(e) if e.is_unique_violation() => {
                        return Err(OpError::Store(StoreError::Conflict));
                    }
                    other => other?,
                }
                lot
            }
        };
        ensure_line(tx, r.depot.as_str(), r.item.as_str(), lot.id.as_str(), now).await?;
        let mut reason = String::from("receipt");
        if !r.note.is_empty() {
            reason = format!("receipt: {}", r.note);
        }
        let e = entry(
            EntryType::Receipt,
            &r.depot,
            &lot,
            Delta::on_hand(plan.quantity),
            plan.serials.clone(),
            reason,
            r.document.clone(),
            r.counterparty.clone(),
            r.occurred_at,
            &self.meta,
        );
        let (e, line) = post_view(tx, e, &lot, item.near_expiry_days).await?;
        if item.tracking == Tracking::Serial {
            match insert_assets(
                tx,
                r.item.as_str(),
                lot.id.as_str(),
                r.depot.as_str(),
                &plan.serials,
                now,
            )
            .await
            {
                Err(e) if e.is_unique_violation() => {
                    return Err(OpError::Store(StoreError::Conflict));
                }
                other => other?,
            }
        }
        let audit = stock_audit(
            &r.depot,
            &r.item,
            "received",
            json!({"document": r.document, "from": r.counterparty}),
            std::slice::from_ref(&e),
        );
        Ok((
            Posted {
                entries: vec![e],
                lines: vec![line],
            },
            audit,
        ))
    }
}

struct IssueOp {
    issue: Issue,
    meta: WriteMeta,
}

fn purpose_label(p: IssuePurpose) -> &'static str {
    match p {
        IssuePurpose::Incident => "issue to incident",
        IssuePurpose::Use => "issue for use",
    }
}

impl Op for IssueOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, now: UtcMillis) -> Applied<Posted, StockError> {
        let req = &self.issue;
        let mut at = load_item_at(tx, req.depot.as_str(), req.item.as_str()).await?;
        let Some(item) = at.item.clone() else {
            return rule(StockError::ItemNotFound(req.item.to_string()));
        };
        if at.lines.is_empty() && load_depot(tx, req.depot.as_str()).await?.is_none() {
            return rule(StockError::DepotNotFound(req.depot.to_string()));
        }
        if at.minimum > 0 && req.override_minimum.is_none() {
            // The reserve minimum is a rule over all lots of the item here:
            // lock them so two issues cannot each pass it and together break it.
            sqlx::query(
                "UPDATE stock_lines SET version = version WHERE depot_code = $1 AND item_id = $2",
            )
            .bind(req.depot.as_str())
            .bind(req.item.as_str())
            .execute(&mut *tx)
            .await?;
            at = load_item_at(tx, req.depot.as_str(), req.item.as_str()).await?;
        }
        let assets = if item.tracking == Tracking::Serial {
            load_assets_at(tx, req.depot.as_str(), req.item.as_str()).await?
        } else {
            Vec::new()
        };
        let takes = plan_issue(
            req,
            &item,
            &at.states(),
            &assets,
            at.minimum,
            Day::today(now),
        )
        .map_err(OpError::Rule)?;
        let mut reason = purpose_label(req.purpose).to_string();
        if !req.reason.is_empty() {
            reason = format!("{reason}: {}", req.reason);
        }
        let today = Day::today(now);
        let available_before: i64 = at
            .lines
            .iter()
            .map(|l| l.balance.available(l.lot.is_expired(today)))
            .sum();
        let breaks_minimum = at.minimum > 0 && available_before - req.quantity < at.minimum;
        if let (Some(why), true) = (&req.override_minimum, breaks_minimum) {
            reason = format!(
                "{reason}; reserve minimum {} overridden ({} left): {why}",
                at.minimum,
                available_before - req.quantity
            );
        }
        let mut posted = Posted {
            entries: Vec::new(),
            lines: Vec::new(),
        };
        for Take {
            lot,
            quantity,
            serials,
        } in takes
        {
            let e = entry(
                EntryType::Issue,
                &req.depot,
                &lot,
                Delta::on_hand(-quantity),
                serials.clone(),
                reason.clone(),
                req.document.clone(),
                req.recipient.clone(),
                req.occurred_at,
                &self.meta,
            );
            let (e, line) = post_view(tx, e, &lot, item.near_expiry_days).await?;
            move_assets(
                tx,
                req.item.as_str(),
                req.depot.as_str(),
                &serials,
                AssetStatus::InStock,
                AssetStatus::Issued,
                now,
            )
            .await?;
            posted.entries.push(e);
            posted.lines.push(line);
        }
        let audit = stock_audit(
            &req.depot,
            &req.item,
            "issued",
            json!({"to": req.recipient, "document": req.document, "override_reserve_minimum": req.override_minimum}),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}

/// Pending scrap applications' holds on an item at a depot: (lot, units,
/// serials, application id).
pub(crate) async fn scrap_holds(
    tx: &mut AnyConnection,
    depot: &str,
    item: &str,
) -> Result<Vec<(LotId, i64, Vec<SerialNumber>, String)>, StoreError> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT lot_id, quantity, serials, id FROM scrap_applications \
         WHERE depot_code = $1 AND item_id = $2 AND status = 1",
    )
    .bind(depot)
    .bind(item)
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter()
        .map(|(lot, q, serials, id)| Ok((LotId(lot), q, serde_json::from_str(&serials)?, id)))
        .collect()
}

struct HoldOp {
    m: Move,
    /// Some for a hold, None for a release.
    reason: Option<HoldReason>,
    meta: WriteMeta,
}

impl Op for HoldOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, now: UtcMillis) -> Applied<Posted, StockError> {
        let m = &self.m;
        let at = load_item_at(tx, m.depot.as_str(), m.item.as_str()).await?;
        let Some(item) = at.item.clone() else {
            return rule(StockError::ItemNotFound(m.item.to_string()));
        };
        let assets = if item.tracking == Tracking::Serial {
            load_assets(tx, m.item.as_str(), &m.serials).await?
        } else {
            Vec::new()
        };
        let (takes, kind, sign, from, to, label) = match self.reason {
            Some(r) => (
                plan_hold(m, &item, &at.states(), &assets).map_err(OpError::Rule)?,
                EntryType::Hold,
                1,
                AssetStatus::InStock,
                AssetStatus::Held,
                format!("hold: {}", r.label()),
            ),
            None => {
                let pending = scrap_holds(tx, m.depot.as_str(), m.item.as_str()).await?;
                (
                    plan_release(m, &item, &at.states(), &assets, &pending)
                        .map_err(OpError::Rule)?,
                    EntryType::Release,
                    -1,
                    AssetStatus::Held,
                    AssetStatus::InStock,
                    "release".to_string(),
                )
            }
        };
        let reason = if m.note.is_empty() {
            label
        } else {
            format!("{label}: {}", m.note)
        };
        let mut posted = Posted {
            entries: Vec::new(),
            lines: Vec::new(),
        };
        for Take {
            lot,
            quantity,
            serials,
        } in takes
        {
            let e = entry(
                kind,
                &m.depot,
                &lot,
                Delta::held(sign * quantity),
                serials.clone(),
                reason.clone(),
                String::new(),
                String::new(),
                now,
                &self.meta,
            );
            let (e, line) = post_view(tx, e, &lot, item.near_expiry_days).await?;
            move_assets(
                tx,
                m.item.as_str(),
                m.depot.as_str(),
                &serials,
                from,
                to,
                now,
            )
            .await?;
            posted.entries.push(e);
            posted.lines.push(line);
        }
        let what = if self.reason.is_some() {
            "held"
        } else {
            "released"
        };
        let audit = stock_audit(
            &m.depot,
            &m.item,
            what,
            json!({"note": m.note}),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}

struct ReverseOp {
    entry_id: String,
    reason: String,
    meta: WriteMeta,
}

impl Op for ReverseOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, now: UtcMillis) -> Applied<Posted, StockError> {
        let Some(original) = super::queries::load_entry(tx, &self.entry_id).await? else {
            return rule(StockError::EntryNotFound(self.entry_id.clone()));
        };
        let reversed: Option<(String,)> =
            sqlx::query_as("SELECT id FROM ledger_entries WHERE reverses_id = $1")
                .bind(&original.id)
                .fetch_optional(&mut *tx)
                .await?;
        let document: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM scrap_applications WHERE hold_entry_id = $1 OR final_entry_id = $1",
        )
        .bind(&original.id)
        .fetch_optional(&mut *tx)
        .await?;
        let document = document.map(|(id,)| format!("scrap application {id}"));
        let (delta, assets) = reversal_of(&original, reversed.is_some(), document.as_deref())
            .map_err(|n| OpError::Rule(n.into()))?;
        let Some(line) = load_line(tx, original.depot.as_str(), original.lot.as_str()).await?
        else {
            return Err(OpError::Store(StoreError::Corrupt(format!(
                "entry {} has no stock line",
                original.id
            ))));
        };
        if let Some((from, _)) = assets {
            let now_at = load_assets(tx, original.item.as_str(), &original.serials).await?;
            let moved_on = original.serials.iter().find(|s| {
                !now_at
                    .iter()
                    .any(|a| &a.serial == *s && a.depot == original.depot && a.status == from)
            });
            if let Some(s) = moved_on {
                return rule(StockError::NotReversible(format!(
                    "serial number {s} of entry {} is no longer {}; reverse the later movement first",
                    original.id,
                    from.name()
                )));
            }
        }
        if line.balance.apply(delta).is_none() {
            return rule(StockError::InsufficientStock {
                depot: original.depot.to_string(),
                item: original.item.to_string(),
                lot: format!(" lot {}", original.lot_number.as_str()),
                requested: -delta.on_hand.min(delta.held).min(0),
                available: line.balance.free(),
            });
        }
        let mut e = entry(
            EntryType::Reversal,
            &original.depot,
            &line.lot,
            delta,
            original.serials.clone(),
            format!(
                "reversal of {} {}: {}",
                original.kind.name(),
                original.id,
                self.reason
            ),
            original.document.clone(),
            original.counterparty.clone(),
            now,
            &self.meta,
        );
        e.reverses = Some(original.id.clone());
        let near = line.near_expiry_days;
        let (e, line) = post_view(tx, e, &line.lot, near).await?;
        if let Some((from, to)) = assets {
            move_assets(
                tx,
                original.item.as_str(),
                original.depot.as_str(),
                &original.serials,
                from,
                to,
                now,
            )
            .await?;
        }
        let audit = stock_audit(
            &original.depot,
            &original.item,
            "reversed",
            json!({"reverses": original.id, "reason": self.reason}),
            std::slice::from_ref(&e),
        );
        Ok((
            Posted {
                entries: vec![e],
                lines: vec![line],
            },
            audit,
        ))
    }
}
