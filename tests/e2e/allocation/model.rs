//! The model test of allocation orders: a random sequence of orders —
//! raised, submitted, approved or rejected, dispatched (whole, short, or
//! before approval in an emergency), received in several goes with damage,
//! refusals and shortages, cancelled, closed — against a plain model of
//! what every depot must hold. After every step each depot's on hand,
//! reserved and held match the model, every refusal is one the model
//! predicts, and the network conserves its units: on hand plus in transit
//! changes only by recorded discrepancies and deliveries to incident sites.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const DEPOTS: [&str; 5] = [CITY, ZS, ZS1, ZS2, "HB-SY-ZS-03"];
const ITEMS: [&str; 2] = [QUILT, GEN];

/// Per (depot, item): on hand, reserved, held.
type Books = BTreeMap<(String, String), (i64, i64, i64)>;

struct Model {
    app: TestApp,
    rng: StdRng,
    books: Books,
    minimum: BTreeMap<(String, String), i64>,
    orders: Vec<pb::AllocationOrder>,
    /// Units that left the books as recorded discrepancies or deliveries.
    gone: BTreeMap<String, i64>,
    start: BTreeMap<String, i64>,
    serial: u32,
    seen: BTreeMap<&'static str, u32>,
    disp: Orders,
    incident: String,
}

fn key(d: &str, i: &str) -> (String, String) {
    (d.to_string(), i.to_string())
}

impl Model {
    fn free(&self, d: &str, i: &str) -> i64 {
        let (on, r, h) = self.books.get(&key(d, i)).copied().unwrap_or_default();
        on - r - h
    }

    fn book(&mut self, d: &str, i: &str, on: i64, r: i64, h: i64) {
        let e = self.books.entry(key(d, i)).or_default();
        e.0 += on;
        e.1 += r;
        e.2 += h;
    }

    fn saw(&mut self, what: &'static str) {
        *self.seen.entry(what).or_default() += 1;
    }

    async fn stock_up(&mut self) {
        for d in DEPOTS {
            // The city keeps about its minimum of 3,000 quilts.
            let q = if d == CITY {
                self.rng.random_range(2_500..6_000)
            } else {
                self.rng.random_range(100..2_000)
            };
            stock_in(&self.app, d, QUILT, &format!("Q-{d}"), q, &[]).await;
            self.book(d, QUILT, q, 0, 0);
            let n = self.rng.random_range(1..5);
            let serials: Vec<String> = (0..n)
                .map(|_| {
                    self.serial += 1;
                    format!("GEN-{:04}", self.serial)
                })
                .collect();
            let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
            stock_in(&self.app, d, GEN, &format!("G-{d}"), 0, &refs).await;
            self.book(d, GEN, n, 0, 0);
        }
        for i in ITEMS {
            self.start.insert(i.to_string(), self.total(i));
        }
    }

    fn total(&self, item: &str) -> i64 {
        self.books
            .iter()
            .filter(|((_, i), _)| i == item)
            .map(|(_, (on, _, _))| on)
            .sum()
    }

    async fn raise(&mut self) {
        let site = self.rng.random_bool(0.2);
        let to = DEPOTS[self.rng.random_range(1..DEPOTS.len())];
        let mut lines = Vec::new();
        for item in ITEMS {
            if self.rng.random_bool(0.6) || (lines.is_empty() && item == GEN) {
                let mut sources = Vec::new();
                for _ in 0..self.rng.random_range(1..=2) {
                    let s = DEPOTS[self.rng.random_range(0..DEPOTS.len())];
                    if (site || s != to) && !sources.iter().any(|(x, _)| *x == s) {
                        let q = if item == GEN {
                            self.rng.random_range(1..=2)
                        } else {
                            self.rng.random_range(1..=400)
                        };
                        sources.push((s, q));
                    }
                }
                if !sources.is_empty() {
                    let total = sources.iter().map(|(_, q)| q).sum();
                    lines.push(line(item, total, &sources));
                }
            }
        }
        if lines.is_empty() {
            return;
        }
        let priority = if self.rng.random_bool(0.3) {
            pb::AllocationPriority::Emergency
        } else {
            pb::AllocationPriority::Routine
        };
        let mut o = if site {
            to_site(&self.incident, lines)
        } else {
            transfer(priority, to, lines)
        };
        o.priority = priority as i32;
        o.justification = "模型".into();
        let o = raise(&mut self.disp, o).await;
        let o = submit(&mut self.disp, &o.id).await.unwrap();
        self.saw("raised");
        self.orders.push(o);
    }

    /// Units per (source, item) an order plans.
    fn planned(o: &pb::AllocationOrder, source: Option<&str>) -> BTreeMap<(String, String), i64> {
        let mut out = BTreeMap::new();
        for l in &o.lines {
            for s in &l.sources {
                if source.is_none_or(|x| x == s.source_depot_code) {
                    *out.entry(key(&s.source_depot_code, &l.item_id))
                        .or_default() += s.quantity;
                }
            }
        }
        out
    }

    fn takes_ok(&self, o: &pb::AllocationOrder, plan: &BTreeMap<(String, String), i64>) -> bool {
        let emergency = o.priority == pb::AllocationPriority::Emergency as i32;
        plan.iter().all(|((d, i), q)| {
            let free = self.free(d, i);
            let min = self.minimum.get(&key(d, i)).copied().unwrap_or(0);
            free >= *q && (emergency || free - q >= min)
        })
    }

    fn emergency_unapproved(o: &pb::AllocationOrder) -> bool {
        o.priority == pb::AllocationPriority::Emergency as i32 && o.approved_by.is_empty()
    }

    async fn step(&mut self, idx: usize) {
        let o = self.orders[idx].clone();
        let st = state(&o);
        let mut chief = dispatcher(&self.app, "chief@SY", CITY);
        use pb::AllocationState::*;
        match st {
            Submitted if Self::emergency_unapproved(&o) && self.rng.random_bool(0.6) => {
                self.dispatch(idx).await
            }
            Submitted => match self.rng.random_range(0..10) {
                0 => {
                    self.orders[idx] = chief
                        .reject_allocation_order(pb::RejectAllocationOrderRequest {
                            request_id: rid(),
                            order_id: o.id.clone(),
                            reason: "不批".into(),
                            etag: o.etag.clone(),
                        })
                        .await
                        .unwrap()
                        .into_inner()
                        .order
                        .unwrap();
                    self.saw("rejected");
                }
                _ => {
                    let plan = Self::planned(&o, None);
                    let expect = self.takes_ok(&o, &plan);
                    match approve(&mut chief, &o.id).await {
                        Ok(a) => {
                            assert!(
                                expect,
                                "approved against the model: {plan:?} {:?}",
                                self.books
                            );
                            for ((d, i), q) in plan {
                                self.book(&d, &i, 0, q, 0);
                            }
                            self.orders[idx] = a;
                            self.saw("approved");
                        }
                        Err(e) => {
                            assert!(!expect, "refused against the model: {e:?}");
                            let r = reserve_tests::reason(&e);
                            assert!(
                                matches!(
                                    r.as_deref(),
                                    Some("INSUFFICIENT_STOCK" | "BELOW_RESERVE_MINIMUM")
                                ),
                                "{e:?}"
                            );
                            self.saw("approval refused");
                            self.cancel(idx).await;
                        }
                    }
                }
            },
            Approved if self.rng.random_bool(0.15) => self.cancel(idx).await,
            Approved => self.dispatch(idx).await,
            Dispatched => {
                let undispatched = o.lines.iter().flat_map(|l| l.sources.iter()).any(|s| {
                    !o.dispatches
                        .iter()
                        .any(|d| d.source_depot_code == s.source_depot_code)
                });
                if undispatched && self.rng.random_bool(0.5) {
                    self.dispatch(idx).await
                } else if Self::emergency_unapproved(&o) && self.rng.random_bool(0.3) {
                    let plan: BTreeMap<_, _> = Self::planned(&o, None)
                        .into_iter()
                        .filter(|((d, _), _)| {
                            !o.dispatches.iter().any(|x| &x.source_depot_code == d)
                        })
                        .collect();
                    let expect = self.takes_ok(&o, &plan);
                    match approve(&mut chief, &o.id).await {
                        Ok(a) => {
                            assert!(expect, "back-fill reserved against the model");
                            for ((d, i), q) in plan {
                                self.book(&d, &i, 0, q, 0);
                            }
                            self.orders[idx] = a;
                            self.saw("back-filled");
                        }
                        Err(e) => assert!(!expect, "back-fill refused against the model: {e:?}"),
                    }
                } else {
                    self.receive(idx).await
                }
            }
            Received if !o.approved_by.is_empty() => {
                self.orders[idx] = self
                    .disp
                    .close_allocation_order(pb::CloseAllocationOrderRequest {
                        request_id: rid(),
                        order_id: o.id.clone(),
                        note: String::new(),
                        etag: o.etag.clone(),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .order
                    .unwrap();
                self.saw("closed");
            }
            Received => {
                self.orders[idx] = approve(&mut chief, &o.id).await.unwrap();
                self.saw("back-filled after receipt");
            }
            _ => {}
        }
    }

    async fn cancel(&mut self, idx: usize) {
        let o = self.orders[idx].clone();
        for l in &o.lines {
            for s in &l.shares {
                self.book(&s.source_depot_code, &l.item_id, 0, -s.reserved, 0);
            }
        }
        self.orders[idx] = self
            .disp
            .cancel_allocation_order(pb::CancelAllocationOrderRequest {
                request_id: rid(),
                order_id: o.id.clone(),
                reason: "撤销".into(),
                etag: o.etag.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        self.saw("cancelled");
    }

    async fn dispatch(&mut self, idx: usize) {
        let o = self.orders[idx].clone();
        let Some(source) = o
            .lines
            .iter()
            .flat_map(|l| l.sources.iter())
            .map(|s| s.source_depot_code.clone())
            .find(|s| !o.dispatches.iter().any(|d| &d.source_depot_code == s))
        else {
            return;
        };
        let approved = !o.approved_by.is_empty();
        let mut short = Vec::new();
        if approved && self.rng.random_bool(0.3) {
            for l in o.lines.iter().filter(|l| l.item_id == QUILT) {
                for s in l
                    .shares
                    .iter()
                    .filter(|s| s.source_depot_code == source && s.reserved > 0)
                {
                    short.push(pb::DispatchedShare {
                        line_number: l.line_number,
                        lot_number: s.lot_number.clone(),
                        quantity: self.rng.random_range(0..=s.reserved),
                        serial_numbers: Vec::new(),
                    });
                }
            }
        }
        let plan = Self::planned(&o, Some(&source));
        let expect = approved || self.takes_ok(&o, &plan);
        let r = keeper(&self.app, &source)
            .dispatch_allocation_order(pb::DispatchAllocationOrderRequest {
                request_id: rid(),
                order_id: o.id.clone(),
                source_depot_code: source.clone(),
                note: if short.is_empty() {
                    String::new()
                } else {
                    "部分破损".into()
                },
                short_shares: short,
                etag: o.etag.clone(),
                ..Default::default()
            })
            .await;
        let sent = match r {
            Ok(r) => r.into_inner().order.unwrap(),
            Err(e) => {
                assert!(!expect, "dispatch refused against the model: {e:?}");
                self.saw("dispatch refused");
                return;
            }
        };
        assert!(expect, "dispatched against the model");
        for l in &sent.lines {
            for s in l.shares.iter().filter(|s| s.source_depot_code == source) {
                // What left, and (approved) the whole reservation released.
                let was: i64 = o
                    .lines
                    .iter()
                    .filter(|x| x.line_number == l.line_number)
                    .flat_map(|x| x.shares.iter())
                    .filter(|x| x.source_depot_code == source && x.lot_number == s.lot_number)
                    .map(|x| x.reserved)
                    .sum();
                self.book(&source, &l.item_id, -s.dispatched, -was, 0);
            }
        }
        self.orders[idx] = sent;
        self.saw(if approved {
            "dispatched"
        } else {
            "dispatched before approval"
        });
    }

    async fn receive(&mut self, idx: usize) {
        let o = self.orders[idx].clone();
        let mut shares = Vec::new();
        let mut effects = Vec::new();
        for l in &o.lines {
            for s in l.shares.iter().filter(|s| s.in_transit > 0) {
                if self.rng.random_bool(0.3) {
                    continue;
                }
                let mut left: Vec<String> = s.in_transit_serial_numbers.clone();
                let mut cut = |rng: &mut StdRng, n: i64| -> (i64, Vec<String>) {
                    let take = rng.random_range(0..=n);
                    if left.is_empty() {
                        (take, Vec::new())
                    } else {
                        let t: Vec<String> = left.drain(..take as usize).collect();
                        (t.len() as i64, t)
                    }
                };
                let mut rest = s.in_transit;
                let (r, rs) = cut(&mut self.rng, rest);
                rest -= r;
                let (d, ds) = cut(&mut self.rng, rest.min(3));
                rest -= d;
                let (j, js) = cut(&mut self.rng, rest.min(2));
                rest -= j;
                let (sh, ss) = cut(&mut self.rng, rest.min(2));
                if r + d + j + sh == 0 {
                    continue;
                }
                let serial = !s.in_transit_serial_numbers.is_empty();
                shares.push(pb::ReceivedShare {
                    line_number: l.line_number,
                    source_depot_code: s.source_depot_code.clone(),
                    lot_number: s.lot_number.clone(),
                    received: if serial { 0 } else { r },
                    damaged: if serial { 0 } else { d },
                    rejected: if serial { 0 } else { j },
                    short: if serial { 0 } else { sh },
                    received_serial_numbers: rs,
                    damaged_serial_numbers: ds,
                    rejected_serial_numbers: js,
                    short_serial_numbers: ss,
                    reason: if d + j + sh > 0 {
                        "途中受损".into()
                    } else {
                        String::new()
                    },
                });
                effects.push((l.item_id.clone(), r, d, j + sh));
            }
        }
        if shares.is_empty() {
            return;
        }
        let site = o.destination_depot_code.is_empty();
        let mut c = if site {
            self.disp.clone()
        } else {
            keeper(&self.app, &o.destination_depot_code)
        };
        let got = c
            .receive_allocation_order(pb::ReceiveAllocationOrderRequest {
                request_id: rid(),
                order_id: o.id.clone(),
                shares,
                etag: o.etag.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        for (item, r, d, lost) in effects {
            *self.gone.entry(item.clone()).or_default() += lost;
            if site {
                *self.gone.entry(item).or_default() += r + d;
            } else {
                self.book(&o.destination_depot_code, &item, r + d, 0, d);
            }
        }
        self.orders[idx] = got;
        self.saw("received");
    }

    async fn check(&self, step: usize) {
        for d in DEPOTS {
            for i in ITEMS {
                let got = lines(&self.app, d, i)
                    .await
                    .into_iter()
                    .fold((0, 0, 0), |a, l| (a.0 + l.1, a.1 + l.2, a.2 + l.3));
                let want = self.books.get(&key(d, i)).copied().unwrap_or_default();
                assert_eq!(got, want, "step {step}: {d} {i}");
            }
        }
        for i in ITEMS {
            let (on, transit) = network_total(&self.app, i).await;
            let gone = self.gone.get(i).copied().unwrap_or(0);
            assert_eq!(
                on + transit,
                self.start[i] - gone,
                "step {step}: {i} not conserved"
            );
        }
    }
}

#[tokio::test]
async fn a_random_sequence_of_orders_conserves_every_unit_and_matches_the_model() {
    let seed: u64 = std::env::var("RESERVE_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_129);
    let app = TestApp::with_demo().await;
    let disp = dispatcher(&app, "disp@SY", CITY);
    let incident = app
        .incident(&app.token_for("disp@SY", &[Role::Dispatcher], CITY))
        .create_incident(pb::CreateIncidentRequest {
            request_id: rid(),
            incident: Some(pb::Incident {
                name: "模型洪涝".into(),
                r#type: pb::IncidentType::Flood as i32,
                occur_time: Some(prost_types::Timestamp {
                    seconds: reserve_tests::T0 / 1000,
                    nanos: 0,
                }),
                place: Some(pb::Place {
                    lat_lng: Some(LatLng {
                        latitude: 32.2,
                        longitude: 110.2,
                    }),
                    address: "竹山县".into(),
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .incident
        .unwrap()
        .id;
    let mut m = Model {
        app,
        rng: StdRng::seed_from_u64(seed),
        books: Books::new(),
        minimum: BTreeMap::new(),
        orders: Vec::new(),
        gone: BTreeMap::new(),
        start: BTreeMap::new(),
        serial: 0,
        seen: BTreeMap::new(),
        disp,
        incident,
    };
    for (d, i, min, _) in reserve_server::seed::demo_norms() {
        if DEPOTS.contains(&d.as_str()) && ITEMS.contains(&i) {
            m.minimum.insert(key(&d, i), min);
        }
    }
    m.stock_up().await;
    for step in 0..300 {
        if m.orders.is_empty() || m.rng.random_bool(0.25) {
            m.raise().await;
        } else {
            let idx = m.rng.random_range(0..m.orders.len());
            m.step(idx).await;
        }
        m.check(step).await;
        if step % 50 == 0 {
            m.app.assert_ledger_consistent().await;
        }
    }
    m.app.assert_ledger_consistent().await;
    eprintln!("order model: seed {seed}: {:?}", m.seen);
    for must in [
        "approved",
        "dispatched",
        "received",
        "closed",
        "dispatched before approval",
    ] {
        assert!(
            m.seen.contains_key(must),
            "seed {seed} never reached {must}: {:?}",
            m.seen
        );
    }
}
