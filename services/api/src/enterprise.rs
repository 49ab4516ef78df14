//! `reserve.v1.EnterpriseReserveService`: agreements with companies,
//! call-offs, and deliveries received as agreement-funded stock.

use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_kind, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::enterprise_reserve_service_server::EnterpriseReserveService;
use crate::stock::wire::{date, entry_pb, ymd};
use crate::wire::{page_size, timestamp};
use reserve_core::Failure;
use reserve_core::Violations;
use reserve_core::authz::Action;
use reserve_core::authz::enterprise::reserve_reader;
use reserve_core::depot::{Contact, ContactDraft, DepotCode};
use reserve_core::enterprise::{
    Agreement, AgreementDraft, CallOff, CallOffDraft, NewAgreement, NewCallOff,
};
use reserve_core::stock::Day;
use reserve_core::stock::document::DocId;
use reserve_core::stock::receipt::{Receipt, ReceiptDraft};
use reserve_store::enterprise::Delivery;
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

/// The enterprise reserve service over a shared context.
#[derive(Clone, Debug)]
pub struct EnterpriseApi {
    ctx: Ctx,
}

impl EnterpriseApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.EnterpriseReserveService/{name}")
    }
}

fn contact_pb(c: &Contact) -> pb::Contact {
    pb::Contact {
        name: c.name.clone(),
        duty: c.duty.clone(),
        phone: c.phone.clone(),
    }
}

/// An agreement on the wire.
pub fn agreement_pb(a: &Agreement) -> pb::Agreement {
    pb::Agreement {
        id: a.id.clone(),
        kind: a.kind.number() as i32,
        company_name: a.company.clone(),
        credit_code: a.credit_code.to_string(),
        depot_code: a.depot.to_string(),
        response_hours: a.response_hours,
        valid_from: date(Some(a.valid_from)),
        valid_until: date(Some(a.valid_until)),
        items: a
            .items
            .iter()
            .map(|i| pb::AgreementItem {
                item_id: i.item.to_string(),
                committed: i.committed,
                called_off: i.called_off,
                delivered: i.delivered,
            })
            .collect(),
        contact: a.contact.as_ref().map(contact_pb),
        note: a.note.clone(),
        created_by: a.created_by.clone(),
        create_time: timestamp(a.created_at),
    }
}

/// A call-off on the wire.
pub fn call_off_pb(c: &CallOff) -> pb::CallOff {
    pb::CallOff {
        id: c.id.clone(),
        agreement_id: c.agreement.clone(),
        company_name: c.company.clone(),
        depot_code: c.depot.to_string(),
        lines: c
            .lines
            .iter()
            .map(|l| pb::CallOffLine {
                item_id: l.item.to_string(),
                quantity: l.quantity,
                delivered: l.delivered,
            })
            .collect(),
        order_id: c.order.clone().unwrap_or_default(),
        incident_id: c.incident.clone().unwrap_or_default(),
        reason: c.reason.clone(),
        called_by: c.called_by.clone(),
        call_time: timestamp(c.called_at),
        due_time: timestamp(c.due_at),
        complete: c.complete(),
    }
}

fn agreement_draft(a: &pb::Agreement) -> AgreementDraft {
    AgreementDraft {
        kind: a.kind,
        company: a.company_name.clone(),
        credit_code: a.credit_code.clone(),
        depot: a.depot_code.clone(),
        response_hours: a.response_hours,
        valid_from: ymd(a.valid_from.as_ref()),
        valid_until: ymd(a.valid_until.as_ref()),
        items: a
            .items
            .iter()
            .map(|i| (i.item_id.clone(), i.committed))
            .collect(),
        contact: a.contact.as_ref().map(|c| ContactDraft {
            name: c.name.clone(),
            duty: c.duty.clone(),
            phone: c.phone.clone(),
        }),
        note: a.note.clone(),
    }
}

impl EnterpriseApi {
    async fn subtree(
        &self,
        p: &reserve_core::authz::Principal,
        raw: &str,
    ) -> Result<reserve_core::depot::DepotPath, Status> {
        Ctx::require(p, Action::ReadStock)?;
        let depot = match raw.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        self.ctx.in_scope(p, &depot).await
    }
}

#[tonic::async_trait]
impl EnterpriseReserveService for EnterpriseApi {
    async fn create_agreement(
        &self,
        req: Request<pb::CreateAgreementRequest>,
    ) -> Answer<pb::CreateAgreementResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = match &m.agreement {
            Some(a) => NewAgreement::parse(&agreement_draft(a)),
            None => Err(Violations::one("agreement", "is required")),
        };
        let method = Self::method("CreateAgreement");
        let (new, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .create_agreement(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateAgreementResponse {
            agreement: Some(agreement_pb(&w.value)),
        }))
    }

    async fn get_agreement(
        &self,
        req: Request<pb::GetAgreementRequest>,
    ) -> Answer<pb::GetAgreementResponse> {
        let p = Ctx::principal(&req)?;
        let id =
            DocId::parse(&req.get_ref().agreement_id).map_err(|e| invalid("agreement_id", e))?;
        let Some((a, path)) = self
            .ctx
            .store
            .get_agreement(id.as_str())
            .await
            .map_err(status_of_store)?
        else {
            return Err(Status::not_found(format!("agreements/{id} not found")));
        };
        let scope = self.ctx.scope_path(&p).await?;
        let path = path.ok_or_else(|| Status::not_found(format!("depots/{}", a.depot)))?;
        reserve_reader(&p, Some(&scope), &a.depot, &path).map_err(|d| status_of_kind(d.kind()))?;
        Ok(Response::new(pb::GetAgreementResponse {
            agreement: Some(agreement_pb(&a)),
        }))
    }

    async fn list_agreements(
        &self,
        req: Request<pb::ListAgreementsRequest>,
    ) -> Answer<pb::ListAgreementsResponse> {
        let p = Ctx::principal(&req)?;
        let r = req.into_inner();
        let subtree = self.subtree(&p, &r.depot_code).await?;
        let expiring = match r.expiring_within_days {
            0 => None,
            n if (1..=3650).contains(&n) => Some(i64::from(n)),
            _ => {
                return Err(invalid(
                    "expiring_within_days",
                    "must be 0 (all in force) or 1 to 3650",
                ));
            }
        };
        let size = page_size(r.page_size)?;
        let today = Day::today(self.ctx.clock.now());
        let page = self
            .ctx
            .store
            .list_agreements(&subtree, today, expiring, size, &r.page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListAgreementsResponse {
            agreements: page.items.iter().map(agreement_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn call_off_agreement(
        &self,
        req: Request<pb::CallOffAgreementRequest>,
    ) -> Answer<pb::CallOffAgreementResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = NewCallOff::parse(&CallOffDraft {
            agreement: m.agreement_id.clone(),
            lines: m
                .lines
                .iter()
                .map(|l| (l.item_id.clone(), l.quantity))
                .collect(),
            order: m.order_id.clone(),
            incident: m.incident_id.clone(),
            reason: m.reason.clone(),
        });
        let method = Self::method("CallOffAgreement");
        let (new, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .call_off(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CallOffAgreementResponse {
            call_off: Some(call_off_pb(&w.value.call_off)),
            agreement: Some(agreement_pb(&w.value.agreement)),
        }))
    }

    async fn receive_call_off(
        &self,
        req: Request<pb::ReceiveCallOffRequest>,
    ) -> Answer<pb::ReceiveCallOffResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let now = self.ctx.clock.now();
        let mut v = Violations::new();
        let call_off = v.take("call_off_id", DocId::parse(&m.call_off_id));
        // The depot is the call-off's; the caller's own code stands in
        // until the store reads it.
        let receipt = Receipt::parse(
            &ReceiptDraft {
                depot: p.scope.to_string(),
                item: m.item_id.clone(),
                lot_number: m.lot_number.clone(),
                production: ymd(m.production_date.as_ref()),
                expiry: ymd(m.expiry_date.as_ref()),
                quantity: m.quantity,
                serials: m.serial_numbers.clone(),
                document: m.document.clone(),
                ..Default::default()
            },
            now,
        );
        let parsed = match (receipt, call_off) {
            (Ok(r), Some(c)) if v.is_empty() => Ok(Delivery {
                call_off: c.to_string(),
                receipt: r,
            }),
            (Err(mut e), _) => {
                for f in v.into_vec() {
                    e.add(f.field, f.description);
                }
                Err(e)
            }
            _ => Err(v),
        };
        let method = Self::method("ReceiveCallOff");
        let (delivery, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .receive_call_off(&meta, delivery)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ReceiveCallOffResponse {
            call_off: Some(call_off_pb(&w.value.call_off)),
            entry: w.value.posted.entries.first().map(entry_pb),
        }))
    }

    async fn list_call_offs(
        &self,
        req: Request<pb::ListCallOffsRequest>,
    ) -> Answer<pb::ListCallOffsResponse> {
        let p = Ctx::principal(&req)?;
        let r = req.into_inner();
        let subtree = self.subtree(&p, &r.depot_code).await?;
        let size = page_size(r.page_size)?;
        let page = self
            .ctx
            .store
            .list_call_offs(&subtree, r.open_only, size, &r.page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListCallOffsResponse {
            call_offs: page.items.iter().map(call_off_pb).collect(),
            next_page_token: page.next_token,
        }))
    }
}
