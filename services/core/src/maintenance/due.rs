//! When a unit is next due for upkeep, and when it is overdue.
//!
//! A unit (an asset, or an item's lot-tracked stock at a depot) is due on
//! the date its last record set; a unit never maintained is due one
//! interval after it entered the books — the day its lot was first
//! received. A unit no schedule covers is never due. It is overdue when
//! that date is before today (Asia/Shanghai). Only units physically in the
//! depot and on its books count: assets in stock, held or reserved (not on
//! lease, issued, under repair, scrapped); lot-tracked stock with units on
//! hand.

use super::UpkeepKind;
use super::calendar::Interval;
use super::plan::Schedule;
use crate::depot::DepotCode;
use crate::item::ItemId;
use crate::stock::{Day, SerialNumber, StockError};
use serde::{Deserialize, Serialize};

/// The date a unit is next due: the stored one, else one interval after it
/// entered the books; `None` when no schedule covers it.
pub fn next_due(stored: Option<Day>, schedule: Option<&Schedule>, entered: Day) -> Option<Day> {
    let s = schedule?;
    stored.or_else(|| s.interval.after(entered))
}

/// Whether a unit due on `due` is overdue on `today`.
pub fn is_overdue(due: Day, today: Day) -> bool {
    due.0 < today.0
}

/// One unit on a due list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueUnit {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// The asset, or `None` for the item's lot-tracked stock at the depot.
    pub serial: Option<SerialNumber>,
    /// Units concerned (1 for an asset; on hand for lot-tracked stock).
    pub units: i64,
    /// When it is due.
    pub due: Day,
    /// Whether it is overdue.
    pub overdue: bool,
    /// Its last recorded upkeep, if any.
    pub last: Option<Day>,
    /// The work asked for.
    pub kind: UpkeepKind,
    /// How often.
    pub interval: Interval,
}

/// Refuses to issue assets overdue for upkeep unless the caller overrides
/// with a reason; `overdue` lists each overdue serial with its due date.
pub fn check_issue(
    depot: &DepotCode,
    overdue: &[(SerialNumber, Day)],
    override_reason: Option<&str>,
) -> Result<(), StockError> {
    if overdue.is_empty() || override_reason.is_some() {
        return Ok(());
    }
    Err(StockError::UpkeepOverdue {
        depot: depot.to_string(),
        serials: overdue
            .iter()
            .map(|(s, d)| format!("{s} (due {})", d.date()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::plan::Source;

    fn d(y: i32, m: u32, day: u32) -> Day {
        Day::from_ymd(y, m, day).unwrap()
    }

    fn monthly() -> Schedule {
        Schedule {
            interval: Interval::Months(1),
            kind: UpkeepKind::TestRun,
            source: Source::Catalogue,
        }
    }

    #[test]
    fn a_unit_never_maintained_is_due_one_interval_after_it_entered_the_books() {
        let s = monthly();
        assert_eq!(
            next_due(None, Some(&s), d(2028, 1, 31)),
            Some(d(2028, 2, 29))
        );
        assert_eq!(
            next_due(Some(d(2028, 3, 5)), Some(&s), d(2028, 1, 31)),
            Some(d(2028, 3, 5))
        );
        assert_eq!(next_due(Some(d(2028, 3, 5)), None, d(2028, 1, 31)), None);
    }

    #[test]
    fn overdue_means_due_before_today_not_on_it() {
        assert!(!is_overdue(d(2026, 11, 28), d(2026, 11, 28)));
        assert!(is_overdue(d(2026, 11, 27), d(2026, 11, 28)));
    }

    #[test]
    fn issuing_an_overdue_asset_needs_an_override_with_a_reason() {
        let depot = DepotCode::parse("HB-SY").unwrap();
        let g = SerialNumber::parse("G1").unwrap();
        let overdue = [(g, d(2026, 11, 1))];
        let e = check_issue(&depot, &overdue, None).unwrap_err();
        assert!(e.to_string().contains("G1 (due 2026-11-01)"), "{e}");
        assert!(check_issue(&depot, &overdue, Some("flood, no time")).is_ok());
        assert!(check_issue(&depot, &[], None).is_ok());
    }
}
