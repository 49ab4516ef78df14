//! `reserve.v1.MaintenanceService`: upkeep plans, records, due lists and
//! repairs. Each handler authenticates, turns the message into core types
//! (every proto field named, so a new one fails to compile until handled),
//! calls the store and turns the answer back; authority is decided in core
//! inside the store's transaction.

use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_kind, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::maintenance_service_server::MaintenanceService;
use crate::stock::wire::{date, entry_pb, scrap_pb};
use crate::wire::{page_size, timestamp};
use reserve_core::Violations;
use reserve_core::authz::maintenance::maintenance_reader;
use reserve_core::authz::{Action, Principal};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::item::ItemId;
use reserve_core::maintenance::due::DueUnit;
use reserve_core::maintenance::plan::{NewPlan, Plan, PlanDraft, PlanTarget};
use reserve_core::maintenance::record::{NewRecord, Record, RecordDraft};
use reserve_core::maintenance::repair::{Finish, FinishDraft, NewRepair, Repair, RepairDraft};
use reserve_core::request::Etag;
use reserve_core::stock::document::DocId;
use reserve_core::stock::{Day, SerialNumber};
use reserve_store::maintenance::records::RecordFilter;
use reserve_store::maintenance::{DueFilter, RepairFilter};
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

const DAY_MS: i64 = 86_400_000;

/// Settings of the maintenance service.
#[derive(Clone, Copy, Debug)]
pub struct MaintenanceConfig {
    /// A repair open longer than this many days is overdue (1 to 3650).
    pub repair_overdue_days: i64,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        Self {
            repair_overdue_days: 30,
        }
    }
}

/// The maintenance service over a shared context.
#[derive(Clone, Debug)]
pub struct MaintenanceApi {
    ctx: Ctx,
    config: MaintenanceConfig,
}

impl MaintenanceApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx, config: MaintenanceConfig) -> Self {
        Self { ctx, config }
    }

    fn method(name: &str) -> String {
        format!("/reserve.v1.MaintenanceService/{name}")
    }

    fn today(&self) -> Day {
        Day::today(self.ctx.clock.now())
    }

    /// The subtree to read (default: the caller's scope), in scope.
    async fn subtree(&self, p: &Principal, raw: &str) -> Result<DepotPath, Status> {
        Ctx::require(p, Action::ReadStock)?;
        let depot = match raw.trim() {
            "" => p.scope.clone(),
            c => DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?,
        };
        self.ctx.in_scope(p, &depot).await
    }

    fn repair_pb(&self, r: &Repair) -> pb::Repair {
        let end = r.finished_at.unwrap_or_else(|| self.ctx.clock.now());
        let open_ms = end.saturating_sub(r.started_at).max(0);
        let days_open = open_ms / DAY_MS;
        pb::Repair {
            id: r.id.clone(),
            depot_code: r.depot.to_string(),
            item_id: r.item.to_string(),
            lot_number: r.lot_number.as_str().to_string(),
            serial_number: r.serial.to_string(),
            fault: r.fault.clone(),
            status: r.status.number() as i32,
            started_by: r.started_by.clone(),
            start_time: timestamp(r.started_at),
            finished_by: r.finished_by.clone().unwrap_or_default(),
            finish_time: r.finished_at.and_then(timestamp),
            cost_fen: r.cost_fen,
            notes: r.notes.clone(),
            scrap_application_id: r.scrap_application.clone().unwrap_or_default(),
            days_open,
            overdue: r.finished_at.is_none()
                && open_ms > self.config.repair_overdue_days.saturating_mul(DAY_MS),
            etag: Etag::of(r.version).to_string(),
        }
    }
}

/// A `google.type.Date` as (year, month, day) for core; negative parts
/// become 0, which is no date, so core names the field.
fn ymd(d: Option<&crate::pb::google::r#type::Date>) -> Option<(i32, u32, u32)> {
    crate::stock::wire::ymd(d).map(|(y, m, d)| {
        (
            y,
            u32::try_from(m).unwrap_or(0),
            u32::try_from(d).unwrap_or(0),
        )
    })
}

fn plan_pb(p: &Plan) -> pb::UpkeepPlan {
    let (depot, item, serial) = match &p.target {
        PlanTarget::Item { depot, item } => (depot.to_string(), item.to_string(), String::new()),
        PlanTarget::Asset { item, serial } => (String::new(), item.to_string(), serial.to_string()),
    };
    pb::UpkeepPlan {
        id: p.id.clone(),
        depot_code: depot,
        item_id: item,
        serial_number: serial,
        interval_days: p.interval.days(),
        interval_months: p.interval.months(),
        kind: p.kind.number() as i32,
        note: p.note.clone(),
        active: p.active,
        set_by: p.set_by.clone(),
        update_time: timestamp(p.updated_at),
        etag: Etag::of(p.version).to_string(),
    }
}

fn record_pb(r: &Record) -> pb::UpkeepRecord {
    pb::UpkeepRecord {
        id: r.id.clone(),
        depot_code: r.depot.to_string(),
        item_id: r.item.to_string(),
        serial_number: r.serial.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        kind: r.kind.number() as i32,
        date: date(Some(r.day)),
        result: r.result.number() as i32,
        condition: r.condition.map_or(0, |c| c.number() as i32),
        cost_fen: r.cost_fen,
        notes: r.notes.clone(),
        next_due_date: date(r.next_due),
        repair_id: r.repair.clone().unwrap_or_default(),
        recorded_by: r.recorded_by.clone(),
        record_time: timestamp(r.recorded_at),
    }
}

fn due_pb(u: &DueUnit) -> pb::DueUnit {
    pb::DueUnit {
        depot_code: u.depot.to_string(),
        item_id: u.item.to_string(),
        serial_number: u.serial.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        units: u.units,
        due_date: date(Some(u.due)),
        overdue: u.overdue,
        last_upkeep_date: date(u.last),
        kind: u.kind.number() as i32,
        interval_days: u.interval.days(),
        interval_months: u.interval.months(),
    }
}

fn plan_draft(p: &pb::UpkeepPlan) -> PlanDraft {
    let pb::UpkeepPlan {
        id: _,
        depot_code,
        item_id,
        serial_number,
        interval_days,
        interval_months,
        kind,
        note,
        active: _,
        set_by: _,
        update_time: _,
        etag: _,
    } = p;
    PlanDraft {
        depot: depot_code.clone(),
        item: item_id.clone(),
        serial: serial_number.clone(),
        interval_days: *interval_days,
        interval_months: *interval_months,
        kind: *kind,
        note: note.clone(),
    }
}

fn record_draft(r: &pb::UpkeepRecord) -> RecordDraft {
    let pb::UpkeepRecord {
        id: _,
        depot_code,
        item_id,
        serial_number,
        kind,
        date,
        result,
        condition,
        cost_fen,
        notes,
        next_due_date,
        repair_id: _,
        recorded_by: _,
        record_time: _,
    } = r;
    RecordDraft {
        depot: depot_code.clone(),
        item: item_id.clone(),
        serial: serial_number.clone(),
        kind: *kind,
        date: ymd(date.as_ref()),
        result: *result,
        condition: *condition,
        cost_fen: *cost_fen,
        notes: notes.clone(),
        next_due: ymd(next_due_date.as_ref()),
    }
}

fn optional_item(raw: &str) -> Result<Option<ItemId>, Status> {
    match raw.trim() {
        "" => Ok(None),
        i => ItemId::parse(i)
            .map(Some)
            .map_err(|e| invalid("item_id", e)),
    }
}

#[tonic::async_trait]
impl MaintenanceService for MaintenanceApi {
    async fn set_upkeep_plan(
        &self,
        req: Request<pb::SetUpkeepPlanRequest>,
    ) -> Answer<pb::SetUpkeepPlanResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = match &m.plan {
            Some(plan) => NewPlan::parse(&plan_draft(plan)),
            None => Err(Violations::one("plan", "is required")),
        };
        let method = Self::method("SetUpkeepPlan");
        let (new, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .set_plan(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::SetUpkeepPlanResponse {
            plan: Some(plan_pb(&w.value)),
        }))
    }

    async fn deactivate_upkeep_plan(
        &self,
        req: Request<pb::DeactivateUpkeepPlanRequest>,
    ) -> Answer<pb::DeactivateUpkeepPlanResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let mut v = Violations::new();
        let id = v.take("plan_id", DocId::parse(&m.plan_id));
        let etag = v.take("etag", Etag::parse_optional(&m.etag));
        let parsed = match (id, etag) {
            (Some(id), Some(etag)) if v.is_empty() => Ok((id, etag)),
            _ => Err(v),
        };
        let method = Self::method("DeactivateUpkeepPlan");
        let ((id, etag), meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .deactivate_plan(&meta, id, etag)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::DeactivateUpkeepPlanResponse {
            plan: Some(plan_pb(&w.value)),
        }))
    }

    async fn list_upkeep_plans(
        &self,
        req: Request<pb::ListUpkeepPlansRequest>,
    ) -> Answer<pb::ListUpkeepPlansResponse> {
        let p = Ctx::principal(&req)?;
        let pb::ListUpkeepPlansRequest {
            depot_code,
            item_id,
            include_inactive,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let item = optional_item(&item_id)?;
        let subtree = self.subtree(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_plans(&subtree, item.as_ref(), include_inactive, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListUpkeepPlansResponse {
            plans: page.items.iter().map(plan_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn record_upkeep(
        &self,
        req: Request<pb::RecordUpkeepRequest>,
    ) -> Answer<pb::RecordUpkeepResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let parsed = match &m.record {
            Some(r) => NewRecord::parse(&record_draft(r), self.today()),
            None => Err(Violations::one("record", "is required")),
        };
        let method = Self::method("RecordUpkeep");
        let (new, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .record_upkeep(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::RecordUpkeepResponse {
            record: Some(record_pb(&w.value.record)),
            unit_next_due_date: date(w.value.unit_next_due),
        }))
    }

    async fn list_upkeep_records(
        &self,
        req: Request<pb::ListUpkeepRecordsRequest>,
    ) -> Answer<pb::ListUpkeepRecordsResponse> {
        let p = Ctx::principal(&req)?;
        let pb::ListUpkeepRecordsRequest {
            depot_code,
            item_id,
            serial_number,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let filter = RecordFilter {
            item: optional_item(&item_id)?,
            serial: match serial_number.trim() {
                "" => None,
                s => Some(SerialNumber::parse(s).map_err(|e| invalid("serial_number", e))?),
            },
        };
        let subtree = self.subtree(&p, &depot_code).await?;
        let page = self
            .ctx
            .store
            .list_records(&subtree, &filter, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListUpkeepRecordsResponse {
            records: page.items.iter().map(record_pb).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_upkeep_due(
        &self,
        req: Request<pb::ListUpkeepDueRequest>,
    ) -> Answer<pb::ListUpkeepDueResponse> {
        let p = Ctx::principal(&req)?;
        let pb::ListUpkeepDueRequest {
            depot_code,
            item_id,
            horizon_days,
            overdue_only,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        if !(0..=3650).contains(&horizon_days) {
            return Err(invalid("horizon_days", "must be 0 to 3650"));
        }
        let filter = DueFilter {
            item: optional_item(&item_id)?,
            horizon_days: i64::from(horizon_days),
            overdue_only,
        };
        let subtree = self.subtree(&p, &depot_code).await?;
        let today = self.today();
        let page = self
            .ctx
            .store
            .list_due(&subtree, &filter, today, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListUpkeepDueResponse {
            units: page.items.iter().map(due_pb).collect(),
            today: date(Some(today)),
            next_page_token: page.next_token,
        }))
    }

    async fn start_repair(
        &self,
        req: Request<pb::StartRepairRequest>,
    ) -> Answer<pb::StartRepairResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let pb::StartRepairRequest {
            request_id: _,
            depot_code,
            item_id,
            serial_number,
            fault,
        } = &m;
        let parsed = NewRepair::parse(&RepairDraft {
            depot: depot_code.clone(),
            item: item_id.clone(),
            serial: serial_number.clone(),
            fault: fault.clone(),
        });
        let method = Self::method("StartRepair");
        let (new, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .start_repair(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::StartRepairResponse {
            repair: Some(self.repair_pb(&w.value.repair)),
            entry: w.value.entries.first().map(entry_pb),
        }))
    }

    async fn finish_repair(
        &self,
        req: Request<pb::FinishRepairRequest>,
    ) -> Answer<pb::FinishRepairResponse> {
        let p = Ctx::principal(&req)?;
        let m = req.into_inner();
        let pb::FinishRepairRequest {
            request_id: _,
            repair_id,
            outcome,
            cost_fen,
            notes,
            disposal,
            next_due_date,
            etag,
        } = &m;
        let parsed = Finish::parse(
            &FinishDraft {
                id: repair_id.clone(),
                outcome: *outcome,
                cost_fen: *cost_fen,
                notes: notes.clone(),
                disposal: *disposal,
                next_due: ymd(next_due_date.as_ref()),
                etag: etag.clone(),
            },
            self.today(),
        );
        let method = Self::method("FinishRepair");
        let (finish, meta) = self.ctx.write(p, &m.request_id, &method, &m, parsed)?;
        let w = self
            .ctx
            .store
            .finish_repair(&meta, finish)
            .await
            .map_err(status_of)?;
        let v = &w.value;
        Ok(Response::new(pb::FinishRepairResponse {
            repair: Some(self.repair_pb(&v.repair)),
            entries: v.entries.iter().map(entry_pb).collect(),
            record: v.record.as_ref().map(record_pb),
            scrap_application: v.scrap.as_ref().map(scrap_pb),
        }))
    }

    async fn get_repair(
        &self,
        req: Request<pb::GetRepairRequest>,
    ) -> Answer<pb::GetRepairResponse> {
        let p = Ctx::principal(&req)?;
        Ctx::require(&p, Action::ReadStock)?;
        let id = DocId::parse(&req.get_ref().repair_id).map_err(|e| invalid("repair_id", e))?;
        let r = self
            .ctx
            .store
            .get_repair(&id)
            .await
            .map_err(status_of_store)?
            .ok_or_else(|| Status::not_found(format!("repairs/{id} not found")))?;
        let found = self
            .ctx
            .store
            .depot_paths(&[&p.scope, &r.depot])
            .await
            .map_err(status_of_store)?;
        let path_of = |c: &DepotCode| found.iter().find(|(x, _)| x == c).map(|(_, p)| p.clone());
        let depot_path =
            path_of(&r.depot).ok_or_else(|| Status::not_found(format!("depots/{}", r.depot)))?;
        maintenance_reader(&p, path_of(&p.scope).as_ref(), &r.depot, &depot_path)
            .map_err(|d| status_of_kind(reserve_core::Failure::kind(&d)))?;
        Ok(Response::new(pb::GetRepairResponse {
            repair: Some(self.repair_pb(&r)),
        }))
    }

    async fn list_repairs(
        &self,
        req: Request<pb::ListRepairsRequest>,
    ) -> Answer<pb::ListRepairsResponse> {
        let p = Ctx::principal(&req)?;
        let pb::ListRepairsRequest {
            depot_code,
            open_only,
            open_longer_than_days,
            overdue_only,
            page_size: size,
            page_token,
        } = req.into_inner();
        let size = page_size(size)?;
        let days = match (overdue_only, open_longer_than_days) {
            (true, _) => Some(self.config.repair_overdue_days),
            (false, 0) => None,
            (false, n) if (1..=3650).contains(&n) => Some(i64::from(n)),
            _ => return Err(invalid("open_longer_than_days", "must be 0 (any) to 3650")),
        };
        let subtree = self.subtree(&p, &depot_code).await?;
        let filter = RepairFilter {
            open_only,
            // Open longer than N whole days: started more than N days ago.
            open_longer_than_days: days,
            now: self.ctx.clock.now(),
        };
        let page = self
            .ctx
            .store
            .list_repairs(&subtree, &filter, size, &page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListRepairsResponse {
            repairs: page.items.iter().map(|r| self.repair_pb(r)).collect(),
            next_page_token: page.next_token,
        }))
    }
}
