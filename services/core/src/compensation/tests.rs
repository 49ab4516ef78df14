use super::*;
use crate::requisition::OutcomeKind;
use crate::requisition::tests::{T0, outcome, record};

const DAY: i64 = 86_400_000;

fn labour() -> DirectCostDraft {
    DirectCostDraft {
        kind: 2,
        description: "机手 2 人".into(),
        staff_days: 20,
        daily_wage_fen: 40_000,
        amount_fen: 0,
        evidence: "考勤表-0712".into(),
    }
}

fn fuel() -> DirectCostDraft {
    DirectCostDraft {
        kind: 1,
        description: "柴油".into(),
        staff_days: 0,
        daily_wage_fen: 0,
        amount_fen: 1_234_500,
        evidence: "加油发票 0081".into(),
    }
}

fn resolved() -> crate::requisition::Requisition {
    // The excavator back after 10 days, damaged; 280 quilts used, 20 back.
    let mut damaged = outcome(1, OutcomeKind::Damaged, 1, T0 + 10 * DAY);
    damaged.repair_cost_fen = 3_000_000;
    record(T0)
        .record_outcomes(
            vec![
                damaged,
                outcome(2, OutcomeKind::Consumed, 280, T0 + 3 * DAY),
                outcome(2, OutcomeKind::ReturnedIntact, 20, T0 + 3 * DAY),
            ],
            T0 + 10 * DAY,
        )
        .unwrap()
}

#[test]
fn labour_is_staff_days_times_wage_and_every_cost_needs_evidence() {
    let c = parse_direct_costs(&[labour(), fuel()]).unwrap();
    assert_eq!(c[0].amount_fen, 800_000);
    assert_eq!(c[1].amount_fen, 1_234_500);
    let mut bad = fuel();
    bad.evidence = String::new();
    let mut typed = labour();
    typed.amount_fen = 5;
    let v = parse_direct_costs(&[bad, typed]).unwrap_err();
    let fields: Vec<&str> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"direct_costs[0].evidence"), "{fields:?}");
    assert!(fields.contains(&"direct_costs[1].amount_fen"), "{fields:?}");
}

#[test]
fn the_claim_is_usage_plus_capped_repair_plus_value_of_consumed_units_plus_direct_costs() {
    let r = resolved();
    let costs = parse_direct_costs(&[labour(), fuel()]).unwrap();
    let f = figures(&r, &costs, crate::stock::Day::today(T0 + 20 * DAY)).unwrap();
    // Excavator: 10 days × 2,500 yuan; quilts: no daily rate.
    assert_eq!(f.usage_fen, 10 * 250_000);
    assert_eq!(f.repair_fen, 3_000_000);
    assert_eq!(f.loss_fen, 280 * 15_000);
    assert_eq!(f.direct_fen, 800_000 + 1_234_500);
    assert_eq!(f.total_fen, 2_500_000 + 3_000_000 + 4_200_000 + 2_034_500);
    assert!(!f.interim);
}

#[test]
fn a_repair_cost_above_the_appraised_value_is_capped_at_the_value() {
    let mut damaged = outcome(1, OutcomeKind::Damaged, 1, T0 + DAY);
    damaged.repair_cost_fen = 95_000_000;
    let r = record(T0).record_outcomes(vec![damaged], T0 + DAY).unwrap();
    let f = figures(&r, &[], crate::stock::Day::today(T0 + DAY)).unwrap();
    assert_eq!(f.lines[0].repair_claimed_fen, 95_000_000);
    assert_eq!(f.lines[0].repair_fen, 80_000_000);
}

#[test]
fn units_still_out_are_charged_to_the_day_figured_and_marked_interim() {
    let f = figures(&record(T0), &[], crate::stock::Day::today(T0 + 5 * DAY)).unwrap();
    assert!(f.interim);
    assert_eq!(f.usage_fen, 5 * 250_000);
}

fn claim() -> Claim {
    let r = resolved();
    Claim::open(
        "c1".into(),
        "BC-2026-000001".into(),
        &r,
        crate::tier::Tier::City,
        vec![],
        "",
        "fin-a",
        T0,
    )
}

#[test]
fn assessment_needs_every_unit_resolved() {
    let c = claim();
    let open = record(T0);
    assert!(matches!(
        c.assess(&open, vec![], "fin-a", T0, ""),
        Err(RequisitionError::NotResolved {
            outstanding: 301,
            ..
        })
    ));
}

#[test]
fn the_approver_must_be_a_different_officer_and_payments_never_exceed_the_approved_amount() {
    let r = resolved();
    let c = claim()
        .assess(&r, vec![], "fin-a", T0 + 11 * DAY, "")
        .unwrap();
    assert_eq!(c.state, ClaimState::Assessed);
    assert!(matches!(
        c.approve("fin-a", T0 + 11 * DAY, ""),
        Err(RequisitionError::SameOfficer { .. })
    ));
    let c = c.approve("fin-b", T0 + 11 * DAY, "").unwrap();
    let total = c.approved_fen;
    assert_eq!(total, 2_500_000 + 3_000_000 + 4_200_000);
    let pay = |amount, by: &str| Payment {
        amount_fen: amount,
        paid_on: crate::stock::Day::today(T0 + 12 * DAY),
        bank_reference: "TX1".into(),
        recorded_by: by.into(),
        recorded_at: T0 + 12 * DAY,
    };
    let c = c.pay(pay(5_000_000, "fin-a")).unwrap();
    assert_eq!(c.state, ClaimState::Approved);
    assert_eq!(c.outstanding_fen(), total - 5_000_000);
    assert!(matches!(
        c.pay(pay(total, "fin-a")),
        Err(RequisitionError::Overpaid { .. })
    ));
    let c = c.pay(pay(total - 5_000_000, "fin-a")).unwrap();
    assert_eq!(c.state, ClaimState::Paid);
    assert!(c.settled_at.is_some());
    assert!(c.pay(pay(1, "fin-a")).is_err());
    assert!(c.dispute("fin-a", T0, "x").is_err());
}

#[test]
fn a_disputed_claim_is_re_assessed_and_approved_again_and_never_below_what_was_paid() {
    let r = resolved();
    let c = claim()
        .assess(&r, vec![], "fin-a", T0 + 11 * DAY, "")
        .unwrap()
        .approve("fin-b", T0 + 11 * DAY, "")
        .unwrap();
    let c = c
        .pay(Payment {
            amount_fen: 1_000_000,
            paid_on: crate::stock::Day::today(T0 + 12 * DAY),
            bank_reference: "TX1".into(),
            recorded_by: "fin-a".into(),
            recorded_at: T0 + 12 * DAY,
        })
        .unwrap();
    let c = c
        .dispute("fin-a", T0 + 13 * DAY, "owner asks for fuel")
        .unwrap();
    assert_eq!(c.state, ClaimState::Disputed);
    assert!(c.approve("fin-b", T0, "").is_err());
    let costs = parse_direct_costs(&[fuel()]).unwrap();
    let c = c
        .assess(&r, costs, "fin-b", T0 + 14 * DAY, "fuel accepted")
        .unwrap();
    assert_eq!(c.assessed.as_ref().unwrap().direct_fen, 1_234_500);
    assert!(matches!(
        c.approve("fin-b", T0, ""),
        Err(RequisitionError::SameOfficer { .. })
    ));
    let c = c.approve("fin-a", T0 + 14 * DAY, "").unwrap();
    assert_eq!(c.outstanding_fen(), c.approved_fen - 1_000_000);
    assert_eq!(c.timeline.len(), 7);
}
