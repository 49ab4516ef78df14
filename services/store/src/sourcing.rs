//! What proposals and readiness read: every active depot's available units
//! of an item per lot (not expired, neither reserved nor held) with its
//! reserve minimum and place, and the live enterprise agreements covering
//! it. One query per item over the whole network.

use crate::db::Store;
use crate::enterprise::live_offers;
use crate::error::OpError;
use crate::error::StoreError;
use reserve_core::allocation::AllocationError;
use reserve_core::depot::{DepotCode, DepotPath, DepotStatus, GeoPoint};
use reserve_core::item::ItemId;
use reserve_core::sourcing::{
    AgreementOffer, Ask, DepotOffer, Destination, ItemOffers, LotAvailable, ProposedLine, Request,
    TravelModel, propose,
};
use reserve_core::stock::{Day, LotNumber};
use reserve_core::tier::Tier;
use reserve_core::time::UtcMillis;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// A depot as proposals and readiness place it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedDepot {
    /// Code.
    pub code: DepotCode,
    /// Name.
    pub name: String,
    /// Tier.
    pub tier: Tier,
    /// Path.
    pub path: DepotPath,
    /// Where.
    pub point: GeoPoint,
}

/// A depot's offer before own-subtree marking: the offer and its path.
#[derive(Clone, Debug)]
pub struct RawOffer {
    /// The offer (own = false).
    pub offer: DepotOffer,
    /// The depot's path.
    pub path: DepotPath,
}

/// What the network offers of each item, and live agreements.
#[derive(Clone, Debug, Default)]
pub struct NetworkOffers {
    /// Per item: depot offers with their paths, and agreements.
    pub items: BTreeMap<ItemId, (Vec<RawOffer>, Vec<AgreementOffer>)>,
}

impl NetworkOffers {
    /// The offers of `item`, own subtree marked by `own` (a path prefix),
    /// depots kept only when `keep` says so.
    pub fn for_item(
        &self,
        item: &ItemId,
        own: Option<&DepotPath>,
        keep: impl Fn(&DepotPath) -> bool,
        with_agreements: bool,
    ) -> ItemOffers {
        let Some((depots, agreements)) = self.items.get(item) else {
            return ItemOffers::default();
        };
        ItemOffers {
            depots: depots
                .iter()
                .filter(|r| keep(&r.path))
                .map(|r| DepotOffer {
                    own: own.is_some_and(|o| o.covers(&r.path)),
                    ..r.offer.clone()
                })
                .collect(),
            agreements: if with_agreements {
                agreements.clone()
            } else {
                Vec::new()
            },
        }
    }
}

/// Every active depot of the network, with its place.
pub(crate) async fn placed_in(conn: &mut AnyConnection) -> Result<Vec<PlacedDepot>, StoreError> {
    let rows: Vec<(String, String, i64, String, f64, f64)> = sqlx::query_as(
        "SELECT code, name, tier, path, latitude, longitude FROM depots WHERE status = $1 ORDER BY code",
    )
    .bind(DepotStatus::Active.number())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(code, name, tier, path, lat, lon)| {
            Ok(PlacedDepot {
                tier: Tier::from_number(tier)
                    .ok_or_else(|| StoreError::Corrupt(format!("depot {code}: tier")))?,
                code: DepotCode::from_stored(code),
                name,
                path: DepotPath::from_stored(path),
                point: GeoPoint {
                    latitude: lat,
                    longitude: lon,
                },
            })
        })
        .collect()
}

/// What the network offers of `items` on `today`, read on `conn`.
pub(crate) async fn offers_in(
    conn: &mut AnyConnection,
    items: &[ItemId],
    today: Day,
) -> Result<NetworkOffers, StoreError> {
    let mut out = NetworkOffers::default();
    for item in items {
        let depots = depot_offers(conn, item, today).await?;
        let agreements = live_offers(conn, item.as_str(), today)
            .await?
            .into_iter()
            .map(|(a, left, point)| AgreementOffer {
                agreement: a.id.clone(),
                company: a.company.clone(),
                kind: a.kind,
                remaining: left,
                response_hours: a.response_hours,
                depot: a.depot.clone(),
                point,
            })
            .collect();
        out.items.insert(item.clone(), (depots, agreements));
    }
    Ok(out)
}

/// The path of `place`'s ancestor at `level` (its own path at or above it).
pub fn ancestor_path(place: &PlacedDepot, level: Tier) -> DepotPath {
    let codes = place.path.codes();
    let depth = match level {
        Tier::Province => 1,
        Tier::City => 2,
        Tier::County => 3,
        Tier::Township => 4,
    };
    let keep = depth.min(codes.len()).max(1);
    let mut p = DepotPath::root(&DepotCode::from_stored(
        codes.first().map(|c| c.to_string()).unwrap_or_default(),
    ));
    for c in codes.iter().take(keep).skip(1) {
        p = p.child(&DepotCode::from_stored((*c).to_string()));
    }
    p
}

/// The own subtree of a depot: its county above a township, else itself.
pub fn own_root(d: &PlacedDepot) -> DepotPath {
    match d.tier {
        Tier::Township => ancestor_path(d, Tier::County),
        _ => d.path.clone(),
    }
}

/// Plans `ask` on `conn` at `now`: the destination resolved among active
/// depots, every item known, the network read, core decides. Returns the
/// lines and the own subtree's root depot.
pub(crate) async fn propose_in(
    conn: &mut AnyConnection,
    ask: &Ask,
    travel: TravelModel,
    now: UtcMillis,
) -> Result<(Vec<ProposedLine>, DepotCode), OpError<AllocationError>> {
    let network = placed_in(conn).await?;
    let find = |code: &DepotCode| {
        network
            .iter()
            .find(|d| &d.code == code)
            .ok_or_else(|| OpError::Rule(AllocationError::DepotNotFound(code.to_string())))
    };
    let (point, depot, own) = match &ask.destination {
        Destination::Depot(code) => {
            let d = find(code)?;
            (d.point, Some(code.clone()), own_root(d))
        }
        Destination::Site { point, command } => (*point, None, own_root(find(command)?)),
    };
    let items: Vec<ItemId> = ask.needs.iter().map(|n| n.item.clone()).collect();
    for item in &items {
        if crate::catalog::load_item(conn, item.as_str())
            .await?
            .is_none()
        {
            return Err(OpError::Rule(AllocationError::ItemNotFound(
                item.to_string(),
            )));
        }
    }
    let offered = offers_in(conn, &items, Day::today(now)).await?;
    let offers: Vec<(ItemId, ItemOffers)> = items
        .iter()
        .map(|i| (i.clone(), offered.for_item(i, Some(&own), |_| true, true)))
        .collect();
    let req = Request {
        destination: point,
        destination_depot: depot,
        needs: ask.needs.clone(),
        emergency: ask.emergency,
        nearest_first: false,
        travel,
        now,
    };
    let root = own
        .codes()
        .last()
        .map(|c| DepotCode::from_stored((*c).to_string()))
        .unwrap_or_else(|| DepotCode::from_stored(String::new()));
    Ok((propose(&req, &offers), root))
}

impl Store {
    /// Plans `ask` over one read snapshot of the network.
    pub async fn propose(
        &self,
        ask: &Ask,
        travel: TravelModel,
        now: UtcMillis,
    ) -> Result<(Vec<ProposedLine>, DepotCode), OpError<AllocationError>> {
        let mut snapshot = self.begin_snapshot().await?;
        let out = propose_in(&mut snapshot, ask, travel, now).await;
        snapshot.rollback().await?;
        out
    }

    /// Every active depot of the network, with its place.
    pub async fn placed_depots(&self) -> Result<Vec<PlacedDepot>, StoreError> {
        let mut c = self.reader().acquire().await?;
        placed_in(&mut c).await
    }

    /// What the network offers of `items` on `today`: one read snapshot.
    pub async fn network_offers(
        &self,
        items: &[ItemId],
        today: Day,
    ) -> Result<NetworkOffers, StoreError> {
        let mut snapshot = self.begin_snapshot().await?;
        let out = offers_in(&mut snapshot, items, today).await;
        snapshot.rollback().await?;
        out
    }
}

async fn depot_offers(
    conn: &mut AnyConnection,
    item: &ItemId,
    today: Day,
) -> Result<Vec<RawOffer>, StoreError> {
    type Row = (
        String,
        String,
        String,
        f64,
        f64,
        String,
        Option<i64>,
        i64,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT l.depot_code, d.name, d.path, d.latitude, d.longitude, t.lot_number, t.expiry_day, \
         l.on_hand - l.reserved - l.held, \
         CAST(COALESCE((SELECT n.minimum FROM reserve_norms n WHERE n.depot_code = l.depot_code \
              AND n.item_id = l.item_id), 0) AS BIGINT) \
         FROM stock_lines l JOIN depots d ON d.code = l.depot_code JOIN lots t ON t.id = l.lot_id \
         WHERE l.item_id = $1 AND d.status = $2 AND l.on_hand - l.reserved - l.held > 0 \
         AND (t.expiry_day IS NULL OR t.expiry_day > $3) \
         ORDER BY l.depot_code, COALESCE(t.expiry_day, 9223372036854775807), t.production_day, t.created_at, t.lot_number",
    )
    .bind(item.as_str())
    .bind(DepotStatus::Active.number())
    .bind(today.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<RawOffer> = Vec::new();
    for (code, name, path, lat, lon, lot, expiry, available, minimum) in rows {
        let lot = LotAvailable {
            lot: LotNumber::from_stored(lot),
            expiry: expiry.map(Day),
            available,
        };
        match out.last_mut() {
            Some(r) if r.offer.depot.as_str() == code => r.offer.lots.push(lot),
            _ => out.push(RawOffer {
                offer: DepotOffer {
                    depot: DepotCode::from_stored(code),
                    name,
                    point: GeoPoint {
                        latitude: lat,
                        longitude: lon,
                    },
                    own: false,
                    minimum,
                    lots: vec![lot],
                },
                path: DepotPath::from_stored(path),
            }),
        }
    }
    Ok(out)
}
