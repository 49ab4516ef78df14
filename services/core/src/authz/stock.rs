//! Who may change stock, and where: the policies of the stock service.
//! Operations load the paths these need inside their own transaction.

use super::scope::{covers, missing_scope};
use super::{Denied, Principal, Role, Scope};
use crate::depot::{DepotCode, DepotPath};
use crate::tier::Tier;

/// Depot keepers change stock only at their own scope depot.
pub fn keeper_at(p: &Principal, depot: &DepotCode) -> Result<(), Denied> {
    if !p.has(Role::DepotKeeper) {
        return Err(Denied(format!(
            "only depot keepers change stock at a depot; your roles are {}",
            roles(p)
        )));
    }
    if &p.scope == depot {
        Ok(())
    } else {
        Err(Denied(format!(
            "depot keepers change stock only at their own depot; yours is {}, not {depot}",
            p.scope
        )))
    }
}

/// A second signature at `depot`: a keeper of that depot, or a dispatcher
/// or admin whose scope covers it.
pub fn countersigner(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    depot_path: &DepotPath,
) -> Result<(), Denied> {
    if p.has(Role::DepotKeeper) && &p.scope == depot {
        return Ok(());
    }
    if p.has(Role::Dispatcher) || p.has(Role::Admin) {
        return covers(p, scope, depot, depot_path);
    }
    Err(Denied(format!(
        "a keeper countersigns only at their own depot; yours is {}, not {depot}",
        p.scope
    )))
}

/// Who may reject an adjustment: its author withdraws it as a keeper of the
/// depot; anyone else needs the authority to countersign it.
pub fn adjustment_rejecter(
    p: &Principal,
    author: &str,
    scope: Option<&DepotPath>,
    depot: &DepotCode,
    depot_path: &DepotPath,
) -> Result<(), Denied> {
    if author == p.subject {
        keeper_at(p, depot)
    } else {
        countersigner(p, scope, depot, depot_path)
    }
}

/// Who decides a scrap application: a dispatcher or admin of the tier that
/// owns the lot, whose scope covers the depot. The depot never writes off
/// alone.
pub fn scrap_decider(
    p: &Principal,
    scope: Option<&Scope>,
    depot: &DepotCode,
    depot_path: &DepotPath,
    lot_number: &str,
    owning: Tier,
) -> Result<(), Denied> {
    if !(p.has(Role::Dispatcher) || p.has(Role::Admin)) {
        return Err(Denied(format!(
            "scrapping is decided by a dispatcher or admin of the owning tier; your roles are {}",
            roles(p)
        )));
    }
    let scope = scope.ok_or_else(|| missing_scope(p))?;
    covers(p, Some(&scope.path), depot, depot_path)?;
    if scope.tier != owning {
        return Err(Denied(format!(
            "lot {lot_number} is owned by the {} tier; scrapping it needs a dispatcher or admin of that tier over depot {depot}",
            owning.name()
        )));
    }
    Ok(())
}

fn roles(p: &Principal) -> String {
    p.roles_text()
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

    fn path(codes: &[&str]) -> DepotPath {
        let mut p = DepotPath::root(&code(codes[0]));
        for c in &codes[1..] {
            p = p.child(&code(c));
        }
        p
    }

    #[test]
    fn keepers_act_at_their_own_depot_only() {
        assert!(keeper_at(&who(&[Role::DepotKeeper], "ZS"), &code("ZS")).is_ok());
        assert!(keeper_at(&who(&[Role::DepotKeeper], "SY"), &code("ZS")).is_err());
        assert!(keeper_at(&who(&[Role::Admin], "ZS"), &code("ZS")).is_err());
    }

    #[test]
    fn a_countersigner_is_a_keeper_there_or_a_dispatcher_or_admin_above() {
        let zs = path(&["HB", "SY", "ZS"]);
        let sy = path(&["HB", "SY"]);
        let fx = path(&["HB", "FX"]);
        let sign = |roles: &[Role], scope: &str, scope_path: &DepotPath| {
            countersigner(&who(roles, scope), Some(scope_path), &code("ZS"), &zs).is_ok()
        };
        assert!(sign(&[Role::DepotKeeper], "ZS", &zs));
        assert!(!sign(&[Role::DepotKeeper], "SY", &sy));
        assert!(sign(&[Role::Dispatcher], "SY", &sy));
        assert!(sign(&[Role::Admin], "ZS", &zs));
        assert!(!sign(&[Role::Dispatcher], "FX", &fx));
        assert!(!sign(&[Role::Auditor], "SY", &sy));
        // The author withdraws as a keeper; a dispatcher above rejects.
        let author = who(&[Role::DepotKeeper], "ZS");
        assert!(adjustment_rejecter(&author, "u", Some(&zs), &code("ZS"), &zs).is_ok());
        let dispatcher = who(&[Role::Dispatcher], "SY");
        assert!(adjustment_rejecter(&dispatcher, "k", Some(&sy), &code("ZS"), &zs).is_ok());
        assert!(adjustment_rejecter(&dispatcher, "u", Some(&sy), &code("ZS"), &zs).is_err());
    }

    #[test]
    fn only_the_owning_tier_decides_scrapping() {
        let zs = path(&["HB", "SY", "ZS"]);
        let city = Scope {
            path: path(&["HB", "SY"]),
            tier: Tier::City,
        };
        let county = Scope {
            path: zs.clone(),
            tier: Tier::County,
        };
        let d = |roles: &[Role], s: &Scope, owning| {
            scrap_decider(&who(roles, "XX"), Some(s), &code("ZS"), &zs, "Q1", owning)
        };
        assert!(d(&[Role::Dispatcher], &city, Tier::City).is_ok());
        assert!(d(&[Role::Dispatcher], &county, Tier::City).is_err());
        assert!(d(&[Role::Admin], &county, Tier::County).is_ok());
        assert!(d(&[Role::DepotKeeper], &county, Tier::County).is_err());
        let other = Scope {
            path: path(&["HB", "XY"]),
            tier: Tier::City,
        };
        assert!(d(&[Role::Dispatcher], &other, Tier::City).is_err());
        assert!(
            scrap_decider(
                &who(&[Role::Admin], "XX"),
                None,
                &code("ZS"),
                &zs,
                "Q1",
                Tier::City
            )
            .is_err()
        );
    }
}
