//! `reserve.v1.SourcingService`: proposals for a need, a proposal raised as
//! a draft order, and readiness against the first-batch targets.

use crate::allocation::wire::order_pb;
use crate::context::Ctx;
use crate::error::{invalid, invalid_all, status_of, status_of_kind, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::sourcing_service_server::SourcingService;
use crate::wire::{tier, timestamp};
use reserve_core::Failure;
use reserve_core::allocation::OrderDraft;
use reserve_core::authz::Action;
use reserve_core::authz::enterprise::proposer;
use reserve_core::depot::DepotCode;
use reserve_core::item::ItemId;
use reserve_core::sourcing::readiness::{Kit, LevelReadiness, PlaceReadiness, arrival};
use reserve_core::sourcing::{Ask, AskDraft, ItemOffers, ProposedLine, TravelModel};
use reserve_core::stock::Day;
use reserve_core::tier::Tier;
use reserve_store::sourcing::ancestor_path;
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

fn needs_of(raw: &[pb::Need]) -> Vec<(String, i64)> {
    raw.iter()
        .map(|n| (n.item_id.clone(), n.quantity))
        .collect()
}

fn site_of(p: Option<&pb::Place>) -> Option<(f64, f64)> {
    p.map(|p| {
        let ll = p.lat_lng.unwrap_or_default();
        (ll.latitude, ll.longitude)
    })
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
        let ask = Ask::parse(
            &AskDraft {
                depot: r.destination_depot_code.clone(),
                site: site_of(r.destination_site.as_ref()),
                command: r.command_depot_code.clone(),
                needs: needs_of(&r.needs),
                emergency: r.emergency,
            },
            &p.scope,
            "",
        )
        .map_err(invalid_all)?;
        let (lines, own) = self
            .ctx
            .store
            .propose(&ask, self.config.travel, self.ctx.clock.now())
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ProposeSourcesResponse {
            lines: lines.iter().map(proposed_pb).collect(),
            own_subtree_depot_code: own.to_string(),
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
        let parsed = Ask::parse(
            &AskDraft {
                depot: header.destination_depot_code.clone(),
                site: site_of(header.destination_site.as_ref()),
                command: header.command_depot_code.clone(),
                needs: needs_of(&m.needs),
                emergency: header.priority == pb::AllocationPriority::Emergency as i32,
            },
            &p.scope,
            "order.",
        );
        let method = "/reserve.v1.SourcingService/CreateOrderFromProposal";
        let (ask, meta) = self.ctx.write(p, &m.request_id, method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .create_order_from_proposal(&meta, OrderDraft::from(&header), ask, self.config.travel)
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
