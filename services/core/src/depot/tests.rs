//! Rules of depots, one test per rule.

use super::*;

fn blockers(open_children: i64, units_in_stock: i64, documents: &[&str]) -> CloseBlockers {
    CloseBlockers {
        open_children,
        units_in_stock,
        open_documents: documents.iter().map(|d| d.to_string()).collect(),
    }
}

fn draft(code: &str, tier: Tier, parent: &str, division: &str) -> DepotDraft {
    DepotDraft {
        code: code.into(),
        name: "十堰市应急物资储备中心".into(),
        tier: tier.number() as i32,
        parent_code: parent.into(),
        division_code: division.into(),
        latitude: 32.63,
        longitude: 110.79,
        ..Default::default()
    }
}

fn stored(d: &DepotDraft, parent: Option<&Depot>) -> Depot {
    let n = NewDepot::parse(d).unwrap();
    let path = n.place_under(parent).unwrap();
    n.into_depot(path, 0)
}

fn fields(v: &Violations) -> Vec<&str> {
    v.as_slice().iter().map(|f| f.field.as_str()).collect()
}

#[test]
fn a_well_formed_county_depot_parses_with_defaults() {
    let n = NewDepot::parse(&draft("HB-SY-ZS", Tier::County, "HB-SY", "420323")).unwrap();
    assert_eq!(n.owning_tier, Tier::County);
    assert_eq!(n.status, DepotStatus::Active);
    assert_eq!(n.parent.unwrap().as_str(), "HB-SY");
}

#[test]
fn every_broken_field_is_reported_at_once() {
    let mut d = draft("hb sy", Tier::County, "", "4203");
    d.name = " ".into();
    d.latitude = 91.0;
    d.storage_area_m2 = -1.0;
    let v = NewDepot::parse(&d).unwrap_err();
    assert_eq!(
        fields(&v),
        vec![
            "code",
            "name",
            "parent_code",
            "division_code",
            "location.lat_lng.latitude",
            "storage_area_m2"
        ]
    );
}

#[test]
fn a_province_has_no_parent_and_others_need_one() {
    let v = NewDepot::parse(&draft("HB", Tier::Province, "X1", "420000")).unwrap_err();
    assert_eq!(fields(&v), vec!["parent_code"]);
    let v = NewDepot::parse(&draft("HB-SY", Tier::City, "", "420300")).unwrap_err();
    assert_eq!(fields(&v), vec!["parent_code"]);
}

#[test]
fn division_level_must_match_the_tier() {
    for (tier, code) in [
        (Tier::Province, "420300"),
        (Tier::City, "420000"),
        (Tier::County, "420300"),
        (Tier::Township, "420323"),
    ] {
        let parent = if tier == Tier::Province { "" } else { "P1" };
        let v = NewDepot::parse(&draft("D1", tier, parent, code)).unwrap_err();
        assert_eq!(fields(&v), vec!["division_code"], "{tier} {code}");
    }
    let v = NewDepot::parse(&draft("D1", Tier::Province, "", "990000")).unwrap_err();
    assert!(v.as_slice()[0].description.contains("province code"));
}

#[test]
fn owning_tier_cannot_be_below_the_depot() {
    let mut d = draft("HB-SY", Tier::City, "HB", "420300");
    d.owning_tier = Tier::County.number() as i32;
    assert_eq!(
        fields(&NewDepot::parse(&d).unwrap_err()),
        vec!["owning_tier"]
    );
    d.owning_tier = Tier::Province.number() as i32;
    assert_eq!(NewDepot::parse(&d).unwrap().owning_tier, Tier::Province);
}

#[test]
fn contacts_are_checked_one_by_one() {
    let mut d = draft("HB", Tier::Province, "", "420000");
    d.contacts = vec![
        ContactDraft {
            name: "王建国".into(),
            duty: "值班员".into(),
            phone: "0719-8888888".into(),
        },
        ContactDraft {
            name: "".into(),
            duty: "".into(),
            phone: "call me".into(),
        },
    ];
    let v = NewDepot::parse(&d).unwrap_err();
    assert_eq!(
        fields(&v),
        vec!["duty_contacts[1].name", "duty_contacts[1].phone"]
    );
}

#[test]
fn the_parent_must_be_exactly_one_tier_up_open_and_contain_the_division() {
    let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
    let sy = stored(&draft("HB-SY", Tier::City, "HB", "420300"), Some(&hb));
    let county = NewDepot::parse(&draft("HB-ZS", Tier::County, "HB", "420323")).unwrap();
    assert!(matches!(
        county.place_under(Some(&hb)),
        Err(DepotError::ParentWrongTier { .. })
    ));
    assert!(matches!(
        county.place_under(None),
        Err(DepotError::ParentNotFound(_))
    ));

    let wrong_div = NewDepot::parse(&draft("HB-WH1", Tier::County, "HB-SY", "420102")).unwrap();
    assert!(matches!(
        wrong_div.place_under(Some(&sy)),
        Err(DepotError::DivisionOutsideParent { .. })
    ));

    let ok = NewDepot::parse(&draft("HB-SY-ZS", Tier::County, "HB-SY", "420323")).unwrap();
    assert_eq!(
        ok.place_under(Some(&sy)).unwrap().as_str(),
        "/HB/HB-SY/HB-SY-ZS/"
    );

    let mut closed = sy.clone();
    closed.status = DepotStatus::Closed;
    assert!(matches!(
        ok.place_under(Some(&closed)),
        Err(DepotError::ParentClosed(_))
    ));
}

#[test]
fn province_administered_counties_fit_under_any_city_of_their_province() {
    let xiantao = DivisionCode::parse_for("429004", Tier::County).unwrap();
    let shiyan = DivisionCode::parse_for("420300", Tier::City).unwrap();
    let changsha = DivisionCode::parse_for("430100", Tier::City).unwrap();
    assert!(xiantao.within(&shiyan));
    assert!(!xiantao.within(&changsha));
    let zhushan_town = DivisionCode::parse_for("420323100", Tier::Township).unwrap();
    let zhushan = DivisionCode::parse_for("420323", Tier::County).unwrap();
    assert!(zhushan_town.within(&zhushan));
}

#[test]
fn an_update_mask_names_only_updatable_fields() {
    let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
    let patch = |mask: &[&str]| DepotPatch {
        mask: mask.iter().map(|s| s.to_string()).collect(),
        values: DepotDraft {
            name: "湖北省备灾分库".into(),
            ..Default::default()
        },
    };
    assert_eq!(
        patch(&["name"]).check(&hb).unwrap().after.name,
        "湖北省备灾分库"
    );
    for bad in [&[][..], &["code"], &["tier"], &["etag"], &["colour"]] {
        let v = patch(bad).check(&hb).unwrap_err();
        assert_eq!(fields(&v), vec!["update_mask"], "{bad:?}");
    }
    // Masking a field sent empty re-checks it like on create.
    let v = patch(&["division_code"]).check(&hb).unwrap_err();
    assert_eq!(fields(&v), vec!["depot.division_code"]);
}

#[test]
fn a_depot_cannot_move_under_its_own_subtree_or_lose_its_children() {
    let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
    let sy = stored(&draft("HB-SY", Tier::City, "HB", "420300"), Some(&hb));
    let zs = stored(
        &draft("HB-SY-ZS", Tier::County, "HB-SY", "420323"),
        Some(&sy),
    );
    let change = DepotPatch {
        mask: vec!["parent_code".into()],
        values: DepotDraft {
            parent_code: "HB-SY-ZS".into(),
            ..Default::default()
        },
    }
    .check(&sy)
    .unwrap();
    assert!(matches!(
        change.check_against(&sy, Some(&zs), &[]),
        Err(DepotError::Cycle { .. })
    ));

    let change = DepotPatch {
        mask: vec!["division_code".into()],
        values: DepotDraft {
            division_code: "420600".into(),
            ..Default::default()
        },
    }
    .check(&sy)
    .unwrap();
    assert!(matches!(
        change.check_against(&sy, Some(&hb), std::slice::from_ref(&zs.division)),
        Err(DepotError::ChildOutsideDivision { .. })
    ));
}

#[test]
fn a_depot_closes_only_when_empty_and_childless() {
    let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
    assert!(matches!(
        check_close(&hb, &blockers(1, 0, &[])),
        Err(DepotError::HasOpenChildren { .. })
    ));
    assert!(matches!(
        check_close(&hb, &blockers(0, 3, &[])),
        Err(DepotError::HasStock { .. })
    ));
    assert!(matches!(
        check_close(&hb, &blockers(0, 0, &["stockCounts/C1"])),
        Err(DepotError::HasOpenDocuments { .. })
    ));
    assert!(check_close(&hb, &blockers(0, 0, &[])).is_ok());
    let mut closed = hb.clone();
    closed.status = DepotStatus::Closed;
    assert!(matches!(
        check_close(&closed, &blockers(0, 0, &[])),
        Err(DepotError::Closed(_))
    ));
}

#[test]
fn a_stale_etag_is_refused_as_aborted() {
    let c = DepotCode::parse("HB").unwrap();
    assert!(check_etag(&c, None, 4).is_ok());
    assert!(check_etag(&c, Some(4), 4).is_ok());
    let e = check_etag(&c, Some(3), 4).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Aborted { .. }));
}
