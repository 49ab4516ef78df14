//! Field rules every stock request shares: quantities, serial numbers,
//! business times and dates. Every number a client sends is bounded here,
//! before any arithmetic touches it.

use super::balance::MAX_QUANTITY;
use super::lot::{Day, SerialNumber};
use crate::time::UtcMillis;
use crate::violation::Violations;
use std::collections::BTreeSet;

/// How far back a movement's business time may be.
pub const MAX_BACKDATE_DAYS: i64 = 30;
/// How far ahead of the server clock a business time may be (clock skew).
pub const MAX_AHEAD_MS: i64 = 5 * 60 * 1000;
/// The most serial numbers one call may name.
pub const MAX_SERIALS: usize = 10_000;

/// Parses a list of serial numbers at `field[i]`, refusing repeats.
pub fn serials(field: &str, raw: &[String], v: &mut Violations) -> Vec<SerialNumber> {
    if raw.len() > MAX_SERIALS {
        v.add(
            field,
            format!("must list at most {MAX_SERIALS} serial numbers per call"),
        );
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        match SerialNumber::parse(s) {
            Ok(sn) if !seen.insert(sn.clone()) => {
                v.add(format!("{field}[{i}]"), format!("'{sn}' is listed twice"))
            }
            Ok(sn) => out.push(sn),
            Err(e) => v.add(format!("{field}[{i}]"), e),
        }
    }
    out
}

/// The units of a movement: with serial numbers, 0 or their count; without,
/// 1 to [`MAX_QUANTITY`].
pub fn units(field: &str, quantity: i64, serials: &[SerialNumber], v: &mut Violations) -> i64 {
    if serials.is_empty() {
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            v.add(field, format!("must be 1 to {MAX_QUANTITY}"));
        }
        quantity
    } else {
        let n = serials.len() as i64;
        if quantity != 0 && quantity != n {
            v.add(
                field,
                format!("must be 0 or the number of serial numbers ({n})"),
            );
        }
        n
    }
}

/// A signed change of on hand: not zero, at most [`MAX_QUANTITY`] either
/// way; with serial numbers, plus or minus their count.
pub fn signed_change(
    field: &str,
    quantity: i64,
    serials: &[SerialNumber],
    v: &mut Violations,
) -> i64 {
    let in_range = (-MAX_QUANTITY..=MAX_QUANTITY).contains(&quantity);
    if serials.is_empty() {
        if quantity == 0 || !in_range {
            v.add(
                field,
                format!("must be a non-zero change of at most {MAX_QUANTITY} units either way"),
            );
        }
    } else {
        let n = serials.len() as i64;
        if quantity != n && quantity != -n {
            v.add(
                field,
                format!("must be -{n} (these units are missing) or +{n} (these units were found)"),
            );
        }
    }
    quantity
}

/// A counted figure: 0 to [`MAX_QUANTITY`].
pub fn counted(field: &str, quantity: i64, v: &mut Violations) -> i64 {
    if !(0..=MAX_QUANTITY).contains(&quantity) {
        v.add(field, format!("must be 0 to {MAX_QUANTITY}"));
    }
    quantity
}

/// A wire timestamp (seconds, nanos) as milliseconds, or a violation of `field`.
pub fn timestamp(raw: Option<(i64, i32)>, field: &str, v: &mut Violations) -> Option<UtcMillis> {
    let (seconds, nanos) = raw?;
    if !(0..1_000_000_000).contains(&nanos) {
        v.add(field, "nanos must be 0 to 999,999,999");
        return None;
    }
    let ms = seconds
        .checked_mul(1000)
        .and_then(|s| s.checked_add(i64::from(nanos / 1_000_000)));
    if ms.is_none() {
        v.add(field, "is out of range");
    }
    ms
}

/// A business time (`occurred_time`): not in the future, not more than 30
/// days back; now when unset.
pub fn occurred_at(raw: Option<(i64, i32)>, now: UtcMillis, v: &mut Violations) -> UtcMillis {
    let Some(raw) = raw else { return now };
    let Some(t) = timestamp(Some(raw), "occurred_time", v) else {
        return now;
    };
    match Some(t) {
        None => now,
        Some(t) if t > now.saturating_add(MAX_AHEAD_MS) => {
            v.add("occurred_time", "must not be in the future");
            now
        }
        Some(t) if t < now.saturating_sub(MAX_BACKDATE_DAYS * 86_400_000) => {
            v.add(
                "occurred_time",
                format!("must be within the last {MAX_BACKDATE_DAYS} days; older corrections go through an adjustment"),
            );
            now
        }
        Some(t) => t,
    }
}

/// A calendar date given as (year, month, day), between 1900 and 2200.
pub fn date(raw: Option<(i32, i32, i32)>, field: &str, v: &mut Violations) -> Option<Day> {
    let (y, m, d) = raw?;
    let day = (1900..=2200)
        .contains(&y)
        .then(|| Day::from_ymd(y, m.max(0) as u32, d.max(0) as u32))
        .flatten();
    if day.is_none() {
        v.add(
            field,
            format!("{y:04}-{m:02}-{d:02} is not a calendar date between 1900 and 2200"),
        );
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_number_is_bounded_before_any_arithmetic() {
        for q in [
            i64::MIN,
            i64::MIN + 1,
            -MAX_QUANTITY - 1,
            0,
            MAX_QUANTITY + 1,
            i64::MAX,
        ] {
            let mut v = Violations::new();
            signed_change("quantity", q, &[], &mut v);
            assert_eq!(v.as_slice().len(), 1, "{q}");
        }
        let mut v = Violations::new();
        assert_eq!(
            signed_change("quantity", -MAX_QUANTITY, &[], &mut v),
            -MAX_QUANTITY
        );
        assert!(v.is_empty());
        let one = vec![SerialNumber::parse("G1").unwrap()];
        for q in [i64::MIN, 2, 0] {
            let mut v = Violations::new();
            signed_change("quantity", q, &one, &mut v);
            assert!(!v.is_empty(), "{q}");
        }
        for q in [i64::MIN, -1, MAX_QUANTITY + 1] {
            let mut v = Violations::new();
            counted("counted", q, &mut v);
            units("quantity", q, &[], &mut v);
            assert_eq!(v.as_slice().len(), 2, "{q}");
        }
        let mut v = Violations::new();
        occurred_at(Some((i64::MIN, 0)), i64::MAX, &mut v);
        occurred_at(Some((i64::MAX / 1000, 0)), 0, &mut v);
        occurred_at(Some((0, -1)), 0, &mut v);
        occurred_at(Some((0, 0)), i64::MIN, &mut v);
        assert_eq!(v.as_slice().len(), 4, "{v:?}");
    }
}
