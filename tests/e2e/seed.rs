//! The demo network's stock: what a first run of `reserve-server --seed-demo`
//! shows a city dispatcher, and that seeding again posts nothing.

use reserve_api::pb::reserve::v1 as pb;
use reserve_core::authz::Role;
use reserve_server::seed::{Seeded, seed_demo, stock::demo_stock};
use reserve_tests::{T0, TestApp};
use std::collections::BTreeSet;

type Stock = pb::stock_service_client::StockServiceClient<reserve_tests::Authed>;

const DAY_MS: i64 = 86_400_000;

/// Every receipt entry in the whole demo province, paged through.
async fn receipt_entries(s: &mut Stock) -> Vec<pb::LedgerEntry> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = s
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                depot_code: "HB".into(),
                entry_type: pb::EntryType::Receipt as i32,
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        out.extend(page.entries);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Every ledger entry of any type in the demo province.
async fn all_entries(s: &mut Stock) -> usize {
    let mut n = 0;
    let mut token = String::new();
    loop {
        let page = s
            .list_ledger_entries(pb::ListLedgerEntriesRequest {
                depot_code: "HB".into(),
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        n += page.entries.len();
        if page.next_page_token.is_empty() {
            return n;
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn the_demo_network_starts_with_stock_at_every_tier() {
    let app = TestApp::with_demo_stock().await;
    let mut root = app.stock(&app.root_admin());

    // Every planned receipt was posted, at every depot, by that depot's keeper.
    let receipts = receipt_entries(&mut root).await;
    let plan = demo_stock();
    assert_eq!(receipts.len(), plan.len());
    let depots: BTreeSet<_> = receipts.iter().map(|e| e.depot_code.clone()).collect();
    assert_eq!(depots.len(), 32, "every demo depot holds stock");
    assert!(
        receipts
            .iter()
            .all(|e| e.actor == format!("demo-keeper@{}", e.depot_code))
    );

    // Quilts across the tiers, seen from the province.
    let mut hb = app.stock(&app.token(&[Role::Dispatcher], "HB"));
    let quilts = hb
        .roll_up_stock(pb::RollUpStockRequest {
            depot_code: "HB".into(),
            item_id: "quilt-cotton".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let tiers: Vec<_> = quilts
        .tiers
        .iter()
        .map(|t| (t.tier, t.states.unwrap().on_hand > 0))
        .collect();
    assert_eq!(
        tiers,
        vec![
            (pb::Tier::Province as i32, true),
            (pb::Tier::City as i32, true),
            (pb::Tier::County as i32, true),
            (pb::Tier::Township as i32, true),
        ]
    );
    let city = quilts.tiers[1].states.unwrap();
    let county = quilts.tiers[2].states.unwrap();
    let township = quilts.tiers[3].states.unwrap();
    assert!(city.on_hand >= 3_000, "the city base holds thousands");
    assert!(
        township.on_hand / quilts.tiers[3].depots as i64 <= 100,
        "points hold tens"
    );
    assert_eq!(
        (county.expired, city.near_expiry > 0),
        (150, true),
        "郧西县's expired lot; the city's oldest lot is near expiry"
    );

    // Near-expiry lots of the city's subtree, and the expired ones with them.
    let mut sy = app.stock(&app.token(&[Role::Dispatcher], "HB-SY"));
    let expiring = sy
        .list_expiring_lots(pb::ListExpiringLotsRequest {
            depot_code: "HB-SY".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    assert!(expiring.len() >= 5, "{expiring:?}");
    assert!(
        expiring
            .iter()
            .all(|l| l.near_expiry && !l.expired && l.available == l.on_hand)
    );
    let with_expired = sy
        .list_expiring_lots(pb::ListExpiringLotsRequest {
            depot_code: "HB-SY".into(),
            include_expired: true,
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    let expired: Vec<_> = with_expired
        .iter()
        .filter(|l| l.expired)
        .map(|l| {
            (
                l.depot_code.as_str(),
                l.item_id.as_str(),
                l.on_hand,
                l.available,
            )
        })
        .collect();
    assert_eq!(
        expired,
        vec![
            ("HB-SY-YX", "quilt-cotton", 150, 0),
            ("HB-SY-YY-03", "water-bottled", 25, 0)
        ]
    );
    let yx = with_expired
        .iter()
        .find(|l| l.expired && l.depot_code == "HB-SY-YX")
        .unwrap();
    let lot = yx.lot.as_ref().unwrap();
    assert!(lot.lot_number.starts_with("QC-") && lot.lot_number.ends_with("-YX"));
    assert!(!lot.manufacturer.is_empty());
    assert!(yx.days_to_expiry.unwrap() < 0);

    // A few depots are below their minimums; most are not.
    let shortfalls = sy
        .list_shortfalls(pb::ListShortfallsRequest {
            depot_code: "HB-SY".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .shortfalls;
    let below: BTreeSet<_> = shortfalls
        .iter()
        .filter(|s| s.below_minimum)
        .map(|s| s.depot_code.as_str())
        .collect();
    assert_eq!(
        below,
        BTreeSet::from(["HB-SY-FX", "HB-SY-YX", "HB-SY-ZX"]),
        "{shortfalls:?}"
    );
    let short: BTreeSet<_> = shortfalls.iter().map(|s| s.depot_code.as_str()).collect();
    assert!(
        short.len() < 9,
        "the city and eight counties have norms: {short:?}"
    );
    let yx_quilts = shortfalls
        .iter()
        .find(|s| s.depot_code == "HB-SY-YX" && s.item_id == "quilt-cotton")
        .unwrap();
    assert_eq!(
        (yx_quilts.on_hand, yx_quilts.available, yx_quilts.minimum),
        (530, 380, 500),
        "the expired lot is on hand but not available"
    );

    // Generators and pumps at the city base, one asset per serial number.
    for (item, n) in [("generator-5kw", 16), ("pump-drainage", 12)] {
        let assets = sy
            .list_assets(pb::ListAssetsRequest {
                depot_code: "HB-SY".into(),
                item_id: item.into(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .assets;
        assert_eq!(assets.len(), n, "{item}: {assets:?}");
        assert!(
            assets
                .iter()
                .all(|a| a.status == pb::AssetStatus::InStock as i32
                    && a.serial_number.contains("SY"))
        );
        let serials: BTreeSet<_> = assets.iter().map(|a| &a.serial_number).collect();
        assert_eq!(serials.len(), n);
    }
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn seeding_the_demo_stock_again_posts_nothing_on_any_day() {
    let app = TestApp::with_demo_stock().await;
    let mut root = app.stock(&app.root_admin());
    let entries = all_entries(&mut root).await;
    assert_eq!(entries, demo_stock().len());
    let before = app.fingerprint().await;
    for now in [T0, T0 + 3_600_000, T0 + 45 * DAY_MS, T0 + 400 * DAY_MS] {
        let again = seed_demo(&app.store, now).await.unwrap();
        assert_eq!(again, Seeded::default(), "seeding again at {now}");
    }
    assert_eq!(all_entries(&mut root).await, entries);
    assert_eq!(app.fingerprint().await, before, "not even an audit event");
    app.assert_ledger_consistent().await;
    app.stop().await.unwrap();
}
