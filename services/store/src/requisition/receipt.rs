//! Requisitioned goods received into a depot: the lot belongs to one line
//! of one requisition (funding source "requisition"), so units used from
//! it trace back to the claim; a line never takes in more than was taken.

use super::rows::{load_requisition, lock_line, lot_link, units_in_stock};
use crate::error::OpError;
use crate::network::load_scope_and_path;
use crate::stock::post::Posted;
use reserve_core::requisition::RequisitionState;
use reserve_core::stock::receipt::Receipt;
use reserve_core::stock::{FundingSource, StockError};
use sqlx::AnyConnection;

fn mismatch<T>(m: String) -> Result<T, OpError<StockError>> {
    Err(OpError::Rule(StockError::RequisitionMismatch(m)))
}

/// Checks a receipt just posted against its requisition link and records
/// it; returns the requisition number for the audit event.
pub(crate) async fn link(
    tx: &mut AnyConnection,
    r: &Receipt,
    link: Option<&(String, u32)>,
    posted: &Posted,
) -> Result<Option<String>, OpError<StockError>> {
    let Some(entry) = posted.entries.first() else {
        return Ok(None);
    };
    let lot = entry.lot.as_str();
    let linked = lot_link(tx, lot).await?;
    let Some((req, line)) = link else {
        if r.funding == Some(FundingSource::Requisition) {
            return Err(OpError::Rule(StockError::Invalid(
                reserve_core::Violations::one(
                    "requisition_id",
                    "is required when the funding source is REQUISITION: name the requisition and its line",
                ),
            )));
        }
        if let Some((rid, l)) = linked {
            return mismatch(format!(
                "lot {} holds requisitioned goods (requisition {rid} line {l}); receive into it only with that requisition and line",
                r.lot_number.as_str()
            ));
        }
        return Ok(None);
    };
    let Some(q) = load_requisition(tx, req).await? else {
        return Err(OpError::Rule(StockError::Invalid(
            reserve_core::Violations::one(
                "requisition_id",
                format!("requisition {req} does not exist"),
            ),
        )));
    };
    let Some(item) = q.items.iter().find(|i| i.number == *line) else {
        return Err(OpError::Rule(StockError::Invalid(
            reserve_core::Violations::one(
                "requisition_line_number",
                format!("requisition {} has no line {line}", q.number),
            ),
        )));
    };
    // Goods of a requisition are received within the requisitioning tier.
    let (tier, at) = load_scope_and_path(tx, &q.depot, &r.depot).await?;
    let inside = match (tier, at) {
        (Some(t), Some(p)) => p.as_str().starts_with(t.path.as_str()),
        _ => false,
    };
    if !inside {
        return mismatch(format!(
            "requisition {} was made by {}; its goods are received at depots under it, not at {}",
            q.number, q.depot, r.depot
        ));
    }
    if q.state == RequisitionState::Resolved {
        return mismatch(format!(
            "every unit of requisition {} has an outcome; nothing more of it can come into stock",
            q.number
        ));
    }
    match linked {
        Some((rid, l)) if rid == q.id && l == *line => {}
        Some((_, _)) => {
            return mismatch(format!(
                "lot {} belongs to another requisition line; use a lot number of its own",
                r.lot_number.as_str()
            ));
        }
        None => {
            // A lot created by this receipt is new: link it. An older lot
            // without a link is someone else's stock.
            let (count,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM ledger_entries WHERE lot_id = $1")
                    .bind(lot)
                    .fetch_one(&mut *tx)
                    .await?;
            if count != 1 {
                return mismatch(format!(
                    "lot {} already holds goods that are not from requisition {}; use a lot number of its own",
                    r.lot_number.as_str(),
                    q.number
                ));
            }
            sqlx::query(
                "INSERT INTO requisition_lots (lot_id, requisition_id, line_number) VALUES ($1, $2, $3)",
            )
            .bind(lot)
            .bind(&q.id)
            .bind(i64::from(*line))
            .execute(&mut *tx)
            .await?;
        }
    }
    if posted
        .lines
        .first()
        .is_some_and(|l| l.lot.funding != FundingSource::Requisition)
    {
        return mismatch(format!(
            "lot {} is not funded by requisition; use a lot number of its own",
            r.lot_number.as_str()
        ));
    }
    let n = entry.delta.on_hand;
    let moved = sqlx::query(
        "UPDATE requisition_items SET received = received + $1 \
         WHERE requisition_id = $2 AND line_number = $3 AND received + $1 <= quantity",
    )
    .bind(n)
    .bind(&q.id)
    .bind(i64::from(*line))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        return mismatch(format!(
            "requisition {} line {} took {} {} and fewer than {n} of them are left to receive",
            q.number, line, item.quantity, item.unit
        ));
    }
    check_line(tx, &q.id, &q.number, *line).await?;
    Ok(Some(q.number))
}

/// The rule of a requisition line's stock: never more units in depot stock
/// (or on the road) than have no outcome yet. Run with the line locked,
/// after the change.
pub(crate) async fn check_line(
    tx: &mut AnyConnection,
    id: &str,
    number: &str,
    line: u32,
) -> Result<(), OpError<StockError>> {
    let Some((quantity, resolved)) = lock_line(tx, id, line).await? else {
        return Ok(());
    };
    let in_stock = units_in_stock(tx, id, line).await?;
    if in_stock > quantity - resolved {
        return mismatch(format!(
            "requisition {number} line {line} would have {in_stock} units in depot stock but only {} have no outcome yet",
            quantity - resolved
        ));
    }
    Ok(())
}

/// After a reversal of an entry of a requisitioned lot: a reversed receipt
/// gives back what it counted as received, and the line's rule still holds.
pub(crate) async fn after_reversal(
    tx: &mut AnyConnection,
    lot: &str,
    on_hand_delta: i64,
    reversed_kind_receipt: bool,
) -> Result<(), OpError<StockError>> {
    let Some((id, line)) = lot_link(tx, lot).await? else {
        return Ok(());
    };
    if reversed_kind_receipt && on_hand_delta < 0 {
        let moved = sqlx::query(
            "UPDATE requisition_items SET received = received + $1 \
             WHERE requisition_id = $2 AND line_number = $3 AND received + $1 >= 0",
        )
        .bind(on_hand_delta)
        .bind(&id)
        .bind(i64::from(line))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            return mismatch(format!(
                "the receipt reversed is more than requisition line {line} counts as received"
            ));
        }
    }
    let number: Option<(String,)> = sqlx::query_as("SELECT number FROM requisitions WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
    let number = number.map(|(n,)| n).unwrap_or_default();
    check_line(tx, &id, &number, line).await
}
