//! Records of upkeep, inspection, quality tests and repairs: append-only,
//! each with the next due date it sets.
//!
//! The next due date a record sets is the one the keeper gives, if any;
//! otherwise, for a passing record, one interval of the unit's schedule
//! after the record's date; a failing or needs-repair record leaves the due
//! date where it was (the upkeep is still owed), and a unit no schedule
//! covers has none.

use super::plan::Schedule;
use super::{Condition, UpkeepKind, UpkeepResult, cost};
use crate::depot::DepotCode;
use crate::item::ItemId;
use crate::stock::{Day, SerialNumber};
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// How far back a record's date may be.
pub const MAX_RECORD_AGE_DAYS: i64 = 366;
/// How far after its date a record may set the next due date.
pub const MAX_NEXT_DUE_DAYS: i64 = 3650;

/// A record as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Id.
    pub id: String,
    /// Depot where the work was done.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// The asset, for serial-tracked items; `None` for a (depot, item) record.
    pub serial: Option<SerialNumber>,
    /// The work.
    pub kind: UpkeepKind,
    /// The business day it was done.
    pub day: Day,
    /// What it found.
    pub result: UpkeepResult,
    /// The asset's condition after it, if recorded.
    pub condition: Option<Condition>,
    /// Cost in fen.
    pub cost_fen: i64,
    /// Notes.
    pub notes: String,
    /// The next due date it set (`None`: none, or left as it was).
    pub next_due: Option<Day>,
    /// The repair it closes, if any.
    pub repair: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: UtcMillis,
}

/// A record as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordDraft {
    /// Depot.
    pub depot: String,
    /// Item.
    pub item: String,
    /// Serial number, for serial-tracked items.
    pub serial: String,
    /// Kind number.
    pub kind: i32,
    /// The date (year, month, day), `None` for today.
    pub date: Option<(i32, u32, u32)>,
    /// Result number.
    pub result: i32,
    /// Condition number, 0 for none given.
    pub condition: i32,
    /// Cost in fen.
    pub cost_fen: i64,
    /// Notes.
    pub notes: String,
    /// The next due date, if the keeper sets it.
    pub next_due: Option<(i32, u32, u32)>,
}

/// A record that passed its field rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecord {
    /// Depot.
    pub depot: DepotCode,
    /// Item.
    pub item: ItemId,
    /// Serial number.
    pub serial: Option<SerialNumber>,
    /// Kind.
    pub kind: UpkeepKind,
    /// Day done.
    pub day: Day,
    /// Result.
    pub result: UpkeepResult,
    /// Condition after.
    pub condition: Option<Condition>,
    /// Cost.
    pub cost_fen: i64,
    /// Notes.
    pub notes: String,
    /// Next due, if given.
    pub next_due: Option<Day>,
}

/// A business day from the wire: a real date no later than `today` and at
/// most `max_age` days back.
pub fn past_day(date: Option<(i32, u32, u32)>, today: Day, max_age: i64) -> Result<Day, String> {
    let Some((y, m, d)) = date else {
        return Ok(today);
    };
    let day = Day::from_ymd(y, m, d).ok_or_else(|| format!("{y}-{m}-{d} is not a date"))?;
    if day.0 > today.0 {
        return Err("must not be in the future".into());
    }
    if today.0 - day.0 > max_age {
        return Err(format!("must be at most {max_age} days back"));
    }
    Ok(day)
}

/// An explicit next due date: after `day`, at most [`MAX_NEXT_DUE_DAYS`] later.
pub fn next_due_day(raw: Option<(i32, u32, u32)>, day: Day) -> Result<Option<Day>, String> {
    let Some((y, m, d)) = raw else {
        return Ok(None);
    };
    let next = Day::from_ymd(y, m, d).ok_or_else(|| format!("{y}-{m}-{d} is not a date"))?;
    if next.0 <= day.0 || next.0 - day.0 > MAX_NEXT_DUE_DAYS {
        return Err(format!(
            "must be after the record's date and at most {MAX_NEXT_DUE_DAYS} days after it"
        ));
    }
    Ok(Some(next))
}

impl NewRecord {
    /// Checks every field of a record as of `today`, reporting all broken
    /// ones. Fields are named as in `UpkeepRecord` under `record.`.
    pub fn parse(d: &RecordDraft, today: Day) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let depot = v.take("record.depot_code", DepotCode::parse(d.depot.trim()));
        let item = v.take("record.item_id", ItemId::parse(d.item.trim()));
        let serial = match d.serial.trim() {
            "" => Some(None),
            s => v.take("record.serial_number", SerialNumber::parse(s).map(Some)),
        };
        let kind = v.take("record.kind", UpkeepKind::parse("kind", d.kind));
        let day = v.take("record.date", past_day(d.date, today, MAX_RECORD_AGE_DAYS));
        let result = match d.result {
            0 => {
                v.add("record.result", "is required: pass, fail or needs repair");
                None
            }
            n => v.take(
                "record.result",
                UpkeepResult::from_number(i64::from(n))
                    .ok_or_else(|| format!("{n} is not a result")),
            ),
        };
        let condition = match d.condition {
            0 => Some(None),
            n => v.take(
                "record.condition",
                Condition::from_number(i64::from(n))
                    .map(Some)
                    .ok_or_else(|| format!("{n} is not a condition")),
            ),
        };
        let cost_fen = v.take("record.cost_fen", cost(d.cost_fen));
        let notes = v.take("record.notes", text::optional(&d.notes, 1000));
        let next_due = match day {
            Some(day) => v.take("record.next_due_date", next_due_day(d.next_due, day)),
            None => None,
        };
        match (
            depot, item, serial, kind, day, result, condition, cost_fen, notes, next_due,
        ) {
            (
                Some(depot),
                Some(item),
                Some(serial),
                Some(kind),
                Some(day),
                Some(result),
                Some(condition),
                Some(cost_fen),
                Some(notes),
                Some(next_due),
            ) if v.is_empty() => Ok(NewRecord {
                depot,
                item,
                serial,
                kind,
                day,
                result,
                // A record finding a repair is needed says so of the asset.
                condition: condition
                    .or((result == UpkeepResult::NeedsRepair).then_some(Condition::NeedsRepair)),
                cost_fen,
                notes,
                next_due,
            }),
            _ => Err(v),
        }
    }
}

/// The next due date a record sets: the explicit one, else one interval
/// after its day for a passing record; `None` means "leave it as it was"
/// (see the module documentation).
pub fn sets_next_due(
    explicit: Option<Day>,
    result: UpkeepResult,
    day: Day,
    schedule: Option<&Schedule>,
) -> Option<Day> {
    explicit.or_else(|| match result {
        UpkeepResult::Pass => schedule.and_then(|s| s.interval.after(day)),
        UpkeepResult::Fail | UpkeepResult::NeedsRepair => None,
    })
}

/// A unit's (last upkeep, next due) after a record of `day` setting `next`
/// (`None`: leave it): a record older than the last one changes nothing,
/// so a late entry of past work never moves the dates back.
pub fn unit_after(
    last: Option<Day>,
    due: Option<Day>,
    day: Day,
    next: Option<Day>,
) -> (Option<Day>, Option<Day>) {
    match last {
        Some(l) if l.0 > day.0 => (last, due),
        _ => (Some(day), next.or(due)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maintenance::calendar::Interval;
    use crate::maintenance::plan::Source;

    fn d(y: i32, m: u32, day: u32) -> Day {
        Day::from_ymd(y, m, day).unwrap()
    }

    #[test]
    fn a_passing_record_sets_the_next_due_one_interval_on_and_a_failing_one_leaves_it() {
        let monthly = Schedule {
            interval: Interval::Months(1),
            kind: UpkeepKind::TestRun,
            source: Source::Catalogue,
        };
        let day = d(2027, 1, 31);
        assert_eq!(
            sets_next_due(None, UpkeepResult::Pass, day, Some(&monthly)),
            Some(d(2027, 2, 28))
        );
        assert_eq!(
            sets_next_due(None, UpkeepResult::Fail, day, Some(&monthly)),
            None
        );
        assert_eq!(
            sets_next_due(Some(d(2027, 2, 5)), UpkeepResult::Fail, day, Some(&monthly)),
            Some(d(2027, 2, 5))
        );
        assert_eq!(sets_next_due(None, UpkeepResult::Pass, day, None), None);
    }

    #[test]
    fn an_older_record_than_the_last_leaves_the_dates_alone() {
        let (a, b) = (d(2026, 11, 1), d(2026, 11, 20));
        assert_eq!(
            unit_after(Some(b), Some(d(2026, 12, 20)), a, Some(d(2026, 12, 1))),
            (Some(b), Some(d(2026, 12, 20)))
        );
        assert_eq!(
            unit_after(Some(a), Some(d(2026, 12, 1)), b, None),
            (Some(b), Some(d(2026, 12, 1)))
        );
        assert_eq!(unit_after(None, None, a, Some(b)), (Some(a), Some(b)));
    }

    #[test]
    fn a_record_is_dated_today_or_earlier_and_its_cost_is_bounded() {
        let today = d(2026, 11, 28);
        let draft = RecordDraft {
            depot: "HB-SY".into(),
            item: "generator-5kw".into(),
            serial: "G1".into(),
            kind: 3,
            result: 3,
            ..Default::default()
        };
        let ok = NewRecord::parse(&draft, today).unwrap();
        assert_eq!(ok.day, today);
        assert_eq!(ok.condition, Some(Condition::NeedsRepair));
        let bad = NewRecord::parse(
            &RecordDraft {
                date: Some((2026, 11, 29)),
                cost_fen: -5,
                next_due: Some((2026, 11, 1)),
                ..draft.clone()
            },
            today,
        )
        .unwrap_err();
        let fields: Vec<_> = bad.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["record.date", "record.cost_fen"]);
        let bad = NewRecord::parse(
            &RecordDraft {
                next_due: Some((2026, 11, 1)),
                ..draft
            },
            today,
        )
        .unwrap_err();
        assert_eq!(bad.as_slice()[0].field, "record.next_due_date");
    }
}
