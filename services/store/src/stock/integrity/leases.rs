//! What leases claim: per lease, depot and lot, their entries took out what
//! went out and brought back what came back (damaged units into a free
//! hold); per line, on lease is what open leases have out; every serial out
//! is on lease, held by the lease that has it.

use super::{Claims, Expected, Named};
use crate::error::StoreError;
use crate::lease::rows::lease_from;
use reserve_core::stock::entry::AssetStatus;
use sqlx::AnyConnection;

/// Adds every lease in the subtree to `claims`; returns how many.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    like: &str,
    claims: &mut Claims,
) -> Result<usize, StoreError> {
    let bodies: Vec<(String,)> = sqlx::query_as(
        "SELECT s.body FROM leases s JOIN depots d ON d.code = s.depot_code WHERE d.path LIKE $1",
    )
    .bind(like)
    .fetch_all(&mut *conn)
    .await?;
    for (b,) in &bodies {
        let l = lease_from(b)?;
        let owner = l.doc_ref().name();
        for s in &l.shares {
            let out = s.outstanding();
            let e = claims
                .shares
                .entry((owner.clone(), l.depot.to_string(), s.lot.0.clone()))
                .or_insert_with(|| Expected {
                    item: s.item.to_string(),
                    lot_number: s.lot_number.as_str().to_string(),
                    on_hand: Some(0),
                    held: Some(0),
                    ..Expected::default()
                });
            e.on_lease += out;
            e.on_hand = Some(e.on_hand.unwrap_or(0) - out);
            e.held = Some(e.held.unwrap_or(0) + s.damaged);
            *claims
                .on_lease
                .entry((l.depot.to_string(), s.lot.0.clone()))
                .or_default() += out;
            for serial in s.serials_out() {
                claims.assets.insert(
                    (s.item.to_string(), serial.to_string()),
                    Named {
                        holder: owner.clone(),
                        status: AssetStatus::OnLease,
                        depot: l.depot.to_string(),
                        lot_id: s.lot.0.clone(),
                        lot_number: s.lot_number.as_str().to_string(),
                    },
                );
            }
        }
    }
    Ok(bodies.len())
}
