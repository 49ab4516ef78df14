//! Requisition records: taken, vouchered, and each unit's outcome. Every
//! action is one `Store::run`: load, authorise (core), decide (core), write
//! by compare-and-set, audit. The owner's private data is sealed into
//! `private_data` in the same transaction; the record, its audit event and
//! the stored reply carry only masked values and the sealed row's id.

pub(crate) mod receipt;
pub(crate) mod rows;

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::{load_depot, load_scope_and_path};
use crate::page::{self, Page};
use crate::sealed::insert_sealed;
use crate::sql::{Arg, Sql};
use crate::stock::post::post;
use crate::stock::rows::{load_line, load_lot, new_id};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::Principal;
use reserve_core::authz::requisition::{outcome_recorder, requisition_reader, requisitioner};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::Tracking;
use reserve_core::request::{Etag, PageSize};
use reserve_core::requisition::{
    NewRequisition, Outcome, OutcomeKind, Requisition, RequisitionError, RequisitionItem,
};
use reserve_core::stock::fields::MAX_BACKDATE_DAYS;
use reserve_core::stock::{Delta, EntryDraft, EntryType};
use reserve_core::time::UtcMillis;
use rows::{insert_requisition, load_requisition, next_number, save_requisition, units_in_stock};
use serde_json::json;
use sqlx::AnyConnection;
use std::collections::HashMap;

type Fail = OpError<RequisitionError>;

fn rule<T>(e: RequisitionError) -> Result<T, Fail> {
    Err(OpError::Rule(e))
}

fn denied(d: reserve_core::authz::Denied) -> Fail {
    OpError::Rule(d.into())
}

/// Which requisitions a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequisitionFilter {
    /// Every record.
    All,
    /// Records with units still out.
    InUse,
    /// Records whose voucher is overdue (taken without one more than 48 h ago).
    VoucherOverdue,
}

impl RequisitionFilter {
    fn tag(self) -> &'static str {
        match self {
            RequisitionFilter::All => "all",
            RequisitionFilter::InUse => "in-use",
            RequisitionFilter::VoucherOverdue => "voucher-overdue",
        }
    }
}

/// Outcomes to record, and the depot whose stock the units leave if they
/// had been received into one.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeRequest {
    /// The outcomes, all dated alike.
    pub outcomes: Vec<Outcome>,
    /// Depot stock the units leave (goods received into a depot).
    pub from_depot: Option<DepotCode>,
}

impl Store {
    /// Records a requisition; the owner's private data is sealed.
    pub async fn create_requisition(
        &self,
        meta: &WriteMeta,
        new: NewRequisition,
    ) -> Result<Written<Requisition>, Fail> {
        self.run(
            meta,
            &CreateRequisition {
                new,
                sealer: self.sealer.clone(),
            },
        )
        .await
    }

    /// Records the voucher issued at `at` for a requisition taken without one.
    pub async fn record_voucher(
        &self,
        meta: &WriteMeta,
        id: &str,
        number: &str,
        at: UtcMillis,
        etag: Option<Etag>,
    ) -> Result<Written<Requisition>, Fail> {
        self.run(
            meta,
            &VoucherOp {
                id: id.to_string(),
                number: number.to_string(),
                at,
                etag,
            },
        )
        .await
    }

    /// Records what became of requisitioned units.
    pub async fn record_outcomes(
        &self,
        meta: &WriteMeta,
        id: &str,
        req: OutcomeRequest,
        etag: Option<Etag>,
    ) -> Result<Written<Requisition>, Fail> {
        self.run(
            meta,
            &OutcomeOp {
                id: id.to_string(),
                req,
                etag,
            },
        )
        .await
    }

    /// One requisition, if the caller may read it.
    pub async fn get_requisition(&self, actor: &Principal, id: &str) -> Result<Requisition, Fail> {
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let Some(r) = load_requisition(&mut c, id).await? else {
            return rule(RequisitionError::NotFound(format!("requisitions/{id}")));
        };
        let (scope, path) = placed(&mut c, &actor.scope, &r.depot).await?;
        requisition_reader(actor, scope.as_ref(), &r.depot, &path).map_err(denied)?;
        Ok(r)
    }

    /// Requisitions in `subtree`, newest taken first.
    pub async fn list_requisitions(
        &self,
        subtree: &DepotPath,
        filter: RequisitionFilter,
        now: UtcMillis,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Requisition>, Fail> {
        let filters = format!("sub={};f={}", subtree.as_str(), filter.tag());
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(
            "SELECT r.body FROM requisitions r JOIN depots d ON d.code = r.depot_code WHERE ",
        );
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        match filter {
            RequisitionFilter::All => {}
            RequisitionFilter::InUse => {
                sql.raw(" AND r.state = 1");
            }
            RequisitionFilter::VoucherOverdue => {
                sql.push(
                    " AND r.has_voucher = 0 AND r.voucher_due < ?",
                    Arg::Int(now),
                );
            }
        }
        if let Some((at, id)) = after {
            sql.push(" AND (r.taken_at < ?", Arg::Int(at))
                .push(" OR (r.taken_at = ?", Arg::Int(at))
                .push(" AND r.id < ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY r.taken_at DESC, r.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let rows = sql.fetch_all(&mut *c).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let body: String = sqlx::Row::try_get(r, "body").map_err(StoreError::from)?;
            let mut q = serde_json::from_str::<Requisition>(&body).map_err(StoreError::from)?;
            rows::fill_received(&mut c, &mut q).await?;
            out.push(q);
        }
        Ok(page::finish(out, size.get(), &filters, |r| {
            (r.taken_at, r.id.clone())
        }))
    }
}

pub(crate) async fn placed(
    conn: &mut AnyConnection,
    scope: &DepotCode,
    depot: &DepotCode,
) -> Result<(Option<DepotPath>, DepotPath), Fail> {
    let (scope, path) = load_scope_and_path(conn, scope, depot).await?;
    match path {
        Some(p) => Ok((scope.map(|s| s.path), p)),
        None => rule(RequisitionError::NotFound(format!("depots/{depot}"))),
    }
}

fn audit(r: &Requisition, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("requisitions/{}", r.id),
        depot: r.depot.clone(),
        changes,
    }
}

fn check_etag(r: &Requisition, etag: Option<Etag>) -> Result<(), Fail> {
    match etag {
        Some(e) if e.version() != r.version => rule(RequisitionError::StaleEtag {
            id: format!("requisition {}", r.number),
            sent: e.version(),
            current: r.version,
        }),
        _ => Ok(()),
    }
}

struct CreateRequisition {
    new: NewRequisition,
    sealer: Option<crate::sealed::Sealer>,
}

impl Op for CreateRequisition {
    type Output = Requisition;
    type Error = RequisitionError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Requisition, RequisitionError> {
        let n = &self.new;
        let (scope, path) = placed(tx, &meta.actor.scope, &n.depot).await?;
        requisitioner(&meta.actor, scope.as_ref(), &n.depot, &path).map_err(denied)?;
        if crate::incident::load_incident(tx, &n.incident_id)
            .await?
            .is_none()
        {
            return rule(RequisitionError::NotFound(format!(
                "incidents/{}",
                n.incident_id
            )));
        }
        let number = next_number(tx, "requisition_numbers", "ZY", meta.now).await?;
        let private_ref = new_id();
        insert_sealed(
            tx,
            self.sealer.as_ref(),
            &private_ref,
            &n.owner.private,
            meta.now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Sealed(m) => OpError::Rule(RequisitionError::Sealing(m)),
            other => OpError::Store(other),
        })?;
        let r = Requisition::record(
            new_id(),
            number,
            n,
            private_ref,
            &meta.actor.subject,
            meta.now,
        );
        insert_requisition(tx, &r).await?;
        // Only masked values and the sealed row's id reach the audit log.
        let event = audit(
            &r,
            json!({"requisitioned": {
                "number": r.number, "incident": r.incident_id, "decision": r.decision,
                "authority": r.authority, "officer": r.officer,
                "owner": {"kind": r.owner.kind.name(), "name": r.owner.name,
                    "id_number": r.owner.masked.id_number, "private_ref": r.owner.private_ref},
                "voucher": r.voucher.as_ref().map(|v| v.number.clone()),
                "items": r.items.iter().map(|i| json!({"line": i.number, "description": i.description,
                    "quantity": i.quantity, "unit": i.unit, "returnable": i.returnable,
                    "unit_value_fen": i.unit_value_fen, "daily_rate_fen": i.daily_rate_fen})).collect::<Vec<_>>(),
            }}),
        );
        Ok((r, event))
    }
}

struct VoucherOp {
    id: String,
    number: String,
    at: UtcMillis,
    etag: Option<Etag>,
}

impl Op for VoucherOp {
    type Output = Requisition;
    type Error = RequisitionError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Requisition, RequisitionError> {
        let Some(r) = load_requisition(tx, &self.id).await? else {
            return rule(RequisitionError::NotFound(format!(
                "requisitions/{}",
                self.id
            )));
        };
        let (scope, path) = placed(tx, &meta.actor.scope, &r.depot).await?;
        requisitioner(&meta.actor, scope.as_ref(), &r.depot, &path).map_err(denied)?;
        let after = r
            .record_voucher(self.number.clone(), self.at, &meta.actor.subject)
            .map_err(OpError::Rule)?;
        check_etag(&r, self.etag)?;
        if !save_requisition(tx, &r, &after).await? {
            return Err(OpError::Store(StoreError::Conflict));
        }
        let late = r.voucher_overdue(self.at);
        let event = audit(
            &after,
            json!({"voucher": {"number": self.number, "issued_at": self.at, "late": late}}),
        );
        Ok((after, event))
    }
}

struct OutcomeOp {
    id: String,
    req: OutcomeRequest,
    etag: Option<Etag>,
}

impl Op for OutcomeOp {
    type Output = Requisition;
    type Error = RequisitionError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Requisition, RequisitionError> {
        let Some(r) = load_requisition(tx, &self.id).await? else {
            return rule(RequisitionError::NotFound(format!(
                "requisitions/{}",
                self.id
            )));
        };
        // A keeper records at the depot the goods are in; a dispatcher over
        // the requisitioning tier's subtree.
        let at_depot = self.req.from_depot.as_ref().unwrap_or(&r.depot);
        let (scope, path) = placed(tx, &meta.actor.scope, at_depot).await?;
        outcome_recorder(&meta.actor, scope.as_ref(), at_depot, &path).map_err(denied)?;
        let after = r
            .record_outcomes(self.req.outcomes.clone(), meta.now)
            .map_err(OpError::Rule)?;
        check_etag(&r, self.etag)?;
        if self.req.from_depot.is_some()
            && self
                .req
                .outcomes
                .iter()
                .any(|o| o.at < meta.now.saturating_sub(MAX_BACKDATE_DAYS * 86_400_000))
        {
            return rule(RequisitionError::Invalid(reserve_core::Violations::one(
                "occurred_time",
                format!(
                    "units leaving depot stock are dated within the last {MAX_BACKDATE_DAYS} days, as any stock movement"
                ),
            )));
        }
        // Receipts into the line's lots and outcomes outside stock take turns.
        let mut lines: Vec<u32> = self.req.outcomes.iter().map(|o| o.line).collect();
        lines.sort_unstable();
        lines.dedup();
        for line in &lines {
            rows::lock_line(tx, &r.id, *line).await?;
        }
        let mut taken: HashMap<String, i64> = HashMap::new();
        let mut entries = Vec::new();
        for o in &self.req.outcomes {
            let item = &r.items[r.items.iter().position(|i| i.number == o.line).unwrap_or(0)];
            match &self.req.from_depot {
                Some(depot) => {
                    if o.kind == OutcomeKind::Consumed {
                        return rule(RequisitionError::Invalid(reserve_core::Violations::one(
                            "from_depot",
                            "is for units leaving depot stock back to the owner or written off as lost; \
                             consumed units leave stock by an ordinary issue",
                        )));
                    }
                    entries.extend(plan_leave(tx, &r, item, o, depot, &mut taken).await?);
                }
                None => {
                    // Units received into depot stock belong to the
                    // requisition there: only leaving that stock resolves them.
                    let in_stock = units_in_stock(tx, &r.id, o.line).await?;
                    let free = item.outstanding().saturating_sub(in_stock);
                    let asked: i64 = self
                        .req
                        .outcomes
                        .iter()
                        .filter(|x| x.line == o.line)
                        .map(|x| x.quantity)
                        .fold(0, i64::saturating_add);
                    if asked > free {
                        return rule(RequisitionError::Stock(
                            reserve_core::stock::StockError::InsufficientStock {
                                depot: "outside depot stock".into(),
                                item: format!("requisition {} line {}", r.number, o.line),
                                lot: format!(
                                    " ({in_stock} are in depot stock: record them with from_depot)"
                                ),
                                requested: asked,
                                available: free,
                            },
                        ));
                    }
                }
            }
        }
        let posted = if entries.is_empty() {
            Vec::new()
        } else {
            post(tx, meta, entries, 0).await?.entries
        };
        if !save_requisition(tx, &r, &after).await? {
            return Err(OpError::Store(StoreError::Conflict));
        }
        let event = audit(
            &after,
            json!({"outcomes": {
                "recorded": self.req.outcomes.iter().map(|o| json!({"line": o.line, "outcome": o.kind.name(),
                    "quantity": o.quantity, "repair_cost_fen": o.repair_cost_fen, "certificate": o.certificate,
                    "at": o.at})).collect::<Vec<_>>(),
                "from_depot": self.req.from_depot.as_ref().map(|d| d.to_string()),
                "entries": posted.iter().map(|e| json!({"id": e.id, "lot": e.lot_number.as_str(),
                    "quantity": -e.delta.on_hand})).collect::<Vec<_>>(),
                "state": after.state.name(),
            }}),
        );
        Ok((after, event))
    }
}

/// Issue entries taking `o.quantity` units of the requisition line out of
/// its lots at `depot` (oldest lot first), for units given back or lost
/// from depot stock.
async fn plan_leave(
    tx: &mut AnyConnection,
    r: &Requisition,
    item: &RequisitionItem,
    o: &Outcome,
    depot: &DepotCode,
    taken: &mut HashMap<String, i64>,
) -> Result<Vec<EntryDraft>, Fail> {
    let Some(d) = load_depot(tx, depot.as_str()).await? else {
        return rule(RequisitionError::NotFound(format!("depots/{depot}")));
    };
    let lots: Vec<(String,)> = sqlx::query_as(
        "SELECT q.lot_id FROM requisition_lots q JOIN lots t ON t.id = q.lot_id \
         WHERE q.requisition_id = $1 AND q.line_number = $2 ORDER BY t.created_at, t.id",
    )
    .bind(&r.id)
    .bind(i64::from(item.number))
    .fetch_all(&mut *tx)
    .await?;
    let mut left = o.quantity;
    let mut out = Vec::new();
    let mut available = 0i64;
    for (lot_id,) in lots {
        let Some(line) = load_line(tx, d.code.as_str(), &lot_id).await? else {
            continue;
        };
        // Units earlier outcomes of this request take from the lot.
        let free = line
            .balance
            .available(false)
            .saturating_sub(taken.get(&lot_id).copied().unwrap_or(0));
        available = available.saturating_add(free.max(0));
        if left == 0 || free <= 0 {
            continue;
        }
        let Some(lot) = load_lot(tx, &lot_id).await? else {
            continue;
        };
        let tracking: Option<(i64,)> = sqlx::query_as("SELECT tracking FROM items WHERE id = $1")
            .bind(lot.item.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if tracking.is_some_and(|(t,)| t == Tracking::Serial.number()) {
            return rule(RequisitionError::Invalid(reserve_core::Violations::one(
                "from_depot",
                "serial-tracked goods leave depot stock by an ordinary issue naming their serial numbers; \
                 then record the outcome without from_depot",
            )));
        }
        let take = left.min(free);
        *taken.entry(lot_id.clone()).or_default() += take;
        let mut e = EntryDraft::new(
            new_id(),
            EntryType::Issue,
            &d.code,
            &lot,
            Delta::on_hand(-take),
            o.at,
        );
        e.reason = format!(
            "requisition {} line {}: {}",
            r.number,
            item.number,
            o.kind.name()
        );
        e.document = r.number.clone();
        e.counterparty = r.owner.name.clone();
        e.incident = Some(r.incident_id.clone());
        out.push(e);
        left -= take;
    }
    if left > 0 {
        return rule(RequisitionError::Stock(
            reserve_core::stock::StockError::InsufficientStock {
                depot: depot.to_string(),
                item: format!("requisition {} line {}", r.number, item.number),
                lot: String::new(),
                requested: o.quantity,
                available,
            },
        ));
    }
    Ok(out)
}
