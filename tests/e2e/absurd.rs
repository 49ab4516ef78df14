//! Absurd values a fuzzer would try, over the wire: dates in the year 9999,
//! timestamps at the ends of their range, and page tokens that were
//! tampered with. Each is refused INVALID_ARGUMENT naming its field (never
//! INTERNAL, never a panic) and changes nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_tests::{TestApp, date, rid, violated_fields};
use tonic::Code;

const ZS: &str = "HB-SY-ZS";

fn refused(field: &str, r: Result<(), tonic::Status>) {
    let e = r.expect_err("an absurd value must be refused");
    assert_eq!(e.code(), Code::InvalidArgument, "{field}: {e:?}");
    assert_eq!(violated_fields(&e), vec![field.to_string()], "{e:?}");
}

#[tokio::test]
async fn dates_in_the_year_9999_and_timestamps_at_the_ends_of_time_are_refused() {
    let app = TestApp::with_demo().await;
    let before = app.fingerprint().await;
    let mut k = app.keeper("keeper-zs", ZS);
    for (field, production, expiry) in [
        ("expiry_date", None, date(9999, 12, 31)),
        ("production_date", date(9999, 1, 1), None),
        ("expiry_date", None, date(-5, 1, 1)),
    ] {
        refused(
            field,
            k.receive_stock(pb::ReceiveStockRequest {
                request_id: rid(),
                depot_code: ZS.into(),
                item_id: "quilt-cotton".into(),
                lot_number: "ABSURD-1".into(),
                quantity: 5,
                production_date: production,
                expiry_date: expiry,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        );
    }
    let mut audit = app.audit(&app.token(&[Role::Auditor], "HB"));
    for (field, seconds, nanos) in [
        ("start_time", i64::MAX, 0),
        ("start_time", i64::MIN, 0),
        ("start_time", 253_402_300_800, 0), // 10000-01-01
        ("start_time", 0, 1_000_000_000),
    ] {
        refused(
            field,
            audit
                .list_audit_events(pb::ListAuditEventsRequest {
                    start_time: Some(prost_types::Timestamp { seconds, nanos }),
                    ..Default::default()
                })
                .await
                .map(|_| ()),
        );
    }
    assert_eq!(app.fingerprint().await, before);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn tampered_page_tokens_are_refused_naming_page_token() {
    let app = TestApp::with_demo_stock().await;
    let mut audit = app.audit(&app.token(&[Role::Auditor], "HB"));
    let first = audit
        .list_audit_events(pb::ListAuditEventsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = first.next_page_token;
    assert!(!token.is_empty(), "the demo has more than two audit events");
    let raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    // The same token with its filters rewritten, its key replaced by
    // nonsense, cut short, and not base64 at all.
    json["f"] = serde_json::Value::String("someone else's filters".into());
    let other_filters = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).unwrap());
    let mut nonsense: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    nonsense["k"] = serde_json::json!({"x": [f64::MAX, "\u{0}"]});
    let bad_key = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&nonsense).unwrap());
    let cut = token[..token.len() / 2].to_string();
    let huge = "A".repeat(100_000);
    for t in [other_filters, bad_key, cut, huge, "%%%".into()] {
        refused(
            "page_token",
            audit
                .list_audit_events(pb::ListAuditEventsRequest {
                    page_size: 2,
                    page_token: t,
                    ..Default::default()
                })
                .await
                .map(|_| ()),
        );
    }
    // The untouched token still works.
    let second = audit
        .list_audit_events(pb::ListAuditEventsRequest {
            page_size: 2,
            page_token: token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.events.len(), 2);
    app.stop().await.unwrap();
}
