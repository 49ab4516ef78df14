//! Lots, serial numbers and calendar days.

use crate::item::{Item, ItemId};
use crate::time::UtcMillis;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A calendar day as a count of days since 1970-01-01. Stored as an integer
/// so every engine compares and adds days the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day(pub i64);

impl Day {
    /// The day of a calendar date.
    pub fn of(date: NaiveDate) -> Day {
        Day(date.signed_duration_since(epoch()).num_days())
    }

    /// The calendar date of this day.
    pub fn date(self) -> NaiveDate {
        epoch()
            .checked_add_signed(chrono::Duration::days(self.0))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Today in Beijing at instant `now`.
    pub fn today(now: UtcMillis) -> Day {
        Day::of(crate::time::local_date(now))
    }

    /// A date from year, month and day, if it exists.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Day> {
        NaiveDate::from_ymd_opt(y, m, d).map(Day::of)
    }

    /// This day plus `n` days.
    pub fn plus(self, n: i64) -> Day {
        Day(self.0 + n)
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// A lot number as printed on the label or delivery note: 1 to 64
/// characters, no control characters, surrounding spaces trimmed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LotNumber(String);

impl LotNumber {
    /// Parses a lot number.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.is_empty() {
            return Err("is required".into());
        }
        if v.chars().count() > 64 || v.chars().any(char::is_control) {
            return Err("must be 1 to 64 characters without control characters".into());
        }
        Ok(Self(v.to_string()))
    }

    /// Wraps a stored lot number.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A serial number: 1 to 64 characters of letters, digits, `-`, `_`, `/`, `.`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SerialNumber(String);

impl SerialNumber {
    /// Parses a serial number.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        let ok = (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.'));
        if ok {
            Ok(Self(v.to_string()))
        } else {
            Err(format!(
                "'{v}' is not a serial number: 1 to 64 characters of letters, digits, '-', '_', '/', '.'"
            ))
        }
    }

    /// Wraps a stored serial number.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the money for a lot came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FundingSource {
    /// Government budget.
    Budget,
    /// Donation.
    Donation,
    /// Requisitioned property.
    Requisition,
    /// Delivered by a company under an agreement or capacity reserve.
    Agreement,
}

impl FundingSource {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            FundingSource::Budget => 1,
            FundingSource::Donation => 2,
            FundingSource::Requisition => 3,
            FundingSource::Agreement => 4,
        }
    }

    /// The source with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(FundingSource::Budget),
            2 => Some(FundingSource::Donation),
            3 => Some(FundingSource::Requisition),
            4 => Some(FundingSource::Agreement),
            _ => None,
        }
    }
}

/// Server-assigned lot id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LotId(pub String);

impl LotId {
    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lot of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// Server-assigned id.
    pub id: LotId,
    /// Item.
    pub item: ItemId,
    /// Lot number, unique per item.
    pub number: LotNumber,
    /// Production date.
    pub production: Option<Day>,
    /// Expiry date: on and after it the lot is expired.
    pub expiry: Option<Day>,
    /// Manufacturer.
    pub manufacturer: String,
    /// Funding source.
    pub funding: FundingSource,
    /// First received.
    pub created_at: UtcMillis,
}

impl Lot {
    /// Whether the lot is expired on `today`. A lot is expired on its expiry
    /// date itself, so it is never picked on the day it runs out.
    pub fn is_expired(&self, today: Day) -> bool {
        self.expiry.is_some_and(|e| today >= e)
    }

    /// Days from `today` to expiry (negative once past).
    pub fn days_to_expiry(&self, today: Day) -> Option<i64> {
        self.expiry.map(|e| e.0 - today.0)
    }

    /// Whether the lot is within `window` days of expiry but not yet expired.
    pub fn is_near_expiry(&self, today: Day, window: i32) -> bool {
        match self.days_to_expiry(today) {
            Some(d) => d > 0 && d <= i64::from(window),
            None => false,
        }
    }

    /// The first-expired-first-out sort key: expiry, then production date,
    /// then first receipt, then lot number. Lots that never expire go last.
    pub fn fefo_key(&self) -> (i64, i64, UtcMillis, String) {
        (
            self.expiry.map(|d| d.0).unwrap_or(i64::MAX),
            self.production.map(|d| d.0).unwrap_or(i64::MAX),
            self.created_at,
            self.number.as_str().to_string(),
        )
    }
}

/// The expiry of a new lot: the one given, or production date plus the
/// item's shelf life. Errors name the field to fix.
pub fn derive_expiry(
    item: &Item,
    production: Option<Day>,
    expiry: Option<Day>,
) -> Result<Option<Day>, (&'static str, String)> {
    if let (Some(p), Some(e)) = (production, expiry)
        && e <= p
    {
        return Err(("expiry_date", "must be after the production date".into()));
    }
    match (expiry, production, item.shelf_life_days) {
        (Some(e), _, _) => Ok(Some(e)),
        (None, Some(p), s) if s > 0 => Ok(Some(p.plus(i64::from(s)))),
        (None, None, s) if s > 0 => Err((
            "expiry_date",
            format!(
                "is required for {} (shelf life {s} days): give the expiry date or the production date",
                item.id
            ),
        )),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(expiry: Option<Day>) -> Lot {
        Lot {
            id: LotId("l1".into()),
            item: ItemId::from_stored("water".into()),
            number: LotNumber::parse("L1").unwrap(),
            production: None,
            expiry,
            manufacturer: String::new(),
            funding: FundingSource::Budget,
            created_at: 0,
        }
    }

    #[test]
    fn days_round_trip_through_dates() {
        let d = Day::from_ymd(2026, 11, 28).unwrap();
        assert_eq!(d.date().to_string(), "2026-11-28");
        assert_eq!(Day::of(d.date()), d);
        assert_eq!(Day::from_ymd(1970, 1, 1), Some(Day(0)));
        assert_eq!(Day::from_ymd(2026, 2, 30), None);
    }

    #[test]
    fn a_lot_is_expired_on_its_expiry_date_not_the_day_before() {
        let e = Day::from_ymd(2027, 5, 1).unwrap();
        let l = lot(Some(e));
        assert!(!l.is_expired(e.plus(-1)));
        assert!(l.is_expired(e));
        assert!(l.is_expired(e.plus(1)));
        assert!(!lot(None).is_expired(Day(i64::MAX / 2)));
    }

    #[test]
    fn near_expiry_is_inside_the_window_and_not_yet_expired() {
        let today = Day::from_ymd(2026, 11, 28).unwrap();
        assert!(lot(Some(today.plus(90))).is_near_expiry(today, 90));
        assert!(!lot(Some(today.plus(91))).is_near_expiry(today, 90));
        assert!(!lot(Some(today)).is_near_expiry(today, 90));
    }

    #[test]
    fn expiry_is_derived_from_production_and_shelf_life() {
        let mut item = crate::item::NewItem::parse(&crate::item::ItemDraft {
            id: "water".into(),
            code: "1060101".into(),
            name: "水".into(),
            unit: "箱".into(),
            tracking: 1,
            shelf_life_days: 365,
            near_expiry_days: Some(60),
            ..Default::default()
        })
        .unwrap()
        .into_item(crate::depot::DepotCode::from_stored("HB".into()), 0);
        let p = Day::from_ymd(2026, 1, 1).unwrap();
        assert_eq!(
            derive_expiry(&item, Some(p), None).unwrap(),
            Some(p.plus(365))
        );
        assert!(derive_expiry(&item, None, None).is_err());
        assert!(derive_expiry(&item, Some(p), Some(p)).is_err());
        item.shelf_life_days = 0;
        assert_eq!(derive_expiry(&item, None, None).unwrap(), None);
    }

    #[test]
    fn serial_numbers_are_plain_text() {
        assert!(SerialNumber::parse("GEN-2026/001").is_ok());
        assert!(SerialNumber::parse("a b").is_err());
        assert!(SerialNumber::parse("").is_err());
        assert!(LotNumber::parse("  ").is_err());
        assert_eq!(
            LotNumber::parse(" 批次2026-01 ").unwrap().as_str(),
            "批次2026-01"
        );
    }
}
