//! `reserve.v1.SourcingService`: proposals for a need, a proposal raised as
//! a draft order, and readiness against the first-batch targets.

use crate::allocation::wire::order_pb;
use crate::context::Ctx;
use crate::error::{invalid, invalid_all, status_of, status_of_kind, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::sourcing_service_server::SourcingService;
use crate::wire::{tier, timestamp};
use reserve_core::Failure;
use reserve_core::Violations;
use reserve_core::allocation::{NewOrder, OrderDraft};
use reserve_core::authz::enterprise::proposer;
use reserve_core::authz::{Action, Principal};
use reserve_core::depot::{DepotCode, DepotPath, GeoPoint};
use reserve_core::item::ItemId;
use reserve_core::sourcing::readiness::{Kit, LevelReadiness, PlaceReadiness, arrival};
use reserve_core::sourcing::{
    ItemOffers, MAX_NEEDS, Need, ProposedLine, Request as Proposal, TravelModel, propose,
};
use reserve_core::stock::Day;
use reserve_core::stock::balance::MAX_QUANTITY;
use reserve_core::tier::Tier;
use reserve_store::sourcing::PlacedDepot;
use std::collections::BTreeMap;
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

/// How proposals estimate travel, and the standard relief kit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourcingConfig {
    /// Travel estimates.
    pub travel: TravelModel,
    /// The relief kit readiness is measured with.
    pub kit: Kit,
}

/// The sourcing service over a shared context.
#[derive(Clone, Debug)]
pub struct SourcingApi {
    ctx: Ctx,
    config: SourcingConfig,
}

/// Where a proposal delivers, and the own subtree that goes first.
struct Target {
    point: GeoPoint,
    depot: Option<DepotCode>,
    own_root: DepotPath,
}

fn needs_of(raw: &[pb::Need]) -> Result<Vec<Need>, Violations> {
    let mut v = Violations::new();
    if raw.is_empty() {
        v.add("needs", "must list at least one item");
    }
    if raw.len() > MAX_NEEDS {
        v.add("needs", format!("must list at most {MAX_NEEDS} items"));
        return Err(v);
    }
    let mut out: Vec<Need> = Vec::new();
    for (i, n) in raw.iter().enumerate() {
        let item = v.take(
            &format!("needs[{i}].item_id"),
            ItemId::parse(n.item_id.trim()),
        );
        if !(1..=MAX_QUANTITY).contains(&n.quantity) {
            v.add(
                format!("needs[{i}].quantity"),
                format!("must be 1 to {MAX_QUANTITY}"),
            );
        }
        if let Some(item) = item {
            if out.iter().any(|x| x.item == item) {
                v.add(
                    format!("needs[{i}].item_id"),
                    format!("{item} is listed twice"),
                );
            }
            out.push(Need {
                item,
                quantity: n.quantity,
            });
        }
    }
    if v.is_empty() { Ok(out) } else { Err(v) }
}

/// The path of `place`'s ancestor at `level` (or its own path when it is
/// at or above that level).
fn ancestor_path(place: &PlacedDepot, level: Tier) -> DepotPath {
    let codes = place.path.codes();
    let depth = match level {
        Tier::Province => 1,
        Tier::City => 2,
        Tier::County => 3,
        Tier::Township => 4,
    };
    let keep = depth.min(codes.len()).max(1);
    let mut p = DepotPath::root(&DepotCode::from_stored(codes[0].to_string()));
    for c in &codes[1..keep] {
        p = p.child(&DepotCode::from_stored((*c).to_string()));
    }
    p
}

fn proposed_pb(l: &ProposedLine) -> pb::ProposedLine {
    pb::ProposedLine {
        item_id: l.item.to_string(),
        needed: l.needed,
        sources: l
            .sources
            .iter()
            .map(|s| pb::ProposedSource {
                depot_code: s.depot.to_string(),
                depot_name: s.name.clone(),
                own_subtree: s.own,
                lots: s
                    .lots
                    .iter()
                    .map(|(lot, q)| pb::LotQuantity {
                        lot_number: lot.as_str().to_string(),
                        quantity: *q,
                    })
                    .collect(),
                quantity: s.quantity,
                below_minimum: s.below_minimum,
                road_km: (s.road_km * 10.0).round() / 10.0,
                travel_hours: (s.hours * 100.0).round() / 100.0,
                arrival_time: timestamp(s.arrival),
            })
            .collect(),
        agreements: l
            .agreements
            .iter()
            .map(|a| pb::ProposedAgreement {
                agreement_id: a.agreement.clone(),
                company_name: a.company.clone(),
                kind: a.kind.number() as i32,
                quantity: a.quantity,
                hours: (a.hours * 100.0).round() / 100.0,
                arrival_time: timestamp(a.arrival),
            })
            .collect(),
        unmet: l.unmet,
        complete_time: l.complete_at().and_then(timestamp),
    }
}

impl SourcingApi {
    /// A service over `ctx` with `config`.
    pub fn new(ctx: Ctx, config: SourcingConfig) -> Self {
        Self { ctx, config }
    }

    /// Resolves the destination and the own subtree.
    async fn target(
        &self,
        p: &Principal,
        depot: &str,
        site: Option<&pb::Place>,
        command: &str,
    ) -> Result<Target, Status> {
        let network = self
            .ctx
            .store
            .placed_depots()
            .await
            .map_err(status_of_store)?;
        let find = |code: &DepotCode| {
            network
                .iter()
                .find(|d| &d.code == code)
                .ok_or_else(|| Status::not_found(format!("depots/{code} not found or not active")))
        };
        let own_of = |d: &PlacedDepot| match d.tier {
            Tier::Township => ancestor_path(d, Tier::County),
            _ => d.path.clone(),
        };
        match (depot.trim(), site) {
            ("", None) => Err(invalid(
                "destination_depot_code",
                "give a destination depot or a destination site",
            )),
            (c, Some(_)) if !c.is_empty() => Err(invalid(
                "destination_site",
                "give a destination depot or a site, not both",
            )),
            (c, None) => {
                let code = DepotCode::parse(c).map_err(|e| invalid("destination_depot_code", e))?;
                let d = find(&code)?;
                Ok(Target {
                    point: d.point,
                    depot: Some(code),
                    own_root: own_of(d),
                })
            }
            (_, Some(place)) => {
                let mut v = Violations::new();
                let ll = place.lat_lng.unwrap_or_default();
                let point =
                    GeoPoint::parse_at("destination_site", ll.latitude, ll.longitude, &mut v);
                let command = match command.trim() {
                    "" => Some(p.scope.clone()),
                    c => v.take("command_depot_code", DepotCode::parse(c)),
                };
                match (point, command) {
                    (Some(point), Some(command)) if v.is_empty() => {
                        let d = find(&command)?;
                        Ok(Target {
                            point,
                            depot: None,
                            own_root: own_of(d),
                        })
                    }
                    _ => Err(invalid_all(v)),
                }
            }
        }
    }

    async fn plan(
        &self,
        target: &Target,
        needs: &[Need],
        emergency: bool,
    ) -> Result<Vec<ProposedLine>, Status> {
        let now = self.ctx.clock.now();
        let items: Vec<ItemId> = needs.iter().map(|n| n.item.clone()).collect();
        for (i, item) in items.iter().enumerate() {
            if self
                .ctx
                .store
                .get_item(item)
                .await
                .map_err(status_of_store)?
                .is_none()
            {
                return Err(Status::not_found(format!(
                    "items/{item} not found (needs[{i}].item_id)"
                )));
            }
        }
        let network = self
            .ctx
            .store
            .network_offers(&items, Day::today(now))
            .await
            .map_err(status_of_store)?;
        let offers: Vec<(ItemId, ItemOffers)> = items
            .iter()
            .map(|i| {
                (
                    i.clone(),
                    network.for_item(i, Some(&target.own_root), |_| true, true),
                )
            })
            .collect();
        let req = Proposal {
            destination: target.point,
            destination_depot: target.depot.clone(),
            needs: needs.to_vec(),
            emergency,
            travel: self.config.travel,
            now,
        };
        Ok(propose(&req, &offers))
    }
}

#[tonic::async_trait]
impl SourcingService for SourcingApi {
    async fn propose_sources(
        &self,
        req: Request<pb::ProposeSourcesRequest>,
    ) -> Answer<pb::ProposeSourcesResponse> {
        let p = Ctx::principal(&req)?;
        proposer(&p).map_err(|d| status_of_kind(d.kind()))?;
        let r = req.into_inner();
        let needs = needs_of(&r.needs).map_err(invalid_all)?;
        let target = self
            .target(
                &p,
                &r.destination_depot_code,
                r.destination_site.as_ref(),
                &r.command_depot_code,
            )
            .await?;
        let lines = self.plan(&target, &needs, r.emergency).await?;
        let own = target.own_root.codes().last().map(|c| c.to_string());
        Ok(Response::new(pb::ProposeSourcesResponse {
            lines: lines.iter().map(proposed_pb).collect(),
            own_subtree_depot_code: own.unwrap_or_default(),
        }))
    }

    async fn create_order_from_proposal(
        &self,
        req: Request<pb::CreateOrderFromProposalRequest>,
    ) -> Answer<pb::CreateOrderFromProposalResponse> {
        let p = Ctx::principal(&req)?;
        proposer(&p).map_err(|d| status_of_kind(d.kind()))?;
        let m = req.into_inner();
        let header = m.order.clone().unwrap_or_default();
        let needs = needs_of(&m.needs).map_err(invalid_all)?;
        let target = self
            .target(
                &p,
                &header.destination_depot_code,
                header.destination_site.as_ref(),
                &header.command_depot_code,
            )
            .await?;
        let emergency = header.priority == pb::AllocationPriority::Emergency as i32;
        let proposal = self.plan(&target, &needs, emergency).await?;
        if proposal.iter().all(|l| l.sources.is_empty()) {
            return Err(status_of_kind(reserve_core::ErrorKind::precondition(
                "NOTHING_TO_SOURCE",
                "no depot can give any of the needs (see ProposeSources for enterprise reserves); nothing to raise",
            )));
        }
        let mut order = header;
        order.lines = proposal
            .iter()
            .filter(|l| !l.sources.is_empty())
            .map(|l| pb::AllocationLine {
                item_id: l.item.to_string(),
                requested: l.needed,
                sources: l
                    .sources
                    .iter()
                    .flat_map(|s| {
                        s.lots.iter().map(|(lot, q)| pb::SourcePlan {
                            source_depot_code: s.depot.to_string(),
                            lot_number: lot.as_str().to_string(),
                            quantity: *q,
                        })
                    })
                    .collect(),
                ..Default::default()
            })
            .collect();
        let parsed = NewOrder::parse(&OrderDraft::from(&order), "order");
        let method = "/reserve.v1.SourcingService/CreateOrderFromProposal";
        let (new, meta) = self.ctx.write(p, &m.request_id, method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .create_order_from_proposal(&meta, new, proposal)
            .await
            .map_err(status_of)?;
        let (order, proposal) = w.value;
        Ok(Response::new(pb::CreateOrderFromProposalResponse {
            order: Some(order_pb(&order)),
            proposal: proposal.iter().map(proposed_pb).collect(),
        }))
    }

    async fn readiness_report(
        &self,
        req: Request<pb::ReadinessReportRequest>,
    ) -> Answer<pb::ReadinessReportResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let people = match r.people {
            0 => 1000,
            n if (1..=1_000_000).contains(&n) => n,
            _ => return Err(invalid("people", "must be 1 to 1,000,000")),
        };
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let kit = &self.config.kit;
        let needs = kit.needs(i64::from(people));
        let items: Vec<ItemId> = needs.iter().map(|n| n.item.clone()).collect();
        let now = self.ctx.clock.now();
        let network = self
            .ctx
            .store
            .placed_depots()
            .await
            .map_err(status_of_store)?;
        let offers = self
            .ctx
            .store
            .network_offers(&items, Day::today(now))
            .await
            .map_err(status_of_store)?;
        let travel = self.config.travel;
        // Offers per level root, shared by the places under it.
        let mut by_root: BTreeMap<String, Vec<(ItemId, ItemOffers)>> = BTreeMap::new();
        let agreements: Vec<(ItemId, ItemOffers)> = items
            .iter()
            .map(|i| {
                let mut o = offers.for_item(i, None, |_| false, true);
                o.depots.clear();
                (i.clone(), o)
            })
            .collect();
        let mut places = Vec::new();
        for d in network
            .iter()
            .filter(|d| subtree.covers(&d.path) && matches!(d.tier, Tier::Township | Tier::County))
        {
            let mut levels: Vec<LevelReadiness> = Vec::new();
            for level in [Tier::County, Tier::City, Tier::Province] {
                let root = ancestor_path(d, level);
                let level_offers = by_root.entry(root.as_str().to_string()).or_insert_with(|| {
                    items
                        .iter()
                        .map(|i| {
                            (
                                i.clone(),
                                offers.for_item(i, None, |p| root.covers(p), false),
                            )
                        })
                        .collect()
                });
                levels.push(arrival(&d.point, &needs, level_offers, travel).at(level));
            }
            let agreement_hours = match arrival(&d.point, &needs, &agreements, travel) {
                reserve_core::sourcing::readiness::LevelOutcome::Arrives { hours, .. } => {
                    Some(hours)
                }
                reserve_core::sourcing::readiness::LevelOutcome::Short { .. } => None,
            };
            places.push(PlaceReadiness {
                depot: d.code.clone(),
                name: d.name.clone(),
                tier: d.tier,
                levels,
                agreement_hours,
            });
        }
        Ok(Response::new(pb::ReadinessReportResponse {
            people,
            kit: kit
                .items
                .iter()
                .zip(&needs)
                .map(|(k, n)| pb::KitItem {
                    item_id: k.item.to_string(),
                    per_hundred: k.per_hundred,
                    needed: n.quantity,
                })
                .collect(),
            places: places
                .iter()
                .map(|pl| pb::PlaceReadiness {
                    depot_code: pl.depot.to_string(),
                    depot_name: pl.name.clone(),
                    tier: tier(pl.tier),
                    met: pl.met(),
                    agreement_hours: pl.agreement_hours.map(|h| (h * 100.0).round() / 100.0),
                    levels: pl
                        .levels
                        .iter()
                        .map(|l| pb::LevelReadiness {
                            tier: tier(l.level),
                            target_hours: l.target_hours,
                            arrival_hours: l.arrival_hours.map(|h| (h * 100.0).round() / 100.0),
                            met: l.met(),
                            binding_item_id: l
                                .binding
                                .as_ref()
                                .map(|i| i.to_string())
                                .unwrap_or_default(),
                            unmet: l.unmet,
                        })
                        .collect(),
                })
                .collect(),
        }))
    }
}
