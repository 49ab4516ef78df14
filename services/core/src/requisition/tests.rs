use super::*;

pub(crate) const T0: UtcMillis = 1_780_000_000_000;
const HOUR: i64 = 3_600_000;

pub(crate) fn draft() -> RequisitionDraft {
    RequisitionDraft {
        depot: "HB-SY".into(),
        incident_id: "inc-1".into(),
        decision: "十堰应急征〔2026〕3号".into(),
        authority: "十堰市人民政府".into(),
        officer: "王建国".into(),
        owner: OwnerDraft {
            kind: 2,
            name: "李四".into(),
            id_number: "420302198001011232".into(),
            phone: "13812345678".into(),
            bank_account: "6222020200112233445".into(),
            bank_name: "中国工商银行十堰分行".into(),
        },
        taken: None,
        voucher: String::new(),
        items: vec![
            RequisitionItemDraft {
                description: "挖掘机 卡特320".into(),
                quantity: 1,
                unit: "台".into(),
                returnable: true,
                condition: "完好，已运行 3200 小时".into(),
                unit_value_fen: 80_000_000,
                daily_rate_fen: 250_000,
                used_at: "竹山县城关镇 堰塞湖".into(),
            },
            RequisitionItemDraft {
                description: "棉被".into(),
                quantity: 300,
                unit: "床".into(),
                returnable: false,
                condition: "全新".into(),
                unit_value_fen: 15_000,
                daily_rate_fen: 0,
                used_at: "城关镇安置点".into(),
            },
        ],
    }
}

pub(crate) fn record(now: UtcMillis) -> Requisition {
    let n = NewRequisition::parse(&draft(), now).unwrap();
    Requisition::record(
        "r1".into(),
        "ZY-2026-000001".into(),
        &n,
        "p1".into(),
        "dispatcher",
        now,
    )
}

pub(crate) fn outcome(line: u32, kind: OutcomeKind, quantity: i64, at: UtcMillis) -> Outcome {
    Outcome {
        line,
        kind,
        quantity,
        at,
        repair_cost_fen: 0,
        certificate: "证-1".into(),
        note: String::new(),
        recorded_by: "keeper".into(),
        from_depot: None,
    }
}

#[test]
fn a_requisition_with_every_field_right_parses_and_the_owner_is_kept_masked() {
    let n = NewRequisition::parse(&draft(), T0).unwrap();
    assert_eq!(n.owner.kind, OwnerKind::Person);
    assert_eq!(n.items.len(), 2);
    let r = record(T0);
    assert_eq!(r.owner.masked.id_number, "4203**********1232");
    assert_eq!(r.owner.masked.phone, "13*******78");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("420302198001011232"), "{json}");
    assert!(!json.contains("6222020200112233445"), "{json}");
}

#[test]
fn every_broken_field_is_reported_at_once_and_no_private_value_is_echoed() {
    let mut d = draft();
    d.owner.id_number = "420302198001011234".into();
    d.owner.bank_account = "62220x".into();
    d.officer = String::new();
    d.items[0].quantity = 0;
    d.items[1].unit_value_fen = -1;
    let v = NewRequisition::parse(&d, T0).unwrap_err();
    let fields: Vec<&str> = v.as_slice().iter().map(|f| f.field.as_str()).collect();
    for f in [
        "owner.id_number",
        "owner.bank_account",
        "officer",
        "items[0].quantity",
        "items[1].unit_value_fen",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let text = format!("{v}");
    assert!(
        !text.contains("420302198001011234") && !text.contains("62220x"),
        "{text}"
    );
}

#[test]
fn a_company_owner_needs_a_credit_code_with_the_right_check_character() {
    let mut d = draft();
    d.owner.kind = 1;
    d.owner.id_number = "420302198001011232".into();
    let v = NewRequisition::parse(&d, T0).unwrap_err();
    assert_eq!(v.as_slice()[0].field, "owner.id_number");
}

#[test]
fn a_voucher_is_due_48_hours_after_taking_and_overdue_after() {
    let r = record(T0);
    assert!(!r.voucher_overdue(T0 + 47 * HOUR));
    assert!(r.voucher_overdue(T0 + 49 * HOUR));
    let v = r
        .record_voucher("凭-7".into(), T0 + 50 * HOUR, "d")
        .unwrap();
    assert!(!v.voucher_overdue(T0 + 100 * HOUR));
    assert!(matches!(
        v.record_voucher("凭-8".into(), T0 + 51 * HOUR, "d"),
        Err(RequisitionError::VoucherExists { .. })
    ));
}

#[test]
fn partial_outcomes_add_up_and_the_record_resolves_when_every_unit_has_one() {
    let r = record(T0);
    let r = r
        .record_outcomes(
            vec![outcome(2, OutcomeKind::Consumed, 250, T0 + HOUR)],
            T0 + HOUR,
        )
        .unwrap();
    assert_eq!(r.items[1].outstanding(), 50);
    assert_eq!(r.state, RequisitionState::InUse);
    let err = r
        .record_outcomes(
            vec![outcome(2, OutcomeKind::ReturnedIntact, 51, T0 + HOUR)],
            T0 + HOUR,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        RequisitionError::Overstated {
            outstanding: 50,
            ..
        }
    ));
    let r = r
        .record_outcomes(
            vec![
                outcome(2, OutcomeKind::ReturnedIntact, 50, T0 + 2 * HOUR),
                outcome(1, OutcomeKind::ReturnedIntact, 1, T0 + 2 * HOUR),
            ],
            T0 + 2 * HOUR,
        )
        .unwrap();
    assert_eq!(r.state, RequisitionState::Resolved);
    assert_eq!(r.version, 3);
}

#[test]
fn returnable_property_cannot_be_recorded_consumed() {
    let r = record(T0);
    assert!(matches!(
        r.record_outcomes(vec![outcome(1, OutcomeKind::Consumed, 1, T0)], T0),
        Err(RequisitionError::NotConsumable { line: 1, .. })
    ));
}

#[test]
fn damaged_and_lost_outcomes_need_a_certificate_and_repair_cost_only_goes_with_damage() {
    let d = |kind, cert: &str, repair| OutcomeDraft {
        line: 1,
        kind,
        quantity: 1,
        repair_cost_fen: repair,
        certificate: cert.into(),
        note: String::new(),
    };
    assert!(parse_outcomes(&[d(2, "", 100)], T0, "k", None).is_err());
    assert!(parse_outcomes(&[d(3, "", 0)], T0, "k", None).is_err());
    assert!(parse_outcomes(&[d(1, "", 100)], T0, "k", None).is_err());
    assert!(parse_outcomes(&[d(2, "损-1", 100)], T0, "k", None).is_ok());
    assert!(parse_outcomes(&[d(9, "x", 0)], T0, "k", None).is_err());
}
