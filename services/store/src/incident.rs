//! Incidents: recorded once by a command centre, read by everyone.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_scope_and_path;
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::allocation::AllocationError;
use reserve_core::audit::AuditRecord;
use reserve_core::authz::allocation::incident_recorder;
use reserve_core::depot::{DepotCode, DepotPath, GeoPoint};
use reserve_core::incident::{Incident, IncidentType, NewIncident};
use reserve_core::request::PageSize;
use serde_json::json;
use sqlx::{AnyConnection, FromRow};

const COLUMNS: &str = "i.id, i.name, i.type, i.occurred_at, i.latitude, i.longitude, i.address, i.depot_code, \
     i.description, i.created_by, i.created_at";

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    #[sqlx(rename = "type")]
    kind: i64,
    occurred_at: i64,
    latitude: f64,
    longitude: f64,
    address: String,
    depot_code: String,
    description: String,
    created_by: String,
    created_at: i64,
}

impl TryFrom<Row> for Incident {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Incident {
            kind: IncidentType::from_number(r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("incident {}: type", r.id)))?,
            id: r.id,
            name: r.name,
            occurred_at: r.occurred_at,
            point: GeoPoint {
                latitude: r.latitude,
                longitude: r.longitude,
            },
            address: r.address,
            depot: DepotCode::from_stored(r.depot_code),
            description: r.description,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }
}

/// Reads one incident inside an open connection.
pub(crate) async fn load_incident(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Incident>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM incidents i WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Incident::try_from).transpose()
}

/// Filters of an incident list.
#[derive(Clone, Debug, Default)]
pub struct IncidentFilter {
    /// Only incidents of command centres in this subtree.
    pub subtree: Option<DepotPath>,
    /// Only this kind.
    pub kind: Option<IncidentType>,
    /// Happened at or after.
    pub from: Option<i64>,
    /// Happened before.
    pub to: Option<i64>,
}

impl Store {
    /// Records an incident.
    pub async fn create_incident(
        &self,
        meta: &WriteMeta,
        new: NewIncident,
    ) -> Result<Written<Incident>, OpError<AllocationError>> {
        self.run(meta, &CreateIncident { new }).await
    }

    /// One incident.
    pub async fn get_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let mut c = self.reader().acquire().await?;
        load_incident(&mut c, id).await
    }

    /// Incidents, newest first.
    pub async fn list_incidents(
        &self,
        f: &IncidentFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Incident>, OpError<AllocationError>> {
        let filters = format!(
            "sub={:?};k={:?};from={:?};to={:?}",
            f.subtree.as_ref().map(DepotPath::as_str),
            f.kind.map(IncidentType::number),
            f.from,
            f.to
        );
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM incidents i JOIN depots d ON d.code = i.depot_code WHERE 1 = 1"
        ));
        if let Some(p) = &f.subtree {
            sql.push(" AND d.path LIKE ?", Arg::Text(format!("{}%", p.as_str())));
        }
        if let Some(k) = f.kind {
            sql.push(" AND i.type = ?", Arg::Int(k.number()));
        }
        if let Some(t) = f.from {
            sql.push(" AND i.occurred_at >= ?", Arg::Int(t));
        }
        if let Some(t) = f.to {
            sql.push(" AND i.occurred_at < ?", Arg::Int(t));
        }
        if let Some((at, id)) = after {
            sql.push(" AND (i.occurred_at < ?", Arg::Int(at))
                .push(" OR (i.occurred_at = ?", Arg::Int(at))
                .push(" AND i.id < ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY i.occurred_at DESC, i.id DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows
            .iter()
            .map(|r| Incident::try_from(Row::from_row(r)?))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page::finish(items, size.get(), &filters, |i| {
            (i.occurred_at, i.id.clone())
        }))
    }
}

struct CreateIncident {
    new: NewIncident,
}

impl Op for CreateIncident {
    type Output = Incident;
    type Error = AllocationError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Incident, AllocationError> {
        let n = &self.new;
        let depot = n.depot.clone().unwrap_or_else(|| meta.actor.scope.clone());
        let (scope, path) = load_scope_and_path(tx, &meta.actor.scope, &depot).await?;
        let Some(path) = path else {
            return Err(OpError::Rule(AllocationError::DepotNotFound(
                depot.to_string(),
            )));
        };
        incident_recorder(
            &meta.actor,
            scope.as_ref().map(|s| &s.path),
            (&depot, &path),
        )
        .map_err(|d| OpError::Rule(d.into()))?;
        let i = Incident {
            id: uuid::Uuid::now_v7().to_string(),
            name: n.name.clone(),
            kind: n.kind,
            occurred_at: n.occurred_at,
            point: n.point,
            address: n.address.clone(),
            depot: depot.clone(),
            description: n.description.clone(),
            created_by: meta.actor.subject.clone(),
            created_at: meta.now,
        };
        sqlx::query(
            "INSERT INTO incidents (id, name, type, occurred_at, latitude, longitude, address, depot_code, \
             description, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&i.id)
        .bind(&i.name)
        .bind(i.kind.number())
        .bind(i.occurred_at)
        .bind(i.point.latitude)
        .bind(i.point.longitude)
        .bind(&i.address)
        .bind(i.depot.as_str())
        .bind(&i.description)
        .bind(&i.created_by)
        .bind(i.created_at)
        .execute(&mut *tx)
        .await?;
        let audit = AuditRecord {
            resource: format!("incidents/{}", i.id),
            depot: depot.clone(),
            changes: json!({"created": {"name": i.name, "type": i.kind.number(),
                "occurred_at": i.occurred_at, "address": i.address}}),
        };
        Ok((i, audit))
    }
}
