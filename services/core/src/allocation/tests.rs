//! The order's transition function on hand-made worlds: what each action
//! posts, which states allow it, and the rules on sources.

use super::dispatch::{DispatchDraft, DispatchNote, ShortDraft};
use super::draft::{LineDraft, NewOrder, OrderDraft, SourceDraft};
use super::receive::{Arrival, ArrivalDraft};
use super::rules::{OrderWorld, OwnSubtree, SourceStock};
use super::transition::{Actor, OrderAction, allowed, order_transition};
use super::*;
use crate::depot::{ContactDraft, DepotCode};
use crate::item::ItemId;
use crate::stock::document::DocPlan;
use crate::stock::testing::{NOW, item, line, today};
use crate::stock::{Delta, EntryType, StockError};

fn code(s: &str) -> DepotCode {
    DepotCode::from_stored(s.into())
}

fn actor(who: &str) -> Actor<'_> {
    Actor {
        who,
        name: who,
        now: NOW,
        etag: None,
    }
}

fn ids() -> impl FnMut() -> String {
    crate::stock::testing::ids()
}

/// Water at ZS (lots a: 30 units expiring in 100 days, b: 50 in 20 days)
/// and at SY (200 units), minimum 10 at ZS.
fn world() -> OrderWorld {
    let water = item(1, 365);
    OrderWorld {
        items: vec![water],
        stock: vec![
            SourceStock {
                depot: code("ZS"),
                item: ItemId::from_stored("water".into()),
                lines: vec![line("a", Some(100), 30), line("b", Some(20), 50)],
                minimum: 10,
                free_assets: Vec::new(),
            },
            SourceStock {
                depot: code("SY"),
                item: ItemId::from_stored("water".into()),
                lines: vec![line("c", Some(300), 200)],
                minimum: 0,
                free_assets: Vec::new(),
            },
        ],
        own: Some(OwnSubtree {
            root: code("ZS"),
            members: vec![code("ZS"), code("ZS-01")],
            spare: [(ItemId::from_stored("water".into()), vec![(code("ZS"), 70)])]
                .into_iter()
                .collect(),
        }),
        destination_owner: Some(crate::tier::Tier::Township),
        today: Some(today()),
        lots: Vec::new(),
    }
}

fn draft(priority: i32, sources: &[(&str, i64)], requested: i64) -> NewOrder {
    NewOrder::parse(
        &OrderDraft {
            kind: 1,
            priority,
            reason: "汛期".into(),
            destination_depot: "ZS-01".into(),
            receiver_contact: Some(ContactDraft {
                name: "王".into(),
                duty: String::new(),
                phone: "13800000000".into(),
            }),
            lines: vec![LineDraft {
                item: "water".into(),
                requested,
                sources: sources
                    .iter()
                    .map(|(d, q)| SourceDraft {
                        depot: d.to_string(),
                        lot: String::new(),
                        quantity: *q,
                    })
                    .collect(),
            }],
            ..Default::default()
        },
        "order",
    )
    .unwrap()
}

fn step(
    o: &Order,
    action: OrderAction<'_>,
    who: &str,
    w: &OrderWorld,
) -> Result<DocPlan<Order>, AllocationError> {
    order_transition(Some(o), action, actor(who), w, &mut ids())
}

fn raised(new: &NewOrder) -> Order {
    order_transition(
        None,
        OrderAction::Create {
            new,
            id: "o1",
            number: "DB-2026-000001",
            command: &code("ZS"),
        },
        actor("disp"),
        &world(),
        &mut ids(),
    )
    .unwrap()
    .doc
}

fn approved(new: &NewOrder, w: &OrderWorld) -> DocPlan<Order> {
    let o = raised(new);
    let o = step(&o, OrderAction::Submit, "disp", w).unwrap().doc;
    step(&o, OrderAction::Approve { note: "" }, "boss", w).unwrap()
}

fn dispatch_note(source: &str) -> DispatchNote {
    DispatchNote::parse(&DispatchDraft {
        source: source.into(),
        vehicle: "鄂C12345".into(),
        ..Default::default()
    })
    .unwrap()
}

fn arrival(source: &str, lot: &str, r: i64, d: i64, j: i64, s: i64) -> Arrival {
    Arrival::parse_all(&[ArrivalDraft {
        line: 1,
        source: source.into(),
        lot: lot.into(),
        received: r,
        damaged: d,
        rejected: j,
        short: s,
        reason: if d + j + s > 0 {
            "雨淋".into()
        } else {
            String::new()
        },
        ..Default::default()
    }])
    .unwrap()
    .remove(0)
}

#[test]
fn approval_reserves_first_expired_first_and_the_order_owns_the_units() {
    let w = world();
    let plan = approved(&draft(1, &[("ZS", 60)], 60), &w);
    assert_eq!(plan.doc.state, State::Approved);
    let got: Vec<_> = plan
        .entries
        .iter()
        .map(|e| (e.kind, e.lot.id.as_str().to_string(), e.delta.reserved))
        .collect();
    // b expires first: all 50 of it, then 10 of a.
    assert_eq!(
        got,
        vec![
            (EntryType::Reserve, "b".to_string(), 50),
            (EntryType::Reserve, "a".to_string(), 10)
        ]
    );
    assert!(
        plan.entries
            .iter()
            .all(|e| e.owner == Some(plan.doc.doc_ref()))
    );
    assert_eq!(plan.doc.shares.iter().map(|s| s.reserved).sum::<i64>(), 60);
    assert_eq!(plan.doc.approved_by.as_deref(), Some("boss"));
}

#[test]
fn the_reserve_minimum_holds_unless_the_order_is_an_emergency_and_the_override_is_kept() {
    let w = world();
    // ZS has 80 free and a minimum of 10: 71 would leave 9.
    let o = raised(&draft(1, &[("ZS", 71)], 71));
    let o = step(&o, OrderAction::Submit, "disp", &w).unwrap().doc;
    let err = step(&o, OrderAction::Approve { note: "" }, "boss", &w).unwrap_err();
    assert!(matches!(
        err,
        AllocationError::Stock(StockError::BelowReserveMinimum {
            minimum: 10,
            after: 9,
            ..
        })
    ));
    let plan = approved(&draft(3, &[("ZS", 71)], 71), &w);
    assert_eq!(plan.doc.overrides.len(), 1);
    let o = &plan.doc.overrides[0];
    assert_eq!((o.minimum, o.left, o.decided_by.as_str()), (10, 9, "boss"));
}

#[test]
fn reaching_outside_the_own_subtree_while_it_has_spare_needs_a_justification() {
    let w = world();
    let o = raised(&draft(1, &[("SY", 20)], 20));
    let err = step(&o, OrderAction::Submit, "disp", &w).unwrap_err();
    assert!(matches!(
        err,
        AllocationError::OwnSubtreeFirst {
            spare: 70,
            outside: 20,
            ..
        }
    ));
    // Taking the subtree's spare first leaves nothing to use: no justification needed.
    let o = raised(&draft(1, &[("ZS", 70), ("SY", 20)], 90));
    assert!(step(&o, OrderAction::Submit, "disp", &w).is_ok());
    let mut new = draft(1, &[("SY", 20)], 20);
    new.justification = "县库物资需留守本县汛期".into();
    let o = raised(&new);
    assert!(step(&o, OrderAction::Submit, "disp", &w).is_ok());
}

#[test]
fn dispatch_turns_the_reservation_into_transit_and_releases_what_stays() {
    let w = world();
    let plan = approved(&draft(1, &[("ZS", 60)], 60), &w);
    let note = DispatchNote::parse(&DispatchDraft {
        source: "ZS".into(),
        short: vec![ShortDraft {
            line: 1,
            lot: "Nb".into(),
            quantity: 45,
            serials: Vec::new(),
        }],
        note: "5箱破损留库".into(),
        ..Default::default()
    })
    .unwrap();
    let out = step(&plan.doc, OrderAction::Dispatch(&note), "keeper", &w).unwrap();
    let deltas: Vec<_> = out.entries.iter().map(|e| (e.kind, e.delta)).collect();
    assert_eq!(
        deltas,
        vec![
            (
                EntryType::TransferOut,
                Delta {
                    on_hand: -45,
                    reserved: -45,
                    ..Delta::default()
                }
            ),
            (
                EntryType::Unreserve,
                Delta {
                    reserved: -5,
                    ..Delta::default()
                }
            ),
            (
                EntryType::TransferOut,
                Delta {
                    on_hand: -10,
                    reserved: -10,
                    ..Delta::default()
                }
            ),
        ]
    );
    assert_eq!(out.doc.state, State::Dispatched);
    assert_eq!(out.doc.in_transit(), 55);
    // A source dispatches once.
    let again = step(&out.doc, OrderAction::Dispatch(&note), "keeper", &w).unwrap_err();
    assert!(matches!(again, AllocationError::NothingToDispatch(_)));
}

#[test]
fn receipt_may_be_partial_and_records_discrepancies_until_nothing_is_on_the_road() {
    let w = world();
    let plan = approved(&draft(1, &[("ZS", 40)], 40), &w);
    let out = step(
        &plan.doc,
        OrderAction::Dispatch(&dispatch_note("ZS")),
        "keeper",
        &w,
    )
    .unwrap();
    let first = [arrival("ZS", "Nb", 30, 0, 0, 0)];
    let r1 = step(&out.doc, OrderAction::Receive(&first), "dest", &w).unwrap();
    assert_eq!(r1.doc.state, State::Dispatched);
    assert_eq!(r1.entries[0].kind, EntryType::TransferIn);
    assert_eq!(r1.entries[0].depot, code("ZS-01"));
    assert_eq!(r1.entries[0].delta, Delta::on_hand(30));
    assert_eq!(r1.entries[0].line_owner, Some(crate::tier::Tier::Township));
    let too_many = [arrival("ZS", "Nb", 11, 0, 0, 0)];
    assert!(matches!(
        step(&r1.doc, OrderAction::Receive(&too_many), "dest", &w).unwrap_err(),
        AllocationError::ExceedsInTransit {
            in_transit: 10,
            requested: 11,
            ..
        }
    ));
    let rest = [arrival("ZS", "Nb", 5, 2, 1, 2)];
    let r2 = step(&r1.doc, OrderAction::Receive(&rest), "dest", &w).unwrap();
    let kinds: Vec<_> = r2.entries.iter().map(|e| (e.kind, e.delta)).collect();
    assert_eq!(
        kinds,
        vec![
            (EntryType::TransferIn, Delta::on_hand(7)),
            (EntryType::Hold, Delta::held(2)),
        ]
    );
    assert_eq!(r2.doc.state, State::Received);
    let s = &r2.doc.shares[0];
    assert_eq!(
        (s.received, s.damaged, s.rejected, s.short, s.in_transit()),
        (35, 2, 1, 2, 0)
    );
    let closed = step(&r2.doc, OrderAction::Close { note: "" }, "disp", &w).unwrap();
    assert_eq!(closed.doc.state, State::Closed);
}

#[test]
fn an_emergency_order_goes_before_approval_and_cannot_close_until_back_filled() {
    let w = world();
    let o = raised(&draft(3, &[("ZS", 20), ("SY", 5)], 25));
    let mut new = draft(3, &[("ZS", 20), ("SY", 5)], 25);
    new.justification = "紧急".into();
    let o = step(&o, OrderAction::Amend(&new), "disp", &w).unwrap().doc;
    let o = step(&o, OrderAction::Submit, "disp", &w).unwrap().doc;
    let out = step(
        &o,
        OrderAction::Dispatch(&dispatch_note("ZS")),
        "keeper",
        &w,
    )
    .unwrap();
    assert_eq!(out.entries[0].delta, Delta::on_hand(-20));
    assert_eq!(out.doc.backfill_due, Some(NOW + BACKFILL_MS));
    assert!(!out.doc.backfill_overdue(NOW + BACKFILL_MS - 60_000));
    assert!(out.doc.backfill_overdue(NOW + BACKFILL_MS + 60_000));
    // The back-filled approval reserves only at the source yet to dispatch.
    let ok = step(&out.doc, OrderAction::Approve { note: "补批" }, "boss", &w).unwrap();
    assert_eq!(ok.doc.state, State::Dispatched);
    assert_eq!(ok.entries.len(), 1);
    assert_eq!(
        (ok.entries[0].depot.as_str(), ok.entries[0].delta.reserved),
        ("SY", 5)
    );
    assert!(!ok.doc.backfill_overdue(NOW + BACKFILL_MS * 2));
    // Unapproved, a received order does not close.
    let arrived = [arrival("ZS", "Nb", 20, 0, 0, 0)];
    let mut unapproved = step(&out.doc, OrderAction::Receive(&arrived), "dest", &w)
        .unwrap()
        .doc;
    unapproved.lines[0].sources.truncate(1);
    unapproved.state = State::Received;
    assert!(matches!(
        step(&unapproved, OrderAction::Close { note: "" }, "disp", &w).unwrap_err(),
        AllocationError::BackfillPending(_)
    ));
}

#[test]
fn cancelling_releases_every_reservation() {
    let w = world();
    let plan = approved(&draft(1, &[("ZS", 60)], 60), &w);
    let c = step(
        &plan.doc,
        OrderAction::Cancel {
            reason: "灾情解除"
        },
        "disp",
        &w,
    )
    .unwrap();
    let released: i64 = c.entries.iter().map(|e| e.delta.reserved).sum();
    assert_eq!(released, -60);
    assert!(c.entries.iter().all(|e| e.kind == EntryType::Unreserve));
    assert!(c.doc.shares.iter().all(|s| s.reserved == 0));
    assert_eq!(c.doc.state, State::Cancelled);
}

#[test]
fn every_state_allows_exactly_its_actions() {
    let new = draft(1, &[("ZS", 1)], 1);
    let note = dispatch_note("ZS");
    let arrivals: [Arrival; 0] = [];
    let actions = || {
        vec![
            OrderAction::Amend(&new),
            OrderAction::Submit,
            OrderAction::Approve { note: "" },
            OrderAction::Reject { reason: "x" },
            OrderAction::Dispatch(&note),
            OrderAction::Receive(&arrivals),
            OrderAction::Close { note: "" },
            OrderAction::Cancel { reason: "x" },
        ]
    };
    let expected = |s: State| -> Vec<&'static str> {
        match s {
            State::Draft => vec!["amended", "submitted", "cancelled"],
            State::Submitted => vec!["approved", "rejected", "cancelled"],
            State::Approved => vec!["dispatched", "cancelled"],
            // Its one source has not dispatched yet here: the rest may be
            // called off.
            State::Dispatched => vec!["dispatched", "received", "cancelled"],
            State::Received => vec!["closed"],
            _ => vec![],
        }
    };
    let mut o = raised(&new);
    o.approved_by = Some("boss".into());
    for s in State::ALL {
        o.state = s;
        let got: Vec<_> = actions()
            .into_iter()
            .filter(|a| allowed(&o, a))
            .map(|a| a.verb())
            .collect();
        assert_eq!(got, expected(s), "{s:?}");
        for a in actions().into_iter().filter(|a| !allowed(&o, a)) {
            let err = step(&o, a, "disp", &world()).unwrap_err();
            assert!(
                matches!(err, AllocationError::InvalidTransition { .. }),
                "{s:?}"
            );
        }
    }
    // An emergency order not yet approved may also go before approval,
    // and be approved while on the road.
    o.priority = Priority::Emergency;
    o.approved_by = None;
    o.state = State::Submitted;
    assert!(allowed(&o, &OrderAction::Dispatch(&note)));
    o.state = State::Dispatched;
    assert!(allowed(&o, &OrderAction::Approve { note: "" }));
}

#[test]
fn numbers_states_and_kinds_round_trip() {
    assert_eq!(order_number(2026, 123), "DB-2026-000123");
    for s in State::ALL {
        assert_eq!(State::from_number(s.number()), Some(s));
    }
    assert_eq!(Kind::from_number(2), Some(Kind::IncidentSite));
    assert_eq!(Priority::from_number(3), Some(Priority::Emergency));
    assert!(Priority::Emergency > Priority::Urgent);
}

#[test]
fn a_dispatcher_calls_off_sources_yet_to_send_and_the_order_settles_on_what_left() {
    let w = world();
    let plan = approved(&draft(1, &[("ZS", 70), ("SY", 5)], 75), &w);
    let out = step(
        &plan.doc,
        OrderAction::Dispatch(&dispatch_note("ZS")),
        "keeper",
        &w,
    )
    .unwrap();
    let rest = step(
        &out.doc,
        OrderAction::Cancel {
            reason: "竹溪县库被淹",
        },
        "disp",
        &w,
    )
    .unwrap();
    // SY's reservation is released; ZS's units stay on the road.
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(
        (
            rest.entries[0].kind,
            rest.entries[0].depot.as_str(),
            rest.entries[0].delta.reserved
        ),
        (EntryType::Unreserve, "SY", -5)
    );
    assert_eq!(rest.doc.state, State::Dispatched);
    assert!(
        rest.doc
            .dispatches
            .iter()
            .any(|d| d.cancelled && d.source.as_str() == "SY")
    );
    let arrived = [
        arrival("ZS", "Nb", 50, 0, 0, 0),
        arrival("ZS", "Na", 20, 0, 0, 0),
    ];
    let done = step(&rest.doc, OrderAction::Receive(&arrived), "dest", &w).unwrap();
    assert_eq!(done.doc.state, State::Received);
    // Nothing left to call off.
    assert!(matches!(
        step(&done.doc, OrderAction::Cancel { reason: "x" }, "disp", &w).unwrap_err(),
        AllocationError::InvalidTransition { .. }
    ));
}

#[test]
fn before_approval_a_keeper_sends_what_there_is_naming_the_lot() {
    let w = world();
    let o = raised(&draft(3, &[("ZS", 90)], 90));
    let mut new = draft(3, &[("ZS", 90)], 90);
    new.justification = "紧急".into();
    let o = step(&o, OrderAction::Amend(&new), "disp", &w).unwrap().doc;
    let o = step(&o, OrderAction::Submit, "disp", &w).unwrap().doc;
    // 80 free at ZS: the plan of 90 cannot go whole.
    let whole = step(
        &o,
        OrderAction::Dispatch(&dispatch_note("ZS")),
        "keeper",
        &w,
    )
    .unwrap_err();
    assert!(matches!(
        whole,
        AllocationError::Stock(StockError::InsufficientStock { .. })
    ));
    let note = DispatchNote::parse(&DispatchDraft {
        source: "ZS".into(),
        short: vec![ShortDraft {
            line: 1,
            lot: "Nb".into(),
            quantity: 50,
            serials: Vec::new(),
        }],
        note: "只有这些".into(),
        ..Default::default()
    })
    .unwrap();
    let out = step(&o, OrderAction::Dispatch(&note), "keeper", &w).unwrap();
    assert_eq!(out.entries.len(), 1);
    assert_eq!(out.entries[0].delta, Delta::on_hand(-50));
    assert_eq!(out.entries[0].lot.number.as_str(), "Nb");
    assert_eq!(out.doc.in_transit(), 50);
}

#[test]
fn the_dispatcher_who_raised_an_order_does_not_approve_it_unless_it_is_an_emergency() {
    let w = world();
    let o = raised(&draft(1, &[("ZS", 10)], 10));
    let o = step(&o, OrderAction::Submit, "disp", &w).unwrap().doc;
    assert!(matches!(
        step(&o, OrderAction::Approve { note: "" }, "disp", &w).unwrap_err(),
        AllocationError::SamePerson(_)
    ));
    let e = raised(&draft(3, &[("ZS", 10)], 10));
    let e = step(&e, OrderAction::Submit, "disp", &w).unwrap().doc;
    assert!(step(&e, OrderAction::Approve { note: "" }, "disp", &w).is_ok());
}
