//! Bearer tokens: verifying them on every call and minting them for the
//! development key.
//!
//! A token is a JWT signed with HS256 (a shared secret, for development) or
//! RS256 / EdDSA (a public key, for production). Issuer, audience, expiry and
//! not-before are always checked; `alg: none` and any algorithm other than the
//! configured one are refused.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reserve_core::authz::{Principal, Role};
use reserve_core::depot::DepotCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tonic::{Request, Status};

/// The issuer tokens carry unless configured otherwise.
pub const DEFAULT_ISSUER: &str = "reserve-dev";
/// The audience tokens carry unless configured otherwise.
pub const DEFAULT_AUDIENCE: &str = "reserve.v1";

/// The claims of a reserve token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Stable user id.
    pub sub: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Roles: depot_keeper, dispatcher, finance, auditor, admin.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Code of the depot whose subtree the user's authority covers.
    pub scope_depot: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// Why a token was refused. Never sent in detail beyond the message.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` metadata.
    #[error("missing bearer token: send 'authorization: Bearer <JWT>'")]
    Missing,
    /// Not a bearer token.
    #[error("the authorization header must be 'Bearer <JWT>'")]
    Malformed,
    /// Signature, algorithm, expiry, issuer or audience failed.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// How tokens are verified: key, algorithm, issuer, audience.
///
/// A client sends the same token on every call until it expires, so tokens
/// that verified are remembered (by their exact text) until their expiry:
/// the answer for a given token cannot change while the key stays the same.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
    verified: Arc<Mutex<HashMap<String, (Principal, u64)>>>,
}

/// How many verified tokens are remembered before the memory is cleared.
const VERIFIED_TOKENS: usize = 4096;

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

/// A key to verify tokens with.
#[derive(Clone, Debug)]
pub enum KeySpec {
    /// HS256 shared secret (development).
    Hs256(Vec<u8>),
    /// RS256 public key, PEM.
    Rs256Pem(Vec<u8>),
    /// EdDSA (Ed25519) public key, PEM.
    EdDsaPem(Vec<u8>),
}

impl Verifier {
    /// A verifier for `key`, accepting only tokens for `issuer` and `audience`.
    pub fn new(key: &KeySpec, issuer: &str, audience: &str) -> Result<Self, AuthError> {
        let (key, alg) = match key {
            KeySpec::Hs256(secret) => (
                DecodingKey::from_secret(secret)
                    .map_err(|e| AuthError::Invalid(format!("HS256 key: {e}")))?,
                Algorithm::HS256,
            ),
            KeySpec::Rs256Pem(pem) => (
                DecodingKey::from_rsa_pem(pem)
                    .map_err(|e| AuthError::Invalid(format!("RS256 key: {e}")))?,
                Algorithm::RS256,
            ),
            KeySpec::EdDsaPem(pem) => (
                DecodingKey::from_ed_pem(pem)
                    .map_err(|e| AuthError::Invalid(format!("EdDSA key: {e}")))?,
                Algorithm::EdDSA,
            ),
        };
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(Self {
            key,
            validation,
            verified: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Checks a token and returns who it names.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Ok(known) = self.verified.lock()
            && let Some((p, exp)) = known.get(token)
            && now <= exp + self.validation.leeway
        {
            return Ok(p.clone());
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        let exp = data.claims.exp;
        let p = principal_of(data.claims)?;
        if let Ok(mut known) = self.verified.lock() {
            if known.len() >= VERIFIED_TOKENS {
                known.clear();
            }
            known.insert(token.to_string(), (p.clone(), exp));
        }
        Ok(p)
    }

    /// Checks the `authorization` metadata of a request.
    pub fn verify_metadata(
        &self,
        meta: &tonic::metadata::MetadataMap,
    ) -> Result<Principal, AuthError> {
        let value = meta.get("authorization").ok_or(AuthError::Missing)?;
        let text = value.to_str().map_err(|_| AuthError::Malformed)?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or(AuthError::Malformed)?;
        self.verify(token.trim())
    }
}

fn principal_of(c: Claims) -> Result<Principal, AuthError> {
    if c.sub.trim().is_empty() {
        return Err(AuthError::Invalid("the sub claim is empty".into()));
    }
    let scope = DepotCode::parse(&c.scope_depot)
        .map_err(|e| AuthError::Invalid(format!("the scope_depot claim {e}")))?;
    let mut roles = BTreeSet::new();
    for r in &c.roles {
        match Role::from_claim(r) {
            Some(role) => {
                roles.insert(role);
            }
            // Unknown roles grant nothing; a newer issuer may know more roles.
            None => tracing::debug!(role = %r, "ignoring unknown role claim"),
        }
    }
    Ok(Principal {
        name: if c.name.is_empty() {
            c.sub.clone()
        } else {
            c.name
        },
        subject: c.sub,
        roles,
        scope,
    })
}

/// Where the interceptor leaves the verified caller for a layer outside the
/// service (the per-call log), which sees the request before the token is
/// checked and the response after the principal is gone.
#[derive(Clone, Debug, Default)]
pub struct CallerSlot(Arc<std::sync::OnceLock<(String, String)>>);

impl CallerSlot {
    /// Records the caller's subject and scope depot.
    pub fn set(&self, p: &Principal) {
        let _ = self
            .0
            .set((p.subject.clone(), p.scope.as_str().to_string()));
    }

    /// The caller's subject and scope depot, once a token was accepted.
    pub fn get(&self) -> Option<(&str, &str)> {
        self.0.get().map(|(s, d)| (s.as_str(), d.as_str()))
    }
}

/// The tonic interceptor that authenticates every call of a service and puts
/// the [`Principal`] into the request's extensions.
pub fn interceptor(
    verifier: Arc<Verifier>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut req: Request<()>| match verifier.verify_metadata(req.metadata()) {
        Ok(p) => {
            if let Some(slot) = req.extensions().get::<CallerSlot>() {
                slot.set(&p);
            }
            req.extensions_mut().insert(p);
            Ok(req)
        }
        Err(e) => {
            tracing::debug!(error = %e, "refused a call without a valid token");
            Err(Status::unauthenticated(e.to_string()))
        }
    }
}

/// Signs tokens with an HS256 secret: the development key and tests.
#[derive(Clone)]
pub struct Minter {
    key: EncodingKey,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// What a minted token says.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// Subject.
    pub subject: String,
    /// Display name.
    pub name: String,
    /// Roles as claim strings.
    pub roles: Vec<String>,
    /// Scope depot code.
    pub scope_depot: String,
    /// Lifetime in seconds.
    pub ttl_seconds: u64,
}

impl Minter {
    /// A minter for an HS256 secret.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, AuthError> {
        Ok(Self {
            key: EncodingKey::from_secret(secret)
                .map_err(|e| AuthError::Invalid(format!("HS256 key: {e}")))?,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// Signs a token valid from now for `ttl_seconds`.
    pub fn mint(&self, t: &TokenRequest) -> Result<String, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: t.subject.clone(),
            name: t.name.clone(),
            roles: t.roles.clone(),
            scope_depot: t.scope_depot.clone(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + t.ttl_seconds,
            nbf: Some(now.saturating_sub(1)),
            iat: Some(now),
        };
        self.mint_claims(&claims)
    }

    /// Signs arbitrary claims (tests use it for expired or foreign tokens).
    pub fn mint_claims(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn req(roles: &[&str]) -> TokenRequest {
        TokenRequest {
            subject: "u1".into(),
            name: "李四".into(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            scope_depot: "HB-SY".into(),
            ttl_seconds: 600,
        }
    }

    #[test]
    fn a_minted_token_verifies_into_its_principal() {
        let m = Minter::hs256(b"secret", DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
        let v = Verifier::new(
            &KeySpec::Hs256(b"secret".to_vec()),
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
        )
        .unwrap();
        let p = v
            .verify(&m.mint(&req(&["admin", "auditor", "wizard"])).unwrap())
            .unwrap();
        assert_eq!(p.subject, "u1");
        assert_eq!(p.scope.as_str(), "HB-SY");
        assert_eq!(p.roles, [Role::Auditor, Role::Admin].into_iter().collect());
    }

    #[test]
    fn wrong_secret_issuer_audience_and_expiry_are_refused() {
        let v = Verifier::new(
            &KeySpec::Hs256(b"secret".to_vec()),
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
        )
        .unwrap();
        let other_key = Minter::hs256(b"other", DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
        assert!(
            v.verify(&other_key.mint(&req(&["admin"])).unwrap())
                .is_err()
        );
        let other_iss = Minter::hs256(b"secret", "someone-else", DEFAULT_AUDIENCE).unwrap();
        assert!(
            v.verify(&other_iss.mint(&req(&["admin"])).unwrap())
                .is_err()
        );
        let other_aud = Minter::hs256(b"secret", DEFAULT_ISSUER, "other.v1").unwrap();
        assert!(
            v.verify(&other_aud.mint(&req(&["admin"])).unwrap())
                .is_err()
        );
        let m = Minter::hs256(b"secret", DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
        let now = jsonwebtoken::get_current_timestamp();
        let expired = Claims {
            sub: "u1".into(),
            name: String::new(),
            roles: vec!["admin".into()],
            scope_depot: "HB".into(),
            iss: DEFAULT_ISSUER.into(),
            aud: DEFAULT_AUDIENCE.into(),
            exp: now - 3600,
            nbf: None,
            iat: None,
        };
        assert!(v.verify(&m.mint_claims(&expired).unwrap()).is_err());
        let future = Claims {
            exp: now + 7200,
            nbf: Some(now + 3600),
            ..expired
        };
        assert!(v.verify(&m.mint_claims(&future).unwrap()).is_err());
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let v = Verifier::new(
            &KeySpec::Hs256(b"secret".to_vec()),
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
        )
        .unwrap();
        let m = Minter::hs256(b"secret", DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
        let now = jsonwebtoken::get_current_timestamp();
        let token = m
            .mint_claims(&Claims {
                sub: "u1".into(),
                name: String::new(),
                roles: vec!["admin".into()],
                scope_depot: "HB".into(),
                iss: DEFAULT_ISSUER.into(),
                aud: DEFAULT_AUDIENCE.into(),
                exp: now + 600,
                nbf: None,
                iat: None,
            })
            .unwrap();
        assert!(v.verify(&token).is_ok());
        // Pretend it was remembered long ago with an expiry that has passed.
        v.verified.lock().unwrap().get_mut(&token).unwrap().1 = now - 3600;
        assert!(
            v.verify(&token).is_ok(),
            "a still-valid token verifies afresh"
        );
        let stale = m
            .mint_claims(&Claims {
                sub: "u1".into(),
                name: String::new(),
                roles: vec!["admin".into()],
                scope_depot: "HB".into(),
                iss: DEFAULT_ISSUER.into(),
                aud: DEFAULT_AUDIENCE.into(),
                exp: now - 3600,
                nbf: None,
                iat: None,
            })
            .unwrap();
        let who = v.verify(&token).unwrap();
        v.verified
            .lock()
            .unwrap()
            .insert(stale.clone(), (who, now - 3600));
        assert!(
            v.verify(&stale).is_err(),
            "an expired remembered token is checked again and refused"
        );
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let v = Verifier::new(
            &KeySpec::Hs256(b"secret".to_vec()),
            DEFAULT_ISSUER,
            DEFAULT_AUDIENCE,
        )
        .unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            format!(
                r#"{{"sub":"x","roles":["admin"],"scope_depot":"HB","iss":"{DEFAULT_ISSUER}","aud":"{DEFAULT_AUDIENCE}","exp":{}}}"#,
                jsonwebtoken::get_current_timestamp() + 600
            )
            .as_bytes(),
        );
        assert!(v.verify(&format!("{header}.{body}.")).is_err());
    }
}
