use super::*;

fn code(s: &str) -> DepotCode {
    DepotCode::from_stored(s.into())
}

fn p(latitude: f64, longitude: f64) -> GeoPoint {
    GeoPoint {
        latitude,
        longitude,
    }
}

fn lot(n: &str, available: i64) -> LotAvailable {
    LotAvailable {
        lot: LotNumber::from_stored(n.into()),
        expiry: None,
        available,
    }
}

fn depot(c: &str, at: GeoPoint, own: bool, minimum: i64, lots: Vec<LotAvailable>) -> DepotOffer {
    DepotOffer {
        depot: code(c),
        name: c.into(),
        point: at,
        own,
        minimum,
        lots,
    }
}

fn request(q: i64, emergency: bool) -> Request {
    Request {
        destination: p(32.0, 110.0),
        destination_depot: Some(code("DEST")),
        needs: vec![Need {
            item: ItemId::from_stored("quilt".into()),
            quantity: q,
        }],
        emergency,
        nearest_first: false,
        travel: TravelModel::default(),
        now: 0,
    }
}

/// NEAR (outside, 0.1° away), OWN (own subtree, 0.5° away), FAR (outside,
/// 1° away); each with a minimum.
fn offers() -> Vec<(ItemId, ItemOffers)> {
    vec![(
        ItemId::from_stored("quilt".into()),
        ItemOffers {
            depots: vec![
                depot("FAR", p(33.0, 110.0), false, 0, vec![lot("F1", 1000)]),
                depot(
                    "NEAR",
                    p(32.1, 110.0),
                    false,
                    100,
                    vec![lot("N1", 50), lot("N2", 150)],
                ),
                depot("OWN", p(32.5, 110.0), true, 50, vec![lot("O1", 120)]),
                depot("DEST", p(32.0, 110.0), true, 0, vec![lot("D1", 999)]),
            ],
            agreements: vec![AgreementOffer {
                agreement: "A1".into(),
                company: "被服厂".into(),
                kind: ReserveKind::Agreement,
                remaining: 300,
                response_hours: 12.0,
                depot: code("OWN"),
                point: p(32.5, 110.0),
            }],
        },
    )]
}

fn took(line: &ProposedLine) -> Vec<(&str, i64, i64)> {
    line.sources
        .iter()
        .map(|s| (s.depot.as_str(), s.quantity, s.below_minimum))
        .collect()
}

#[test]
fn the_own_subtree_goes_first_then_the_nearest_and_nobody_below_the_minimum() {
    let line = &propose(&request(1000, false), &offers())[0];
    // OWN gives 70 above its 50; NEAR 100 above its 100 (N1 first); FAR the rest.
    assert_eq!(
        took(line),
        vec![("OWN", 70, 0), ("NEAR", 100, 0), ("FAR", 830, 0)]
    );
    let near = &line.sources[1];
    assert_eq!(
        near.lots,
        vec![
            (LotNumber::from_stored("N1".into()), 50),
            (LotNumber::from_stored("N2".into()), 50)
        ]
    );
    assert!(line.sources[1].hours < line.sources[2].hours);
    assert_eq!(line.unmet, 0);
    assert!(line.agreements.is_empty());
    // The destination never sources itself.
    assert!(line.sources.iter().all(|s| s.depot.as_str() != "DEST"));
}

#[test]
fn an_emergency_takes_below_minimums_only_after_every_spare_unit() {
    // 1,170 spare units in all; the last 130 come from below the minimums,
    // own subtree first.
    let line = &propose(&request(1300, true), &offers())[0];
    assert_eq!(
        took(line),
        vec![("OWN", 120, 50), ("NEAR", 180, 80), ("FAR", 1000, 0)]
    );
    assert_eq!(line.unmet, 0);
    // Not an emergency: the same need leaves 130 to the agreement.
    let routine = &propose(&request(1300, false), &offers())[0];
    assert_eq!(routine.agreements[0].quantity, 130);
}

#[test]
fn agreements_fill_what_depots_cannot_and_the_rest_is_reported_unmet() {
    let line = &propose(&request(1500, false), &offers())[0];
    assert_eq!(line.sources.iter().map(|s| s.quantity).sum::<i64>(), 1170);
    assert_eq!(line.agreements.len(), 1);
    assert_eq!(line.agreements[0].quantity, 300);
    assert!(line.agreements[0].hours > 12.0);
    assert_eq!(line.unmet, 30);
    assert_eq!(
        line.complete_at(),
        line.agreements.iter().map(|a| a.arrival).max()
    );
    // Nothing offered at all: all unmet.
    let other = Request {
        needs: vec![Need {
            item: ItemId::from_stored("tent".into()),
            quantity: 5,
        }],
        ..request(0, false)
    };
    let none = &propose(&other, &offers())[0];
    assert_eq!((none.unmet, none.sources.len()), (5, 0));
}
