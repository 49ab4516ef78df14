//! Readiness (战备): how soon a standard relief kit for N people could reach
//! a place from its county, its city and the province, against the
//! first-batch targets of the 2024 guideline (county 6 h, city 8 h,
//! province 10 h), and from enterprise reserves.
//!
//! The default kit, per 100 people displaced (a household is about three
//! people), follows the 民政部 relief-item standards as the bureau applies
//! them for the first 72 hours (a first batch, before local supply
//! resumes):
//!
//! | item | per 100 people | why |
//! |---|---|---|
//! | `tent-12m2` | 25 | a 12 m² tent shelters one household of four |
//! | `quilt-cotton` | 100 | one quilt each |
//! | `bed-folding` | 100 | one bed each |
//! | `water-bottled` | 50 | cases of 24 × 550 ml: 2.2 l of drinking water a person a day for three days |
//! | `food-instant` | 50 | cases of 24 servings: four servings a person a day for three days |
//! | `family-kit` | 30 | one household kit per household |
//!
//! A deployment replaces it with its own (`--kit FILE`, JSON).

use super::{ItemOffers, Need, Request, TravelModel, propose};
use crate::depot::{DepotCode, GeoPoint};
use crate::item::ItemId;
use crate::tier::Tier;
use serde::{Deserialize, Serialize};

/// One item of a kit: units per 100 people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KitItem {
    /// Item.
    pub item: ItemId,
    /// Units per 100 people.
    pub per_hundred: i64,
}

/// A standard relief kit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kit {
    /// Its items.
    pub items: Vec<KitItem>,
}

impl Default for Kit {
    fn default() -> Self {
        let item = |id: &str, per_hundred| KitItem {
            item: ItemId::from_stored(id.into()),
            per_hundred,
        };
        Kit {
            items: vec![
                item("tent-12m2", 25),
                item("quilt-cotton", 100),
                item("bed-folding", 100),
                item("water-bottled", 50),
                item("food-instant", 50),
                item("family-kit", 30),
            ],
        }
    }
}

impl Kit {
    /// Units of each item for `people`, rounded up.
    pub fn needs(&self, people: i64) -> Vec<Need> {
        self.items
            .iter()
            .map(|k| Need {
                item: k.item.clone(),
                quantity: (k.per_hundred.saturating_mul(people) + 99) / 100,
            })
            .collect()
    }
}

/// The first-batch target of a level, hours.
pub fn target_hours(level: Tier) -> f64 {
    match level {
        Tier::Township | Tier::County => 6.0,
        Tier::City => 8.0,
        Tier::Province => 10.0,
    }
}

/// How soon the kit arrives from one level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelReadiness {
    /// The level whose stock counts.
    pub level: Tier,
    /// Its target, hours.
    pub target_hours: f64,
    /// Hours until the whole kit is there, if it can be.
    pub arrival_hours: Option<f64>,
    /// The item that arrives last, or cannot be met.
    pub binding: Option<ItemId>,
    /// Units of the binding item nobody at this level can give.
    pub unmet: i64,
}

impl LevelReadiness {
    /// Whether the kit arrives within the target.
    pub fn met(&self) -> bool {
        self.arrival_hours.is_some_and(|h| h <= self.target_hours)
    }
}

/// Hours until the whole of `needs` arrives at `place` from `offers` (one
/// per need, in order), taking any unit (an emergency), the nearest first;
/// or the binding item and what is missing when it cannot.
pub fn arrival(
    place: &GeoPoint,
    needs: &[Need],
    offers: &[(ItemId, ItemOffers)],
    travel: TravelModel,
) -> LevelOutcome {
    let req = Request {
        destination: *place,
        destination_depot: None,
        needs: needs.to_vec(),
        emergency: true,
        nearest_first: true,
        travel,
        now: 0,
    };
    let mut worst: Option<(f64, ItemId)> = None;
    for line in propose(&req, offers) {
        if line.unmet > 0 {
            return LevelOutcome::Short {
                item: line.item,
                unmet: line.unmet,
            };
        }
        let hours = line
            .sources
            .iter()
            .map(|s| s.hours)
            .chain(line.agreements.iter().map(|a| a.hours))
            .fold(0.0_f64, f64::max);
        if worst.as_ref().is_none_or(|(h, _)| hours > *h) {
            worst = Some((hours, line.item));
        }
    }
    match worst {
        Some((hours, item)) => LevelOutcome::Arrives { hours, item },
        None => LevelOutcome::Arrives {
            hours: 0.0,
            item: ItemId::from_stored(String::new()),
        },
    }
}

/// What one level can do.
#[derive(Clone, Debug, PartialEq)]
pub enum LevelOutcome {
    /// The whole kit arrives after `hours`; `item` comes last.
    Arrives {
        /// Hours.
        hours: f64,
        /// The last item.
        item: ItemId,
    },
    /// `item` cannot be met by `unmet` units.
    Short {
        /// The item.
        item: ItemId,
        /// Units missing.
        unmet: i64,
    },
}

impl LevelOutcome {
    /// As a level's readiness.
    pub fn at(self, level: Tier) -> LevelReadiness {
        match self {
            LevelOutcome::Arrives { hours, item } => LevelReadiness {
                level,
                target_hours: target_hours(level),
                arrival_hours: Some(hours),
                binding: Some(item).filter(|i| !i.as_str().is_empty()),
                unmet: 0,
            },
            LevelOutcome::Short { item, unmet } => LevelReadiness {
                level,
                target_hours: target_hours(level),
                arrival_hours: None,
                binding: Some(item),
                unmet,
            },
        }
    }
}

/// The readiness of one place.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceReadiness {
    /// Depot.
    pub depot: DepotCode,
    /// Name.
    pub name: String,
    /// Tier.
    pub tier: Tier,
    /// From its county, city and province.
    pub levels: Vec<LevelReadiness>,
    /// From enterprise reserves alone, hours.
    pub agreement_hours: Option<f64>,
}

impl PlaceReadiness {
    /// Whether every level meets its target.
    pub fn met(&self) -> bool {
        self.levels.iter().all(LevelReadiness::met)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sourcing::{DepotOffer, LotAvailable};
    use crate::stock::LotNumber;

    fn p(latitude: f64, longitude: f64) -> GeoPoint {
        GeoPoint {
            latitude,
            longitude,
        }
    }

    #[test]
    fn a_kit_scales_with_people_rounding_up() {
        let n = Kit::default().needs(1000);
        assert_eq!(n[0].quantity, 250);
        assert_eq!(n[1].quantity, 1000);
        assert_eq!(Kit::default().needs(1)[0].quantity, 1);
    }

    #[test]
    fn the_kit_arrives_when_its_slowest_item_does_and_a_missing_item_binds() {
        let here = p(32.0, 110.0);
        let offer = |code: &str, at: GeoPoint, n: i64| DepotOffer {
            depot: DepotCode::from_stored(code.into()),
            name: code.into(),
            point: at,
            own: false,
            minimum: 1_000_000,
            lots: vec![LotAvailable {
                lot: LotNumber::from_stored("L".into()),
                expiry: None,
                available: n,
            }],
        };
        let needs = vec![
            Need {
                item: ItemId::from_stored("tent".into()),
                quantity: 10,
            },
            Need {
                item: ItemId::from_stored("quilt".into()),
                quantity: 40,
            },
        ];
        let offers = vec![
            (
                ItemId::from_stored("tent".into()),
                ItemOffers {
                    depots: vec![offer("A", p(32.1, 110.0), 10)],
                    agreements: vec![],
                },
            ),
            (
                ItemId::from_stored("quilt".into()),
                ItemOffers {
                    depots: vec![
                        offer("A", p(32.1, 110.0), 30),
                        offer("B", p(32.9, 110.0), 30),
                    ],
                    agreements: vec![],
                },
            ),
        ];
        let travel = TravelModel::default();
        // Quilts need B too (minimums are broken: this is an emergency), so
        // they bind: 0.9° at 111.2 km/°, ×1.6, ÷40 km/h, +1 h.
        let LevelOutcome::Arrives { hours, item } = arrival(&here, &needs, &offers, travel) else {
            panic!("expected an arrival");
        };
        assert_eq!(item.as_str(), "quilt");
        let by_hand = 0.9 * 111.195 * 1.6 / 40.0 + 1.0;
        assert!((hours - by_hand).abs() < 0.01, "{hours} vs {by_hand}");
        let r = LevelOutcome::Arrives { hours, item }.at(Tier::County);
        assert!(r.met(), "{r:?}");
        let short = arrival(
            &here,
            &[Need {
                item: ItemId::from_stored("quilt".into()),
                quantity: 61,
            }],
            &offers,
            travel,
        );
        assert_eq!(
            short,
            LevelOutcome::Short {
                item: ItemId::from_stored("quilt".into()),
                unmet: 1
            }
        );
        assert!(!short.at(Tier::City).met());
    }

    #[test]
    fn readiness_counts_the_nearest_units_even_below_their_minimum() {
        // C beside the place holds exactly its minimum; far away there is spare.
        let here = p(32.0, 110.0);
        let offer = |code: &str, at: GeoPoint, n: i64, minimum: i64| DepotOffer {
            depot: DepotCode::from_stored(code.into()),
            name: code.into(),
            point: at,
            own: false,
            minimum,
            lots: vec![LotAvailable {
                lot: LotNumber::from_stored("L".into()),
                expiry: None,
                available: n,
            }],
        };
        let offers = vec![(
            ItemId::from_stored("quilt".into()),
            ItemOffers {
                depots: vec![
                    offer("C", p(32.01, 110.0), 1_000, 1_000),
                    offer("FAR", p(34.0, 110.0), 5_000, 0),
                ],
                agreements: vec![],
            },
        )];
        let needs = vec![Need {
            item: ItemId::from_stored("quilt".into()),
            quantity: 1_000,
        }];
        let LevelOutcome::Arrives { hours, .. } =
            arrival(&here, &needs, &offers, TravelModel::default())
        else {
            panic!("expected an arrival");
        };
        assert!(
            hours < 1.1,
            "{hours}: the units beside the place count first"
        );
    }
}
