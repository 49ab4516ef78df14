//! Depots of the reserve network and the tier rules that hold the tree
//! together: codes and paths, creating a depot, changing or closing it.

mod code;
mod create;
mod path;
mod update;

pub use code::{DepotCode, DivisionCode};
pub use create::{ContactDraft, DepotDraft, MAX_CONTACTS, NewDepot};
pub use path::DepotPath;
pub use update::{CloseBlockers, DepotChange, DepotPatch, UPDATABLE_FIELDS, check_close};

use crate::error::{ErrorKind, Failure};
use crate::tier::Tier;
use crate::time::UtcMillis;
use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// A WGS-84 location inside China's bounding box.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

impl GeoPoint {
    /// Checks a depot's latitude and longitude, reporting each under its
    /// own field name (`location.lat_lng.latitude`, ...).
    pub fn parse(latitude: f64, longitude: f64, v: &mut Violations) -> Option<Self> {
        Self::parse_at("location", latitude, longitude, v)
    }

    /// Checks the latitude and longitude of the place at `field`
    /// (`destination_site`, ...), reporting `{field}.lat_lng.latitude` etc.
    pub fn parse_at(
        field: &str,
        latitude: f64,
        longitude: f64,
        v: &mut Violations,
    ) -> Option<Self> {
        let lat_ok = latitude.is_finite() && (3.8..=53.6).contains(&latitude);
        let lon_ok = longitude.is_finite() && (73.5..=135.1).contains(&longitude);
        if !lat_ok {
            v.add(
                format!("{field}.lat_lng.latitude"),
                "must be a WGS-84 latitude inside China, 3.8 to 53.6 degrees north",
            );
        }
        if !lon_ok {
            v.add(
                format!("{field}.lat_lng.longitude"),
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

impl Contact {
    /// Checks a contact at `field` (`receiver_contact`, `duty_contacts[0]`),
    /// reporting each broken part under `{field}.name` etc.
    pub fn parse_at(field: &str, d: &ContactDraft, v: &mut Violations) -> Option<Contact> {
        let name = v.take(&format!("{field}.name"), crate::text::required(&d.name, 50));
        let duty = v.take(&format!("{field}.duty"), crate::text::optional(&d.duty, 50));
        let phone = v.take(&format!("{field}.phone"), parse_phone(&d.phone));
        Some(Contact {
            name: name?,
            duty: duty?,
            phone: phone?,
        })
    }
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
    /// Documents still open at the depot could post to it after it closed.
    #[error(
        "depot {depot} still has open documents ({}); finish or cancel them first",
        documents.join(", ")
    )]
    HasOpenDocuments {
        /// The depot.
        depot: DepotCode,
        /// Their resource names.
        documents: Vec<String>,
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
            DepotError::HasOpenDocuments { .. } => {
                ErrorKind::precondition("DEPOT_HAS_OPEN_DOCUMENTS", self.to_string())
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
mod tests;
