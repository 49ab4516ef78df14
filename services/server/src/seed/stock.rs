//! Demo stock: lots received at every depot of the demo network, posted
//! through the ledger exactly as each depot's keeper would post them.
//!
//! Quantities follow the tiers (the province and the city base hold
//! thousands, counties hundreds, township points tens) and the reserve norms:
//! most depots meet their targets, while
//! - 郧西县 holds 150 quilts that expired last month, which leaves it below
//!   its minimum of 500 available quilts,
//! - 房县 is down to one generator and 7,500 sandbags, and 竹溪县 to 80 life
//!   jackets, all below their minimums,
//! - the city base is short of its targets (not its minimums) for 36 m²
//!   tents and generators, and 张湾区 for folding beds;
//! - some lots are inside their item's near-expiry window (the city's oldest
//!   quilts, family kits and instant food, older bottled water at three
//!   counties, 郧阳区's older sandbags, 大川镇's instant food, the province's
//!   cotton coats), and a second expired lot, bottled water, sits at 南化塘镇.
//!
//! Dates are counted back from the seeding day, so a first run always shows
//! this picture. Expiry is derived by the store from the production date and
//! the item's shelf life. Expired lots are received back when they were still
//! good, with that day as the receipt's time; everything else is received on
//! the seeding day.
//!
//! Each receipt has a request id made of depot, item and the lot's place
//! among that item's lots at the depot — never of dates — so running the seed
//! again, on any day, replays every receipt and posts nothing.

use super::{CITY, COUNTIES, ROOT, Seeded, demo_items};
use reserve_core::authz::{Principal, Role};
use reserve_core::depot::{DepotCode, DepotStatus};
use reserve_core::request::RequestId;
use reserve_core::stock::receipt::{Receipt, ReceiptDraft};
use reserve_core::stock::{Day, FundingSource};
use reserve_core::time::UtcMillis;
use reserve_store::{OpError, Store, WriteMeta};
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;

/// The method recorded with every demo write.
const METHOD: &str = "reserve-server seed-demo";

/// One receipt of the demo stock, dated relative to the seeding day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoLot {
    /// Receiving depot.
    pub depot: String,
    /// Item.
    pub item: &'static str,
    /// The lot's place (1, 2, ...) among the item's lots at the depot; with
    /// the depot and item, the stable key of the receipt's request id.
    pub slot: usize,
    /// Units; for serial-tracked items, how many serial numbers.
    pub units: i64,
    /// Days from the production date to the seeding day.
    pub age_days: i64,
    /// Who paid for it.
    pub funding: FundingSource,
    /// Days before the seeding day it was received (0: on the day).
    pub received_days_ago: i64,
}

impl DemoLot {
    /// The stable request id (and request fingerprint) of its receipt.
    pub fn request_key(&self) -> String {
        format!("demo-stock/{}/{}/{}", self.depot, self.item, self.slot)
    }
}

/// Lot-number prefix, serial-number prefix and the two manufacturers of
/// each demo item.
fn kind(item: &str) -> (&'static str, &'static str, [&'static str; 2]) {
    match item {
        "tent-12m2" => ("TN12", "", ["武汉某帐篷制造有限公司", "湖北某篷业有限公司"]),
        "tent-36m2" => ("TN36", "", ["武汉某帐篷制造有限公司", "湖北某篷业有限公司"]),
        "tarpaulin" => ("TP", "", ["湖北某篷布有限公司", "仙桃某防护用品有限公司"]),
        "quilt-cotton" => ("QC", "", ["湖北某纺织有限公司", "襄阳某被服有限公司"]),
        "quilt-summer" => ("QS", "", ["湖北某纺织有限公司", "襄阳某被服有限公司"]),
        "bed-folding" => ("BF", "", ["孝感某家具有限公司", "湖北某金属制品有限公司"]),
        "coat-cotton" => ("CC", "", ["襄阳某被服有限公司", "湖北某服饰有限公司"]),
        "family-kit" => (
            "FK",
            "",
            ["湖北某应急装备有限公司", "武汉某安全科技有限公司"],
        ),
        "water-bottled" => ("WB", "", ["十堰某饮用水有限公司", "丹江口某水业有限公司"]),
        "food-instant" => ("FI", "", ["湖北某食品有限公司", "武汉某食品工业有限公司"]),
        "generator-5kw" => (
            "GEN",
            "G5K",
            ["重庆某动力机械有限公司", "江苏某发电设备有限公司"],
        ),
        "lighting-tower" => (
            "LT",
            "LTW",
            ["浙江某照明科技有限公司", "湖北某电气有限公司"],
        ),
        "pump-drainage" => (
            "PD",
            "PDW",
            ["湖北某泵业有限公司", "上海某水泵制造有限公司"],
        ),
        "life-jacket" => (
            "LJ",
            "",
            ["江苏某救生器材有限公司", "湖北某安全防护用品有限公司"],
        ),
        "sandbag" => ("SB", "", ["湖北某塑编有限公司", "十堰某包装有限公司"]),
        _ => (
            "LOT",
            "SN",
            ["湖北某应急物资有限公司", "湖北某应急物资有限公司"],
        ),
    }
}

/// How a depot signs its lot numbers: HB, SY (the city), ZS (a county),
/// ZS01 (a township).
fn site(depot: &str) -> String {
    match depot.strip_prefix("HB-SY-") {
        Some(rest) => rest.replace('-', ""),
        None if depot == CITY => "SY".into(),
        None => depot.replace('-', ""),
    }
}

/// (year, month, day) of a day (days since 1970-01-01, proleptic Gregorian).
fn ymd(day: Day) -> (i32, i32, i32) {
    let z = day.0 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m as i32, d as i32)
}

/// The demo stock, built depot by depot.
#[derive(Default)]
struct Plan(Vec<DemoLot>);

impl Plan {
    fn add(
        &mut self,
        depot: &str,
        item: &'static str,
        units: i64,
        age_days: i64,
        funding: FundingSource,
        received_days_ago: i64,
    ) {
        let slot = 1 + self
            .0
            .iter()
            .filter(|l| l.depot == depot && l.item == item)
            .count();
        self.0.push(DemoLot {
            depot: depot.to_string(),
            item,
            slot,
            units,
            age_days,
            funding,
            received_days_ago,
        });
    }

    /// A lot received on the seeding day.
    fn lot(
        &mut self,
        depot: &str,
        item: &'static str,
        units: i64,
        age_days: i64,
        funding: FundingSource,
    ) {
        self.add(depot, item, units, age_days, funding, 0);
    }

    /// A lot that has expired by now: received a month after it was made.
    fn expired(&mut self, depot: &str, item: &'static str, units: i64, age_days: i64) {
        self.add(
            depot,
            item,
            units,
            age_days,
            FundingSource::Budget,
            age_days - 30,
        );
    }
}

/// Every receipt of the demo stock, in posting order.
pub fn demo_stock() -> Vec<DemoLot> {
    use FundingSource::{Budget, Donation};
    let mut p = Plan::default();

    // 湖北省备灾分库: the province's own reserve, tens of thousands.
    p.lot(ROOT, "tent-12m2", 2_000, 720, Budget);
    p.lot(ROOT, "tent-36m2", 600, 400, Budget);
    p.lot(ROOT, "tarpaulin", 4_000, 600, Budget);
    p.lot(ROOT, "quilt-cotton", 12_000, 900, Budget);
    p.lot(ROOT, "quilt-cotton", 8_000, 240, Budget);
    p.lot(ROOT, "coat-cotton", 6_000, 1_700, Budget); // 125 days to expiry
    p.lot(ROOT, "bed-folding", 5_000, 500, Budget);
    p.lot(ROOT, "family-kit", 3_000, 200, Donation);
    p.lot(ROOT, "generator-5kw", 10, 300, Budget);

    // 十堰市应急物资储备中心: thousands, against the city's norms.
    p.lot(CITY, "tent-12m2", 300, 800, Budget);
    p.lot(CITY, "tent-12m2", 120, 150, Budget);
    p.lot(CITY, "tent-36m2", 80, 600, Budget); // target 100, minimum 50
    p.lot(CITY, "tarpaulin", 600, 420, Budget);
    p.lot(CITY, "quilt-cotton", 1_200, 1_705, Budget); // 120 days to expiry
    p.lot(CITY, "quilt-cotton", 2_400, 900, Budget);
    p.lot(CITY, "quilt-cotton", 2_600, 90, Budget);
    p.lot(CITY, "quilt-summer", 3_500, 700, Budget);
    p.lot(CITY, "quilt-summer", 2_800, 200, Donation);
    p.lot(CITY, "bed-folding", 4_000, 1_000, Budget);
    p.lot(CITY, "bed-folding", 2_500, 300, Budget);
    p.lot(CITY, "coat-cotton", 1_500, 400, Budget);
    p.lot(CITY, "family-kit", 800, 1_020, Budget); // 75 days to expiry
    p.lot(CITY, "family-kit", 1_400, 300, Budget);
    p.lot(CITY, "water-bottled", 1_000, 200, Donation);
    p.lot(CITY, "water-bottled", 3_000, 100, Budget);
    p.lot(CITY, "food-instant", 400, 495, Budget); // 45 days to expiry
    p.lot(CITY, "food-instant", 800, 120, Budget);
    p.lot(CITY, "generator-5kw", 12, 700, Budget); // 16 of a target of 20
    p.lot(CITY, "generator-5kw", 4, 60, Budget);
    p.lot(CITY, "lighting-tower", 8, 400, Budget);
    p.lot(CITY, "pump-drainage", 8, 900, Budget);
    p.lot(CITY, "pump-drainage", 4, 200, Budget);
    p.lot(CITY, "life-jacket", 1_000, 500, Budget);
    p.lot(CITY, "sandbag", 60_000, 800, Budget);
    p.lot(CITY, "sandbag", 50_000, 300, Budget);

    for (i, c) in COUNTIES.iter().enumerate() {
        let county = format!("{CITY}-{}", c.suffix);
        let d = county.as_str();
        let k = i as i64;
        // Up to a fifth more than the base, varying by county.
        let vary = |base: i64| base + base * ((k * 7) % 20) / 100;
        let gift = if i % 3 == 1 { Donation } else { Budget };

        // 县级储备库: hundreds, meeting the county norms unless noted.
        p.lot(d, "tent-12m2", vary(110), 500 + 30 * k, Budget);
        if c.suffix == "YX" {
            // The expired lot is not available: 380 of a minimum of 500.
            p.expired(d, "quilt-cotton", 150, 1_865);
            p.lot(d, "quilt-cotton", 380, 200, Budget);
        } else {
            p.lot(d, "quilt-cotton", 600, 1_000 + 40 * k, Budget);
            p.lot(d, "quilt-cotton", vary(450), 200 + 20 * k, gift);
        }
        let beds = if c.suffix == "ZW" { 450 } else { vary(640) };
        p.lot(d, "bed-folding", beds, 600, Budget);
        // Older water: 45 days to expiry at three counties.
        let old_water = if matches!(c.suffix, "MJ" | "ZW" | "DJK") {
            320
        } else {
            250
        };
        p.lot(d, "water-bottled", 220, old_water, Donation);
        p.lot(d, "water-bottled", vary(320), 60, Budget);
        let jackets = if c.suffix == "ZX" { 80 } else { vary(220) };
        p.lot(d, "life-jacket", jackets, 700, Budget);
        let generators = if c.suffix == "FX" { 1 } else { 4 };
        p.lot(d, "generator-5kw", generators, 400 + 20 * k, Budget);
        if c.suffix == "FX" {
            p.lot(d, "sandbag", 7_500, 700, Budget);
        } else {
            // 郧阳区's older sandbags are 145 days from expiry.
            let old_bags = if c.suffix == "YY" { 950 } else { 700 };
            p.lot(d, "sandbag", 12_000, old_bags, Budget);
            p.lot(d, "sandbag", vary(9_000), 150, Budget);
        }
        p.lot(d, "tarpaulin", vary(150), 600, Budget);
        p.lot(d, "family-kit", vary(150), 300, gift);
        p.lot(d, "food-instant", vary(120), 100, Budget);
        if matches!(c.suffix, "YY" | "DJK") {
            p.lot(d, "pump-drainage", 2, 500, Budget);
        }

        // 乡镇储备点: tens.
        for (j, town) in c.towns.iter().enumerate() {
            let point = format!("{county}-{}", town.0);
            let t = point.as_str();
            let n = (3 * i + j) as i64;
            p.lot(t, "tent-12m2", 10 + (n * 3) % 11, 400 + 10 * n, Budget);
            p.lot(t, "quilt-cotton", 40 + (n * 7) % 30, 300 + 5 * n, Budget);
            if t == "HB-SY-YY-03" {
                // Expired 15 days ago, not yet rotated out.
                p.expired(t, "water-bottled", 25, 380);
            }
            let water_gift = if n % 2 == 0 { Donation } else { Budget };
            p.lot(t, "water-bottled", 30 + (n * 5) % 20, 100, water_gift);
            // 大川镇's instant food is 40 days from expiry.
            let food_age = if t == "HB-SY-MJ-01" { 500 } else { 90 };
            p.lot(t, "food-instant", 15 + n % 10, food_age, Budget);
            p.lot(t, "sandbag", 500 + (n * 130) % 600, 200, Budget);
            if matches!(c.suffix, "YY" | "DJK") {
                p.lot(t, "life-jacket", 20 + (n * 3) % 10, 300, Donation);
            }
            if t == "HB-SY-ZS-01" {
                p.lot(t, "generator-5kw", 1, 250, Budget);
            }
            if t == "HB-SY-DJK-02" {
                p.lot(t, "pump-drainage", 1, 250, Budget);
            }
        }
    }
    p.0
}

/// Whether `item` is tracked by serial number, and its shelf life in days.
fn item_rules(item: &str) -> (bool, i32) {
    demo_items()
        .into_iter()
        .find(|i| i.id == item)
        .map(|i| (i.tracking == 2, i.shelf_life_days))
        .unwrap_or((false, 0))
}

/// The receipt of `lot` as its keeper would send it when seeding on `today`,
/// the `seq`-th receipt document of its depot, at instant `at`.
pub fn receipt_draft(lot: &DemoLot, today: Day, at: UtcMillis, seq: usize) -> ReceiptDraft {
    let (prefix, serial_prefix, makers) = kind(lot.item);
    let (serial, _) = item_rules(lot.item);
    let produced = today.plus(-lot.age_days);
    let (y, m, d) = ymd(produced);
    let site = site(&lot.depot);
    let lot_number = format!("{prefix}-{y:04}-{m:02}-{site}");
    let serials = if serial {
        (1..=lot.units)
            .map(|n| format!("{serial_prefix}{:02}{m:02}{site}{n:03}", y % 100))
            .collect()
    } else {
        Vec::new()
    };
    let manufacturer = makers[lot.slot % 2];
    let counterparty = match lot.funding {
        FundingSource::Donation if lot.slot.is_multiple_of(2) => "湖北省慈善总会",
        FundingSource::Donation => "十堰市红十字会",
        _ => manufacturer,
    };
    let (ry, _, _) = ymd(Day::today(at));
    ReceiptDraft {
        depot: lot.depot.clone(),
        item: lot.item.into(),
        lot_number,
        production: Some((y, m, d)),
        expiry: None,
        manufacturer: manufacturer.into(),
        funding: lot.funding.number() as i32,
        owning_tier: 0,
        quantity: if serial { 0 } else { lot.units },
        serials,
        document: format!("RK-{ry:04}-{seq:04}"),
        counterparty: counterparty.into(),
        note: "演示数据".into(),
        occurred_time: None,
        opening_balance: false,
    }
}

/// The keeper of `depot` who receives its demo stock.
fn keeper(depot: &str) -> Principal {
    Principal {
        subject: format!("demo-keeper@{depot}"),
        name: "演示数据 保管员".into(),
        roles: [Role::DepotKeeper].into_iter().collect(),
        scope: DepotCode::from_stored(depot.into()),
    }
}

/// Receives whatever of the demo stock has not been received, counting what
/// was posted into `seeded`. Depots that are not active are left alone, and
/// a receipt a rule refuses (say, its lot number was used for something else
/// meanwhile) is skipped with a warning.
pub(super) async fn seed_stock(
    store: &Store,
    now: UtcMillis,
    seeded: &mut Seeded,
) -> anyhow::Result<()> {
    let today = Day::today(now);
    let mut active: BTreeMap<String, bool> = BTreeMap::new();
    let mut documents: BTreeMap<String, usize> = BTreeMap::new();
    for lot in demo_stock() {
        let seq = documents.entry(lot.depot.clone()).or_default();
        *seq += 1;
        let seq = *seq;
        let is_active = match active.get(&lot.depot) {
            Some(a) => *a,
            None => {
                let code = DepotCode::from_stored(lot.depot.clone());
                let a = store
                    .get_depot(&code)
                    .await?
                    .is_some_and(|d| d.status == DepotStatus::Active);
                if !a {
                    tracing::warn!(depot = %lot.depot, "demo depot missing or not active; no demo stock received there");
                }
                active.insert(lot.depot.clone(), a);
                a
            }
        };
        if !is_active {
            continue;
        }
        let key = lot.request_key();
        let at = now - lot.received_days_ago * DAY_MS;
        let draft = receipt_draft(&lot, today, at, seq);
        let receipt =
            Receipt::parse(&draft, at).map_err(|v| anyhow::anyhow!("demo receipt {key}: {v}"))?;
        let meta = WriteMeta {
            actor: keeper(&lot.depot),
            request_id: RequestId::parse(&key).map_err(anyhow::Error::msg)?,
            method: METHOD.into(),
            request_hash: key.clone(),
            now: at,
        };
        match store.receive(&meta, receipt).await {
            Ok(w) if w.replayed => {}
            Ok(_) => {
                seeded.receipts += 1;
                seeded.units += lot.units;
                seeded.assets += draft.serials.len();
            }
            Err(OpError::Rule(e)) => {
                tracing::warn!(receipt = %key, error = %e, "demo receipt refused; skipped");
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("receiving demo stock {key}")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// 2026-11-28T04:00:00Z, the e2e tests' T0.
    const T0: UtcMillis = 1_795_838_400_000;

    #[test]
    fn ymd_matches_the_calendar() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (2024, 12, 31),
            (2026, 11, 28),
            (2100, 3, 1),
        ] {
            let day = Day::from_ymd(y, m as u32, d as u32).expect("a date");
            assert_eq!(ymd(day), (y, m, d));
        }
        let start = Day::from_ymd(1990, 1, 1).expect("a date");
        for n in 0..20_000 {
            let day = start.plus(n);
            let (y, m, d) = ymd(day);
            assert_eq!(Day::from_ymd(y, m as u32, d as u32), Some(day));
        }
    }

    #[test]
    fn every_depot_gets_stock_under_unique_keys_lots_and_serials() {
        let stock = demo_stock();
        let depots: BTreeSet<String> = stock.iter().map(|l| l.depot.clone()).collect();
        let all: BTreeSet<String> = super::super::demo_depots()
            .into_iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(depots, all);
        // Any seeding day: lots of one item at one depot are months apart.
        for (i, a) in stock.iter().enumerate() {
            for b in &stock[i + 1..] {
                if a.depot == b.depot && a.item == b.item {
                    assert!((a.age_days - b.age_days).abs() > 31, "{a:?} {b:?}");
                }
            }
        }
        for now in [T0, T0 + 17 * DAY_MS, 1_735_689_600_000] {
            let today = Day::today(now);
            let mut keys = BTreeSet::new();
            let mut lots = BTreeSet::new();
            let mut serials = BTreeSet::new();
            for (seq, lot) in stock.iter().enumerate() {
                let at = now - lot.received_days_ago * DAY_MS;
                let d = receipt_draft(lot, today, at, seq + 1);
                assert!(Receipt::parse(&d, at).is_ok(), "{d:?}");
                assert!(RequestId::parse(&lot.request_key()).is_ok());
                assert!(keys.insert(lot.request_key()));
                assert!(lots.insert((d.item.clone(), d.lot_number.clone())), "{d:?}");
                for s in d.serials {
                    assert!(serials.insert((d.item.clone(), s)));
                }
            }
        }
    }

    #[test]
    fn two_lots_are_expired_some_near_expiry_and_a_few_depots_below_minimum() {
        let items = demo_items();
        let stock = demo_stock();
        let mut expired = Vec::new();
        let mut near = 0;
        let mut available: BTreeMap<(String, &str), i64> = BTreeMap::new();
        for lot in &stock {
            let item = items
                .iter()
                .find(|i| i.id == lot.item)
                .expect("a demo item");
            let shelf = i64::from(item.shelf_life_days);
            let window = i64::from(item.near_expiry_days.unwrap_or(90));
            let left = shelf - lot.age_days;
            if shelf > 0 && left <= 0 {
                // Received while still good, within the past.
                assert!(lot.received_days_ago > 30 && lot.age_days - lot.received_days_ago < shelf);
                expired.push(lot.depot.clone());
                continue;
            }
            assert_eq!(lot.received_days_ago, 0);
            if shelf > 0 && left <= window {
                near += 1;
            }
            *available.entry((lot.depot.clone(), lot.item)).or_default() += lot.units;
        }
        assert_eq!(expired, vec!["HB-SY-YY-03", "HB-SY-YX"]);
        assert!(near >= 5, "{near}");
        let mut below = BTreeSet::new();
        let mut under_target = BTreeSet::new();
        for (depot, item, min, target) in super::super::demo_norms() {
            let have = available.get(&(depot.clone(), item)).copied().unwrap_or(0);
            if have < min {
                below.insert(format!("{depot}/{item}"));
            } else if have < target {
                under_target.insert(format!("{depot}/{item}"));
            }
        }
        assert_eq!(
            below.into_iter().collect::<Vec<_>>(),
            vec![
                "HB-SY-FX/generator-5kw",
                "HB-SY-FX/sandbag",
                "HB-SY-YX/quilt-cotton",
                "HB-SY-ZX/life-jacket"
            ]
        );
        assert_eq!(
            under_target.into_iter().collect::<Vec<_>>(),
            vec![
                "HB-SY-ZW/bed-folding",
                "HB-SY/generator-5kw",
                "HB-SY/tent-36m2"
            ]
        );
    }
}
