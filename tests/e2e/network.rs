//! The depot life cycle and the tier rules, over real gRPC.

use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::{TestApp, depot, reason, rid, violated_fields};
use std::collections::HashSet;
use tonic::Code;

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|s| s.to_string()).collect(),
    })
}

/// Creates HB > HB-SY > HB-SY-ZS as the province's admin and returns the token.
async fn small_tree(app: &TestApp) -> String {
    let t = app.token(&[Role::Admin], "HB");
    let mut net = app.network(&t);
    for d in [
        depot("HB", pb::Tier::Province, "", "420000"),
        depot("HB-SY", pb::Tier::City, "HB", "420300"),
        depot("HB-SY-ZS", pb::Tier::County, "HB-SY", "420323"),
    ] {
        net.create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(d),
        })
        .await
        .unwrap();
    }
    t
}

#[tokio::test]
async fn a_depot_is_created_read_updated_moved_and_closed() {
    let app = TestApp::spawn().await;
    let t = small_tree(&app).await;
    let mut net = app.network(&t);

    let created = net
        .create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                duty_contacts: vec![pb::Contact {
                    name: "王建国".into(),
                    duty: "值班员".into(),
                    phone: "0719-4212345".into(),
                }],
                ..depot("HB-SY-ZS-01", pb::Tier::Township, "HB-SY-ZS", "420323100")
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(created.etag, "1");
    assert_eq!(created.owning_tier, pb::Tier::Township as i32);
    assert_eq!(created.status, pb::DepotStatus::Active as i32);

    let got = net
        .get_depot(pb::GetDepotRequest {
            code: "HB-SY-ZS-01".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(got, created);

    let renamed = net
        .update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY-ZS-01".into(),
                etag: "1".into(),
                name: "竹山县城关镇应急物资储备点".into(),
                ..Default::default()
            }),
            update_mask: mask(&["name"]),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(renamed.name, "竹山县城关镇应急物资储备点");
    assert_eq!(renamed.etag, "2");
    assert_eq!(
        renamed.duty_contacts, created.duty_contacts,
        "fields outside the mask stay"
    );

    // A second county, then move the township under it: its path follows.
    net.create_depot(pb::CreateDepotRequest {
        request_id: rid(),
        depot: Some(depot("HB-SY-FX", pb::Tier::County, "HB-SY", "420325")),
    })
    .await
    .unwrap();
    let moved = net
        .update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY-ZS-01".into(),
                parent_code: "HB-SY-FX".into(),
                division_code: "420325100".into(),
                ..Default::default()
            }),
            update_mask: mask(&["parent_code", "division_code"]),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(moved.parent_code, "HB-SY-FX");
    let under_fx = net
        .list_descendants(pb::ListDescendantsRequest {
            code: "HB-SY-FX".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(under_fx.depots.len(), 1);
    let up = net
        .list_ancestors(pb::ListAncestorsRequest {
            code: "HB-SY-ZS-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let codes: Vec<_> = up.ancestors.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(codes, vec!["HB", "HB-SY", "HB-SY-FX"]);

    // A county with an open township cannot close; the township can.
    let err = net
        .close_depot(pb::CloseDepotRequest {
            request_id: rid(),
            code: "HB-SY-FX".into(),
            etag: String::new(),
            reason: "撤并".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err).as_deref(), Some("DEPOT_HAS_OPEN_CHILDREN"));
    let closed = net
        .close_depot(pb::CloseDepotRequest {
            request_id: rid(),
            code: "HB-SY-ZS-01".into(),
            etag: moved.etag.clone(),
            reason: "乡镇撤并".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .depot
        .unwrap();
    assert_eq!(closed.status, pb::DepotStatus::Closed as i32);
    net.close_depot(pb::CloseDepotRequest {
        request_id: rid(),
        code: "HB-SY-FX".into(),
        etag: String::new(),
        reason: "撤并".into(),
    })
    .await
    .unwrap();

    // Closed is final: no update, no new children.
    let err = net
        .update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY-FX".into(),
                status: pb::DepotStatus::Active as i32,
                ..Default::default()
            }),
            update_mask: mask(&["status"]),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("DEPOT_CLOSED"));
    let err = net
        .create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(depot(
                "HB-SY-FX-09",
                pb::Tier::Township,
                "HB-SY-FX",
                "420325109",
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err).as_deref(), Some("PARENT_CLOSED"));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_tier_rule_is_refused_with_a_clear_code() {
    let app = TestApp::spawn().await;
    let t = small_tree(&app).await;
    let mut net = app.network(&t);
    let create = |d: pb::Depot| pb::CreateDepotRequest {
        request_id: rid(),
        depot: Some(d),
    };
    let cases: Vec<(&str, pb::Depot, Code, &str)> = vec![
        (
            "county directly under the province",
            depot("HB-ZS", pb::Tier::County, "HB", "420323"),
            Code::InvalidArgument,
            "depot.parent_code",
        ),
        (
            "township under a city",
            depot("HB-SY-09", pb::Tier::Township, "HB-SY", "420323109"),
            Code::InvalidArgument,
            "depot.parent_code",
        ),
        (
            "township whose division is not a township code",
            depot("HB-SY-ZS-T1", pb::Tier::Township, "HB-SY-ZS", "420323"),
            Code::InvalidArgument,
            "depot.division_code",
        ),
        (
            "province with a parent",
            depot("HN", pb::Tier::Province, "HB", "430000"),
            Code::InvalidArgument,
            "depot.parent_code",
        ),
        (
            "city with no parent",
            depot("HB-XY", pb::Tier::City, "", "420600"),
            Code::InvalidArgument,
            "depot.parent_code",
        ),
        (
            "parent that does not exist",
            depot("HB-SY-XX", pb::Tier::County, "HB-SY-NONE", "420322"),
            Code::InvalidArgument,
            "depot.parent_code",
        ),
        (
            "county outside its city's division",
            depot("HB-SY-WC", pb::Tier::County, "HB-SY", "420106"),
            Code::InvalidArgument,
            "depot.division_code",
        ),
        (
            "code already taken",
            depot("HB-SY-ZS", pb::Tier::County, "HB-SY", "420323"),
            Code::AlreadyExists,
            "",
        ),
    ];
    let before = app.fingerprint().await;
    for (what, d, code, field) in cases {
        let err = net.create_depot(create(d)).await.unwrap_err();
        assert_eq!(err.code(), code, "{what}: {err:?}");
        if !field.is_empty() {
            assert!(
                violated_fields(&err).contains(&field.to_string()),
                "{what}: {err:?}"
            );
        }
    }
    // Moving a city under its own county is refused (tier and cycle).
    let err = net
        .update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY".into(),
                parent_code: "HB-SY-ZS".into(),
                ..Default::default()
            }),
            update_mask: mask(&["parent_code"]),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), vec!["depot.parent_code"]);
    // A county's division cannot leave its township children behind.
    net.create_depot(create(depot(
        "HB-SY-ZS-01",
        pb::Tier::Township,
        "HB-SY-ZS",
        "420323100",
    )))
    .await
    .unwrap();
    let before_div = app.fingerprint().await;
    let err = net
        .update_depot(pb::UpdateDepotRequest {
            request_id: rid(),
            depot: Some(pb::Depot {
                code: "HB-SY-ZS".into(),
                division_code: "420324".into(),
                ..Default::default()
            }),
            update_mask: mask(&["division_code"]),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&err).as_deref(), Some("CHILD_OUTSIDE_DIVISION"));
    assert_eq!(app.fingerprint().await, before_div);
    assert_ne!(before, before_div, "only the one township was added");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn paging_through_250_depots_sees_each_exactly_once() {
    let app = TestApp::spawn().await;
    let t = small_tree(&app).await;
    let mut net = app.network(&t);
    for i in 0..250 {
        net.create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(depot(
                &format!("HB-SY-ZS-{i:03}"),
                pb::Tier::Township,
                "HB-SY-ZS",
                &format!("420323{i:03}"),
            )),
        })
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let p = net
            .list_depots(pb::ListDepotsRequest {
                page_size: 7,
                page_token: token,
                tier: pb::Tier::Township as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(p.depots.len() <= 7);
        pages += 1;
        seen.extend(p.depots.into_iter().map(|d| d.code));
        if p.next_page_token.is_empty() {
            break;
        }
        token = p.next_page_token;
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 250);
    assert_eq!(pages, 36);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages come in code order");

    // The subtree walk pages the same way, parents first.
    let mut below = Vec::new();
    let mut token = String::new();
    loop {
        let p = net
            .list_descendants(pb::ListDescendantsRequest {
                code: "HB".into(),
                page_size: 100,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        below.extend(p.depots.into_iter().map(|d| d.code));
        if p.next_page_token.is_empty() {
            break;
        }
        token = p.next_page_token;
    }
    assert_eq!(below.len(), 252);
    assert_eq!(&below[..2], &["HB-SY".to_string(), "HB-SY-ZS".to_string()]);

    // A token is bound to its filters.
    let first = net
        .list_depots(pb::ListDepotsRequest {
            page_size: 5,
            tier: pb::Tier::Township as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let err = net
        .list_depots(pb::ListDepotsRequest {
            page_size: 5,
            page_token: first.next_page_token,
            tier: pb::Tier::County as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["page_token"]);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_retried_request_id_changes_nothing_and_returns_the_same_answer() {
    let app = TestApp::spawn().await;
    let t = small_tree(&app).await;
    let mut net = app.network(&t);
    let req = pb::CreateDepotRequest {
        request_id: "create-zs-01".into(),
        depot: Some(depot(
            "HB-SY-ZS-01",
            pb::Tier::Township,
            "HB-SY-ZS",
            "420323100",
        )),
    };
    let first = net.create_depot(req.clone()).await.unwrap().into_inner();
    let after_first = app.fingerprint().await;
    app.clock.advance_days(1);
    let second = net.create_depot(req.clone()).await.unwrap().into_inner();
    assert_eq!(
        first, second,
        "the retry answers exactly what the first call did"
    );
    assert_eq!(app.fingerprint().await, after_first, "and changes nothing");

    // An update retried after a later change still answers its own result.
    let upd = pb::UpdateDepotRequest {
        request_id: "rename-1".into(),
        depot: Some(pb::Depot {
            code: "HB-SY-ZS-01".into(),
            etag: "1".into(),
            name: "新名称".into(),
            ..Default::default()
        }),
        update_mask: mask(&["name"]),
    };
    let u1 = net.update_depot(upd.clone()).await.unwrap().into_inner();
    let u2 = net.update_depot(upd.clone()).await.unwrap().into_inner();
    assert_eq!(u1, u2);
    assert_eq!(u1.depot.unwrap().etag, "2");

    // The same id with a different request is refused and changes nothing.
    let before = app.fingerprint().await;
    let mut other = req.clone();
    other.depot.as_mut().unwrap().name = "另一个名字".into();
    let err = net.create_depot(other).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), vec!["request_id"]);
    assert_eq!(app.fingerprint().await, before);

    // Another user's identical request id is their own.
    let t2 = app.token_for("second-admin", &[Role::Admin], "HB");
    let err = app.network(&t2).create_depot(req).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn concurrent_retries_of_one_request_create_one_depot() {
    let app = TestApp::spawn().await;
    let t = small_tree(&app).await;
    let req = pb::CreateDepotRequest {
        request_id: "same-id".into(),
        depot: Some(depot(
            "HB-SY-ZS-01",
            pb::Tier::Township,
            "HB-SY-ZS",
            "420323100",
        )),
    };
    let calls = (0..16).map(|_| {
        let mut net = app.network(&t);
        let req = req.clone();
        async move { net.create_depot(req).await.map(|r| r.into_inner()) }
    });
    let answers = futures::future::join_all(calls).await;
    let first = answers[0].as_ref().unwrap().clone();
    for a in &answers {
        assert_eq!(a.as_ref().unwrap(), &first);
    }
    let audit = app
        .audit(&app.root_admin())
        .list_audit_events(pb::ListAuditEventsRequest {
            resource: "depots/HB-SY-ZS-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(audit.events.len(), 1);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_stale_etag_is_refused_with_aborted() {
    let app = TestApp::spawn().await;
    let t = small_tree(&app).await;
    let mut net = app.network(&t);
    let upd = |etag: &str, name: &str| pb::UpdateDepotRequest {
        request_id: rid(),
        depot: Some(pb::Depot {
            code: "HB-SY-ZS".into(),
            etag: etag.into(),
            name: name.into(),
            ..Default::default()
        }),
        update_mask: mask(&["name"]),
    };
    net.update_depot(upd("1", "甲")).await.unwrap();
    let before = app.fingerprint().await;
    let err = net.update_depot(upd("1", "乙")).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(app.fingerprint().await, before);
    let err = net
        .close_depot(pb::CloseDepotRequest {
            request_id: rid(),
            code: "HB-SY-ZS".into(),
            etag: "1".into(),
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_county_user_sees_only_their_subtree() {
    let app = TestApp::with_demo().await;
    let keeper = app.token(&[Role::DepotKeeper], "HB-SY-ZS");
    let mut net = app.network(&keeper);
    let all = net
        .list_depots(pb::ListDepotsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let codes: Vec<_> = all.depots.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        vec!["HB-SY-ZS", "HB-SY-ZS-01", "HB-SY-ZS-02", "HB-SY-ZS-03"]
    );
    let err = net
        .get_depot(pb::GetDepotRequest {
            code: "HB-SY-FX".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = net
        .get_depot(pb::GetDepotRequest {
            code: "HB-SY-NOPE".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // Ancestors are named even though they are outside the scope.
    let up = net
        .list_ancestors(pb::ListAncestorsRequest {
            code: "HB-SY-ZS-02".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(up.ancestors.len(), 3);
    assert_eq!(up.ancestors[1].name, "十堰市应急物资储备中心");
    // The demo network: 1 + 1 + 8 + 22 depots, with real county codes.
    let admin = app.root_admin();
    let all = app
        .network(&admin)
        .list_depots(pb::ListDepotsRequest {
            page_size: 1000,
            tier: pb::Tier::County as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut divisions: Vec<_> = all
        .depots
        .iter()
        .map(|d| d.division_code.as_str())
        .collect();
    divisions.sort();
    assert_eq!(
        divisions,
        vec![
            "420302", "420303", "420304", "420322", "420323", "420324", "420325", "420381"
        ]
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn seeding_the_demo_twice_adds_nothing_the_second_time() {
    let app = TestApp::with_demo().await;
    let before = app.fingerprint().await;
    let again = reserve_server::seed::seed_demo_network(&app.store, reserve_tests::T0)
        .await
        .unwrap();
    assert_eq!(again, reserve_server::seed::Seeded::default());
    assert_eq!(app.fingerprint().await, before);
    app.stop().await.unwrap();
}
