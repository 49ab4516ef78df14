//! Allocation orders: raised, approved (reserving at the sources),
//! dispatched (in transit), received (in one go or several), closed. Each
//! write is one [`ops`] operation through [`Store::run`](crate::Store); the
//! order is a document whose shares (reservations and transit) are rows.

mod ops;
pub(crate) mod rows;
mod world;

pub use ops::OrderCommand;

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{WriteMeta, Written};
use ops::{ActionOp, CreateOp};
use reserve_core::allocation::{AllocationError, NewOrder, Order, Priority, State};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::request::{Etag, PageSize};
use reserve_core::sourcing::ProposedLine;
use reserve_core::time::UtcMillis;
use rows::{ORDER_COLUMNS, OrderRow, load_order, load_placed, orders_from, touched};

/// Filters of an order list.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    /// Only orders touching this subtree.
    pub subtree: Option<DepotPath>,
    /// Only this state.
    pub state: Option<State>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this incident.
    pub incident: Option<String>,
    /// Raised at or after.
    pub from: Option<UtcMillis>,
    /// Raised before.
    pub to: Option<UtcMillis>,
}

impl Store {
    /// The orders a list query selects, with their shares.
    async fn fetch_orders(&self, sql: &Sql) -> Result<Vec<Order>, StoreError> {
        let mut c = self.reader().acquire().await?;
        let rows = sql.fetch_all(&mut *c).await?;
        let rows = rows
            .iter()
            .map(sqlx::FromRow::from_row)
            .collect::<Result<Vec<OrderRow>, _>>()?;
        orders_from(&mut c, rows).await
    }

    /// Raises an order as a draft.
    pub async fn create_order(
        &self,
        meta: &WriteMeta,
        new: NewOrder,
    ) -> Result<Written<Order>, OpError<AllocationError>> {
        self.run(meta, &CreateOp { new }).await
    }

    /// Plans `ask` and raises the plan as a draft with the header's fields,
    /// in one transaction; the proposal is part of the answer, so a retry
    /// gets the same one back.
    pub async fn create_order_from_proposal(
        &self,
        meta: &WriteMeta,
        header: reserve_core::allocation::OrderDraft,
        ask: reserve_core::sourcing::Ask,
        travel: reserve_core::sourcing::TravelModel,
    ) -> Result<Written<(Order, Vec<ProposedLine>)>, OpError<AllocationError>> {
        self.run(
            meta,
            &ops::FromProposalOp {
                header,
                ask,
                travel,
            },
        )
        .await
    }

    /// Acts on an order.
    pub async fn act_on_order(
        &self,
        meta: &WriteMeta,
        id: &str,
        command: OrderCommand,
        etag: Option<Etag>,
    ) -> Result<Written<Order>, OpError<AllocationError>> {
        let op = ActionOp {
            id: id.to_string(),
            command,
            etag,
        };
        self.run(meta, &op).await
    }

    /// One order (by id or number) with the paths of the depots it touches.
    pub async fn get_order(
        &self,
        id_or_number: &str,
    ) -> Result<Option<(Order, Vec<(DepotCode, DepotPath)>)>, StoreError> {
        let mut c = self.reader().acquire().await?;
        let Some(o) = load_order(&mut c, id_or_number).await? else {
            return Ok(None);
        };
        let placed = load_placed(&mut c, &touched(&o)).await?;
        let paths = placed.into_iter().map(|(c, p)| (c, p.path)).collect();
        Ok(Some((o, paths)))
    }

    /// Orders touching a subtree, newest first.
    pub async fn list_orders(
        &self,
        f: &OrderFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Order>, OpError<AllocationError>> {
        let filters = format!(
            "sub={:?};s={:?};p={:?};i={:?};from={:?};to={:?}",
            f.subtree.as_ref().map(DepotPath::as_str),
            f.state.map(State::number),
            f.priority.map(Priority::number),
            f.incident,
            f.from,
            f.to
        );
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {ORDER_COLUMNS} FROM allocation_orders o WHERE 1 = 1"
        ));
        if let Some(p) = &f.subtree {
            sql.push(
                " AND EXISTS (SELECT 1 FROM allocation_order_depots od JOIN depots d ON d.code = od.depot_code \
                 WHERE od.order_id = o.id AND d.path LIKE ?)",
                Arg::Text(format!("{}%", p.as_str())),
            );
        }
        if let Some(s) = f.state {
            sql.push(" AND o.state = ?", Arg::Int(s.number()));
        }
        if let Some(p) = f.priority {
            sql.push(" AND o.priority = ?", Arg::Int(p.number()));
        }
        if let Some(i) = &f.incident {
            sql.push(" AND o.incident_id = ?", Arg::Text(i.clone()));
        }
        if let Some(t) = f.from {
            sql.push(" AND o.raised_at >= ?", Arg::Int(t));
        }
        if let Some(t) = f.to {
            sql.push(" AND o.raised_at < ?", Arg::Int(t));
        }
        if let Some((at, id)) = after {
            sql.push(" AND (o.raised_at < ?", Arg::Int(at))
                .push(" OR (o.raised_at = ?", Arg::Int(at))
                .push(" AND o.id < ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY o.raised_at DESC, o.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let items = self.fetch_orders(&sql).await?;
        Ok(page::finish(items, size.get(), &filters, |o| {
            (o.raised_at, o.id.clone())
        }))
    }

    /// Emergency orders dispatched before approval whose approval is past
    /// due at `now`, touching a subtree, most overdue first.
    pub async fn list_overdue_backfills(
        &self,
        subtree: &DepotPath,
        now: UtcMillis,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Order>, OpError<AllocationError>> {
        let filters = format!("sub={};now-bucket", subtree.as_str());
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {ORDER_COLUMNS} FROM allocation_orders o WHERE o.approved_at IS NULL \
             AND o.backfill_due IS NOT NULL"
        ));
        sql.push(" AND o.backfill_due < ?", Arg::Int(now))
            .push(
                " AND o.state IN (?",
                Arg::Int(State::Dispatched.number()),
            )
            .push(", ?)", Arg::Int(State::Received.number()))
            .push(
                " AND EXISTS (SELECT 1 FROM allocation_order_depots od JOIN depots d ON d.code = od.depot_code \
                 WHERE od.order_id = o.id AND d.path LIKE ?)",
                Arg::Text(format!("{}%", subtree.as_str())),
            );
        if let Some((due, id)) = after {
            sql.push(" AND (o.backfill_due > ?", Arg::Int(due))
                .push(" OR (o.backfill_due = ?", Arg::Int(due))
                .push(" AND o.id > ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY o.backfill_due, o.id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let items = self.fetch_orders(&sql).await?;
        Ok(page::finish(items, size.get(), &filters, |o| {
            (o.backfill_due.unwrap_or(0), o.id.clone())
        }))
    }
}
