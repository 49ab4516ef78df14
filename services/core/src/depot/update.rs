//! Changing a depot (an update mask over its fields) and closing it.

use super::create::check_parent;
use super::{
    ContactDraft, Depot, DepotDraft, DepotError, DepotPath, DepotStatus, DivisionCode, NewDepot,
};
use crate::violation::Violations;

/// Fields an update mask may name.
pub const UPDATABLE_FIELDS: [&str; 11] = [
    "name",
    "parent_code",
    "division_code",
    "location",
    "location.lat_lng",
    "location.address",
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
                "location" => {
                    draft.latitude = d.latitude;
                    draft.longitude = d.longitude;
                    draft.address = d.address.clone();
                }
                "location.lat_lng" => {
                    draft.latitude = d.latitude;
                    draft.longitude = d.longitude;
                }
                "location.address" => draft.address = d.address.clone(),
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

/// What stands between a depot and closing, as read from storage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloseBlockers {
    /// Children not closed.
    pub open_children: i64,
    /// Units on hand.
    pub units_in_stock: i64,
    /// Open documents at the depot (counts in progress, pending adjustments
    /// and scrap applications), by resource name.
    pub open_documents: Vec<String>,
}

/// Checks whether a depot may close: not already closed, no open child, no
/// stock, no open document that could still post to it.
pub fn check_close(depot: &Depot, b: &CloseBlockers) -> Result<(), DepotError> {
    let (open_children, units_in_stock) = (b.open_children, b.units_in_stock);
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
    if !b.open_documents.is_empty() {
        return Err(DepotError::HasOpenDocuments {
            depot: depot.code.clone(),
            documents: b.open_documents.clone(),
        });
    }
    Ok(())
}
