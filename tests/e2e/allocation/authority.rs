//! Who may do what to an order: every RPC, each role inside and outside its
//! scope, no token and bad tokens. A refusal changes nothing.

use super::*;
use crate::authz::{bad_tokens, claims};
use reserve_api::auth::Claims;
use reserve_api::pb::reserve::v1::allocation_service_client::AllocationServiceClient;
use tonic::Code;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rpc {
    Create,
    Get,
    List,
    Amend,
    Submit,
    Approve,
    Reject,
    Dispatch,
    Receive,
    Close,
    Cancel,
    Overdue,
}

const ALL: [Rpc; 12] = [
    Rpc::Create,
    Rpc::Get,
    Rpc::List,
    Rpc::Amend,
    Rpc::Submit,
    Rpc::Approve,
    Rpc::Reject,
    Rpc::Dispatch,
    Rpc::Receive,
    Rpc::Close,
    Rpc::Cancel,
    Rpc::Overdue,
];

/// The state an order must be in for the RPC to be allowed.
fn needs(rpc: Rpc) -> pb::AllocationState {
    use pb::AllocationState::*;
    match rpc {
        Rpc::Create | Rpc::Get | Rpc::List | Rpc::Amend | Rpc::Overdue | Rpc::Cancel => Draft,
        Rpc::Submit => Draft,
        Rpc::Approve | Rpc::Reject => Submitted,
        Rpc::Dispatch => Approved,
        Rpc::Receive => Dispatched,
        Rpc::Close => Received,
    }
}

async fn order_in(app: &TestApp, s: pb::AllocationState) -> pb::AllocationOrder {
    use pb::AllocationState::*;
    let mut disp = dispatcher(app, "disp@ZS", ZS);
    let o = raise(
        &mut disp,
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 10, &[(ZS, 10)])],
        ),
    )
    .await;
    if s == Draft {
        return o;
    }
    let o = submit(&mut disp, &o.id).await.unwrap();
    if s == Submitted {
        return o;
    }
    let o = approve(&mut dispatcher(app, "chief@ZS", ZS), &o.id)
        .await
        .unwrap();
    if s == Approved {
        return o;
    }
    let o = dispatch(&mut keeper(app, ZS), &o.id, ZS).await.unwrap();
    if s == Dispatched {
        return o;
    }
    receive_all(&mut keeper(app, ZS1), &o).await.unwrap()
}

async fn call(c: &mut Orders, rpc: Rpc, o: &pb::AllocationOrder) -> Result<(), tonic::Status> {
    let id = o.id.clone();
    match rpc {
        Rpc::Create => c
            .create_allocation_order(pb::CreateAllocationOrderRequest {
                request_id: rid(),
                order: Some(transfer(
                    pb::AllocationPriority::Routine,
                    ZS1,
                    vec![line(QUILT, 10, &[(ZS, 10)])],
                )),
            })
            .await
            .map(drop),
        Rpc::Get => c
            .get_allocation_order(pb::GetAllocationOrderRequest { order_id: id })
            .await
            .map(drop),
        Rpc::List => c
            .list_allocation_orders(pb::ListAllocationOrdersRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Overdue => c
            .list_overdue_backfills(pb::ListOverdueBackfillsRequest {
                depot_code: ZS.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        Rpc::Amend => {
            let mut new = transfer(
                pb::AllocationPriority::Urgent,
                ZS1,
                vec![line(QUILT, 10, &[(ZS, 10)])],
            );
            new.id = id;
            c.amend_allocation_order(pb::AmendAllocationOrderRequest {
                request_id: rid(),
                order: Some(new),
                etag: String::new(),
            })
            .await
            .map(drop)
        }
        Rpc::Submit => submit(c, &id).await.map(drop),
        Rpc::Approve => approve(c, &id).await.map(drop),
        Rpc::Reject => c
            .reject_allocation_order(pb::RejectAllocationOrderRequest {
                request_id: rid(),
                order_id: id,
                reason: "不批".into(),
                etag: String::new(),
            })
            .await
            .map(drop),
        Rpc::Dispatch => dispatch(c, &id, ZS).await.map(drop),
        Rpc::Receive => receive_all(c, o).await.map(drop),
        Rpc::Close => c
            .close_allocation_order(pb::CloseAllocationOrderRequest {
                request_id: rid(),
                order_id: id,
                note: String::new(),
                etag: String::new(),
            })
            .await
            .map(drop),
        Rpc::Cancel => c
            .cancel_allocation_order(pb::CancelAllocationOrderRequest {
                request_id: rid(),
                order_id: id,
                reason: "撤销".into(),
                etag: String::new(),
            })
            .await
            .map(drop),
    }
}

/// Who is allowed, of the principals below, for each RPC.
fn allowed(rpc: Rpc, who: &str) -> bool {
    // Everyone whose scope covers the county lists its orders; a depot the
    // order touches (the township receiving it) also reads it.
    let over_zs = [
        "dispatcher@ZS",
        "dispatcher@HB",
        "keeper@ZS",
        "auditor@HB",
        "finance@ZS",
        "admin@HB",
    ];
    match rpc {
        Rpc::List | Rpc::Overdue => over_zs.contains(&who),
        Rpc::Get => over_zs.contains(&who) || who.ends_with("@ZS1"),
        // A dispatcher raises an order for a destination in their scope: the
        // township's own dispatcher may ask the county for tents.
        Rpc::Create => ["dispatcher@ZS", "dispatcher@HB", "dispatcher@ZS1"].contains(&who),
        // The rest of the order's life is the command depot's, and approval
        // needs the source (the county) in scope as well.
        Rpc::Amend | Rpc::Submit | Rpc::Close | Rpc::Cancel | Rpc::Approve | Rpc::Reject => {
            ["dispatcher@ZS", "dispatcher@HB"].contains(&who)
        }
        Rpc::Dispatch => who == "keeper@ZS",
        Rpc::Receive => who == "keeper@ZS1",
    }
}

const PRINCIPALS: [(&str, Role, &str); 10] = [
    ("dispatcher@ZS", Role::Dispatcher, ZS),
    ("dispatcher@HB", Role::Dispatcher, "HB"),
    ("dispatcher@ZS1", Role::Dispatcher, ZS1),
    ("dispatcher@FX", Role::Dispatcher, FX),
    ("keeper@ZS", Role::DepotKeeper, ZS),
    ("keeper@ZS1", Role::DepotKeeper, ZS1),
    ("keeper@FX", Role::DepotKeeper, FX),
    ("auditor@HB", Role::Auditor, "HB"),
    ("finance@ZS", Role::Finance, ZS),
    ("admin@HB", Role::Admin, "HB"),
];

#[tokio::test]
async fn every_rpc_answers_each_role_inside_and_outside_its_scope() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 5_000, &[]).await;
    for rpc in ALL {
        for (who, role, scope) in PRINCIPALS {
            let o = order_in(&app, needs(rpc)).await;
            let audit = app.audit_count().await;
            let mut c = app.allocation(&app.token_for(who, &[role], scope));
            let got = call(&mut c, rpc, &o).await;
            if allowed(rpc, who) {
                assert!(got.is_ok(), "{rpc:?} as {who}: {got:?}");
            } else {
                let e = got.expect_err(&format!("{rpc:?} as {who} was allowed"));
                assert_eq!(e.code(), Code::PermissionDenied, "{rpc:?} as {who}: {e:?}");
                assert_eq!(app.audit_count().await, audit, "{rpc:?} as {who} wrote");
                let now = get(&mut dispatcher(&app, "disp@ZS", ZS), &o.id).await;
                assert_eq!(now.etag, o.etag, "{rpc:?} as {who} changed the order");
            }
        }
    }
    app.assert_ledger_consistent().await;
}

#[tokio::test]
async fn no_token_or_a_bad_token_is_unauthenticated_for_every_rpc() {
    let app = TestApp::with_demo().await;
    stock_in(&app, ZS, QUILT, "Q-1", 1_000, &[]).await;
    let o = order_in(&app, pb::AllocationState::Draft).await;
    let valid = Claims {
        scope_depot: ZS.into(),
        ..claims(&["depot_keeper", "dispatcher", "finance", "auditor", "admin"])
    };
    let cases = bad_tokens(&app, &valid);
    for rpc in ALL {
        for (what, token) in &cases {
            let mut c = AllocationServiceClient::new(app.authed(token.as_deref()));
            let got = call(&mut c, rpc, &o).await;
            let e = got.expect_err(&format!("{rpc:?} with {what} was answered"));
            assert_eq!(
                e.code(),
                Code::Unauthenticated,
                "{rpc:?} with {what}: {e:?}"
            );
        }
    }
}
