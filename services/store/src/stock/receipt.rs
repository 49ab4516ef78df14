//! Receiving stock: load, plan (core), post, audit.

use super::post::{Posted, post};
use super::rows::{insert_lot, item_or_refuse, load_assets, load_line, load_lot_by_number, new_id};
use super::{rule, summary};
use crate::db::Store;
use crate::error::OpError;
use crate::network::{load_depot, load_depot_for_stock};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::keeper_at;
use reserve_core::item::Item;
use reserve_core::stock::StockError;
use reserve_core::stock::receipt::{Receipt, ReceiptPlan, plan_receipt};
use reserve_core::time::UtcMillis;
use serde_json::json;
use sqlx::AnyConnection;

impl Store {
    /// Receives stock into a lot.
    pub async fn receive(
        &self,
        meta: &WriteMeta,
        r: Receipt,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(meta, &ReceiveOp { r, link: None }).await
    }

    /// Receives requisitioned goods into a lot that belongs to requisition
    /// `link.0`, line `link.1` (funding source: requisition).
    pub async fn receive_requisitioned(
        &self,
        meta: &WriteMeta,
        r: Receipt,
        link: (String, u32),
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(
            meta,
            &ReceiveOp {
                r,
                link: Some(link),
            },
        )
        .await
    }

    /// Checks a receipt against every rule on the rows as stored now, as
    /// [`Store::receive`] would under `meta`, and writes nothing: the
    /// transaction that read them is rolled back. If this request id already
    /// posted this very receipt, its earlier answer is returned instead (a
    /// re-run of an import is valid). What it accepts may still be refused
    /// when posted if the rows change in between.
    pub async fn validate_receipt(
        &self,
        meta: &WriteMeta,
        r: &Receipt,
    ) -> Result<Option<Posted>, OpError<StockError>> {
        keeper_at(&meta.actor, &r.depot).map_err(|d| OpError::Rule(d.into()))?;
        if let Some(earlier) = self.recorded(meta).await? {
            return Ok(Some(earlier));
        }
        let mut tx = self.reader().begin().await?;
        let planned = plan_in(&mut tx, r, meta.now, false).await.map(|_| None);
        tx.rollback().await?;
        planned
    }
}

struct ReceiveOp {
    r: Receipt,
    link: Option<(String, u32)>,
}

impl Op for ReceiveOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Posted, StockError> {
        let r = &self.r;
        keeper_at(&meta.actor, &r.depot).map_err(|d| OpError::Rule(d.into()))?;
        let posted = post_receipt(tx, meta, r).await?;
        let requisition =
            crate::requisition::receipt::link(tx, r, self.link.as_ref(), &posted).await?;
        let audit = summary::movement(
            &r.depot,
            &r.item,
            "received",
            json!({"document": r.document, "from": r.counterparty, "requisition": requisition}),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}

/// Plans and posts a receipt in the caller's transaction (the keeper's
/// authority already checked): the depot held against closing, the lot
/// found or created, known serials allowed back only where core says.
pub(crate) async fn post_receipt(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    r: &Receipt,
) -> Result<Posted, OpError<StockError>> {
    let (plan, item) = plan_in(tx, r, meta.now, true).await?;
    if let Some(lot) = &plan.new_lot {
        // A concurrent receipt of the same new lot number is a unique
        // violation here; the run retries and finds the lot.
        insert_lot(tx, lot).await?;
    }
    Ok(post(tx, meta, vec![plan.entry], item.near_expiry_days).await?)
}

/// Loads the rows a receipt touches and asks core for its plan; `lock`
/// holds the depot against closing until the transaction ends.
async fn plan_in(
    tx: &mut AnyConnection,
    r: &Receipt,
    now: UtcMillis,
    lock: bool,
) -> Result<(ReceiptPlan, Item), OpError<StockError>> {
    let depot = if lock {
        load_depot_for_stock(tx, r.depot.as_str()).await?
    } else {
        load_depot(tx, r.depot.as_str()).await?
    };
    let Some(depot) = depot else {
        return rule(StockError::DepotNotFound(r.depot.to_string()));
    };
    let item = item_or_refuse(tx, &r.item).await?;
    let existing = load_lot_by_number(tx, r.item.as_str(), r.lot_number.as_str()).await?;
    let line_owner = match &existing {
        Some(lot) => load_line(tx, r.depot.as_str(), lot.id.as_str())
            .await?
            .map(|l| l.owning_tier),
        None => None,
    };
    let known = load_assets(tx, r.item.as_str(), &r.serials).await?;
    let plan = plan_receipt(
        r,
        &item,
        &depot,
        existing.as_ref(),
        line_owner,
        &known,
        now,
        &mut new_id,
    )
    .map_err(OpError::Rule)?;
    Ok((plan, item))
}
