//! What a client sends to open a count or record counted lines, and the
//! field rules of both.

use super::super::fields;
use super::super::lot::{LotNumber, SerialNumber};
use crate::depot::DepotCode;
use crate::item::ItemId;
use crate::text;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A count to open as the client asked for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountDraft {
    /// Depot.
    pub depot: String,
    /// Items; empty means all.
    pub items: Vec<String>,
    /// Note.
    pub note: String,
}

/// A count to open that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCount {
    /// Depot.
    pub depot: DepotCode,
    /// Items; empty means all.
    pub items: Vec<ItemId>,
    /// Note.
    pub note: String,
}

impl NewCount {
    /// Checks the field rules of a new count, reporting all broken ones.
    pub fn parse(d: &CountDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("depot_code", DepotCode::parse(d.depot.trim()));
        let mut items = Vec::new();
        if d.items.len() > 1000 {
            v.add("item_ids", "must list at most 1000 items");
        } else {
            for (i, raw) in d.items.iter().enumerate() {
                if let Some(id) = v.take(&format!("item_ids[{i}]"), ItemId::parse(raw.trim()))
                    && !items.contains(&id)
                {
                    items.push(id);
                }
            }
        }
        let note = v.take("note", text::optional(&d.note, 500));
        match (depot, note) {
            (Some(depot), Some(note)) if v.is_empty() => Ok(NewCount { depot, items, note }),
            _ => Err(v),
        }
    }
}

/// A counted line as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountedDraft {
    /// Item.
    pub item: String,
    /// Lot number.
    pub lot_number: String,
    /// Units counted.
    pub counted: i64,
    /// Serial numbers seen.
    pub serials: Vec<String>,
}

/// A counted line that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// Item.
    pub item: ItemId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// Units counted.
    pub counted: i64,
    /// Serial numbers seen.
    pub serials: Vec<SerialNumber>,
}

/// Checks the field rules of counted lines, reporting all broken ones.
pub fn parse_counted(lines: &[CountedDraft]) -> Result<Vec<Counted>, Violations> {
    let mut v = Violations::new();
    if lines.is_empty() {
        v.add("lines", "must hold at least one counted line");
    }
    if lines.len() > 10_000 {
        v.add("lines", "must hold at most 10,000 lines per call");
        return Err(v);
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        let item = v.take(&format!("lines[{i}].item_id"), ItemId::parse(l.item.trim()));
        let lot = v.take(
            &format!("lines[{i}].lot_number"),
            LotNumber::parse(&l.lot_number),
        );
        let serials = fields::serials(&format!("lines[{i}].serial_numbers"), &l.serials, &mut v);
        let counted = if serials.is_empty() {
            fields::counted(&format!("lines[{i}].counted"), l.counted, &mut v)
        } else {
            let n = serials.len() as i64;
            if l.counted != 0 && l.counted != n {
                v.add(
                    format!("lines[{i}].counted"),
                    format!("must be 0 or the number of serial numbers ({n})"),
                );
            }
            n
        };
        if let (Some(item), Some(lot)) = (item, lot) {
            if !seen.insert((item.clone(), lot.clone())) {
                v.add(format!("lines[{i}]"), "counts the same lot twice");
            }
            out.push(Counted {
                item,
                lot_number: lot,
                counted,
                serials,
            });
        }
    }
    v.finish(|| out)
}
