//! The validation table: each rule, broken alone, gives INVALID_ARGUMENT
//! naming the field, and changes nothing.

use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::{TestApp, depot, rid, violated_fields};
use tonic::Code;

fn good_depot() -> pb::Depot {
    depot("HB-SY-FX-09", pb::Tier::Township, "HB-SY-FX", "420325109")
}

fn lat_lng(d: &mut pb::Depot) -> &mut reserve_api::pb::google::r#type::LatLng {
    d.location.as_mut().unwrap().lat_lng.as_mut().unwrap()
}

fn good_item() -> pb::Item {
    pb::Item {
        id: "kit-valid".into(),
        code: "1050102".into(),
        name: "儿童应急包".into(),
        unit: "箱".into(),
        tracking: pb::TrackingMode::Lot as i32,
        shelf_life_days: 730,
        ..Default::default()
    }
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|s| s.to_string()).collect(),
    })
}

#[tokio::test]
async fn each_broken_rule_names_its_field_and_changes_nothing() {
    let app = TestApp::with_demo().await;
    let t = app.token(&[Role::Admin], "HB");
    let mut net = app.network(&t);
    let mut cat = app.catalog(&t);
    let mut audit = app.audit(&t);

    type DepotEdit = fn(&mut pb::Depot);
    let depot_rules: Vec<(&str, DepotEdit)> = vec![
        ("depot.code", |d| d.code = "hb sy 1".into()),
        ("depot.code", |d| d.code = "X".into()),
        ("depot.name", |d| d.name = "  ".into()),
        ("depot.name", |d| d.name = "名".repeat(101)),
        ("depot.tier", |d| d.tier = 0),
        ("depot.tier", |d| d.tier = 9),
        ("depot.parent_code", |d| d.parent_code = "".into()),
        ("depot.division_code", |d| d.division_code = "4203".into()),
        ("depot.division_code", |d| {
            d.division_code = "99032510x".into()
        }),
        ("depot.division_code", |d| d.division_code = "420325".into()),
        ("depot.location.lat_lng.latitude", |d| {
            lat_lng(d).latitude = 0.0
        }),
        ("depot.location.lat_lng.latitude", |d| {
            lat_lng(d).latitude = f64::NAN
        }),
        ("depot.location.lat_lng.longitude", |d| {
            lat_lng(d).longitude = -110.8
        }),
        ("depot.location.address", |d| {
            d.location.as_mut().unwrap().address = "路".repeat(201)
        }),
        ("depot.storage_area_m2", |d| d.storage_area_m2 = -1.0),
        ("depot.operating_unit", |d| {
            d.operating_unit = "a\u{7}b".into()
        }),
        ("depot.owning_tier", |d| d.owning_tier = 8),
        ("depot.duty_contacts[0].phone", |d| {
            d.duty_contacts = vec![pb::Contact {
                name: "张三".into(),
                duty: "值班".into(),
                phone: "call me".into(),
            }]
        }),
        ("depot.duty_contacts[0].name", |d| {
            d.duty_contacts = vec![pb::Contact {
                name: "".into(),
                duty: "值班".into(),
                phone: "13800000000".into(),
            }]
        }),
        ("depot.duty_contacts", |d| {
            d.duty_contacts = vec![
                pb::Contact {
                    name: "张三".into(),
                    duty: "".into(),
                    phone: "13800000000".into(),
                };
                11
            ]
        }),
        ("depot.status", |d| {
            d.status = pb::DepotStatus::Closed as i32
        }),
    ];
    let before = app.fingerprint().await;
    for (field, edit) in depot_rules {
        let mut d = good_depot();
        edit(&mut d);
        let err = net
            .create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(d),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert_eq!(violated_fields(&err), vec![field.to_string()], "{field}");
    }

    let expect = |field: &str, r: Result<(), tonic::Status>| {
        let err = r.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(
            violated_fields(&err).contains(&field.to_string()),
            "{field}: {err:?}"
        );
    };
    expect(
        "request_id",
        net.create_depot(pb::CreateDepotRequest {
            request_id: "".into(),
            depot: Some(good_depot()),
        })
        .await
        .map(|_| ()),
    );
    expect(
        "depot",
        net.create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: None,
        })
        .await
        .map(|_| ()),
    );
    for (paths, field) in [
        (&[][..], "update_mask"),
        (&["tier"][..], "update_mask"),
        (&["code"][..], "update_mask"),
        (&["etag"][..], "update_mask"),
        (&["colour"][..], "update_mask"),
        (&["status"][..], "depot.status"),
    ] {
        expect(
            field,
            net.update_depot(pb::UpdateDepotRequest {
                request_id: rid(),
                depot: Some(pb::Depot {
                    code: "HB-SY-FX".into(),
                    status: pb::DepotStatus::Closed as i32,
                    ..Default::default()
                }),
                update_mask: mask(paths),
            })
            .await
            .map(|_| ()),
        );
    }
    expect(
        "depot.etag",
        net.update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY-FX".into(),
                etag: "W/abc".into(),
                name: "x".into(),
                ..Default::default()
            }),
            update_mask: mask(&["name"]),
        })
        .await
        .map(|_| ()),
    );
    expect(
        "reason",
        net.close_depot(pb::CloseDepotRequest {
            request_id: rid(),
            code: "HB-SY-FX-01".into(),
            etag: String::new(),
            reason: " ".into(),
        })
        .await
        .map(|_| ()),
    );
    expect(
        "code",
        net.get_depot(pb::GetDepotRequest { code: "".into() })
            .await
            .map(|_| ()),
    );
    for (req, field) in [
        (
            pb::ListDepotsRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            pb::ListDepotsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            pb::ListDepotsRequest {
                tier: 7,
                ..Default::default()
            },
            "tier",
        ),
        (
            pb::ListDepotsRequest {
                status: 9,
                ..Default::default()
            },
            "status",
        ),
        (
            pb::ListDepotsRequest {
                division_code_prefix: "42a".into(),
                ..Default::default()
            },
            "division_code_prefix",
        ),
    ] {
        expect(field, net.list_depots(req).await.map(|_| ()));
    }
    // A page size above the maximum is cut to it (AIP-158), not refused.
    for size in [1001, i32::MAX] {
        let page = net
            .list_depots(pb::ListDepotsRequest {
                page_size: size,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!page.depots.is_empty() && page.depots.len() <= 1000);
    }

    type ItemEdit = fn(&mut pb::Item);
    let item_rules: Vec<(&str, ItemEdit)> = vec![
        ("item.id", |i| i.id = "Kit Valid".into()),
        ("item.code", |i| i.code = "105010".into()),
        ("item.code", |i| i.code = "4050102".into()),
        ("item.code", |i| i.code = "1000102".into()),
        ("item.name", |i| i.name = "".into()),
        ("item.unit", |i| i.unit = "".into()),
        ("item.unit", |i| i.unit = "箱子箱子箱子箱子箱".into()),
        ("item.tracking", |i| i.tracking = 0),
        ("item.tracking", |i| i.tracking = 5),
        ("item.shelf_life_days", |i| i.shelf_life_days = -1),
        ("item.near_expiry_days", |i| i.near_expiry_days = Some(0)),
        ("item.near_expiry_days", |i| i.near_expiry_days = Some(730)),
        ("item.upkeep_interval_days", |i| {
            i.upkeep_interval_days = 4000
        }),
        ("item.unit_value_fen", |i| i.unit_value_fen = -100),
        ("item.volume_per_unit_cm3", |i| i.volume_per_unit_cm3 = -1),
    ];
    for (field, edit) in item_rules {
        let mut i = good_item();
        edit(&mut i);
        let err = cat
            .create_item(pb::CreateItemRequest {
                request_id: rid(),
                item: Some(i),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert_eq!(violated_fields(&err), vec![field.to_string()], "{field}");
    }
    let expect = |field: &str, r: Result<(), tonic::Status>| {
        let err = r.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert!(
            violated_fields(&err).contains(&field.to_string()),
            "{field}: {err:?}"
        );
    };
    expect(
        "id",
        cat.get_item(pb::GetItemRequest { id: "".into() })
            .await
            .map(|_| ()),
    );
    expect(
        "code_prefix",
        cat.list_items(pb::ListItemsRequest {
            code_prefix: "1x".into(),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    expect(
        "item.near_expiry_days",
        cat.update_item(pb::UpdateItemRequest {
            request_id: rid(),
            item: Some(pb::Item {
                id: "water-bottled".into(),
                near_expiry_days: Some(400),
                ..Default::default()
            }),
            update_mask: mask(&["near_expiry_days"]),
        })
        .await
        .map(|_| ()),
    );
    for (min, target, depot, item, field) in [
        (10, 5, "HB-SY-FX", "tent-12m2", "norm.target"),
        (-1, 5, "HB-SY-FX", "tent-12m2", "norm.minimum"),
        (1, 2_000_000_000, "HB-SY-FX", "tent-12m2", "norm.target"),
        (1, 5, "hb", "tent-12m2", "norm.depot_code"),
        (1, 5, "HB-SY-FX", "", "norm.item_id"),
    ] {
        expect(
            field,
            cat.set_reserve_norm(pb::SetReserveNormRequest {
                request_id: rid(),
                norm: Some(pb::ReserveNorm {
                    depot_code: depot.into(),
                    item_id: item.into(),
                    minimum: min,
                    target,
                    ..Default::default()
                }),
            })
            .await
            .map(|_| ()),
        );
    }
    expect(
        "end_time",
        audit
            .list_audit_events(pb::ListAuditEventsRequest {
                start_time: Some(prost_types::Timestamp {
                    seconds: 2_000_000_000,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: 1_000_000_000,
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .map(|_| ()),
    );
    expect(
        "start_time",
        audit
            .list_audit_events(pb::ListAuditEventsRequest {
                start_time: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -5,
                }),
                ..Default::default()
            })
            .await
            .map(|_| ()),
    );
    assert_eq!(
        app.fingerprint().await,
        before,
        "no refused request changed anything"
    );
    app.stop().await.unwrap();
}
