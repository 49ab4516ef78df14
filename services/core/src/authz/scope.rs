//! The subtree rule: a user acts on their scope depot and everything below it.

use super::{Denied, Principal};
use crate::depot::{DepotCode, DepotPath};
use crate::tier::Tier;

/// The caller's scope depot as stored: where it sits and its tier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Its path in the tree.
    pub path: DepotPath,
    /// Its tier.
    pub tier: Tier,
}

/// The refusal for a token whose scope depot does not exist.
pub fn missing_scope(p: &Principal) -> Denied {
    Denied(format!("your scope depot {} does not exist", p.scope))
}

/// Checks that `target` (at `target_path`) lies in the subtree of the
/// caller's scope (`None` when their scope depot does not exist).
pub fn covers(
    p: &Principal,
    scope: Option<&DepotPath>,
    target: &DepotCode,
    target_path: &DepotPath,
) -> Result<(), Denied> {
    let scope = scope.ok_or_else(|| missing_scope(p))?;
    if scope.covers(target_path) {
        Ok(())
    } else {
        Err(Denied(format!(
            "depot {target} is outside your scope ({} and below)",
            p.scope
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::Role;

    #[test]
    fn a_scope_covers_its_subtree_and_a_missing_scope_covers_nothing() {
        let code = |s: &str| DepotCode::parse(s).unwrap();
        let p = Principal {
            subject: "u".into(),
            name: "U".into(),
            roles: [Role::Auditor].into_iter().collect(),
            scope: code("SY"),
        };
        let sy = DepotPath::root(&code("HB")).child(&code("SY"));
        let zs = sy.child(&code("ZS"));
        let fx = DepotPath::root(&code("HB")).child(&code("FX"));
        assert!(covers(&p, Some(&sy), &code("ZS"), &zs).is_ok());
        assert!(covers(&p, Some(&sy), &code("FX"), &fx).is_err());
        assert_eq!(
            covers(&p, None, &code("ZS"), &zs).unwrap_err().0,
            "your scope depot SY does not exist"
        );
    }
}
