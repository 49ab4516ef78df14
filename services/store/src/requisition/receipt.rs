//! Requisitioned goods received into a depot: the lot belongs to one line
//! of one requisition (funding source "requisition"), so units used from
//! it trace back to the claim; a line never takes in more than was taken.

use super::rows::{load_requisition, lot_link};
use crate::error::OpError;
use crate::stock::post::Posted;
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
    Ok(Some(q.number))
}
