//! The integrity check: every stored balance recomputed from the ledger,
//! every serialised line recounted from its assets, and every document's
//! share proved: what open documents hold is exactly what the lines say
//! documents hold, each document's entries hold exactly its quantity while
//! it is open and nothing once decided, and each held asset is held by the
//! open document that names it. Allocation orders are proved the same way:
//! each line's reserved is what open orders reserve there, each order's
//! entries reserve, send and bring in exactly what its shares say, and its
//! units in transit are what its entries say left minus what arrived and
//! its recorded discrepancies ([`orders`]). Each open repair holds its one
//! asset, under repair ([`repairs`]). Everything is read in one
//! snapshot, so writes running meanwhile never show as differences.

mod leases;
mod orders;
mod repairs;

use super::scrap::{scrap_from, select_all};
use crate::db::Store;
use crate::error::StoreError;
use reserve_core::depot::DepotPath;
use reserve_core::item::Tracking;
use reserve_core::stock::entry::AssetStatus;
use reserve_core::stock::scrap::ScrapApplication;
use sqlx::FromRow;
use std::collections::BTreeMap;

/// Which figure disagrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrityFigure {
    /// A line's on hand against its entries.
    OnHand,
    /// A line's reserved against its entries.
    Reserved,
    /// A line's held against its entries.
    Held,
    /// A line's held by documents against its entries.
    HeldByDocuments,
    /// A line's held by documents against what its open documents hold.
    OpenDocumentHolds,
    /// A document's entries against what it should hold now.
    DocumentShare,
    /// A serial line's on hand against its assets in the depot.
    AssetsOnHand,
    /// A serial line's held against its held assets.
    AssetsHeld,
    /// An asset's status or holder against the documents naming it.
    AssetHolder,
    /// A balance that breaks its rules.
    BalanceRules,
    /// A line's reserved against what open allocation orders reserve there.
    OrderReservations,
    /// A serial line's reserved against its reserved assets.
    AssetsReserved,
    /// An order's units in transit against its entries and discrepancies.
    OrderInTransit,
    /// A line's on lease against its entries.
    OnLease,
    /// A serial line's on lease against its assets on lease.
    AssetsOnLease,
    /// A line's on lease against what open leases have out there.
    OpenLeases,
}

/// A stored figure that disagrees with what it is derived from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrityIssue {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Lot number.
    pub lot_number: String,
    /// Which figure.
    pub figure: IntegrityFigure,
    /// The document or asset concerned, for document and asset figures.
    pub subject: Option<String>,
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
    /// Open documents checked.
    pub documents_checked: i64,
    /// Differences; empty when all agree.
    pub issues: Vec<IntegrityIssue>,
}

#[derive(FromRow)]
struct LineRow {
    depot_code: String,
    item_id: String,
    lot_id: String,
    lot_number: String,
    on_hand: i64,
    reserved: i64,
    held: i64,
    doc_held: i64,
    on_lease: i64,
    sum_quantity: i64,
    sum_held: i64,
    sum_reserved: i64,
    sum_doc_held: i64,
    sum_on_lease: i64,
    entries: i64,
    assets_on_hand: i64,
    assets_held: i64,
    assets_reserved: i64,
    assets_on_lease: i64,
    tracking: i64,
}

#[derive(FromRow)]
struct ShareRow {
    owner: String,
    depot_code: String,
    item_id: String,
    lot_id: String,
    lot_number: String,
    held: i64,
    reserved: i64,
    quantity: i64,
    free_held: i64,
    on_lease: i64,
}

/// What one document's entries at one depot and lot must add up to; `None`
/// where the document makes no claim.
#[derive(Clone, Debug, Default)]
pub(super) struct Expected {
    pub item: String,
    pub lot_number: String,
    pub doc_held: i64,
    pub reserved: i64,
    pub on_hand: Option<i64>,
    pub held: Option<i64>,
    pub on_lease: i64,
}

/// Where an asset a document names must be.
#[derive(Clone, Debug)]
pub(super) struct Named {
    pub holder: String,
    pub status: AssetStatus,
    pub depot: String,
    pub lot_id: String,
    pub lot_number: String,
}

/// Every claim documents in the subtree make: their entries' sums per
/// (owner, depot, lot), the assets they name, and what open orders reserve
/// per (depot, lot).
#[derive(Default)]
pub(super) struct Claims {
    pub shares: BTreeMap<(String, String, String), Expected>,
    pub assets: BTreeMap<(String, String), Named>,
    pub reserved: BTreeMap<(String, String), i64>,
    pub on_lease: BTreeMap<(String, String), i64>,
}

#[derive(FromRow)]
struct HeldAssetRow {
    item_id: String,
    serial_number: String,
    depot_code: String,
    lot_id: String,
    lot_number: String,
    status: i64,
    holder: Option<String>,
}

impl Store {
    /// Recomputes every balance in `subtree` from the ledger and the assets,
    /// and checks every document's share.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check_integrity(
        &self,
        subtree: &DepotPath,
    ) -> Result<IntegrityReport, StoreError> {
        let like = format!("{}%", subtree.as_str());
        let mut report = IntegrityReport::default();
        let mut snapshot = self.begin_snapshot().await?;
        let conn = &mut *snapshot;
        let rows: Vec<LineRow> = sqlx::query_as(
            "SELECT l.depot_code, l.item_id, l.lot_id, t.lot_number, l.on_hand, l.reserved, l.held, l.doc_held, l.on_lease, \
             CAST(COALESCE(e.q, 0) AS BIGINT) AS sum_quantity, CAST(COALESCE(e.h, 0) AS BIGINT) AS sum_held, \
             CAST(COALESCE(e.r, 0) AS BIGINT) AS sum_reserved, CAST(COALESCE(e.dh, 0) AS BIGINT) AS sum_doc_held, \
             CAST(COALESCE(e.ol, 0) AS BIGINT) AS sum_on_lease, CAST(COALESCE(e.n, 0) AS BIGINT) AS entries, \
             CAST(COALESCE(a.n, 0) AS BIGINT) AS assets_on_hand, CAST(COALESCE(a.h, 0) AS BIGINT) AS assets_held, \
             CAST(COALESCE(a.r, 0) AS BIGINT) AS assets_reserved, \
             CAST(COALESCE(a.ol, 0) AS BIGINT) AS assets_on_lease, i.tracking \
             FROM stock_lines l JOIN depots d ON d.code = l.depot_code JOIN items i ON i.id = l.item_id \
             JOIN lots t ON t.id = l.lot_id \
             LEFT JOIN (SELECT depot_code, lot_id, SUM(quantity) AS q, SUM(held_delta) AS h, \
                        SUM(reserved_delta) AS r, SUM(doc_held_delta) AS dh, SUM(on_lease_delta) AS ol, COUNT(*) AS n \
                        FROM ledger_entries GROUP BY depot_code, lot_id) e \
               ON e.depot_code = l.depot_code AND e.lot_id = l.lot_id \
             LEFT JOIN (SELECT depot_code, lot_id, SUM(CASE WHEN status IN (1, 2, 8, 9) THEN 1 ELSE 0 END) AS n, \
                        SUM(CASE WHEN status IN (2, 9) THEN 1 ELSE 0 END) AS h, \
                        SUM(CASE WHEN status = 8 THEN 1 ELSE 0 END) AS r, \
                        SUM(CASE WHEN status = 10 THEN 1 ELSE 0 END) AS ol FROM assets GROUP BY depot_code, lot_id) a \
               ON a.depot_code = l.depot_code AND a.lot_id = l.lot_id \
             WHERE d.path LIKE $1 ORDER BY l.depot_code, l.lot_id",
        )
        .bind(&like)
        .fetch_all(&mut *conn)
        .await?;
        let open = sqlx::query(&format!(
            "{} JOIN depots d ON d.code = s.depot_code WHERE s.status = 1 AND d.path LIKE $1",
            select_all()
        ))
        .bind(&like)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(scrap_from)
        .collect::<Result<Vec<ScrapApplication>, _>>()?;
        let mut claims = Claims::default();
        for a in &open {
            claims.shares.insert(
                (a.doc_ref().name(), a.depot.to_string(), a.lot.0.clone()),
                Expected {
                    item: a.item.to_string(),
                    lot_number: a.lot_number.as_str().to_string(),
                    doc_held: a.quantity,
                    ..Expected::default()
                },
            );
            for s in &a.serials {
                claims.assets.insert(
                    (a.item.to_string(), s.to_string()),
                    Named {
                        holder: a.doc_ref().name(),
                        status: AssetStatus::Held,
                        depot: a.depot.to_string(),
                        lot_id: a.lot.0.clone(),
                        lot_number: a.lot_number.as_str().to_string(),
                    },
                );
            }
        }
        let orders = orders::claim(conn, &like, &mut claims, &mut report).await?;
        let leases = leases::claim(conn, &like, &mut claims).await?;

        // What open documents hold, per (depot, lot).
        let mut holds: BTreeMap<(String, String), i64> = BTreeMap::new();
        let repairs = repairs::claim(conn, &like, &mut claims, &mut holds).await?;
        report.documents_checked = (open.len() + orders + leases + repairs) as i64;
        for a in &open {
            *holds
                .entry((a.depot.to_string(), a.lot.0.clone()))
                .or_default() += a.quantity;
        }
        for r in rows {
            report.lines_checked += 1;
            report.entries_checked += r.entries;
            let mut issue = |figure: IntegrityFigure, stored: i64, recomputed: i64| {
                if stored != recomputed {
                    report.issues.push(IntegrityIssue {
                        depot: r.depot_code.clone(),
                        item: r.item_id.clone(),
                        lot_number: r.lot_number.clone(),
                        figure,
                        subject: None,
                        stored,
                        recomputed,
                    });
                }
            };
            issue(IntegrityFigure::OnHand, r.on_hand, r.sum_quantity);
            issue(IntegrityFigure::Held, r.held, r.sum_held);
            issue(IntegrityFigure::Reserved, r.reserved, r.sum_reserved);
            issue(IntegrityFigure::HeldByDocuments, r.doc_held, r.sum_doc_held);
            issue(IntegrityFigure::OnLease, r.on_lease, r.sum_on_lease);
            let by_documents = holds
                .get(&(r.depot_code.clone(), r.lot_id.clone()))
                .copied()
                .unwrap_or(0);
            issue(IntegrityFigure::OpenDocumentHolds, r.doc_held, by_documents);
            let by_orders = claims
                .reserved
                .get(&(r.depot_code.clone(), r.lot_id.clone()))
                .copied()
                .unwrap_or(0);
            issue(IntegrityFigure::OrderReservations, r.reserved, by_orders);
            let by_leases = claims
                .on_lease
                .get(&(r.depot_code.clone(), r.lot_id.clone()))
                .copied()
                .unwrap_or(0);
            issue(IntegrityFigure::OpenLeases, r.on_lease, by_leases);
            if r.tracking == Tracking::Serial.number() {
                issue(IntegrityFigure::AssetsOnHand, r.on_hand, r.assets_on_hand);
                issue(IntegrityFigure::AssetsHeld, r.held, r.assets_held);
                issue(
                    IntegrityFigure::AssetsReserved,
                    r.reserved,
                    r.assets_reserved,
                );
                issue(
                    IntegrityFigure::AssetsOnLease,
                    r.on_lease,
                    r.assets_on_lease,
                );
            }
            let sound = r.on_hand >= 0
                && r.reserved >= 0
                && r.held >= 0
                && r.doc_held >= 0
                && r.doc_held <= r.held
                && r.on_lease >= 0
                && r.reserved + r.held <= r.on_hand;
            issue(IntegrityFigure::BalanceRules, 1, i64::from(sound));
        }
        check_shares(conn, &like, claims.shares, &mut report).await?;
        check_assets(conn, &like, claims.assets, &mut report).await?;
        snapshot.rollback().await?;
        Ok(report)
    }
}

/// Each document's entries add up to what it claims, per line; a document
/// making no claim on a line (a decided scrap application) holds nothing.
async fn check_shares(
    conn: &mut sqlx::AnyConnection,
    like: &str,
    mut expected: BTreeMap<(String, String, String), Expected>,
    report: &mut IntegrityReport,
) -> Result<(), StoreError> {
    let shares: Vec<ShareRow> = sqlx::query_as(
        "SELECT e.owner, e.depot_code, e.item_id, e.lot_id, t.lot_number, \
         CAST(SUM(e.doc_held_delta) AS BIGINT) AS held, CAST(SUM(e.reserved_delta) AS BIGINT) AS reserved, \
         CAST(SUM(e.quantity) AS BIGINT) AS quantity, CAST(SUM(e.held_delta) AS BIGINT) AS free_held, \
         CAST(SUM(e.on_lease_delta) AS BIGINT) AS on_lease \
         FROM ledger_entries e JOIN depots d ON d.code = e.depot_code JOIN lots t ON t.id = e.lot_id \
         WHERE e.owner IS NOT NULL AND d.path LIKE $1 \
         GROUP BY e.owner, e.depot_code, e.item_id, e.lot_id, t.lot_number",
    )
    .bind(like)
    .fetch_all(&mut *conn)
    .await?;
    let mut differ = |owner: &str, depot: &str, item: &str, lot: &str, stored: i64, want: i64| {
        if stored != want {
            report.issues.push(IntegrityIssue {
                depot: depot.to_string(),
                item: item.to_string(),
                lot_number: lot.to_string(),
                figure: IntegrityFigure::DocumentShare,
                subject: Some(owner.to_string()),
                stored,
                recomputed: want,
            });
        }
    };
    for s in &shares {
        let key = (s.owner.clone(), s.depot_code.clone(), s.lot_id.clone());
        let want = expected.remove(&key).unwrap_or_default();
        let (o, d, i, l) = (&s.owner, &s.depot_code, &s.item_id, &s.lot_number);
        differ(o, d, i, l, s.held, want.doc_held);
        differ(o, d, i, l, s.reserved, want.reserved);
        differ(o, d, i, l, s.on_lease, want.on_lease);
        if let Some(q) = want.on_hand {
            differ(o, d, i, l, s.quantity, q);
        }
        if let Some(h) = want.held {
            differ(o, d, i, l, s.free_held, h);
        }
    }
    // A document with no entries on a line it claims units of.
    for ((owner, depot, _), e) in expected {
        let claims = [
            e.doc_held,
            e.reserved,
            e.on_hand.unwrap_or(0),
            e.held.unwrap_or(0),
            e.on_lease,
        ];
        if let Some(q) = claims.into_iter().find(|q| *q != 0) {
            differ(&owner, &depot, &e.item, &e.lot_number, 0, q);
        }
    }
    Ok(())
}

/// Every asset a document holds, or held by no document, or reserved or in
/// transit, is where the documents naming it say; every asset a document
/// names is there.
async fn check_assets(
    conn: &mut sqlx::AnyConnection,
    like: &str,
    mut named: BTreeMap<(String, String), Named>,
    report: &mut IntegrityReport,
) -> Result<(), StoreError> {
    let held: Vec<HeldAssetRow> = sqlx::query_as(
        "SELECT a.item_id, a.serial_number, a.depot_code, a.lot_id, t.lot_number, a.status, a.holder \
         FROM assets a JOIN depots d ON d.code = a.depot_code JOIN lots t ON t.id = a.lot_id \
         WHERE d.path LIKE $1 AND (a.holder IS NOT NULL OR a.status IN (2, 7, 8, 9, 10))",
    )
    .bind(like)
    .fetch_all(&mut *conn)
    .await?;
    for h in &held {
        let key = (h.item_id.clone(), h.serial_number.clone());
        let namer = named.remove(&key);
        let right = match (&h.holder, &namer) {
            (None, None) => h.status == AssetStatus::Held.number(),
            (Some(holder), Some(n)) => {
                *holder == n.holder
                    && h.status == n.status.number()
                    && h.depot_code == n.depot
                    && h.lot_id == n.lot_id
            }
            _ => false,
        };
        if !right {
            report.issues.push(IntegrityIssue {
                depot: h.depot_code.clone(),
                item: h.item_id.clone(),
                lot_number: h.lot_number.clone(),
                figure: IntegrityFigure::AssetHolder,
                subject: Some(format!("assets/{}", h.serial_number)),
                stored: h.status,
                recomputed: namer
                    .map(|n| n.status.number())
                    .unwrap_or(AssetStatus::Held.number()),
            });
        }
    }
    for ((item, serial), n) in named {
        report.issues.push(IntegrityIssue {
            depot: n.depot,
            item,
            lot_number: n.lot_number,
            figure: IntegrityFigure::AssetHolder,
            subject: Some(format!("assets/{serial}")),
            stored: 0,
            recomputed: n.status.number(),
        });
    }
    Ok(())
}
