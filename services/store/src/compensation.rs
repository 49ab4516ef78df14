//! Compensation claims: opened on a requisition, assessed, approved by a
//! second finance officer, paid (in parts) until settled, disputed and
//! re-assessed. Every transition is one `Store::run` with compare-and-set on
//! the claim's version; the amount comes from core's figures, never from
//! the caller. Also the finance reports and the purge of owners' private
//! data after settlement.

use crate::db::Store;
use crate::error::{OpError, StoreError};
use crate::network::load_depot;
use crate::page::{self, Page};
use crate::requisition::placed;
use crate::requisition::rows::{load_requisition, next_number};
use crate::sql::{Arg, Sql};
use crate::stock::rows::new_id;
use crate::write::{Applied, Op, WriteMeta, Written};
use reserve_core::audit::AuditRecord;
use reserve_core::authz::Principal;
use reserve_core::authz::requisition::{purger, requisition_reader, settler};
use reserve_core::compensation::{Claim, ClaimState, DirectCost, Figures, Payment, figures};
use reserve_core::depot::DepotPath;
use reserve_core::request::{Etag, PageSize};
use reserve_core::requisition::RequisitionError;
use reserve_core::stock::Day;
use reserve_core::time::UtcMillis;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

type Fail = OpError<RequisitionError>;

fn rule<T>(e: RequisitionError) -> Result<T, Fail> {
    Err(OpError::Rule(e))
}

fn denied(d: reserve_core::authz::Denied) -> Fail {
    OpError::Rule(d.into())
}

/// Which claims a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimFilter {
    /// Every claim.
    All,
    /// Waiting for assessment: drafts and disputed claims.
    AwaitingAssessment,
    /// Assessed, waiting for approval.
    AwaitingApproval,
    /// Approved and not fully paid.
    Outstanding,
    /// Settled.
    Paid,
}

impl ClaimFilter {
    fn tag(self) -> &'static str {
        match self {
            ClaimFilter::All => "all",
            ClaimFilter::AwaitingAssessment => "assess",
            ClaimFilter::AwaitingApproval => "approve",
            ClaimFilter::Outstanding => "outstanding",
            ClaimFilter::Paid => "paid",
        }
    }

    fn states(self) -> &'static str {
        match self {
            ClaimFilter::All => "1, 2, 3, 4, 5",
            ClaimFilter::AwaitingAssessment => "1, 5",
            ClaimFilter::AwaitingApproval => "2",
            ClaimFilter::Outstanding => "3",
            ClaimFilter::Paid => "4",
        }
    }
}

/// A step of a claim, as asked.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimStep {
    /// Fix the amount with these accepted direct costs.
    Assess {
        /// Accepted direct costs.
        costs: Vec<DirectCost>,
        /// Note.
        note: String,
    },
    /// Approve the assessed amount.
    Approve {
        /// Note.
        note: String,
    },
    /// Record a payment.
    Pay {
        /// Amount, fen.
        amount_fen: i64,
        /// Date paid.
        paid_on: Day,
        /// Bank reference.
        bank_reference: String,
    },
    /// The owner disputes the amount.
    Dispute {
        /// Why.
        reason: String,
    },
}

impl ClaimStep {
    fn name(&self) -> &'static str {
        match self {
            ClaimStep::Assess { .. } => "assessed",
            ClaimStep::Approve { .. } => "approved",
            ClaimStep::Pay { .. } => "paid",
            ClaimStep::Dispute { .. } => "disputed",
        }
    }
}

/// One group of a finance report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// What the group is (an incident id, `company`/`person`, a tier name).
    pub key: String,
    /// Claims in it.
    pub claims: i64,
    /// Approved and not yet paid, fen.
    pub outstanding_fen: i64,
    /// Paid, fen.
    pub paid_fen: i64,
    /// Assessed and not yet approved, fen.
    pub awaiting_approval_fen: i64,
}

/// Finance's report over a subtree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinanceReport {
    /// By incident.
    pub by_incident: Vec<ReportRow>,
    /// By owner kind.
    pub by_owner_kind: Vec<ReportRow>,
    /// By the requisitioning tier.
    pub by_tier: Vec<ReportRow>,
    /// Everything.
    pub total: ReportRow,
    /// Claims waiting for assessment.
    pub awaiting_assessment: i64,
    /// Claims waiting for approval.
    pub awaiting_approval: i64,
    /// Requisitions whose voucher is overdue.
    pub vouchers_overdue: i64,
}

/// What a purge did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    /// Claims whose owner data was purged now.
    pub claims: Vec<String>,
    /// Settled before this time.
    pub settled_before: UtcMillis,
}

fn audit(c: &Claim, changes: serde_json::Value) -> AuditRecord {
    AuditRecord {
        resource: format!("claims/{}", c.id),
        depot: c.depot.clone(),
        changes,
    }
}

async fn load_claim(conn: &mut AnyConnection, key: &str) -> Result<Option<Claim>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT body FROM claims WHERE id = $1 OR number = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|(b,)| serde_json::from_str(&b).map_err(StoreError::from))
        .transpose()
}

fn assessed_fen(c: &Claim) -> i64 {
    c.assessed.as_ref().map_or(0, |f| f.total_fen)
}

async fn save_claim(
    tx: &mut AnyConnection,
    before: &Claim,
    after: &Claim,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE claims SET state = $1, assessed_fen = $2, approved_fen = $3, paid_fen = $4, settled_at = $5, \
         body = $6, version = $7 WHERE id = $8 AND version = $9 AND state = $10",
    )
    .bind(after.state.number())
    .bind(assessed_fen(after))
    .bind(after.approved_fen)
    .bind(after.paid_fen)
    .bind(after.settled_at)
    .bind(serde_json::to_string(after)?)
    .bind(after.version)
    .bind(&after.id)
    .bind(before.version)
    .bind(before.state.number())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

impl Store {
    /// Opens a claim on a requisition with the direct costs the owner claims.
    pub async fn open_claim(
        &self,
        meta: &WriteMeta,
        requisition: &str,
        claimed: Vec<DirectCost>,
        note: &str,
    ) -> Result<Written<Claim>, Fail> {
        self.run(
            meta,
            &OpenClaim {
                requisition: requisition.to_string(),
                claimed,
                note: note.to_string(),
            },
        )
        .await
    }

    /// Moves a claim one step.
    pub async fn step_claim(
        &self,
        meta: &WriteMeta,
        id: &str,
        step: ClaimStep,
        etag: Option<Etag>,
    ) -> Result<Written<Claim>, Fail> {
        self.run(
            meta,
            &StepClaim {
                id: id.to_string(),
                step,
                etag,
            },
        )
        .await
    }

    /// One claim, if the caller may read it, with the figures as of `today`
    /// (the assessed ones once assessed; a preview before).
    pub async fn get_claim(
        &self,
        actor: &Principal,
        id: &str,
        today: Day,
    ) -> Result<(Claim, Figures), Fail> {
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let Some(claim) = load_claim(&mut c, id).await? else {
            return rule(RequisitionError::NotFound(format!("claims/{id}")));
        };
        let (scope, path) = placed(&mut c, &actor.scope, &claim.depot).await?;
        requisition_reader(actor, scope.as_ref(), &claim.depot, &path).map_err(denied)?;
        let f = match &claim.assessed {
            Some(f) if claim.state != ClaimState::Draft => f.clone(),
            _ => {
                let Some(r) = load_requisition(&mut c, &claim.requisition_id).await? else {
                    return rule(RequisitionError::NotFound(format!(
                        "requisitions/{}",
                        claim.requisition_id
                    )));
                };
                figures(&r, &claim.claimed_costs, today).map_err(OpError::Rule)?
            }
        };
        Ok((claim, f))
    }

    /// Claims in `subtree`, oldest first (a work queue).
    pub async fn list_claims(
        &self,
        subtree: &DepotPath,
        filter: ClaimFilter,
        size: PageSize,
        token: &str,
    ) -> Result<Page<Claim>, Fail> {
        let filters = format!("sub={};f={}", subtree.as_str(), filter.tag());
        let after: Option<(i64, String)> =
            page::decode(token, &filters).map_err(OpError::Invalid)?;
        let mut sql = Sql::new(&format!(
            "SELECT c.body FROM claims c JOIN depots d ON d.code = c.depot_code WHERE c.state IN ({}) AND ",
            filter.states()
        ));
        sql.push("d.path LIKE ?", Arg::Text(format!("{}%", subtree.as_str())));
        if let Some((at, id)) = after {
            sql.push(" AND (c.opened_at > ?", Arg::Int(at))
                .push(" OR (c.opened_at = ?", Arg::Int(at))
                .push(" AND c.id > ?))", Arg::Text(id));
        }
        sql.push(
            " ORDER BY c.opened_at, c.id LIMIT ?",
            Arg::Int(i64::from(size.get()) + 1),
        );
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let rows = sql.fetch_all(&mut *c).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let body: String = sqlx::Row::try_get(r, "body").map_err(StoreError::from)?;
            out.push(serde_json::from_str::<Claim>(&body).map_err(StoreError::from)?);
        }
        Ok(page::finish(out, size.get(), &filters, |c: &Claim| {
            (c.timeline.first().map_or(0, |s| s.at), c.id.clone())
        }))
    }

    /// Outstanding and paid totals by incident, owner kind and tier, the
    /// work queues' lengths and overdue vouchers, over `subtree`.
    pub async fn finance_report(
        &self,
        subtree: &DepotPath,
        now: UtcMillis,
    ) -> Result<FinanceReport, Fail> {
        let mut c = self.reader().acquire().await.map_err(StoreError::from)?;
        let like = format!("{}%", subtree.as_str());
        let group = |col: &str| {
            format!(
                "SELECT CAST({col} AS TEXT) AS k, COUNT(*) AS n, \
                 CAST(COALESCE(SUM(CASE WHEN c.state = 3 THEN c.approved_fen - c.paid_fen ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(c.paid_fen), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN c.state = 2 THEN c.assessed_fen ELSE 0 END), 0) AS BIGINT) \
                 FROM claims c JOIN depots d ON d.code = c.depot_code WHERE d.path LIKE $1 GROUP BY {col} ORDER BY 1"
            )
        };
        let mut read = Vec::new();
        for col in ["c.incident_id", "c.owner_kind", "c.tier"] {
            let found: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(&group(col))
                .bind(&like)
                .fetch_all(&mut *c)
                .await
                .map_err(StoreError::from)?;
            read.push(
                found
                    .into_iter()
                    .map(|(k, n, o, p, a)| ReportRow {
                        key: k,
                        claims: n,
                        outstanding_fen: o,
                        paid_fen: p,
                        awaiting_approval_fen: a,
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let by_tier = read.pop().unwrap_or_default();
        let by_owner_kind = read.pop().unwrap_or_default();
        let by_incident = read.pop().unwrap_or_default();
        let mut report = FinanceReport {
            by_incident,
            by_owner_kind,
            by_tier,
            ..FinanceReport::default()
        };
        for r in &mut report.by_owner_kind {
            r.key = r
                .key
                .parse::<i64>()
                .ok()
                .and_then(reserve_core::requisition::OwnerKind::from_number)
                .map_or_else(|| r.key.clone(), |k| k.name().to_string());
        }
        for r in &mut report.by_tier {
            r.key = r
                .key
                .parse::<i64>()
                .ok()
                .and_then(reserve_core::tier::Tier::from_number)
                .map_or_else(|| r.key.clone(), |t| t.to_string());
        }
        for r in &report.by_incident {
            report.total.claims += r.claims;
            report.total.outstanding_fen = report
                .total
                .outstanding_fen
                .saturating_add(r.outstanding_fen);
            report.total.paid_fen = report.total.paid_fen.saturating_add(r.paid_fen);
            report.total.awaiting_approval_fen = report
                .total
                .awaiting_approval_fen
                .saturating_add(r.awaiting_approval_fen);
        }
        report.total.key = "total".into();
        let (assess, approve): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(CASE WHEN c.state IN (1, 5) THEN 1 END), COUNT(CASE WHEN c.state = 2 THEN 1 END) \
             FROM claims c JOIN depots d ON d.code = c.depot_code WHERE d.path LIKE $1",
        )
        .bind(&like)
        .fetch_one(&mut *c)
        .await
        .map_err(StoreError::from)?;
        report.awaiting_assessment = assess;
        report.awaiting_approval = approve;
        let (overdue,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM requisitions r JOIN depots d ON d.code = r.depot_code \
             WHERE d.path LIKE $1 AND r.has_voucher = 0 AND r.voucher_due < $2",
        )
        .bind(&like)
        .bind(now)
        .fetch_one(&mut *c)
        .await
        .map_err(StoreError::from)?;
        report.vouchers_overdue = overdue;
        Ok(report)
    }

    /// Purges owners' private data of claims in the caller's subtree
    /// settled before `settled_before`; amounts stay.
    pub async fn purge_private_data(
        &self,
        meta: &WriteMeta,
        settled_before: UtcMillis,
    ) -> Result<Written<Purged>, Fail> {
        self.run(meta, &PurgeOp { settled_before }).await
    }
}

struct OpenClaim {
    requisition: String,
    claimed: Vec<DirectCost>,
    note: String,
}

impl Op for OpenClaim {
    type Output = Claim;
    type Error = RequisitionError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Claim, RequisitionError> {
        let Some(r) = load_requisition(tx, &self.requisition).await? else {
            return rule(RequisitionError::NotFound(format!(
                "requisitions/{}",
                self.requisition
            )));
        };
        let (scope, path) = placed(tx, &meta.actor.scope, &r.depot).await?;
        settler(&meta.actor, scope.as_ref(), &r.depot, &path).map_err(denied)?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT number FROM claims WHERE requisition_id = $1")
                .bind(&r.id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((claim,)) = existing {
            return rule(RequisitionError::ClaimExists {
                number: r.number.clone(),
                claim,
            });
        }
        let Some(depot) = load_depot(tx, r.depot.as_str()).await? else {
            return rule(RequisitionError::NotFound(format!("depots/{}", r.depot)));
        };
        let number = next_number(tx, "claim_numbers", "BC", meta.now).await?;
        let c = Claim::open(
            new_id(),
            number,
            &r,
            depot.tier,
            self.claimed.clone(),
            &self.note,
            &meta.actor.subject,
            meta.now,
        );
        // One claim per requisition: a racing second open is a unique
        // violation here, retried and answered ClaimExists.
        sqlx::query(
            "INSERT INTO claims (id, number, requisition_id, depot_code, incident_id, owner_kind, tier, state, \
             assessed_fen, approved_fen, paid_fen, settled_at, opened_at, body, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, NULL, $9, $10, $11)",
        )
        .bind(&c.id)
        .bind(&c.number)
        .bind(&c.requisition_id)
        .bind(c.depot.as_str())
        .bind(&c.incident_id)
        .bind(c.owner_kind.number())
        .bind(c.tier.number())
        .bind(c.state.number())
        .bind(meta.now)
        .bind(serde_json::to_string(&c)?)
        .bind(c.version)
        .execute(&mut *tx)
        .await?;
        let event = audit(
            &c,
            json!({"claim_opened": {"number": c.number, "requisition": r.number,
                "owner": {"kind": c.owner_kind.name(), "name": c.owner_name},
                "claimed_costs_fen": c.claimed_costs.iter().map(|x| x.amount_fen).collect::<Vec<_>>()}}),
        );
        Ok((c, event))
    }
}

struct StepClaim {
    id: String,
    step: ClaimStep,
    etag: Option<Etag>,
}

impl Op for StepClaim {
    type Output = Claim;
    type Error = RequisitionError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Claim, RequisitionError> {
        let Some(c) = load_claim(tx, &self.id).await? else {
            return rule(RequisitionError::NotFound(format!("claims/{}", self.id)));
        };
        let (scope, path) = placed(tx, &meta.actor.scope, &c.depot).await?;
        settler(&meta.actor, scope.as_ref(), &c.depot, &path).map_err(denied)?;
        let by = meta.actor.subject.as_str();
        let after = match &self.step {
            ClaimStep::Assess { costs, note } => {
                let Some(r) = load_requisition(tx, &c.requisition_id).await? else {
                    return rule(RequisitionError::NotFound(format!(
                        "requisitions/{}",
                        c.requisition_id
                    )));
                };
                c.assess(&r, costs.clone(), by, meta.now, note)
            }
            ClaimStep::Approve { note } => c.approve(by, meta.now, note),
            ClaimStep::Pay {
                amount_fen,
                paid_on,
                bank_reference,
            } => c.pay(Payment {
                amount_fen: *amount_fen,
                paid_on: *paid_on,
                bank_reference: bank_reference.clone(),
                recorded_by: by.to_string(),
                recorded_at: meta.now,
            }),
            ClaimStep::Dispute { reason } => c.dispute(by, meta.now, reason),
        }
        .map_err(OpError::Rule)?;
        if let Some(e) = self.etag
            && e.version() != c.version
        {
            return rule(RequisitionError::StaleEtag {
                id: format!("claim {}", c.number),
                sent: e.version(),
                current: c.version,
            });
        }
        if !save_claim(tx, &c, &after).await? {
            return Err(OpError::Store(StoreError::Conflict));
        }
        let detail = match &self.step {
            ClaimStep::Assess { costs, .. } => json!({
                "total_fen": assessed_fen(&after),
                "direct_costs": costs.iter().map(|x| json!({"kind": format!("{:?}", x.kind),
                    "amount_fen": x.amount_fen, "evidence": x.evidence})).collect::<Vec<_>>()}),
            ClaimStep::Approve { .. } => json!({"approved_fen": after.approved_fen}),
            ClaimStep::Pay {
                amount_fen,
                paid_on,
                bank_reference,
            } => json!({"amount_fen": amount_fen, "paid_on": paid_on.date().to_string(),
                "bank_reference": bank_reference, "paid_fen": after.paid_fen}),
            ClaimStep::Dispute { reason } => json!({"reason": reason}),
        };
        let event = audit(
            &after,
            json!({ self.step.name(): detail, "number": after.number, "state": after.state.name() }),
        );
        Ok((after, event))
    }
}

struct PurgeOp {
    settled_before: UtcMillis,
}

impl Op for PurgeOp {
    type Output = Purged;
    type Error = RequisitionError;

    async fn apply(
        &self,
        tx: &mut AnyConnection,
        meta: &WriteMeta,
    ) -> Applied<Purged, RequisitionError> {
        purger(&meta.actor).map_err(denied)?;
        let Some(scope) = load_depot(tx, meta.actor.scope.as_str()).await? else {
            return rule(RequisitionError::NotFound(format!(
                "depots/{}",
                meta.actor.scope
            )));
        };
        let found: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.number, r.private_ref FROM claims c JOIN requisitions r ON r.id = c.requisition_id \
             JOIN depots d ON d.code = c.depot_code JOIN private_data p ON p.id = r.private_ref \
             WHERE c.state = 4 AND c.settled_at < $1 AND p.purged_at IS NULL AND d.path LIKE $2 \
             ORDER BY c.number",
        )
        .bind(self.settled_before)
        .bind(format!("{}%", scope.path.as_str()))
        .fetch_all(&mut *tx)
        .await?;
        for (_, private_ref) in &found {
            sqlx::query(
                "UPDATE private_data SET key_id = NULL, nonce = NULL, ciphertext = NULL, purged_at = $1 \
                 WHERE id = $2 AND purged_at IS NULL",
            )
            .bind(meta.now)
            .bind(private_ref)
            .execute(&mut *tx)
            .await?;
        }
        let claims: Vec<String> = found.into_iter().map(|(n, _)| n).collect();
        let out = Purged {
            claims,
            settled_before: self.settled_before,
        };
        let event = AuditRecord {
            resource: "private-data".into(),
            depot: scope.code.clone(),
            changes: json!({"purged": {"claims": out.claims, "settled_before": self.settled_before}}),
        };
        Ok((out, event))
    }
}
