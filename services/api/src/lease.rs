//! `reserve.v1.LeaseService`: leases out, returns with inspection, recall,
//! overdue and recalled-not-returned lists, and fee statements.

use crate::context::Ctx;
use crate::error::{invalid, status_of};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::lease_service_server::LeaseService;
use crate::stock::wire::{date, ymd};
use crate::wire::{page_size, timestamp};
use reserve_core::Violations;
use reserve_core::authz::Action;
use reserve_core::depot::{ContactDraft, DepotCode};
use reserve_core::lease::fee::Statement;
use reserve_core::lease::{
    Lease, LeaseDraft, LeaseLineDraft, NewLease, ReturnLineDraft, parse_recall, parse_return,
};
use reserve_core::request::Etag;
use reserve_core::stock::Day;
use reserve_core::stock::fields;
use reserve_store::lease::LeaseFilter;
use std::collections::HashMap;
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

/// The lease service over a shared context.
#[derive(Clone, Debug)]
pub struct LeaseApi {
    ctx: Ctx,
}

impl LeaseApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.LeaseService/{name}")
    }

    fn today(&self) -> Day {
        Day::today(self.ctx.clock.now())
    }
}

/// A lease on the wire, as of `today`.
pub fn lease_pb(l: &Lease, today: Day) -> pb::Lease {
    pb::Lease {
        id: l.id.clone(),
        number: l.number.clone(),
        depot_code: l.depot.to_string(),
        lessee: Some(pb::Lessee {
            name: l.lessee.name.clone(),
            credit_code: l.lessee.credit_code.to_string(),
            contact: Some(pb::Contact {
                name: l.lessee.contact.name.clone(),
                duty: l.lessee.contact.duty.clone(),
                phone: l.lessee.contact.phone.clone(),
            }),
        }),
        lines: l
            .lines
            .iter()
            .map(|line| {
                let shares: Vec<_> = l.shares.iter().filter(|s| s.line == line.number).collect();
                let sum = |f: &dyn Fn(&&reserve_core::lease::LeaseShare) -> i64| {
                    shares.iter().map(f).fold(0i64, i64::saturating_add)
                };
                pb::LeaseLine {
                    line_number: line.number as i32,
                    item_id: line.item.to_string(),
                    lot_number: String::new(),
                    quantity: line.quantity,
                    serial_numbers: shares
                        .iter()
                        .flat_map(|s| s.serials.iter().map(|x| x.to_string()))
                        .collect(),
                    daily_rate_fen: line.daily_rate_fen,
                    returned: sum(&|s| s.returned),
                    damaged: sum(&|s| s.damaged),
                    outstanding: sum(&|s| s.outstanding()),
                    shares: shares
                        .iter()
                        .map(|s| pb::LeaseShare {
                            lot_number: s.lot_number.as_str().to_string(),
                            quantity: s.quantity,
                            returned: s.returned,
                            damaged: s.damaged,
                            serial_numbers_out: s
                                .serials_out()
                                .iter()
                                .map(|x| x.to_string())
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
        start_time: timestamp(l.start),
        due_date: date(Some(l.due)),
        deposit_fen: l.deposit_fen,
        recallable: l.recallable,
        contract: l.contract.clone(),
        note: l.note.clone(),
        state: l.state.number() as i32,
        recall: l.recall.as_ref().map(|r| pb::LeaseRecall {
            recall_time: timestamp(r.at),
            deadline: timestamp(r.deadline),
            recalled_by: r.by.clone(),
            reason: r.reason.clone(),
        }),
        returns: l
            .returns
            .iter()
            .map(|r| {
                let mut intact: HashMap<i32, i64> = HashMap::new();
                let mut damaged: HashMap<i32, i64> = HashMap::new();
                for u in &r.units {
                    *intact.entry(u.line as i32).or_default() += u.intact;
                    *damaged.entry(u.line as i32).or_default() += u.damaged;
                }
                pb::LeaseReturnRecord {
                    return_time: timestamp(r.at),
                    returned_by: r.by.clone(),
                    intact,
                    damaged,
                    inspections: r
                        .inspections
                        .iter()
                        .map(|i| pb::ReturnInspection {
                            line_number: i.line as i32,
                            condition: i.condition.number() as i32,
                            damaged_condition: i.damaged_condition.map_or(0, |c| c.number() as i32),
                            damage_fen: i.damage_fen,
                            note: i.note.clone(),
                        })
                        .collect(),
                }
            })
            .collect(),
        created_by: l.created_by.clone(),
        outstanding: l.outstanding(),
        overdue: l.overdue(today),
        etag: Etag::of(l.version).to_string(),
    }
}

fn statement_pb(l: &Lease, s: &Statement, today: Day) -> pb::GetLeaseStatementResponse {
    pb::GetLeaseStatementResponse {
        lease: Some(lease_pb(l, today)),
        as_of: date(Some(s.as_of)),
        charges: s
            .charges
            .iter()
            .map(|c| pb::LeaseCharge {
                line_number: c.line as i32,
                item_id: c.item.to_string(),
                lot_number: c.lot_number.as_str().to_string(),
                units: c.units,
                from_date: date(Some(c.from)),
                to_date: date(Some(c.to)),
                days: c.days,
                daily_rate_fen: c.daily_rate_fen,
                amount_fen: c.amount_fen,
                still_out: c.still_out,
            })
            .collect(),
        usage_fen: s.usage_fen,
        damage_fen: s.damage_fen,
        total_fen: s.total_fen,
        deposit_fen: s.deposit_fen,
        balance_fen: s.balance_fen,
        r#final: s.is_final,
        fees_stop_date: date(s.fees_stop),
    }
}

fn lease_draft(l: &pb::Lease) -> LeaseDraft {
    let lessee = l.lessee.clone().unwrap_or_default();
    let contact = lessee.contact.unwrap_or_default();
    LeaseDraft {
        depot: l.depot_code.clone(),
        lessee_name: lessee.name,
        credit_code: lessee.credit_code,
        contact: ContactDraft {
            name: contact.name,
            duty: contact.duty,
            phone: contact.phone,
        },
        due: ymd(l.due_date.as_ref()),
        deposit_fen: l.deposit_fen,
        recallable: l.recallable,
        lines: l
            .lines
            .iter()
            .map(|x| LeaseLineDraft {
                item: x.item_id.clone(),
                lot_number: x.lot_number.clone(),
                quantity: x.quantity,
                serials: x.serial_numbers.clone(),
                daily_rate_fen: x.daily_rate_fen,
            })
            .collect(),
        contract: l.contract.clone(),
        note: l.note.clone(),
    }
}

fn lease_key(raw: &str) -> Result<String, Status> {
    let v = raw.trim();
    let ok =
        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(
            "lease_id",
            "is required: a lease id or number (ZL-2026-000001)",
        ))
    }
}

fn etag(raw: &str) -> Result<Option<Etag>, Violations> {
    Etag::parse_optional(raw).map_err(|e| Violations::one("etag", e))
}

#[tonic::async_trait]
impl LeaseService for LeaseApi {
    async fn create_lease(
        &self,
        req: Request<pb::CreateLeaseRequest>,
    ) -> Answer<pb::CreateLeaseResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = match &m.lease {
            Some(l) => {
                let mut d = lease_draft(l);
                if d.depot.trim().is_empty() {
                    d.depot = p.scope.to_string();
                }
                NewLease::parse(&d)
            }
            None => Err(Violations::one("lease", "is required")),
        };
        let method = Self::method("CreateLease");
        let (new, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .create_lease(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateLeaseResponse {
            lease: Some(lease_pb(&w.value, self.today())),
        }))
    }

    async fn return_lease(
        &self,
        req: Request<pb::ReturnLeaseRequest>,
    ) -> Answer<pb::ReturnLeaseResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let id = lease_key(&m.lease_id)?;
        let drafts: Vec<ReturnLineDraft> = m
            .lines
            .iter()
            .map(|l| ReturnLineDraft {
                line: i64::from(l.line_number),
                quantity: l.quantity,
                serials: l.serial_numbers.clone(),
                damaged_quantity: l.damaged_quantity,
                damaged_serials: l.damaged_serial_numbers.clone(),
                condition: i64::from(l.condition),
                damaged_condition: i64::from(l.damaged_condition),
                damage_fen: l.damage_fen,
                note: l.note.clone(),
            })
            .collect();
        let mut v = Violations::new();
        let at = fields::occurred_at(
            m.occurred_time.as_ref().map(|t| (t.seconds, t.nanos)),
            self.ctx.clock.now(),
            &mut v,
        );
        let e = match etag(&m.etag) {
            Ok(e) => e,
            Err(b) => {
                for f in b.into_vec() {
                    v.add(f.field, f.description);
                }
                None
            }
        };
        let parsed = match parse_return(&drafts) {
            Ok(lines) if v.is_empty() => Ok(lines),
            Ok(_) => Err(v),
            Err(mut a) => {
                for f in v.into_vec() {
                    a.add(f.field, f.description);
                }
                Err(a)
            }
        };
        let method = Self::method("ReturnLease");
        let (lines, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .return_lease(&meta, &id, lines, at, e)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ReturnLeaseResponse {
            lease: Some(lease_pb(&w.value, self.today())),
        }))
    }

    async fn recall_lease(
        &self,
        req: Request<pb::RecallLeaseRequest>,
    ) -> Answer<pb::RecallLeaseResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let id = lease_key(&m.lease_id)?;
        let parsed = match (
            parse_recall(i64::from(m.deadline_hours), &m.reason),
            etag(&m.etag),
        ) {
            (Ok(r), Ok(e)) => Ok((r, e)),
            (Err(a), _) | (_, Err(a)) => Err(a),
        };
        let method = Self::method("RecallLease");
        let (((hours, reason), e), meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .recall_lease(&meta, &id, hours, &reason, e)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RecallLeaseResponse {
            lease: Some(lease_pb(&w.value, self.today())),
        }))
    }

    async fn recall_leases(
        &self,
        req: Request<pb::RecallLeasesRequest>,
    ) -> Answer<pb::RecallLeasesResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        // Named explicitly: a recall of a subtree cannot be undone.
        let depot = match m.depot_code.trim() {
            "" => Err(Violations::one(
                "depot_code",
                "is required: name the subtree to recall (a county, a city)",
            )),
            c => DepotCode::parse(c).map_err(|e| Violations::one("depot_code", e)),
        };
        let parsed = match (parse_recall(i64::from(m.deadline_hours), &m.reason), depot) {
            (Ok(r), Ok(d)) => Ok((r, d)),
            (Err(mut a), Err(b)) => {
                for f in b.into_vec() {
                    a.add(f.field, f.description);
                }
                Err(a)
            }
            (Err(a), _) | (_, Err(a)) => Err(a),
        };
        let method = Self::method("RecallLeases");
        let (((hours, reason), depot), meta) =
            self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .recall_leases(&meta, &depot, hours, &reason)
            .await
            .map_err(status_of)?;
        let today = self.today();
        Ok(Response::new(pb::RecallLeasesResponse {
            leases: w.value.leases.iter().map(|l| lease_pb(l, today)).collect(),
            skipped_numbers: w.value.skipped,
        }))
    }

    async fn get_lease(&self, req: Request<pb::GetLeaseRequest>) -> Answer<pb::GetLeaseResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = lease_key(&req.get_ref().lease_id)?;
        let l = self.ctx.store.get_lease(&p, &id).await.map_err(status_of)?;
        Ok(Response::new(pb::GetLeaseResponse {
            lease: Some(lease_pb(&l, self.today())),
        }))
    }

    async fn list_leases(
        &self,
        req: Request<pb::ListLeasesRequest>,
    ) -> Answer<pb::ListLeasesResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let r = req.into_inner();
        let depot = match r.depot_code.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        let subtree = self.ctx.in_scope(&p, &depot).await?;
        let filter = match pb::LeaseFilter::try_from(r.filter) {
            Ok(pb::LeaseFilter::Unspecified) => LeaseFilter::All,
            Ok(pb::LeaseFilter::Open) => LeaseFilter::Open,
            Ok(pb::LeaseFilter::Overdue) => LeaseFilter::Overdue,
            Ok(pb::LeaseFilter::RecallMissed) => LeaseFilter::RecallMissed,
            Err(_) => return Err(invalid("filter", "must be 0 to 3")),
        };
        let size = page_size(r.page_size)?;
        let now = self.ctx.clock.now();
        let page = self
            .ctx
            .store
            .list_leases(&subtree, filter, now, size, &r.page_token)
            .await
            .map_err(status_of)?;
        let today = Day::today(now);
        Ok(Response::new(pb::ListLeasesResponse {
            leases: page.items.iter().map(|l| lease_pb(l, today)).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn get_lease_statement(
        &self,
        req: Request<pb::GetLeaseStatementRequest>,
    ) -> Answer<pb::GetLeaseStatementResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = lease_key(&req.get_ref().lease_id)?;
        let today = self.today();
        let (l, s) = self
            .ctx
            .store
            .lease_statement(&p, &id, today)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::GetLeaseStatementResponse {
            ..statement_pb(&l, &s, today)
        }))
    }
}
