//! Who may act on allocation orders and incidents. Operations load the
//! paths these need inside their own transaction.

use super::scope::{covers, missing_scope};
use super::stock::keeper_at;
use super::{Action, Denied, Principal, Role};
use crate::depot::{DepotCode, DepotPath};

/// A depot with its path, as the rules need it.
pub type Placed<'a> = (&'a DepotCode, &'a DepotPath);

fn dispatcher(p: &Principal, what: &str) -> Result<(), Denied> {
    if p.has(Role::Dispatcher) {
        Ok(())
    } else {
        Err(Denied(format!(
            "only dispatchers {what}; your roles are {}",
            roles(p)
        )))
    }
}

/// Raising, amending, submitting, cancelling and closing an order: a
/// dispatcher whose scope covers the command depot and the depot answering
/// for the destination (the destination depot, or for an incident site the
/// command depot).
pub fn order_raiser(
    p: &Principal,
    scope: Option<&DepotPath>,
    command: Placed<'_>,
    answering: Placed<'_>,
) -> Result<(), Denied> {
    dispatcher(p, "raise, submit, cancel and close allocation orders")?;
    covers(p, scope, command.0, command.1)?;
    covers(p, scope, answering.0, answering.1)
}

/// Approving or rejecting an order: a dispatcher whose scope covers every
/// source and the depot answering for the destination.
pub fn order_approver(
    p: &Principal,
    scope: Option<&DepotPath>,
    answering: Placed<'_>,
    sources: &[Placed<'_>],
) -> Result<(), Denied> {
    dispatcher(p, "approve allocation orders")?;
    covers(p, scope, answering.0, answering.1)?;
    for s in sources {
        covers(p, scope, s.0, s.1).map_err(|d| {
            Denied(format!(
                "approval needs a dispatcher whose scope covers every source: {}",
                d.0
            ))
        })?;
    }
    Ok(())
}

/// Confirming dispatch: the keeper of the source depot.
pub fn order_dispatcher(p: &Principal, source: &DepotCode) -> Result<(), Denied> {
    keeper_at(p, source)
}

/// Confirming receipt: the keeper of the destination depot, or for an
/// incident site a dispatcher whose scope covers the command depot.
pub fn order_receiver(
    p: &Principal,
    scope: Option<&DepotPath>,
    destination: Option<&DepotCode>,
    command: Placed<'_>,
) -> Result<(), Denied> {
    match destination {
        Some(d) => keeper_at(p, d),
        None => {
            dispatcher(p, "confirm receipt at an incident site")?;
            covers(p, scope, command.0, command.1)
        }
    }
}

/// Reading an order: anyone who may read stock and whose scope covers a
/// depot the order touches (command depot, destination or a source).
pub fn order_reader(
    p: &Principal,
    scope: Option<&DepotPath>,
    touched: &[Placed<'_>],
) -> Result<(), Denied> {
    if !p.may(Action::ReadStock) {
        return Err(Denied(format!(
            "your roles ({}) may not read allocation orders",
            roles(p)
        )));
    }
    let scope = scope.ok_or_else(|| missing_scope(p))?;
    if touched.iter().any(|(_, path)| scope.covers(path)) {
        Ok(())
    } else {
        Err(Denied(format!(
            "the order touches no depot in your scope ({} and below)",
            p.scope
        )))
    }
}

/// Recording an incident: a dispatcher or admin whose scope covers the
/// command centre's depot.
pub fn incident_recorder(
    p: &Principal,
    scope: Option<&DepotPath>,
    depot: Placed<'_>,
) -> Result<(), Denied> {
    if !(p.has(Role::Dispatcher) || p.has(Role::Admin)) {
        return Err(Denied(format!(
            "only dispatchers and admins record incidents; your roles are {}",
            roles(p)
        )));
    }
    covers(p, scope, depot.0, depot.1)
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

    fn path(parts: &[&str]) -> DepotPath {
        let mut p = DepotPath::root(&code(parts[0]));
        for c in &parts[1..] {
            p = p.child(&code(c));
        }
        p
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
    fn approval_needs_every_source_and_the_destination_in_scope() {
        let sy = path(&["HB", "SY"]);
        let zs = path(&["HB", "SY", "ZS"]);
        let fx = path(&["HB", "SY", "FX"]);
        let (czs, cfx, csy) = (code("ZS"), code("FX"), code("SY"));
        let county = who(&[Role::Dispatcher], "ZS");
        let city = who(&[Role::Dispatcher], "SY");
        let both = [(&czs, &zs), (&cfx, &fx)];
        assert!(order_approver(&county, Some(&zs), (&czs, &zs), &both).is_err());
        assert!(order_approver(&city, Some(&sy), (&czs, &zs), &both).is_ok());
        assert!(order_approver(&county, Some(&zs), (&czs, &zs), &both[..1]).is_ok());
        let keeper = who(&[Role::DepotKeeper], "SY");
        assert!(order_approver(&keeper, Some(&sy), (&czs, &zs), &both).is_err());
        // Raising needs the destination in scope.
        assert!(order_raiser(&county, Some(&zs), (&czs, &zs), (&cfx, &fx)).is_err());
        assert!(order_raiser(&city, Some(&sy), (&csy, &sy), (&cfx, &fx)).is_ok());
    }

    #[test]
    fn receipt_is_the_destination_keepers_or_a_dispatchers_at_a_site() {
        let sy = path(&["HB", "SY"]);
        let csy = code("SY");
        let zs = code("ZS");
        assert!(
            order_receiver(
                &who(&[Role::DepotKeeper], "ZS"),
                None,
                Some(&zs),
                (&csy, &sy)
            )
            .is_ok()
        );
        assert!(
            order_receiver(
                &who(&[Role::Dispatcher], "SY"),
                Some(&sy),
                Some(&zs),
                (&csy, &sy)
            )
            .is_err()
        );
        assert!(
            order_receiver(
                &who(&[Role::Dispatcher], "SY"),
                Some(&sy),
                None,
                (&csy, &sy)
            )
            .is_ok()
        );
        assert!(
            order_receiver(
                &who(&[Role::DepotKeeper], "SY"),
                Some(&sy),
                None,
                (&csy, &sy)
            )
            .is_err()
        );
    }

    #[test]
    fn readers_see_orders_touching_their_scope() {
        let zs = path(&["HB", "SY", "ZS"]);
        let fx = path(&["HB", "SY", "FX"]);
        let (czs, cfx) = (code("ZS"), code("FX"));
        let auditor = who(&[Role::Auditor], "FX");
        assert!(order_reader(&auditor, Some(&fx), &[(&czs, &zs), (&cfx, &fx)]).is_ok());
        assert!(order_reader(&auditor, Some(&fx), &[(&czs, &zs)]).is_err());
        assert!(order_reader(&who(&[], "FX"), Some(&fx), &[(&cfx, &fx)]).is_err());
    }
}
