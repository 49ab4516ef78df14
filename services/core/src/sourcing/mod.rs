//! Sourcing proposals: where a need is met fastest without stripping any
//! depot below its reserve minimum (unless the order is an emergency),
//! the destination's own subtree first, lots first-expired-first-out, split
//! across depots where one is not enough, with agreement and capacity
//! reserves as the fallback and what cannot be met reported.
//!
//! [`propose`] is pure: the store loads what each depot has available of
//! each item and the live agreements; this decides.

pub mod readiness;
pub mod travel;

pub use travel::{TravelModel, distance_km, hours_ms};

use crate::depot::{DepotCode, GeoPoint};
use crate::item::ItemId;
use crate::stock::{Day, LotNumber};
use crate::time::UtcMillis;
use serde::{Deserialize, Serialize};

/// The most needs one proposal answers.
pub const MAX_NEEDS: usize = 200;

/// One item needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// Item.
    pub item: ItemId,
    /// Units.
    pub quantity: i64,
}

/// Units of one lot a depot can give now (not expired, neither reserved
/// nor held).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotAvailable {
    /// Lot number.
    pub lot: LotNumber,
    /// Expiry.
    pub expiry: Option<Day>,
    /// Units.
    pub available: i64,
}

/// What one depot holds of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepotOffer {
    /// Depot.
    pub depot: DepotCode,
    /// Its name.
    pub name: String,
    /// Where it is.
    pub point: GeoPoint,
    /// Whether it is in the destination's own subtree.
    pub own: bool,
    /// Its reserve minimum of the item (0: none).
    pub minimum: i64,
    /// Its lots, first-expired-first-out.
    pub lots: Vec<LotAvailable>,
}

/// Kind of enterprise reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReserveKind {
    /// Stock a company keeps for the bureau (协议储备).
    Agreement,
    /// A company's commitment to produce (产能储备).
    Capacity,
}

/// What an enterprise agreement can still give of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgreementOffer {
    /// Agreement id.
    pub agreement: String,
    /// Company.
    pub company: String,
    /// Kind.
    pub kind: ReserveKind,
    /// Units committed and not yet called off.
    pub remaining: i64,
    /// Hours the company has to deliver after a call-off.
    pub response_hours: f64,
    /// The depot whose tier owns the agreement (deliveries arrive there).
    pub depot: DepotCode,
    /// Where that depot is.
    pub point: GeoPoint,
}

/// Everything offered of one item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemOffers {
    /// Depots holding it.
    pub depots: Vec<DepotOffer>,
    /// Live agreements covering it.
    pub agreements: Vec<AgreementOffer>,
}

/// What a proposal is asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Where the units go.
    pub destination: GeoPoint,
    /// The destination depot, which never sources itself.
    pub destination_depot: Option<DepotCode>,
    /// What is needed.
    pub needs: Vec<Need>,
    /// Whether reserve minimums may be broken.
    pub emergency: bool,
    /// How travel is estimated.
    pub travel: TravelModel,
    /// Now.
    pub now: UtcMillis,
}

/// Units one depot gives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceTake {
    /// Depot.
    pub depot: DepotCode,
    /// Its name.
    pub name: String,
    /// In the destination's own subtree.
    pub own: bool,
    /// Units per lot, first-expired-first-out.
    pub lots: Vec<(LotNumber, i64)>,
    /// Units in all.
    pub quantity: i64,
    /// Of those, units below the depot's reserve minimum (emergency only).
    pub below_minimum: i64,
    /// Road kilometres.
    pub road_km: f64,
    /// Hours on the road, handling included.
    pub hours: f64,
    /// Estimated arrival.
    pub arrival: UtcMillis,
}

/// Units an enterprise reserve would give.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgreementTake {
    /// Agreement id.
    pub agreement: String,
    /// Company.
    pub company: String,
    /// Kind.
    pub kind: ReserveKind,
    /// Units.
    pub quantity: i64,
    /// Response plus travel hours.
    pub hours: f64,
    /// Estimated arrival.
    pub arrival: UtcMillis,
}

/// The plan for one need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposedLine {
    /// Item.
    pub item: ItemId,
    /// Units needed.
    pub needed: i64,
    /// Depots, in the order they are used.
    pub sources: Vec<SourceTake>,
    /// Enterprise reserves for what depots cannot give.
    pub agreements: Vec<AgreementTake>,
    /// Units nobody can give.
    pub unmet: i64,
}

impl ProposedLine {
    /// When the last unit arrives, if any arrive.
    pub fn complete_at(&self) -> Option<UtcMillis> {
        self.sources
            .iter()
            .map(|s| s.arrival)
            .chain(self.agreements.iter().map(|a| a.arrival))
            .max()
    }
}

/// Plans every need: depots ranked own subtree first, then by travel
/// time (ties by code); each gives its units above its minimum, lots
/// first-expired-first-out; an emergency then takes the units below the
/// minimums in the same order; enterprise reserves (fastest first) fill
/// what is left; the rest is unmet.
pub fn propose(req: &Request, offers: &[(ItemId, ItemOffers)]) -> Vec<ProposedLine> {
    let none = ItemOffers::default();
    req.needs
        .iter()
        .map(|need| {
            let o = offers
                .iter()
                .find(|(i, _)| i == &need.item)
                .map(|(_, o)| o)
                .unwrap_or(&none);
            plan_one(req, need, o)
        })
        .collect()
}

fn plan_one(req: &Request, need: &Need, offers: &ItemOffers) -> ProposedLine {
    let mut ranked: Vec<(&DepotOffer, f64, f64)> = offers
        .depots
        .iter()
        .filter(|d| req.destination_depot.as_ref() != Some(&d.depot))
        .map(|d| {
            let (km, h) = req.travel.estimate(&d.point, &req.destination);
            (d, km, h)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.own
            .cmp(&a.0.own)
            .then(a.2.total_cmp(&b.2))
            .then(a.0.depot.cmp(&b.0.depot))
    });
    let mut left = need.quantity;
    let mut takes: Vec<SourceTake> = Vec::new();
    // Pass 1: above minimums. Pass 2 (emergency): below them.
    for below in [false, true] {
        if below && !req.emergency {
            break;
        }
        for (d, km, h) in &ranked {
            if left == 0 {
                break;
            }
            let total: i64 = d.lots.iter().map(|l| l.available.max(0)).sum();
            let spare = (total - d.minimum.max(0)).max(0);
            let taken_before: i64 = takes
                .iter()
                .filter(|t| t.depot == d.depot)
                .map(|t| t.quantity)
                .sum();
            let can = if below { total - taken_before } else { spare };
            let q = can.min(left);
            if q <= 0 {
                continue;
            }
            left -= q;
            let lots = fefo(&d.lots, taken_before, q);
            match takes.iter_mut().find(|t| t.depot == d.depot) {
                Some(t) => {
                    t.quantity += q;
                    t.below_minimum += q;
                    for (lot, n) in lots {
                        match t.lots.iter_mut().find(|(l, _)| *l == lot) {
                            Some(x) => x.1 += n,
                            None => t.lots.push((lot, n)),
                        }
                    }
                }
                None => takes.push(SourceTake {
                    depot: d.depot.clone(),
                    name: d.name.clone(),
                    own: d.own,
                    lots,
                    quantity: q,
                    below_minimum: if below { q } else { 0 },
                    road_km: *km,
                    hours: *h,
                    arrival: req.now.saturating_add(hours_ms(*h)),
                }),
            }
        }
    }
    let mut agreements = Vec::new();
    let mut ranked_agreements: Vec<(&AgreementOffer, f64)> = offers
        .agreements
        .iter()
        .map(|a| {
            let (_, h) = req.travel.estimate(&a.point, &req.destination);
            (a, a.response_hours + h)
        })
        .collect();
    ranked_agreements.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.agreement.cmp(&b.0.agreement)));
    for (a, h) in ranked_agreements {
        if left == 0 {
            break;
        }
        let q = a.remaining.max(0).min(left);
        if q == 0 {
            continue;
        }
        left -= q;
        agreements.push(AgreementTake {
            agreement: a.agreement.clone(),
            company: a.company.clone(),
            kind: a.kind,
            quantity: q,
            hours: h,
            arrival: req.now.saturating_add(hours_ms(h)),
        });
    }
    ProposedLine {
        item: need.item.clone(),
        needed: need.quantity,
        sources: takes,
        agreements,
        unmet: left,
    }
}

/// `q` units from `lots` (first-expired-first-out), after the first `skip`
/// units already taken.
fn fefo(lots: &[LotAvailable], skip: i64, q: i64) -> Vec<(LotNumber, i64)> {
    let mut skip = skip;
    let mut q = q;
    let mut out = Vec::new();
    for l in lots {
        let mut a = l.available.max(0);
        let s = skip.min(a);
        skip -= s;
        a -= s;
        let n = a.min(q);
        if n > 0 {
            out.push((l.lot.clone(), n));
            q -= n;
        }
        if q == 0 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests;
