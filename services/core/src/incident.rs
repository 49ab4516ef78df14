//! Incidents (突发事件): the floods, earthquakes and fires that orders and
//! issues are made for.

use crate::depot::{DepotCode, GeoPoint};
use crate::stock::fields;
use crate::text;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Kind of incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentType {
    /// Flood or waterlogging.
    Flood,
    /// Earthquake.
    Earthquake,
    /// Landslide, debris flow, collapse.
    Geological,
    /// Forest or grassland fire.
    Fire,
    /// Drought.
    Drought,
    /// Low temperature, rain, snow and ice.
    SnowAndIce,
    /// Strong wind, hail, typhoon.
    Wind,
    /// Anything else.
    Other,
}

impl IncidentType {
    const ALL: [IncidentType; 8] = [
        IncidentType::Flood,
        IncidentType::Earthquake,
        IncidentType::Geological,
        IncidentType::Fire,
        IncidentType::Drought,
        IncidentType::SnowAndIce,
        IncidentType::Wind,
        IncidentType::Other,
    ];

    /// Stored and wire number.
    pub fn number(self) -> i64 {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(7) as i64 + 1
    }

    /// The type with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        usize::try_from(n - 1)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

/// An incident as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: IncidentType,
    /// When it happened.
    pub occurred_at: UtcMillis,
    /// Where.
    pub point: GeoPoint,
    /// Address.
    pub address: String,
    /// The command centre responsible.
    pub depot: DepotCode,
    /// What happened.
    pub description: String,
    /// Who recorded it.
    pub created_by: String,
    /// When.
    pub created_at: UtcMillis,
}

/// An incident as sent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentDraft {
    /// Name.
    pub name: String,
    /// Kind number.
    pub kind: i32,
    /// When, as a wire timestamp.
    pub occurred: Option<(i64, i32)>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: f64,
    /// Address.
    pub address: String,
    /// Command centre depot code, or empty for the caller's.
    pub depot: String,
    /// Description.
    pub description: String,
}

/// An incident that passed its field rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: IncidentType,
    /// When.
    pub occurred_at: UtcMillis,
    /// Where.
    pub point: GeoPoint,
    /// Address.
    pub address: String,
    /// Command centre, if named.
    pub depot: Option<DepotCode>,
    /// Description.
    pub description: String,
}

impl NewIncident {
    /// Checks every field, reporting all broken ones under `incident.`.
    pub fn parse(d: &IncidentDraft, now: UtcMillis) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let name = v.take("incident.name", text::required(&d.name, 100));
        let kind = IncidentType::from_number(i64::from(d.kind));
        if kind.is_none() {
            v.add("incident.type", "is required: flood (1) to other (8)");
        }
        let occurred_at = match d.occurred {
            None => {
                v.add("incident.occur_time", "is required: when it happened");
                None
            }
            Some(raw) => fields::timestamp(Some(raw), "incident.occur_time", &mut v),
        };
        if occurred_at.is_some_and(|t| t > now.saturating_add(300_000)) {
            v.add("incident.occur_time", "must not be in the future");
        }
        let point = match d.latitude {
            None => {
                v.add("incident.place", "is required: coordinates and address");
                None
            }
            Some(lat) => GeoPoint::parse_at("incident.place", lat, d.longitude, &mut v),
        };
        let address = v.take("incident.place.address", text::required(&d.address, 200));
        let depot = if d.depot.trim().is_empty() {
            Some(None)
        } else {
            v.take("incident.depot_code", DepotCode::parse(d.depot.trim()))
                .map(Some)
        };
        let description = v.take("incident.description", text::optional(&d.description, 2000));
        match (name, kind, occurred_at, point, address, depot, description) {
            (
                Some(name),
                Some(kind),
                Some(occurred_at),
                Some(point),
                Some(address),
                Some(depot),
                Some(description),
            ) if v.is_empty() => Ok(NewIncident {
                name,
                kind,
                occurred_at,
                point,
                address,
                depot,
                description,
            }),
            _ => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_needs_a_name_a_kind_a_time_and_a_place() {
        let v = NewIncident::parse(&IncidentDraft::default(), 0).unwrap_err();
        let f: Vec<_> = v.as_slice().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            f,
            vec![
                "incident.name",
                "incident.type",
                "incident.occur_time",
                "incident.place",
                "incident.place.address"
            ]
        );
        let ok = NewIncident::parse(
            &IncidentDraft {
                name: "竹山县暴雨洪涝".into(),
                kind: 1,
                occurred: Some((1_780_000_000, 0)),
                latitude: Some(32.2),
                longitude: 110.2,
                address: "竹山县城关镇".into(),
                ..Default::default()
            },
            1_790_000_000_000,
        )
        .unwrap();
        assert_eq!(ok.kind, IncidentType::Flood);
        assert_eq!(IncidentType::from_number(8), Some(IncidentType::Other));
        assert_eq!(IncidentType::Wind.number(), 7);
        assert_eq!(IncidentType::from_number(0), None);
    }
}
