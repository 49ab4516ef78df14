//! `reserve.v1.CompensationService`: claims computed from requisition
//! records, assessed and approved by two finance officers, paid in parts
//! until settled; finance reports; the purge of owners' private data after
//! settlement.

use crate::context::Ctx;
use crate::error::{invalid, status_of};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::compensation_service_server::CompensationService;
use crate::requisition::{etag, owner_pb, requisition_key};
use crate::stock::wire::{date, ymd};
use crate::wire::{page_size, timestamp};
use reserve_core::Violations;
use reserve_core::authz::{Action, Principal};
use reserve_core::compensation::{Claim, DirectCost, DirectCostDraft, Figures, parse_direct_costs};
use reserve_core::depot::DepotCode;
use reserve_core::request::Etag;
use reserve_core::requisition::Owner;
use reserve_core::stock::Day;
use reserve_store::compensation::{ClaimFilter, ClaimStep, FinanceReport, ReportRow};
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

/// How long owners' private data is kept after a claim is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrivacyConfig {
    /// Days after settlement before a purge removes it.
    pub retention_days: i64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            retention_days: 365,
        }
    }
}

/// The compensation service over a shared context.
#[derive(Clone, Debug)]
pub struct CompensationApi {
    ctx: Ctx,
    privacy: PrivacyConfig,
}

impl CompensationApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx, privacy: PrivacyConfig) -> Self {
        Self { ctx, privacy }
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.CompensationService/{name}")
    }

    fn today(&self) -> Day {
        Day::today(self.ctx.clock.now())
    }

    async fn reply(
        &self,
        p: &Principal,
        c: &Claim,
        f: Option<&Figures>,
    ) -> Result<pb::Claim, Status> {
        let owner = Owner {
            kind: c.owner_kind,
            name: c.owner_name.clone(),
            masked: c.owner_masked.clone(),
            private_ref: c.private_ref.clone(),
        };
        let o = owner_pb(&self.ctx, p, &c.depot, &owner).await?;
        Ok(claim_pb(c, o, f.or(c.assessed.as_ref())))
    }
}

fn cost_pb(c: &DirectCost) -> pb::DirectCost {
    pb::DirectCost {
        kind: c.kind.number() as i32,
        description: c.description.clone(),
        staff_days: c.staff_days,
        daily_wage_fen: c.daily_wage_fen,
        amount_fen: c.amount_fen,
        evidence: c.evidence.clone(),
    }
}

fn figures_pb(f: &Figures) -> pb::ClaimFigures {
    pb::ClaimFigures {
        lines: f
            .lines
            .iter()
            .map(|l| pb::ClaimLine {
                line_number: l.line as i32,
                description: l.description.clone(),
                unit_days: l.unit_days,
                usage_fen: l.usage_fen,
                repair_claimed_fen: l.repair_claimed_fen,
                repair_fen: l.repair_fen,
                loss_fen: l.loss_fen,
            })
            .collect(),
        usage_fen: f.usage_fen,
        repair_fen: f.repair_fen,
        loss_fen: f.loss_fen,
        direct_fen: f.direct_fen,
        total_fen: f.total_fen,
        interim: f.interim,
        as_of_date: date(Some(f.as_of)),
    }
}

fn claim_pb(c: &Claim, owner: pb::RequisitionOwner, f: Option<&Figures>) -> pb::Claim {
    pb::Claim {
        id: c.id.clone(),
        number: c.number.clone(),
        requisition_id: c.requisition_id.clone(),
        requisition_number: c.requisition_number.clone(),
        depot_code: c.depot.to_string(),
        tier: c.tier.number() as i32,
        incident_id: c.incident_id.clone(),
        owner: Some(owner),
        claimed_costs: c.claimed_costs.iter().map(cost_pb).collect(),
        accepted_costs: c.accepted_costs.iter().map(cost_pb).collect(),
        figures: f.map(figures_pb),
        assessed_by: c.assessed_by.clone().unwrap_or_default(),
        approved_by: c.approved_by.clone().unwrap_or_default(),
        approved_fen: c.approved_fen,
        paid_fen: c.paid_fen,
        outstanding_fen: c.outstanding_fen(),
        payments: c
            .payments
            .iter()
            .map(|p| pb::ClaimPayment {
                amount_fen: p.amount_fen,
                paid_date: date(Some(p.paid_on)),
                bank_reference: p.bank_reference.clone(),
                recorded_by: p.recorded_by.clone(),
            })
            .collect(),
        state: c.state.number() as i32,
        settled_time: c.settled_at.and_then(timestamp),
        timeline: c
            .timeline
            .iter()
            .map(|s| pb::ClaimStep {
                state: s.state.number() as i32,
                time: timestamp(s.at),
                actor: s.by.clone(),
                note: s.note.clone(),
            })
            .collect(),
        etag: Etag::of(c.version).to_string(),
    }
}

fn row_pb(r: &ReportRow) -> pb::FinanceReportRow {
    pb::FinanceReportRow {
        key: r.key.clone(),
        claims: r.claims,
        outstanding_fen: r.outstanding_fen,
        paid_fen: r.paid_fen,
        awaiting_approval_fen: r.awaiting_approval_fen,
    }
}

fn report_pb(r: &FinanceReport) -> pb::GetFinanceReportResponse {
    pb::GetFinanceReportResponse {
        by_incident: r.by_incident.iter().map(row_pb).collect(),
        by_owner_kind: r.by_owner_kind.iter().map(row_pb).collect(),
        by_tier: r.by_tier.iter().map(row_pb).collect(),
        total: Some(row_pb(&r.total)),
        awaiting_assessment: r.awaiting_assessment,
        awaiting_approval: r.awaiting_approval,
        vouchers_overdue: r.vouchers_overdue,
    }
}

fn costs(raw: &[pb::DirectCost], field: &str) -> Result<Vec<DirectCost>, Violations> {
    let drafts: Vec<DirectCostDraft> = raw
        .iter()
        .map(|c| DirectCostDraft {
            kind: i64::from(c.kind),
            description: c.description.clone(),
            staff_days: c.staff_days,
            daily_wage_fen: c.daily_wage_fen,
            amount_fen: c.amount_fen,
            evidence: c.evidence.clone(),
        })
        .collect();
    parse_direct_costs(&drafts).map_err(|v| {
        let mut out = Violations::new();
        for f in v.into_vec() {
            out.add(f.field.replacen("direct_costs", field, 1), f.description);
        }
        out
    })
}

fn note(raw: &str, field: &str, v: &mut Violations) -> String {
    v.take(field, reserve_core::text::optional(raw, 500))
        .unwrap_or_default()
}

impl CompensationApi {
    async fn step(
        &self,
        p: Principal,
        request_id: &str,
        name: &str,
        request: &impl prost::Message,
        id: &str,
        parsed: Result<(ClaimStep, Option<Etag>), Violations>,
    ) -> Result<pb::Claim, Status> {
        let id = requisition_key("claim_id", id)?;
        let method = Self::method(name);
        let ((step, e), meta) = self
            .ctx
            .write(p.clone(), request_id, &method, request, parsed)?;
        let w = self
            .ctx
            .store
            .step_claim(&meta, &id, step, e)
            .await
            .map_err(status_of)?;
        self.reply(&p, &w.value, None).await
    }
}

fn finish<T>(t: T, v: Violations) -> Result<T, Violations> {
    if v.is_empty() { Ok(t) } else { Err(v) }
}

#[tonic::async_trait]
impl CompensationService for CompensationApi {
    async fn create_claim(
        &self,
        req: Request<pb::CreateClaimRequest>,
    ) -> Answer<pb::CreateClaimResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let id = requisition_key("requisition_id", &m.requisition_id)?;
        let mut v = Violations::new();
        let n = note(&m.note, "note", &mut v);
        let parsed = match costs(&m.claimed_costs, "claimed_costs") {
            Ok(c) => finish(c, v),
            Err(mut a) => {
                for f in v.into_vec() {
                    a.add(f.field, f.description);
                }
                Err(a)
            }
        };
        let method = Self::method("CreateClaim");
        let (claimed, meta) = self
            .ctx
            .write(p.clone(), &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .open_claim(&meta, &id, claimed, &n)
            .await
            .map_err(status_of)?;
        let (c, f) = self
            .ctx
            .store
            .get_claim(&p, &w.value.id, self.today())
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateClaimResponse {
            claim: Some(self.reply(&p, &c, Some(&f)).await?),
        }))
    }

    async fn assess_claim(
        &self,
        req: Request<pb::AssessClaimRequest>,
    ) -> Answer<pb::AssessClaimResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let mut v = Violations::new();
        let n = note(&m.note, "note", &mut v);
        let e = etag(&m.etag, &mut v);
        let parsed = match costs(&m.accepted_costs, "accepted_costs") {
            Ok(c) => finish((ClaimStep::Assess { costs: c, note: n }, e), v),
            Err(mut a) => {
                for f in v.into_vec() {
                    a.add(f.field, f.description);
                }
                Err(a)
            }
        };
        let c = self
            .step(p, &m.request_id, "AssessClaim", &m, &m.claim_id, parsed)
            .await?;
        Ok(Response::new(pb::AssessClaimResponse { claim: Some(c) }))
    }

    async fn approve_claim(
        &self,
        req: Request<pb::ApproveClaimRequest>,
    ) -> Answer<pb::ApproveClaimResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let mut v = Violations::new();
        let n = note(&m.note, "note", &mut v);
        let e = etag(&m.etag, &mut v);
        let parsed = finish((ClaimStep::Approve { note: n }, e), v);
        let c = self
            .step(p, &m.request_id, "ApproveClaim", &m, &m.claim_id, parsed)
            .await?;
        Ok(Response::new(pb::ApproveClaimResponse { claim: Some(c) }))
    }

    async fn record_claim_payment(
        &self,
        req: Request<pb::RecordClaimPaymentRequest>,
    ) -> Answer<pb::RecordClaimPaymentResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let mut v = Violations::new();
        if !(1..=reserve_core::compensation::MAX_AMOUNT_FEN).contains(&m.amount_fen) {
            v.add(
                "amount_fen",
                format!(
                    "must be 1 to {} fen",
                    reserve_core::compensation::MAX_AMOUNT_FEN
                ),
            );
        }
        let paid_on = match ymd(m.paid_date.as_ref()) {
            None => {
                v.add("paid_date", "is required: the date the transfer was made");
                None
            }
            Some(raw) => reserve_core::stock::fields::date(Some(raw), "paid_date", &mut v),
        };
        if paid_on.is_some_and(|d| d > self.today()) {
            v.add("paid_date", "must not be in the future");
        }
        let bank_reference = v.take(
            "bank_reference",
            reserve_core::text::required(&m.bank_reference, 64),
        );
        let e = etag(&m.etag, &mut v);
        let parsed = match (paid_on, bank_reference) {
            (Some(paid_on), Some(bank_reference)) => finish(
                (
                    ClaimStep::Pay {
                        amount_fen: m.amount_fen,
                        paid_on,
                        bank_reference,
                    },
                    e,
                ),
                v,
            ),
            _ => Err(v),
        };
        let c = self
            .step(
                p,
                &m.request_id,
                "RecordClaimPayment",
                &m,
                &m.claim_id,
                parsed,
            )
            .await?;
        Ok(Response::new(pb::RecordClaimPaymentResponse {
            claim: Some(c),
        }))
    }

    async fn dispute_claim(
        &self,
        req: Request<pb::DisputeClaimRequest>,
    ) -> Answer<pb::DisputeClaimResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let mut v = Violations::new();
        let reason = v.take("reason", reserve_core::text::required(&m.reason, 500));
        let e = etag(&m.etag, &mut v);
        let parsed = match reason {
            Some(reason) => finish((ClaimStep::Dispute { reason }, e), v),
            None => Err(v),
        };
        let c = self
            .step(p, &m.request_id, "DisputeClaim", &m, &m.claim_id, parsed)
            .await?;
        Ok(Response::new(pb::DisputeClaimResponse { claim: Some(c) }))
    }

    async fn get_claim(&self, req: Request<pb::GetClaimRequest>) -> Answer<pb::GetClaimResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = requisition_key("claim_id", &req.get_ref().claim_id)?;
        let (c, f) = self
            .ctx
            .store
            .get_claim(&p, &id, self.today())
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::GetClaimResponse {
            claim: Some(self.reply(&p, &c, Some(&f)).await?),
        }))
    }

    async fn list_claims(
        &self,
        req: Request<pb::ListClaimsRequest>,
    ) -> Answer<pb::ListClaimsResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let filter = match pb::ClaimState::try_from(r.state) {
            Ok(pb::ClaimState::Unspecified) => ClaimFilter::All,
            Ok(pb::ClaimState::Draft | pb::ClaimState::Disputed) => ClaimFilter::AwaitingAssessment,
            Ok(pb::ClaimState::Assessed) => ClaimFilter::AwaitingApproval,
            Ok(pb::ClaimState::Approved) => ClaimFilter::Outstanding,
            Ok(pb::ClaimState::Paid) => ClaimFilter::Paid,
            Err(_) => return Err(invalid("state", "must be 0 to 5")),
        };
        let size = page_size(r.page_size)?;
        let page = self
            .ctx
            .store
            .list_claims(&subtree, filter, size, &r.page_token)
            .await
            .map_err(status_of)?;
        let mut out = Vec::with_capacity(page.items.len());
        for c in &page.items {
            out.push(self.reply(&p, c, None).await?);
        }
        Ok(Response::new(pb::ListClaimsResponse {
            claims: out,
            next_page_token: page.next_token,
        }))
    }

    async fn get_finance_report(
        &self,
        req: Request<pb::GetFinanceReportRequest>,
    ) -> Answer<pb::GetFinanceReportResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let depot = match req.get_ref().depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let r = self
            .ctx
            .store
            .finance_report(&subtree, self.ctx.clock.now())
            .await
            .map_err(status_of)?;
        Ok(Response::new(report_pb(&r)))
    }

    async fn purge_settled_private_data(
        &self,
        req: Request<pb::PurgeSettledPrivateDataRequest>,
    ) -> Answer<pb::PurgeSettledPrivateDataResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let before = self
            .ctx
            .clock
            .now()
            .saturating_sub(self.privacy.retention_days.saturating_mul(86_400_000));
        let method = Self::method("PurgeSettledPrivateData");
        let ((), meta) = self.ctx.write(p, &m.request_id, &method, &m, Ok(()))?;
        let w = self
            .ctx
            .store
            .purge_private_data(&meta, before)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::PurgeSettledPrivateDataResponse {
            claim_numbers: w.value.claims,
            settled_before_time: timestamp(w.value.settled_before),
        }))
    }
}
