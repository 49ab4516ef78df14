//! Who may act on maintenance, and where.
//!
//! - Recording upkeep, starting and finishing repairs: the keeper of the
//!   depot, or an admin whose scope covers it (the keeper's work recorded
//!   by the bureau).
//! - Setting and deactivating upkeep plans: a dispatcher or admin whose
//!   scope covers the plan's depot (an asset plan: the asset's depot). A
//!   keeper does not set the schedule their own work is judged against.
//! - Reading plans, records, due lists and repairs: anyone who reads stock,
//!   over their scope.

use super::scope::covers;
use super::{Action, Denied, Principal, Role};
use crate::depot::{DepotCode, DepotPath};

fn roles(p: &Principal) -> String {
    p.roles_text()
}

/// Recording upkeep and running repairs at `depot`.
pub fn maintainer(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if p.has(Role::DepotKeeper) && &p.scope == depot {
        return Ok(());
    }
    if p.has(Role::Admin) {
        return covers(p, scope, depot, path);
    }
    if p.has(Role::DepotKeeper) {
        return Err(Denied(format!(
            "depot keepers record upkeep and repairs only at their own depot; yours is {}, not {depot}",
            p.scope
        )));
    }
    Err(Denied(format!(
        "upkeep and repairs are recorded by the depot's keeper or an admin; your roles are {}",
        roles(p)
    )))
}

/// Setting or deactivating an upkeep plan at `depot`.
pub fn planner(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if p.has(Role::Dispatcher) || p.has(Role::Admin) {
        return covers(p, scope, depot, path);
    }
    Err(Denied(format!(
        "upkeep plans are set by a dispatcher or admin over the depot; your roles are {}",
        roles(p)
    )))
}

/// Reading maintenance over a subtree.
pub fn maintenance_reader(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    path: &DepotPath,
) -> Result<(), Denied> {
    if !p.may(Action::ReadStock) {
        return Err(Denied(format!(
            "your roles ({}) may not read maintenance",
            roles(p)
        )));
    }
    covers(p, scope, depot, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DepotCode {
        DepotCode::parse(s).unwrap()
    }

    fn who(roles: &[Role], scope: &str) -> Principal {
        Principal {
            subject: "u".into(),
            name: "U".into(),
            roles: roles.iter().copied().collect(),
            scope: code(scope),
        }
    }

    #[test]
    fn keepers_maintain_their_own_depot_admins_their_subtree_and_dispatchers_plan() {
        let sy = DepotPath::root(&code("HB")).child(&code("HB-SY"));
        let zs = sy.child(&code("HB-SY-ZS"));
        let fx = sy.child(&code("HB-SY-FX"));
        let zs_code = code("HB-SY-ZS");
        let m = |r: &[Role], s: &str, sp: &DepotPath| {
            maintainer(&who(r, s), Some(sp), &zs_code, &zs).is_ok()
        };
        assert!(m(&[Role::DepotKeeper], "HB-SY-ZS", &zs));
        assert!(!m(&[Role::DepotKeeper], "HB-SY", &sy));
        assert!(m(&[Role::Admin], "HB-SY", &sy));
        assert!(!m(&[Role::Admin], "HB-SY-FX", &fx));
        assert!(!m(&[Role::Dispatcher], "HB-SY", &sy));
        let pl = |r: &[Role], s: &str, sp: &DepotPath| {
            planner(&who(r, s), Some(sp), &zs_code, &zs).is_ok()
        };
        assert!(pl(&[Role::Dispatcher], "HB-SY", &sy));
        assert!(!pl(&[Role::Dispatcher], "HB-SY-FX", &fx));
        assert!(!pl(&[Role::DepotKeeper], "HB-SY-ZS", &zs));
        assert!(pl(&[Role::Admin], "HB-SY-ZS", &zs));
        assert!(
            maintenance_reader(&who(&[Role::Auditor], "HB-SY"), Some(&sy), &zs_code, &zs).is_ok()
        );
        assert!(
            maintenance_reader(&who(&[Role::Finance], "HB-SY-FX"), Some(&fx), &zs_code, &zs)
                .is_err()
        );
    }
}
