//! Creating a depot: the draft as sent, its field rules, and where it goes
//! in the tree.

use super::{
    Contact, Depot, DepotCode, DepotError, DepotPath, DepotStatus, DivisionCode, GeoPoint,
};
use crate::text;
use crate::tier::Tier;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// A contact as the client sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactDraft {
    /// Full name.
    pub name: String,
    /// Duty role.
    pub duty: String,
    /// Phone number.
    pub phone: String,
}

/// A depot as the client sent it, before any rule is checked. Enumerations
/// are raw wire numbers (0 = not set).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DepotDraft {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Tier number.
    pub tier: i32,
    /// Parent code; empty for none.
    pub parent_code: String,
    /// Division code.
    pub division_code: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Address.
    pub address: String,
    /// Storage area, m².
    pub storage_area_m2: f64,
    /// Operating unit.
    pub operating_unit: String,
    /// Owning tier number; 0 means the depot's own tier.
    pub owning_tier: i32,
    /// Contacts.
    pub contacts: Vec<ContactDraft>,
    /// Status number; 0 means active.
    pub status: i32,
}

/// A depot that passed every rule checkable without the database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewDepot {
    /// Code.
    pub code: DepotCode,
    /// Name.
    pub name: String,
    /// Tier.
    pub tier: Tier,
    /// Parent code.
    pub parent: Option<DepotCode>,
    /// Division.
    pub division: DivisionCode,
    /// Location.
    pub location: GeoPoint,
    /// Address.
    pub address: String,
    /// Storage area.
    pub storage_area_m2: f64,
    /// Operating unit.
    pub operating_unit: String,
    /// Owning tier.
    pub owning_tier: Tier,
    /// Contacts.
    pub contacts: Vec<Contact>,
    /// Status (never closed).
    pub status: DepotStatus,
}

/// The most duty contacts a depot keeps.
pub const MAX_CONTACTS: usize = 10;

fn parse_tier(raw: i32) -> Result<Tier, String> {
    if raw == 0 {
        return Err("is required: province, city, county or township".into());
    }
    Tier::from_number(raw as i64).ok_or_else(|| format!("{raw} is not a tier"))
}

impl NewDepot {
    /// Checks every field rule of a depot draft, collecting all violations.
    pub fn parse(d: &DepotDraft) -> Result<Self, Violations> {
        let mut v = Violations::new();
        let code = v.take("code", DepotCode::parse(&d.code));
        let name = v.take("name", text::required(&d.name, 100));
        let tier = v.take("tier", parse_tier(d.tier));
        let parent = match tier {
            Some(Tier::Province) if !d.parent_code.is_empty() => {
                v.add(
                    "parent_code",
                    "must be empty: a provincial sub-depot is a root of the network",
                );
                None
            }
            Some(Tier::Province) | None => None,
            Some(t) => {
                if d.parent_code.is_empty() {
                    let need = t.parent().map(Tier::name).unwrap_or("none");
                    v.add(
                        "parent_code",
                        format!("is required: a {t} depot hangs under a {need} depot"),
                    );
                    None
                } else {
                    v.take("parent_code", DepotCode::parse(&d.parent_code))
                }
            }
        };
        let division = tier.and_then(|t| {
            v.take(
                "division_code",
                DivisionCode::parse_for(&d.division_code, t),
            )
        });
        let location = GeoPoint::parse(d.latitude, d.longitude, &mut v);
        let address = v.take("location.address", text::optional(&d.address, 200));
        let area_ok =
            d.storage_area_m2.is_finite() && (0.0..=10_000_000.0).contains(&d.storage_area_m2);
        if !area_ok {
            v.add(
                "storage_area_m2",
                "must be between 0 and 10,000,000 square metres",
            );
        }
        let operating_unit = v.take("operating_unit", text::optional(&d.operating_unit, 100));
        let owning_tier = match (d.owning_tier, tier) {
            (0, t) => t,
            (raw, Some(t)) => match Tier::from_number(raw as i64) {
                Some(o) if o.at_or_above(t) => Some(o),
                Some(o) => {
                    v.add(
                        "owning_tier",
                        format!("must be the depot's own tier or above; a {t} depot cannot be owned by the {o} tier"),
                    );
                    None
                }
                None => {
                    v.add("owning_tier", format!("{raw} is not a tier"));
                    None
                }
            },
            (_, None) => None,
        };
        if d.contacts.len() > MAX_CONTACTS {
            v.add(
                "duty_contacts",
                format!("must hold at most {MAX_CONTACTS} contacts"),
            );
        }
        let mut contacts = Vec::new();
        for (i, c) in d.contacts.iter().enumerate() {
            if let Some(c) = Contact::parse_at(&format!("duty_contacts[{i}]"), c, &mut v) {
                contacts.push(c);
            }
        }
        let status = match d.status {
            0 | 1 => Some(DepotStatus::Active),
            2 => Some(DepotStatus::Suspended),
            3 => {
                v.add(
                    "status",
                    "cannot be set to closed here; close a depot with CloseDepot",
                );
                None
            }
            n => {
                v.add("status", format!("{n} is not a depot status"));
                None
            }
        };
        match (
            code,
            name,
            tier,
            division,
            location,
            address,
            operating_unit,
            owning_tier,
            status,
        ) {
            (
                Some(code),
                Some(name),
                Some(tier),
                Some(division),
                Some(location),
                Some(address),
                Some(operating_unit),
                Some(owning_tier),
                Some(status),
            ) if v.is_empty() => Ok(NewDepot {
                code,
                name,
                tier,
                parent,
                division,
                location,
                address,
                storage_area_m2: d.storage_area_m2,
                operating_unit,
                owning_tier,
                contacts,
                status,
            }),
            _ => Err(v),
        }
    }

    /// Checks the rules that need the parent as stored and returns the new
    /// depot's path. `parent` is the row named by `self.parent`, if it exists.
    pub fn place_under(&self, parent: Option<&Depot>) -> Result<DepotPath, DepotError> {
        match (&self.parent, parent) {
            (None, _) => Ok(DepotPath::root(&self.code)),
            (Some(code), None) => Err(DepotError::ParentNotFound(code.clone())),
            (Some(_), Some(p)) => {
                check_parent(self.tier, &self.division, p)?;
                Ok(p.path.child(&self.code))
            }
        }
    }

    /// The depot as first stored.
    pub fn into_depot(self, path: DepotPath, now: UtcMillis) -> Depot {
        Depot {
            code: self.code,
            name: self.name,
            tier: self.tier,
            parent: self.parent,
            division: self.division,
            location: self.location,
            address: self.address,
            storage_area_m2: self.storage_area_m2,
            operating_unit: self.operating_unit,
            owning_tier: self.owning_tier,
            contacts: self.contacts,
            status: self.status,
            path,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

pub(super) fn check_parent(
    tier: Tier,
    division: &DivisionCode,
    parent: &Depot,
) -> Result<(), DepotError> {
    let need = tier.parent();
    if need != Some(parent.tier) {
        return Err(DepotError::ParentWrongTier {
            parent: parent.code.clone(),
            parent_tier: parent.tier,
            tier,
        });
    }
    if parent.status == DepotStatus::Closed {
        return Err(DepotError::ParentClosed(parent.code.clone()));
    }
    if !division.within(&parent.division) {
        return Err(DepotError::DivisionOutsideParent {
            division: division.as_str().to_string(),
            parent: parent.code.clone(),
            parent_division: parent.division.as_str().to_string(),
        });
    }
    Ok(())
}
