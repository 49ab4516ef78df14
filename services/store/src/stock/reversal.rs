//! Reversing a mistaken entry: load, plan (core), post, audit.

use super::ledger::load_entry;
use super::post::{Posted, post};
use super::rows::{holders_at, load_assets, load_line, new_id};
use super::{rule, summary};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_depot_for_stock;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::keeper_at;
use reserve_core::stock::StockError;
use reserve_core::stock::document::DocId;
use reserve_core::stock::reversal::plan_reversal;
use serde_json::json;
use sqlx::AnyConnection;

impl Store {
    /// Reverses a ledger entry with a new one pointing at it.
    pub async fn reverse(
        &self,
        meta: &WriteMeta,
        entry: DocId,
        reason: String,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(meta, &ReverseOp { entry, reason }).await
    }
}

struct ReverseOp {
    entry: DocId,
    reason: String,
}

impl Op for ReverseOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Posted, StockError> {
        let Some(original) = load_entry(tx, self.entry.as_str()).await? else {
            return rule(StockError::EntryNotFound(self.entry.to_string()));
        };
        keeper_at(&meta.actor, &original.depot).map_err(|d| OpError::Rule(d.into()))?;
        // Read as every write that may bring stock in reads it, so a depot
        // closing meanwhile waits for this reversal or refuses it.
        let Some(depot) = load_depot_for_stock(tx, original.depot.as_str()).await? else {
            return rule(StockError::DepotNotFound(original.depot.to_string()));
        };
        let Some(line) = load_line(tx, original.depot.as_str(), original.lot.as_str()).await?
        else {
            return Err(OpError::Store(StoreError::Corrupt(format!(
                "entry {} has no stock line",
                original.id
            ))));
        };
        let assets = load_assets(tx, original.item.as_str(), &original.serials).await?;
        // Read after the line and the assets: on PostgreSQL (read committed)
        // each read sees what was committed when it ran, so a reversal that
        // committed meanwhile shows here whenever its balance showed above.
        // Read before them, a racing second reversal could see the first's
        // balance without the first, and be refused for stock instead of
        // being told the entry is reversed.
        let reversed: Option<(String,)> =
            sqlx::query_as("SELECT id FROM ledger_entries WHERE reverses_id = $1")
                .bind(&original.id)
                .fetch_optional(&mut *tx)
                .await?;
        let state = line.state();
        let plan = |holders: &[_]| {
            plan_reversal(
                &original,
                reversed.is_some(),
                &depot,
                &state,
                &assets,
                holders,
                &self.reason,
                meta.now,
                &mut new_id,
            )
        };
        let draft = match plan(&[]) {
            Err(StockError::HeldByDocument { .. }) => {
                let holders =
                    holders_at(tx, original.depot.as_str(), original.item.as_str()).await?;
                plan(&holders)
            }
            other => other,
        }
        .map_err(OpError::Rule)?;
        let posted = post(tx, meta, vec![draft], line.near_expiry_days).await?;
        // Requisitioned goods: a reversed receipt is no longer received, and
        // stock brought back must still be without an outcome.
        let delta = posted.entries.first().map_or(0, |e| e.delta.on_hand);
        crate::requisition::receipt::after_reversal(
            tx,
            original.lot.as_str(),
            delta,
            original.kind == reserve_core::stock::EntryType::Receipt,
        )
        .await?;
        let audit = summary::movement(
            &original.depot,
            &original.item,
            "reversed",
            json!({"reverses": original.id, "reason": self.reason}),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}
