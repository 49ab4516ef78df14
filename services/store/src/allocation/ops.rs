//! The write operations on allocation orders: raise, and every action.
//! Each is load / authorise / world / transition (core) / post / save by
//! compare-and-set / audit, in one transaction.

use super::rows::{
    Placed, insert_order, load_order, load_placed, next_number, save_order, touched,
};
use super::world::{Needs, load_world};
use crate::error::{OpError, StoreError};
use crate::incident::load_incident;
use crate::network::load_depot_for_stock;
use crate::stock::post::post;
use crate::stock::rows::{move_assets, new_id};
use crate::stock::summary;
use crate::write::{Applied, Op, WriteMeta};
use reserve_core::allocation::dispatch::DispatchNote;
use reserve_core::allocation::receive::Arrival;
use reserve_core::allocation::{
    Actor, AllocationError, NewOrder, Order, OrderAction, OrderWorld, State, order_transition,
};
use reserve_core::authz::allocation::{
    order_approver, order_dispatcher, order_raiser, order_receiver,
};
use reserve_core::depot::{DepotCode, DepotPath, DepotStatus};
use reserve_core::maintenance::due::check_issue;
use reserve_core::request::Etag;
use reserve_core::stock::StockError;
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

type Fail = OpError<AllocationError>;

fn rule<T>(e: impl Into<AllocationError>) -> Result<T, Fail> {
    Err(OpError::Rule(e.into()))
}

/// An action on an order as the store receives it.
#[derive(Clone, Debug)]
pub enum OrderCommand {
    /// Replace a draft's fields.
    Amend(NewOrder),
    /// Submit.
    Submit,
    /// Approve, with a note, and why assets overdue for upkeep may be
    /// reserved, if they may.
    Approve(String, Option<String>),
    /// Reject, with the reason.
    Reject(String),
    /// One source dispatches.
    Dispatch(DispatchNote),
    /// Units arrive.
    Receive(Vec<Arrival>),
    /// Close, with a note.
    Close(String),
    /// Cancel, with the reason.
    Cancel(String),
}

impl OrderCommand {
    fn action(&self) -> OrderAction<'_> {
        match self {
            OrderCommand::Amend(n) => OrderAction::Amend(n),
            OrderCommand::Submit => OrderAction::Submit,
            OrderCommand::Approve(n, _) => OrderAction::Approve { note: n },
            OrderCommand::Reject(r) => OrderAction::Reject { reason: r },
            OrderCommand::Dispatch(d) => OrderAction::Dispatch(d),
            OrderCommand::Receive(a) => OrderAction::Receive(a),
            OrderCommand::Close(n) => OrderAction::Close { note: n },
            OrderCommand::Cancel(r) => OrderAction::Cancel { reason: r },
        }
    }
}

/// The depots an order (and its amendment) names, with the caller's scope,
/// each refused with NOT_FOUND when missing.
async fn placed_for(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    codes: Vec<DepotCode>,
) -> Result<(Option<DepotPath>, BTreeMap<DepotCode, Placed>), Fail> {
    let mut all = codes.clone();
    all.push(meta.actor.scope.clone());
    let placed = load_placed(tx, &all).await?;
    for c in &codes {
        if !placed.contains_key(c) {
            return rule(AllocationError::DepotNotFound(c.to_string()));
        }
    }
    let scope = placed.get(&meta.actor.scope).map(|p| p.path.clone());
    Ok((scope, placed))
}

fn at<'a>(
    placed: &'a BTreeMap<DepotCode, Placed>,
    c: &'a DepotCode,
) -> (&'a DepotCode, &'a DepotPath) {
    (c, &placed[c].path)
}

/// Checks what a new or amended order refers to: its incident, its items,
/// and depots that are open for business.
async fn check_refs(
    tx: &mut AnyConnection,
    new: &NewOrder,
    placed: &BTreeMap<DepotCode, Placed>,
) -> Result<(), Fail> {
    // Hold every depot named against closing until this commits (a share
    // lock on PostgreSQL; closing a depot with an open order is refused).
    for d in placed.keys() {
        load_depot_for_stock(tx, d.as_str()).await?;
    }
    let inactive = |d: &DepotCode, action: &'static str| {
        placed
            .get(d)
            .filter(|p| p.status != DepotStatus::Active)
            .map(|p| {
                OpError::Rule(AllocationError::Stock(StockError::DepotNotActive {
                    depot: d.to_string(),
                    status: p.status.name(),
                    action,
                }))
            })
    };
    if let Some(d) = new.destination.depot()
        && let Some(e) = inactive(d, "receive an allocation order")
    {
        return Err(e);
    }
    for l in &new.lines {
        for s in &l.sources {
            if let Some(e) = inactive(&s.depot, "send units on an allocation order") {
                return Err(e);
            }
        }
    }
    if let Some(i) = &new.incident
        && load_incident(tx, i.as_str()).await?.is_none()
    {
        return rule(AllocationError::IncidentNotFound(i.to_string()));
    }
    for l in &new.lines {
        if crate::catalog::load_item(tx, l.item.as_str())
            .await?
            .is_none()
        {
            return rule(AllocationError::ItemNotFound(l.item.to_string()));
        }
    }
    Ok(())
}

fn codes_of(command: &DepotCode, new: &NewOrder) -> Vec<DepotCode> {
    let mut v = vec![command.clone()];
    if let Some(d) = new.destination.depot() {
        v.push(d.clone());
    }
    for l in &new.lines {
        for s in &l.sources {
            v.push(s.depot.clone());
        }
    }
    v.sort();
    v.dedup();
    v
}

fn actor<'a>(meta: &'a WriteMeta, etag: Option<Etag>) -> Actor<'a> {
    Actor {
        who: &meta.actor.subject,
        name: &meta.actor.name,
        now: meta.now,
        etag,
    }
}

pub(crate) struct CreateOp {
    pub new: NewOrder,
}

impl Op for CreateOp {
    type Output = Order;
    type Error = AllocationError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Order, AllocationError> {
        let new = &self.new;
        let command = new
            .command_depot
            .clone()
            .unwrap_or_else(|| meta.actor.scope.clone());
        let (scope, placed) = placed_for(tx, meta, codes_of(&command, new)).await?;
        let answering = new.destination.depot().unwrap_or(&command);
        order_raiser(
            &meta.actor,
            scope.as_ref(),
            at(&placed, &command),
            at(&placed, answering),
        )
        .map_err(|d| OpError::Rule(d.into()))?;
        check_refs(tx, new, &placed).await?;
        let id = new_id();
        let number = next_number(tx, meta.now).await?;
        let plan = order_transition(
            None,
            OrderAction::Create {
                new,
                id: &id,
                number: &number,
                command: &command,
            },
            actor(meta, None),
            &OrderWorld::default(),
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        insert_order(tx, &plan.doc).await?;
        let o = plan.doc;
        let audit = summary::document(
            &o.doc_ref(),
            o.answering_depot(),
            json!({"created": {"number": o.number, "kind": o.kind.number(), "priority": o.priority.number(),
                "destination": o.destination.depot().map(|d| d.to_string()),
                "lines": o.lines.iter().map(|l| json!({"item": l.item.as_str(), "requested": l.requested})).collect::<Vec<_>>()}}),
            &[],
        );
        Ok((o, audit))
    }
}

pub(crate) struct FromProposalOp {
    pub header: reserve_core::allocation::OrderDraft,
    pub ask: reserve_core::sourcing::Ask,
    pub travel: reserve_core::sourcing::TravelModel,
}

impl Op for FromProposalOp {
    type Output = (Order, Vec<reserve_core::sourcing::ProposedLine>);
    type Error = AllocationError;

    /// Plans inside the transaction, so a retry is answered from its request
    /// id even when the network has changed since.
    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Self::Output, AllocationError> {
        let (proposal, _) =
            crate::sourcing::propose_in(tx, &self.ask, self.travel, meta.now).await?;
        if proposal.iter().all(|l| l.sources.is_empty()) {
            return rule(AllocationError::NothingToSource);
        }
        let mut draft = self.header.clone();
        // One source per depot; approval picks its lots first expired first
        // out, as the proposal did.
        draft.lines = proposal
            .iter()
            .filter(|l| !l.sources.is_empty())
            .map(|l| reserve_core::allocation::LineDraft {
                item: l.item.to_string(),
                requested: l.needed,
                sources: l
                    .sources
                    .iter()
                    .map(|s| reserve_core::allocation::SourceDraft {
                        depot: s.depot.to_string(),
                        lot: String::new(),
                        quantity: s.quantity,
                    })
                    .collect(),
            })
            .collect();
        let new = NewOrder::parse(&draft, "order").map_err(OpError::Invalid)?;
        let (order, mut audit) = CreateOp { new }.apply(tx, meta).await?;
        if let Some(m) = audit.changes.as_object_mut() {
            m.insert("from_proposal".into(), serde_json::Value::Bool(true));
        }
        Ok(((order, proposal), audit))
    }
}

pub(crate) struct ActionOp {
    pub id: String,
    pub command: OrderCommand,
    pub etag: Option<Etag>,
}

impl Op for ActionOp {
    type Output = Order;
    type Error = AllocationError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Order, AllocationError> {
        let Some(order) = load_order(tx, &self.id).await? else {
            return rule(AllocationError::NotFound(self.id.clone()));
        };
        let mut codes = touched(&order);
        if let OrderCommand::Amend(new) = &self.command {
            codes.extend(codes_of(&order.command_depot, new));
            codes.sort();
            codes.dedup();
        }
        let (scope, placed) = placed_for(tx, meta, codes).await?;
        let scope = scope.as_ref();
        let p = &meta.actor;
        let denied = |d: reserve_core::authz::Denied| OpError::Rule(AllocationError::from(d));
        let command = at(&placed, &order.command_depot);
        let answering = at(&placed, order.answering_depot());
        let mut needs = Needs::default();
        match &self.command {
            OrderCommand::Amend(new) => {
                order_raiser(p, scope, command, answering).map_err(denied)?;
                let dest = new.destination.depot().unwrap_or(&order.command_depot);
                order_raiser(p, scope, command, at(&placed, dest)).map_err(denied)?;
                check_refs(tx, new, &placed).await?;
            }
            OrderCommand::Submit => {
                order_raiser(p, scope, command, answering).map_err(denied)?;
                needs.own = true;
            }
            OrderCommand::Cancel(_) | OrderCommand::Close(_) => {
                order_raiser(p, scope, command, answering).map_err(denied)?;
            }
            OrderCommand::Approve(..) | OrderCommand::Reject(_) => {
                let sources: Vec<DepotCode> = order.sources();
                let placed_sources: Vec<_> = sources.iter().map(|s| at(&placed, s)).collect();
                order_approver(p, scope, answering, &placed_sources).map_err(denied)?;
                if matches!(self.command, OrderCommand::Approve(..)) {
                    // Approval takes from the sources yet to send and
                    // delivers to the destination: all must be in service.
                    let mut open: Vec<&DepotCode> = sources
                        .iter()
                        .filter(|s| !order.dispatched_from(s))
                        .collect();
                    open.extend(order.destination.depot());
                    for d in open {
                        if let Some(pl) =
                            placed.get(d).filter(|pl| pl.status != DepotStatus::Active)
                        {
                            return rule(StockError::DepotNotActive {
                                depot: d.to_string(),
                                status: pl.status.name(),
                                action: "take part in an approved allocation order",
                            });
                        }
                    }
                    needs.own = order.state == State::Submitted;
                    needs.stock_at = sources
                        .into_iter()
                        .filter(|s| !order.dispatched_from(s))
                        .collect();
                }
            }
            OrderCommand::Dispatch(d) => {
                order_dispatcher(p, &d.source).map_err(denied)?;
                if let Some(src) = placed.get(&d.source) {
                    // Before approval, only depots the raising dispatcher
                    // answers for (under the command depot) may send.
                    if order.approved_by.is_none() && !command.1.covers(&src.path) {
                        return rule(AllocationError::ApprovalRequired {
                            number: order.number.clone(),
                            source_depot: d.source.to_string(),
                            command: order.command_depot.to_string(),
                        });
                    }
                    needs.stock_at = vec![d.source.clone()];
                }
            }
            OrderCommand::Receive(_) => {
                order_receiver(p, scope, order.destination.depot(), command).map_err(denied)?;
            }
        }
        let world = load_world(tx, &order, &placed, &needs, meta.now).await?;
        // An approval without the upkeep override reserves units up to date
        // on their upkeep first; overdue ones only when they are needed,
        // and then the check below asks for the override, naming them.
        let up_to_date = match &self.command {
            OrderCommand::Approve(_, None) => up_to_date_world(tx, &world, meta.now).await?,
            _ => None,
        };
        let transition = |world: &_| {
            order_transition(
                Some(&order),
                self.command.action(),
                actor(meta, self.etag),
                world,
                &mut new_id,
            )
        };
        let plan = match up_to_date.as_ref().map(transition) {
            Some(Ok(p)) => p,
            _ => transition(&world).map_err(OpError::Rule)?,
        };
        let overdue = match &self.command {
            OrderCommand::Approve(_, why) => {
                let overdue = upkeep_overdue(tx, &plan.entries, meta.now).await?;
                for (depot, serials) in &overdue {
                    check_issue(depot, serials, why.as_deref())
                        .map_err(|e| OpError::Rule(e.into()))?;
                }
                overdue
            }
            // 先调后补: an emergency dispatched before approval is not held
            // up for upkeep, but what left overdue is on the record.
            OrderCommand::Dispatch(_) if order.approved_by.is_none() => {
                upkeep_overdue(tx, &plan.entries, meta.now).await?
            }
            _ => Vec::new(),
        };
        let posted = post(tx, meta, plan.entries, 0).await?;
        for a in &plan.assets {
            move_assets(
                tx,
                a.item.as_str(),
                a.depot.as_str(),
                &a.serials,
                &a.from,
                &a.to,
                None,
                meta.now,
            )
            .await?;
        }
        save_order(tx, &plan.doc, order.version).await?;
        let o = plan.doc;
        let last = o.timeline.last();
        // A dispatch is the source's act; everything else the destination's.
        let audit_depot = match &self.command {
            OrderCommand::Dispatch(d) => &d.source,
            _ => o.answering_depot(),
        };
        let audit = summary::document(
            &o.doc_ref(),
            audit_depot,
            json!({
                "action": last.map(|e| e.action.clone()),
                "state": [order.state.name(), o.state.name()],
                "note": last.map(|e| e.note.clone()),
                "upkeep_overdue_overridden": (!overdue.is_empty()).then(|| json!({
                    "serials": overdue.iter().flat_map(|(_, s)| s.iter().map(|(x, _)| x.as_str())).collect::<Vec<_>>(),
                    "reason": match &self.command {
                        OrderCommand::Approve(_, why) => why.clone(),
                        _ => Some("emergency dispatch before approval".to_string()),
                    },
                })),
            }),
            &posted.entries,
        );
        Ok((o, audit))
    }
}

/// `world` with the sources' serial units overdue for upkeep set aside, or
/// `None` when none is.
async fn up_to_date_world(
    tx: &mut AnyConnection,
    world: &OrderWorld,
    now: reserve_core::time::UtcMillis,
) -> Result<Option<OrderWorld>, StoreError> {
    let today = reserve_core::stock::Day::today(now);
    let mut fit = world.clone();
    let mut changed = false;
    for s in fit.stock.iter_mut().filter(|s| !s.free_assets.is_empty()) {
        let Some(item) = world.items.iter().find(|i| i.id == s.item) else {
            continue;
        };
        if let Some((lines, assets, aside)) = crate::maintenance::due::without_overdue(
            tx,
            &s.depot,
            item,
            &s.lines,
            &s.free_assets,
            today,
        )
        .await?
        {
            s.lines = lines;
            s.free_assets = assets;
            s.minimum = (s.minimum - aside).max(0);
            changed = true;
        }
    }
    Ok(changed.then_some(fit))
}

/// The serials an approval reserves (or an emergency dispatch sends) that
/// are overdue for upkeep, per source
/// depot, with their due dates.
async fn upkeep_overdue(
    tx: &mut AnyConnection,
    entries: &[reserve_core::stock::EntryDraft],
    now: reserve_core::time::UtcMillis,
) -> Result<
    Vec<(
        DepotCode,
        Vec<(reserve_core::stock::SerialNumber, reserve_core::stock::Day)>,
    )>,
    Fail,
> {
    let mut by_line: BTreeMap<(DepotCode, String), Vec<reserve_core::stock::SerialNumber>> =
        BTreeMap::new();
    for e in entries.iter().filter(|e| {
        matches!(
            e.kind,
            reserve_core::stock::EntryType::Reserve | reserve_core::stock::EntryType::TransferOut
        ) && !e.serials.is_empty()
    }) {
        by_line
            .entry((e.depot.clone(), e.lot.item.to_string()))
            .or_default()
            .extend(e.serials.iter().cloned());
    }
    let mut out = Vec::new();
    for ((depot, item), serials) in by_line {
        let Some(item) = crate::catalog::load_item(tx, &item).await? else {
            continue;
        };
        let late = crate::maintenance::due::overdue_serials(
            tx,
            &depot,
            &item,
            &serials,
            reserve_core::stock::Day::today(now),
        )
        .await?;
        if !late.is_empty() {
            out.push((depot, late));
        }
    }
    Ok(out)
}
