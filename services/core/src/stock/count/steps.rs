//! Opening, recording and submitting a count: the steps that post nothing.

use super::{AtRecord, CountLine, CountStatus, Counted, NewCount, SnapshotLine, StockCount};
use crate::item::Tracking;
use crate::stock::document::Acting;
use crate::stock::error::StockError;
use crate::stock::lot::SerialNumber;
use crate::stock::pick::AssetState;
use crate::violation::Violations;
use std::collections::BTreeSet;

pub(super) fn open(
    n: &NewCount,
    snapshot: &[SnapshotLine],
    id: &str,
    acting: Acting<'_>,
) -> StockCount {
    StockCount {
        id: id.to_string(),
        depot: n.depot.clone(),
        status: CountStatus::Open,
        items: n.items.clone(),
        note: n.note.clone(),
        opened_by: acting.who.to_string(),
        opened_at: acting.now,
        recorded_by: Vec::new(),
        submitted_by: None,
        submitted_at: None,
        decided_by: None,
        decided_at: None,
        decision_note: String::new(),
        version: 1,
        lines: snapshot
            .iter()
            .map(|s| CountLine {
                item: s.item.clone(),
                serial: s.tracking == Tracking::Serial,
                lot: s.lot.clone(),
                lot_number: s.lot_number.clone(),
                expected: s.on_hand,
                expected_serials: s.serials.clone(),
                counted: None,
                counted_serials: Vec::new(),
                on_hand_at_record: None,
                serials_at_record: Vec::new(),
                held_by_documents: Vec::new(),
                recorded_by: None,
                recorded_at: None,
                on_hand_at_approval: None,
                posted_variance: None,
                entry_ids: Vec::new(),
            })
            .collect(),
    }
}

pub(super) fn record(
    count: &StockCount,
    counted: &[Counted],
    at: &[AtRecord],
    acting: Acting<'_>,
) -> Result<StockCount, StockError> {
    let mut next = count.clone();
    for (i, (c, now)) in counted.iter().zip(at).enumerate() {
        if !count.items.is_empty() && !count.items.contains(&c.item) {
            return Err(StockError::Invalid(Violations::one(
                format!("lines[{i}].item_id"),
                format!("{} is not among the items of this count", c.item),
            )));
        }
        match (now.tracking, c.serials.is_empty()) {
            (Tracking::Lot, false) => {
                return Err(StockError::Invalid(Violations::one(
                    format!("lines[{i}].serial_numbers"),
                    format!("must be empty: {} is tracked by lot", c.item),
                )));
            }
            (Tracking::Serial, true) if c.counted > 0 => {
                return Err(StockError::Invalid(Violations::one(
                    format!("lines[{i}].serial_numbers"),
                    format!(
                        "are required: {} is tracked by serial number, list the units seen",
                        c.item
                    ),
                )));
            }
            _ => {}
        }
        let here: Vec<&AssetState> = now
            .assets
            .iter()
            .filter(|a| a.depot == count.depot && a.lot == now.lot.id && a.status.on_hand())
            .collect();
        // A unit seen that is not on hand here is found if the books wrote
        // it off here or voided it; anything else must be received first.
        for s in c
            .serials
            .iter()
            .filter(|s| !here.iter().any(|a| &a.serial == *s))
        {
            if !now
                .assets
                .iter()
                .any(|a| &a.serial == s && a.may_enter(&count.depot))
            {
                return Err(StockError::SerialNotAvailable {
                    serial: s.to_string(),
                    status: "not recorded in this lot here".into(),
                    needed: "on hand (receive it first)",
                    depot: count.depot.to_string(),
                });
            }
            if let Some(other) = next
                .lines
                .iter()
                .find(|l| l.lot != now.lot.id && l.counted_serials.contains(s))
            {
                return Err(StockError::Invalid(Violations::one(
                    format!("lines[{i}].serial_numbers"),
                    format!(
                        "{s} is already counted in lot {} of this count",
                        other.lot_number.as_str()
                    ),
                )));
            }
        }
        let mut free: Vec<SerialNumber> = here
            .iter()
            .filter(|a| a.holder.is_none())
            .map(|a| a.serial.clone())
            .collect();
        let mut doc_held: Vec<SerialNumber> = here
            .iter()
            .filter(|a| a.holder.is_some())
            .map(|a| a.serial.clone())
            .collect();
        free.sort();
        doc_held.sort();
        // Units a document holds are present and held, seen or not.
        let figure = if now.tracking == Tracking::Serial {
            let seen: BTreeSet<&SerialNumber> = c.serials.iter().collect();
            c.serials.len() as i64 + doc_held.iter().filter(|s| !seen.contains(s)).count() as i64
        } else {
            c.counted
        };
        let line = match next.lines.iter().position(|l| l.lot == now.lot.id) {
            Some(p) => &mut next.lines[p],
            None => {
                next.lines.push(CountLine {
                    item: c.item.clone(),
                    serial: now.tracking == Tracking::Serial,
                    lot: now.lot.id.clone(),
                    lot_number: now.lot.number.clone(),
                    expected: 0,
                    expected_serials: Vec::new(),
                    counted: None,
                    counted_serials: Vec::new(),
                    on_hand_at_record: None,
                    serials_at_record: Vec::new(),
                    held_by_documents: Vec::new(),
                    recorded_by: None,
                    recorded_at: None,
                    on_hand_at_approval: None,
                    posted_variance: None,
                    entry_ids: Vec::new(),
                });
                let last = next.lines.len() - 1;
                &mut next.lines[last]
            }
        };
        line.counted = Some(figure);
        line.counted_serials = c.serials.clone();
        line.on_hand_at_record = Some(now.balance.on_hand);
        line.serials_at_record = free;
        line.held_by_documents = doc_held;
        line.recorded_by = Some(acting.who.to_string());
        line.recorded_at = Some(acting.now);
    }
    if !next.recorded_by.iter().any(|w| w == acting.who) {
        next.recorded_by.push(acting.who.to_string());
    }
    next.lines
        .sort_by(|a, b| (&a.item, &a.lot_number).cmp(&(&b.item, &b.lot_number)));
    next.version = count.version + 1;
    Ok(next)
}

pub(super) fn submit(count: &StockCount, acting: Acting<'_>) -> Result<StockCount, StockError> {
    let missing: Vec<String> = count
        .lines
        .iter()
        .filter(|l| l.counted.is_none())
        .map(|l| format!("{}/{}", l.item, l.lot_number.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(StockError::CountIncomplete(missing));
    }
    Ok(StockCount {
        status: CountStatus::Submitted,
        submitted_by: Some(acting.who.to_string()),
        submitted_at: Some(acting.now),
        version: count.version + 1,
        ..count.clone()
    })
}
