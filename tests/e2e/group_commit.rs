//! Writes that arrive together (on SQLite they share one transaction, each
//! under its own savepoint) still answer each for itself: the fresh, the
//! duplicate of another in flight and the refused; and a retry of any of
//! them afterwards gets the same answer and changes nothing more.

use reserve_api::pb::reserve::v1 as pb;
use reserve_tests::{TestApp, reason, rid};
use std::sync::Arc;
use tonic::Code;

const ZS: &str = "HB-SY-ZS";
const TENT: &str = "tent-36m2";

fn issue(request_id: &str) -> pb::IssueStockRequest {
    pb::IssueStockRequest {
        request_id: request_id.into(),
        depot_code: ZS.into(),
        item_id: TENT.into(),
        quantity: 1,
        purpose: pb::IssuePurpose::Incident as i32,
        recipient: "竹山县山洪".into(),
        ..Default::default()
    }
}

/// The entry id issued, or the refusal's code and reason.
type Answer = Result<String, (Code, Option<String>)>;

fn answer(r: Result<tonic::Response<pb::IssueStockResponse>, tonic::Status>) -> Answer {
    r.map(|r| r.into_inner().entries[0].id.clone())
        .map_err(|s| (s.code(), reason(&s)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_arriving_together_each_get_their_own_answer_and_duplicates_the_first() {
    const UNITS: i64 = 10;
    const REQUESTS: usize = 12;
    let app = TestApp::with_demo().await;
    let keeper = app.keeper("keeper-zs", ZS);
    keeper
        .clone()
        .receive_stock(pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: ZS.into(),
            item_id: TENT.into(),
            lot_number: "GC-1".into(),
            quantity: UNITS,
            ..Default::default()
        })
        .await
        .unwrap();
    let audit_before = app.audit_count().await;

    // Twelve requests for one unit each, every one sent twice at once.
    let ids: Vec<String> = (0..REQUESTS).map(|_| rid()).collect();
    let gate = Arc::new(tokio::sync::Barrier::new(REQUESTS * 2));
    let calls: Vec<_> = ids
        .iter()
        .chain(ids.iter())
        .map(|id| {
            let mut k = keeper.clone();
            let req = issue(id);
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.wait().await;
                answer(k.issue_stock(req).await)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for c in calls {
        answers.push(c.await.unwrap());
    }
    let (first, second) = answers.split_at(REQUESTS);
    for (i, (a, b)) in first.iter().zip(second).enumerate() {
        assert_eq!(
            a, b,
            "the two copies of request {i} were answered differently"
        );
    }
    let issued: Vec<&String> = first.iter().filter_map(|a| a.as_ref().ok()).collect();
    assert_eq!(issued.len(), UNITS as usize, "{first:?}");
    let mut distinct = issued.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), issued.len(), "two requests got one entry");
    for a in first.iter().filter(|a| a.is_err()) {
        assert_eq!(
            a,
            &Err((Code::FailedPrecondition, Some("INSUFFICIENT_STOCK".into())))
        );
    }
    // One audit event per unit issued: duplicates and refusals left none.
    assert_eq!(app.audit_count().await, audit_before + UNITS);

    // Retried afterwards, every request gets its first answer again.
    for (id, was) in ids.iter().zip(first) {
        let again = answer(keeper.clone().issue_stock(issue(id)).await);
        assert_eq!(&again, was);
    }
    assert_eq!(app.audit_count().await, audit_before + UNITS);
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
