//! Enterprise reserves: agreements with what they commit, call-offs, and
//! deliveries received into the owning depot as stock funded by the
//! agreement. Called-off and delivered units move only by guarded updates.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_scope_and_path;
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::stock::Posted;
use crate::stock::receipt::post_receipt;
use crate::stock::rows::new_id;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::enterprise::{agreement_recorder, call_off_maker, delivery_receiver};
use reserve_core::depot::{Contact, DepotCode, DepotPath};
use reserve_core::enterprise::{
    Agreement, AgreementItem, CallOff, CallOffLine, CreditCode, EnterpriseError, NewAgreement,
    NewCallOff, check_call_off,
};
use reserve_core::item::ItemId;
use reserve_core::request::PageSize;
use reserve_core::sourcing::ReserveKind;
use reserve_core::stock::receipt::Receipt;
use reserve_core::stock::{Day, FundingSource};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyConnection, FromRow};

type Fail = OpError<EnterpriseError>;

fn rule<T>(e: EnterpriseError) -> Result<T, Fail> {
    Err(OpError::Rule(e))
}

const AGREEMENT_COLUMNS: &str = "a.id, a.kind, a.company_name, a.credit_code, a.depot_code, a.response_hours, \
     a.valid_from, a.valid_until, a.contact, a.note, a.created_by, a.created_at";

#[derive(FromRow)]
struct AgreementRow {
    id: String,
    kind: i64,
    company_name: String,
    credit_code: String,
    depot_code: String,
    response_hours: f64,
    valid_from: i64,
    valid_until: i64,
    contact: String,
    note: String,
    created_by: String,
    created_at: i64,
}

async fn agreements_from(
    conn: &mut AnyConnection,
    rows: Vec<AgreementRow>,
) -> Result<Vec<Agreement>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let items: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT item_id, committed, called_off, delivered FROM agreement_items WHERE agreement_id = $1 \
             ORDER BY item_id",
        )
        .bind(&r.id)
        .fetch_all(&mut *conn)
        .await?;
        let contact: Option<Contact> = serde_json::from_str(&r.contact)?;
        out.push(Agreement {
            kind: ReserveKind::from_number(r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("agreement {}: kind", r.id)))?,
            id: r.id,
            company: r.company_name,
            credit_code: CreditCode::from_stored(r.credit_code),
            depot: DepotCode::from_stored(r.depot_code),
            response_hours: r.response_hours,
            valid_from: Day(r.valid_from),
            valid_until: Day(r.valid_until),
            items: items
                .into_iter()
                .map(|(item, committed, called_off, delivered)| AgreementItem {
                    item: ItemId::from_stored(item),
                    committed,
                    called_off,
                    delivered,
                })
                .collect(),
            contact,
            note: r.note,
            created_by: r.created_by,
            created_at: r.created_at,
        });
    }
    Ok(out)
}

pub(crate) async fn load_agreement(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Agreement>, StoreError> {
    let rows: Vec<AgreementRow> = sqlx::query_as(&format!(
        "SELECT {AGREEMENT_COLUMNS} FROM agreements a WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(agreements_from(conn, rows).await?.into_iter().next())
}

#[derive(FromRow)]
struct CallOffRow {
    id: String,
    agreement_id: String,
    company_name: String,
    depot_code: String,
    order_id: Option<String>,
    incident_id: Option<String>,
    reason: String,
    called_by: String,
    called_at: i64,
    due_at: i64,
}

const CALL_OFF_COLUMNS: &str = "c.id, c.agreement_id, a.company_name, c.depot_code, c.order_id, c.incident_id, \
     c.reason, c.called_by, c.called_at, c.due_at";

async fn call_offs_from(
    conn: &mut AnyConnection,
    rows: Vec<CallOffRow>,
) -> Result<Vec<CallOff>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let lines: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT item_id, quantity, delivered FROM call_off_lines WHERE call_off_id = $1 ORDER BY item_id",
        )
        .bind(&r.id)
        .fetch_all(&mut *conn)
        .await?;
        out.push(CallOff {
            id: r.id,
            agreement: r.agreement_id,
            company: r.company_name,
            depot: DepotCode::from_stored(r.depot_code),
            lines: lines
                .into_iter()
                .map(|(item, quantity, delivered)| CallOffLine {
                    item: ItemId::from_stored(item),
                    quantity,
                    delivered,
                })
                .collect(),
            order: r.order_id,
            incident: r.incident_id,
            reason: r.reason,
            called_by: r.called_by,
            called_at: r.called_at,
            due_at: r.due_at,
        });
    }
    Ok(out)
}

async fn load_call_off(conn: &mut AnyConnection, id: &str) -> Result<Option<CallOff>, StoreError> {
    let rows: Vec<CallOffRow> = sqlx::query_as(&format!(
        "SELECT {CALL_OFF_COLUMNS} FROM call_offs c JOIN agreements a ON a.id = c.agreement_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(call_offs_from(conn, rows).await?.into_iter().next())
}

/// A call-off and the agreement after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalledOff {
    /// The call-off.
    pub call_off: CallOff,
    /// The agreement.
    pub agreement: Agreement,
}

/// A delivery received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivered {
    /// The call-off after it.
    pub call_off: CallOff,
    /// The receipt.
    pub posted: Posted,
}

/// A delivery as the keeper records it: the receipt (funding is set here).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The call-off.
    pub call_off: String,
    /// The receipt, at any depot (the call-off's own is used).
    pub receipt: Receipt,
}

impl Store {
    /// Records an agreement.
    pub async fn create_agreement(
        &self,
        meta: &WriteMeta,
        new: NewAgreement,
    ) -> Result<Written<Agreement>, Fail> {
        self.run(meta, &CreateAgreement { new }).await
    }

    /// Calls off an agreement.
    pub async fn call_off(
        &self,
        meta: &WriteMeta,
        new: NewCallOff,
    ) -> Result<Written<CalledOff>, Fail> {
        self.run(meta, &CallOffOp { new }).await
    }

    /// Receives a delivery against a call-off.
    pub async fn receive_call_off(
        &self,
        meta: &WriteMeta,
        delivery: Delivery,
    ) -> Result<Written<Delivered>, Fail> {
        self.run(meta, &ReceiveCallOffOp { delivery }).await
    }

    /// One agreement with the path of its depot.
    pub async fn get_agreement(
        &self,
        id: &str,
    ) -> Result<Option<(Agreement, Option<DepotPath>)>, StoreError> {
        let mut c = self.reader().acquire().await?;
        let Some(a) = load_agreement(&mut c, id).await? else {
            return Ok(None);
        };
        let path = self
            .depot_paths(&[&a.depot])
            .await?
            .into_iter()
            .next()
            .map(|(_, p)| p);
        Ok(Some((a, path)))
    }

    /// Agreements of a subtree not yet ended on `today` (in force or yet to
    /// start; or only those ending within `expiring` days), by end date.
    pub async fn list_agreements(
        &self,
        subtree: &DepotPath,
        today: Day,
        expiring: Option<i64>,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Agreement>, Fail> {
        let filters = format!("sub={};d={};x={expiring:?}", subtree.as_str(), today.0);
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {AGREEMENT_COLUMNS} FROM agreements a JOIN depots d ON d.code = a.depot_code WHERE "
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())))
            .push(" AND a.valid_until >= ?", Arg::Int(today.0));
        if let Some(days) = expiring {
            sql.push(
                " AND a.valid_until <= ?",
                Arg::Int(today.0.saturating_add(days)),
            );
        }
        if let Some((until, id)) = after {
            sql.push(" AND (a.valid_until > ?", Arg::Int(until))
                .push(" OR (a.valid_until = ?", Arg::Int(until))
                .push(" AND a.id > ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY a.valid_until, a.id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let mut c = self.reader().acquire().await?;
        let rows = sql.fetch_all(&mut *c).await?;
        let rows = rows
            .iter()
            .map(AgreementRow::from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let items = agreements_from(&mut c, rows).await?;
        Ok(page::finish(items, size.get(), &filters, |a| {
            (a.valid_until.0, a.id.clone())
        }))
    }

    /// Call-offs of a subtree, newest first.
    pub async fn list_call_offs(
        &self,
        subtree: &DepotPath,
        open_only: bool,
        size: PageSize,
        token: &str,
    ) -> Result<Page<CallOff>, Fail> {
        let filters = format!("sub={};open={open_only}", subtree.as_str());
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {CALL_OFF_COLUMNS} FROM call_offs c JOIN agreements a ON a.id = c.agreement_id \
             JOIN depots d ON d.code = c.depot_code WHERE "
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if open_only {
            sql.raw(
                " AND EXISTS (SELECT 1 FROM call_off_lines l WHERE l.call_off_id = c.id AND l.delivered < l.quantity)",
            );
        }
        if let Some((at, id)) = after {
            sql.push(" AND (c.called_at < ?", Arg::Int(at))
                .push(" OR (c.called_at = ?", Arg::Int(at))
                .push(" AND c.id < ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY c.called_at DESC, c.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let mut c = self.reader().acquire().await?;
        let rows = sql.fetch_all(&mut *c).await?;
        let rows = rows
            .iter()
            .map(CallOffRow::from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let items = call_offs_from(&mut c, rows).await?;
        Ok(page::finish(items, size.get(), &filters, |c| {
            (c.called_at, c.id.clone())
        }))
    }
}

async fn placed(
    tx: &mut AnyConnection,
    meta: &WriteMeta,
    depot: &DepotCode,
) -> Result<(Option<DepotPath>, DepotPath), Fail> {
    let (scope, path) = load_scope_and_path(tx, &meta.actor.scope, depot).await?;
    match path {
        Some(p) => Ok((scope.map(|s| s.path), p)),
        None => rule(EnterpriseError::NotFound(format!("depots/{depot}"))),
    }
}

fn audit(resource: String, depot: &DepotCode, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource,
        depot: depot.clone(),
        changes,
    }
}

struct CreateAgreement {
    new: NewAgreement,
}

impl Op for CreateAgreement {
    type Output = Agreement;
    type Error = EnterpriseError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Agreement, EnterpriseError> {
        let n = &self.new;
        let depot = n.depot.clone().unwrap_or_else(|| meta.actor.scope.clone());
        let (scope, path) = placed(tx, meta, &depot).await?;
        agreement_recorder(&meta.actor, scope.as_ref(), &depot, &path)
            .map_err(|d| OpError::Rule(d.into()))?;
        for (item, _) in &n.items {
            if crate::catalog::load_item(tx, item.as_str())
                .await?
                .is_none()
            {
                return rule(EnterpriseError::NotFound(format!("items/{item}")));
            }
        }
        let a = Agreement {
            id: new_id(),
            kind: n.kind,
            company: n.company.clone(),
            credit_code: n.credit_code.clone(),
            depot: depot.clone(),
            response_hours: n.response_hours,
            valid_from: n.valid_from,
            valid_until: n.valid_until,
            items: n
                .items
                .iter()
                .map(|(item, committed)| AgreementItem {
                    item: item.clone(),
                    committed: *committed,
                    called_off: 0,
                    delivered: 0,
                })
                .collect(),
            contact: n.contact.clone(),
            note: n.note.clone(),
            created_by: meta.actor.subject.clone(),
            created_at: meta.now,
        };
        sqlx::query(
            "INSERT INTO agreements (id, kind, company_name, credit_code, depot_code, response_hours, valid_from, \
             valid_until, contact, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&a.id)
        .bind(a.kind.number())
        .bind(&a.company)
        .bind(a.credit_code.as_str())
        .bind(a.depot.as_str())
        .bind(a.response_hours)
        .bind(a.valid_from.0)
        .bind(a.valid_until.0)
        .bind(serde_json::to_string(&a.contact).map_err(StoreError::from)?)
        .bind(&a.note)
        .bind(&a.created_by)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await?;
        for i in &a.items {
            sqlx::query(
                "INSERT INTO agreement_items (agreement_id, item_id, committed, called_off, delivered) \
                 VALUES ($1, $2, $3, 0, 0)",
            )
            .bind(&a.id)
            .bind(i.item.as_str())
            .bind(i.committed)
            .execute(&mut *tx)
            .await?;
        }
        let event = audit(
            format!("agreements/{}", a.id),
            &depot,
            json!({"created": {"company": a.company, "credit_code": a.credit_code.as_str(),
                "kind": a.kind.number(), "valid_until": a.valid_until.date().to_string(),
                "items": a.items.iter().map(|i| json!({"item": i.item.as_str(), "committed": i.committed})).collect::<Vec<_>>()}}),
        );
        Ok((a, event))
    }
}

struct CallOffOp {
    new: NewCallOff,
}

impl Op for CallOffOp {
    type Output = CalledOff;
    type Error = EnterpriseError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<CalledOff, EnterpriseError> {
        let n = &self.new;
        let Some(a) = load_agreement(tx, n.agreement.as_str()).await? else {
            return rule(EnterpriseError::NotFound(format!(
                "agreements/{}",
                n.agreement
            )));
        };
        let (scope, path) = placed(tx, meta, &a.depot).await?;
        call_off_maker(&meta.actor, scope.as_ref(), &a.depot, &path)
            .map_err(|d| OpError::Rule(d.into()))?;
        check_call_off(&a, n, Day::today(meta.now))
            .map_err(|m| OpError::Rule(EnterpriseError::CallOffRefused(m)))?;
        let order = match &n.order {
            Some(o) => match crate::allocation::rows::load_order(tx, o).await? {
                Some(order) => Some(order.id),
                None => return rule(EnterpriseError::NotFound(format!("allocationOrders/{o}"))),
            },
            None => None,
        };
        if let Some(i) = &n.incident
            && crate::incident::load_incident(tx, i.as_str())
                .await?
                .is_none()
        {
            return rule(EnterpriseError::NotFound(format!("incidents/{i}")));
        }
        for (item, q) in &n.lines {
            let moved = sqlx::query(
                "UPDATE agreement_items SET called_off = called_off + $1 \
                 WHERE agreement_id = $2 AND item_id = $3 AND called_off + $1 <= committed",
            )
            .bind(q)
            .bind(&a.id)
            .bind(item.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                // Another call-off took it since we read: re-read and decide again.
                return Err(OpError::Store(StoreError::Conflict));
            }
        }
        let due = meta
            .now
            .saturating_add(reserve_core::sourcing::hours_ms(a.response_hours));
        let c = CallOff {
            id: new_id(),
            agreement: a.id.clone(),
            company: a.company.clone(),
            depot: a.depot.clone(),
            lines: n
                .lines
                .iter()
                .map(|(item, q)| CallOffLine {
                    item: item.clone(),
                    quantity: *q,
                    delivered: 0,
                })
                .collect(),
            order,
            incident: n.incident.as_ref().map(|i| i.to_string()),
            reason: n.reason.clone(),
            called_by: meta.actor.subject.clone(),
            called_at: meta.now,
            due_at: due,
        };
        sqlx::query(
            "INSERT INTO call_offs (id, agreement_id, depot_code, order_id, incident_id, reason, called_by, called_at, \
             due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&c.id)
        .bind(&c.agreement)
        .bind(c.depot.as_str())
        .bind(c.order.clone())
        .bind(c.incident.clone())
        .bind(&c.reason)
        .bind(&c.called_by)
        .bind(c.called_at)
        .bind(c.due_at)
        .execute(&mut *tx)
        .await?;
        for l in &c.lines {
            sqlx::query(
                "INSERT INTO call_off_lines (call_off_id, item_id, quantity, delivered) VALUES ($1, $2, $3, 0)",
            )
            .bind(&c.id)
            .bind(l.item.as_str())
            .bind(l.quantity)
            .execute(&mut *tx)
            .await?;
        }
        let Some(after) = load_agreement(tx, &a.id).await? else {
            return Err(OpError::Store(StoreError::Conflict));
        };
        let event = audit(
            format!("callOffs/{}", c.id),
            &c.depot,
            json!({"called_off": {"agreement": a.id, "company": a.company, "due_at": due,
                "lines": c.lines.iter().map(|l| json!({"item": l.item.as_str(), "quantity": l.quantity})).collect::<Vec<_>>()}}),
        );
        Ok((
            CalledOff {
                call_off: c,
                agreement: after,
            },
            event,
        ))
    }
}

struct ReceiveCallOffOp {
    delivery: Delivery,
}

impl Op for ReceiveCallOffOp {
    type Output = Delivered;
    type Error = EnterpriseError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Delivered, EnterpriseError> {
        let d = &self.delivery;
        let Some(c) = load_call_off(tx, &d.call_off).await? else {
            return rule(EnterpriseError::NotFound(format!(
                "callOffs/{}",
                d.call_off
            )));
        };
        delivery_receiver(&meta.actor, &c.depot).map_err(|e| OpError::Rule(e.into()))?;
        let q = d.receipt.quantity;
        let Some(line) = c.lines.iter().find(|l| l.item == d.receipt.item) else {
            return rule(EnterpriseError::DeliveryExceedsCallOff(format!(
                "call-off {} did not ask for {}",
                c.id, d.receipt.item
            )));
        };
        if q > line.quantity - line.delivered {
            return rule(EnterpriseError::DeliveryExceedsCallOff(format!(
                "call-off {} still awaits {} {}; this delivery brings {q}",
                c.id,
                line.quantity - line.delivered,
                line.item
            )));
        }
        let moved = sqlx::query(
            "UPDATE call_off_lines SET delivered = delivered + $1 \
             WHERE call_off_id = $2 AND item_id = $3 AND delivered + $1 <= quantity",
        )
        .bind(q)
        .bind(&c.id)
        .bind(line.item.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let moved_agreement = sqlx::query(
            "UPDATE agreement_items SET delivered = delivered + $1 \
             WHERE agreement_id = $2 AND item_id = $3 AND delivered + $1 <= called_off",
        )
        .bind(q)
        .bind(&c.agreement)
        .bind(line.item.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 || moved_agreement != 1 {
            return Err(OpError::Store(StoreError::Conflict));
        }
        let mut r = d.receipt.clone();
        r.depot = c.depot.clone();
        r.funding = Some(FundingSource::Agreement);
        r.counterparty = c.company.clone();
        let posted = post_receipt(tx, meta, &r).await.map_err(|e| match e {
            OpError::Rule(s) => OpError::Rule(EnterpriseError::Stock(s)),
            OpError::Invalid(v) => OpError::Invalid(v),
            OpError::RequestIdReused { method } => OpError::RequestIdReused { method },
            OpError::Store(s) => OpError::Store(s),
        })?;
        let Some(after) = load_call_off(tx, &c.id).await? else {
            return Err(OpError::Store(StoreError::Conflict));
        };
        let event = audit(
            format!("callOffs/{}", c.id),
            &c.depot,
            json!({"delivered": {"item": line.item.as_str(), "quantity": q,
                "posted": crate::stock::summary::entries_json(&posted.entries)}}),
        );
        Ok((
            Delivered {
                call_off: after,
                posted,
            },
            event,
        ))
    }
}

/// Live agreements covering `item` on `today`, with what is left to call
/// off and where their owning depot is.
pub(crate) async fn live_offers(
    conn: &mut AnyConnection,
    item: &str,
    today: Day,
) -> Result<Vec<(Agreement, i64, reserve_core::depot::GeoPoint)>, StoreError> {
    let rows: Vec<(String, i64, f64, f64)> = sqlx::query_as(
        "SELECT a.id, i.committed - i.called_off, d.latitude, d.longitude FROM agreements a \
         JOIN agreement_items i ON i.agreement_id = a.id JOIN depots d ON d.code = a.depot_code \
         WHERE i.item_id = $1 AND a.valid_from <= $2 AND a.valid_until >= $2 AND i.committed > i.called_off \
         AND d.status = 1",
    )
    .bind(item)
    .bind(today.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (id, left, lat, lon) in rows {
        if let Some(a) = load_agreement(conn, &id).await? {
            out.push((
                a,
                left,
                reserve_core::depot::GeoPoint {
                    latitude: lat,
                    longitude: lon,
                },
            ));
        }
    }
    Ok(out)
}
