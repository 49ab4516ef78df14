//! One test per rule of counts.

use super::*;
use crate::depot::DepotStatus;
use crate::stock::balance::Delta;
use crate::stock::entry::AssetStatus;
use crate::stock::testing::{NOW, depot, ids, lot};

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
        owner: crate::tier::Tier::City,
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

fn run(c: &StockCount, a: CountAction<'_>, who: &str) -> Result<DocPlan<StockCount>, StockError> {
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
            depot: &depot(),
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
            depot: &depot(),
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
        depot: &depot(),
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
            on_lease: 0,
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
            depot: &depot(),
            lines: &[state(
                "g",
                Balance {
                    on_hand: 3,
                    reserved: 0,
                    held: 2,
                    doc_held: 1,
                    on_lease: 0,
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
                depot: &depot(),
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
            depot: &depot(),
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

#[test]
fn a_unit_seen_that_the_books_wrote_off_here_or_voided_comes_back_on_approval() {
    let s = |x: &str| SerialNumber::from_stored(x.into());
    let asset = |x: &str, lot: &str, depot: &str, status| AssetState {
        serial: s(x),
        lot: LotId(lot.into()),
        depot: DepotCode::from_stored(depot.into()),
        status,
        holder: None,
    };
    let c = opened(&[]);
    let seen = |serials: &[&str]| Counted {
        item: ItemId::from_stored("water".into()),
        lot_number: LotNumber::from_stored("Ng".into()),
        counted: serials.len() as i64,
        serials: serials.iter().map(|x| s(x)).collect(),
    };
    let rec = |assets: Vec<AssetState>| AtRecord {
        lot: lot("g", None),
        tracking: Tracking::Serial,
        balance: bal(1),
        assets,
    };
    let world = vec![
        asset("G1", "g", "HB-SY", AssetStatus::InStock),
        // Written off here from another lot, voided at another depot.
        asset("G5", "x", "HB-SY", AssetStatus::Missing),
        asset("G6", "g", "HB-SY-ZS", AssetStatus::Void),
        asset("G7", "g", "HB-SY", AssetStatus::Issued),
        asset("G8", "g", "HB-SY-ZS", AssetStatus::Missing),
    ];
    for refused in ["G7", "G8", "G9"] {
        let err = run(
            &c,
            CountAction::Record(&[seen(&["G1", refused])], &[rec(world.clone())]),
            "k1",
        )
        .unwrap_err();
        assert!(
            matches!(&err, StockError::SerialNotAvailable { serial, .. } if serial == refused),
            "{err:?}"
        );
    }
    let c = run(
        &c,
        CountAction::Record(&[seen(&["G1", "G5", "G6"])], &[rec(world)]),
        "k1",
    )
    .unwrap()
    .doc;
    let l = &c.lines[0];
    assert_eq!(l.found(), vec![s("G5"), s("G6")]);
    assert_eq!((l.counted, l.variance()), (Some(3), Some(2)));
    let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
    // G6 was received at HB-SY-ZS since: only G5 comes back here.
    let now = vec![
        asset("G5", "x", "HB-SY", AssetStatus::Missing),
        asset("G6", "g", "HB-SY-ZS", AssetStatus::InStock),
    ];
    let p = run(
        &c,
        CountAction::Approve {
            note: "",
            depot: &depot(),
            lines: &[state("g", bal(1))],
            assets: &now,
        },
        "k2",
    )
    .unwrap();
    assert_eq!(p.entries.len(), 1);
    assert_eq!(p.entries[0].serials, vec![s("G5")]);
    assert_eq!(p.entries[0].delta, Delta::on_hand(1));
    assert_eq!(p.entries[0].assets.as_ref().unwrap().from, None);
    assert_eq!(p.doc.lines[0].posted_variance, Some(1));
}

#[test]
fn a_found_unit_is_counted_in_one_lot_only() {
    let s = |x: &str| SerialNumber::from_stored(x.into());
    let c = opened(&[]);
    let missing = AssetState {
        serial: s("G5"),
        lot: LotId("g".into()),
        depot: DepotCode::from_stored("HB-SY".into()),
        status: AssetStatus::Missing,
        holder: None,
    };
    let line = |l: &str| Counted {
        item: ItemId::from_stored("water".into()),
        lot_number: LotNumber::from_stored(format!("N{l}")),
        counted: 1,
        serials: vec![s("G5")],
    };
    let rec = |l: &str| AtRecord {
        lot: lot(l, None),
        tracking: Tracking::Serial,
        balance: bal(0),
        assets: vec![missing.clone()],
    };
    let err = run(
        &c,
        CountAction::Record(&[line("g"), line("h")], &[rec("g"), rec("h")]),
        "k1",
    )
    .unwrap_err();
    assert!(
        matches!(&err, StockError::Invalid(v) if v.as_slice()[0].field == "lines[1].serial_numbers"),
        "{err:?}"
    );
}

#[test]
fn a_count_takes_units_in_only_while_its_depot_is_active_and_writes_off_any_time() {
    let c = opened(&[("a", 10), ("b", 10)]);
    let c = run(
        &c,
        CountAction::Record(
            &[counted("a", 12), counted("b", 9)],
            &[at("a", 10), at("b", 10)],
        ),
        "k1",
    )
    .unwrap()
    .doc;
    let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
    let lines = [state("a", bal(10)), state("b", bal(10))];
    for status in [DepotStatus::Suspended, DepotStatus::Closed] {
        let d = crate::depot::Depot { status, ..depot() };
        let err = run(
            &c,
            CountAction::Approve {
                note: "",
                depot: &d,
                lines: &lines,
                assets: &[],
            },
            "k2",
        )
        .unwrap_err();
        assert!(
            matches!(err, StockError::DepotNotActive { .. }),
            "{status:?}: {err:?}"
        );
    }
    // A shortage is written off whatever the depot's status.
    let c = opened(&[("b", 10)]);
    let c = run(
        &c,
        CountAction::Record(&[counted("b", 9)], &[at("b", 10)]),
        "k1",
    )
    .unwrap()
    .doc;
    let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
    let d = crate::depot::Depot {
        status: DepotStatus::Suspended,
        ..depot()
    };
    let p = run(
        &c,
        CountAction::Approve {
            note: "",
            depot: &d,
            lines: &[state("b", bal(10))],
            assets: &[],
        },
        "k2",
    )
    .unwrap();
    assert_eq!(p.entries[0].delta, Delta::on_hand(-1));
}

#[test]
fn a_shortage_is_written_off_from_free_units_then_from_holds_no_document_owns() {
    // 10 on hand; 7 held, 2 of them by a scrap application; 3 free.
    let held = Balance {
        on_hand: 10,
        reserved: 0,
        held: 7,
        doc_held: 2,
        on_lease: 0,
    };
    let approve_with = |counted_now: i64| {
        let c = opened(&[("a", 10)]);
        let c = run(
            &c,
            CountAction::Record(&[counted("a", counted_now)], &[at("a", 10)]),
            "k1",
        )
        .unwrap()
        .doc;
        let c = run(&c, CountAction::Submit, "k1").unwrap().doc;
        run(
            &c,
            CountAction::Approve {
                note: "",
                depot: &depot(),
                lines: &[state("a", held)],
                assets: &[],
            },
            "k2",
        )
    };
    // 4 missing: the 3 free ones and 1 held by no document.
    let p = approve_with(6).unwrap();
    assert_eq!(
        p.entries[0].delta,
        Delta {
            on_hand: -4,
            held: -1,
            ..Delta::default()
        }
    );
    assert_eq!(p.doc.lines[0].posted_variance, Some(-4));
    // 8 missing: every unit no document holds.
    let p = approve_with(2).unwrap();
    let after = held.apply(p.entries[0].delta).unwrap();
    assert_eq!((after.on_hand, after.held, after.doc_held), (2, 2, 2));
    // 9 missing would take a unit the application holds.
    assert!(matches!(
        approve_with(1),
        Err(StockError::VarianceConflict { variance: -9, .. })
    ));
}
