//! Upkeep intervals and the calendar arithmetic of due dates.
//!
//! An interval is a number of days or of calendar months. Months add by the
//! calendar and clamp to the end of a shorter month: 31 January + 1 month is
//! 28 February (29 in a leap year), and 29 February + 12 months is
//! 28 February. Every number is bounded, so no sum can overflow.

use crate::stock::Day;
use chrono::Months;
use serde::{Deserialize, Serialize};

/// The longest interval in days (ten years).
pub const MAX_INTERVAL_DAYS: i64 = 3650;
/// The longest interval in months (ten years).
pub const MAX_INTERVAL_MONTHS: i64 = 120;

/// How often upkeep is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Interval {
    /// Every n days (1 to 3650).
    Days(i64),
    /// Every n calendar months (1 to 120), clamped to the month's end.
    Months(i64),
}

impl Interval {
    /// An interval from the two wire fields: exactly one must be set.
    pub fn parse(days: i64, months: i64) -> Result<Self, (&'static str, String)> {
        match (days, months) {
            (0, 0) => Err((
                "interval_days",
                "give interval_days or interval_months".into(),
            )),
            (d, 0) if (1..=MAX_INTERVAL_DAYS).contains(&d) => Ok(Interval::Days(d)),
            (_, 0) => Err(("interval_days", format!("must be 1 to {MAX_INTERVAL_DAYS}"))),
            (0, m) if (1..=MAX_INTERVAL_MONTHS).contains(&m) => Ok(Interval::Months(m)),
            (0, _) => Err((
                "interval_months",
                format!("must be 1 to {MAX_INTERVAL_MONTHS}"),
            )),
            _ => Err((
                "interval_months",
                "give interval_days or interval_months, not both".into(),
            )),
        }
    }

    /// Days, or 0 for a month interval (the wire's `interval_days`).
    pub fn days(self) -> i64 {
        match self {
            Interval::Days(d) => d,
            Interval::Months(_) => 0,
        }
    }

    /// Months, or 0 for a day interval (the wire's `interval_months`).
    pub fn months(self) -> i64 {
        match self {
            Interval::Days(_) => 0,
            Interval::Months(m) => m,
        }
    }

    /// The day one interval after `from`; `None` only past the calendar's
    /// end (which bounded intervals from stored days never reach).
    pub fn after(self, from: Day) -> Option<Day> {
        match self {
            Interval::Days(d) => from.0.checked_add(d).map(Day),
            Interval::Months(m) => {
                let date = from.date();
                // chrono clamps to the last day of a shorter month.
                let next = date.checked_add_months(Months::new(u32::try_from(m).ok()?))?;
                Some(Day::of(next))
            }
        }
    }

    /// Words for lists ("every 30 days", "every 1 month(s)").
    pub fn describe(self) -> String {
        match self {
            Interval::Days(d) => format!("every {d} days"),
            Interval::Months(m) => format!("every {m} month(s)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Day {
        Day::from_ymd(y, m, day).unwrap()
    }

    #[test]
    fn months_add_by_the_calendar_and_clamp_to_the_end_of_a_shorter_month() {
        let one = Interval::Months(1);
        assert_eq!(one.after(d(2027, 1, 31)), Some(d(2027, 2, 28)));
        assert_eq!(one.after(d(2028, 1, 31)), Some(d(2028, 2, 29)));
        assert_eq!(one.after(d(2026, 12, 15)), Some(d(2027, 1, 15)));
        assert_eq!(
            Interval::Months(12).after(d(2028, 2, 29)),
            Some(d(2029, 2, 28))
        );
        assert_eq!(
            Interval::Months(48).after(d(2028, 2, 29)),
            Some(d(2032, 2, 29))
        );
        assert_eq!(one.after(d(2027, 3, 31)), Some(d(2027, 4, 30)));
    }

    #[test]
    fn days_add_across_month_and_leap_day_boundaries() {
        assert_eq!(
            Interval::Days(1).after(d(2028, 2, 28)),
            Some(d(2028, 2, 29))
        );
        assert_eq!(Interval::Days(1).after(d(2027, 2, 28)), Some(d(2027, 3, 1)));
        assert_eq!(
            Interval::Days(21).after(d(2026, 12, 20)),
            Some(d(2027, 1, 10))
        );
    }

    #[test]
    fn an_interval_is_days_or_months_within_ten_years_never_both() {
        assert_eq!(Interval::parse(30, 0), Ok(Interval::Days(30)));
        assert_eq!(Interval::parse(0, 1), Ok(Interval::Months(1)));
        assert_eq!(Interval::parse(0, 0).unwrap_err().0, "interval_days");
        assert_eq!(Interval::parse(3651, 0).unwrap_err().0, "interval_days");
        assert_eq!(Interval::parse(0, 121).unwrap_err().0, "interval_months");
        assert_eq!(Interval::parse(-1, 0).unwrap_err().0, "interval_days");
        assert_eq!(Interval::parse(5, 1).unwrap_err().0, "interval_months");
    }
}
