//! Reports over a subtree: roll-ups by tier and state, near-expiry and
//! expired lots, shortfalls against reserve norms, rotation candidates.

use super::rows::{LINE_COLUMNS, LOT_COLUMNS, LineView, view_from};
use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::request::PageSize;
use reserve_core::stock::report::{Shortfall, replacements, shortfall};
use reserve_core::stock::{Day, StockError};
use reserve_core::tier::Tier;
use sqlx::{FromRow, Row};

/// One tier's share of a roll-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TierTotals {
    /// Tier.
    pub tier: Option<Tier>,
    /// Depots holding any.
    pub depots: i64,
    /// On hand.
    pub on_hand: i64,
    /// Available.
    pub available: i64,
    /// Reserved.
    pub reserved: i64,
    /// Held.
    pub held: i64,
    /// Near expiry.
    pub near_expiry: i64,
    /// Expired.
    pub expired: i64,
    /// On the road on allocation orders to depots of this tier (or, to an
    /// incident site, orders of command depots of this tier).
    pub in_transit: i64,
    /// Out on lease from depots of this tier.
    pub on_lease: i64,
    /// Of those, on leases that may be recalled in an emergency.
    pub recallable: i64,
    /// Units overdue for upkeep (see `core::maintenance::due`).
    pub upkeep_overdue: i64,
}

/// What a roll-up sums.
#[derive(Clone, Debug)]
pub enum RollUpOf {
    /// One item.
    Item(ItemId),
    /// Every item whose code starts with these digits.
    Category(String),
}

/// A shortfall row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortfallRow {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Norm minimum.
    pub minimum: i64,
    /// Norm target.
    pub target: i64,
    /// On hand.
    pub on_hand: i64,
    /// Available.
    pub available: i64,
    /// How short.
    pub shortfall: Shortfall,
    /// Units overdue for upkeep there.
    pub upkeep_overdue: i64,
}

/// A rotation candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationRow {
    /// The lot at its depot.
    pub line: LineView,
    /// Units that can be rotated out now.
    pub quantity: i64,
    /// Units to buy to replace them.
    pub replacement: i64,
}

fn sum(expr: &str, alias: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT) AS {alias}")
}

impl Store {
    /// Sums an item or category over a subtree, per tier, as of `today`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn roll_up(
        &self,
        subtree: &DepotPath,
        of: &RollUpOf,
        today: Day,
    ) -> Result<Vec<TierTotals>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT d.tier, COUNT(DISTINCT CASE WHEN l.on_hand > 0 OR l.on_lease > 0 THEN l.depot_code END) AS depots, \
             {}, {}, {}, {}, {}, {}, {}, {} \
             FROM stock_lines l JOIN depots d ON d.code = l.depot_code JOIN lots t ON t.id = l.lot_id \
             JOIN items i ON i.id = l.item_id \
             LEFT JOIN (SELECT sh.depot_code, sh.lot_id, SUM(sh.quantity - sh.returned) AS q FROM lease_shares sh \
                        JOIN leases le ON le.id = sh.lease_id WHERE le.state = 1 AND le.recallable = 1 AND le.recalled_at IS NULL \
                        GROUP BY sh.depot_code, sh.lot_id) rc ON rc.depot_code = l.depot_code AND rc.lot_id = l.lot_id \
             WHERE ",
            sum("l.on_hand", "on_hand"),
            sum("l.reserved", "reserved"),
            sum("l.held", "held"),
            sum(
                "CASE WHEN t.expiry_day IS NOT NULL AND t.expiry_day <= $1 THEN l.on_hand ELSE 0 END",
                "expired"
            ),
            sum(
                "CASE WHEN t.expiry_day IS NULL OR t.expiry_day > $1 THEN l.on_hand - l.reserved - l.held ELSE 0 END",
                "available"
            ),
            sum(
                "CASE WHEN t.expiry_day > $1 AND t.expiry_day - i.near_expiry_days <= $1 THEN l.on_hand ELSE 0 END",
                "near_expiry"
            ),
            sum("l.on_lease", "on_lease"),
            sum("COALESCE(rc.q, 0)", "recallable"),
        ));
        // $1 is today, used by the sums above.
        sql.bind_first(Arg::Int(today.0));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        match of {
            RollUpOf::Item(i) => sql.push(" AND l.item_id = ?", Arg::Text(i.to_string())),
            RollUpOf::Category(p) => sql.push(" AND i.code LIKE ?", Arg::Text(format!("{p}%"))),
        };
        sql.raw(" GROUP BY d.tier ORDER BY d.tier");
        let rows = sql.fetch_all(self.reader()).await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(TierTotals {
                    tier: Tier::from_number(r.try_get("tier")?),
                    depots: r.try_get("depots")?,
                    on_hand: r.try_get("on_hand")?,
                    available: r.try_get("available")?,
                    reserved: r.try_get("reserved")?,
                    held: r.try_get("held")?,
                    near_expiry: r.try_get("near_expiry")?,
                    expired: r.try_get("expired")?,
                    in_transit: 0,
                    on_lease: r.try_get("on_lease")?,
                    recallable: r.try_get("recallable")?,
                    upkeep_overdue: 0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)?;
        for (tier, q) in self.in_transit(subtree, of).await? {
            match out.iter_mut().find(|t| t.tier == tier) {
                Some(t) => t.in_transit = q,
                None => out.push(TierTotals {
                    tier,
                    in_transit: q,
                    ..TierTotals::default()
                }),
            }
        }
        let item = match of {
            RollUpOf::Item(i) => Some(i),
            RollUpOf::Category(_) => None,
        };
        for (tier, code, _, _, q) in self.overdue_units(subtree, item, today).await? {
            if let RollUpOf::Category(p) = of
                && !code.starts_with(p.as_str())
            {
                continue;
            }
            let tier = Some(tier);
            match out.iter_mut().find(|t| t.tier == tier) {
                Some(t) => t.upkeep_overdue = t.upkeep_overdue.saturating_add(q),
                None => out.push(TierTotals {
                    tier,
                    upkeep_overdue: q,
                    ..TierTotals::default()
                }),
            }
        }
        out.sort_by_key(|t| t.tier.map(Tier::number));
        Ok(out)
    }

    /// Units on the road per tier of the depot they are going to (the
    /// command depot for an incident site), within a subtree.
    async fn in_transit(
        &self,
        subtree: &DepotPath,
        of: &RollUpOf,
    ) -> Result<Vec<(Option<Tier>, i64)>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT d.tier, {} FROM allocation_shares s JOIN allocation_orders o ON o.id = s.order_id \
             JOIN depots d ON d.code = COALESCE(o.destination_depot_code, o.command_depot_code) \
             JOIN items i ON i.id = s.item_id \
             WHERE s.dispatched > s.received + s.damaged + s.rejected + s.short AND ",
            sum(
                "s.dispatched - s.received - s.damaged - s.rejected - s.short",
                "in_transit"
            ),
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        match of {
            RollUpOf::Item(i) => sql.push(" AND s.item_id = ?", Arg::Text(i.to_string())),
            RollUpOf::Category(p) => sql.push(" AND i.code LIKE ?", Arg::Text(format!("{p}%"))),
        };
        sql.raw(" GROUP BY d.tier");
        let rows = sql.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    Tier::from_number(r.try_get("tier")?),
                    r.try_get("in_transit")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Lines with stock that are near expiry (within `within_days`, or each
    /// item's own window) and, if asked, already expired; soonest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_expiring(
        &self,
        subtree: &DepotPath,
        within_days: Option<i64>,
        include_expired: bool,
        today: Day,
        size: PageSize,
        token: &str,
    ) -> Result<Page<LineView>, OpError<StockError>> {
        let filters = format!(
            "sub={};w={within_days:?};x={include_expired};d={}",
            subtree.as_str(),
            today.0
        );
        let after: Option<(i64, String, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {LINE_COLUMNS}, {LOT_COLUMNS}, i.near_expiry_days FROM stock_lines l \
             JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id \
             JOIN depots d ON d.code = l.depot_code WHERE l.on_hand > 0 AND t.expiry_day IS NOT NULL AND "
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        match within_days {
            Some(w) => sql.push(" AND t.expiry_day <= ?", Arg::Int(today.0 + w)),
            None => sql.push(
                " AND t.expiry_day - i.near_expiry_days <= ?",
                Arg::Int(today.0),
            ),
        };
        if !include_expired {
            sql.push(" AND t.expiry_day > ?", Arg::Int(today.0));
        }
        if let Some((e, d, l)) = after {
            sql.push(
                " AND (t.expiry_day, l.depot_code, l.lot_id) > (?",
                Arg::Int(e),
            )
            .push(", ?", Arg::Text(d))
            .push(", ?)", Arg::Text(l));
        }
        sql.push(
            " ORDER BY t.expiry_day, l.depot_code, l.lot_id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let lines = rows.iter().map(view_from).collect::<Result<Vec<_>, _>>()?;
        Ok(page::finish(lines, size.get(), &filters, |l| {
            (
                l.lot.expiry.map(|d| d.0).unwrap_or_default(),
                l.depot.to_string(),
                l.lot.id.0.clone(),
            )
        }))
    }

    /// Norms of a subtree whose depot holds less than the target available.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_shortfalls(
        &self,
        subtree: &DepotPath,
        item: Option<&ItemId>,
        today: Day,
        size: PageSize,
        token: &str,
    ) -> Result<Page<ShortfallRow>, OpError<StockError>> {
        let filters = format!("sub={};i={item:?};d={}", subtree.as_str(), today.0);
        let after: Option<(String, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(
            "SELECT * FROM (SELECT n.depot_code, n.item_id, n.minimum, n.target, \
             CAST(COALESCE((SELECT SUM(l.on_hand) FROM stock_lines l \
                WHERE l.depot_code = n.depot_code AND l.item_id = n.item_id), 0) AS BIGINT) AS on_hand, \
             CAST(COALESCE((SELECT SUM(l.on_hand - l.reserved - l.held) FROM stock_lines l JOIN lots t ON t.id = l.lot_id \
                WHERE l.depot_code = n.depot_code AND l.item_id = n.item_id \
                AND (t.expiry_day IS NULL OR t.expiry_day > $1)), 0) AS BIGINT) AS available \
             FROM reserve_norms n JOIN depots d ON d.code = n.depot_code WHERE ",
        );
        sql.bind_first(Arg::Int(today.0));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if let Some(i) = item {
            sql.push(" AND n.item_id = ?", Arg::Text(i.to_string()));
        }
        sql.raw(") s WHERE s.available < s.target");
        if let Some((d, i)) = after {
            sql.push(" AND (s.depot_code, s.item_id) > (?", Arg::Text(d))
                .push(", ?)", Arg::Text(i));
        }
        sql.push(
            " ORDER BY s.depot_code, s.item_id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let overdue: std::collections::BTreeMap<(DepotCode, ItemId), i64> = self
            .overdue_units(subtree, item, today)
            .await?
            .into_iter()
            .map(|(_, _, d, i, n)| ((d, i), n))
            .collect();
        let mut out = Vec::new();
        for r in &rows {
            let (depot, item, minimum, target, on_hand, available): (
                String,
                String,
                i64,
                i64,
                i64,
                i64,
            ) = FromRow::from_row(r).map_err(StoreError::from)?;
            if let Some(s) = shortfall(minimum, target, available) {
                let (depot, item) = (DepotCode::from_stored(depot), ItemId::from_stored(item));
                out.push(ShortfallRow {
                    upkeep_overdue: overdue
                        .get(&(depot.clone(), item.clone()))
                        .copied()
                        .unwrap_or(0),
                    depot,
                    item,
                    minimum,
                    target,
                    on_hand,
                    available,
                    shortfall: s,
                });
            }
        }
        Ok(page::finish(out, size.get(), &filters, |s| {
            (s.depot.to_string(), s.item.to_string())
        }))
    }

    /// Lots that are near expiry but not expired and have units to rotate,
    /// soonest first, with replacement quantities.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_rotation(
        &self,
        subtree: &DepotPath,
        today: Day,
        size: PageSize,
        token: &str,
    ) -> Result<Page<RotationRow>, OpError<StockError>> {
        let page = self
            .list_expiring(subtree, None, false, today, size, token)
            .await?;
        let mut out = Vec::new();
        let mut conn = self.reader().acquire().await.map_err(StoreError::from)?;
        for line in page.items {
            // Everything about this item at this depot: target, total
            // available, and every expiring lot in FEFO order.
            let rows = sqlx::query(&format!(
                "SELECT {LINE_COLUMNS}, {LOT_COLUMNS}, i.near_expiry_days, \
                 (SELECT n.target FROM reserve_norms n WHERE n.depot_code = l.depot_code AND n.item_id = l.item_id) AS target \
                 FROM stock_lines l JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id \
                 WHERE l.depot_code = $1 AND l.item_id = $2"
            ))
            .bind(line.depot.as_str())
            .bind(line.lot.item.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(StoreError::from)?;
            let mut target = None;
            let mut views = Vec::new();
            for r in &rows {
                target = r
                    .try_get::<Option<i64>, _>("target")
                    .map_err(StoreError::from)?;
                views.push(view_from(r)?);
            }
            let available: i64 = views
                .iter()
                .map(|v| v.balance.available(v.lot.is_expired(today)))
                .sum();
            let mut expiring: Vec<&LineView> = views
                .iter()
                .filter(|v| v.lot.is_near_expiry(today, v.near_expiry_days))
                .collect();
            expiring.sort_by_key(|v| v.lot.fefo_key());
            let quantities: Vec<i64> = expiring.iter().map(|v| v.balance.free().max(0)).collect();
            let shares = replacements(target, available, &quantities);
            let replacement = expiring
                .iter()
                .zip(shares)
                .find(|(v, _)| v.lot.id == line.lot.id)
                .map(|(_, s)| s)
                .unwrap_or(0);
            let quantity = line.balance.free().max(0);
            out.push(RotationRow {
                line,
                quantity,
                replacement,
            });
        }
        Ok(Page {
            items: out,
            next_token: page.next_token,
        })
    }
}
