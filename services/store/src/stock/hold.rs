//! Holds and releases by a keeper: load, plan (core), post, audit.

use super::post::{Posted, post};
use super::rows::{holders_at, load_assets, load_item_at, new_id};
use super::{rule, summary};
use crate::db::Store;
use crate::error::OpError;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::keeper_at;
use reserve_core::item::Tracking;
use reserve_core::stock::StockError;
use reserve_core::stock::hold::{Hold, Release, plan_hold, plan_release};
use serde_json::json;
use sqlx::AnyConnection;

impl Store {
    /// Holds units.
    pub async fn hold(
        &self,
        meta: &WriteMeta,
        hold: Hold,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(meta, &HoldOp { hold }).await
    }

    /// Releases units a keeper held.
    pub async fn release(
        &self,
        meta: &WriteMeta,
        release: Release,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(meta, &ReleaseOp { release }).await
    }
}

struct HoldOp {
    hold: Hold,
}

impl Op for HoldOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Posted, StockError> {
        let u = &self.hold.units;
        keeper_at(&meta.actor, &u.depot).map_err(|d| OpError::Rule(d.into()))?;
        let at = load_item_at(tx, u.depot.as_str(), u.item.as_str()).await?;
        let Some(item) = at.item.clone() else {
            return rule(StockError::ItemNotFound(u.item.to_string()));
        };
        let assets = if item.tracking == Tracking::Serial {
            load_assets(tx, u.item.as_str(), &u.serials).await?
        } else {
            Vec::new()
        };
        let drafts = plan_hold(
            &self.hold,
            &item,
            &at.states(),
            &assets,
            meta.now,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let posted = post(tx, meta, drafts, item.near_expiry_days).await?;
        let audit = summary::movement(
            &u.depot,
            &u.item,
            "held",
            json!({"reason": self.hold.reason.label(), "note": self.hold.note}),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}

struct ReleaseOp {
    release: Release,
}

impl Op for ReleaseOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Posted, StockError> {
        let u = &self.release.units;
        keeper_at(&meta.actor, &u.depot).map_err(|d| OpError::Rule(d.into()))?;
        let at = load_item_at(tx, u.depot.as_str(), u.item.as_str()).await?;
        let Some(item) = at.item.clone() else {
            return rule(StockError::ItemNotFound(u.item.to_string()));
        };
        let assets = if item.tracking == Tracking::Serial {
            load_assets(tx, u.item.as_str(), &u.serials).await?
        } else {
            Vec::new()
        };
        let lines = at.states();
        let plan = |holders: &[_]| {
            plan_release(
                &self.release,
                &item,
                &lines,
                &assets,
                holders,
                meta.now,
                &mut new_id,
            )
        };
        let drafts = match plan(&[]) {
            Err(StockError::HeldByDocument { .. }) => {
                // Name the documents in the refusal.
                let holders = holders_at(tx, u.depot.as_str(), u.item.as_str()).await?;
                plan(&holders)
            }
            other => other,
        }
        .map_err(OpError::Rule)?;
        let posted = post(tx, meta, drafts, item.near_expiry_days).await?;
        let audit = summary::movement(
            &u.depot,
            &u.item,
            "released",
            json!({"reason": self.release.reason}),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}
