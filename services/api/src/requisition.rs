//! `reserve.v1.RequisitionService`: requisitions recorded at the scene,
//! vouchers, and what became of each item. Owners' private data is shown
//! in full only to finance: the store keeps it sealed, and this layer opens
//! it per reply, so a replayed answer is rebuilt for the caller too.

use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::requisition_service_server::RequisitionService;
use crate::wire::{page_size, timestamp};
use reserve_core::Violations;
use reserve_core::authz::requisition::sees_private_data;
use reserve_core::authz::{Action, Principal};
use reserve_core::depot::DepotCode;
use reserve_core::request::Etag;
use reserve_core::requisition::identity::PrivateOwner;
use reserve_core::requisition::{
    NewRequisition, OutcomeDraft, Owner, OwnerDraft, Requisition, RequisitionDraft,
    RequisitionItemDraft, outcome_time, parse_outcomes,
};
use reserve_store::requisition::{OutcomeRequest, RequisitionFilter};
use reserve_store::sealed::Unsealed;
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

/// The requisition service over a shared context.
#[derive(Clone, Debug)]
pub struct RequisitionApi {
    ctx: Ctx,
}

impl RequisitionApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.RequisitionService/{name}")
    }

    async fn reply(&self, p: &Principal, r: &Requisition) -> Result<pb::Requisition, Status> {
        let owner = owner_pb(&self.ctx, p, &r.depot, &r.owner).await?;
        Ok(requisition_pb(r, owner, self.ctx.clock.now()))
    }
}

/// The owner as `p` may see them: in full for finance whose scope covers
/// the requisitioning tier's depot (opened from the sealed store, or marked
/// purged), masked for everyone else.
pub async fn owner_pb(
    ctx: &Ctx,
    p: &Principal,
    depot: &DepotCode,
    owner: &Owner,
) -> Result<pb::RequisitionOwner, Status> {
    let masked = pb::RequisitionOwner {
        kind: owner.kind.number() as i32,
        name: owner.name.clone(),
        id_number: owner.masked.id_number.clone(),
        phone: owner.masked.phone.clone(),
        bank_account: owner.masked.bank_account.clone(),
        bank_name: owner.masked.bank_name.clone(),
        masked: true,
        purged: false,
    };
    if !sees_private_data(p) || ctx.in_scope(p, depot).await.is_err() {
        return Ok(masked);
    }
    match ctx
        .store
        .unseal(&owner.private_ref)
        .await
        .map_err(status_of_store)?
    {
        Unsealed::Open(d) => Ok(pb::RequisitionOwner {
            id_number: d.id_number,
            phone: d.phone,
            bank_account: d.bank_account,
            bank_name: d.bank_name,
            masked: false,
            ..masked
        }),
        Unsealed::Purged(_) => Ok(pb::RequisitionOwner {
            id_number: String::new(),
            phone: String::new(),
            bank_account: String::new(),
            purged: true,
            masked: false,
            ..masked
        }),
    }
}

fn requisition_pb(r: &Requisition, owner: pb::RequisitionOwner, now: i64) -> pb::Requisition {
    pb::Requisition {
        id: r.id.clone(),
        number: r.number.clone(),
        depot_code: r.depot.to_string(),
        incident_id: r.incident_id.clone(),
        decision: r.decision.clone(),
        authority: r.authority.clone(),
        officer: r.officer.clone(),
        owner: Some(owner),
        taken_time: timestamp(r.taken_at),
        voucher_number: r
            .voucher
            .as_ref()
            .map(|v| v.number.clone())
            .unwrap_or_default(),
        voucher_time: r.voucher.as_ref().and_then(|v| timestamp(v.issued_at)),
        voucher_due_time: r.voucher_due.and_then(timestamp),
        voucher_overdue: r.voucher_overdue(now),
        items: r
            .items
            .iter()
            .map(|i| pb::RequisitionItem {
                line_number: i.number as i32,
                description: i.description.clone(),
                quantity: i.quantity,
                unit: i.unit.clone(),
                returnable: i.returnable,
                condition: i.condition.clone(),
                unit_value_fen: i.unit_value_fen,
                daily_rate_fen: i.daily_rate_fen,
                used_at: i.used_at.clone(),
                received: i.received,
                returned: i.returned,
                damaged: i.damaged,
                lost: i.lost,
                consumed: i.consumed,
                outstanding: i.outstanding(),
            })
            .collect(),
        outcomes: r
            .outcomes
            .iter()
            .map(|o| pb::RequisitionOutcome {
                line_number: o.line as i32,
                kind: o.kind.number() as i32,
                quantity: o.quantity,
                repair_cost_fen: o.repair_cost_fen,
                certificate: o.certificate.clone(),
                note: o.note.clone(),
                occurred_time: timestamp(o.at),
                recorded_by: o.recorded_by.clone(),
                from_depot_code: o
                    .from_depot
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        state: r.state.number() as i32,
        created_by: r.created_by.clone(),
        etag: Etag::of(r.version).to_string(),
    }
}

fn draft(r: &pb::Requisition) -> RequisitionDraft {
    let o = r.owner.clone().unwrap_or_default();
    RequisitionDraft {
        depot: r.depot_code.clone(),
        incident_id: r.incident_id.clone(),
        decision: r.decision.clone(),
        authority: r.authority.clone(),
        officer: r.officer.clone(),
        owner: OwnerDraft {
            kind: i64::from(o.kind),
            name: o.name,
            id_number: o.id_number,
            phone: o.phone,
            bank_account: o.bank_account,
            bank_name: o.bank_name,
        },
        taken: r.taken_time.as_ref().map(|t| (t.seconds, t.nanos)),
        voucher: r.voucher_number.clone(),
        items: r
            .items
            .iter()
            .map(|i| RequisitionItemDraft {
                description: i.description.clone(),
                quantity: i.quantity,
                unit: i.unit.clone(),
                returnable: i.returnable,
                condition: i.condition.clone(),
                unit_value_fen: i.unit_value_fen,
                daily_rate_fen: i.daily_rate_fen,
                used_at: i.used_at.clone(),
            })
            .collect(),
    }
}

/// The request as fingerprinted for retries: the owner's private fields
/// only masked, so the audit log holds no hash of them to guess against.
fn fingerprinted(
    m: &pb::CreateRequisitionRequest,
    private: Option<&PrivateOwner>,
) -> pb::CreateRequisitionRequest {
    let mut copy = m.clone();
    if let (Some(r), Some(p)) = (copy.requisition.as_mut(), private)
        && let Some(o) = r.owner.as_mut()
    {
        let masked = p.masked();
        o.id_number = masked.id_number;
        o.phone = masked.phone;
        o.bank_account = masked.bank_account;
    } else if let Some(o) = copy.requisition.as_mut().and_then(|r| r.owner.as_mut()) {
        o.id_number.clear();
        o.phone.clear();
        o.bank_account.clear();
    }
    copy
}

/// A requisition id or number from the wire.
pub fn requisition_key(field: &str, raw: &str) -> Result<String, Status> {
    let v = raw.trim();
    let ok =
        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(
            field,
            "is required: an id or number (ZY-2026-000001, BC-2026-000001)",
        ))
    }
}

/// An optional etag from the wire; a malformed one is a violation.
pub fn etag(raw: &str, v: &mut Violations) -> Option<Etag> {
    match Etag::parse_optional(raw) {
        Ok(e) => e,
        Err(e) => {
            v.add("etag", e);
            None
        }
    }
}

#[tonic::async_trait]
impl RequisitionService for RequisitionApi {
    async fn create_requisition(
        &self,
        req: Request<pb::CreateRequisitionRequest>,
    ) -> Answer<pb::CreateRequisitionResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let now = self.ctx.clock.now();
        let parsed = match &m.requisition {
            Some(r) => {
                let mut d = draft(r);
                if d.depot.trim().is_empty() {
                    d.depot = p.scope.to_string();
                }
                NewRequisition::parse(&d, now)
            }
            None => Err(Violations::one("requisition", "is required")),
        };
        let print = fingerprinted(&m, parsed.as_ref().ok().map(|n| &n.owner.private));
        let method = Self::method("CreateRequisition");
        let (new, meta) = self
            .ctx
            .write(p.clone(), &m.request_id, &method, &print, parsed)?;
        let w = self
            .ctx
            .store
            .create_requisition(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateRequisitionResponse {
            requisition: Some(self.reply(&p, &w.value).await?),
        }))
    }

    async fn record_requisition_voucher(
        &self,
        req: Request<pb::RecordRequisitionVoucherRequest>,
    ) -> Answer<pb::RecordRequisitionVoucherResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let id = requisition_key("requisition_id", &m.requisition_id)?;
        let mut v = Violations::new();
        let number = v.take(
            "voucher_number",
            reserve_core::text::required(&m.voucher_number, 64),
        );
        let at = outcome_time(
            m.issued_time.as_ref().map(|t| (t.seconds, t.nanos)),
            self.ctx.clock.now(),
            &mut v,
        );
        let e = etag(&m.etag, &mut v);
        let parsed = match number {
            Some(n) if v.is_empty() => Ok(n),
            _ => Err(v),
        };
        let method = Self::method("RecordRequisitionVoucher");
        let (number, meta) = self
            .ctx
            .write(p.clone(), &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .record_voucher(&meta, &id, &number, at, e)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RecordRequisitionVoucherResponse {
            requisition: Some(self.reply(&p, &w.value).await?),
        }))
    }

    async fn record_requisition_outcomes(
        &self,
        req: Request<pb::RecordRequisitionOutcomesRequest>,
    ) -> Answer<pb::RecordRequisitionOutcomesResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let id = requisition_key("requisition_id", &m.requisition_id)?;
        let mut v = Violations::new();
        let at = outcome_time(
            m.occurred_time.as_ref().map(|t| (t.seconds, t.nanos)),
            self.ctx.clock.now(),
            &mut v,
        );
        let from = match m.from_depot_code.trim() {
            "" => None,
            c => v.take("from_depot_code", DepotCode::parse(c)),
        };
        let e = etag(&m.etag, &mut v);
        let drafts: Vec<OutcomeDraft> = m
            .outcomes
            .iter()
            .map(|o| OutcomeDraft {
                line: i64::from(o.line_number),
                kind: i64::from(o.kind),
                quantity: o.quantity,
                repair_cost_fen: o.repair_cost_fen,
                certificate: o.certificate.clone(),
                note: o.note.clone(),
            })
            .collect();
        let parsed = match parse_outcomes(&drafts, at, &p.subject, from.clone()) {
            Ok(o) if v.is_empty() => Ok(o),
            Ok(_) => Err(v),
            Err(mut a) => {
                for f in v.into_vec() {
                    a.add(f.field, f.description);
                }
                Err(a)
            }
        };
        let method = Self::method("RecordRequisitionOutcomes");
        let (outcomes, meta) = self
            .ctx
            .write(p.clone(), &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .record_outcomes(
                &meta,
                &id,
                OutcomeRequest {
                    outcomes,
                    from_depot: from,
                },
                e,
            )
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RecordRequisitionOutcomesResponse {
            requisition: Some(self.reply(&p, &w.value).await?),
        }))
    }

    async fn get_requisition(
        &self,
        req: Request<pb::GetRequisitionRequest>,
    ) -> Answer<pb::GetRequisitionResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = requisition_key("requisition_id", &req.get_ref().requisition_id)?;
        let r = self
            .ctx
            .store
            .get_requisition(&p, &id)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::GetRequisitionResponse {
            requisition: Some(self.reply(&p, &r).await?),
        }))
    }

    async fn list_requisitions(
        &self,
        req: Request<pb::ListRequisitionsRequest>,
    ) -> Answer<pb::ListRequisitionsResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let filter = match pb::RequisitionFilter::try_from(r.filter) {
            Ok(pb::RequisitionFilter::Unspecified) => RequisitionFilter::All,
            Ok(pb::RequisitionFilter::InUse) => RequisitionFilter::InUse,
            Ok(pb::RequisitionFilter::VoucherOverdue) => RequisitionFilter::VoucherOverdue,
            Err(_) => return Err(invalid("filter", "must be 0 to 2")),
        };
        let size = page_size(r.page_size)?;
        let now = self.ctx.clock.now();
        let page = self
            .ctx
            .store
            .list_requisitions(&subtree, filter, now, size, &r.page_token)
            .await
            .map_err(status_of)?;
        let mut out = Vec::with_capacity(page.items.len());
        for q in &page.items {
            out.push(self.reply(&p, q).await?);
        }
        Ok(Response::new(pb::ListRequisitionsResponse {
            requisitions: out,
            next_page_token: page.next_token,
        }))
    }
}
