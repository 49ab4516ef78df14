//! Leasing out, returns and the fee table, in exact fen.

use super::fee::{charged_days, statement};
use super::plan::{LineWorld, plan_out, plan_return, recall};
use super::*;
use crate::item::Tracking;
use crate::stock::StockError;
use crate::stock::balance::Delta;
use crate::stock::entry::{AssetStatus, EntryType};
use crate::stock::testing::{NOW, ids, item, line, lot, today};

const DAY: i64 = 86_400_000;

fn new_lease(quantity: i64, rate: i64, deposit: i64, term: i64) -> NewLease {
    NewLease::parse(&LeaseDraft {
        depot: "HB-SY".into(),
        lessee_name: "十堰市建工集团".into(),
        credit_code: "91420300MA4F0A2B31".into(),
        contact: ContactDraft {
            name: "王工".into(),
            duty: String::new(),
            phone: "13800000000".into(),
        },
        due: {
            let d = today().plus(term).date();
            use chrono::Datelike;
            Some((d.year(), d.month() as i32, d.day() as i32))
        },
        deposit_fen: deposit,
        recallable: true,
        lines: vec![LeaseLineDraft {
            item: "water".into(),
            quantity,
            daily_rate_fen: rate,
            ..Default::default()
        }],
        ..Default::default()
    })
    .unwrap_or_else(|v| panic!("{v}"))
}

/// Leases `quantity` of 100 on hand at `rate` fen a day for 10 days.
fn leased(quantity: i64, rate: i64, deposit: i64) -> Lease {
    let mut it = item(1, 0);
    it.leasable = true;
    let lines = [line("a", None, 100)];
    let worlds = [LineWorld {
        item: &it,
        lines: &lines,
        assets: &[],
        minimum: 0,
    }];
    let p = plan_out(
        &new_lease(quantity, rate, deposit, 10),
        &worlds,
        "L1",
        "ZL-2026-000001",
        "keeper",
        NOW,
        today(),
        &mut ids(),
    )
    .unwrap();
    assert_eq!(p.entries.len(), 1);
    assert_eq!(p.entries[0].kind, EntryType::LeaseOut);
    assert_eq!(p.entries[0].delta, Delta::lease_out(quantity));
    p.lease
}

fn back(l: &Lease, days: i64, intact: i64, damaged: i64, damage_fen: i64) -> Lease {
    let lines = [ReturnLine {
        line: 1,
        intact,
        serials: vec![],
        damaged,
        damaged_serials: vec![],
        inspection: ReturnInspection {
            line: 1,
            condition: Condition::Good,
            damaged_condition: (damaged > 0).then_some(Condition::NeedsRepair),
            damage_fen,
            note: String::new(),
        },
    }];
    plan_return(
        l,
        &lines,
        &|_| Tracking::Lot,
        &[lot("a", None)],
        "keeper",
        NOW + days * DAY,
        &mut ids(),
    )
    .unwrap()
    .lease
}

fn balance_on(l: &Lease, days: i64) -> (i64, i64, i64) {
    let s = statement(l, today().plus(days)).unwrap();
    (s.usage_fen, s.total_fen, s.balance_fen)
}

#[test]
fn the_day_rule_counts_the_start_date_not_the_return_date_and_at_least_one_day() {
    assert_eq!(charged_days(today(), today().plus(10)), 10);
    assert_eq!(charged_days(today(), today()), 1);
    assert_eq!(charged_days(today(), today().plus(1)), 1);
}

#[test]
fn fee_table_in_exact_fen() {
    // 10 tents at 5.00 yuan a day for 10 days, deposit 200.00 yuan.
    let l = leased(10, 500, 20_000);
    // Full term: 10 × 10 × 500.
    let full = back(&l, 10, 10, 0, 0);
    assert_eq!(full.state, LeaseState::Returned);
    assert_eq!(balance_on(&full, 30), (50_000, 50_000, 30_000));
    // Early return on day 4: 10 × 4 × 500; the deposit covers it exactly.
    assert_eq!(balance_on(&back(&l, 4, 10, 0, 0), 30), (20_000, 20_000, 0));
    // Late return on day 13: every day out, at the same rate.
    assert_eq!(
        balance_on(&back(&l, 13, 10, 0, 0), 30),
        (65_000, 65_000, 45_000)
    );
    // Same-day return: one day.
    assert_eq!(
        balance_on(&back(&l, 0, 10, 0, 0), 30),
        (5_000, 5_000, -15_000)
    );
    // Recalled on day 5 with a day to bring them back, back on day 6: fees
    // stop at the recall date.
    let r = recall(&l, NOW + 6 * DAY, "防汛", "dispatcher", NOW + 5 * DAY).unwrap();
    let s = statement(&back(&r, 6, 10, 0, 0), today().plus(30)).unwrap();
    assert_eq!((s.usage_fen, s.balance_fen), (25_000, 5_000));
    assert_eq!(s.fees_stop, Some(today().plus(5)));
    // Recalled and still out, before the deadline's date: stopped at the recall.
    assert_eq!(balance_on(&r, 6).0, 25_000);
    // Kept past the deadline (day 6): charged again from it. Back on day 9:
    // 5 days to the recall plus 3 past the deadline.
    let late = statement(&back(&r, 9, 10, 0, 0), today().plus(30)).unwrap();
    assert_eq!(late.usage_fen, 10 * (5 + 3) * 500);
    assert_eq!(balance_on(&r, 9).0, 10 * (5 + 3) * 500);
    // Partial: 4 back on day 3, 6 on day 10.
    let part = back(&l, 3, 4, 0, 0);
    assert_eq!(part.state, LeaseState::Open);
    let interim = statement(&part, today().plus(6)).unwrap();
    assert_eq!(interim.usage_fen, 4 * 3 * 500 + 6 * 6 * 500);
    assert!(interim.charges.iter().any(|c| c.still_out && c.units == 6));
    assert!(!interim.is_final);
    let done = back(&part, 10, 6, 0, 0);
    let s = statement(&done, today().plus(30)).unwrap();
    assert_eq!(
        (s.usage_fen, s.balance_fen, s.is_final),
        (36_000, 16_000, true)
    );
    // Damage above the deposit: 2 days' use plus 500.00 yuan of damage.
    let damaged = back(&l, 2, 7, 3, 50_000);
    let s = statement(&damaged, today().plus(30)).unwrap();
    assert_eq!(
        (s.usage_fen, s.damage_fen, s.total_fen, s.balance_fen),
        (10_000, 50_000, 60_000, 40_000)
    );
}

#[test]
fn a_return_brings_damaged_units_into_a_free_hold_and_never_more_than_is_out() {
    let l = leased(10, 500, 0);
    let lines = [ReturnLine {
        line: 1,
        intact: 6,
        serials: vec![],
        damaged: 3,
        damaged_serials: vec![],
        inspection: ReturnInspection {
            line: 1,
            condition: Condition::Good,
            damaged_condition: Some(Condition::NeedsRepair),
            damage_fen: 100,
            note: String::new(),
        },
    }];
    let p = plan_return(
        &l,
        &lines,
        &|_| Tracking::Lot,
        &[lot("a", None)],
        "k",
        NOW,
        &mut ids(),
    )
    .unwrap();
    let deltas: Vec<Delta> = p.entries.iter().map(|e| e.delta).collect();
    assert_eq!(
        deltas,
        vec![
            Delta::lease_out(-6),
            Delta {
                held: 3,
                ..Delta::lease_out(-3)
            }
        ]
    );
    assert_eq!(p.lease.outstanding(), 1);
    let mut too_many = lines.clone();
    too_many[0].intact = 2;
    let err = plan_return(
        &p.lease,
        &too_many,
        &|_| Tracking::Lot,
        &[lot("a", None)],
        "k",
        NOW,
        &mut ids(),
    )
    .unwrap_err();
    assert!(matches!(err, LeaseError::NotOut(_)), "{err:?}");
}

#[test]
fn a_lease_never_takes_a_depot_below_its_minimum_nor_non_leasable_items() {
    let mut it = item(1, 0);
    it.leasable = true;
    let lines = [line("a", None, 100)];
    let w = |minimum| LineWorld {
        item: &it,
        lines: &lines,
        assets: &[],
        minimum,
    };
    let go = |world: LineWorld<'_>| {
        plan_out(
            &new_lease(30, 100, 0, 5),
            &[world],
            "L",
            "N",
            "k",
            NOW,
            today(),
            &mut ids(),
        )
    };
    assert!(go(w(70)).is_ok());
    let err = go(w(71)).err().unwrap();
    assert!(
        matches!(
            err,
            LeaseError::Stock(StockError::BelowReserveMinimum { .. })
        ),
        "{err:?}"
    );
    let plain = item(1, 0);
    let err = go(LineWorld {
        item: &plain,
        ..w(0)
    })
    .err()
    .unwrap();
    assert!(matches!(err, LeaseError::NotLeasable(_)));
}

#[test]
fn leased_serials_are_on_lease_held_by_the_lease() {
    let l = leased(10, 500, 0);
    let m = crate::stock::entry::asset_transition(
        EntryType::LeaseOut,
        Delta::lease_out(1),
        Some(&l.doc_ref()),
    )
    .unwrap();
    assert_eq!(m.to.status, AssetStatus::OnLease);
    assert_eq!(m.to.holder, Some(l.doc_ref()));
}

#[test]
fn a_recall_needs_an_open_recallable_lease_once() {
    let l = leased(10, 500, 0);
    let r = recall(&l, NOW + DAY, "汛情", "d", NOW).unwrap();
    assert!(matches!(
        recall(&r, NOW + DAY, "again", "d", NOW),
        Err(LeaseError::NotRecallable(_))
    ));
    let mut fixed = l.clone();
    fixed.recallable = false;
    assert!(matches!(
        recall(&fixed, NOW + DAY, "x", "d", NOW),
        Err(LeaseError::NotRecallable(_))
    ));
    let done = back(&l, 1, 10, 0, 0);
    assert!(matches!(
        recall(&done, NOW + DAY, "x", "d", NOW),
        Err(LeaseError::InvalidTransition { .. })
    ));
}

#[test]
fn lease_fields_are_checked_together() {
    let v = NewLease::parse(&LeaseDraft {
        depot: "HB-SY".into(),
        credit_code: "91420300MA4F0A2B3D".into(),
        deposit_fen: -1,
        lines: vec![LeaseLineDraft {
            item: "water".into(),
            quantity: 1,
            daily_rate_fen: 0,
            ..Default::default()
        }],
        ..Default::default()
    })
    .unwrap_err();
    let fields: Vec<&str> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
    for f in [
        "lease.lessee.name",
        "lease.lessee.credit_code",
        "lease.due_date",
        "lease.deposit_fen",
        "lease.lines[0].daily_rate_fen",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
}

#[test]
fn the_due_date_is_judged_against_the_day_the_units_leave_and_returns_keep_their_order() {
    let mut it = item(1, 0);
    it.leasable = true;
    let lines = [line("a", None, 100)];
    let worlds = [LineWorld {
        item: &it,
        lines: &lines,
        assets: &[],
        minimum: 0,
    }];
    let today_due = new_lease(1, 100, 0, 0);
    let err = plan_out(&today_due, &worlds, "L", "N", "k", NOW, today(), &mut ids()).unwrap_err();
    assert!(matches!(&err, LeaseError::Invalid(v) if v.as_slice()[0].field == "lease.due_date"));
    // A return dated before the last one is refused.
    let l = back(&leased(10, 500, 0), 3, 2, 0, 0);
    let one = [ReturnLine {
        line: 1,
        intact: 1,
        serials: vec![],
        damaged: 0,
        damaged_serials: vec![],
        inspection: ReturnInspection {
            line: 1,
            condition: Condition::Good,
            damaged_condition: None,
            damage_fen: 0,
            note: String::new(),
        },
    }];
    let err = plan_return(
        &l,
        &one,
        &|_| Tracking::Lot,
        &[lot("a", None)],
        "k",
        NOW + DAY,
        &mut ids(),
    )
    .unwrap_err();
    assert!(matches!(err, LeaseError::Invalid(_)), "{err:?}");
}

#[test]
fn intact_units_are_good_or_worn_and_damaged_ones_need_repair_or_are_unserviceable() {
    let draft = |condition, damaged_condition| ReturnLineDraft {
        line: 1,
        quantity: 2,
        damaged_quantity: 1,
        condition,
        damaged_condition,
        ..Default::default()
    };
    let ok = parse_return(&[draft(2, 4)]).unwrap();
    assert_eq!(ok[0].inspection.condition, Condition::Worn);
    assert_eq!(
        ok[0].inspection.damaged_condition,
        Some(Condition::Unserviceable)
    );
    let defaults = parse_return(&[draft(0, 0)]).unwrap();
    assert_eq!(
        (
            defaults[0].inspection.condition,
            defaults[0].inspection.damaged_condition
        ),
        (Condition::Good, Some(Condition::NeedsRepair))
    );
    let v = parse_return(&[draft(4, 1)]).unwrap_err();
    let fields: Vec<&str> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["lines[0].condition", "lines[0].damaged_condition"]
    );
}
