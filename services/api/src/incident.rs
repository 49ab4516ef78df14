//! `reserve.v1.IncidentService`: incidents recorded by command centres and
//! read by everyone signed in.

use crate::context::Ctx;
use crate::error::{invalid, status_of, status_of_store};
use crate::pb::reserve::v1 as pb;
use crate::pb::reserve::v1::incident_service_server::IncidentService;
use crate::wire::{millis, page_size, place_pb, timestamp};
use reserve_core::Violations;
use reserve_core::depot::DepotCode;
use reserve_core::incident::{Incident, IncidentDraft, IncidentType, NewIncident};
use reserve_core::stock::document::DocId;
use reserve_store::incident::IncidentFilter;
use tonic::{Request, Response, Status};

type Answer<T> = Result<Response<T>, Status>;

/// The incident service over a shared context.
#[derive(Clone, Debug)]
pub struct IncidentApi {
    ctx: Ctx,
}

impl IncidentApi {
    /// A service over `ctx`.
    pub fn new(ctx: Ctx) -> Self {
        Self { ctx }
    }
}

/// An incident on the wire.
pub fn incident_pb(i: &Incident) -> pb::Incident {
    pb::Incident {
        id: i.id.clone(),
        name: i.name.clone(),
        r#type: i.kind.number() as i32,
        occur_time: timestamp(i.occurred_at),
        place: Some(place_pb(&i.point, &i.address)),
        depot_code: i.depot.to_string(),
        description: i.description.clone(),
        created_by: i.created_by.clone(),
        create_time: timestamp(i.created_at),
    }
}

fn draft(i: &pb::Incident) -> IncidentDraft {
    let place = i.place.clone().unwrap_or_default();
    IncidentDraft {
        name: i.name.clone(),
        kind: i.r#type,
        occurred: i.occur_time.as_ref().map(|t| (t.seconds, t.nanos)),
        latitude: place.lat_lng.as_ref().map(|l| l.latitude),
        longitude: place
            .lat_lng
            .as_ref()
            .map(|l| l.longitude)
            .unwrap_or_default(),
        address: place.address,
        depot: i.depot_code.clone(),
        description: i.description.clone(),
    }
}

#[tonic::async_trait]
impl IncidentService for IncidentApi {
    async fn create_incident(
        &self,
        req: Request<pb::CreateIncidentRequest>,
    ) -> Answer<pb::CreateIncidentResponse> {
        let p = Ctx::principal(&req)?;
        let msg = req.into_inner();
        let parsed = match &msg.incident {
            Some(i) => NewIncident::parse(&draft(i), self.ctx.clock.now()),
            None => Err(Violations::one("incident", "is required")),
        };
        let method = "/reserve.v1.IncidentService/CreateIncident";
        let (new, meta) = self.ctx.write(p, &msg.request_id, method, &msg, parsed)?;
        let w = self
            .ctx
            .store
            .create_incident(&meta, new)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::CreateIncidentResponse {
            incident: Some(incident_pb(&w.value)),
        }))
    }

    async fn get_incident(
        &self,
        req: Request<pb::GetIncidentRequest>,
    ) -> Answer<pb::GetIncidentResponse> {
        Ctx::principal(&req)?;
        let id = DocId::parse(&req.get_ref().incident_id).map_err(|e| invalid("incident_id", e))?;
        match self
            .ctx
            .store
            .get_incident(id.as_str())
            .await
            .map_err(status_of_store)?
        {
            Some(i) => Ok(Response::new(pb::GetIncidentResponse {
                incident: Some(incident_pb(&i)),
            })),
            None => Err(Status::not_found(format!("incidents/{id} not found"))),
        }
    }

    async fn list_incidents(
        &self,
        req: Request<pb::ListIncidentsRequest>,
    ) -> Answer<pb::ListIncidentsResponse> {
        Ctx::principal(&req)?;
        let r = req.into_inner();
        let subtree = match r.depot_code.trim() {
            "" => None,
            c => {
                let code = DepotCode::parse(c).map_err(|e| invalid("depot_code", e))?;
                let found = self
                    .ctx
                    .store
                    .depot_paths(&[&code])
                    .await
                    .map_err(status_of_store)?;
                match found.into_iter().next() {
                    Some((_, path)) => Some(path),
                    None => return Err(Status::not_found(format!("depots/{code} not found"))),
                }
            }
        };
        let kind = match r.r#type {
            0 => None,
            n => Some(
                IncidentType::from_number(i64::from(n))
                    .ok_or_else(|| invalid("type", format!("{n} is not an incident type")))?,
            ),
        };
        let filter = IncidentFilter {
            subtree,
            kind,
            from: millis(r.start_time.as_ref(), "start_time")?,
            to: millis(r.end_time.as_ref(), "end_time")?,
        };
        let size = page_size(r.page_size)?;
        let page = self
            .ctx
            .store
            .list_incidents(&filter, size, &r.page_token)
            .await
            .map_err(status_of)?;
        Ok(Response::new(pb::ListIncidentsResponse {
            incidents: page.items.iter().map(incident_pb).collect(),
            next_page_token: page.next_token,
        }))
    }
}
