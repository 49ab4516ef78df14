//! Who may record requisitions and outcomes, settle claims, and see owners'
//! private data.

use super::scope::covers;
use super::{Action, Denied, Principal, Role};
use crate::depot::{DepotCode, DepotPath};

/// Recording a requisition or its voucher: a dispatcher (or an admin) whose
/// scope covers the requisitioning tier's depot.
pub fn requisitioner(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !(p.has(Role::Dispatcher) || p.has(Role::Admin)) {
        return Err(Denied(format!(
            "only dispatchers and admins record requisitions; your roles are {}",
            p.roles_text()
        )));
    }
    covers(p, scope, depot, path)
}

/// Recording what became of requisitioned units: a keeper or a dispatcher
/// whose scope covers the requisition's depot or the depot the units are in.
pub fn outcome_recorder(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !(p.has(Role::DepotKeeper) || p.has(Role::Dispatcher)) {
        return Err(Denied(format!(
            "only depot keepers and dispatchers record returns and outcomes; your roles are {}",
            p.roles_text()
        )));
    }
    covers(p, scope, depot, path)
}

/// Settling compensation: finance staff whose scope covers the
/// requisitioning tier's depot.
pub fn settler(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !p.has(Role::Finance) {
        return Err(Denied(format!(
            "only finance staff assess, approve and pay compensation; your roles are {}",
            p.roles_text()
        )));
    }
    covers(p, scope, depot, path)
}

/// Reading requisitions and claims: anyone who reads stock, over their
/// scope (private data masked unless [`sees_private_data`]).
pub fn requisition_reader(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !p.may(Action::ReadStock) {
        return Err(Denied(format!(
            "your roles ({}) may not read requisitions",
            p.roles_text()
        )));
    }
    covers(p, scope, depot, path)
}

/// Whether the caller sees owners' identity numbers, accounts and phones in
/// full: finance only.
pub fn sees_private_data(p: &Principal) -> bool {
    p.has(Role::Finance)
}

/// Purging private data after settlement: finance or admin, over their scope.
pub fn purger(p: &Principal) -> Result<(), Denied> {
    if p.has(Role::Finance) || p.has(Role::Admin) {
        Ok(())
    } else {
        Err(Denied(format!(
            "only finance staff and admins purge owners' private data; your roles are {}",
            p.roles_text()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn who(roles: &[Role]) -> Principal {
        Principal {
            subject: "u".into(),
            name: "u".into(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            scope: DepotCode::parse("HB-SY").unwrap(),
        }
    }

    #[test]
    fn each_step_belongs_to_its_role_and_only_finance_sees_private_data() {
        let d = DepotCode::parse("HB-SY").unwrap();
        let path = DepotPath::root(&DepotCode::parse("HB").unwrap()).child(&d);
        let scope = Some(&path);
        assert!(requisitioner(&who(&[Role::Dispatcher]), scope, &d, &path).is_ok());
        assert!(requisitioner(&who(&[Role::Finance]), scope, &d, &path).is_err());
        assert!(outcome_recorder(&who(&[Role::DepotKeeper]), scope, &d, &path).is_ok());
        assert!(outcome_recorder(&who(&[Role::Auditor]), scope, &d, &path).is_err());
        assert!(settler(&who(&[Role::Finance]), scope, &d, &path).is_ok());
        assert!(settler(&who(&[Role::Admin, Role::Dispatcher]), scope, &d, &path).is_err());
        assert!(sees_private_data(&who(&[Role::Finance])));
        assert!(!sees_private_data(&who(&[Role::Auditor, Role::Admin])));
    }
}
