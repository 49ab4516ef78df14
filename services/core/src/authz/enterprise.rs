//! Who may act on enterprise reserves, ask for sourcing proposals and read
//! readiness.

use super::scope::covers;
use super::stock::keeper_at;
use super::{Action, Denied, Principal, Role};
use crate::depot::{DepotCode, DepotPath};

fn roles(p: &Principal) -> String {
    p.roles_text()
}

/// Recording an agreement: an admin or dispatcher whose scope covers the
/// owning depot.
pub fn agreement_recorder(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !(p.has(Role::Admin) || p.has(Role::Dispatcher)) {
        return Err(Denied(format!(
            "only admins and dispatchers record agreements; your roles are {}",
            roles(p)
        )));
    }
    covers(p, scope, depot, path)
}

/// Calling off an agreement: a dispatcher whose scope covers the owning depot.
pub fn call_off_maker(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !p.has(Role::Dispatcher) {
        return Err(Denied(format!(
            "only dispatchers call off agreements; your roles are {}",
            roles(p)
        )));
    }
    covers(p, scope, depot, path)
}

/// Receiving a delivery: the keeper of the owning depot.
pub fn delivery_receiver(p: &Principal, depot: &DepotCode) -> Result<(), Denied> {
    keeper_at(p, depot)
}

/// Reading agreements, call-offs and readiness: anyone who reads stock,
/// over their scope.
pub fn reserve_reader(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !p.may(Action::ReadStock) {
        return Err(Denied(format!(
            "your roles ({}) may not read reserves",
            roles(p)
        )));
    }
    covers(p, scope, depot, path)
}

/// Asking for a sourcing proposal: dispatchers (the whole network is
/// searched; approval still needs every source in scope).
pub fn proposer(p: &Principal) -> Result<(), Denied> {
    if p.has(Role::Dispatcher) {
        Ok(())
    } else {
        Err(Denied(format!(
            "only dispatchers ask for sourcing proposals; your roles are {}",
            roles(p)
        )))
    }
}
