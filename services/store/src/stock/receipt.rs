//! Receiving stock: load, plan (core), post, audit.

use super::post::{Posted, post};
use super::rows::{insert_lot, item_or_refuse, load_assets, load_line, load_lot_by_number, new_id};
use super::{rule, summary};
use crate::db::Store;
use crate::error::OpError;
use crate::network::load_depot_for_stock;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::keeper_at;
use reserve_core::stock::StockError;
use reserve_core::stock::receipt::{Receipt, plan_receipt};
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
    let Some(depot) = load_depot_for_stock(tx, r.depot.as_str()).await? else {
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
        meta.now,
        &mut new_id,
    )
    .map_err(OpError::Rule)?;
    if let Some(lot) = &plan.new_lot {
        // A concurrent receipt of the same new lot number is a unique
        // violation here; the run retries and finds the lot.
        insert_lot(tx, lot).await?;
    }
    Ok(post(tx, meta, vec![plan.entry], item.near_expiry_days).await?)
}
