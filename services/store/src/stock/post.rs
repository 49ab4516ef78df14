//! The one place plans are written: every entry's guarded balance change,
//! its ledger row and its asset move, in the caller's transaction. Nothing
//! here decides anything; the plan came from core.

use super::rows::{LineView, apply_delta, ensure_line, enter_assets, insert_entry, move_assets};
use crate::error::StoreError;
use crate::write::WriteMeta;
use reserve_core::stock::{EntryDraft, LedgerEntry};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

/// Entries posted by one call and the lines they left behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    /// The entries, in posting order.
    pub entries: Vec<LedgerEntry>,
    /// The lines after posting, one per entry.
    pub lines: Vec<LineView>,
}

/// Posts `drafts` in order for the request in `meta`. `near_expiry_days` is
/// the window of the item the lines are shown with.
pub(crate) async fn post(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    drafts: Vec<EntryDraft>,
    near_expiry_days: i32,
) -> Result<Posted, StoreError> {
    let mut posted = Posted {
        entries: Vec::with_capacity(drafts.len()),
        lines: Vec::with_capacity(drafts.len()),
    };
    for d in drafts {
        let (depot, item, lot) = (d.depot.as_str(), d.lot.item.as_str(), d.lot.id.as_str());
        if d.delta.on_hand > 0 {
            ensure_line(tx, depot, item, lot, d.line_owner, meta.now).await?;
        }
        let (balance, owning_tier, at) = apply_delta(tx, depot, lot, d.delta, meta.now).await?;
        let mut e = LedgerEntry {
            id: d.id,
            seq: 0,
            kind: d.kind,
            depot: d.depot.clone(),
            item: d.lot.item.clone(),
            lot: d.lot.id.clone(),
            lot_number: d.lot.number.clone(),
            delta: d.delta,
            reason: d.reason,
            document: d.document,
            owner: d.owner,
            counterparty: d.counterparty,
            occurred_at: d.occurred_at,
            recorded_at: meta.now,
            actor: d.actor.unwrap_or_else(|| meta.actor.subject.clone()),
            countersigned_by: d.countersigned_by,
            reverses: d.reverses,
            serials: d.serials,
            request_id: meta.request_id.as_str().to_string(),
            incident: d.incident,
        };
        e.seq = insert_entry(tx, &e).await?;
        if let Some(m) = &d.assets {
            match &m.from {
                None => enter_assets(tx, item, lot, depot, &e.serials, &m.to, meta.now).await?,
                Some(from) => match &m.from_depot {
                    Some(at) => {
                        let at = at.as_str();
                        move_assets(tx, item, at, &e.serials, from, &m.to, Some(depot), meta.now)
                            .await?
                    }
                    None => {
                        move_assets(tx, item, depot, &e.serials, from, &m.to, None, meta.now)
                            .await?
                    }
                },
            }
        }
        posted.lines.push(LineView {
            depot: d.depot,
            lot: d.lot,
            balance,
            owning_tier,
            near_expiry_days,
            updated_at: at,
        });
        posted.entries.push(e);
    }
    Ok(posted)
}
