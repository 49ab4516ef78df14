//! What allocation orders claim: their entries' sums per depot and lot, the
//! serials they reserve or carry, and what they reserve per line; and, order
//! by order, that the units in transit are what the ledger says left minus
//! what arrived and the recorded discrepancies.

use super::{Claims, Expected, IntegrityFigure, IntegrityIssue, IntegrityReport, Named};
use crate::allocation::rows::{OrderRow, orders_from};
use crate::error::StoreError;
use reserve_core::allocation::{Destination, Kind};
use reserve_core::stock::EntryType;
use reserve_core::stock::entry::AssetStatus;
use sqlx::AnyConnection;
use std::collections::{BTreeMap, BTreeSet};

/// Adds the claims of every order touching the subtree `like`; checks each
/// order's transit against its entries. Returns how many orders it read.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    like: &str,
    claims: &mut Claims,
    report: &mut IntegrityReport,
) -> Result<usize, StoreError> {
    let depots: BTreeSet<String> =
        sqlx::query_as::<_, (String,)>("SELECT code FROM depots WHERE path LIKE $1")
            .bind(like)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(c,)| c)
            .collect();
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "SELECT {} FROM allocation_orders o WHERE EXISTS (SELECT 1 FROM allocation_order_depots od \
         JOIN depots d ON d.code = od.depot_code WHERE od.order_id = o.id AND d.path LIKE $1)",
        crate::allocation::rows::ORDER_COLUMNS
    ))
    .bind(like)
    .fetch_all(&mut *conn)
    .await?;
    let orders = orders_from(conn, rows).await?;
    // Every order's transfer entries, wherever they are: transit is a
    // figure of the whole order.
    let moved: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT owner, entry_type, CAST(SUM(quantity) AS BIGINT) FROM ledger_entries \
         WHERE owner LIKE 'allocationOrders/%' AND entry_type IN ($1, $2) GROUP BY owner, entry_type",
    )
    .bind(EntryType::TransferOut.number())
    .bind(EntryType::TransferIn.number())
    .fetch_all(&mut *conn)
    .await?;
    let mut ledger: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (owner, kind, q) in moved {
        let e = ledger.entry(owner).or_default();
        if kind == EntryType::TransferOut.number() {
            e.0 -= q;
        } else {
            e.1 += q;
        }
    }
    for o in &orders {
        let owner = o.doc_ref().name();
        let to_depot = match &o.destination {
            Destination::Depot(d) if o.kind != Kind::IncidentSite => Some(d.to_string()),
            _ => None,
        };
        let mut gone: i64 = 0;
        for s in &o.shares {
            let item = s.item.to_string();
            let lot = s.lot_number.as_str().to_string();
            let mut add = |depot: &str, f: &dyn Fn(&mut Expected)| {
                if depots.contains(depot) {
                    let e = claims
                        .shares
                        .entry((owner.clone(), depot.to_string(), s.lot.0.clone()))
                        .or_insert_with(|| Expected {
                            item: item.clone(),
                            lot_number: lot.clone(),
                            on_hand: Some(0),
                            held: Some(0),
                            ..Expected::default()
                        });
                    f(e);
                }
            };
            add(s.source.as_str(), &|e| {
                e.reserved += s.reserved;
                e.on_hand = Some(e.on_hand.unwrap_or(0) - s.dispatched);
            });
            match &to_depot {
                Some(d) => {
                    add(d, &|e| {
                        e.on_hand = Some(e.on_hand.unwrap_or(0) + s.received + s.damaged);
                        e.held = Some(e.held.unwrap_or(0) + s.damaged);
                    });
                    gone += s.rejected + s.short;
                }
                None => gone += s.received + s.damaged + s.rejected + s.short,
            }
            if s.reserved > 0 {
                *claims
                    .reserved
                    .entry((s.source.to_string(), s.lot.0.clone()))
                    .or_default() += s.reserved;
            }
            if depots.contains(s.source.as_str()) {
                let (status, serials) = if s.reserved > 0 {
                    (AssetStatus::Reserved, s.serials.clone())
                } else {
                    (AssetStatus::InTransit, s.serials_in_transit())
                };
                for serial in serials {
                    claims.assets.insert(
                        (item.clone(), serial.to_string()),
                        Named {
                            holder: owner.clone(),
                            status,
                            depot: s.source.to_string(),
                            lot_id: s.lot.0.clone(),
                            lot_number: lot.clone(),
                        },
                    );
                }
            }
        }
        let (out, inn) = ledger.get(&owner).copied().unwrap_or((0, 0));
        let transit: i64 = o.shares.iter().map(|s| s.in_transit()).sum();
        let recomputed = out - inn - gone;
        if transit != recomputed {
            report.issues.push(IntegrityIssue {
                depot: o.answering_depot().to_string(),
                item: String::new(),
                lot_number: String::new(),
                figure: IntegrityFigure::OrderInTransit,
                subject: Some(owner),
                stored: transit,
                recomputed,
            });
        }
    }
    Ok(orders.len())
}
