//! Every state × every action: allowed, or FAILED_PRECONDITION with reason
//! INVALID_STATE_TRANSITION and nothing changed.

use super::*;
use reserve_tests::reason;
use tonic::Code;

const ACTIONS: [&str; 8] = [
    "amend", "submit", "approve", "reject", "dispatch", "receive", "close", "cancel",
];

fn allowed(s: pb::AllocationState) -> &'static [&'static str] {
    use pb::AllocationState::*;
    match s {
        Draft => &["amend", "submit", "cancel"],
        Submitted => &["approve", "reject", "cancel"],
        Approved => &["dispatch", "cancel"],
        Dispatched => &["dispatch", "receive"],
        Received => &["close"],
        _ => &[],
    }
}

struct World {
    app: TestApp,
    disp: Orders,
    chief: Orders,
    sender: Orders,
    receiver: Orders,
}

impl World {
    async fn new() -> World {
        let app = TestApp::with_demo().await;
        stock_in(&app, ZS, QUILT, "Q-1", 10_000, &[]).await;
        World {
            disp: dispatcher(&app, "disp@ZS", ZS),
            chief: dispatcher(&app, "chief@ZS", ZS),
            sender: keeper(&app, ZS),
            receiver: keeper(&app, ZS1),
            app,
        }
    }

    fn order() -> pb::AllocationOrder {
        transfer(
            pb::AllocationPriority::Routine,
            ZS1,
            vec![line(QUILT, 10, &[(ZS, 10)])],
        )
    }

    /// A fresh order brought to `s`.
    async fn order_in(&mut self, s: pb::AllocationState) -> pb::AllocationOrder {
        use pb::AllocationState::*;
        let o = raise(&mut self.disp, Self::order()).await;
        if s == Draft {
            return o;
        }
        if s == Cancelled {
            return self.act("cancel", &o).await.unwrap();
        }
        let o = submit(&mut self.disp, &o.id).await.unwrap();
        if s == Submitted {
            return o;
        }
        if s == Rejected {
            return self.act("reject", &o).await.unwrap();
        }
        let o = approve(&mut self.chief, &o.id).await.unwrap();
        if s == Approved {
            return o;
        }
        let o = dispatch(&mut self.sender, &o.id, ZS).await.unwrap();
        if s == Dispatched {
            return o;
        }
        let o = receive_all(&mut self.receiver, &o).await.unwrap();
        if s == Received {
            return o;
        }
        self.act("close", &o).await.unwrap()
    }

    async fn act(
        &mut self,
        action: &str,
        o: &pb::AllocationOrder,
    ) -> Result<pb::AllocationOrder, tonic::Status> {
        let id = o.id.clone();
        match action {
            "amend" => {
                let mut new = Self::order();
                new.id = id;
                new.reason = "改为防汛备勤".into();
                self.disp
                    .amend_allocation_order(pb::AmendAllocationOrderRequest {
                        request_id: rid(),
                        order: Some(new),
                        etag: String::new(),
                    })
                    .await
                    .map(|r| r.into_inner().order.unwrap())
            }
            "submit" => submit(&mut self.disp, &id).await,
            "approve" => approve(&mut self.chief, &id).await,
            "reject" => self
                .chief
                .reject_allocation_order(pb::RejectAllocationOrderRequest {
                    request_id: rid(),
                    order_id: id,
                    reason: "县库自行解决".into(),
                    etag: String::new(),
                })
                .await
                .map(|r| r.into_inner().order.unwrap()),
            "dispatch" => dispatch(&mut self.sender, &id, ZS).await,
            "receive" => self
                .receiver
                .receive_allocation_order(pb::ReceiveAllocationOrderRequest {
                    request_id: rid(),
                    order_id: id,
                    shares: vec![pb::ReceivedShare {
                        line_number: 1,
                        source_depot_code: ZS.into(),
                        lot_number: "Q-1".into(),
                        received: 1,
                        ..Default::default()
                    }],
                    etag: String::new(),
                })
                .await
                .map(|r| r.into_inner().order.unwrap()),
            "close" => self
                .disp
                .close_allocation_order(pb::CloseAllocationOrderRequest {
                    request_id: rid(),
                    order_id: id,
                    note: String::new(),
                    etag: String::new(),
                })
                .await
                .map(|r| r.into_inner().order.unwrap()),
            "cancel" => self
                .disp
                .cancel_allocation_order(pb::CancelAllocationOrderRequest {
                    request_id: rid(),
                    order_id: id,
                    reason: "灾情解除".into(),
                    etag: String::new(),
                })
                .await
                .map(|r| r.into_inner().order.unwrap()),
            other => panic!("unknown action {other}"),
        }
    }

    async fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}",
            self.app.stock_fingerprint(ZS).await,
            self.app.stock_fingerprint(ZS1).await,
            self.app.audit_count().await
        )
    }
}

#[tokio::test]
async fn every_state_allows_exactly_its_actions_and_refusals_change_nothing() {
    use pb::AllocationState::*;
    let mut w = World::new().await;
    for s in [
        Draft, Submitted, Approved, Dispatched, Received, Closed, Rejected, Cancelled,
    ] {
        let o = w.order_in(s).await;
        assert_eq!(state(&o), s);
        for action in ACTIONS.iter().filter(|a| !allowed(s).contains(a)) {
            let before = w.fingerprint().await;
            let err = w.act(action, &o).await.unwrap_err();
            assert_eq!(
                err.code(),
                Code::FailedPrecondition,
                "{s:?} {action}: {err:?}"
            );
            assert_eq!(
                reason(&err).as_deref(),
                Some("INVALID_STATE_TRANSITION"),
                "{s:?} {action}: {err:?}"
            );
            let now = get(&mut w.disp, &o.id).await;
            assert_eq!((now.etag.as_str(), now.state), (o.etag.as_str(), o.state));
            assert_eq!(
                w.fingerprint().await,
                before,
                "{s:?} {action} changed something"
            );
        }
        for action in allowed(s) {
            let fresh = w.order_in(s).await;
            match (s, *action) {
                // A source dispatches once: the state allows it, the rule refuses.
                (Dispatched, "dispatch") => {
                    let err = w.act(action, &fresh).await.unwrap_err();
                    assert_eq!(reason(&err).as_deref(), Some("NOTHING_TO_DISPATCH"));
                }
                _ => {
                    let done = w.act(action, &fresh).await;
                    assert!(done.is_ok(), "{s:?} {action}: {done:?}");
                }
            }
        }
    }
    w.app.assert_ledger_consistent().await;
}
