//! Issuing stock: load, plan (core), post, audit.

use super::post::{Posted, post};
use super::rows::{load_assets_at, load_item_at, new_id};
use super::{rule, summary};
use crate::db::Store;
use crate::error::OpError;
use crate::network::load_depot;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::authz::stock::keeper_at;
use reserve_core::item::Tracking;
use reserve_core::maintenance::due::check_issue;
use reserve_core::stock::issue::{Issue, plan_issue};
use reserve_core::stock::{Day, StockError};
use serde_json::json;
use sqlx::AnyConnection;

impl Store {
    /// Issues stock, FEFO unless a lot or serials are named.
    pub async fn issue(
        &self,
        meta: &WriteMeta,
        issue: Issue,
    ) -> Result<Written<Posted>, OpError<StockError>> {
        self.run(meta, &IssueOp { issue }).await
    }
}

struct IssueOp {
    issue: Issue,
}

impl Op for IssueOp {
    type Output = Posted;
    type Error = StockError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Posted, StockError> {
        let req = &self.issue;
        keeper_at(&meta.actor, &req.depot).map_err(|d| OpError::Rule(d.into()))?;
        if let Some(i) = &req.incident
            && crate::incident::load_incident(tx, i.as_str())
                .await?
                .is_none()
        {
            return rule(StockError::DocumentNotFound {
                kind: "incidents",
                id: i.to_string(),
            });
        }
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
        let today = Day::today(meta.now);
        let states = at.states();
        let plan_with = |states: &[_], assets: &[_], minimum: i64| {
            plan_issue(req, &item, states, assets, minimum, today, &mut new_id)
        };
        // Picking first-expired-first-out, units up to date on their upkeep
        // go first; overdue ones only when they are needed (and then the
        // guard below asks for the override).
        let up_to_date = if req.serials.is_empty() && req.override_upkeep.is_none() {
            crate::maintenance::due::without_overdue(tx, &req.depot, &item, &states, &assets, today)
                .await?
        } else {
            None
        };
        let plan = match up_to_date
            .map(|(lines, fit, aside)| plan_with(&lines, &fit, (at.minimum - aside).max(0)))
        {
            Some(Ok(p)) => p,
            _ => plan_with(&states, &assets, at.minimum).map_err(OpError::Rule)?,
        };
        // Assets overdue for upkeep leave only with an explicit override.
        let serials: Vec<_> = plan
            .entries
            .iter()
            .flat_map(|e| e.serials.iter().cloned())
            .collect();
        let overdue = crate::maintenance::due::overdue_serials(
            tx,
            &req.depot,
            &item,
            &serials,
            Day::today(meta.now),
        )
        .await?;
        check_issue(&req.depot, &overdue, req.override_upkeep.as_deref()).map_err(OpError::Rule)?;
        let posted = post(tx, meta, plan.entries, item.near_expiry_days).await?;
        let audit = summary::movement(
            &req.depot,
            &req.item,
            "issued",
            json!({
                "to": req.recipient,
                "document": req.document,
                "reserve_minimum_overridden": plan.overridden,
                "upkeep_overdue_overridden": (!overdue.is_empty()).then(|| json!({
                    "serials": overdue.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
                    "reason": req.override_upkeep,
                })),
            }),
            &posted.entries,
        );
        Ok((posted, audit))
    }
}
