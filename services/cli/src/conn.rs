//! Connecting to the server with the caller's token.

use anyhow::{Context, bail};
use std::path::PathBuf;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// A channel with the caller's token attached.
pub type Authed = InterceptedService<Channel, Bearer>;

/// Where to connect and as whom.
#[derive(clap::Args, Clone, Debug)]
pub struct ConnArgs {
    /// Server address.
    #[arg(
        long,
        global = true,
        env = "RESERVE_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    pub server: String,
    /// Bearer token (JWT).
    #[arg(long, global = true, env = "RESERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// File holding the bearer token.
    #[arg(long, global = true, env = "RESERVE_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

impl ConnArgs {
    pub fn token(&self) -> anyhow::Result<Option<String>> {
        if let Some(t) = &self.token {
            return Ok(Some(t.trim().to_string()));
        }
        if let Some(f) = &self.token_file {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("reading token file {}", f.display()))?;
            return Ok(Some(t.trim().to_string()));
        }
        Ok(None)
    }

    /// Connects and returns a channel that sends the token.
    pub async fn connect(&self) -> anyhow::Result<Authed> {
        let token = self.token()?;
        if token.is_none() {
            bail!(
                "no token: set RESERVE_TOKEN (e.g. export RESERVE_TOKEN=$(reservectl token --role admin --scope HB)) \
                 or pass --token / --token-file"
            );
        }
        let value = token
            .map(|t| MetadataValue::try_from(format!("Bearer {t}")))
            .transpose()
            .context("the token is not valid header text")?;
        let channel = Endpoint::from_shared(self.server.clone())
            .with_context(|| format!("bad server address {}", self.server))?
            .connect()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.server))?;
        Ok(InterceptedService::new(channel, Bearer(value)))
    }
}
