//! Who may lease out, take back, recall and read leases.

use super::scope::covers;
use super::stock::keeper_at;
use super::{Action, Denied, Principal, Role};
use crate::depot::{DepotCode, DepotPath};

fn roles(p: &Principal) -> String {
    p.roles_text()
}

/// Leasing out and taking back: the keeper of the lease's depot.
pub fn lease_keeper(p: &Principal, depot: &DepotCode) -> Result<(), Denied> {
    keeper_at(p, depot)
}

/// Recalling: a dispatcher (or an admin) whose scope covers the lease's depot.
pub fn recaller(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !(p.has(Role::Dispatcher) || p.has(Role::Admin)) {
        return Err(Denied(format!(
            "only dispatchers and admins recall leases; your roles are {}",
            roles(p)
        )));
    }
    covers(p, scope, depot, path)
}

/// Reading leases and statements: anyone who reads stock, over their scope.
pub fn lease_reader(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !p.may(Action::ReadStock) {
        return Err(Denied(format!(
            "your roles ({}) may not read leases",
            roles(p)
        )));
    }
    covers(p, scope, depot, path)
}
