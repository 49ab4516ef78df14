//! The integrity check: every balance recomputed from the ledger, and what
//! each open document holds.

use super::Ctx;
use crate::commands::choices::name;
use crate::output::{json, print_table, table};
use anyhow::bail;
use reserve_api::pb::reserve::v1 as pb;

/// Runs the check; any difference makes the command fail, in either format.
pub async fn check(x: &mut Ctx, depot: Option<String>) -> anyhow::Result<()> {
    let r =
        x.c.check_ledger_integrity(pb::CheckLedgerIntegrityRequest {
            depot_code: depot.unwrap_or_default(),
        })
        .await?
        .into_inner();
    if x.json() {
        json("reserve.v1.CheckLedgerIntegrityResponse", &r)?;
    } else {
        println!(
            "checked {} stock lines against {} ledger entries and {} open documents",
            r.lines_checked, r.entries_checked, r.documents_checked
        );
        if r.issues.is_empty() {
            println!("every balance matches the ledger");
        } else {
            let mut t = table(&[
                "depot",
                "item",
                "lot",
                "figure",
                "subject",
                "stored",
                "recomputed",
            ]);
            for i in &r.issues {
                t.add_row(vec![
                    i.depot_code.clone(),
                    i.item_id.clone(),
                    i.lot_number.clone(),
                    name::<pb::IntegrityFigure>(i.figure),
                    i.subject.clone(),
                    i.stored.to_string(),
                    i.recomputed.to_string(),
                ]);
            }
            print_table(&t);
        }
    }
    if !r.issues.is_empty() {
        bail!(
            "{} difference(s) between balances, documents and the ledger",
            r.issues.len()
        );
    }
    Ok(())
}
