//! The authorization table: every RPC against every kind of token and every
//! role inside and outside its scope, with the code each must get, and for
//! every refusal a check that nothing a user could see has changed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reserve_api::auth::Claims;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::audit_service_client::AuditServiceClient;
use reserve_api::pb::reserve::v1::catalog_service_client::CatalogServiceClient;
use reserve_api::pb::reserve::v1::network_service_client::NetworkServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{AUDIENCE, ISSUER, TestApp, depot, rid};
use std::sync::atomic::{AtomicU32, Ordering};
use tonic::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rpc {
    CreateDepot,
    GetDepot,
    ListDepots,
    UpdateDepot,
    CloseDepot,
    ListDescendants,
    ListAncestors,
    CreateItem,
    GetItem,
    ListItems,
    UpdateItem,
    SetReserveNorm,
    ListReserveNorms,
    ListAuditEvents,
}

const ALL: [Rpc; 14] = [
    Rpc::CreateDepot,
    Rpc::GetDepot,
    Rpc::ListDepots,
    Rpc::UpdateDepot,
    Rpc::CloseDepot,
    Rpc::ListDescendants,
    Rpc::ListAncestors,
    Rpc::CreateItem,
    Rpc::GetItem,
    Rpc::ListItems,
    Rpc::UpdateItem,
    Rpc::SetReserveNorm,
    Rpc::ListReserveNorms,
    Rpc::ListAuditEvents,
];

/// Scope that covers the target depot HB-SY-FX (and the catalogue's owner HB-SY).
const INSIDE: &str = "HB-SY";
/// Scope that covers neither.
const OUTSIDE: &str = "HB-SY-ZS";

/// What `role` must get for `rpc` when its scope is inside or outside.
fn expected(rpc: Rpc, role: Role, inside: bool) -> Code {
    let ok_if = |cond: bool| {
        if cond {
            Code::Ok
        } else {
            Code::PermissionDenied
        }
    };
    match rpc {
        Rpc::GetDepot
        | Rpc::ListDepots
        | Rpc::ListDescendants
        | Rpc::ListAncestors
        | Rpc::ListReserveNorms => ok_if(inside),
        Rpc::CreateDepot
        | Rpc::UpdateDepot
        | Rpc::CloseDepot
        | Rpc::SetReserveNorm
        | Rpc::UpdateItem => ok_if(inside && role == Role::Admin),
        Rpc::GetItem | Rpc::ListItems => Code::Ok,
        Rpc::CreateItem => ok_if(role == Role::Admin),
        Rpc::ListAuditEvents => ok_if(inside && matches!(role, Role::Auditor | Role::Admin)),
    }
}

static SERIAL: AtomicU32 = AtomicU32::new(100);

/// Prepares what a call needs (done as the province admin), takes the
/// fingerprint, and returns it with the code of the call made with `token`.
/// The preparation itself changes what a user sees (a CloseDepot needs a
/// depot to close), so the fingerprint is taken only once it is done.
async fn call(app: &TestApp, rpc: Rpc, token: Option<&str>) -> (Code, String) {
    let n = SERIAL.fetch_add(1, Ordering::SeqCst);
    let ch = app.authed(token);
    let mut net = NetworkServiceClient::new(ch.clone());
    let mut cat = CatalogServiceClient::new(ch.clone());
    let mut audit = AuditServiceClient::new(ch);
    let code = |r: Result<(), tonic::Status>| r.err().map(|s| s.code()).unwrap_or(Code::Ok);
    // A fresh township for CloseDepot, so every attempt has an open depot
    // without stock or children to close.
    let closable = if rpc == Rpc::CloseDepot {
        let code = format!("HB-SY-FX-C{n}");
        app.network(&app.root_admin())
            .create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(depot(
                    &code,
                    pb::Tier::Township,
                    "HB-SY-FX",
                    &format!("420325{n:03}"),
                )),
            })
            .await
            .unwrap();
        Some(code)
    } else {
        None
    };
    let before = app.fingerprint().await;
    let r = match rpc {
        Rpc::CreateDepot => net
            .create_depot(pb::CreateDepotRequest {
                request_id: rid(),
                depot: Some(depot(
                    &format!("HB-SY-FX-T{n}"),
                    pb::Tier::Township,
                    "HB-SY-FX",
                    &format!("420325{n:03}"),
                )),
            })
            .await
            .map(|_| ()),
        Rpc::GetDepot => net
            .get_depot(pb::GetDepotRequest {
                code: "HB-SY-FX".into(),
            })
            .await
            .map(|_| ()),
        Rpc::ListDepots => net
            .list_depots(pb::ListDepotsRequest {
                parent_code: "HB-SY-FX".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::UpdateDepot => net
            .update_depot(pb::UpdateDepotRequest {
                request_id: rid(),
                depot: Some(pb::Depot {
                    code: "HB-SY-FX".into(),
                    name: format!("房县应急物资储备库 {n}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            })
            .await
            .map(|_| ()),
        Rpc::CloseDepot => net
            .close_depot(pb::CloseDepotRequest {
                request_id: rid(),
                code: closable.expect("a depot to close"),
                etag: String::new(),
                reason: "撤并".into(),
            })
            .await
            .map(|_| ()),
        Rpc::ListDescendants => net
            .list_descendants(pb::ListDescendantsRequest {
                code: "HB-SY-FX".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::ListAncestors => net
            .list_ancestors(pb::ListAncestorsRequest {
                code: "HB-SY-FX-01".into(),
            })
            .await
            .map(|_| ()),
        Rpc::CreateItem => cat
            .create_item(pb::CreateItemRequest {
                request_id: rid(),
                item: Some(pb::Item {
                    id: format!("kit-{n}"),
                    code: "1050199".into(),
                    name: "应急包".into(),
                    unit: "箱".into(),
                    tracking: pb::TrackingMode::Lot as i32,
                    ..Default::default()
                }),
            })
            .await
            .map(|_| ()),
        Rpc::GetItem => cat
            .get_item(pb::GetItemRequest {
                id: "tent-12m2".into(),
            })
            .await
            .map(|_| ()),
        Rpc::ListItems => cat
            .list_items(pb::ListItemsRequest::default())
            .await
            .map(|_| ()),
        Rpc::UpdateItem => cat
            .update_item(pb::UpdateItemRequest {
                request_id: rid(),
                item: Some(pb::Item {
                    id: "tent-12m2".into(),
                    specification: format!("12平方米 单帐篷 {n}"),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["specification".into()],
                }),
            })
            .await
            .map(|_| ()),
        Rpc::SetReserveNorm => cat
            .set_reserve_norm(pb::SetReserveNormRequest {
                request_id: rid(),
                norm: Some(pb::ReserveNorm {
                    depot_code: "HB-SY-FX".into(),
                    item_id: "tent-12m2".into(),
                    minimum: i64::from(n),
                    target: i64::from(n) * 2,
                    ..Default::default()
                }),
            })
            .await
            .map(|_| ()),
        Rpc::ListReserveNorms => cat
            .list_reserve_norms(pb::ListReserveNormsRequest {
                depot_code: "HB-SY-FX".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        Rpc::ListAuditEvents => audit
            .list_audit_events(pb::ListAuditEventsRequest {
                depot_code: "HB-SY-FX".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
    };
    (code(r), before)
}

/// Calls `rpc` and, when it is refused, checks that nothing changed.
async fn check(app: &TestApp, rpc: Rpc, token: Option<&str>, want: Code, what: &str) {
    let (got, before) = call(app, rpc, token).await;
    assert_eq!(got, want, "{rpc:?} with {what}");
    if got != Code::Ok {
        assert_eq!(
            app.fingerprint().await,
            before,
            "refused {rpc:?} with {what} changed something"
        );
    }
}

/// Valid claims of "mallory" with `roles`, scoped to the whole province.
pub(crate) fn claims(roles: &[&str]) -> Claims {
    let now = jsonwebtoken_now();
    Claims {
        sub: "mallory".into(),
        name: "Mallory".into(),
        roles: roles.iter().map(|s| s.to_string()).collect(),
        scope_depot: "HB".into(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        exp: now + 600,
        nbf: None,
        iat: Some(now),
    }
}

pub(crate) fn jsonwebtoken_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Every kind of missing or bad token, each spoiling `valid` (claims that
/// would otherwise be allowed) in one way, with what it is.
pub(crate) fn bad_tokens(app: &TestApp, valid: &Claims) -> Vec<(&'static str, Option<String>)> {
    let expired = app.sign(&Claims {
        exp: jsonwebtoken_now() - 3600,
        iat: Some(jsonwebtoken_now() - 7200),
        ..valid.clone()
    });
    let not_yet = app.sign(&Claims {
        nbf: Some(jsonwebtoken_now() + 3600),
        ..valid.clone()
    });
    let bad_signature = app.sign_with_other_key(valid);
    let wrong_audience = app.sign(&Claims {
        aud: "someone-else.v1".into(),
        ..valid.clone()
    });
    let wrong_issuer = app.sign(&Claims {
        iss: "https://evil.example".into(),
        ..valid.clone()
    });
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(valid).unwrap())
    );
    // A valid signature over a token whose header claims another algorithm.
    let good = app.sign(valid);
    let mut parts: Vec<&str> = good.split('.').collect();
    let hs512_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    parts[0] = &hs512_header;
    let alg_swapped = parts.join(".");
    vec![
        ("no token", None),
        ("an expired token", Some(expired)),
        ("a token not valid yet", Some(not_yet)),
        ("a bad signature", Some(bad_signature)),
        ("the wrong audience", Some(wrong_audience)),
        ("the wrong issuer", Some(wrong_issuer)),
        ("alg none", Some(alg_none)),
        ("a swapped algorithm", Some(alg_swapped)),
        ("garbage", Some("not-a-jwt".into())),
    ]
}

#[tokio::test]
async fn every_rpc_refuses_missing_and_bad_tokens_with_unauthenticated() {
    let app = TestApp::with_demo().await;
    let admin = claims(&["admin"]);
    let cases = bad_tokens(&app, &admin);
    for rpc in ALL {
        for (what, token) in &cases {
            check(&app, rpc, token.as_deref(), Code::Unauthenticated, what).await;
        }
    }
    // The scheme must be Bearer.
    let ch = {
        use tonic::service::interceptor::InterceptedService;
        let v: tonic::metadata::MetadataValue<_> =
            format!("Basic {}", app.sign(&admin)).try_into().unwrap();
        InterceptedService::new(app.channel.clone(), move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", v.clone());
            Ok(r)
        })
    };
    let err = NetworkServiceClient::new(ch)
        .get_depot(pb::GetDepotRequest { code: "HB".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_rpc_answers_each_role_inside_and_outside_its_scope_as_the_table_says() {
    let app = TestApp::with_demo().await;
    for rpc in ALL {
        for role in Role::ALL {
            for (inside, scope) in [(true, INSIDE), (false, OUTSIDE)] {
                let token = app.token(&[role], scope);
                let what = format!("{} scoped to {scope}", role.claim());
                check(&app, rpc, Some(&token), expected(rpc, role, inside), &what).await;
            }
        }
    }
    // A token with no known role gets nothing at all.
    let nobody = app.sign(&Claims {
        roles: vec!["superuser".into()],
        scope_depot: "HB".into(),
        ..claims(&[])
    });
    check(
        &app,
        Rpc::GetItem,
        Some(&nobody),
        Code::PermissionDenied,
        "no known role",
    )
    .await;
    check(
        &app,
        Rpc::CreateDepot,
        Some(&nobody),
        Code::PermissionDenied,
        "no known role",
    )
    .await;
    // A token whose scope depot does not exist covers nothing.
    let ghost = app.token(&[Role::Admin], "HB-GHOST");
    check(
        &app,
        Rpc::GetDepot,
        Some(&ghost),
        Code::PermissionDenied,
        "a missing scope depot",
    )
    .await;
    check(
        &app,
        Rpc::SetReserveNorm,
        Some(&ghost),
        Code::PermissionDenied,
        "a missing scope depot",
    )
    .await;
    app.stop().await.unwrap();
}
