//! Leases: out, back, recalled. Every action is one `Store::run`: load,
//! authorise (core), plan (core), post the entries, compare-and-set the
//! lease and its shares, audit.

pub(crate) mod rows;

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::{load_depot, load_scope_and_path};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::stock::post::post;
use crate::stock::rows::{load_assets_at, load_item_at, load_lot, new_id};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::lease::{lease_keeper, lease_reader, recaller};
use reserve_core::depot::{DepotCode, DepotPath, DepotStatus};
use reserve_core::item::{Item, Tracking};
use reserve_core::lease::fee::{Statement, statement};
use reserve_core::lease::plan::{LineWorld, plan_out, plan_return, recall};
use reserve_core::lease::{Lease, LeaseError, NewLease, ReturnLine};
use reserve_core::request::{Etag, PageSize};
use reserve_core::stock::{Day, StockError};
use reserve_core::time::UtcMillis;
use rows::{insert_lease, lease_from, load_lease, next_number, save_lease};
use serde_json::json;
use sqlx::AnyConnection;

type Fail = OpError<LeaseError>;

fn rule<T>(e: LeaseError) -> Result<T, Fail> {
    Err(OpError::Rule(e))
}

fn denied(d: reserve_core::authz::Denied) -> Fail {
    OpError::Rule(d.into())
}

/// Which leases a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseFilter {
    /// Every lease.
    All,
    /// Leases with units out.
    Open,
    /// Open leases past their due date.
    Overdue,
    /// Recalled leases with units still out after the deadline.
    RecallMissed,
}

impl LeaseFilter {
    fn tag(self) -> &'static str {
        match self {
            LeaseFilter::All => "all",
            LeaseFilter::Open => "open",
            LeaseFilter::Overdue => "overdue",
            LeaseFilter::RecallMissed => "recall-missed",
        }
    }
}

/// What a subtree recall did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recalled {
    /// The leases recalled now, each as it became.
    pub leases: Vec<Lease>,
    /// Open leases in the subtree left alone: not recallable, or recalled already.
    pub skipped: Vec<String>,
}

impl Store {
    /// Leases units out: they leave on hand into on lease, owned by the lease.
    pub async fn create_lease(
        &self,
        meta: &WriteMeta,
        new: NewLease,
    ) -> Result<Written<Lease>, Fail> {
        self.run(meta, &CreateLease { new }).await
    }

    /// Takes units back after their inspection; they came back at `at`.
    pub async fn return_lease(
        &self,
        meta: &WriteMeta,
        id: &str,
        lines: Vec<ReturnLine>,
        at: UtcMillis,
        etag: Option<Etag>,
    ) -> Result<Written<Lease>, Fail> {
        self.run(
            meta,
            &ReturnOp {
                id: id.to_string(),
                lines,
                at,
                etag,
            },
        )
        .await
    }

    /// Recalls one lease; the units are due back `hours` from now.
    pub async fn recall_lease(
        &self,
        meta: &WriteMeta,
        id: &str,
        hours: i64,
        reason: &str,
        etag: Option<Etag>,
    ) -> Result<Written<Lease>, Fail> {
        self.run(
            meta,
            &RecallOne {
                id: id.to_string(),
                hours,
                reason: reason.to_string(),
                etag,
            },
        )
        .await
    }

    /// Recalls every recallable open lease in the subtree of `depot`.
    pub async fn recall_leases(
        &self,
        meta: &WriteMeta,
        depot: &DepotCode,
        hours: i64,
        reason: &str,
    ) -> Result<Written<Recalled>, Fail> {
        self.run(
            meta,
            &RecallAll {
                depot: depot.clone(),
                hours,
                reason: reason.to_string(),
            },
        )
        .await
    }

    /// One lease, if the caller may read it.
    pub async fn get_lease(
        &self,
        actor: &reserve_core::authz::Principal,
        id: &str,
    ) -> Result<Lease, Fail> {
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let Some(l) = load_lease(&mut c, id).await? else {
            return rule(LeaseError::NotFound(format!("leases/{id}")));
        };
        let (scope, path) = placed(&mut c, &actor.scope, &l.depot).await?;
        lease_reader(actor, scope.as_ref(), &l.depot, &path).map_err(denied)?;
        Ok(l)
    }

    /// The statement of one lease on `today`.
    pub async fn lease_statement(
        &self,
        actor: &reserve_core::authz::Principal,
        id: &str,
        today: Day,
    ) -> Result<(Lease, Statement), Fail> {
        let l = self.get_lease(actor, id).await?;
        let s = statement(&l, today).map_err(OpError::Rule)?;
        Ok((l, s))
    }

    /// Leases in `subtree`, newest first.
    pub async fn list_leases(
        &self,
        subtree: &DepotPath,
        filter: LeaseFilter,
        now: UtcMillis,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Lease>, Fail> {
        let filters = format!("sub={};f={}", subtree.as_str(), filter.tag());
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(
            "SELECT s.body, s.start_at, s.id FROM leases s JOIN depots d ON d.code = s.depot_code WHERE ",
        );
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        match filter {
            LeaseFilter::All => {}
            LeaseFilter::Open => {
                sql.raw(" AND s.state = 1");
            }
            LeaseFilter::Overdue => {
                sql.push(
                    " AND s.state = 1 AND s.due_day < ?",
                    Arg::Int(Day::today(now).0),
                );
            }
            LeaseFilter::RecallMissed => {
                sql.push(
                    " AND s.state = 1 AND s.recall_deadline IS NOT NULL AND s.recall_deadline < ?",
                    Arg::Int(now),
                );
            }
        }
        if let Some((at, id)) = after {
            sql.push(" AND (s.start_at < ?", Arg::Int(at))
                .push(" OR (s.start_at = ?", Arg::Int(at))
                .push(" AND s.id < ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY s.start_at DESC, s.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let rows = sql.fetch_all(&mut *c).await?;
        let mut leases = Vec::with_capacity(rows.len());
        for r in &rows {
            let body: String = sqlx::Row::try_get(r, "body").map_err(StoreError::from)?;
            leases.push(lease_from(&body)?);
        }
        Ok(page::finish(leases, size.get(), &filters, |l| {
            (l.start, l.id.clone())
        }))
    }
}

async fn placed(
    conn: &mut AnyConnection,
    scope: &DepotCode,
    depot: &DepotCode,
) -> Result<(Option<DepotPath>, DepotPath), Fail> {
    let (scope, path) = load_scope_and_path(conn, scope, depot).await?;
    match path {
        Some(p) => Ok((scope.map(|s| s.path), p)),
        None => rule(LeaseError::NotFound(format!("depots/{depot}"))),
    }
}

fn audit(l: &Lease, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("leases/{}", l.id),
        depot: l.depot.clone(),
        changes,
    }
}

fn check_etag(l: &Lease, etag: Option<Etag>) -> Result<(), Fail> {
    match etag {
        Some(e) if e.version() != l.version => rule(LeaseError::StaleEtag {
            id: l.id.clone(),
            sent: e.version(),
            current: l.version,
        }),
        _ => Ok(()),
    }
}

struct CreateLease {
    new: NewLease,
}

impl Op for CreateLease {
    type Output = Lease;
    type Error = LeaseError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Lease, LeaseError> {
        let n = &self.new;
        lease_keeper(&meta.actor, &n.depot).map_err(denied)?;
        let Some(depot) = load_depot(tx, n.depot.as_str()).await? else {
            return rule(LeaseError::NotFound(format!("depots/{}", n.depot)));
        };
        if depot.status != DepotStatus::Active {
            return rule(
                StockError::DepotNotActive {
                    depot: depot.code.to_string(),
                    status: depot.status.name(),
                    action: "lease stock out",
                }
                .into(),
            );
        }
        // The year's number row first, then the stock lines: every create
        // takes its locks in the same order.
        let number = next_number(tx, meta.now).await?;
        let mut loaded = Vec::with_capacity(n.lines.len());
        for line in &n.lines {
            let (d, i) = (n.depot.as_str(), line.item.as_str());
            let mut at = load_item_at(tx, d, i).await?;
            let Some(item) = at.item.clone() else {
                return rule(LeaseError::NotFound(format!("items/{i}")));
            };
            if at.minimum > 0 {
                // The reserve minimum is a rule over all lots of the item here:
                // lock them so two writers cannot each pass it and together break it.
                sqlx::query("UPDATE stock_lines SET version = version WHERE depot_code = $1 AND item_id = $2")
                    .bind(d)
                    .bind(i)
                    .execute(&mut *tx)
                    .await?;
                at = load_item_at(tx, d, i).await?;
            }
            let assets = if item.tracking == Tracking::Serial {
                load_assets_at(tx, d, i).await?
            } else {
                Vec::new()
            };
            // Equipment overdue for upkeep is not lent out: when no serials
            // are named, units up to date are picked first.
            let states = at.states();
            let fit = if line.serials.is_empty() {
                crate::maintenance::due::without_overdue(
                    tx,
                    &n.depot,
                    &item,
                    &states,
                    &assets,
                    Day::today(meta.now),
                )
                .await?
            } else {
                None
            };
            loaded.push((item, states, assets, fit, at.minimum));
        }
        let worlds = |up_to_date: bool| -> Vec<LineWorld<'_>> {
            loaded
                .iter()
                .map(|(item, lines, assets, fit, minimum)| {
                    let (lines, assets, minimum) = match fit {
                        Some((l, a, aside)) if up_to_date => (l, a, (*minimum - aside).max(0)),
                        _ => (lines, assets, *minimum),
                    };
                    LineWorld {
                        item,
                        lines,
                        assets,
                        minimum,
                    }
                })
                .collect()
        };
        let id = new_id();
        let plan_with = |up_to_date: bool| {
            plan_out(
                n,
                &worlds(up_to_date),
                &id,
                &number,
                &meta.actor.subject,
                meta.now,
                Day::today(meta.now),
                &mut new_id,
            )
        };
        // Up-to-date units first; with overdue ones only if they are needed,
        // which the upkeep check below then refuses, naming them.
        let plan = match plan_with(true) {
            Ok(p) => p,
            Err(_) => plan_with(false).map_err(OpError::Rule)?,
        };
        // Equipment overdue for upkeep is not lent out: its upkeep first.
        for (item, ..) in &loaded {
            let serials: Vec<_> = plan
                .entries
                .iter()
                .filter(|e| e.lot.item == item.id)
                .flat_map(|e| e.serials.iter().cloned())
                .collect();
            let overdue = crate::maintenance::due::overdue_serials(
                tx,
                &n.depot,
                item,
                &serials,
                Day::today(meta.now),
            )
            .await?;
            if !overdue.is_empty() {
                let serials: Vec<String> = overdue
                    .iter()
                    .map(|(s, d)| format!("{s} (due {})", d.date()))
                    .collect();
                return rule(LeaseError::UpkeepOverdue(
                    serials.join(", "),
                    n.depot.to_string(),
                ));
            }
        }
        let near = loaded
            .first()
            .map(|(i, ..)| i.near_expiry_days)
            .unwrap_or(0);
        let posted = post(tx, meta, plan.entries, near).await?;
        insert_lease(tx, &plan.lease).await?;
        let l = plan.lease;
        let event = audit(
            &l,
            json!({"leased_out": {
                "number": l.number, "lessee": l.lessee.name, "credit_code": l.lessee.credit_code.as_str(),
                "due": l.due.date().to_string(), "deposit_fen": l.deposit_fen, "recallable": l.recallable,
                "entries": posted.entries.iter().map(|e| json!({"id": e.id, "lot": e.lot_number.as_str(),
                    "quantity": -e.delta.on_hand, "serials": e.serials})).collect::<Vec<_>>(),
            }}),
        );
        Ok((l, event))
    }
}

struct ReturnOp {
    id: String,
    lines: Vec<ReturnLine>,
    at: UtcMillis,
    etag: Option<Etag>,
}

impl Op for ReturnOp {
    type Output = Lease;
    type Error = LeaseError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Lease, LeaseError> {
        let Some(l) = load_lease(tx, &self.id).await? else {
            return rule(LeaseError::NotFound(format!("leases/{}", self.id)));
        };
        lease_keeper(&meta.actor, &l.depot).map_err(denied)?;
        check_etag(&l, self.etag)?;
        let mut items: Vec<(u32, Item)> = Vec::new();
        for line in &l.lines {
            match crate::catalog::load_item(tx, line.item.as_str()).await? {
                Some(i) => items.push((line.number, i)),
                None => return rule(LeaseError::NotFound(format!("items/{}", line.item))),
            }
        }
        let mut lots = Vec::new();
        for s in &l.shares {
            if let Some(lot) = load_lot(tx, s.lot.as_str()).await? {
                lots.push(lot);
            }
        }
        let tracking = |n: u32| {
            items
                .iter()
                .find(|(x, _)| *x == n)
                .map(|(_, i)| i.tracking)
                .unwrap_or(Tracking::Lot)
        };
        let plan = plan_return(
            &l,
            &self.lines,
            &tracking,
            &lots,
            &meta.actor.subject,
            self.at,
            &mut new_id,
        )
        .map_err(OpError::Rule)?;
        let near = items.first().map(|(_, i)| i.near_expiry_days).unwrap_or(0);
        let posted = post(tx, meta, plan.entries, near).await?;
        save_lease(tx, &l, &plan.lease).await?;
        // The inspection's conditions are the returned assets' conditions now.
        for r in &self.lines {
            let item = l
                .lines
                .iter()
                .find(|x| x.number == r.line)
                .map(|x| x.item.to_string());
            let damaged = r
                .inspection
                .damaged_condition
                .unwrap_or(r.inspection.condition);
            let each = r
                .serials
                .iter()
                .map(|s| (s, r.inspection.condition))
                .chain(r.damaged_serials.iter().map(|s| (s, damaged)));
            for (s, condition) in each {
                sqlx::query(
                    "UPDATE assets SET condition = $1 WHERE item_id = $2 AND serial_number = $3",
                )
                .bind(condition.number())
                .bind(item.as_deref().unwrap_or_default())
                .bind(s.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        let next = plan.lease;
        let event = audit(
            &next,
            json!({"returned": {
                "number": next.number, "state": next.state.name(),
                "inspections": self.lines.iter().map(|r| json!({"line": r.line, "intact": r.intact,
                    "damaged": r.damaged, "condition": r.inspection.condition.number(),
                    "damage_fen": r.inspection.damage_fen, "note": r.inspection.note})).collect::<Vec<_>>(),
                "entries": posted.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            }}),
        );
        Ok((next, event))
    }
}

fn deadline(now: UtcMillis, hours: i64) -> UtcMillis {
    now.saturating_add(hours.saturating_mul(3_600_000))
}

struct RecallOne {
    id: String,
    hours: i64,
    reason: String,
    etag: Option<Etag>,
}

impl Op for RecallOne {
    type Output = Lease;
    type Error = LeaseError;

    async fn apply(&self, tx: &mut AnyConnection, meta: &WriteMeta) -> Applied<Lease, LeaseError> {
        let Some(l) = load_lease(tx, &self.id).await? else {
            return rule(LeaseError::NotFound(format!("leases/{}", self.id)));
        };
        let (scope, path) = placed(tx, &meta.actor.scope, &l.depot).await?;
        recaller(&meta.actor, scope.as_ref(), &l.depot, &path).map_err(denied)?;
        check_etag(&l, self.etag)?;
        let next = recall(
            &l,
            deadline(meta.now, self.hours),
            &self.reason,
            &meta.actor.subject,
            meta.now,
        )
        .map_err(OpError::Rule)?;
        save_lease(tx, &l, &next).await?;
        let event = audit(
            &next,
            json!({"recalled": {"number": next.number, "deadline_hours": self.hours, "reason": self.reason}}),
        );
        Ok((next, event))
    }
}

struct RecallAll {
    depot: DepotCode,
    hours: i64,
    reason: String,
}

impl Op for RecallAll {
    type Output = Recalled;
    type Error = LeaseError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Recalled, LeaseError> {
        let (scope, path) = placed(tx, &meta.actor.scope, &self.depot).await?;
        recaller(&meta.actor, scope.as_ref(), &self.depot, &path).map_err(denied)?;
        let bodies: Vec<(String,)> = sqlx::query_as(
            "SELECT s.body FROM leases s JOIN depots d ON d.code = s.depot_code \
             WHERE d.path LIKE $1 AND s.state = 1 ORDER BY s.start_at, s.id",
        )
        .bind(format!("{}%", path.as_str()))
        .fetch_all(&mut *tx)
        .await?;
        let deadline = deadline(meta.now, self.hours);
        let mut out = Recalled {
            leases: Vec::new(),
            skipped: Vec::new(),
        };
        for (b,) in bodies {
            let l = lease_from(&b)?;
            match recall(&l, deadline, &self.reason, &meta.actor.subject, meta.now) {
                Ok(next) => {
                    save_lease(tx, &l, &next).await?;
                    // Each lease's own event, under its depot, so that the
                    // keepers who must chase the lessee see it.
                    crate::events::append(
                        tx,
                        meta,
                        &audit(
                            &next,
                            json!({"recalled": {"number": next.number, "deadline_hours": self.hours,
                                "reason": self.reason, "subtree": self.depot.as_str()}}),
                        ),
                    )
                    .await?;
                    out.leases.push(next);
                }
                Err(_) => out.skipped.push(l.number.clone()),
            }
        }
        let event = AuditRecord {
            resource: format!("depots/{}/leases", self.depot),
            depot: self.depot.clone(),
            changes: json!({"recalled": {
                "leases": out.leases.iter().map(|l| l.number.clone()).collect::<Vec<_>>(),
                "skipped": out.skipped, "deadline_hours": self.hours, "reason": self.reason}}),
        };
        Ok((out, event))
    }
}
