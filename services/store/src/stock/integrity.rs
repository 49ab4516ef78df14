//! The integrity check: every stored balance recomputed from the ledger,
//! and every serialised line recounted from its assets.

use crate::db::Store;
use crate::error::StoreError;
use reserve_core::authz::DepotPath;
use reserve_core::item::Tracking;
use sqlx::FromRow;

/// A stored figure that disagrees with what it is derived from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrityIssue {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Lot id.
    pub lot: String,
    /// Which figure.
    pub figure: &'static str,
    /// As stored.
    pub stored: i64,
    /// As recomputed.
    pub recomputed: i64,
}

/// What a check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Lines checked.
    pub lines_checked: i64,
    /// Ledger entries summed.
    pub entries_checked: i64,
    /// Differences; empty when all agree.
    pub issues: Vec<IntegrityIssue>,
}

#[derive(FromRow)]
struct Row {
    depot_code: String,
    item_id: String,
    lot_id: String,
    on_hand: i64,
    reserved: i64,
    held: i64,
    sum_quantity: i64,
    sum_held: i64,
    sum_reserved: i64,
    entries: i64,
    assets_on_hand: i64,
    assets_held: i64,
    tracking: i64,
}

impl Store {
    /// Recomputes every balance in `subtree` from the ledger and the assets.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check_integrity(
        &self,
        subtree: &DepotPath,
    ) -> Result<IntegrityReport, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT l.depot_code, l.item_id, l.lot_id, l.on_hand, l.reserved, l.held, \
             CAST(COALESCE(e.q, 0) AS BIGINT) AS sum_quantity, CAST(COALESCE(e.h, 0) AS BIGINT) AS sum_held, \
             CAST(COALESCE(e.r, 0) AS BIGINT) AS sum_reserved, CAST(COALESCE(e.n, 0) AS BIGINT) AS entries, \
             CAST(COALESCE(a.n, 0) AS BIGINT) AS assets_on_hand, CAST(COALESCE(a.h, 0) AS BIGINT) AS assets_held, \
             i.tracking \
             FROM stock_lines l JOIN depots d ON d.code = l.depot_code JOIN items i ON i.id = l.item_id \
             LEFT JOIN (SELECT depot_code, lot_id, SUM(quantity) AS q, SUM(held_delta) AS h, \
                        SUM(reserved_delta) AS r, COUNT(*) AS n FROM ledger_entries GROUP BY depot_code, lot_id) e \
               ON e.depot_code = l.depot_code AND e.lot_id = l.lot_id \
             LEFT JOIN (SELECT depot_code, lot_id, SUM(CASE WHEN status IN (1, 2) THEN 1 ELSE 0 END) AS n, \
                        SUM(CASE WHEN status = 2 THEN 1 ELSE 0 END) AS h FROM assets GROUP BY depot_code, lot_id) a \
               ON a.depot_code = l.depot_code AND a.lot_id = l.lot_id \
             WHERE d.path LIKE $1 ORDER BY l.depot_code, l.lot_id",
        )
        .bind(format!("{}%", subtree.as_str()))
        .fetch_all(self.reader())
        .await?;
        let mut report = IntegrityReport::default();
        for r in rows {
            report.lines_checked += 1;
            report.entries_checked += r.entries;
            let mut issue = |figure: &'static str, stored: i64, recomputed: i64| {
                if stored != recomputed {
                    report.issues.push(IntegrityIssue {
                        depot: r.depot_code.clone(),
                        item: r.item_id.clone(),
                        lot: r.lot_id.clone(),
                        figure,
                        stored,
                        recomputed,
                    });
                }
            };
            issue("on_hand", r.on_hand, r.sum_quantity);
            issue("held", r.held, r.sum_held);
            issue("reserved", r.reserved, r.sum_reserved);
            if r.tracking == Tracking::Serial.number() {
                issue("assets_on_hand", r.on_hand, r.assets_on_hand);
                issue("assets_held", r.held, r.assets_held);
            }
            let sound = r.on_hand >= 0
                && r.reserved >= 0
                && r.held >= 0
                && r.reserved + r.held <= r.on_hand;
            issue("balance_rules", 1, i64::from(sound));
        }
        Ok(report)
    }
}
