//! The demo network: Hubei's provincial sub-depot, the Shiyan (十堰市) city
//! base, its eight county-level depots with their GB/T 2260 codes, township
//! points under each, a catalogue of common relief items, reserve norms, and
//! stock received at every depot (see [`stock`]).
//!
//! Seeding is idempotent: what exists is left alone, what is missing is
//! added, every addition goes through the same audited writes as the API.

pub mod stock;

use anyhow::Context;
use reserve_core::authz::{Principal, Role};
use reserve_core::depot::{ContactDraft, DepotCode, DepotDraft, NewDepot};
use reserve_core::item::{ItemDraft, NewItem};
use reserve_core::norm::NewNorm;
use reserve_core::request::RequestId;
use reserve_core::tier::Tier;
use reserve_core::time::UtcMillis;
use reserve_store::{Store, WriteMeta};

/// Code of the provincial root of the demo network.
pub const ROOT: &str = "HB";
/// Code of the Shiyan city base.
pub const CITY: &str = "HB-SY";

/// A county of Shiyan: code suffix, name, GB/T 2260 code, seat coordinates,
/// and its township points (suffix, name, 3-digit township number, offset).
struct County {
    suffix: &'static str,
    name: &'static str,
    division: &'static str,
    lat: f64,
    lon: f64,
    towns: &'static [(&'static str, &'static str, &'static str, f64, f64)],
}

const COUNTIES: [County; 8] = [
    County {
        suffix: "MJ",
        name: "茅箭区",
        division: "420302",
        lat: 32.5917,
        lon: 110.8130,
        towns: &[
            ("01", "大川镇", "100", 0.08, 0.06),
            ("02", "茅塔乡", "200", -0.05, 0.09),
        ],
    },
    County {
        suffix: "ZW",
        name: "张湾区",
        division: "420303",
        lat: 32.6524,
        lon: 110.7692,
        towns: &[
            ("01", "黄龙镇", "100", 0.09, -0.12),
            ("02", "方滩乡", "200", -0.10, -0.08),
        ],
    },
    County {
        suffix: "YY",
        name: "郧阳区",
        division: "420304",
        lat: 32.8345,
        lon: 110.8120,
        towns: &[
            ("01", "城关镇", "100", 0.00, 0.00),
            ("02", "青曲镇", "101", 0.07, -0.20),
            ("03", "南化塘镇", "102", 0.18, 0.35),
        ],
    },
    County {
        suffix: "YX",
        name: "郧西县",
        division: "420322",
        lat: 32.9932,
        lon: 110.4258,
        towns: &[
            ("01", "城关镇", "100", 0.00, 0.00),
            ("02", "上津镇", "101", 0.12, -0.30),
            ("03", "夹河镇", "102", -0.12, -0.05),
        ],
    },
    County {
        suffix: "ZS",
        name: "竹山县",
        division: "420323",
        lat: 32.2250,
        lon: 110.2291,
        towns: &[
            ("01", "城关镇", "100", 0.00, 0.00),
            ("02", "宝丰镇", "101", 0.17, 0.09),
            ("03", "溢水镇", "102", -0.22, 0.14),
        ],
    },
    County {
        suffix: "ZX",
        name: "竹溪县",
        division: "420324",
        lat: 32.3189,
        lon: 109.7153,
        towns: &[
            ("01", "城关镇", "100", 0.00, 0.00),
            ("02", "蒋家堰镇", "101", 0.10, 0.13),
            ("03", "中峰镇", "102", -0.08, 0.21),
        ],
    },
    County {
        suffix: "FX",
        name: "房县",
        division: "420325",
        lat: 32.0557,
        lon: 110.7337,
        towns: &[
            ("01", "城关镇", "100", 0.00, 0.00),
            ("02", "军店镇", "101", 0.04, -0.24),
            ("03", "土城镇", "102", 0.16, 0.18),
        ],
    },
    County {
        suffix: "DJK",
        name: "丹江口市",
        division: "420381",
        lat: 32.5400,
        lon: 111.5130,
        towns: &[
            ("01", "六里坪镇", "100", -0.24, -0.38),
            ("02", "浪河镇", "101", -0.20, -0.26),
            ("03", "丁家营镇", "102", -0.14, -0.33),
        ],
    },
];

fn depot(
    code: &str,
    name: &str,
    tier: Tier,
    parent: &str,
    division: &str,
    lat: f64,
    lon: f64,
) -> DepotDraft {
    DepotDraft {
        code: code.into(),
        name: name.into(),
        tier: tier.number() as i32,
        parent_code: parent.into(),
        division_code: division.into(),
        latitude: lat,
        longitude: lon,
        address: String::new(),
        storage_area_m2: match tier {
            Tier::Province => 12_000.0,
            Tier::City => 6_000.0,
            Tier::County => 1_500.0,
            Tier::Township => 200.0,
        },
        operating_unit: String::new(),
        owning_tier: 0,
        contacts: vec![ContactDraft {
            name: "值班室".into(),
            duty: "24小时值班".into(),
            phone: "0719-12350".into(),
        }],
        status: 0,
    }
}

/// Every depot of the demo network, parents before children.
pub fn demo_depots() -> Vec<DepotDraft> {
    let mut out = vec![
        DepotDraft {
            address: "湖北省武汉市东西湖区".into(),
            operating_unit: "湖北省应急物资储备中心".into(),
            ..depot(
                ROOT,
                "湖北省备灾分库",
                Tier::Province,
                "",
                "420000",
                30.6500,
                114.1300,
            )
        },
        DepotDraft {
            address: "湖北省十堰市茅箭区".into(),
            operating_unit: "十堰市应急管理局".into(),
            ..depot(
                CITY,
                "十堰市应急物资储备中心",
                Tier::City,
                ROOT,
                "420300",
                32.6292,
                110.7980,
            )
        },
    ];
    for c in &COUNTIES {
        let code = format!("{CITY}-{}", c.suffix);
        out.push(DepotDraft {
            address: format!("湖北省十堰市{}", c.name),
            operating_unit: format!("{}应急管理局", c.name),
            ..depot(
                &code,
                &format!("{}应急物资储备库", c.name),
                Tier::County,
                CITY,
                c.division,
                c.lat,
                c.lon,
            )
        });
        for (suffix, name, number, dlat, dlon) in c.towns {
            out.push(DepotDraft {
                address: format!("湖北省十堰市{}{}", c.name, name),
                operating_unit: format!("{name}人民政府"),
                ..depot(
                    &format!("{code}-{suffix}"),
                    &format!("{}{}应急物资储备点", c.name, name),
                    Tier::Township,
                    &code,
                    &format!("{}{}", c.division, number),
                    c.lat + dlat,
                    c.lon + dlon,
                )
            });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn item(
    id: &str,
    code: &str,
    name: &str,
    spec: &str,
    unit: &str,
    serial: bool,
    shelf: i32,
    near: Option<i32>,
    upkeep: i32,
    recoverable: bool,
    leasable: bool,
    value_yuan: i64,
    volume_cm3: i64,
) -> ItemDraft {
    ItemDraft {
        id: id.into(),
        code: code.into(),
        name: name.into(),
        specification: spec.into(),
        unit: unit.into(),
        tracking: if serial { 2 } else { 1 },
        shelf_life_days: shelf,
        quality_test_interval_days: if shelf == 0 && !serial { 1095 } else { 0 },
        near_expiry_days: near,
        upkeep_interval_days: upkeep,
        recoverable,
        leasable,
        unit_value_fen: value_yuan * 100,
        volume_per_unit_cm3: volume_cm3,
    }
}

/// The demo catalogue.
pub fn demo_items() -> Vec<ItemDraft> {
    vec![
        item(
            "tent-12m2",
            "1010101",
            "救灾帐篷",
            "12平方米 单帐篷",
            "顶",
            false,
            0,
            None,
            365,
            true,
            true,
            1_800,
            180_000,
        ),
        item(
            "tent-36m2",
            "1010102",
            "救灾帐篷",
            "36平方米 棉帐篷",
            "顶",
            false,
            0,
            None,
            365,
            true,
            true,
            5_200,
            450_000,
        ),
        item(
            "tarpaulin",
            "1010201",
            "防雨篷布",
            "6米×8米",
            "张",
            false,
            0,
            None,
            0,
            false,
            false,
            160,
            20_000,
        ),
        item(
            "quilt-cotton",
            "1020101",
            "棉被",
            "2.0米×2.3米 3公斤",
            "床",
            false,
            1825,
            Some(180),
            365,
            false,
            false,
            260,
            60_000,
        ),
        item(
            "quilt-summer",
            "1020102",
            "夏凉被",
            "2.0米×2.3米",
            "床",
            false,
            1825,
            Some(180),
            365,
            false,
            false,
            120,
            30_000,
        ),
        item(
            "bed-folding",
            "1030101",
            "折叠床",
            "1.9米×0.7米 钢架",
            "张",
            false,
            0,
            None,
            365,
            true,
            true,
            210,
            80_000,
        ),
        item(
            "coat-cotton",
            "1040101",
            "棉大衣",
            "军绿 均码",
            "件",
            false,
            1825,
            Some(180),
            365,
            false,
            false,
            180,
            25_000,
        ),
        item(
            "family-kit",
            "1050101",
            "家庭应急包",
            "3人份 72小时",
            "箱",
            false,
            1095,
            None,
            0,
            false,
            false,
            300,
            40_000,
        ),
        item(
            "water-bottled",
            "1060101",
            "瓶装饮用水",
            "550毫升×24瓶",
            "箱",
            false,
            365,
            Some(60),
            0,
            false,
            false,
            30,
            15_000,
        ),
        item(
            "food-instant",
            "1060201",
            "方便食品",
            "压缩干粮 5公斤",
            "箱",
            false,
            540,
            Some(60),
            0,
            false,
            false,
            150,
            12_000,
        ),
        item(
            "generator-5kw",
            "2010101",
            "汽油发电机组",
            "5千瓦 单相",
            "台",
            true,
            0,
            None,
            21,
            true,
            true,
            6_500,
            350_000,
        ),
        item(
            "lighting-tower",
            "2010201",
            "移动照明灯组",
            "4×500瓦 升降式",
            "台",
            true,
            0,
            None,
            30,
            true,
            true,
            12_000,
            900_000,
        ),
        item(
            "pump-drainage",
            "2020101",
            "排涝泵",
            "潜水泵 200立方米/小时",
            "台",
            true,
            0,
            None,
            90,
            true,
            true,
            18_000,
            500_000,
        ),
        item(
            "life-jacket",
            "2030101",
            "救生衣",
            "成人 浮力≥113牛",
            "件",
            false,
            1825,
            Some(180),
            365,
            true,
            false,
            120,
            15_000,
        ),
        item(
            "sandbag",
            "3010101",
            "防汛编织袋",
            "50厘米×80厘米",
            "条",
            false,
            1095,
            Some(180),
            0,
            false,
            false,
            2,
            500,
        ),
    ]
}

/// Reserve norms of the demo network: (depot code, item id, minimum, target).
pub fn demo_norms() -> Vec<(String, &'static str, i64, i64)> {
    let mut out = vec![
        (CITY.to_string(), "tent-12m2", 200, 400),
        (CITY.to_string(), "tent-36m2", 50, 100),
        (CITY.to_string(), "quilt-cotton", 3_000, 6_000),
        (CITY.to_string(), "quilt-summer", 3_000, 6_000),
        (CITY.to_string(), "bed-folding", 3_000, 6_000),
        (CITY.to_string(), "family-kit", 1_000, 2_000),
        (CITY.to_string(), "generator-5kw", 10, 20),
        (CITY.to_string(), "lighting-tower", 4, 8),
        (CITY.to_string(), "pump-drainage", 6, 12),
        (CITY.to_string(), "sandbag", 50_000, 100_000),
    ];
    for c in &COUNTIES {
        let code = format!("{CITY}-{}", c.suffix);
        out.push((code.clone(), "tent-12m2", 50, 100));
        out.push((code.clone(), "quilt-cotton", 500, 1_000));
        out.push((code.clone(), "bed-folding", 300, 600));
        out.push((code.clone(), "water-bottled", 200, 500));
        out.push((code.clone(), "life-jacket", 100, 200));
        out.push((code.clone(), "generator-5kw", 2, 4));
        out.push((code, "sandbag", 10_000, 20_000));
    }
    out
}

fn seeder() -> Principal {
    Principal {
        subject: "system:seed-demo".into(),
        name: "演示数据".into(),
        roles: [Role::Admin].into_iter().collect(),
        scope: DepotCode::from_stored(ROOT.into()),
    }
}

fn meta(what: &str, now: UtcMillis) -> anyhow::Result<WriteMeta> {
    Ok(WriteMeta {
        actor: seeder(),
        request_id: RequestId::parse(&format!("seed-demo/{what}")).map_err(anyhow::Error::msg)?,
        method: "reserve-server seed-demo".into(),
        request_hash: what.into(),
        now,
    })
}

/// What seeding added.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Depots created.
    pub depots: usize,
    /// Items created.
    pub items: usize,
    /// Norms set.
    pub norms: usize,
    /// Stock receipts posted to the ledger (one lot each).
    pub receipts: usize,
    /// Units those receipts brought in, serial-numbered ones included.
    pub units: i64,
    /// Serial-numbered assets among them (generators, pumps, lighting).
    pub assets: usize,
}

/// Adds whatever of the demo network and its stock is missing.
pub async fn seed_demo(store: &Store, now: UtcMillis) -> anyhow::Result<Seeded> {
    let mut seeded = seed_demo_network(store, now).await?;
    stock::seed_stock(store, now, &mut seeded).await?;
    Ok(seeded)
}

/// Adds whatever of the demo network — depots, items, norms — is missing,
/// and no stock: for callers that want empty depots.
pub async fn seed_demo_network(store: &Store, now: UtcMillis) -> anyhow::Result<Seeded> {
    let mut seeded = Seeded::default();
    for draft in demo_depots() {
        let new = NewDepot::parse(&draft)
            .map_err(|v| anyhow::anyhow!("demo depot {}: {v}", draft.code))?;
        if store.get_depot(&new.code).await?.is_some() {
            continue;
        }
        let code = new.code.clone();
        store
            .create_depot(&meta(&format!("depot/{code}"), now)?, new)
            .await
            .with_context(|| format!("creating demo depot {code}"))?;
        seeded.depots += 1;
    }
    let owner = DepotCode::from_stored(CITY.into());
    for draft in demo_items() {
        let new =
            NewItem::parse(&draft).map_err(|v| anyhow::anyhow!("demo item {}: {v}", draft.id))?;
        if store.get_item(&new.id).await?.is_some() {
            continue;
        }
        let id = new.id.clone();
        store
            .create_item(&meta(&format!("item/{id}"), now)?, new, owner.clone())
            .await
            .with_context(|| format!("creating demo item {id}"))?;
        seeded.items += 1;
    }
    for (depot, item, min, target) in demo_norms() {
        let norm = NewNorm::parse(&depot, item, min, target)
            .map_err(|v| anyhow::anyhow!("demo norm: {v}"))?;
        let key = format!("norm/{depot}/{item}");
        let w = store
            .set_norm(&meta(&key, now)?, norm, None)
            .await
            .with_context(|| format!("setting demo norm {key}"))?;
        if !w.replayed {
            seeded.norms += 1;
        }
    }
    Ok(seeded)
}
