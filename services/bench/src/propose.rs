//! The sourcing benchmark: a generated province of about 1,300 depots and
//! 300 items, then `ProposeSources` over gRPC for random township needs,
//! one at a time, with latency percentiles.
//!
//! The province (the demo network plus ten generated cities of ten counties
//! of twelve townships each) and its stock are created through the store
//! exactly as an admin and depot keepers would: depots, items, norms and
//! receipts. Cities hold every item, counties a third, townships twenty.

use crate::{Served, Tally, report, serve};
use anyhow::{Context, anyhow};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use reserve_api::auth::TokenRequest;
use reserve_api::pb::reserve::v1 as pb;
use reserve_api::pb::reserve::v1::sourcing_service_client::SourcingServiceClient;
use reserve_core::authz::{Principal, Role};
use reserve_core::depot::{ContactDraft, DepotCode, DepotDraft, NewDepot};
use reserve_core::item::{ItemDraft, NewItem};
use reserve_core::norm::NewNorm;
use reserve_core::request::RequestId;
use reserve_core::stock::receipt::{Receipt, ReceiptDraft};
use reserve_core::tier::Tier;
use reserve_core::time::{Clock, SystemClock};
use reserve_store::{Store, WriteMeta};
use std::time::Instant;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

const CITIES: usize = 10;
const COUNTIES: usize = 10;
const TOWNS: usize = 12;
const ITEMS: usize = 300;

fn who(roles: &[Role], scope: &str) -> Principal {
    Principal {
        subject: format!("bench@{scope}"),
        name: "bench".into(),
        roles: roles.iter().copied().collect(),
        scope: DepotCode::from_stored(scope.to_string()),
    }
}

fn meta(p: Principal, method: &str) -> anyhow::Result<WriteMeta> {
    Ok(WriteMeta {
        actor: p,
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string())
            .map_err(anyhow::Error::msg)?,
        method: method.into(),
        request_hash: uuid::Uuid::new_v4().to_string(),
        now: SystemClock.now(),
    })
}

/// A generated depot: code, tier, parent, division, latitude, longitude.
type Gen = (String, Tier, String, String, f64, f64);

fn province() -> Vec<Gen> {
    let mut out = Vec::new();
    for c in 0..CITIES {
        let city = format!("HB-G{c:02}");
        let cdiv = format!("42{:02}00", 50 + c);
        // Cities on a grid over Hubei, 29.8-32.8 N, 109.0-115.5 E.
        let (clat, clon) = (29.8 + (c / 5) as f64 * 1.5, 109.0 + (c % 5) as f64 * 1.6);
        out.push((city.clone(), Tier::City, "HB".into(), cdiv, clat, clon));
        for k in 0..COUNTIES {
            let county = format!("{city}-K{k:02}");
            let kdiv = format!("42{:02}{:02}", 50 + c, k + 1);
            let (klat, klon) = (clat + (k / 4) as f64 * 0.3, clon + (k % 4) as f64 * 0.35);
            out.push((
                county.clone(),
                Tier::County,
                city.clone(),
                kdiv.clone(),
                klat,
                klon,
            ));
            for t in 0..TOWNS {
                out.push((
                    format!("{county}-{t:02}"),
                    Tier::Township,
                    county.clone(),
                    format!("{kdiv}{:03}", 100 + t),
                    klat + (t / 4) as f64 * 0.06 - 0.06,
                    klon + (t % 4) as f64 * 0.07 - 0.1,
                ));
            }
        }
    }
    out
}

/// Builds the province and its stock; returns the township codes.
pub async fn generate(
    store: &Store,
    rng: &mut StdRng,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    reserve_server::seed::seed_demo_network(store, SystemClock.now()).await?;
    let admin = who(&[Role::Admin], "HB");
    let gens = province();
    for (code, tier, parent, division, lat, lon) in &gens {
        let new = NewDepot::parse(&DepotDraft {
            code: code.clone(),
            name: format!("{code} 储备点"),
            tier: tier.number() as i32,
            parent_code: parent.clone(),
            division_code: division.clone(),
            latitude: *lat,
            longitude: *lon,
            address: "湖北省".into(),
            storage_area_m2: 500.0,
            operating_unit: "bench".into(),
            contacts: vec![ContactDraft {
                name: "值班室".into(),
                duty: String::new(),
                phone: "0719-12350".into(),
            }],
            ..Default::default()
        })
        .map_err(|v| anyhow!("generated depot {code}: {v}"))?;
        store
            .create_depot(&meta(admin.clone(), "bench/depot")?, new)
            .await
            .map_err(|e| anyhow!("creating {code}: {e}"))?;
    }
    let mut items = Vec::with_capacity(ITEMS);
    for i in 0..ITEMS {
        let id = format!("gen-{i:03}");
        let new = NewItem::parse(&ItemDraft {
            id: id.clone(),
            code: format!(
                "1{:02}{:02}{:02}",
                1 + i / 100 % 9,
                1 + i / 10 % 10,
                1 + i % 10
            ),
            name: format!("物资{i}"),
            unit: "件".into(),
            tracking: 1,
            quality_test_interval_days: 365,
            ..Default::default()
        })
        .map_err(|v| anyhow!("generated item {id}: {v}"))?;
        store
            .create_item(
                &meta(admin.clone(), "bench/item")?,
                new,
                DepotCode::from_stored("HB".into()),
            )
            .await
            .map_err(|e| anyhow!("creating {id}: {e}"))?;
        items.push(id);
    }
    // Stock: cities every item, counties a third with a norm, townships twenty.
    let mut receipts: Vec<(String, String, i64)> = Vec::new();
    for (code, tier, ..) in &gens {
        let (share, lo, hi) = match tier {
            Tier::City => (ITEMS, 1_000, 10_000),
            Tier::County => (ITEMS / 3, 200, 2_000),
            _ => (20, 20, 200),
        };
        for item in items.choose_multiple(rng, share) {
            receipts.push((code.clone(), item.clone(), rng.random_range(lo..hi)));
            if *tier == Tier::County && rng.random_bool(0.3) {
                let norm = NewNorm::parse(code, item, 100, 400).map_err(|v| anyhow!("{v}"))?;
                store
                    .set_norm(&meta(admin.clone(), "bench/norm")?, norm, None)
                    .await
                    .map_err(|e| anyhow!("norm: {e}"))?;
            }
        }
    }
    let started = Instant::now();
    let chunks: Vec<Vec<(String, String, i64)>> = receipts
        .chunks(receipts.len() / 8 + 1)
        .map(<[_]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for (depot, item, q) in chunk {
                let r = Receipt::parse(
                    &ReceiptDraft {
                        depot: depot.clone(),
                        item: item.clone(),
                        lot_number: format!("L-{depot}-{item}"),
                        quantity: q,
                        ..Default::default()
                    },
                    SystemClock.now(),
                )
                .map_err(|v| anyhow!("{v}"))?;
                store
                    .receive(
                        &meta(who(&[Role::DepotKeeper], &depot), "bench/receive")?,
                        r,
                    )
                    .await
                    .map_err(|e| anyhow!("receiving at {depot}: {e}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    println!(
        "generated: {} depots (with the demo network), {ITEMS} items, {} receipts in {:.0} s",
        gens.len() + reserve_server::seed::demo_depots().len(),
        receipts.len(),
        started.elapsed().as_secs_f64()
    );
    let towns = gens
        .iter()
        .filter(|g| g.1 == Tier::Township)
        .map(|g| g.0.clone())
        .collect();
    Ok((towns, items))
}

/// Runs `n` proposals over gRPC, one at a time, after `warmup` unmeasured.
pub async fn run(store: &Store, n: usize, warmup: usize) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(20_261_129);
    let (towns, items) = generate(store, &mut rng).await?;
    let Served {
        addr,
        minter,
        stop,
        server,
    } = serve(store).await?;
    let token = minter
        .mint(&TokenRequest {
            subject: "bench-dispatcher".into(),
            name: "bench".into(),
            roles: vec!["dispatcher".into()],
            scope_depot: "HB".into(),
            ttl_seconds: 3600,
        })
        .map_err(|e| anyhow!("{e}"))?;
    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let value: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut c =
        SourcingServiceClient::with_interceptor(channel, move |mut r: tonic::Request<()>| {
            r.metadata_mut().insert("authorization", value.clone());
            Ok(r)
        });
    let mut t = Tally::new()?;
    let started = Instant::now();
    let mut sources = 0usize;
    for i in 0..n + warmup {
        let to = towns.choose(&mut rng).context("no townships")?.clone();
        let needs = items
            .choose_multiple(&mut rng, 3)
            .map(|item| pb::Need {
                item_id: item.clone(),
                quantity: rng.random_range(500..5_000),
            })
            .collect();
        let start = Instant::now();
        let r = c
            .propose_sources(pb::ProposeSourcesRequest {
                destination_depot_code: to,
                needs,
                ..Default::default()
            })
            .await;
        if i >= warmup {
            match r {
                Ok(r) => {
                    t.latency
                        .record(start.elapsed().as_micros().max(1) as u64)?;
                    sources += r
                        .into_inner()
                        .lines
                        .iter()
                        .map(|l| l.sources.len())
                        .sum::<usize>();
                }
                Err(_) => t.errors += 1,
            }
        }
    }
    let secs = started.elapsed().as_secs().max(1);
    report("propose", 1, secs, vec![t])?;
    println!(
        "{:.1} sources per proposal on average (3 needs each)",
        sources as f64 / n as f64
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}
