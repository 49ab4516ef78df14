//! Who may do what, and where: roles, the signed-in principal, the subtree
//! rule (a user's authority is their scope depot and everything under it),
//! and the policies of each service as pure functions.

use crate::depot::DepotCode;
use crate::error::{ErrorKind, Failure};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub mod allocation;
pub mod enterprise;
pub mod lease;
pub mod maintenance;
pub mod requisition;
pub mod scope;
pub mod stock;

pub use scope::Scope;

/// A refusal of authority: the caller is signed in but may not do this
/// here. Answered PERMISSION_DENIED; nothing is changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Failure for Denied {
    fn kind(&self) -> ErrorKind {
        ErrorKind::PermissionDenied {
            message: self.0.clone(),
        }
    }
}

/// A role carried in the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// 仓库保管员: changes stock at their own depot.
    DepotKeeper,
    /// 调度员: raises and approves allocation orders in their subtree.
    Dispatcher,
    /// 财务人员: settles compensation and lease fees.
    Finance,
    /// 审计/监督: reads everything in scope, including the audit log.
    Auditor,
    /// Maintains depots, the catalogue and reserve norms.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::DepotKeeper,
        Role::Dispatcher,
        Role::Finance,
        Role::Auditor,
        Role::Admin,
    ];

    /// The claim string in tokens (`depot_keeper`, `dispatcher`, ...).
    pub fn claim(self) -> &'static str {
        match self {
            Role::DepotKeeper => "depot_keeper",
            Role::Dispatcher => "dispatcher",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// The role named by a claim string, if any.
    pub fn from_claim(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.claim() == s)
    }

    /// The wire number (reserve.v1.Role).
    pub fn number(self) -> i32 {
        match self {
            Role::DepotKeeper => 1,
            Role::Dispatcher => 2,
            Role::Finance => 3,
            Role::Auditor => 4,
            Role::Admin => 5,
        }
    }
}

/// Something a caller may try to do. Which roles may do it is [`Action::allowed_roles`];
/// where they may do it is decided by scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read depots inside one's scope.
    ReadNetwork,
    /// Create, change or close depots inside one's scope.
    WriteNetwork,
    /// Read the item catalogue.
    ReadCatalog,
    /// Create or change items.
    WriteCatalog,
    /// Read reserve norms inside one's scope.
    ReadNorms,
    /// Set reserve norms inside one's scope.
    WriteNorms,
    /// Read the audit log inside one's scope.
    ReadAudit,
    /// Read stock, ledger and reports inside one's scope.
    ReadStock,
    /// Post stock movements at one's own depot.
    MoveStock,
    /// Countersign an adjustment or approve a count at a depot in scope.
    CountersignStock,
    /// Approve a scrap application for stock one's tier owns.
    ApproveScrap,
    /// Run the ledger integrity check.
    CheckIntegrity,
}

impl Action {
    /// Roles that may perform the action (scope is checked separately).
    pub fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::ReadNetwork | Action::ReadCatalog | Action::ReadNorms | Action::ReadStock => {
                &[DepotKeeper, Dispatcher, Finance, Auditor, Admin]
            }
            Action::WriteNetwork | Action::WriteCatalog | Action::WriteNorms => &[Admin],
            Action::ReadAudit => &[Auditor, Admin],
            Action::MoveStock => &[DepotKeeper],
            Action::CountersignStock => &[DepotKeeper, Dispatcher, Admin],
            Action::ApproveScrap => &[Dispatcher, Admin],
            Action::CheckIntegrity => &[Admin],
        }
    }

    /// A short phrase for refusals ("may not write depots").
    pub fn phrase(self) -> &'static str {
        match self {
            Action::ReadNetwork => "read depots",
            Action::WriteNetwork => "change depots",
            Action::ReadCatalog => "read the catalogue",
            Action::WriteCatalog => "change the catalogue",
            Action::ReadNorms => "read reserve norms",
            Action::WriteNorms => "set reserve norms",
            Action::ReadAudit => "read the audit log",
            Action::ReadStock => "read stock",
            Action::MoveStock => "post stock movements",
            Action::CountersignStock => "countersign stock corrections",
            Action::ApproveScrap => "approve scrapping",
            Action::CheckIntegrity => "run the integrity check",
        }
    }
}

/// The signed-in user, as the token describes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Stable user id (`sub`).
    pub subject: String,
    /// Display name.
    pub name: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// The depot whose subtree the user's authority covers.
    pub scope: DepotCode,
}

impl Principal {
    /// The user's roles as a refusal names them: "dispatcher, auditor", or
    /// "none".
    pub fn roles_text(&self) -> String {
        let r = self.role_claims();
        if r.is_empty() {
            "none".into()
        } else {
            r.join(", ")
        }
    }

    /// Whether any of the user's roles allows `action`.
    pub fn may(&self, action: Action) -> bool {
        action
            .allowed_roles()
            .iter()
            .any(|r| self.roles.contains(r))
    }

    /// Whether the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Roles as claim strings, for the audit log.
    pub fn role_claims(&self) -> Vec<&'static str> {
        self.roles.iter().map(|r| r.claim()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DepotCode {
        DepotCode::parse(s).unwrap()
    }

    #[test]
    fn only_admins_write_the_network_and_only_keepers_move_stock() {
        let p = |roles: &[Role]| Principal {
            subject: "u".into(),
            name: "U".into(),
            roles: roles.iter().copied().collect(),
            scope: code("HB"),
        };
        assert!(p(&[Role::Admin]).may(Action::WriteNetwork));
        assert!(!p(&[Role::Dispatcher]).may(Action::WriteNetwork));
        assert!(p(&[Role::DepotKeeper]).may(Action::MoveStock));
        assert!(!p(&[Role::Admin]).may(Action::MoveStock));
        assert!(!p(&[Role::Finance]).may(Action::ReadAudit));
        assert!(p(&[Role::Auditor]).may(Action::ReadAudit));
    }

    #[test]
    fn role_claims_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_claim(r.claim()), Some(r));
        }
        assert_eq!(Role::from_claim("root"), None);
    }
}
