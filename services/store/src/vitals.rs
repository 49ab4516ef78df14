//! What the metrics endpoint shows of the database: pool use, open
//! documents by kind, and stock lines expired or near expiry. Each figure is
//! one indexed count, cheap enough to refresh every minute.

use crate::db::{Backend, Store};
use crate::error::StoreError;
use reserve_core::stock::Day;

/// One connection pool's use now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    /// `read` or `write` (on PostgreSQL one pool serves both: `shared`).
    pub pool: &'static str,
    /// Connections open.
    pub size: u32,
    /// Connections open and idle.
    pub idle: usize,
    /// The most it opens.
    pub max: u32,
}

/// Counts over the whole network at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VitalSigns {
    /// Open documents by kind (documents still waiting for a decision or
    /// still holding stock).
    pub open_documents: Vec<(&'static str, i64)>,
    /// Stock lines with units whose lot has expired.
    pub lines_expired: i64,
    /// Stock lines with units whose lot is within its item's near-expiry
    /// window.
    pub lines_near_expiry: i64,
}

/// Each kind of document and the SQL counting the open ones.
const OPEN_DOCUMENTS: [(&str, &str); 6] = [
    (
        "adjustment",
        "SELECT COUNT(*) FROM adjustments WHERE status = 1",
    ),
    (
        "scrap_application",
        "SELECT COUNT(*) FROM scrap_applications WHERE status = 1",
    ),
    (
        "stock_count",
        "SELECT COUNT(*) FROM stock_counts WHERE status IN (1, 2)",
    ),
    (
        "allocation_order",
        "SELECT COUNT(*) FROM allocation_orders WHERE state IN (1, 2, 3, 4, 5)",
    ),
    ("lease", "SELECT COUNT(*) FROM leases WHERE state = 1"),
    ("repair", "SELECT COUNT(*) FROM repairs WHERE status = 1"),
];

impl Store {
    /// How many connections each pool has open and idle now.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let of = |pool, p: &sqlx::AnyPool| PoolUse {
            pool,
            size: p.size(),
            idle: p.num_idle(),
            max: p.options().get_max_connections(),
        };
        match self.backend() {
            Backend::Sqlite => vec![of("read", self.reader()), of("write", self.writer())],
            Backend::Postgres => vec![of("shared", self.reader())],
        }
    }

    /// Open documents by kind and expiring stock lines, as of `today`.
    pub async fn vital_signs(&self, today: Day) -> Result<VitalSigns, StoreError> {
        let mut out = VitalSigns::default();
        for (kind, sql) in OPEN_DOCUMENTS {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(self.reader()).await?;
            out.open_documents.push((kind, n));
        }
        let (expired, near): (i64, i64) = sqlx::query_as(
            "SELECT \
               CAST(COALESCE(SUM(CASE WHEN t.expiry_day <= $1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
               CAST(COALESCE(SUM(CASE WHEN t.expiry_day > $1 AND t.expiry_day - $1 <= i.near_expiry_days \
                    THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM stock_lines l JOIN lots t ON t.id = l.lot_id JOIN items i ON i.id = l.item_id \
             WHERE l.on_hand > 0 AND t.expiry_day IS NOT NULL",
        )
        .bind(today.0)
        .fetch_one(self.reader())
        .await?;
        out.lines_expired = expired;
        out.lines_near_expiry = near;
        Ok(out)
    }
}
