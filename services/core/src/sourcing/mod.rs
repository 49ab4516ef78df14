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
use std::collections::BTreeMap;

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
    /// Readiness: the nearest units first, whatever their depot's minimum
    /// or subtree (how soon could the kit arrive at all).
    pub nearest_first: bool,
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
        let own = if req.nearest_first {
            std::cmp::Ordering::Equal
        } else {
            b.0.own.cmp(&a.0.own)
        };
        own.then(a.2.total_cmp(&b.2))
            .then(a.0.depot.cmp(&b.0.depot))
    });
    let mut left = need.quantity;
    let mut takes: Vec<SourceTake> = Vec::new();
    // Where each depot's take sits in `takes`.
    let mut at: BTreeMap<&DepotCode, usize> = BTreeMap::new();
    // The order depots are used in: nearest first for readiness (any unit
    // counts); otherwise the own subtree, then the rest, each giving its
    // spare units first and, in an emergency, then those below minimums.
    let passes: Vec<(Option<bool>, bool)> = if req.nearest_first {
        vec![(None, true)]
    } else if req.emergency {
        vec![
            (Some(true), false),
            (Some(true), true),
            (Some(false), false),
            (Some(false), true),
        ]
    } else {
        vec![(Some(true), false), (Some(false), false)]
    };
    for (group, below) in passes {
        for (d, km, h) in ranked
            .iter()
            .filter(|(d, ..)| group.is_none_or(|own| d.own == own))
        {
            if left == 0 {
                break;
            }
            let total: i64 = d.lots.iter().map(|l| l.available.max(0)).sum();
            let taken_before = at.get(&d.depot).map(|k| takes[*k].quantity).unwrap_or(0);
            let limit = if below {
                total
            } else {
                (total - d.minimum.max(0)).max(0)
            };
            let q = (limit - taken_before).max(0).min(left);
            if q == 0 {
                continue;
            }
            left -= q;
            let below_minimum = if below {
                (taken_before + q - (total - d.minimum.max(0)).max(0)).clamp(0, q)
            } else {
                0
            };
            let lots = fefo(&d.lots, taken_before, q);
            match at.get(&d.depot) {
                Some(k) => {
                    let t = &mut takes[*k];
                    t.quantity += q;
                    t.below_minimum += below_minimum;
                    for (lot, n) in lots {
                        match t.lots.iter_mut().find(|(l, _)| *l == lot) {
                            Some(x) => x.1 += n,
                            None => t.lots.push((lot, n)),
                        }
                    }
                }
                None => {
                    at.insert(&d.depot, takes.len());
                    takes.push(SourceTake {
                        depot: d.depot.clone(),
                        name: d.name.clone(),
                        own: d.own,
                        lots,
                        quantity: q,
                        below_minimum,
                        road_km: *km,
                        hours: *h,
                        arrival: req.now.saturating_add(hours_ms(*h)),
                    });
                }
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

/// Where a proposal delivers, as asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Destination {
    /// A depot.
    Depot(DepotCode),
    /// A site, with the command depot whose own subtree goes first.
    Site {
        /// Where.
        point: GeoPoint,
        /// The command depot.
        command: DepotCode,
    },
}

/// A proposal as asked, its fields checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ask {
    /// Where.
    pub destination: Destination,
    /// What.
    pub needs: Vec<Need>,
    /// Whether minimums may be broken.
    pub emergency: bool,
}

/// A proposal as sent: destination depot or site (latitude, longitude),
/// the command depot for a site (empty: the caller's `scope`), and needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AskDraft {
    /// Destination depot code.
    pub depot: String,
    /// Site coordinates, if a site.
    pub site: Option<(f64, f64)>,
    /// Command depot code.
    pub command: String,
    /// (item, quantity) per need.
    pub needs: Vec<(String, i64)>,
    /// Emergency.
    pub emergency: bool,
}

impl Ask {
    /// Checks every field, naming `destination_depot_code`,
    /// `destination_site`, `command_depot_code` and `needs[i]` under
    /// `prefix` (empty, or `order.` for the order's own fields).
    pub fn parse(d: &AskDraft, scope: &DepotCode, prefix: &str) -> Result<Self, crate::Violations> {
        use crate::stock::balance::MAX_QUANTITY;
        let mut v = crate::Violations::new();
        let f = |name: &str| format!("{prefix}{name}");
        let destination = match (d.depot.trim(), d.site) {
            ("", None) => {
                v.add(
                    f("destination_depot_code"),
                    "give a destination depot or a destination site",
                );
                None
            }
            (c, Some(_)) if !c.is_empty() => {
                v.add(
                    f("destination_site"),
                    "give a destination depot or a site, not both",
                );
                None
            }
            (c, None) => v
                .take(&f("destination_depot_code"), DepotCode::parse(c))
                .map(Destination::Depot),
            (_, Some((lat, lon))) => {
                let point = GeoPoint::parse_at(&f("destination_site"), lat, lon, &mut v);
                let command = match d.command.trim() {
                    "" => Some(scope.clone()),
                    c => v.take(&f("command_depot_code"), DepotCode::parse(c)),
                };
                match (point, command) {
                    (Some(point), Some(command)) => Some(Destination::Site { point, command }),
                    _ => None,
                }
            }
        };
        if d.needs.is_empty() {
            v.add("needs", "must list at least one item");
        }
        if d.needs.len() > MAX_NEEDS {
            v.add("needs", format!("must list at most {MAX_NEEDS} items"));
            return Err(v);
        }
        let mut needs: Vec<Need> = Vec::new();
        for (i, (item, q)) in d.needs.iter().enumerate() {
            let item = v.take(&format!("needs[{i}].item_id"), ItemId::parse(item.trim()));
            if !(1..=MAX_QUANTITY).contains(q) {
                v.add(
                    format!("needs[{i}].quantity"),
                    format!("must be 1 to {MAX_QUANTITY}"),
                );
            }
            if let Some(item) = item {
                if needs.iter().any(|n| n.item == item) {
                    v.add(
                        format!("needs[{i}].item_id"),
                        format!("{item} is listed twice"),
                    );
                }
                needs.push(Need { item, quantity: *q });
            }
        }
        match destination {
            Some(destination) if v.is_empty() => Ok(Ask {
                destination,
                needs,
                emergency: d.emergency,
            }),
            _ => Err(v),
        }
    }
}
