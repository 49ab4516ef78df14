//! What open repairs claim: each holds its one asset, under repair, in the
//! line of its lot at its depot; a finished repair holds nothing.

use super::{Claims, Expected, Named};
use crate::error::StoreError;
use crate::maintenance::repairs::{repair_from, select_repairs};
use reserve_core::stock::entry::AssetStatus;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// Adds the claims of every open repair in the subtree `like` and what
/// each holds per (depot, lot) to `holds`. Returns how many it read.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    like: &str,
    claims: &mut Claims,
    holds: &mut BTreeMap<(String, String), i64>,
) -> Result<usize, StoreError> {
    let open = sqlx::query(&format!(
        "{} JOIN depots d ON d.code = r.depot_code WHERE r.status = 1 AND d.path LIKE $1",
        select_repairs()
    ))
    .bind(like)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(repair_from)
    .collect::<Result<Vec<_>, _>>()?;
    for r in &open {
        let name = r.doc_ref().name();
        claims.shares.insert(
            (name.clone(), r.depot.to_string(), r.lot.0.clone()),
            Expected {
                item: r.item.to_string(),
                lot_number: r.lot_number.as_str().to_string(),
                doc_held: 1,
                ..Expected::default()
            },
        );
        claims.assets.insert(
            (r.item.to_string(), r.serial.to_string()),
            Named {
                holder: name,
                status: AssetStatus::UnderRepair,
                depot: r.depot.to_string(),
                lot_id: r.lot.0.clone(),
                lot_number: r.lot_number.as_str().to_string(),
            },
        );
        *holds
            .entry((r.depot.to_string(), r.lot.0.clone()))
            .or_default() += 1;
    }
    Ok(open.len())
}
