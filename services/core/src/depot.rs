//! Depots of the reserve network and the tier rules that hold the tree together.

use crate::authz::DepotPath;
use crate::error::{ErrorKind, Failure};
use crate::text;
use crate::tier::Tier;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Stable depot code: 2 to 32 characters of `A-Z`, `0-9` and `-`, starting
/// with a letter or digit. Used in paths, so it can never hold `/`, `%` or `_`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DepotCode(String);

impl DepotCode {
    /// Parses a code as a client sent it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_len = (2..=32).contains(&raw.len());
        let ok_first = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if raw.is_empty() {
            Err("is required".into())
        } else if ok_len && ok_first && ok_chars {
            Ok(Self(raw.to_string()))
        } else {
            Err(
                "must be 2 to 32 characters of A-Z, 0-9 and '-', starting with a letter or digit"
                    .into(),
            )
        }
    }

    /// Wraps a code read from storage (already valid).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DepotCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// GB/T 2260 province-level prefixes (the first two digits of every division code).
const PROVINCE_PREFIXES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// Administrative division code (GB/T 2260): six digits down to county level,
/// nine for a township.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parses a code; its level must suit a depot of tier `tier`.
    pub fn parse_for(raw: &str, tier: Tier) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        if !(raw.len() == 6 || raw.len() == 9) || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must be 6 digits (province, city, county) or 9 digits (township)".into());
        }
        if !PROVINCE_PREFIXES.contains(&&raw[0..2]) {
            return Err(format!(
                "must start with a GB/T 2260 province code; '{}' is none",
                &raw[0..2]
            ));
        }
        let code = Self(raw.to_string());
        let level = code.level();
        if level != tier {
            return Err(format!(
                "is a {} code but the depot is a {} depot ({})",
                level.name(),
                tier.name(),
                Self::shape_of(tier)
            ));
        }
        Ok(code)
    }

    /// Wraps a code read from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    fn shape_of(tier: Tier) -> &'static str {
        match tier {
            Tier::Province => "six digits ending 0000",
            Tier::City => "six digits ending 00",
            Tier::County => "six digits not ending 00",
            Tier::Township => "nine digits",
        }
    }

    /// The tier of government the code names.
    pub fn level(&self) -> Tier {
        let s = &self.0;
        if s.len() == 9 {
            Tier::Township
        } else if s.ends_with("0000") {
            Tier::Province
        } else if s.ends_with("00") {
            Tier::City
        } else {
            Tier::County
        }
    }

    /// Whether this division lies inside `parent`'s division. County-level
    /// units administered directly by the province (digits 3-4 are `90`, e.g.
    /// 仙桃 429004) count as inside any city of that province.
    pub fn within(&self, parent: &DivisionCode) -> bool {
        let (s, p) = (&self.0, &parent.0);
        match parent.level() {
            Tier::Province => s[0..2] == p[0..2],
            Tier::City => {
                if self.level() == Tier::County && &s[2..4] == "90" {
                    s[0..2] == p[0..2]
                } else {
                    s[0..4] == p[0..4]
                }
            }
            Tier::County => s.len() == 9 && s[0..6] == p[0..6],
            Tier::Township => false,
        }
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A WGS-84 location inside China's bounding box.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

impl GeoPoint {
    /// Checks latitude and longitude, reporting each under its own field name.
    pub fn parse(latitude: f64, longitude: f64, v: &mut Violations) -> Option<Self> {
        let lat_ok = latitude.is_finite() && (3.8..=53.6).contains(&latitude);
        let lon_ok = longitude.is_finite() && (73.5..=135.1).contains(&longitude);
        if !lat_ok {
            v.add(
                "latitude",
                "must be a WGS-84 latitude inside China, 3.8 to 53.6 degrees north",
            );
        }
        if !lon_ok {
            v.add(
                "longitude",
                "must be a WGS-84 longitude inside China, 73.5 to 135.1 degrees east",
            );
        }
        (lat_ok && lon_ok).then_some(Self {
            latitude,
            longitude,
        })
    }
}

/// A duty contact of a depot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Full name.
    pub name: String,
    /// Duty role (值班员, 库管员, ...).
    pub duty: String,
    /// Phone number.
    pub phone: String,
}

/// Checks a phone number: 5 to 20 characters of digits, `+`, `-`, spaces and
/// parentheses, with at least 5 digits.
pub fn parse_phone(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if p.is_empty() {
        return Err("is required".into());
    }
    let chars_ok = p
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    let digits = p.chars().filter(char::is_ascii_digit).count();
    if !chars_ok || !(5..=20).contains(&p.len()) || digits < 5 {
        return Err(
            "must be a phone number: 5 to 20 characters of digits, '+', '-', spaces or parentheses"
                .into(),
        );
    }
    Ok(p.to_string())
}

/// Whether a depot is in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DepotStatus {
    /// In service.
    Active,
    /// Out of service for a while; keeps its stock.
    Suspended,
    /// Closed for good.
    Closed,
}

impl DepotStatus {
    /// Stored and wire number (1 active, 2 suspended, 3 closed).
    pub fn number(self) -> i64 {
        match self {
            DepotStatus::Active => 1,
            DepotStatus::Suspended => 2,
            DepotStatus::Closed => 3,
        }
    }

    /// The status with that number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(DepotStatus::Active),
            2 => Some(DepotStatus::Suspended),
            3 => Some(DepotStatus::Closed),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            DepotStatus::Active => "active",
            DepotStatus::Suspended => "suspended",
            DepotStatus::Closed => "closed",
        }
    }
}

/// A depot as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Depot {
    /// Stable code.
    pub code: DepotCode,
    /// Chinese name.
    pub name: String,
    /// Tier, fixed at creation.
    pub tier: Tier,
    /// Parent one tier up; none for a province.
    pub parent: Option<DepotCode>,
    /// GB/T 2260 division.
    pub division: DivisionCode,
    /// Location.
    pub location: GeoPoint,
    /// Street address.
    pub address: String,
    /// Storage area in m².
    pub storage_area_m2: f64,
    /// 承储单位.
    pub operating_unit: String,
    /// 事权: whose budget owns the reserve.
    pub owning_tier: Tier,
    /// Duty contacts.
    pub contacts: Vec<Contact>,
    /// In service or not.
    pub status: DepotStatus,
    /// Position in the tree.
    pub path: DepotPath,
    /// Optimistic-concurrency version, starting at 1.
    pub version: i64,
    /// Creation time.
    pub created_at: UtcMillis,
    /// Last change.
    pub updated_at: UtcMillis,
}

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
        let address = v.take("address", text::optional(&d.address, 200));
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
            let name = v.take(
                &format!("duty_contacts[{i}].name"),
                text::required(&c.name, 50),
            );
            let duty = v.take(
                &format!("duty_contacts[{i}].duty"),
                text::optional(&c.duty, 50),
            );
            let phone = v.take(&format!("duty_contacts[{i}].phone"), parse_phone(&c.phone));
            if let (Some(name), Some(duty), Some(phone)) = (name, duty, phone) {
                contacts.push(Contact { name, duty, phone });
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

fn check_parent(tier: Tier, division: &DivisionCode, parent: &Depot) -> Result<(), DepotError> {
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

/// Fields an update mask may name.
pub const UPDATABLE_FIELDS: [&str; 11] = [
    "name",
    "parent_code",
    "division_code",
    "latitude",
    "longitude",
    "address",
    "storage_area_m2",
    "operating_unit",
    "owning_tier",
    "duty_contacts",
    "status",
];

impl Depot {
    /// The depot as a draft, so an update can overlay fields and re-check them all.
    pub fn to_draft(&self) -> DepotDraft {
        DepotDraft {
            code: self.code.as_str().to_string(),
            name: self.name.clone(),
            tier: self.tier.number() as i32,
            parent_code: self
                .parent
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            division_code: self.division.as_str().to_string(),
            latitude: self.location.latitude,
            longitude: self.location.longitude,
            address: self.address.clone(),
            storage_area_m2: self.storage_area_m2,
            operating_unit: self.operating_unit.clone(),
            owning_tier: self.owning_tier.number() as i32,
            contacts: self
                .contacts
                .iter()
                .map(|c| ContactDraft {
                    name: c.name.clone(),
                    duty: c.duty.clone(),
                    phone: c.phone.clone(),
                })
                .collect(),
            status: self.status.number() as i32,
        }
    }
}

/// An update as the client asked for it: which fields, with which values.
#[derive(Clone, Debug)]
pub struct DepotPatch {
    /// Paths from the update mask.
    pub mask: Vec<String>,
    /// The values (only masked fields are read).
    pub values: DepotDraft,
}

/// What an accepted update does.
#[derive(Clone, Debug, PartialEq)]
pub struct DepotChange {
    /// The depot after the update (path still the old one if it moves).
    pub after: NewDepot,
    /// Whether the parent changes, so the subtree's paths must be rewritten.
    pub moves: bool,
    /// Whether the division code changes, so children must still fit inside it.
    pub division_changes: bool,
}

impl DepotPatch {
    /// Checks the mask and the new values against every field rule.
    pub fn check(&self, current: &Depot) -> Result<DepotChange, Violations> {
        let mut v = Violations::new();
        if self.mask.is_empty() {
            v.add(
                "update_mask",
                format!(
                    "must name at least one field: {}",
                    UPDATABLE_FIELDS.join(", ")
                ),
            );
            return Err(v);
        }
        let mut draft = current.to_draft();
        for path in &self.mask {
            let d = &self.values;
            match path.as_str() {
                "name" => draft.name = d.name.clone(),
                "parent_code" => draft.parent_code = d.parent_code.clone(),
                "division_code" => draft.division_code = d.division_code.clone(),
                "latitude" => draft.latitude = d.latitude,
                "longitude" => draft.longitude = d.longitude,
                "address" => draft.address = d.address.clone(),
                "storage_area_m2" => draft.storage_area_m2 = d.storage_area_m2,
                "operating_unit" => draft.operating_unit = d.operating_unit.clone(),
                "owning_tier" => draft.owning_tier = d.owning_tier,
                "duty_contacts" => draft.contacts = d.contacts.clone(),
                "status" => draft.status = d.status,
                "code" | "tier" => v.add(
                    "update_mask",
                    format!("'{path}' never changes once a depot exists"),
                ),
                "etag" | "create_time" | "update_time" => {
                    v.add("update_mask", format!("'{path}' is output only"))
                }
                other => v.add(
                    "update_mask",
                    format!(
                        "'{other}' is not a depot field; updatable: {}",
                        UPDATABLE_FIELDS.join(", ")
                    ),
                ),
            }
        }
        if !v.is_empty() {
            return Err(v);
        }
        let after = NewDepot::parse(&draft).map_err(|v| v.prefixed("depot"))?;
        Ok(DepotChange {
            moves: after.parent != current.parent,
            division_changes: after.division != current.division,
            after,
        })
    }
}

impl DepotChange {
    /// Checks the rules that need stored rows: the depot is not closed, the
    /// (new) parent fits, the parent is not inside the depot's own subtree,
    /// and children still lie inside the division. Returns the new path.
    pub fn check_against(
        &self,
        current: &Depot,
        parent: Option<&Depot>,
        child_divisions: &[DivisionCode],
    ) -> Result<DepotPath, DepotError> {
        if current.status == DepotStatus::Closed {
            return Err(DepotError::Closed(current.code.clone()));
        }
        if let Some(p) = parent
            && current.path.covers(&p.path)
        {
            return Err(DepotError::Cycle {
                depot: current.code.clone(),
                parent: p.code.clone(),
            });
        }
        let path = match (&self.after.parent, parent) {
            (None, _) => DepotPath::root(&current.code),
            (Some(code), None) => return Err(DepotError::ParentNotFound(code.clone())),
            (Some(_), Some(p)) => {
                if self.moves || self.division_changes || p.status == DepotStatus::Closed {
                    check_parent(current.tier, &self.after.division, p)?;
                }
                p.path.child(&current.code)
            }
        };
        if self.division_changes
            && let Some(c) = child_divisions
                .iter()
                .find(|c| !c.within(&self.after.division))
        {
            return Err(DepotError::ChildOutsideDivision {
                child_division: c.as_str().to_string(),
            });
        }
        Ok(path)
    }
}

/// Checks whether a depot may close: not already closed, no open child, no stock.
pub fn check_close(
    depot: &Depot,
    open_children: i64,
    units_in_stock: i64,
) -> Result<(), DepotError> {
    if depot.status == DepotStatus::Closed {
        return Err(DepotError::Closed(depot.code.clone()));
    }
    if open_children > 0 {
        return Err(DepotError::HasOpenChildren {
            depot: depot.code.clone(),
            open_children,
        });
    }
    if units_in_stock > 0 {
        return Err(DepotError::HasStock {
            depot: depot.code.clone(),
            units: units_in_stock,
        });
    }
    Ok(())
}

/// Every way a depot change can break a rule that needs stored state.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DepotError {
    /// A field rule is broken.
    #[error("{0}")]
    Invalid(Violations),
    /// No depot with that code (or not one the caller may see).
    #[error("depot {0} not found")]
    NotFound(DepotCode),
    /// The code is taken.
    #[error("depot {0} already exists")]
    AlreadyExists(DepotCode),
    /// The named parent does not exist.
    #[error("parent depot {0} does not exist")]
    ParentNotFound(DepotCode),
    /// The parent is not exactly one tier up.
    #[error("depot {parent} is a {parent_tier} depot; a {tier} depot needs a parent one tier up")]
    ParentWrongTier {
        /// The parent named.
        parent: DepotCode,
        /// Its tier.
        parent_tier: Tier,
        /// The child's tier.
        tier: Tier,
    },
    /// The parent is closed.
    #[error("parent depot {0} is closed")]
    ParentClosed(DepotCode),
    /// The division code is not inside the parent's.
    #[error("division {division} is not inside {parent_division}, the division of parent {parent}")]
    DivisionOutsideParent {
        /// The child's division.
        division: String,
        /// The parent.
        parent: DepotCode,
        /// The parent's division.
        parent_division: String,
    },
    /// The new parent is the depot itself or below it.
    #[error(
        "depot {parent} is {depot} itself or below it; a depot cannot hang under its own subtree"
    )]
    Cycle {
        /// The depot moved.
        depot: DepotCode,
        /// The parent asked for.
        parent: DepotCode,
    },
    /// A child's division would fall outside the new division.
    #[error(
        "a child depot's division {child_division} would no longer lie inside the new division code"
    )]
    ChildOutsideDivision {
        /// The child's division code.
        child_division: String,
    },
    /// The depot is closed; closed is final.
    #[error("depot {0} is closed")]
    Closed(DepotCode),
    /// Open children block closing.
    #[error(
        "depot {depot} still has {open_children} open child depot(s); close or move them first"
    )]
    HasOpenChildren {
        /// The depot.
        depot: DepotCode,
        /// How many children are not closed.
        open_children: i64,
    },
    /// Stock blocks closing.
    #[error("depot {depot} still holds {units} unit(s) of stock; move or write it off first")]
    HasStock {
        /// The depot.
        depot: DepotCode,
        /// Units on hand.
        units: i64,
    },
    /// The etag sent is not the current one.
    #[error(
        "depot {depot} has changed since it was read (etag {sent}, now {current}); read it again"
    )]
    StaleEtag {
        /// The depot.
        depot: DepotCode,
        /// Etag the client sent.
        sent: i64,
        /// Current version.
        current: i64,
    },
}

impl Failure for DepotError {
    fn kind(&self) -> ErrorKind {
        match self {
            DepotError::Invalid(v) => v.kind(),
            DepotError::NotFound(c) => ErrorKind::NotFound {
                resource: format!("depots/{c}"),
            },
            DepotError::AlreadyExists(c) => ErrorKind::AlreadyExists {
                resource: format!("depots/{c}"),
            },
            DepotError::ParentNotFound(_)
            | DepotError::ParentWrongTier { .. }
            | DepotError::Cycle { .. } => ErrorKind::invalid("depot.parent_code", self.to_string()),
            DepotError::DivisionOutsideParent { .. } => {
                ErrorKind::invalid("depot.division_code", self.to_string())
            }
            DepotError::ChildOutsideDivision { .. } => {
                ErrorKind::precondition("CHILD_OUTSIDE_DIVISION", self.to_string())
            }
            DepotError::ParentClosed(_) => {
                ErrorKind::precondition("PARENT_CLOSED", self.to_string())
            }
            DepotError::Closed(_) => ErrorKind::precondition("DEPOT_CLOSED", self.to_string()),
            DepotError::HasOpenChildren { .. } => {
                ErrorKind::precondition("DEPOT_HAS_OPEN_CHILDREN", self.to_string())
            }
            DepotError::HasStock { .. } => {
                ErrorKind::precondition("DEPOT_HAS_STOCK", self.to_string())
            }
            DepotError::StaleEtag { .. } => ErrorKind::Aborted {
                message: self.to_string(),
            },
        }
    }
}

impl From<Violations> for DepotError {
    fn from(v: Violations) -> Self {
        DepotError::Invalid(v)
    }
}

/// Checks an etag sent by the client against the stored version.
pub fn check_etag(code: &DepotCode, sent: Option<i64>, current: i64) -> Result<(), DepotError> {
    match sent {
        Some(s) if s != current => Err(DepotError::StaleEtag {
            depot: code.clone(),
            sent: s,
            current,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(code: &str, tier: Tier, parent: &str, division: &str) -> DepotDraft {
        DepotDraft {
            code: code.into(),
            name: "十堰市应急物资储备中心".into(),
            tier: tier.number() as i32,
            parent_code: parent.into(),
            division_code: division.into(),
            latitude: 32.63,
            longitude: 110.79,
            ..Default::default()
        }
    }

    fn stored(d: &DepotDraft, parent: Option<&Depot>) -> Depot {
        let n = NewDepot::parse(d).unwrap();
        let path = n.place_under(parent).unwrap();
        n.into_depot(path, 0)
    }

    fn fields(v: &Violations) -> Vec<&str> {
        v.as_slice().iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_well_formed_county_depot_parses_with_defaults() {
        let n = NewDepot::parse(&draft("HB-SY-ZS", Tier::County, "HB-SY", "420323")).unwrap();
        assert_eq!(n.owning_tier, Tier::County);
        assert_eq!(n.status, DepotStatus::Active);
        assert_eq!(n.parent.unwrap().as_str(), "HB-SY");
    }

    #[test]
    fn every_broken_field_is_reported_at_once() {
        let mut d = draft("hb sy", Tier::County, "", "4203");
        d.name = " ".into();
        d.latitude = 91.0;
        d.storage_area_m2 = -1.0;
        let v = NewDepot::parse(&d).unwrap_err();
        assert_eq!(
            fields(&v),
            vec![
                "code",
                "name",
                "parent_code",
                "division_code",
                "latitude",
                "storage_area_m2"
            ]
        );
    }

    #[test]
    fn a_province_has_no_parent_and_others_need_one() {
        let v = NewDepot::parse(&draft("HB", Tier::Province, "X1", "420000")).unwrap_err();
        assert_eq!(fields(&v), vec!["parent_code"]);
        let v = NewDepot::parse(&draft("HB-SY", Tier::City, "", "420300")).unwrap_err();
        assert_eq!(fields(&v), vec!["parent_code"]);
    }

    #[test]
    fn division_level_must_match_the_tier() {
        for (tier, code) in [
            (Tier::Province, "420300"),
            (Tier::City, "420000"),
            (Tier::County, "420300"),
            (Tier::Township, "420323"),
        ] {
            let parent = if tier == Tier::Province { "" } else { "P1" };
            let v = NewDepot::parse(&draft("D1", tier, parent, code)).unwrap_err();
            assert_eq!(fields(&v), vec!["division_code"], "{tier} {code}");
        }
        let v = NewDepot::parse(&draft("D1", Tier::Province, "", "990000")).unwrap_err();
        assert!(v.as_slice()[0].description.contains("province code"));
    }

    #[test]
    fn owning_tier_cannot_be_below_the_depot() {
        let mut d = draft("HB-SY", Tier::City, "HB", "420300");
        d.owning_tier = Tier::County.number() as i32;
        assert_eq!(
            fields(&NewDepot::parse(&d).unwrap_err()),
            vec!["owning_tier"]
        );
        d.owning_tier = Tier::Province.number() as i32;
        assert_eq!(NewDepot::parse(&d).unwrap().owning_tier, Tier::Province);
    }

    #[test]
    fn contacts_are_checked_one_by_one() {
        let mut d = draft("HB", Tier::Province, "", "420000");
        d.contacts = vec![
            ContactDraft {
                name: "王建国".into(),
                duty: "值班员".into(),
                phone: "0719-8888888".into(),
            },
            ContactDraft {
                name: "".into(),
                duty: "".into(),
                phone: "call me".into(),
            },
        ];
        let v = NewDepot::parse(&d).unwrap_err();
        assert_eq!(
            fields(&v),
            vec!["duty_contacts[1].name", "duty_contacts[1].phone"]
        );
    }

    #[test]
    fn the_parent_must_be_exactly_one_tier_up_open_and_contain_the_division() {
        let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
        let sy = stored(&draft("HB-SY", Tier::City, "HB", "420300"), Some(&hb));
        let county = NewDepot::parse(&draft("HB-ZS", Tier::County, "HB", "420323")).unwrap();
        assert!(matches!(
            county.place_under(Some(&hb)),
            Err(DepotError::ParentWrongTier { .. })
        ));
        assert!(matches!(
            county.place_under(None),
            Err(DepotError::ParentNotFound(_))
        ));

        let wrong_div = NewDepot::parse(&draft("HB-WH1", Tier::County, "HB-SY", "420102")).unwrap();
        assert!(matches!(
            wrong_div.place_under(Some(&sy)),
            Err(DepotError::DivisionOutsideParent { .. })
        ));

        let ok = NewDepot::parse(&draft("HB-SY-ZS", Tier::County, "HB-SY", "420323")).unwrap();
        assert_eq!(
            ok.place_under(Some(&sy)).unwrap().as_str(),
            "/HB/HB-SY/HB-SY-ZS/"
        );

        let mut closed = sy.clone();
        closed.status = DepotStatus::Closed;
        assert!(matches!(
            ok.place_under(Some(&closed)),
            Err(DepotError::ParentClosed(_))
        ));
    }

    #[test]
    fn province_administered_counties_fit_under_any_city_of_their_province() {
        let xiantao = DivisionCode::parse_for("429004", Tier::County).unwrap();
        let shiyan = DivisionCode::parse_for("420300", Tier::City).unwrap();
        let changsha = DivisionCode::parse_for("430100", Tier::City).unwrap();
        assert!(xiantao.within(&shiyan));
        assert!(!xiantao.within(&changsha));
        let zhushan_town = DivisionCode::parse_for("420323100", Tier::Township).unwrap();
        let zhushan = DivisionCode::parse_for("420323", Tier::County).unwrap();
        assert!(zhushan_town.within(&zhushan));
    }

    #[test]
    fn an_update_mask_names_only_updatable_fields() {
        let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
        let patch = |mask: &[&str]| DepotPatch {
            mask: mask.iter().map(|s| s.to_string()).collect(),
            values: DepotDraft {
                name: "湖北省备灾分库".into(),
                ..Default::default()
            },
        };
        assert_eq!(
            patch(&["name"]).check(&hb).unwrap().after.name,
            "湖北省备灾分库"
        );
        for bad in [&[][..], &["code"], &["tier"], &["etag"], &["colour"]] {
            let v = patch(bad).check(&hb).unwrap_err();
            assert_eq!(fields(&v), vec!["update_mask"], "{bad:?}");
        }
        // Masking a field sent empty re-checks it like on create.
        let v = patch(&["division_code"]).check(&hb).unwrap_err();
        assert_eq!(fields(&v), vec!["depot.division_code"]);
    }

    #[test]
    fn a_depot_cannot_move_under_its_own_subtree_or_lose_its_children() {
        let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
        let sy = stored(&draft("HB-SY", Tier::City, "HB", "420300"), Some(&hb));
        let zs = stored(
            &draft("HB-SY-ZS", Tier::County, "HB-SY", "420323"),
            Some(&sy),
        );
        let change = DepotPatch {
            mask: vec!["parent_code".into()],
            values: DepotDraft {
                parent_code: "HB-SY-ZS".into(),
                ..Default::default()
            },
        }
        .check(&sy)
        .unwrap();
        assert!(matches!(
            change.check_against(&sy, Some(&zs), &[]),
            Err(DepotError::Cycle { .. })
        ));

        let change = DepotPatch {
            mask: vec!["division_code".into()],
            values: DepotDraft {
                division_code: "420600".into(),
                ..Default::default()
            },
        }
        .check(&sy)
        .unwrap();
        assert!(matches!(
            change.check_against(&sy, Some(&hb), std::slice::from_ref(&zs.division)),
            Err(DepotError::ChildOutsideDivision { .. })
        ));
    }

    #[test]
    fn a_depot_closes_only_when_empty_and_childless() {
        let hb = stored(&draft("HB", Tier::Province, "", "420000"), None);
        assert!(matches!(
            check_close(&hb, 1, 0),
            Err(DepotError::HasOpenChildren { .. })
        ));
        assert!(matches!(
            check_close(&hb, 0, 3),
            Err(DepotError::HasStock { .. })
        ));
        assert!(check_close(&hb, 0, 0).is_ok());
        let mut closed = hb.clone();
        closed.status = DepotStatus::Closed;
        assert!(matches!(
            check_close(&closed, 0, 0),
            Err(DepotError::Closed(_))
        ));
    }

    #[test]
    fn a_stale_etag_is_refused_as_aborted() {
        let c = DepotCode::parse("HB").unwrap();
        assert!(check_etag(&c, None, 4).is_ok());
        assert!(check_etag(&c, Some(4), 4).is_ok());
        let e = check_etag(&c, Some(3), 4).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Aborted { .. }));
    }
}
