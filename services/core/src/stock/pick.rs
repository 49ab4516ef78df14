//! What planners read (lines and assets as loaded) and how they pick units:
//! first-expired-first-out over lots, named lots, named serial numbers.

use super::balance::Balance;
use super::document::DocRef;
use super::entry::{AssetPlace, AssetStatus};
use super::error::StockError;
use super::lot::{Lot, LotId, LotNumber, SerialNumber};
use crate::depot::DepotCode;
use crate::item::{Item, ItemId, Tracking};
use crate::tier::Tier;
use crate::violation::Violations;
use std::collections::BTreeMap;

/// A balance with the lot it belongs to, as loaded from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineState {
    /// The lot.
    pub lot: Lot,
    /// Its balance at the depot.
    pub balance: Balance,
    /// The tier owning these units here (事权).
    pub owner: Tier,
}

/// A serialised asset as loaded from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetState {
    /// Serial number.
    pub serial: SerialNumber,
    /// Lot it came in.
    pub lot: LotId,
    /// Depot it belongs to.
    pub depot: DepotCode,
    /// Where it is.
    pub status: AssetStatus,
    /// The document holding it, if any.
    pub holder: Option<DocRef>,
}

impl AssetState {
    /// Whether it is at `depot` in `place`.
    pub fn is_at(&self, depot: &DepotCode, place: &AssetPlace) -> bool {
        &self.depot == depot && self.status == place.status && self.holder == place.holder
    }

    /// Whether this known unit may come back on the books at `depot` (by a
    /// receipt, a found adjustment or a count that sees it): it was written
    /// off as missing here, or it is void (its receipt was reversed)
    /// wherever that was. Anything else is still somewhere in the books.
    /// The store's guarded insert of entering assets states the same rule.
    pub fn may_enter(&self, depot: &DepotCode) -> bool {
        match self.status {
            AssetStatus::Missing => &self.depot == depot && self.holder.is_none(),
            AssetStatus::Void => self.holder.is_none(),
            _ => false,
        }
    }

    pub(crate) fn describe(&self) -> String {
        match &self.holder {
            Some(h) => format!("{} by {h} at {}", self.status.name(), self.depot),
            None => format!("{} at {}", self.status.name(), self.depot),
        }
    }
}

/// Units taken from (or put on) one lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Take {
    /// The lot.
    pub lot: Lot,
    /// Units.
    pub quantity: i64,
    /// Serial numbers, for serial-tracked items.
    pub serials: Vec<SerialNumber>,
}

/// Refuses serial numbers for a lot-tracked item and their absence for a
/// serial-tracked one.
pub(crate) fn tracking_rule(item: &Item, serials: &[SerialNumber]) -> Result<(), StockError> {
    match (item.tracking, serials.is_empty()) {
        (Tracking::Lot, false) => Err(StockError::Invalid(Violations::one(
            "serial_numbers",
            format!(
                "must be empty: {} is tracked by lot, give a quantity",
                item.id
            ),
        ))),
        (Tracking::Serial, true) => Err(StockError::Invalid(Violations::one(
            "serial_numbers",
            format!(
                "are required: {} is tracked by serial number, list each unit",
                item.id
            ),
        ))),
        _ => Ok(()),
    }
}

/// The refusal for too few free units.
pub(crate) fn insufficient(
    depot: &DepotCode,
    item: &ItemId,
    lot: Option<&LotNumber>,
    requested: i64,
    available: i64,
) -> StockError {
    StockError::InsufficientStock {
        depot: depot.to_string(),
        item: item.to_string(),
        lot: lot
            .map(|l| format!(" lot {}", l.as_str()))
            .unwrap_or_default(),
        requested,
        available,
    }
}

/// Lines in first-expired-first-out order.
pub(crate) fn sorted_fefo(lines: &[LineState]) -> Vec<&LineState> {
    let mut v: Vec<&LineState> = lines.iter().collect();
    v.sort_by_key(|l| l.lot.fefo_key());
    v
}

/// For a lot-tracked item: the one line named, or an error naming the field.
pub(crate) fn named_line<'a>(
    depot: &DepotCode,
    item: &Item,
    lot_number: Option<&LotNumber>,
    lines: &'a [LineState],
) -> Result<&'a LineState, StockError> {
    let n = lot_number.ok_or_else(|| {
        StockError::Invalid(Violations::one(
            "lot_number",
            format!("is required: {} is tracked by lot", item.id),
        ))
    })?;
    lines
        .iter()
        .find(|l| &l.lot.number == n)
        .ok_or_else(|| StockError::LotNotAtDepot {
            depot: depot.to_string(),
            item: item.id.to_string(),
            lot: n.as_str().to_string(),
        })
}

/// Checks that each named serial is an asset at `depot` in `place`, and
/// groups them by lot in FEFO order of `lines`.
pub(crate) fn group_serials(
    serials: &[SerialNumber],
    assets: &[AssetState],
    depot: &DepotCode,
    place: &AssetPlace,
    lines: &[LineState],
) -> Result<Vec<(LineState, Vec<SerialNumber>)>, StockError> {
    let mut by_lot: BTreeMap<LotId, Vec<SerialNumber>> = BTreeMap::new();
    for s in serials {
        match assets.iter().find(|a| &a.serial == s) {
            Some(a) if a.is_at(depot, place) => {
                by_lot.entry(a.lot.clone()).or_default().push(s.clone())
            }
            Some(a) if a.holder.is_some() && place.holder.is_none() => {
                return Err(StockError::HeldByDocument {
                    lot: lines
                        .iter()
                        .find(|l| l.lot.id == a.lot)
                        .map(|l| l.lot.number.as_str().to_string())
                        .unwrap_or_default(),
                    free_held: 0,
                    requested: 1,
                    holders: a.holder.iter().map(|h| h.to_string()).collect(),
                });
            }
            found => {
                return Err(StockError::SerialNotAvailable {
                    serial: s.to_string(),
                    status: found
                        .map(AssetState::describe)
                        .unwrap_or_else(|| "unknown".into()),
                    needed: place.status.name(),
                    depot: depot.to_string(),
                });
            }
        }
    }
    let mut out = Vec::new();
    for line in sorted_fefo(lines) {
        if let Some(s) = by_lot.remove(&line.lot.id) {
            out.push((line.clone(), s));
        }
    }
    // A serial whose lot has no line here means the data disagree; refuse.
    if let Some((_, s)) = by_lot.into_iter().next() {
        return Err(StockError::SerialNotAvailable {
            serial: s.first().map(|x| x.to_string()).unwrap_or_default(),
            status: "without a stock line".into(),
            needed: place.status.name(),
            depot: depot.to_string(),
        });
    }
    Ok(out)
}

/// Takes for named serials in `place`, restricted to the named lot if any.
pub(crate) fn serial_takes(
    depot: &DepotCode,
    lot_number: Option<&LotNumber>,
    serials: &[SerialNumber],
    assets: &[AssetState],
    lines: &[LineState],
    place: &AssetPlace,
) -> Result<Vec<Take>, StockError> {
    let groups = group_serials(serials, assets, depot, place, lines)?;
    let mut out = Vec::new();
    for (line, serials) in groups {
        if let Some(n) = lot_number.filter(|n| **n != line.lot.number) {
            return Err(StockError::SerialNotAvailable {
                serial: serials.first().map(|s| s.to_string()).unwrap_or_default(),
                status: format!("in lot {}", line.lot.number.as_str()),
                needed: "in the lot named",
                depot: format!("{depot} (lot {})", n.as_str()),
            });
        }
        out.push(Take {
            quantity: serials.len() as i64,
            lot: line.lot,
            serials,
        });
    }
    Ok(out)
}
