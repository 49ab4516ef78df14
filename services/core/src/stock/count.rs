//! Stock counts (盘点): a snapshot of expected quantities, counted lines, a
//! second person's approval, and variances posted on top of whatever moved
//! since the snapshot.

use super::balance::{Balance, Delta, MAX_QUANTITY};
use super::entry::AssetStatus;
use super::error::StockError;
use super::lot::{LotId, LotNumber, SerialNumber};
use super::movement::AssetState;
use crate::authz::Principal;
use crate::depot::DepotCode;
use crate::item::{ItemId, Tracking};
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where a count stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CountStatus {
    /// Counting.
    Open,
    /// Waiting for approval.
    Submitted,
    /// Variances posted.
    Approved,
    /// Abandoned.
    Cancelled,
}

impl CountStatus {
    /// Stored and wire number.
    pub fn number(self) -> i64 {
        match self {
            CountStatus::Open => 1,
            CountStatus::Submitted => 2,
            CountStatus::Approved => 3,
            CountStatus::Cancelled => 4,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(CountStatus::Open),
            2 => Some(CountStatus::Submitted),
            3 => Some(CountStatus::Approved),
            4 => Some(CountStatus::Cancelled),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            CountStatus::Open => "open",
            CountStatus::Submitted => "submitted",
            CountStatus::Approved => "approved",
            CountStatus::Cancelled => "cancelled",
        }
    }
}

/// One lot of a count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountLine {
    /// Item.
    pub item: ItemId,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// On hand at the snapshot.
    pub expected: i64,
    /// Assets on hand at the snapshot (serial-tracked items).
    pub expected_serials: Vec<SerialNumber>,
    /// Counted units.
    pub counted: Option<i64>,
    /// Assets seen (serial-tracked items).
    pub counted_serials: Vec<SerialNumber>,
    /// On hand just before posting.
    pub on_hand_at_post: Option<i64>,
    /// The variance posted.
    pub posted_variance: Option<i64>,
    /// The adjustment entry posted.
    pub entry_id: Option<String>,
}

impl CountLine {
    /// Counted minus expected, once counted. For serial-tracked items it is
    /// minus the number of snapshot assets not seen.
    pub fn variance(&self) -> Option<i64> {
        let counted = self.counted?;
        if self.expected_serials.is_empty() && self.counted_serials.is_empty() {
            Some(counted - self.expected)
        } else {
            let seen: BTreeSet<&SerialNumber> = self.counted_serials.iter().collect();
            Some(
                -(self
                    .expected_serials
                    .iter()
                    .filter(|s| !seen.contains(s))
                    .count() as i64),
            )
        }
    }
}

/// A count as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCount {
    /// Id.
    pub id: String,
    /// Depot.
    pub depot: DepotCode,
    /// Where it stands.
    pub status: CountStatus,
    /// Items counted; empty means all.
    pub items: Vec<ItemId>,
    /// Note.
    pub note: String,
    /// Who opened it.
    pub opened_by: String,
    /// When.
    pub opened_at: UtcMillis,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When.
    pub submitted_at: Option<UtcMillis>,
    /// Who approved or cancelled it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UtcMillis>,
    /// Version.
    pub version: i64,
    /// Lines, by item then lot number.
    pub lines: Vec<CountLine>,
}

fn transition(c: &StockCount, action: &'static str) -> StockError {
    StockError::InvalidTransition {
        kind: "stockCounts",
        id: c.id.clone(),
        status: c.status.name(),
        action,
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

/// Checks the field rules of counted lines.
pub fn parse_counted(lines: &[CountedDraft]) -> Result<Vec<Counted>, Violations> {
    let mut v = Violations::new();
    if lines.is_empty() {
        v.add("lines", "must hold at least one counted line");
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        let item = v.take(&format!("lines[{i}].item_id"), ItemId::parse(l.item.trim()));
        let lot = v.take(
            &format!("lines[{i}].lot_number"),
            LotNumber::parse(&l.lot_number),
        );
        let mut serials = Vec::new();
        for (j, s) in l.serials.iter().enumerate() {
            match SerialNumber::parse(s) {
                Ok(sn) if serials.contains(&sn) => v.add(
                    format!("lines[{i}].serial_numbers[{j}]"),
                    format!("'{sn}' is listed twice"),
                ),
                Ok(sn) => serials.push(sn),
                Err(e) => v.add(format!("lines[{i}].serial_numbers[{j}]"), e),
            }
        }
        let counted = if serials.is_empty() {
            if !(0..=MAX_QUANTITY).contains(&l.counted) {
                v.add(
                    format!("lines[{i}].counted"),
                    format!("must be 0 to {MAX_QUANTITY}"),
                );
            }
            l.counted
        } else {
            if l.counted != 0 && l.counted != serials.len() as i64 {
                v.add(
                    format!("lines[{i}].counted"),
                    format!(
                        "must be 0 or the number of serial numbers ({})",
                        serials.len()
                    ),
                );
            }
            serials.len() as i64
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

/// Records counted lines onto an open count. `resolve` gives, for each
/// counted line, its lot id, the item's tracking, and the assets of that lot
/// at the depot (any status). Lots not in the snapshot are added with
/// expected 0.
pub fn record(
    count: &StockCount,
    counted: &[Counted],
    resolve: &[(LotId, Tracking, Vec<AssetState>)],
) -> Result<Vec<CountLine>, StockError> {
    if count.status != CountStatus::Open {
        return Err(transition(count, "recorded"));
    }
    let mut lines = count.lines.clone();
    for (i, (c, (lot, tracking, assets))) in counted.iter().zip(resolve).enumerate() {
        if !count.items.is_empty() && !count.items.contains(&c.item) {
            return Err(StockError::Invalid(Violations::one(
                format!("lines[{i}].item_id"),
                format!("{} is not among the items of this count", c.item),
            )));
        }
        match (tracking, c.serials.is_empty()) {
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
        for s in &c.serials {
            let known_here = assets
                .iter()
                .any(|a| &a.serial == s && a.depot == count.depot && a.status.on_hand());
            if !known_here {
                return Err(StockError::SerialNotAvailable {
                    serial: s.to_string(),
                    status: "not recorded in this lot here".into(),
                    needed: "on hand (receive it first)",
                    depot: count.depot.to_string(),
                });
            }
        }
        match lines.iter_mut().find(|l| &l.lot == lot) {
            Some(l) => {
                l.counted = Some(c.counted);
                l.counted_serials = c.serials.clone();
            }
            None => lines.push(CountLine {
                item: c.item.clone(),
                lot: lot.clone(),
                lot_number: c.lot_number.clone(),
                expected: 0,
                expected_serials: Vec::new(),
                counted: Some(c.counted),
                counted_serials: c.serials.clone(),
                on_hand_at_post: None,
                posted_variance: None,
                entry_id: None,
            }),
        }
    }
    Ok(lines)
}

/// Checks that a count may be submitted: open, every line counted.
pub fn check_submit(count: &StockCount) -> Result<(), StockError> {
    if count.status != CountStatus::Open {
        return Err(transition(count, "submitted"));
    }
    let missing: Vec<String> = count
        .lines
        .iter()
        .filter(|l| l.counted.is_none())
        .map(|l| format!("{}/{}", l.item, l.lot_number.as_str()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StockError::CountIncomplete(missing))
    }
}

/// Checks that a count may be cancelled: not yet approved or cancelled.
pub fn check_cancel(count: &StockCount) -> Result<(), StockError> {
    match count.status {
        CountStatus::Open | CountStatus::Submitted => Ok(()),
        _ => Err(transition(count, "cancelled")),
    }
}

/// What approving one line posts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinePost {
    /// Index of the line in the count.
    pub index: usize,
    /// The change (zero when there is nothing to post).
    pub delta: Delta,
    /// Assets written off as missing.
    pub missing: Vec<SerialNumber>,
    /// On hand just before posting.
    pub on_hand_before: i64,
}

/// Decides what approving a submitted count posts, on the balances and assets
/// as they are now. Every line is checked before anything is posted.
pub fn plan_approval(
    count: &StockCount,
    approver: &Principal,
    balances: &[(LotId, Balance)],
    assets: &[AssetState],
) -> Result<Vec<LinePost>, StockError> {
    if count.status != CountStatus::Submitted {
        return Err(transition(count, "approved"));
    }
    if count.submitted_by.as_deref() == Some(approver.subject.as_str()) {
        return Err(StockError::SamePerson {
            action: "a stock count",
            who: approver.subject.clone(),
            what: "count",
        });
    }
    let mut posts = Vec::new();
    for (index, line) in count.lines.iter().enumerate() {
        let balance = balances
            .iter()
            .find(|(l, _)| *l == line.lot)
            .map(|(_, b)| *b)
            .unwrap_or_default();
        let (delta, missing) =
            if line.expected_serials.is_empty() && line.counted_serials.is_empty() {
                (Delta::on_hand(line.variance().unwrap_or(0)), Vec::new())
            } else {
                let seen: BTreeSet<&SerialNumber> = line.counted_serials.iter().collect();
                // Snapshot assets not seen, that are still here now: the ones that
                // left since the snapshot were already posted by their movement.
                let gone: Vec<&AssetState> = line
                    .expected_serials
                    .iter()
                    .filter(|s| !seen.contains(s))
                    .filter_map(|s| {
                        assets.iter().find(|a| {
                            &a.serial == s && a.depot == count.depot && a.status.on_hand()
                        })
                    })
                    .collect();
                let held = gone
                    .iter()
                    .filter(|a| a.status == AssetStatus::Held)
                    .count() as i64;
                (
                    Delta {
                        on_hand: -(gone.len() as i64),
                        reserved: 0,
                        held: -held,
                    },
                    gone.iter().map(|a| a.serial.clone()).collect(),
                )
            };
        if !delta.is_zero() && balance.apply(delta).is_none() {
            return Err(StockError::VarianceConflict {
                lot: line.lot_number.as_str().to_string(),
                variance: delta.on_hand,
                on_hand: balance.on_hand,
                reserved: balance.reserved,
                held: balance.held,
            });
        }
        posts.push(LinePost {
            index,
            delta,
            missing,
            on_hand_before: balance.on_hand,
        });
    }
    Ok(posts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn line(lot: &str, expected: i64, counted: Option<i64>) -> CountLine {
        CountLine {
            item: ItemId::from_stored("quilt".into()),
            lot: LotId(lot.into()),
            lot_number: LotNumber::from_stored(lot.into()),
            expected,
            expected_serials: vec![],
            counted,
            counted_serials: vec![],
            on_hand_at_post: None,
            posted_variance: None,
            entry_id: None,
        }
    }

    fn count(status: CountStatus, lines: Vec<CountLine>) -> StockCount {
        StockCount {
            id: "C1".into(),
            depot: DepotCode::from_stored("HB-SY-ZS".into()),
            status,
            items: vec![],
            note: String::new(),
            opened_by: "k1".into(),
            opened_at: 0,
            submitted_by: Some("k1".into()),
            submitted_at: Some(0),
            decided_by: None,
            decided_at: None,
            version: 1,
            lines,
        }
    }

    fn who(s: &str) -> Principal {
        Principal {
            subject: s.into(),
            name: s.into(),
            roles: BTreeSet::new(),
            scope: DepotCode::from_stored("HB-SY".into()),
        }
    }

    fn bal(on_hand: i64) -> Balance {
        Balance {
            on_hand,
            reserved: 0,
            held: 0,
        }
    }

    #[test]
    fn the_variance_lands_on_top_of_movements_since_the_snapshot() {
        // Snapshot 100, counted 97; 20 issued since: 80 on hand now -> 77.
        let c = count(CountStatus::Submitted, vec![line("Q1", 100, Some(97))]);
        let posts = plan_approval(&c, &who("k2"), &[(LotId("Q1".into()), bal(80))], &[]).unwrap();
        assert_eq!(posts[0].delta, Delta::on_hand(-3));
        assert_eq!(posts[0].on_hand_before, 80);
        assert_eq!(bal(80).apply(posts[0].delta).unwrap().on_hand, 77);
    }

    #[test]
    fn a_variance_that_no_longer_fits_refuses_the_whole_approval() {
        let c = count(
            CountStatus::Submitted,
            vec![line("Q1", 10, Some(10)), line("Q2", 10, Some(2))],
        );
        let err = plan_approval(
            &c,
            &who("k2"),
            &[(LotId("Q1".into()), bal(10)), (LotId("Q2".into()), bal(5))],
            &[],
        )
        .unwrap_err();
        assert!(matches!(
            err,
            StockError::VarianceConflict { variance: -8, .. }
        ));
    }

    #[test]
    fn the_submitter_cannot_approve_and_uncounted_lines_block_submission() {
        let c = count(CountStatus::Submitted, vec![line("Q1", 1, Some(1))]);
        assert!(matches!(
            plan_approval(&c, &who("k1"), &[], &[]),
            Err(StockError::SamePerson { .. })
        ));
        let open = count(
            CountStatus::Open,
            vec![line("Q1", 1, Some(1)), line("Q2", 1, None)],
        );
        assert_eq!(
            check_submit(&open),
            Err(StockError::CountIncomplete(vec!["quilt/Q2".into()]))
        );
        assert!(check_cancel(&open).is_ok());
        let done = count(CountStatus::Approved, vec![]);
        assert!(check_cancel(&done).is_err());
        assert!(matches!(
            plan_approval(&open, &who("k2"), &[], &[]),
            Err(StockError::InvalidTransition { .. })
        ));
    }

    #[test]
    fn missing_assets_are_written_off_only_if_still_here() {
        let s = |x: &str| SerialNumber::from_stored(x.into());
        let mut l = line("G", 3, Some(1));
        l.expected_serials = vec![s("G1"), s("G2"), s("G3")];
        l.counted_serials = vec![s("G1")];
        let asset = |x: &str, status| AssetState {
            serial: s(x),
            lot: LotId("G".into()),
            depot: DepotCode::from_stored("HB-SY-ZS".into()),
            status,
        };
        // G2 was issued after the snapshot; only G3 is missing.
        let assets = vec![
            asset("G1", AssetStatus::InStock),
            asset("G2", AssetStatus::Issued),
            asset("G3", AssetStatus::Held),
        ];
        assert_eq!(l.variance(), Some(-2));
        let c = count(CountStatus::Submitted, vec![l]);
        let b = Balance {
            on_hand: 2,
            reserved: 0,
            held: 1,
        };
        let posts = plan_approval(&c, &who("k2"), &[(LotId("G".into()), b)], &assets).unwrap();
        assert_eq!(posts[0].missing, vec![s("G3")]);
        assert_eq!(
            posts[0].delta,
            Delta {
                on_hand: -1,
                reserved: 0,
                held: -1
            }
        );
    }

    #[test]
    fn counted_lines_name_their_fields() {
        let v = parse_counted(&[
            CountedDraft {
                item: "quilt".into(),
                lot_number: "".into(),
                counted: -1,
                serials: vec![],
            },
            CountedDraft {
                item: "quilt".into(),
                lot_number: "Q1".into(),
                counted: 5,
                serials: vec![],
            },
            CountedDraft {
                item: "quilt".into(),
                lot_number: "Q1".into(),
                counted: 6,
                serials: vec![],
            },
        ])
        .unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            f,
            vec!["lines[0].lot_number", "lines[0].counted", "lines[2]"]
        );
    }
}
