//! The model test: over a thousand random operations — receipts, issues,
//! holds, releases, adjustments, reversals, counts, some of them concurrent,
//! while the clock moves lots past their expiry — checked after every step
//! against a plain in-memory model of what the stock must be.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_tests::{Authed, T0, TestApp, date, reason, rid};
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;
const DEPOTS: [&str; 3] = ["HB-SY-ZS", "HB-SY-FX", "HB-SY-YY"];

/// A lot of the model: its item, expiry (day number) and first receipt time.
#[derive(Clone, Debug)]
struct LotInfo {
    item: &'static str,
    expiry: Option<i64>,
    created: Option<i64>,
}

#[derive(Clone, Debug)]
struct EntryInfo {
    id: String,
    depot: String,
    lot: String,
    kind: i32,
    on_hand: i64,
    held: i64,
    reversed: bool,
}

#[derive(Default)]
struct Model {
    lots: BTreeMap<String, LotInfo>,
    /// (depot, lot) -> (on hand, held); a key exists once the line exists.
    lines: BTreeMap<(String, String), (i64, i64)>,
    entries: Vec<EntryInfo>,
    now: i64,
}

fn day_of(ms: i64) -> i64 {
    reserve_core::stock::Day::today(ms).0
}

impl Model {
    fn today(&self) -> i64 {
        day_of(self.now)
    }

    fn expired(&self, lot: &str) -> bool {
        self.lots[lot].expiry.is_some_and(|e| self.today() >= e)
    }

    fn available(&self, depot: &str, lot: &str) -> i64 {
        match self.lines.get(&(depot.to_string(), lot.to_string())) {
            Some((on, held)) if !self.expired(lot) => on - held,
            _ => 0,
        }
    }

    /// Lots of `item` at `depot` in first-expired-first-out order.
    fn fefo(&self, depot: &str, item: &str) -> Vec<String> {
        let mut v: Vec<(i64, i64, String)> = self
            .lines
            .keys()
            .filter(|(d, l)| d == depot && self.lots[l].item == item)
            .map(|(_, l)| {
                let info = &self.lots[l];
                (
                    info.expiry.unwrap_or(i64::MAX),
                    info.created.unwrap_or(0),
                    l.clone(),
                )
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, _, l)| l).collect()
    }

    /// Applies what the server says it posted.
    fn apply(&mut self, e: &pb::LedgerEntry) {
        let key = (e.depot_code.clone(), e.lot_number.clone());
        let line = self.lines.entry(key).or_insert((0, 0));
        line.0 += e.quantity;
        line.1 += e.held_delta;
        if !e.reverses_entry_id.is_empty()
            && let Some(o) = self
                .entries
                .iter_mut()
                .find(|o| o.id == e.reverses_entry_id)
        {
            o.reversed = true;
        }
        self.entries.push(EntryInfo {
            id: e.id.clone(),
            depot: e.depot_code.clone(),
            lot: e.lot_number.clone(),
            kind: e.entry_type,
            on_hand: e.quantity,
            held: e.held_delta,
            reversed: false,
        });
    }
}

struct World {
    app: TestApp,
    keepers: BTreeMap<&'static str, (StockServiceClient<Authed>, StockServiceClient<Authed>)>,
    model: Model,
    rng: StdRng,
    operations: usize,
}

const ITEMS: [&str; 3] = ["food-instant", "tent-36m2", "tarpaulin"];

fn lot_pool(item: &str) -> Vec<(String, Option<i64>)> {
    // Expiry in days from T0 for food; the others never expire.
    match item {
        "food-instant" => [30, 75, 160, 300, 480]
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("F{i}"), Some(day_of(T0) + d)))
            .collect(),
        "tent-36m2" => (0..3).map(|i| (format!("T{i}"), None)).collect(),
        _ => (0..2).map(|i| (format!("P{i}"), None)).collect(),
    }
}

fn ymd(day: i64) -> (i32, i32, i32) {
    use chrono::Datelike;
    let d = reserve_core::stock::Day(day).date();
    (d.year(), d.month() as i32, d.day() as i32)
}

impl World {
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())].clone()
    }

    fn keeper(&self, depot: &str) -> StockServiceClient<Authed> {
        self.keepers[depot].0.clone()
    }

    fn second(&self, depot: &str) -> StockServiceClient<Authed> {
        self.keepers[depot].1.clone()
    }

    fn receipt_req(&mut self, depot: &str) -> (pb::ReceiveStockRequest, String) {
        let item = self.pick(&ITEMS);
        let (lot, expiry) = self.pick(&lot_pool(item));
        self.model.lots.entry(lot.clone()).or_insert(LotInfo {
            item,
            expiry,
            created: None,
        });
        let qty = self.rng.random_range(1..=40);
        let req = pb::ReceiveStockRequest {
            request_id: rid(),
            depot_code: depot.into(),
            item_id: item.into(),
            lot_number: lot.clone(),
            expiry_date: expiry.and_then(|e| {
                let (y, m, d) = ymd(e);
                date(y, m, d)
            }),
            quantity: qty,
            ..Default::default()
        };
        (req, lot)
    }

    async fn receive(&mut self, depot: &str) {
        let (req, lot) = self.receipt_req(depot);
        let r = self.keeper(depot).receive_stock(req.clone()).await;
        self.operations += 1;
        if self.model.expired(&lot) {
            let e = r.expect_err("an expired lot must not be received");
            assert_eq!(reason(&e).as_deref(), Some("LOT_EXPIRED"));
            return;
        }
        let r = r
            .unwrap_or_else(|e| panic!("receipt {req:?} failed: {e:?}"))
            .into_inner();
        let info = self.model.lots.get_mut(&lot).unwrap();
        info.created.get_or_insert(self.model.now);
        self.model.apply(r.entry.as_ref().unwrap());
    }

    fn issue_req(&self, depot: &str, item: &str, qty: i64, lot: &str) -> pb::IssueStockRequest {
        pb::IssueStockRequest {
            request_id: rid(),
            depot_code: depot.into(),
            item_id: item.into(),
            quantity: qty,
            lot_number: lot.into(),
            purpose: pb::IssuePurpose::Use as i32,
            recipient: "演练".into(),
            ..Default::default()
        }
    }

    async fn issue(&mut self, depot: &str) {
        let item = self.pick(&ITEMS);
        let order = self.model.fefo(depot, item);
        let named = if !order.is_empty() && self.rng.random_bool(0.3) {
            self.pick(&order)
        } else {
            String::new()
        };
        let qty = self.rng.random_range(1..=30);
        let r = self
            .keeper(depot)
            .issue_stock(self.issue_req(depot, item, qty, &named))
            .await;
        self.operations += 1;
        if !named.is_empty() {
            if self.model.expired(&named) {
                assert_eq!(reason(&r.unwrap_err()).as_deref(), Some("LOT_EXPIRED"));
                return;
            }
            let avail = self.model.available(depot, &named);
            if avail < qty {
                assert_eq!(
                    reason(&r.unwrap_err()).as_deref(),
                    Some("INSUFFICIENT_STOCK")
                );
                return;
            }
            let r = r.unwrap().into_inner();
            assert_eq!(r.entries.len(), 1);
            assert_eq!(
                (r.entries[0].lot_number.as_str(), r.entries[0].quantity),
                (named.as_str(), -qty)
            );
            self.model.apply(&r.entries[0]);
            return;
        }
        // Expected FEFO takes.
        let mut left = qty;
        let mut expected = Vec::new();
        for lot in &order {
            let a = self.model.available(depot, lot);
            if a > 0 && left > 0 {
                let n = a.min(left);
                expected.push((lot.clone(), -n));
                left -= n;
            }
        }
        if left > 0 {
            let e = r.expect_err("not enough available");
            assert_eq!(reason(&e).as_deref(), Some("INSUFFICIENT_STOCK"), "{e:?}");
            return;
        }
        let r = r
            .unwrap_or_else(|e| panic!("issue of {qty} {item} at {depot} failed: {e:?}"))
            .into_inner();
        let got: Vec<(String, i64)> = r
            .entries
            .iter()
            .map(|e| (e.lot_number.clone(), e.quantity))
            .collect();
        assert_eq!(got, expected, "FEFO order at {depot}");
        for e in &r.entries {
            self.model.apply(e);
        }
    }

    fn some_line(&mut self, depot: &str) -> Option<String> {
        let lots: Vec<String> = self
            .model
            .lines
            .keys()
            .filter(|(d, _)| d == depot)
            .map(|(_, l)| l.clone())
            .collect();
        (!lots.is_empty()).then(|| self.pick(&lots))
    }

    async fn hold_or_release(&mut self, depot: &str, hold: bool) {
        let Some(lot) = self.some_line(depot) else {
            return;
        };
        let item = self.model.lots[&lot].item;
        let qty = self.rng.random_range(1..=15);
        let (on, held) = self.model.lines[&(depot.to_string(), lot.clone())];
        let mut k = self.keeper(depot);
        self.operations += 1;
        let r = if hold {
            k.hold_stock(pb::HoldStockRequest {
                request_id: rid(),
                depot_code: depot.into(),
                item_id: item.into(),
                lot_number: lot.clone(),
                quantity: qty,
                reason: pb::HoldReason::Quarantine as i32,
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().entries)
        } else {
            k.release_stock(pb::ReleaseStockRequest {
                request_id: rid(),
                depot_code: depot.into(),
                item_id: item.into(),
                lot_number: lot.clone(),
                quantity: qty,
                reason: "质检合格".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().entries)
        };
        let allowed = if hold { on - held >= qty } else { held >= qty };
        if !allowed {
            let want = if hold {
                "INSUFFICIENT_STOCK"
            } else {
                "NOT_ENOUGH_HELD"
            };
            assert_eq!(reason(&r.unwrap_err()).as_deref(), Some(want));
            return;
        }
        for e in r.unwrap() {
            self.model.apply(&e);
        }
    }

    async fn adjust(&mut self, depot: &str) {
        let Some(lot) = self.some_line(depot) else {
            return;
        };
        let item = self.model.lots[&lot].item;
        let mut q = self.rng.random_range(-10..=10);
        if q == 0 {
            q = 1;
        }
        let (on, held) = self.model.lines[&(depot.to_string(), lot.clone())];
        let created = self
            .keeper(depot)
            .create_adjustment(pb::CreateAdjustmentRequest {
                request_id: rid(),
                depot_code: depot.into(),
                item_id: item.into(),
                lot_number: lot.clone(),
                quantity: q,
                serial_numbers: vec![],
                reason: "模型测试".into(),
            })
            .await;
        self.operations += 1;
        if on + q < held {
            assert_eq!(
                reason(&created.unwrap_err()).as_deref(),
                Some("INSUFFICIENT_STOCK")
            );
            return;
        }
        let adj = created.unwrap().into_inner().adjustment.unwrap();
        let done = self
            .second(depot)
            .approve_adjustment(pb::ApproveAdjustmentRequest {
                etag: String::new(),
                request_id: rid(),
                adjustment_id: adj.id,
                note: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        self.operations += 1;
        self.model.apply(done.entry.as_ref().unwrap());
    }

    async fn reverse(&mut self) {
        if self.model.entries.is_empty() {
            return;
        }
        let i = self.rng.random_range(0..self.model.entries.len());
        let e = self.model.entries[i].clone();
        let r = self
            .keeper(DEPOTS.iter().find(|d| **d == e.depot).unwrap())
            .reverse_entry(pb::ReverseEntryRequest {
                request_id: rid(),
                entry_id: e.id.clone(),
                reason: "模型测试冲销".into(),
            })
            .await;
        self.operations += 1;
        let reversible_kind = [
            pb::EntryType::Receipt as i32,
            pb::EntryType::Issue as i32,
            pb::EntryType::Hold as i32,
            pb::EntryType::Release as i32,
        ]
        .contains(&e.kind);
        if e.reversed || !reversible_kind {
            assert_eq!(reason(&r.unwrap_err()).as_deref(), Some("NOT_REVERSIBLE"));
            return;
        }
        let (on, held) = self.model.lines[&(e.depot.clone(), e.lot.clone())];
        let (on2, held2) = (on - e.on_hand, held - e.held);
        if held2 < 0 {
            // The units this hold held were released since.
            assert_eq!(reason(&r.unwrap_err()).as_deref(), Some("NOT_REVERSIBLE"));
            return;
        }
        if on2 < 0 || held2 > on2 {
            assert_eq!(
                reason(&r.unwrap_err()).as_deref(),
                Some("INSUFFICIENT_STOCK")
            );
            return;
        }
        let r = r.unwrap().into_inner();
        self.model.apply(r.entry.as_ref().unwrap());
    }

    /// Up to two receipts or issues at `depot`.
    async fn move_some(&mut self, depot: &'static str) {
        for _ in 0..self.rng.random_range(0..3) {
            if self.rng.random_bool(0.5) {
                self.receive(depot).await;
            } else {
                self.issue(depot).await;
            }
        }
    }

    async fn count(&mut self, depot: &'static str) {
        let mut k = self.keeper(depot);
        let count = k
            .open_stock_count(pb::OpenStockCountRequest {
                request_id: rid(),
                depot_code: depot.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .count
            .unwrap();
        self.operations += 1;
        let snapshot: BTreeMap<String, i64> = self
            .model
            .lines
            .iter()
            .filter(|((d, _), (on, _))| d == depot && *on > 0)
            .map(|((_, l), (on, _))| (l.clone(), *on))
            .collect();
        let got: BTreeMap<String, i64> = count
            .lines
            .iter()
            .map(|l| (l.lot_number.clone(), l.expected))
            .collect();
        assert_eq!(got, snapshot, "the count snapshots what is on hand");
        // Stock moves while the keepers count, before and after they record.
        self.move_some(depot).await;
        let mut counted = Vec::new();
        let mut variances = BTreeMap::new();
        for l in &count.lines {
            // What the books say now, when the keeper records the shelf.
            let (on, _) = self.model.lines[&(depot.to_string(), l.lot_number.clone())];
            let v = self.rng.random_range(-3..=3).max(-on);
            variances.insert(l.lot_number.clone(), v);
            counted.push(pb::CountedLine {
                item_id: l.item_id.clone(),
                lot_number: l.lot_number.clone(),
                counted: on + v,
                serial_numbers: vec![],
            });
        }
        if !counted.is_empty() {
            k.record_count_lines(pb::RecordCountLinesRequest {
                etag: String::new(),
                request_id: rid(),
                count_id: count.id.clone(),
                lines: counted,
            })
            .await
            .unwrap();
        }
        self.move_some(depot).await;
        k.submit_stock_count(pb::SubmitStockCountRequest {
            etag: String::new(),
            request_id: rid(),
            count_id: count.id.clone(),
        })
        .await
        .unwrap();
        let fits = variances.iter().all(|(lot, v)| {
            let (on, held) = self.model.lines[&(depot.to_string(), lot.clone())];
            on + v >= held
        });
        let r = self
            .second(depot)
            .approve_stock_count(pb::ApproveStockCountRequest {
                etag: String::new(),
                request_id: rid(),
                count_id: count.id.clone(),
                note: String::new(),
            })
            .await;
        self.operations += 3;
        if !fits {
            assert_eq!(
                reason(&r.unwrap_err()).as_deref(),
                Some("VARIANCE_CONFLICT")
            );
            k.cancel_stock_count(pb::CancelStockCountRequest {
                etag: String::new(),
                request_id: rid(),
                count_id: count.id,
                reason: "差异无法入账，重新盘点".into(),
            })
            .await
            .unwrap();
            return;
        }
        let r = r.unwrap().into_inner();
        let posted: usize = variances.values().filter(|v| **v != 0).count();
        assert_eq!(r.entries.len(), posted);
        for e in &r.entries {
            assert_eq!(e.quantity, variances[&e.lot_number]);
            self.model.apply(e);
        }
    }

    /// Several receipts and one-unit issues at once; the model follows what
    /// the server says it posted, and every refusal must be for lack of stock.
    async fn concurrently(&mut self) {
        let depot = self.pick(&DEPOTS);
        let mut tasks = Vec::new();
        for _ in 0..self.rng.random_range(3..8) {
            let mut k = self.keeper(depot);
            if self.rng.random_bool(0.4) {
                let (req, lot) = self.receipt_req(depot);
                if self.model.expired(&lot) {
                    continue;
                }
                tasks.push(tokio::spawn(async move {
                    k.receive_stock(req)
                        .await
                        .map(|r| vec![r.into_inner().entry.unwrap()])
                }));
            } else {
                let item = self.pick(&ITEMS);
                let req = self.issue_req(depot, item, 1, "");
                tasks.push(tokio::spawn(async move {
                    k.issue_stock(req).await.map(|r| r.into_inner().entries)
                }));
            }
        }
        for t in tasks {
            self.operations += 1;
            match t.await.unwrap() {
                Ok(entries) => {
                    for e in entries {
                        if e.entry_type == pb::EntryType::Receipt as i32 {
                            let now = self.model.now;
                            if let Some(info) = self.model.lots.get_mut(&e.lot_number) {
                                info.created.get_or_insert(now);
                            }
                        }
                        self.model.apply(&e);
                    }
                }
                Err(s) => assert_eq!(reason(&s).as_deref(), Some("INSUFFICIENT_STOCK"), "{s:?}"),
            }
        }
    }

    /// Compares every line of every depot with the model.
    async fn check(&mut self, step: usize) {
        for depot in DEPOTS {
            let server = self
                .keeper(depot)
                .list_stock(pb::ListStockRequest {
                    depot_code: depot.into(),
                    include_empty: true,
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .lines;
            let got: BTreeMap<String, (i64, i64, i64)> = server
                .iter()
                .map(|l| {
                    (
                        l.lot.as_ref().unwrap().lot_number.clone(),
                        (l.on_hand, l.held, l.available),
                    )
                })
                .collect();
            let want: BTreeMap<String, (i64, i64, i64)> = self
                .model
                .lines
                .iter()
                .filter(|((d, _), _)| d == depot)
                .map(|((_, l), (on, held))| {
                    (l.clone(), (*on, *held, self.model.available(depot, l)))
                })
                .collect();
            assert_eq!(
                got, want,
                "step {step}: depot {depot} differs from the model"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_random_operations_match_a_plain_model_after_every_step() {
    let seed: u64 = std::env::var("RESERVE_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_128);
    let app = TestApp::with_demo().await;
    let mut keepers = BTreeMap::new();
    for d in DEPOTS {
        keepers.insert(
            d,
            (
                app.keeper(&format!("keeper-a@{d}"), d),
                app.keeper(&format!("keeper-b@{d}"), d),
            ),
        );
    }
    let mut w = World {
        model: Model {
            now: T0,
            ..Default::default()
        },
        app,
        keepers,
        rng: StdRng::seed_from_u64(seed),
        operations: 0,
    };
    let mut step = 0;
    while w.operations < 1000 {
        step += 1;
        let depot = w.pick(&DEPOTS);
        match w.rng.random_range(0..100) {
            0..=27 => w.receive(depot).await,
            28..=52 => w.issue(depot).await,
            53..=61 => w.hold_or_release(depot, true).await,
            62..=70 => w.hold_or_release(depot, false).await,
            71..=78 => w.adjust(depot).await,
            79..=87 => w.reverse().await,
            88..=90 => w.count(depot).await,
            91..=96 => w.concurrently().await,
            _ => {
                let days = w.rng.random_range(1..=20);
                w.model.now += days * DAY_MS;
                w.app.clock.set(w.model.now);
            }
        }
        w.check(step).await;
    }
    eprintln!(
        "model test: seed {seed}, {} operations in {step} steps",
        w.operations
    );
    w.app.assert_ledger_consistent().await;
    w.app.stop().await.unwrap();
}
