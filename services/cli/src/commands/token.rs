//! `reservectl token`: mints a token for the server's development key.

use reserve_api::auth::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, Minter, TokenRequest};
use reserve_api::devkey;
use std::path::PathBuf;

/// Mint a development token (signed with the key the server created on this machine).
#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    /// Role to grant; repeat for several (depot_keeper, dispatcher, finance, auditor, admin).
    #[arg(long = "role", required = true)]
    roles: Vec<String>,
    /// Depot whose subtree the token covers.
    #[arg(long, default_value = "HB")]
    scope: String,
    /// User id.
    #[arg(long, default_value = "dev-user")]
    subject: String,
    /// Display name.
    #[arg(long, default_value = "")]
    name: String,
    /// Lifetime in hours.
    #[arg(long, default_value_t = 12)]
    hours: u64,
    /// The development key file the server created.
    #[arg(long, env = "RESERVE_DEV_KEY_FILE", default_value = devkey::FILE_NAME)]
    key_file: PathBuf,
    /// Issuer to put in the token.
    #[arg(long, env = "RESERVE_JWT_ISSUER", default_value = DEFAULT_ISSUER)]
    issuer: String,
    /// Audience to put in the token.
    #[arg(long, env = "RESERVE_JWT_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    audience: String,
}

/// Prints a token on standard output.
pub fn run(a: TokenArgs) -> anyhow::Result<()> {
    for r in &a.roles {
        if reserve_core::authz::Role::from_claim(r).is_none() {
            anyhow::bail!(
                "unknown role '{r}': use depot_keeper, dispatcher, finance, auditor or admin"
            );
        }
    }
    let secret = devkey::read(&a.key_file).map_err(|e| {
        anyhow::anyhow!("{e:#}\nrun this where the server keeps its database (or pass --key-file)")
    })?;
    let minter =
        Minter::hs256(&secret, &a.issuer, &a.audience).map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = minter
        .mint(&TokenRequest {
            name: if a.name.is_empty() {
                a.subject.clone()
            } else {
                a.name
            },
            subject: a.subject,
            roles: a.roles,
            scope_depot: a.scope,
            ttl_seconds: a.hours * 3600,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{token}");
    Ok(())
}
