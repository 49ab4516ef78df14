//! Reading the audit log. Events are appended by [`crate::write`] only.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::page::{self, Page};
use crate::sql::{Arg, Sql};
use reserve_core::Violations;
use reserve_core::depot::DepotCode;
use reserve_core::depot::DepotPath;
use reserve_core::request::PageSize;
use reserve_core::time::UtcMillis;
use sqlx::FromRow;

/// One audit event as stored.
#[derive(Clone, Debug, PartialEq, Eq, FromRow)]
pub struct AuditEvent {
    /// Position in the log.
    pub seq: i64,
    /// Commit time.
    pub occurred_at: UtcMillis,
    /// Subject of the actor.
    pub actor: String,
    /// Display name of the actor.
    pub actor_name: String,
    /// Roles, comma-separated claim strings.
    pub actor_roles: String,
    /// Full gRPC method.
    pub method: String,
    /// Resource name.
    pub resource: String,
    /// Depot whose subtree the event belongs to.
    pub depot_code: String,
    /// Request id of the change.
    pub request_id: String,
    /// JSON object of what changed.
    pub changes: String,
}

/// Filters of an audit query.
#[derive(Clone, Debug)]
pub struct AuditFilter {
    /// Only events of this subtree.
    pub subtree: DepotPath,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only methods ending with this (full name or RPC name).
    pub method: Option<String>,
    /// Only this resource.
    pub resource: Option<String>,
    /// From this time on.
    pub start: Option<UtcMillis>,
    /// Before this time.
    pub end: Option<UtcMillis>,
}

impl Store {
    /// Audit events in scope, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_audit(
        &self,
        f: &AuditFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<AuditEvent>, OpError<Violations>> {
        let filters = format!(
            "sub={};a={:?};m={:?};r={:?};s={:?};e={:?}",
            f.subtree.as_str(),
            f.actor,
            f.method,
            f.resource,
            f.start,
            f.end
        );
        let before: Option<i64> = page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(
            "SELECT a.seq, a.occurred_at, a.actor, a.actor_name, a.actor_roles, a.method, a.resource, \
             a.depot_code, a.request_id, a.changes FROM audit_events a \
             JOIN depots d ON d.code = a.depot_code WHERE ",
        );
        sql.push(
            "d.path LIKE ?",
            Arg::Text(format!("{}%", f.subtree.as_str())),
        );
        if let Some(a) = &f.actor {
            sql.push(" AND a.actor = ?", Arg::Text(a.clone()));
        }
        if let Some(m) = &f.method {
            if m.starts_with('/') {
                sql.push(" AND a.method = ?", Arg::Text(m.clone()));
            } else {
                sql.push(" AND a.method LIKE ?", Arg::Text(format!("%/{m}")));
            }
        }
        if let Some(r) = &f.resource {
            sql.push(" AND a.resource = ?", Arg::Text(r.clone()));
        }
        if let Some(s) = f.start {
            sql.push(" AND a.occurred_at >= ?", Arg::Int(s));
        }
        if let Some(e) = f.end {
            sql.push(" AND a.occurred_at < ?", Arg::Int(e));
        }
        if let Some(b) = before {
            sql.push(" AND a.seq < ?", Arg::Int(b));
        }
        sql.push(
            " ORDER BY a.seq DESC LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let rows = sql.fetch_all(self.reader()).await?;
        let events = rows
            .iter()
            .map(AuditEvent::from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        Ok(page::finish(events, size.get(), &filters, |e| e.seq))
    }

    /// How many audit events exist for a depot's subtree; used by checks and tests.
    pub async fn count_audit(&self, subtree: &DepotCode) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_events a JOIN depots d ON d.code = a.depot_code \
             JOIN depots s ON s.code = $1 WHERE d.path LIKE s.path || '%'",
        )
        .bind(subtree.as_str())
        .fetch_one(self.reader())
        .await?;
        Ok(n)
    }
}
