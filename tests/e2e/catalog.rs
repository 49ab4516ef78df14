//! Items, reserve norms and the audit trail they leave.

use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::{TestApp, rid, violated_fields};
use tonic::Code;

fn generator() -> pb::Item {
    pb::Item {
        id: "generator-10kw".into(),
        code: "2010102".into(),
        name: "柴油发电机组".into(),
        specification: "10千瓦 三相".into(),
        unit: "台".into(),
        tracking: pb::TrackingMode::Serial as i32,
        upkeep_interval_days: 21,
        recoverable: true,
        leasable: true,
        unit_value_fen: 1_500_000,
        volume_per_unit_cm3: 1_200_000,
        ..Default::default()
    }
}

#[tokio::test]
async fn an_item_is_created_listed_updated_and_its_history_audited() {
    let app = TestApp::with_demo().await;
    let admin = app.token_for("admin-sy", &[Role::Admin], "HB-SY");
    let mut cat = app.catalog(&admin);
    let created = cat
        .create_item(pb::CreateItemRequest {
            request_id: rid(),
            item: Some(generator()),
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(
        created.near_expiry_days,
        Some(90),
        "the default warning window"
    );
    assert_eq!(created.owner_depot_code, "HB-SY");
    assert_eq!(created.etag, "1");

    // Any signed-in user reads the catalogue, whatever their scope.
    let keeper = app.token(&[Role::DepotKeeper], "HB-SY-ZS-01");
    let got = app
        .catalog(&keeper)
        .get_item(pb::GetItemRequest {
            id: "generator-10kw".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(got, created);
    let equipment = app
        .catalog(&keeper)
        .list_items(pb::ListItemsRequest {
            code_prefix: "2".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(equipment.items.iter().all(|i| i.code.starts_with('2')));
    assert_eq!(
        equipment.items.len(),
        5,
        "four seeded pieces of equipment and the new generator"
    );

    let updated = cat
        .update_item(pb::UpdateItemRequest {
            request_id: rid(),
            item: Some(pb::Item {
                id: "generator-10kw".into(),
                etag: "1".into(),
                unit_value_fen: 1_450_000,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["unit_value_fen".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .item
        .unwrap();
    assert_eq!(updated.unit_value_fen, 1_450_000);
    assert_eq!(updated.name, "柴油发电机组");
    assert_eq!(updated.etag, "2");

    let err = cat
        .update_item(pb::UpdateItemRequest {
            request_id: rid(),
            item: Some(pb::Item {
                id: "generator-10kw".into(),
                etag: "1".into(),
                unit_value_fen: 1,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["unit_value_fen".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);

    let err = cat
        .update_item(pb::UpdateItemRequest {
            request_id: rid(),
            item: Some(pb::Item {
                id: "generator-10kw".into(),
                tracking: pb::TrackingMode::Lot as i32,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["tracking".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["update_mask"]);

    // The audit log holds both changes, newest first, with what changed.
    let auditor = app.token(&[Role::Auditor], "HB-SY");
    let log = app
        .audit(&auditor)
        .list_audit_events(pb::ListAuditEventsRequest {
            resource: "items/generator-10kw".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(log.events.len(), 2);
    let newest = &log.events[0];
    assert_eq!(newest.actor, "admin-sy");
    assert_eq!(newest.method, "/reserve.v1.CatalogService/UpdateItem");
    assert_eq!(newest.actor_roles, vec![pb::Role::Admin as i32]);
    let changes = reserve_tests::struct_json(newest.changes.as_ref().unwrap());
    assert_eq!(
        changes["unit_value_fen"],
        serde_json::json!([1_500_000, 1_450_000])
    );
    assert!(log.events[0].sequence > log.events[1].sequence);

    // An admin whose scope does not cover the maintaining depot may not edit it.
    let county_admin = app.token(&[Role::Admin], "HB-SY-ZS");
    let err = app
        .catalog(&county_admin)
        .update_item(pb::UpdateItemRequest {
            request_id: rid(),
            item: Some(pb::Item {
                id: "generator-10kw".into(),
                name: "改名".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn reserve_norms_are_set_listed_and_guarded() {
    let app = TestApp::with_demo().await;
    let admin = app.token(&[Role::Admin], "HB-SY-ZS");
    let mut cat = app.catalog(&admin);
    let set = |min: i64, target: i64, etag: &str| pb::SetReserveNormRequest {
        request_id: rid(),
        norm: Some(pb::ReserveNorm {
            depot_code: "HB-SY-ZS-01".into(),
            item_id: "tent-12m2".into(),
            minimum: min,
            target,
            etag: etag.into(),
            update_time: None,
        }),
    };
    let n = cat
        .set_reserve_norm(set(10, 30, ""))
        .await
        .unwrap()
        .into_inner()
        .norm
        .unwrap();
    assert_eq!((n.minimum, n.target, n.etag.as_str()), (10, 30, "1"));
    let n = cat
        .set_reserve_norm(set(20, 40, "1"))
        .await
        .unwrap()
        .into_inner()
        .norm
        .unwrap();
    assert_eq!(n.etag, "2");
    let err = cat.set_reserve_norm(set(25, 40, "1")).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    let err = cat.set_reserve_norm(set(50, 40, "")).await.unwrap_err();
    assert_eq!(violated_fields(&err), vec!["norm.target"]);

    let listed = cat
        .list_reserve_norms(pb::ListReserveNormsRequest {
            depot_code: "HB-SY-ZS".into(),
            include_descendants: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let keys: Vec<_> = listed
        .norms
        .iter()
        .map(|n| format!("{}/{}", n.depot_code, n.item_id))
        .collect();
    assert_eq!(
        keys.len(),
        8,
        "seven seeded county norms and the new township norm: {keys:?}"
    );
    assert!(keys.contains(&"HB-SY-ZS-01/tent-12m2".to_string()));

    let own_only = cat
        .list_reserve_norms(pb::ListReserveNormsRequest {
            depot_code: "HB-SY-ZS".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own_only.norms.len(), 7);

    let err = cat
        .set_reserve_norm(pb::SetReserveNormRequest {
            request_id: rid(),
            norm: Some(pb::ReserveNorm {
                depot_code: "HB-SY-ZS".into(),
                item_id: "no-such-item".into(),
                minimum: 1,
                target: 1,
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_audit_log_is_scoped_filtered_and_paged() {
    let app = TestApp::with_demo().await;
    let auditor = app.token(&[Role::Auditor], "HB-SY-ZS");
    let mut audit = app.audit(&auditor);
    let mine = audit
        .list_audit_events(pb::ListAuditEventsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // 4 depots and 7 norms in 竹山县's subtree were seeded; items belong to the city.
    assert_eq!(mine.events.len(), 11);
    assert!(
        mine.events
            .iter()
            .all(|e| e.depot_code.starts_with("HB-SY-ZS"))
    );

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let p = audit
            .list_audit_events(pb::ListAuditEventsRequest {
                page_size: 4,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(p.events.into_iter().map(|e| e.sequence));
        if p.next_page_token.is_empty() {
            break;
        }
        token = p.next_page_token;
    }
    let unpaged: Vec<_> = mine.events.iter().map(|e| e.sequence).collect();
    assert_eq!(
        seen, unpaged,
        "pages of four give the same events in the same order"
    );
    let norms_only = audit
        .list_audit_events(pb::ListAuditEventsRequest {
            resource: "depots/HB-SY-ZS/norms/tent-12m2".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(norms_only.events.len(), 1);

    let err = audit
        .list_audit_events(pb::ListAuditEventsRequest {
            depot_code: "HB-SY".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let keeper = app.token(&[Role::DepotKeeper], "HB-SY-ZS");
    let err = app
        .audit(&keeper)
        .list_audit_events(pb::ListAuditEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    app.stop().await.unwrap();
}
