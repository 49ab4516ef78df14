//! Stock counts (盘点): a snapshot of expected quantities, counted figures
//! that each mean "on the shelf when recorded", a second person's approval,
//! and per line counted minus on hand at recording posted as an adjustment,
//! so movements before and after the recording are neither lost nor counted
//! twice. Units a document holds count as present and held.

use super::balance::{Balance, Breach, Delta};
use super::document::{Acting, DocKind, DocPlan, DocRef, invalid_transition};
use super::entry::{AssetPlace, AssetStatus, EntryDraft, EntryType};
use super::error::StockError;
use super::fields;
use super::lot::{Lot, LotId, LotNumber, SerialNumber};
use super::pick::{AssetState, LineState};
use crate::depot::DepotCode;
use crate::item::{ItemId, Tracking};
use crate::text;
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
    /// Whether the item is tracked by serial number.
    pub serial: bool,
    /// Lot id.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// On hand at the snapshot.
    pub expected: i64,
    /// Assets on hand at the snapshot (serial-tracked items).
    pub expected_serials: Vec<SerialNumber>,
    /// Units on the shelf when recorded.
    pub counted: Option<i64>,
    /// Assets seen (serial-tracked items).
    pub counted_serials: Vec<SerialNumber>,
    /// On hand in the books when the figure was recorded.
    pub on_hand_at_record: Option<i64>,
    /// Assets on hand at recording that no document held.
    pub serials_at_record: Vec<SerialNumber>,
    /// Assets a document held at recording: present and held, never missing.
    pub held_by_documents: Vec<SerialNumber>,
    /// Who recorded the figure.
    pub recorded_by: Option<String>,
    /// When.
    pub recorded_at: Option<UtcMillis>,
    /// On hand just before posting.
    pub on_hand_at_approval: Option<i64>,
    /// The variance posted.
    pub posted_variance: Option<i64>,
    /// The adjustment entries posted.
    pub entry_ids: Vec<String>,
}

impl CountLine {
    /// Assets on hand at recording, held by no document, and not seen.
    pub fn missing(&self) -> Vec<SerialNumber> {
        let seen: BTreeSet<&SerialNumber> = self.counted_serials.iter().collect();
        self.serials_at_record
            .iter()
            .filter(|s| !seen.contains(s))
            .cloned()
            .collect()
    }

    /// Counted minus on hand at recording, once recorded.
    pub fn variance(&self) -> Option<i64> {
        let counted = self.counted?;
        if self.serial {
            Some(-(self.missing().len() as i64))
        } else {
            Some(counted - self.on_hand_at_record.unwrap_or(self.expected))
        }
    }

    /// Net movements between the snapshot and the recording.
    pub fn moved_since_snapshot(&self) -> i64 {
        self.on_hand_at_record
            .map(|r| r - self.expected)
            .unwrap_or(0)
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
    /// Everyone who recorded a figure.
    pub recorded_by: Vec<String>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When.
    pub submitted_at: Option<UtcMillis>,
    /// Who approved or cancelled it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<UtcMillis>,
    /// The approval note or cancellation reason.
    pub decision_note: String,
    /// Version.
    pub version: i64,
    /// Lines, by item then lot number.
    pub lines: Vec<CountLine>,
}

impl StockCount {
    /// The reference to this count.
    pub fn doc_ref(&self) -> DocRef {
        DocRef::new(DocKind::StockCount, &self.id)
    }
}

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

/// A line of the snapshot, as the store read it when the count opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotLine {
    /// Item.
    pub item: ItemId,
    /// Tracking of the item.
    pub tracking: Tracking,
    /// Lot.
    pub lot: LotId,
    /// Lot number.
    pub lot_number: LotNumber,
    /// On hand.
    pub on_hand: i64,
    /// Assets on hand (serial-tracked items).
    pub serials: Vec<SerialNumber>,
}

/// A counted lot as it stands in the books at the moment of recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtRecord {
    /// The lot.
    pub lot: Lot,
    /// Tracking of the item.
    pub tracking: Tracking,
    /// Its balance at the depot now (zero if it has no line).
    pub balance: Balance,
    /// Its assets at the depot that are on hand (in stock or held).
    pub assets: Vec<AssetState>,
}

/// What is done to a count, with what the store read for it.
#[derive(Clone, Copy, Debug)]
pub enum CountAction<'a> {
    /// Open with this snapshot; `id` names the count.
    Open(&'a NewCount, &'a [SnapshotLine], &'a str),
    /// Record counted lines, each with its lot as it stands now.
    Record(&'a [Counted], &'a [AtRecord]),
    /// Submit for approval.
    Submit,
    /// Approve, with the balances and (serial lines) the assets as they are now.
    Approve {
        /// Note.
        note: &'a str,
        /// Every lot of the count with its balance at the depot now (zero
        /// where it has no line).
        lines: &'a [LineState],
        /// Assets of the count's serial lines, wherever they are now.
        assets: &'a [AssetState],
    },
    /// Cancel.
    Cancel {
        /// Why.
        reason: &'a str,
    },
}

impl CountAction<'_> {
    fn verb(&self) -> &'static str {
        match self {
            CountAction::Open(..) => "opened",
            CountAction::Record(..) => "recorded",
            CountAction::Submit => "submitted",
            CountAction::Approve { .. } => "approved",
            CountAction::Cancel { .. } => "cancelled",
        }
    }
}

fn open(n: &NewCount, snapshot: &[SnapshotLine], id: &str, acting: Acting<'_>) -> StockCount {
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

fn record(
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
        if let Some(s) = c
            .serials
            .iter()
            .find(|s| !here.iter().any(|a| &a.serial == *s))
        {
            return Err(StockError::SerialNotAvailable {
                serial: s.to_string(),
                status: "not recorded in this lot here".into(),
                needed: "on hand (receive it first)",
                depot: count.depot.to_string(),
            });
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

fn submit(count: &StockCount, acting: Acting<'_>) -> Result<StockCount, StockError> {
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

fn approve(
    count: &StockCount,
    note: &str,
    lines: &[LineState],
    assets: &[AssetState],
    acting: Acting<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<StockCount>, StockError> {
    let who = acting.who;
    if count.submitted_by.as_deref() == Some(who) || count.recorded_by.iter().any(|r| r == who) {
        return Err(StockError::SamePerson {
            action: "a stock count",
            who: who.to_string(),
            what: "count (a second person who recorded none of its figures approves)",
        });
    }
    let me = count.doc_ref();
    let author = count
        .submitted_by
        .clone()
        .unwrap_or_else(|| count.opened_by.clone());
    let mut next = count.clone();
    let mut entries = Vec::new();
    for line in next.lines.iter_mut() {
        let Some(state) = lines.iter().find(|l| l.lot.id == line.lot) else {
            return Err(StockError::DocumentUnitsMissing {
                document: me.name(),
                lot: line.lot_number.as_str().to_string(),
            });
        };
        let balance = state.balance;
        let mut posts: Vec<(Delta, Vec<SerialNumber>)> = Vec::new();
        if line.serial {
            // Missing at recording and still here, held by no document: the
            // ones that left since were posted by their own movement.
            let missing = line.missing();
            let still = |place: AssetPlace| -> Vec<SerialNumber> {
                missing
                    .iter()
                    .filter(|s| {
                        assets
                            .iter()
                            .any(|a| &a.serial == *s && a.is_at(&count.depot, &place))
                    })
                    .cloned()
                    .collect()
            };
            let in_stock = still(AssetPlace::free(AssetStatus::InStock));
            let held = still(AssetPlace::free(AssetStatus::Held));
            if !in_stock.is_empty() {
                posts.push((Delta::on_hand(-(in_stock.len() as i64)), in_stock));
            }
            if !held.is_empty() {
                let n = held.len() as i64;
                posts.push((
                    Delta {
                        on_hand: -n,
                        held: -n,
                        ..Delta::default()
                    },
                    held,
                ));
            }
        } else if let Some(v) = line.variance().filter(|v| *v != 0) {
            posts.push((Delta::on_hand(v), Vec::new()));
        }
        let mut after = balance;
        for (delta, _) in &posts {
            after = after.check(*delta).map_err(|b| match b {
                Breach::TooLarge => StockError::BalanceLimit(line.lot_number.as_str().to_string()),
                _ => StockError::VarianceConflict {
                    lot: line.lot_number.as_str().to_string(),
                    variance: delta.on_hand,
                    on_hand: balance.on_hand,
                    reserved: balance.reserved,
                    held: balance.held,
                },
            })?;
        }
        line.on_hand_at_approval = Some(balance.on_hand);
        line.posted_variance = Some(after.on_hand - balance.on_hand);
        for (delta, serials) in posts {
            let e = EntryDraft::new(
                new_id(),
                EntryType::Adjustment,
                &count.depot,
                &state.lot,
                delta,
                acting.now,
            )
            .reason(format!(
                "stock count variance: on hand {} at recording, counted {}",
                line.on_hand_at_record.unwrap_or(line.expected),
                line.counted.unwrap_or_default()
            ))
            .owned_by(&me)
            .signed(&author, who)
            .serials(serials);
            line.entry_ids.push(e.id.clone());
            entries.push(e);
        }
    }
    next.status = CountStatus::Approved;
    next.decided_by = Some(who.to_string());
    next.decided_at = Some(acting.now);
    next.decision_note = note.to_string();
    next.version = count.version + 1;
    Ok(DocPlan { doc: next, entries })
}

/// The one transition function of counts: what `action` does to `current`
/// (none when opening), by `acting`. Entries posted on approval belong to
/// the count and are signed by its submitter and the approver.
pub fn count_transition(
    current: Option<&StockCount>,
    action: CountAction<'_>,
    acting: Acting<'_>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<DocPlan<StockCount>, StockError> {
    let plain = |doc: StockCount| DocPlan {
        doc,
        entries: Vec::new(),
    };
    if let Some(c) = current {
        acting.check_etag(DocKind::StockCount, &c.id, c.version)?;
    }
    match (current.map(|c| (c, c.status)), action) {
        (None, CountAction::Open(n, snapshot, id)) => Ok(plain(open(n, snapshot, id, acting))),
        (Some((c, CountStatus::Open)), CountAction::Record(counted, at)) => {
            record(c, counted, at, acting).map(plain)
        }
        (Some((c, CountStatus::Open)), CountAction::Submit) => submit(c, acting).map(plain),
        (
            Some((c, CountStatus::Submitted)),
            CountAction::Approve {
                note,
                lines,
                assets,
            },
        ) => approve(c, note, lines, assets, acting, new_id),
        (Some((c, CountStatus::Open | CountStatus::Submitted)), CountAction::Cancel { reason }) => {
            Ok(plain(StockCount {
                status: CountStatus::Cancelled,
                decided_by: Some(acting.who.to_string()),
                decided_at: Some(acting.now),
                decision_note: reason.to_string(),
                version: c.version + 1,
                ..c.clone()
            }))
        }
        (Some((c, status)), a) => Err(invalid_transition(
            DocKind::StockCount,
            &c.id,
            status.name(),
            a.verb(),
        )),
        (None, _) => Err(StockError::DocumentNotFound {
            kind: DocKind::StockCount.collection(),
            id: String::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stock::testing::{NOW, ids, lot};

    fn acting(who: &str) -> Acting<'_> {
        Acting {
            who,
            now: NOW,
            etag: None,
        }
    }

    fn bal(on_hand: i64) -> Balance {
        Balance {
            on_hand,
            ..Balance::default()
        }
    }

    fn state(l: &str, b: Balance) -> LineState {
        LineState {
            lot: lot(l, None),
            balance: b,
        }
    }

    fn opened(lines: &[(&str, i64)]) -> StockCount {
        let snapshot: Vec<SnapshotLine> = lines
            .iter()
            .map(|(l, q)| SnapshotLine {
                item: ItemId::from_stored("water".into()),
                tracking: Tracking::Lot,
                lot: LotId(l.to_string()),
                lot_number: LotNumber::from_stored(format!("N{l}")),
                on_hand: *q,
                serials: vec![],
            })
            .collect();
        let n = NewCount {
            depot: DepotCode::from_stored("HB-SY".into()),
            items: vec![],
            note: String::new(),
        };
        count_transition(
            None,
            CountAction::Open(&n, &snapshot, "C1"),
            acting("k1"),
            &mut ids(),
        )
        .unwrap()
        .doc
    }

    fn counted(l: &str, q: i64) -> Counted {
        Counted {
            item: ItemId::from_stored("water".into()),
            lot_number: LotNumber::from_stored(format!("N{l}")),
            counted: q,
            serials: vec![],
        }
    }

    fn at(l: &str, on_hand: i64) -> AtRecord {
        AtRecord {
            lot: lot(l, None),
            tracking: Tracking::Lot,
            balance: bal(on_hand),
            assets: vec![],
        }
    }

    fn run(
        c: &StockCount,
        a: CountAction<'_>,
        who: &str,
    ) -> Result<DocPlan<StockCount>, StockError> {
        count_transition(Some(c), a, acting(who), &mut ids())
    }

    #[test]
    fn the_variance_is_counted_minus_on_hand_at_recording_whatever_moved_around_it() {
        // Snapshot 100; 20 issued before recording: 80 on the shelf, 80 recorded.
        let c = opened(&[("a", 100)]);
        let c = run(
            &c,
            CountAction::Record(&[counted("a", 80)], &[at("a", 80)]),
            "k1",
        )
        .unwrap()
        .doc;
        let l = &c.lines[0];
        assert_eq!((l.moved_since_snapshot(), l.variance()), (-20, Some(0)));
        let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
        // 10 more issued after the recording: nothing is posted, on hand stays 70.
        let p = run(
            &c,
            CountAction::Approve {
                note: "",
                lines: &[state("a", bal(70))],
                assets: &[],
            },
            "k2",
        )
        .unwrap();
        assert!(p.entries.is_empty());
        assert_eq!(p.doc.lines[0].on_hand_at_approval, Some(70));

        // A real shortage of 3 at recording lands on top of later movements.
        let c = opened(&[("a", 70)]);
        let c = run(
            &c,
            CountAction::Record(&[counted("a", 62)], &[at("a", 65)]),
            "k1",
        )
        .unwrap()
        .doc;
        let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
        let p = run(
            &c,
            CountAction::Approve {
                note: "",
                lines: &[state("a", bal(63))],
                assets: &[],
            },
            "k2",
        )
        .unwrap();
        assert_eq!(p.entries[0].delta, Delta::on_hand(-3));
        assert_eq!(
            p.entries[0].owner.as_ref().unwrap().name(),
            "stockCounts/C1"
        );
    }

    #[test]
    fn nobody_who_recorded_or_submitted_approves() {
        let c = opened(&[("a", 10)]);
        let c = run(
            &c,
            CountAction::Record(&[counted("a", 9)], &[at("a", 10)]),
            "k1",
        )
        .unwrap()
        .doc;
        let c = run(&c, CountAction::Submit, "k2").unwrap().doc;
        let approve = CountAction::Approve {
            note: "",
            lines: &[state("a", bal(10))],
            assets: &[],
        };
        for who in ["k1", "k2"] {
            assert!(
                matches!(run(&c, approve, who), Err(StockError::SamePerson { .. })),
                "{who}"
            );
        }
        assert!(run(&c, approve, "k3").is_ok());
    }

    #[test]
    fn assets_a_document_holds_are_present_and_assets_gone_since_are_not_missing() {
        let s = |x: &str| SerialNumber::from_stored(x.into());
        let asset = |x: &str, status, holder: Option<DocRef>| AssetState {
            serial: s(x),
            lot: LotId("g".into()),
            depot: DepotCode::from_stored("HB-SY".into()),
            status,
            holder,
        };
        let app = DocRef::new(DocKind::ScrapApplication, "S1");
        let snapshot = vec![SnapshotLine {
            item: ItemId::from_stored("gen".into()),
            tracking: Tracking::Serial,
            lot: LotId("g".into()),
            lot_number: LotNumber::from_stored("Ng".into()),
            on_hand: 4,
            serials: vec![s("G1"), s("G2"), s("G3"), s("G4")],
        }];
        let n = NewCount {
            depot: DepotCode::from_stored("HB-SY".into()),
            items: vec![],
            note: String::new(),
        };
        let c = count_transition(
            None,
            CountAction::Open(&n, &snapshot, "C1"),
            acting("k1"),
            &mut ids(),
        )
        .unwrap()
        .doc;
        let here = vec![
            asset("G1", AssetStatus::InStock, None),
            asset("G2", AssetStatus::InStock, None),
            asset("G3", AssetStatus::Held, None),
            asset("G4", AssetStatus::Held, Some(app.clone())),
        ];
        let seen = Counted {
            item: ItemId::from_stored("gen".into()),
            lot_number: LotNumber::from_stored("Ng".into()),
            counted: 1,
            serials: vec![s("G1")],
        };
        let rec = AtRecord {
            lot: lot("g", None),
            tracking: Tracking::Serial,
            balance: Balance {
                on_hand: 4,
                reserved: 0,
                held: 2,
                doc_held: 1,
            },
            assets: here,
        };
        let c = run(&c, CountAction::Record(&[seen], &[rec]), "k1")
            .unwrap()
            .doc;
        let l = &c.lines[0];
        assert_eq!(l.held_by_documents, vec![s("G4")]);
        assert_eq!(l.missing(), vec![s("G2"), s("G3")]);
        assert_eq!((l.counted, l.variance()), (Some(2), Some(-2)));
        let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
        // G2 was issued after the recording: only G3 (held, no document) is written off.
        let now = vec![
            asset("G1", AssetStatus::InStock, None),
            asset("G2", AssetStatus::Issued, None),
            asset("G3", AssetStatus::Held, None),
            asset("G4", AssetStatus::Held, Some(app)),
        ];
        let p = run(
            &c,
            CountAction::Approve {
                note: "",
                lines: &[state(
                    "g",
                    Balance {
                        on_hand: 3,
                        reserved: 0,
                        held: 2,
                        doc_held: 1,
                    },
                )],
                assets: &now,
            },
            "k2",
        )
        .unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].serials, vec![s("G3")]);
        assert_eq!(
            p.entries[0].delta,
            Delta {
                on_hand: -1,
                held: -1,
                ..Delta::default()
            }
        );
        assert_eq!(
            p.entries[0].assets.as_ref().unwrap().to.status,
            AssetStatus::Missing
        );
    }

    #[test]
    fn a_variance_that_no_longer_fits_refuses_the_whole_approval_and_states_are_enforced() {
        let c = opened(&[("a", 10), ("b", 10)]);
        let c = run(
            &c,
            CountAction::Record(
                &[counted("a", 10), counted("b", 2)],
                &[at("a", 10), at("b", 10)],
            ),
            "k1",
        )
        .unwrap()
        .doc;
        assert!(matches!(
            run(
                &c,
                CountAction::Approve {
                    note: "",
                    lines: &[],
                    assets: &[]
                },
                "k2"
            ),
            Err(StockError::InvalidTransition { .. })
        ));
        let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
        let err = run(
            &c,
            CountAction::Approve {
                note: "",
                lines: &[state("a", bal(10)), state("b", bal(5))],
                assets: &[],
            },
            "k2",
        )
        .unwrap_err();
        assert!(matches!(
            err,
            StockError::VarianceConflict { variance: -8, .. }
        ));
        let open = opened(&[("a", 1), ("b", 1)]);
        let open = run(
            &open,
            CountAction::Record(&[counted("a", 1)], &[at("a", 1)]),
            "k1",
        )
        .unwrap()
        .doc;
        assert_eq!(
            run(&open, CountAction::Submit, "k1").unwrap_err(),
            StockError::CountIncomplete(vec!["water/Nb".into()])
        );
        let cancelled = run(&open, CountAction::Cancel { reason: "重盘" }, "k1")
            .unwrap()
            .doc;
        assert!(run(&cancelled, CountAction::Cancel { reason: "x" }, "k1").is_err());
    }

    #[test]
    fn counted_lines_name_their_fields() {
        let draft = |lot: &str, counted: i64| CountedDraft {
            item: "quilt".into(),
            lot_number: lot.into(),
            counted,
            serials: vec![],
        };
        let v = parse_counted(&[
            draft("", -1),
            draft("Q1", 5),
            draft("Q1", 6),
            draft("Q2", i64::MAX),
        ])
        .unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            f,
            vec![
                "lines[0].lot_number",
                "lines[0].counted",
                "lines[2]",
                "lines[3].counted"
            ]
        );
    }
}
