//! What every service handler shares: the store, the clock, and the checks
//! of who is calling and where they may act.

use crate::error::{invalid, invalid_all, status_of_kind, status_of_store};
use reserve_core::Failure;
use reserve_core::Violations;
use reserve_core::authz::scope::{covers, missing_scope};
use reserve_core::authz::{Action, Principal};
use reserve_core::depot::{DepotCode, DepotPath};
use reserve_core::request::RequestId;
use reserve_core::time::Clock;
use reserve_store::{Store, WriteMeta};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tonic::{Request, Status};

/// Shared state of the services.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The database.
    pub store: Store,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
}

impl Ctx {
    /// A context over `store` reading time from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The principal the auth interceptor put on the request.
    pub fn principal<T>(req: &Request<T>) -> Result<Principal, Status> {
        req.extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("missing bearer token"))
    }

    /// Refuses the call unless one of the caller's roles allows `action`.
    pub fn require(p: &Principal, action: Action) -> Result<(), Status> {
        if p.may(action) {
            Ok(())
        } else {
            let held: Vec<&str> = p.role_claims();
            let need: Vec<&str> = action.allowed_roles().iter().map(|r| r.claim()).collect();
            Err(Status::permission_denied(format!(
                "your roles ({}) may not {}; this needs one of: {}",
                if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(", ")
                },
                action.phrase(),
                need.join(", ")
            )))
        }
    }

    /// The tree path of the caller's scope depot.
    pub async fn scope_path(&self, p: &Principal) -> Result<DepotPath, Status> {
        let found = self
            .store
            .depot_paths(&[&p.scope])
            .await
            .map_err(status_of_store)?;
        found
            .into_iter()
            .next()
            .map(|(_, path)| path)
            .ok_or_else(|| status_of_kind(missing_scope(p).kind()))
    }

    /// Checks that `target` exists and lies in the caller's subtree (the rule
    /// is [`covers`]); returns its path. NOT_FOUND if it does not exist,
    /// PERMISSION_DENIED if outside.
    pub async fn in_scope(&self, p: &Principal, target: &DepotCode) -> Result<DepotPath, Status> {
        let found = self
            .store
            .depot_paths(&[&p.scope, target])
            .await
            .map_err(status_of_store)?;
        let path_of = |c: &DepotCode| {
            found
                .iter()
                .find(|(code, _)| code == c)
                .map(|(_, p)| p.clone())
        };
        let scope = path_of(&p.scope);
        let target_path = match path_of(target) {
            Some(t) => t,
            None if scope.is_none() => return Err(status_of_kind(missing_scope(p).kind())),
            None => return Err(Status::not_found(format!("depots/{target} not found"))),
        };
        covers(p, scope.as_ref(), target, &target_path).map_err(|d| status_of_kind(d.kind()))?;
        Ok(target_path)
    }

    /// The metadata of a write whose request parsed as `parsed`: the request
    /// id's rule and the request's own rules are reported together.
    pub fn write<M: prost::Message, T>(
        &self,
        actor: Principal,
        request_id: &str,
        method: &str,
        request: &M,
        parsed: Result<T, Violations>,
    ) -> Result<(T, WriteMeta), Status> {
        let mut v = match &parsed {
            Ok(_) => Violations::new(),
            Err(v) => v.clone(),
        };
        match RequestId::parse(request_id) {
            // For the call's log line, also when the rest is refused.
            Ok(id) => reserve_store::calltrace::note_request_id(id.as_str()),
            Err(e) => v.add("request_id", e),
        }
        match parsed {
            Ok(t) if v.is_empty() => Ok((t, self.write_meta(actor, request_id, method, request)?)),
            _ => Err(invalid_all(v)),
        }
    }

    /// The metadata of a write: who, which request id, which call, the
    /// request's fingerprint, and now.
    pub fn write_meta<M: prost::Message>(
        &self,
        actor: Principal,
        request_id: &str,
        method: &str,
        request: &M,
    ) -> Result<WriteMeta, Status> {
        let request_id = RequestId::parse(request_id).map_err(|e| invalid("request_id", e))?;
        reserve_store::calltrace::note_request_id(request_id.as_str());
        let hash = Sha256::digest(request.encode_to_vec());
        Ok(WriteMeta {
            actor,
            request_id,
            method: method.to_string(),
            request_hash: hash.iter().map(|b| format!("{b:02x}")).collect(),
            now: self.clock.now(),
        })
    }
}
