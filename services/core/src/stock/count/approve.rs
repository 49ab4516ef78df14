//! Approving a submitted count: per line, counted minus on hand at
//! recording posted as an adjustment on the balance as it is now.

use super::{CountStatus, StockCount};
use crate::depot::{Depot, DepotStatus};
use crate::stock::balance::{Breach, Delta};
use crate::stock::document::{Acting, DocPlan};
use crate::stock::entry::{AssetPlace, AssetStatus, EntryDraft, EntryType};
use crate::stock::error::StockError;
use crate::stock::lot::SerialNumber;
use crate::stock::pick::{AssetState, LineState};

pub(super) fn approve(
    count: &StockCount,
    note: &str,
    depot: &Depot,
    lines: &[LineState],
    assets: &[AssetState],
    acting: Acting<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<StockCount>, StockError> {
    let who = acting.who;
    if count.submitted_by.as_deref() == Some(who) || count.recorded_by.iter().any(|r| r == who) {
        return Err(StockError::SamePerson {
            action: "a stock count",
            who: who.to_string(),
            what: "count (a second person who recorded none of its figures approves)",
        });
    }
    let me = count.doc_ref();
    let author = count
        .submitted_by
        .clone()
        .unwrap_or_else(|| count.opened_by.clone());
    let mut next = count.clone();
    let mut entries = Vec::new();
    for line in next.lines.iter_mut() {
        let Some(state) = lines.iter().find(|l| l.lot.id == line.lot) else {
            return Err(StockError::DocumentUnitsMissing {
                document: me.name(),
                lot: line.lot_number.as_str().to_string(),
            });
        };
        let balance = state.balance;
        let mut posts: Vec<(Delta, Vec<SerialNumber>)> = Vec::new();
        if line.serial {
            // Missing at recording and still here, held by no document: the
            // ones that left since were posted by their own movement.
            let missing = line.missing();
            let still = |place: AssetPlace| -> Vec<SerialNumber> {
                missing
                    .iter()
                    .filter(|s| {
                        assets
                            .iter()
                            .any(|a| &a.serial == *s && a.is_at(&count.depot, &place))
                    })
                    .cloned()
                    .collect()
            };
            let in_stock = still(AssetPlace::free(AssetStatus::InStock));
            let held = still(AssetPlace::free(AssetStatus::Held));
            // Found at recording and still off the books: the ones that came
            // back since were posted by their own movement.
            let found: Vec<SerialNumber> = line
                .found()
                .into_iter()
                .filter(|s| {
                    assets
                        .iter()
                        .any(|a| &a.serial == s && a.may_enter(&count.depot))
                })
                .collect();
            if !in_stock.is_empty() {
                posts.push((Delta::on_hand(-(in_stock.len() as i64)), in_stock));
            }
            if !held.is_empty() {
                let n = held.len() as i64;
                posts.push((
                    Delta {
                        on_hand: -n,
                        held: -n,
                        ..Delta::default()
                    },
                    held,
                ));
            }
            if !found.is_empty() {
                posts.push((Delta::on_hand(found.len() as i64), found));
            }
        } else if let Some(v) = line.variance().filter(|v| *v != 0) {
            if v > 0 && balance.on_lease > 0 {
                return Err(StockError::FoundWhileOnLease {
                    lot: line.lot_number.as_str().to_string(),
                    found: v,
                    on_lease: balance.on_lease,
                });
            }
            // Missing units are free ones first, then ones held by no
            // document (the damaged corner); a document's units are present.
            let delta = if v < 0 {
                balance.write_off(-v)
            } else {
                Delta::on_hand(v)
            };
            posts.push((delta, Vec::new()));
        }
        // Units found come in only while the depot is active.
        if depot.status != DepotStatus::Active && posts.iter().any(|(d, _)| d.on_hand > 0) {
            return Err(StockError::DepotNotActive {
                depot: depot.code.to_string(),
                status: depot.status.name(),
                action: "take in units a count found",
            });
        }
        let mut after = balance;
        for (delta, _) in &posts {
            after = after.check(*delta).map_err(|b| match b {
                Breach::TooLarge => StockError::BalanceLimit(line.lot_number.as_str().to_string()),
                _ => StockError::VarianceConflict {
                    lot: line.lot_number.as_str().to_string(),
                    variance: delta.on_hand,
                    on_hand: balance.on_hand,
                    reserved: balance.reserved,
                    held: balance.held,
                },
            })?;
        }
        line.on_hand_at_approval = Some(balance.on_hand);
        line.posted_variance = Some(after.on_hand - balance.on_hand);
        for (delta, serials) in posts {
            let e = EntryDraft::new(
                new_id(),
                EntryType::Adjustment,
                &count.depot,
                &state.lot,
                delta,
                acting.now,
            )
            .reason(format!(
                "stock count variance: on hand {} at recording, counted {}",
                line.on_hand_at_record.unwrap_or(line.expected),
                line.counted.unwrap_or_default()
            ))
            .owned_by(&me)
            .signed(&author, who)
            .serials(serials);
            line.entry_ids.push(e.id.clone());
            entries.push(e);
        }
    }
    next.status = CountStatus::Approved;
    next.decided_by = Some(who.to_string());
    next.decided_at = Some(acting.now);
    next.decision_note = note.to_string();
    next.version = count.version + 1;
    Ok(DocPlan::new(next, entries))
}
