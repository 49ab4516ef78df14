//! The model test: over a thousand random operations — receipts, FEFO and
//! named issues under a reserve minimum, holds and releases, adjustments,
//! reversals, scrap applications holding their units, counts with stock
//! moving before and after the recording, serial-tracked generators unit by
//! unit, concurrent movements, concurrent reversals of one entry and
//! concurrent identical retries — while the clock moves lots past their
//! expiry. After every step the server must match a plain in-memory model of
//! what the stock must be, and every refusal must be one the model predicts.
//!
//! The model runs on three township points of its own (created at the start,
//! so the demo stock elsewhere does not matter), each with a reserve norm
//! for tarpaulins.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::stock_service_client::StockServiceClient;
use reserve_core::authz::Role;
use reserve_tests::{Authed, T0, TestApp, date, depot, reason, rid};
use std::collections::{BTreeMap, BTreeSet};

const DAY_MS: i64 = 86_400_000;
/// The model's depots: (code, parent, division).
const DEPOTS: [(&str, &str, &str); 3] = [
    ("HB-SY-ZS-M1", "HB-SY-ZS", "420323901"),
    ("HB-SY-FX-M1", "HB-SY-FX", "420325901"),
    ("HB-SY-YY-M1", "HB-SY-YY", "420304901"),
];
const LOT_ITEMS: [&str; 3] = ["food-instant", "tent-36m2", "tarpaulin"];
const SERIAL_ITEM: &str = "generator-5kw";
/// The reserve minimum of tarpaulins at every model depot.
const TARPAULIN_MINIMUM: i64 = 15;

/// A lot of the model: its item, expiry (day number) and first receipt time.
#[derive(Clone, Debug)]
struct LotInfo {
    item: &'static str,
    expiry: Option<i64>,
    created: Option<i64>,
}

/// A balance: on hand, held, and of held what documents hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Line {
    on: i64,
    held: i64,
    doc: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    InStock,
    Held,
    Issued,
    Scrapped,
    Missing,
    Void,
    InTransit,
    Reserved,
}

impl Status {
    fn of(n: i32) -> Status {
        match pb::AssetStatus::try_from(n).unwrap() {
            pb::AssetStatus::InStock => Status::InStock,
            pb::AssetStatus::Held => Status::Held,
            pb::AssetStatus::Issued => Status::Issued,
            pb::AssetStatus::Scrapped => Status::Scrapped,
            pb::AssetStatus::Missing => Status::Missing,
            pb::AssetStatus::Void => Status::Void,
            pb::AssetStatus::InTransit => Status::InTransit,
            pb::AssetStatus::Reserved => Status::Reserved,
            pb::AssetStatus::Unspecified => panic!("asset without a status"),
            s @ (pb::AssetStatus::UnderRepair | pb::AssetStatus::OnLease) => {
                panic!("the model makes no repairs or leases, yet an asset is {s:?}")
            }
        }
    }
}

/// A serialised generator: where it is and which document holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Asset {
    depot: String,
    lot: String,
    status: Status,
    holder: Option<String>,
}

#[derive(Clone, Debug)]
struct EntryInfo {
    id: String,
    depot: String,
    lot: String,
    kind: i32,
    on: i64,
    held: i64,
    owned: bool,
    serials: Vec<String>,
    reversed: bool,
}

/// A pending scrap application.
#[derive(Clone, Debug)]
struct App {
    id: String,
    depot: String,
}

#[derive(Default)]
struct Model {
    lots: BTreeMap<String, LotInfo>,
    /// (depot, lot) -> balance; a key exists once the line exists.
    lines: BTreeMap<(String, String), Line>,
    assets: BTreeMap<String, Asset>,
    apps: Vec<App>,
    entries: Vec<EntryInfo>,
    now: i64,
    serials_made: u32,
}

fn day_of(ms: i64) -> i64 {
    reserve_core::stock::Day::today(ms).0
}

fn key(depot: &str, lot: &str) -> (String, String) {
    (depot.to_string(), lot.to_string())
}

impl Model {
    fn today(&self) -> i64 {
        day_of(self.now)
    }

    fn expired(&self, lot: &str) -> bool {
        self.lots[lot].expiry.is_some_and(|e| self.today() >= e)
    }

    fn line(&self, depot: &str, lot: &str) -> Line {
        self.lines
            .get(&key(depot, lot))
            .copied()
            .unwrap_or_default()
    }

    /// Units that can be issued now.
    fn available(&self, depot: &str, lot: &str) -> i64 {
        let l = self.line(depot, lot);
        if self.expired(lot) { 0 } else { l.on - l.held }
    }

    /// Available units of `item` at `depot`, all lots.
    fn available_item(&self, depot: &str, item: &str) -> i64 {
        self.lines_of(depot, item)
            .iter()
            .map(|l| self.available(depot, l))
            .sum()
    }

    fn lines_of(&self, depot: &str, item: &str) -> Vec<String> {
        self.lines
            .keys()
            .filter(|(d, l)| d == depot && self.lots[l].item == item)
            .map(|(_, l)| l.clone())
            .collect()
    }

    /// Lots of `item` at `depot` in first-expired-first-out order.
    fn fefo(&self, depot: &str, item: &str) -> Vec<String> {
        let mut v: Vec<(i64, i64, String)> = self
            .lines_of(depot, item)
            .into_iter()
            .map(|l| {
                let info = &self.lots[&l];
                (
                    info.expiry.unwrap_or(i64::MAX),
                    info.created.unwrap_or(0),
                    l,
                )
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, _, l)| l).collect()
    }

    /// Generators at `depot` in `status` held by no document, by serial.
    fn free_assets(&self, depot: &str, status: Status) -> Vec<String> {
        self.assets
            .iter()
            .filter(|(_, a)| a.depot == depot && a.status == status && a.holder.is_none())
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// Applies what the server says it posted, checking it against what the
    /// entry's kind must do to its serial numbers.
    fn apply(&mut self, e: &pb::LedgerEntry) {
        let now = self.now;
        if e.entry_type == pb::EntryType::Receipt as i32
            && let Some(info) = self.lots.get_mut(&e.lot_number)
        {
            info.created.get_or_insert(now);
        }
        let line = self
            .lines
            .entry(key(&e.depot_code, &e.lot_number))
            .or_default();
        line.on += e.quantity;
        line.held += e.held_delta;
        line.doc += e.held_by_documents_delta;
        let owner = e
            .owner
            .strip_prefix("scrapApplications/")
            .map(|s| s.to_string());
        let kind = pb::EntryType::try_from(e.entry_type).unwrap();
        let reversed_kind = self
            .entries
            .iter()
            .find(|o| o.id == e.reverses_entry_id)
            .map(|o| pb::EntryType::try_from(o.kind).unwrap());
        for s in &e.serial_numbers {
            let to = match (kind, reversed_kind) {
                (pb::EntryType::Receipt, _) => Status::InStock,
                (pb::EntryType::Issue, _) => Status::Issued,
                (pb::EntryType::Hold, _) => Status::Held,
                (pb::EntryType::Release, _) => Status::InStock,
                (pb::EntryType::Scrap, _) => Status::Scrapped,
                (pb::EntryType::Adjustment, _) if e.quantity < 0 => Status::Missing,
                (pb::EntryType::Adjustment, _) => Status::InStock,
                (pb::EntryType::Reversal, Some(pb::EntryType::Receipt)) => Status::Void,
                (pb::EntryType::Reversal, Some(pb::EntryType::Issue)) => Status::InStock,
                (pb::EntryType::Reversal, Some(pb::EntryType::Hold)) => Status::InStock,
                (pb::EntryType::Reversal, Some(pb::EntryType::Release)) => Status::Held,
                other => panic!("serial numbers on an unexpected entry {other:?}"),
            };
            let holder = (to == Status::Held).then(|| owner.clone()).flatten();
            self.assets.insert(
                s.clone(),
                Asset {
                    depot: e.depot_code.clone(),
                    lot: e.lot_number.clone(),
                    status: to,
                    holder,
                },
            );
        }
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
            on: e.quantity,
            held: e.held_delta,
            owned: !e.owner.is_empty(),
            serials: e.serial_numbers.clone(),
            reversed: false,
        });
    }
}

struct World {
    app: TestApp,
    model: Model,
    rng: StdRng,
    operations: usize,
    /// How often each refusal and each notable success happened.
    seen: BTreeMap<String, usize>,
}

fn lot_pool(item: &str) -> Vec<(String, Option<i64>)> {
    // Expiry in days from T0 for food; the others never expire.
    match item {
        "food-instant" => [30, 75, 160, 300, 480]
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("F{i}"), Some(day_of(T0) + d)))
            .collect(),
        "tent-36m2" => (0..3).map(|i| (format!("T{i}"), None)).collect(),
        "tarpaulin" => (0..2).map(|i| (format!("P{i}"), None)).collect(),
        _ => (0..2).map(|i| (format!("G{i}"), None)).collect(),
    }
}

fn ymd(day: i64) -> (i32, i32, i32) {
    use chrono::Datelike;
    let d = reserve_core::stock::Day(day).date();
    (d.year(), d.month() as i32, d.day() as i32)
}

type Stock = StockServiceClient<Authed>;

impl World {
    /// The ErrorInfo reason of a refusal (the status if none), counted.
    fn refused<T: std::fmt::Debug>(&mut self, r: Result<T, tonic::Status>, what: &str) -> String {
        let e = r.expect_err(what);
        let why = reason(&e).unwrap_or_else(|| format!("{:?}: {}", e.code(), e.message()));
        self.note(&why);
        why
    }

    fn note(&mut self, what: &str) {
        *self.seen.entry(what.to_string()).or_default() += 1;
    }

    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())].clone()
    }

    fn depot(&mut self) -> &'static str {
        let d = self.pick(&DEPOTS);
        d.0
    }

    fn keeper(&self, depot: &str) -> Stock {
        self.app.keeper(&format!("keeper-a@{depot}"), depot)
    }

    fn second(&self, depot: &str) -> Stock {
        self.app.keeper(&format!("keeper-b@{depot}"), depot)
    }

    /// The dispatcher of the township point, whose tier owns its lots.
    fn decider(&self, depot: &str) -> Stock {
        self.app.stock(
            &self
                .app
                .token_for(&format!("chief@{depot}"), &[Role::Dispatcher], depot),
        )
    }

    fn new_serial(&mut self, depot: &str) -> String {
        self.model.serials_made += 1;
        format!("{depot}-G{:04}", self.model.serials_made)
    }

    fn receipt_req(&mut self, depot: &str) -> (pb::ReceiveStockRequest, String) {
        let serial = self.rng.random_bool(0.2);
        let item = if serial {
            SERIAL_ITEM
        } else {
            self.pick(&LOT_ITEMS)
        };
        let (lot, expiry) = self.pick(&lot_pool(item));
        self.model.lots.entry(lot.clone()).or_insert(LotInfo {
            item,
            expiry,
            created: None,
        });
        let (qty, serials) = if serial {
            let n = self.rng.random_range(1..=3);
            (0, (0..n).map(|_| self.new_serial(depot)).collect())
        } else {
            (self.rng.random_range(1..=40), Vec::new())
        };
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
            serial_numbers: serials,
            ..Default::default()
        };
        (req, lot)
    }

    async fn receive(&mut self, depot: &str) {
        let (req, lot) = self.receipt_req(depot);
        let r = self.keeper(depot).receive_stock(req.clone()).await;
        self.operations += 1;
        if self.model.expired(&lot) {
            assert_eq!(
                self.refused(r, "an expired lot is never received"),
                "LOT_EXPIRED"
            );
            return;
        }
        let r = r
            .unwrap_or_else(|e| panic!("receipt {req:?} failed: {e:?}"))
            .into_inner();
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
            // The model's clock runs past the generators' upkeep dates; it
            // models stock, and the upkeep guard is tested in maintenance.
            override_upkeep_overdue: item == SERIAL_ITEM,
            upkeep_override_reason: if item == SERIAL_ITEM {
                "演练".into()
            } else {
                String::new()
            },
            ..Default::default()
        }
    }

    /// What the reserve minimum says about taking `qty` of `item` at `depot`:
    /// the refusal, if it refuses.
    fn below_minimum(&self, depot: &str, item: &str, qty: i64, overridden: bool) -> bool {
        item == "tarpaulin"
            && !overridden
            && self.model.available_item(depot, item) - qty < TARPAULIN_MINIMUM
    }

    async fn issue(&mut self, depot: &str) {
        if self.rng.random_bool(0.2) {
            return self.issue_serials(depot).await;
        }
        let item = self.pick(&LOT_ITEMS);
        let order = self.model.fefo(depot, item);
        let named = if !order.is_empty() && self.rng.random_bool(0.3) {
            self.pick(&order)
        } else {
            String::new()
        };
        let avail = self.model.available_item(depot, item);
        let qty = if item == "tarpaulin" && avail > TARPAULIN_MINIMUM && self.rng.random_bool(0.5) {
            // Just enough to cross the reserve minimum.
            avail - TARPAULIN_MINIMUM + self.rng.random_range(1..=3)
        } else {
            self.rng.random_range(1..=30)
        };
        let overridden = self.rng.random_bool(0.3);
        let mut req = self.issue_req(depot, item, qty, &named);
        if overridden {
            req.override_reserve_minimum = true;
            req.override_reason = "县指挥部指令".into();
        }
        let r = self.keeper(depot).issue_stock(req).await;
        self.operations += 1;
        let expected: Vec<(String, i64)> = if !named.is_empty() {
            if self.model.expired(&named) {
                assert_eq!(self.refused(r, "expired"), "LOT_EXPIRED");
                return;
            }
            if self.model.available(depot, &named) < qty {
                assert_eq!(self.refused(r, "short"), "INSUFFICIENT_STOCK");
                return;
            }
            vec![(named.clone(), -qty)]
        } else {
            let mut left = qty;
            let mut takes = Vec::new();
            for lot in &order {
                let a = self.model.available(depot, lot);
                if a > 0 && left > 0 {
                    let n = a.min(left);
                    takes.push((lot.clone(), -n));
                    left -= n;
                }
            }
            if left > 0 {
                assert_eq!(
                    self.refused(r, "not enough available"),
                    "INSUFFICIENT_STOCK"
                );
                return;
            }
            takes
        };
        if self.below_minimum(depot, item, qty, overridden) {
            assert_eq!(
                self.refused(r, "below the minimum"),
                "BELOW_RESERVE_MINIMUM"
            );
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

    /// Generators: by quantity (FEFO lots, lowest serials first) or by name.
    async fn issue_serials(&mut self, depot: &str) {
        let mut k = self.keeper(depot);
        self.operations += 1;
        if self.rng.random_bool(0.5) {
            let qty = self.rng.random_range(1..=2);
            let r = k
                .issue_stock(self.issue_req(depot, SERIAL_ITEM, qty, ""))
                .await;
            let mut want = Vec::new();
            let mut left = qty;
            for lot in self.model.fefo(depot, SERIAL_ITEM) {
                let mut here: Vec<String> = self
                    .model
                    .free_assets(depot, Status::InStock)
                    .into_iter()
                    .filter(|s| self.model.assets[s].lot == lot)
                    .collect();
                here.sort();
                let n = (here.len() as i64).min(left);
                want.extend(here.into_iter().take(n as usize));
                left -= n;
            }
            if left > 0 {
                assert_eq!(
                    self.refused(r, "not enough generators"),
                    "INSUFFICIENT_STOCK"
                );
                return;
            }
            let r = r.unwrap().into_inner();
            let got: Vec<String> = r
                .entries
                .iter()
                .flat_map(|e| e.serial_numbers.clone())
                .collect();
            assert_eq!(got, want, "generators picked at {depot}");
            for e in &r.entries {
                self.model.apply(e);
            }
        } else {
            let Some(serial) = self.some_serial(depot) else {
                return;
            };
            let r = k
                .issue_stock(pb::IssueStockRequest {
                    serial_numbers: vec![serial.clone()],
                    ..self.issue_req(depot, SERIAL_ITEM, 0, "")
                })
                .await;
            match self.serial_refusal(depot, &serial, Status::InStock) {
                Some(why) => assert_eq!(self.refused(r, "named generator"), why),
                None => {
                    for e in &r.unwrap().into_inner().entries {
                        self.model.apply(e);
                    }
                }
            }
        }
    }

    /// Any generator the model knows, a quarter of the time one that is not here.
    fn some_serial(&mut self, depot: &str) -> Option<String> {
        let here: Vec<String> = self
            .model
            .assets
            .iter()
            .filter(|(_, a)| a.depot == depot || self.rng.random_bool(0.1))
            .map(|(s, _)| s.clone())
            .collect();
        (!here.is_empty()).then(|| self.pick(&here))
    }

    /// Why a named generator that must be free in `status` at `depot` is refused.
    fn serial_refusal(&self, depot: &str, serial: &str, status: Status) -> Option<&'static str> {
        let a = &self.model.assets[serial];
        if a.depot == depot && a.status == status && a.holder.is_none() {
            None
        } else if a.holder.is_some() {
            Some("HELD_BY_DOCUMENT")
        } else {
            Some("SERIAL_NOT_AVAILABLE")
        }
    }

    fn some_line(&mut self, depot: &str) -> Option<String> {
        let lots: Vec<String> = self
            .model
            .lines
            .keys()
            .filter(|(d, l)| d == depot && self.model.lots[l].item != SERIAL_ITEM)
            .map(|(_, l)| l.clone())
            .collect();
        (!lots.is_empty()).then(|| self.pick(&lots))
    }

    async fn hold_or_release(&mut self, depot: &str, hold: bool) {
        let mut k = self.keeper(depot);
        if self.rng.random_bool(0.25) {
            let Some(serial) = self.some_serial(depot) else {
                return;
            };
            self.operations += 1;
            let units = |s: &str| (SERIAL_ITEM.to_string(), vec![s.to_string()]);
            let (item, serials) = units(&serial);
            let r = if hold {
                k.hold_stock(pb::HoldStockRequest {
                    request_id: rid(),
                    depot_code: depot.into(),
                    item_id: item,
                    serial_numbers: serials,
                    reason: pb::HoldReason::Damage as i32,
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().entries)
            } else {
                k.release_stock(pb::ReleaseStockRequest {
                    request_id: rid(),
                    depot_code: depot.into(),
                    item_id: item,
                    serial_numbers: serials,
                    reason: "检修完好".into(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner().entries)
            };
            let need = if hold { Status::InStock } else { Status::Held };
            match self.serial_refusal(depot, &serial, need) {
                Some(why) => assert_eq!(self.refused(r, "named generator"), why),
                None => {
                    for e in r.unwrap() {
                        self.model.apply(&e);
                    }
                }
            }
            return;
        }
        // Half the time, a line where a document holds units, to try to take them.
        let owned: Vec<String> = self
            .model
            .lines
            .iter()
            .filter(|((d, lot), l)| {
                d == depot && l.doc > 0 && self.model.lots[lot].item != SERIAL_ITEM
            })
            .map(|((_, lot), _)| lot.clone())
            .collect();
        let lot = if !owned.is_empty() && self.rng.random_bool(0.8) {
            self.pick(&owned)
        } else {
            let Some(lot) = self.some_line(depot) else {
                return;
            };
            lot
        };
        let item = self.model.lots[&lot].item;
        let l = self.model.line(depot, &lot);
        let qty = if !hold && l.doc > 0 && self.rng.random_bool(0.8) {
            l.held - l.doc + self.rng.random_range(1..=l.doc)
        } else {
            self.rng.random_range(1..=15)
        };
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
        let refusal = if hold {
            (l.on - l.held < qty).then_some("INSUFFICIENT_STOCK")
        } else if l.held < qty {
            Some("NOT_ENOUGH_HELD")
        } else if l.held - qty < l.doc {
            Some("HELD_BY_DOCUMENT")
        } else {
            None
        };
        match refusal {
            Some(why) => assert_eq!(self.refused(r, "hold or release"), why),
            None => {
                for e in r.unwrap() {
                    self.model.apply(&e);
                }
            }
        }
    }

    async fn adjust(&mut self, depot: &str) {
        let (item, lot, q, serials) = if self.rng.random_bool(0.2) {
            let lot = self.pick(&lot_pool(SERIAL_ITEM)).0;
            let received = self
                .model
                .lots
                .get(&lot)
                .is_some_and(|l| l.created.is_some());
            if self.rng.random_bool(0.5) {
                // Found: a generator new to the system, of a lot that exists.
                if !received {
                    return;
                }
                (SERIAL_ITEM, lot, 1, vec![self.new_serial(depot)])
            } else {
                let Some(serial) = self.some_serial(depot) else {
                    return;
                };
                let lot = self.model.assets[&serial].lot.clone();
                (SERIAL_ITEM, lot, -1, vec![serial])
            }
        } else {
            let Some(lot) = self.some_line(depot) else {
                return;
            };
            let mut q = self.rng.random_range(-10..=10);
            if q == 0 {
                q = 1;
            }
            (self.model.lots[&lot].item, lot, q, Vec::new())
        };
        let l = self.model.line(depot, &lot);
        let created = self
            .keeper(depot)
            .create_adjustment(pb::CreateAdjustmentRequest {
                request_id: rid(),
                depot_code: depot.into(),
                item_id: item.into(),
                lot_number: lot.clone(),
                quantity: q,
                serial_numbers: serials.clone(),
                reason: "模型测试".into(),
            })
            .await;
        self.operations += 1;
        let refusal = if serials.is_empty() {
            // Free units first, then holds no document owns.
            (l.on + q < l.doc).then_some("INSUFFICIENT_STOCK")
        } else if q < 0 {
            let a = &self.model.assets[&serials[0]];
            (!(a.depot == depot && a.status == Status::InStock && a.lot == lot))
                .then_some("SERIAL_NOT_AVAILABLE")
        } else {
            None
        };
        if let Some(why) = refusal {
            if !self.model.lines.contains_key(&key(depot, &lot)) && q < 0 {
                assert_eq!(self.refused(created, "no line"), "LOT_NOT_AT_DEPOT");
            } else {
                assert_eq!(self.refused(created, "adjustment"), why);
            }
            return;
        }
        let adj = created
            .unwrap_or_else(|e| panic!("adjustment {q} of {lot} at {depot}: {e:?}"))
            .into_inner()
            .adjustment
            .unwrap();
        let done = self
            .second(depot)
            .approve_adjustment(pb::ApproveAdjustmentRequest {
                request_id: rid(),
                adjustment_id: adj.id,
                note: String::new(),
                etag: adj.etag,
            })
            .await
            .unwrap()
            .into_inner();
        self.operations += 1;
        self.model.apply(done.entry.as_ref().unwrap());
    }

    /// What reversing `e` must answer now: the refusal, if any.
    fn reversal_refusal(&self, e: &EntryInfo) -> Option<&'static str> {
        let reversible_kind = [
            pb::EntryType::Receipt as i32,
            pb::EntryType::Issue as i32,
            pb::EntryType::Hold as i32,
            pb::EntryType::Release as i32,
        ]
        .contains(&e.kind);
        if e.reversed || !reversible_kind || e.owned {
            return Some("NOT_REVERSIBLE");
        }
        let l = self.model.line(&e.depot, &e.lot);
        let (on, held) = (l.on - e.on, l.held - e.held);
        if held < 0 {
            // The units this hold held were released since.
            return Some("NOT_REVERSIBLE");
        }
        if l.doc > held {
            return Some("HELD_BY_DOCUMENT");
        }
        if on < 0 || held > on {
            return Some("INSUFFICIENT_STOCK");
        }
        // Every serial must still be where the entry left it.
        let left = match pb::EntryType::try_from(e.kind).unwrap() {
            pb::EntryType::Receipt | pb::EntryType::Release => Status::InStock,
            pb::EntryType::Issue => Status::Issued,
            _ => Status::Held,
        };
        let moved = e.serials.iter().any(|s| {
            let a = &self.model.assets[s];
            !(a.depot == e.depot && a.status == left && a.holder.is_none())
        });
        moved.then_some("NOT_REVERSIBLE")
    }

    fn reversal_req(e: &EntryInfo) -> pb::ReverseEntryRequest {
        pb::ReverseEntryRequest {
            request_id: rid(),
            entry_id: e.id.clone(),
            reason: "模型测试冲销".into(),
        }
    }

    async fn reverse(&mut self) {
        if self.model.entries.is_empty() {
            return;
        }
        let i = self.rng.random_range(0..self.model.entries.len());
        let e = self.model.entries[i].clone();
        let r = self
            .keeper(&e.depot)
            .reverse_entry(Self::reversal_req(&e))
            .await;
        self.operations += 1;
        match self.reversal_refusal(&e) {
            Some(why) => assert_eq!(self.refused(r, "reversal"), why, "{e:?}"),
            None => {
                let r = r.unwrap_or_else(|s| panic!("reversal of {e:?}: {s:?}"));
                self.model.apply(r.into_inner().entry.as_ref().unwrap());
            }
        }
    }

    /// Three reversals of one entry at once, each with its own request id:
    /// at most one reverses it, the others are told it was reversed already.
    async fn reverse_concurrently(&mut self) {
        if self.model.entries.is_empty() {
            return;
        }
        let i = self.rng.random_range(0..self.model.entries.len());
        let e = self.model.entries[i].clone();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let mut k = self.keeper(&e.depot);
                let req = Self::reversal_req(&e);
                tokio::spawn(async move { k.reverse_entry(req).await })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        self.operations += 3;
        match self.reversal_refusal(&e) {
            Some(why) => {
                for a in answers {
                    assert_eq!(self.refused(a, "concurrent reversal"), why, "{e:?}");
                }
            }
            None => {
                let (ok, err): (Vec<_>, Vec<_>) = answers.into_iter().partition(|a| a.is_ok());
                assert_eq!(ok.len(), 1, "exactly one reversal of {e:?}: {err:?}");
                for a in err {
                    assert_eq!(self.refused(a, "second reversal"), "NOT_REVERSIBLE");
                }
                let r = ok.into_iter().next().unwrap().unwrap().into_inner();
                self.note("one of three reversals");
                self.model.apply(r.entry.as_ref().unwrap());
            }
        }
    }

    async fn apply_scrap(&mut self, depot: &str) {
        let (item, lot, qty, serials) = if self.rng.random_bool(0.3) {
            let Some(serial) = self.some_serial(depot) else {
                return;
            };
            let lot = self.model.assets[&serial].lot.clone();
            (SERIAL_ITEM, lot, 0, vec![serial])
        } else {
            let Some(lot) = self.some_line(depot) else {
                return;
            };
            (
                self.model.lots[&lot].item,
                lot,
                self.rng.random_range(1..=10),
                Vec::new(),
            )
        };
        let r = self
            .keeper(depot)
            .create_scrap_application(pb::CreateScrapApplicationRequest {
                request_id: rid(),
                depot_code: depot.into(),
                item_id: item.into(),
                lot_number: lot.clone(),
                quantity: qty,
                serial_numbers: serials.clone(),
                reason: "霉变".into(),
                disposal: pb::Disposal::Destroy as i32,
            })
            .await;
        self.operations += 1;
        // An application takes units held by no document first, then free ones.
        let refusal = if let Some(s) = serials.first() {
            if !self.model.lines.contains_key(&key(depot, &lot)) {
                Some("LOT_NOT_AT_DEPOT")
            } else if self.model.assets[s].status == Status::Held {
                self.serial_refusal(depot, s, Status::Held)
            } else {
                self.serial_refusal(depot, s, Status::InStock)
            }
        } else {
            let l = self.model.line(depot, &lot);
            (l.on - l.doc < qty).then_some("INSUFFICIENT_STOCK")
        };
        match refusal {
            Some(why) => assert_eq!(self.refused(r, "scrap application"), why),
            None => {
                let r = r
                    .unwrap_or_else(|s| panic!("scrap of {lot} at {depot}: {s:?}"))
                    .into_inner();
                assert_eq!(r.hold_entry.as_ref(), r.hold_entries.first());
                for e in &r.hold_entries {
                    self.model.apply(e);
                }
                self.note("scrap applied");
                self.model.apps.push(App {
                    id: r.application.unwrap().id,
                    depot: depot.to_string(),
                });
            }
        }
    }

    async fn decide_scrap(&mut self) {
        if self.model.apps.is_empty() {
            return;
        }
        let i = self.rng.random_range(0..self.model.apps.len());
        let a = self.model.apps.remove(i);
        let mut d = self.decider(&a.depot);
        let entry = if self.rng.random_bool(0.6) {
            d.approve_scrap_application(pb::ApproveScrapApplicationRequest {
                request_id: rid(),
                application_id: a.id.clone(),
                note: "同意".into(),
                etag: String::new(),
            })
            .await
            .map(|r| r.into_inner().entry)
        } else {
            d.reject_scrap_application(pb::RejectScrapApplicationRequest {
                request_id: rid(),
                application_id: a.id.clone(),
                reason: "可修复".into(),
                etag: String::new(),
            })
            .await
            .map(|r| r.into_inner().entry)
        };
        self.operations += 1;
        // The units were the application's alone: its decision always finds them.
        let e = entry.unwrap_or_else(|s| panic!("deciding {a:?}: {s:?}"));
        let decided = if e.as_ref().unwrap().entry_type == pb::EntryType::Scrap as i32 {
            "scrap approved"
        } else {
            "scrap rejected"
        };
        self.note(decided);
        self.model.apply(e.as_ref().unwrap());
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
            .filter(|((d, _), l)| d == depot && l.on > 0)
            .map(|((_, l), line)| (l.clone(), line.on))
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
        let mut lot_variances = BTreeMap::new();
        // Per serial lot: the free generators on hand at recording, and those seen.
        let mut seen_at_record: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> =
            BTreeMap::new();
        for l in &count.lines {
            let line = self.model.line(depot, &l.lot_number);
            if l.item_id == SERIAL_ITEM {
                let free: BTreeSet<String> = self
                    .model
                    .assets
                    .iter()
                    .filter(|(_, a)| {
                        a.depot == depot
                            && a.lot == l.lot_number
                            && matches!(a.status, Status::InStock | Status::Held)
                            && a.holder.is_none()
                    })
                    .map(|(s, _)| s.clone())
                    .collect();
                // Most are seen; document-held ones may or may not be listed.
                let seen: BTreeSet<String> = free
                    .iter()
                    .filter(|_| self.rng.random_bool(0.8))
                    .cloned()
                    .collect();
                counted.push(pb::CountedLine {
                    item_id: l.item_id.clone(),
                    lot_number: l.lot_number.clone(),
                    counted: 0,
                    serial_numbers: seen.iter().cloned().collect(),
                });
                seen_at_record.insert(l.lot_number.clone(), (free, seen));
            } else {
                let v = self.rng.random_range(-3..=3).max(-line.on);
                lot_variances.insert(l.lot_number.clone(), v);
                counted.push(pb::CountedLine {
                    item_id: l.item_id.clone(),
                    lot_number: l.lot_number.clone(),
                    counted: line.on + v,
                    serial_numbers: vec![],
                });
            }
        }
        if !counted.is_empty() {
            k.record_count_lines(pb::RecordCountLinesRequest {
                request_id: rid(),
                count_id: count.id.clone(),
                lines: counted,
                etag: String::new(),
            })
            .await
            .unwrap();
        }
        self.move_some(depot).await;
        k.submit_stock_count(pb::SubmitStockCountRequest {
            request_id: rid(),
            count_id: count.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
        // A shortage takes free units, then holds no document owns.
        let fits = lot_variances.iter().all(|(lot, v)| {
            let l = self.model.line(depot, lot);
            l.on + v >= l.doc
        });
        let from_held = |l: Line, v: i64| -(-v - (l.on - l.held)).clamp(0, l.held - l.doc);
        let r = self
            .second(depot)
            .approve_stock_count(pb::ApproveStockCountRequest {
                request_id: rid(),
                count_id: count.id.clone(),
                note: String::new(),
                etag: String::new(),
            })
            .await;
        self.operations += 3;
        if !fits {
            assert_eq!(
                self.refused(r, "variance that no longer fits"),
                "VARIANCE_CONFLICT"
            );
            k.cancel_stock_count(pb::CancelStockCountRequest {
                request_id: rid(),
                count_id: count.id,
                reason: "差异无法入账，重新盘点".into(),
                etag: String::new(),
            })
            .await
            .unwrap();
            return;
        }
        let r = r.unwrap().into_inner();
        // Expected entries: lot variances, and per serial lot the generators
        // free on hand at recording, not seen, and still here now.
        let mut want: Vec<(String, i64, i64, Vec<String>)> = lot_variances
            .iter()
            .filter(|(_, v)| **v != 0)
            .map(|(l, v)| {
                let held = from_held(self.model.line(depot, l), *v);
                (l.clone(), *v, held, Vec::new())
            })
            .collect();
        for (lot, (free, seen)) in &seen_at_record {
            let missing: Vec<&String> = free.difference(seen).collect();
            for status in [Status::InStock, Status::Held] {
                let here: Vec<String> = missing
                    .iter()
                    .filter(|s| {
                        let a = &self.model.assets[**s];
                        a.depot == depot && a.status == status && a.holder.is_none()
                    })
                    .map(|s| s.to_string())
                    .collect();
                if !here.is_empty() {
                    let n = here.len() as i64;
                    let held = if status == Status::Held { -n } else { 0 };
                    want.push((lot.clone(), -n, held, here));
                }
            }
        }
        want.sort();
        let mut got: Vec<(String, i64, i64, Vec<String>)> = r
            .entries
            .iter()
            .map(|e| {
                (
                    e.lot_number.clone(),
                    e.quantity,
                    e.held_delta,
                    e.serial_numbers.clone(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "count {} at {depot}", count.id);
        for e in &r.entries {
            self.note(if e.serial_numbers.is_empty() {
                "count posted a variance"
            } else {
                "count wrote off a generator"
            });
            self.model.apply(e);
        }
    }

    /// Several receipts and one-unit issues at once; the model follows what
    /// the server says it posted, and every refusal must be for lack of stock
    /// (or, for tarpaulins, the reserve minimum).
    async fn concurrently(&mut self, depot: &str) {
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
                let item = self.pick(&LOT_ITEMS);
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
                        self.model.apply(&e);
                    }
                }
                Err(s) => assert!(
                    matches!(
                        reason(&s).as_deref(),
                        Some("INSUFFICIENT_STOCK" | "BELOW_RESERVE_MINIMUM")
                    ),
                    "{s:?}"
                ),
            }
        }
    }

    /// One request sent three times at once with one request id: three
    /// identical answers and one effect.
    async fn retry_concurrently(&mut self, depot: &'static str) {
        let (req, lot) = self.receipt_req(depot);
        let issue = self.rng.random_bool(0.5);
        let item = self.model.lots[&lot].item;
        let issue_req = pb::IssueStockRequest {
            override_reserve_minimum: true,
            override_reason: "县指挥部指令".into(),
            ..self.issue_req(depot, item, 1, "")
        };
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let mut k = self.keeper(depot);
                let (req, issue_req) = (req.clone(), issue_req.clone());
                tokio::spawn(async move {
                    if issue {
                        k.issue_stock(issue_req)
                            .await
                            .map(|r| r.into_inner().entries)
                    } else {
                        k.receive_stock(req)
                            .await
                            .map(|r| vec![r.into_inner().entry.unwrap()])
                    }
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(
                t.await
                    .unwrap()
                    .map_err(|s| (s.code(), s.message().to_string())),
            );
        }
        self.operations += 3;
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "identical retries answered differently: {answers:?}"
        );
        if let Ok(entries) = &answers[0] {
            self.note("identical retries, one effect");
            for e in entries {
                self.model.apply(e);
            }
        }
    }

    /// Compares every line, every generator and every pending scrap
    /// application of every depot with the model.
    async fn check(&mut self, step: usize) {
        for (depot, ..) in DEPOTS {
            let mut k = self.keeper(depot);
            let server = k
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
            let got: BTreeMap<String, (i64, i64, i64, i64)> = server
                .iter()
                .map(|l| {
                    (
                        l.lot.as_ref().unwrap().lot_number.clone(),
                        (l.on_hand, l.held, l.held_by_documents, l.available),
                    )
                })
                .collect();
            let want: BTreeMap<String, (i64, i64, i64, i64)> = self
                .model
                .lines
                .iter()
                .filter(|((d, _), _)| d == depot)
                .map(|((_, l), line)| {
                    (
                        l.clone(),
                        (line.on, line.held, line.doc, self.model.available(depot, l)),
                    )
                })
                .collect();
            assert_eq!(
                got, want,
                "step {step}: depot {depot} differs from the model"
            );
            let assets = k
                .list_assets(pb::ListAssetsRequest {
                    depot_code: depot.into(),
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .assets;
            let got: BTreeMap<String, (Status, Option<String>)> = assets
                .iter()
                .map(|a| {
                    let holder = a
                        .holder
                        .strip_prefix("scrapApplications/")
                        .map(|s| s.to_string());
                    (a.serial_number.clone(), (Status::of(a.status), holder))
                })
                .collect();
            let want: BTreeMap<String, (Status, Option<String>)> = self
                .model
                .assets
                .iter()
                .filter(|(_, a)| a.depot == depot)
                .map(|(s, a)| (s.clone(), (a.status, a.holder.clone())))
                .collect();
            assert_eq!(got, want, "step {step}: generators at {depot}");
            let pending: BTreeSet<String> = k
                .list_scrap_applications(pb::ListScrapApplicationsRequest {
                    depot_code: depot.into(),
                    status: pb::ApprovalStatus::Pending as i32,
                    page_size: 1000,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .applications
                .into_iter()
                .map(|a| a.id)
                .collect();
            let want: BTreeSet<String> = self
                .model
                .apps
                .iter()
                .filter(|a| a.depot == depot)
                .map(|a| a.id.clone())
                .collect();
            assert_eq!(pending, want, "step {step}: pending scrap at {depot}");
        }
    }
}

/// Creates the model's depots and their tarpaulin norms.
async fn prepare(app: &TestApp) {
    let admin = app.root_admin();
    let mut net = app.network(&admin);
    let mut cat = app.catalog(&admin);
    for (code, parent, division) in DEPOTS {
        net.create_depot(pb::CreateDepotRequest {
            request_id: rid(),
            depot: Some(depot(code, pb::Tier::Township, parent, division)),
        })
        .await
        .unwrap();
        cat.set_reserve_norm(pb::SetReserveNormRequest {
            request_id: rid(),
            norm: Some(pb::ReserveNorm {
                depot_code: code.into(),
                item_id: "tarpaulin".into(),
                minimum: TARPAULIN_MINIMUM,
                target: 2 * TARPAULIN_MINIMUM,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_random_operations_match_a_plain_model_after_every_step() {
    let seed: u64 = std::env::var("RESERVE_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_128);
    let app = TestApp::with_demo().await;
    prepare(&app).await;
    let mut w = World {
        model: Model {
            now: T0,
            ..Default::default()
        },
        app,
        rng: StdRng::seed_from_u64(seed),
        operations: 0,
        seen: BTreeMap::new(),
    };
    let mut step = 0;
    while w.operations < 1000 {
        step += 1;
        let depot = w.depot();
        match w.rng.random_range(0..100) {
            0..=21 => w.receive(depot).await,
            22..=41 => w.issue(depot).await,
            42..=48 => w.hold_or_release(depot, true).await,
            49..=55 => w.hold_or_release(depot, false).await,
            56..=61 => w.adjust(depot).await,
            62..=67 => w.reverse().await,
            68..=72 => w.apply_scrap(depot).await,
            73..=75 => w.decide_scrap().await,
            76..=78 => w.count(depot).await,
            79..=83 => w.concurrently(depot).await,
            84..=87 => w.reverse_concurrently().await,
            88..=92 => w.retry_concurrently(depot).await,
            _ => {
                let days = w.rng.random_range(1..=20);
                w.model.now += days * DAY_MS;
                w.app.clock.set(w.model.now);
            }
        }
        w.check(step).await;
    }
    eprintln!(
        "model test: seed {seed}, {} operations in {step} steps: {:?}",
        w.operations, w.seen
    );
    // The run must have reached every rule it is meant to check.
    for must in [
        "HELD_BY_DOCUMENT",
        "BELOW_RESERVE_MINIMUM",
        "INSUFFICIENT_STOCK",
        "NOT_REVERSIBLE",
        "NOT_ENOUGH_HELD",
        "LOT_EXPIRED",
        "SERIAL_NOT_AVAILABLE",
        "scrap applied",
        "scrap approved",
        "scrap rejected",
        "count posted a variance",
        "count wrote off a generator",
        "one of three reversals",
        "identical retries, one effect",
    ] {
        assert!(
            w.seen.get(must).copied().unwrap_or(0) > 0,
            "seed {seed} never reached {must}: {:?}",
            w.seen
        );
    }
    w.app.assert_ledger_consistent().await;
    w.app.stop().await.unwrap();
}
