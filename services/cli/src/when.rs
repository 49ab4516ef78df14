//! Dates and times typed on the command line. A time without a zone, and a
//! bare date, are Beijing time (Asia/Shanghai), as the bureau reads clocks.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone};
use reserve_api::pb::google::r#type::Date;
use reserve_core::time::china_offset;

const SHAPES: &str = "a date (2026-11-28), a Beijing time (2026-11-28 09:30 or 2026-11-28T09:30:00) \
                      or an RFC 3339 time with a zone (2026-11-28T01:30:00Z)";

/// A calendar date `YYYY-MM-DD` (production and expiry dates).
pub fn date(s: &str) -> Result<Date, String> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date YYYY-MM-DD"))?;
    Ok(Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

/// A date shown as `YYYY-MM-DD`, or `-` when unset.
pub fn show_date(d: Option<&Date>) -> String {
    d.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
        .unwrap_or_else(|| "-".into())
}

/// An instant; a bare date is the first moment of that day in Beijing.
pub fn at(s: &str) -> Result<prost_types::Timestamp, String> {
    instant(s, false)
}

/// The exclusive end of a time range; a bare date means through the end of
/// that day in Beijing (the first moment of the next day).
pub fn until(s: &str) -> Result<prost_types::Timestamp, String> {
    instant(s, true)
}

fn instant(s: &str, date_is_inclusive_end: bool) -> Result<prost_types::Timestamp, String> {
    let s = s.trim();
    let bad = || format!("'{s}' is not {SHAPES}");
    let utc = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.to_utc()
    } else if let Some(local) = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        beijing(local).ok_or_else(bad)?
    } else {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
        let d = if date_is_inclusive_end {
            d.succ_opt().ok_or_else(bad)?
        } else {
            d
        };
        beijing(d.and_hms_opt(0, 0, 0).ok_or_else(bad)?).ok_or_else(bad)?
    };
    Ok(prost_types::Timestamp {
        seconds: utc.timestamp(),
        nanos: utc.timestamp_subsec_nanos() as i32,
    })
}

fn beijing(local: NaiveDateTime) -> Option<DateTime<chrono::Utc>> {
    china_offset()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: Result<prost_types::Timestamp, String>) -> i64 {
        t.map(|t| t.seconds).unwrap_or_else(|e| panic!("{e}"))
    }

    // 2026-11-28T00:00:00+08:00 is 2026-11-27T16:00:00Z.
    const MIDNIGHT: i64 = 1_795_795_200;

    #[test]
    fn a_bare_date_is_a_beijing_day_and_until_includes_it() {
        assert_eq!(secs(at("2026-11-28")), MIDNIGHT);
        assert_eq!(secs(until("2026-11-28")), MIDNIGHT + 86_400);
    }

    #[test]
    fn a_time_without_a_zone_is_beijing_time_and_a_zone_is_honoured() {
        assert_eq!(secs(at("2026-11-28 09:30")), MIDNIGHT + 9 * 3600 + 1800);
        assert_eq!(secs(at("2026-11-28T09:30:00")), MIDNIGHT + 9 * 3600 + 1800);
        assert_eq!(
            secs(until("2026-11-28T09:30:00")),
            MIDNIGHT + 9 * 3600 + 1800
        );
        assert_eq!(secs(at("2026-11-28T01:30:00Z")), MIDNIGHT + 9 * 3600 + 1800);
        assert_eq!(
            secs(at("2026-11-28T09:30:00+08:00")),
            MIDNIGHT + 9 * 3600 + 1800
        );
    }

    #[test]
    fn anything_else_is_refused_naming_the_shapes() {
        let e = at("yesterday").unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!(date("2026-13-01").is_err());
        assert_eq!(show_date(date("2026-03-01").ok().as_ref()), "2026-03-01");
    }
}
