//! Server configuration: flags with environment fallbacks.

use anyhow::{Context, bail};
use clap::builder::TypedValueParser;
use reserve_api::auth::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, KeySpec};
use reserve_api::devkey;
use reserve_store::{Backend, StoreOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the database is.
#[derive(clap::Args, Clone, Debug)]
pub struct DbArgs {
    /// Database URL: `sqlite://FILE` (created and migrated at start) or
    /// `postgres://USER@HOST/DB` (migrated at start).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://reserve.db")]
    pub database_url: String,
    /// Most database connections the server opens.
    #[arg(long, env = "RESERVE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,
    /// SQLite: writes committed together in one transaction at most (1 to
    /// 1000; 1 commits each write on its own).
    #[arg(long, env = "RESERVE_GROUP_COMMIT_WRITES", default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..=1000).map(|v| v as usize))]
    pub group_commit_writes: usize,
    /// SQLite: microseconds a group of writes may stay open while more
    /// arrive (50 to 100000).
    #[arg(long, env = "RESERVE_GROUP_COMMIT_WAIT_US", default_value_t = 500,
        value_parser = clap::value_parser!(u64).range(50..=100_000))]
    pub group_commit_wait_us: u64,
}

impl DbArgs {
    /// The URL with SQLite's create-if-missing mode added when none is given.
    pub fn url(&self) -> String {
        normalize_url(&self.database_url)
    }

    /// Pool options.
    pub fn options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(10),
            group_commit: reserve_store::GroupCommit {
                max_writes: self.group_commit_writes,
                max_wait: Duration::from_micros(self.group_commit_wait_us),
            },
        }
    }

    /// The directory that holds the SQLite file, if this is SQLite on disk.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        sqlite_file(&self.database_url).map(|f| match f.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        })
    }
}

/// How bearer tokens are verified.
#[derive(clap::Args, Clone, Debug)]
pub struct AuthArgs {
    /// File holding the HS256 shared secret (for development or a closed network).
    #[arg(
        long,
        env = "RESERVE_JWT_HS256_SECRET_FILE",
        conflicts_with = "jwt_public_key_file"
    )]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// PEM file holding the issuer's public key (production).
    #[arg(long, env = "RESERVE_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// Algorithm of the public key.
    #[arg(
        long,
        env = "RESERVE_JWT_ALGORITHM",
        value_enum,
        default_value = "rs256"
    )]
    pub jwt_algorithm: PublicKeyAlgorithm,
    /// Issuer tokens must name.
    #[arg(long, env = "RESERVE_JWT_ISSUER", default_value = DEFAULT_ISSUER)]
    pub jwt_issuer: String,
    /// Audience tokens must name.
    #[arg(long, env = "RESERVE_JWT_AUDIENCE", default_value = DEFAULT_AUDIENCE)]
    pub jwt_audience: String,
    /// Where the development key lives when no key is configured
    /// (default: `reserve-dev.key` beside the SQLite file).
    #[arg(long, env = "RESERVE_DEV_KEY_FILE")]
    pub dev_key_file: Option<PathBuf>,
}

/// Public-key algorithms accepted for production tokens.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKeyAlgorithm {
    /// RSA with SHA-256.
    Rs256,
    /// Ed25519.
    Eddsa,
}

/// Log output.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything `reserve-server` needs to serve.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback needs a configured key.
    #[arg(long, env = "RESERVE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Database.
    #[command(flatten)]
    pub db: DbArgs,
    /// Tokens.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Load the demo network (Hubei / Shiyan) at start; does nothing if it is there.
    #[arg(long, env = "RESERVE_SEED_DEMO")]
    pub seed_demo: bool,
    /// Log format.
    #[arg(long, env = "RESERVE_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// A call slower than this many milliseconds is logged at warn instead
    /// of info (0: never).
    #[arg(long, env = "RESERVE_SLOW_CALL_MS", default_value_t = 500)]
    pub slow_call_ms: u64,
    /// Calls in progress at most (1 to 100000); a call beyond it is refused
    /// RESOURCE_EXHAUSTED at once instead of queueing. Health checks are exempt.
    #[arg(long, env = "RESERVE_MAX_CONCURRENT_CALLS", default_value_t = crate::app::DEFAULT_MAX_CONCURRENT_CALLS,
        value_parser = clap::value_parser!(u32).range(1..=100_000).map(|v| v as usize))]
    pub max_concurrent_calls: usize,
    /// Sourcing estimates and the relief kit.
    #[command(flatten)]
    pub sourcing: SourcingArgs,
    /// Maintenance.
    #[command(flatten)]
    pub maintenance: MaintenanceArgs,
    /// Owners' private data.
    #[command(flatten)]
    pub privacy: PrivacyArgs,
    /// Metrics.
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// How owners' private data (identity numbers, bank accounts, phones) is
/// sealed and how long it is kept after settlement.
#[derive(clap::Args, Clone, Debug)]
pub struct PrivacyArgs {
    /// Key file sealing owners' private data: `KEY-ID BASE64-32-BYTES` per
    /// line, the first sealing new data (see the README). Default on SQLite
    /// on loopback: `reserve-private.key` beside the database, created.
    #[arg(long, env = "RESERVE_PRIVATE_DATA_KEY_FILE")]
    pub private_data_key_file: Option<PathBuf>,
    /// Days after a claim is settled before a purge removes the owner's
    /// private data (1 to 36500).
    #[arg(long, env = "RESERVE_OWNER_DATA_RETENTION_DAYS", default_value_t = 365)]
    pub owner_data_retention_days: i64,
}

/// File name of the development private-data key.
pub const DEV_PRIVATE_KEY: &str = "reserve-private.key";

impl PrivacyArgs {
    /// The checked retention.
    pub fn config(&self) -> anyhow::Result<reserve_api::compensation::PrivacyConfig> {
        if !(1..=36_500).contains(&self.owner_data_retention_days) {
            bail!(
                "--owner-data-retention-days must be 1 to 36500, not {}",
                self.owner_data_retention_days
            );
        }
        Ok(reserve_api::compensation::PrivacyConfig {
            retention_days: self.owner_data_retention_days,
        })
    }

    /// The sealing keys: the configured file, or a development key beside
    /// the SQLite file on loopback. Refuses to start otherwise.
    pub fn sealer(
        &self,
        db: &DbArgs,
        listen: Option<SocketAddr>,
    ) -> anyhow::Result<reserve_store::sealed::Sealer> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let path = match &self.private_data_key_file {
            Some(p) => p.clone(),
            None => {
                if Backend::of_url(&db.url()) == Some(Backend::Postgres) {
                    bail!(
                        "refusing to start on PostgreSQL without --private-data-key-file: owners' \
                         private data must be sealed under a key you keep (see the README, \"Owners' private data\")"
                    );
                }
                if listen.is_some_and(|l| !l.ip().is_loopback()) {
                    bail!("refusing to listen beyond loopback without --private-data-key-file");
                }
                let path = db
                    .sqlite_dir()
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join(DEV_PRIVATE_KEY);
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                {
                    use std::io::Write;
                    f.write_all(reserve_store::sealed::Sealer::new_key_line("dev-1").as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    tracing::warn!(path = %path.display(), "created a development key for owners' private data");
                }
                path
            }
        };
        let meta = std::fs::metadata(&path)
            .with_context(|| format!("reading private data key file {}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "private data key file {} is readable by others; chmod 600 it",
                path.display()
            );
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading private data key file {}", path.display()))?;
        reserve_store::sealed::Sealer::from_key_text(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// The Prometheus endpoint.
#[derive(clap::Args, Clone, Debug)]
pub struct MetricsArgs {
    /// Serve Prometheus text at http://ADDR/metrics (off when not given).
    /// Loopback only unless --metrics-allow-remote.
    #[arg(long, env = "RESERVE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Allow --metrics-listen on an address other than loopback.
    #[arg(long, env = "RESERVE_METRICS_ALLOW_REMOTE")]
    pub metrics_allow_remote: bool,
    /// Seconds between refreshes of the gauges read from the database
    /// (pool use, open documents, expiring lines; 5 to 3600).
    #[arg(long, env = "RESERVE_METRICS_REFRESH_SECS", default_value_t = 60)]
    pub metrics_refresh_secs: u64,
    /// Minutes between ledger integrity checks for the metrics (the first
    /// runs at start; 1 to 10080).
    #[arg(long, env = "RESERVE_METRICS_INTEGRITY_MINUTES", default_value_t = 60)]
    pub metrics_integrity_minutes: u64,
}

impl MetricsArgs {
    /// The checked refresh periods.
    pub fn refresh(&self) -> anyhow::Result<crate::metrics::Refresh> {
        if !(5..=3600).contains(&self.metrics_refresh_secs) {
            bail!(
                "--metrics-refresh-secs must be 5 to 3600, not {}",
                self.metrics_refresh_secs
            );
        }
        if !(1..=10080).contains(&self.metrics_integrity_minutes) {
            bail!(
                "--metrics-integrity-minutes must be 1 to 10080, not {}",
                self.metrics_integrity_minutes
            );
        }
        Ok(crate::metrics::Refresh {
            every: Duration::from_secs(self.metrics_refresh_secs),
            integrity_every: Duration::from_secs(self.metrics_integrity_minutes * 60),
        })
    }
}

/// Maintenance settings.
#[derive(clap::Args, Clone, Debug)]
pub struct MaintenanceArgs {
    /// A repair open longer than this many days is listed as overdue (1 to 3650).
    #[arg(long, env = "RESERVE_REPAIR_OVERDUE_DAYS", default_value_t = 30)]
    pub repair_overdue_days: i64,
}

impl MaintenanceArgs {
    /// The checked configuration.
    pub fn config(&self) -> anyhow::Result<reserve_api::maintenance::MaintenanceConfig> {
        if !(1..=3650).contains(&self.repair_overdue_days) {
            bail!(
                "--repair-overdue-days must be 1 to 3650, not {}",
                self.repair_overdue_days
            );
        }
        Ok(reserve_api::maintenance::MaintenanceConfig {
            repair_overdue_days: self.repair_overdue_days,
        })
    }
}

/// How proposals and readiness estimate travel, and the relief kit. The
/// defaults are for the mountain roads of 十堰 (see
/// `reserve_core::sourcing::travel`).
#[derive(clap::Args, Clone, Debug)]
pub struct SourcingArgs {
    /// Road distance over straight-line distance (1 to 5).
    #[arg(long, env = "RESERVE_ROAD_FACTOR", default_value_t = 1.6)]
    pub road_factor: f64,
    /// Average speed of a loaded truck, km/h (5 to 150).
    #[arg(long, env = "RESERVE_SPEED_KMH", default_value_t = 40.0)]
    pub speed_kmh: f64,
    /// Hours to load and unload (0 to 24).
    #[arg(long, env = "RESERVE_HANDLING_HOURS", default_value_t = 1.0)]
    pub handling_hours: f64,
    /// The standard relief kit as JSON: {"items": [{"item": ID, "per_hundred": N}, ...]};
    /// the default is documented in `reserve_core::sourcing::readiness`.
    #[arg(long, env = "RESERVE_KIT_FILE")]
    pub kit: Option<std::path::PathBuf>,
}

impl SourcingArgs {
    /// The checked configuration.
    pub fn config(&self) -> anyhow::Result<reserve_api::sourcing::SourcingConfig> {
        let travel = reserve_core::sourcing::TravelModel {
            road_factor: self.road_factor,
            speed_kmh: self.speed_kmh,
            handling_hours: self.handling_hours,
        }
        .checked()
        .map_err(|e| anyhow::anyhow!("--road-factor/--speed-kmh/--handling-hours: {e}"))?;
        let kit = match &self.kit {
            None => reserve_core::sourcing::readiness::Kit::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("--kit {}: {e}", p.display()))?;
                let kit: reserve_core::sourcing::readiness::Kit = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("--kit {}: {e}", p.display()))?;
                if kit.items.is_empty()
                    || kit
                        .items
                        .iter()
                        .any(|k| !(1..=100_000).contains(&k.per_hundred))
                {
                    anyhow::bail!(
                        "--kit {}: list at least one item, each 1 to 100000 per hundred people",
                        p.display()
                    );
                }
                kit
            }
        };
        Ok(reserve_api::sourcing::SourcingConfig { travel, kit })
    }
}

/// Adds `mode=rwc` to a SQLite URL without a mode, so the file is created.
pub fn normalize_url(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}

/// The file path of a SQLite URL, if it names a file.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// The verification key: a configured one, or the development key when the
/// server runs on SQLite on loopback. Refuses to start otherwise.
pub fn resolve_key(
    auth: &AuthArgs,
    db: &DbArgs,
    listen: SocketAddr,
) -> anyhow::Result<(KeySpec, Option<PathBuf>)> {
    if let Some(f) = &auth.jwt_hs256_secret_file {
        let secret = read_secret(f)?;
        return Ok((KeySpec::Hs256(secret), None));
    }
    if let Some(f) = &auth.jwt_public_key_file {
        let pem =
            std::fs::read(f).with_context(|| format!("reading public key {}", f.display()))?;
        let spec = match auth.jwt_algorithm {
            PublicKeyAlgorithm::Rs256 => KeySpec::Rs256Pem(pem),
            PublicKeyAlgorithm::Eddsa => KeySpec::EdDsaPem(pem),
        };
        return Ok((spec, None));
    }
    let url = db.url();
    if Backend::of_url(&url) == Some(Backend::Postgres) {
        bail!(
            "refusing to start on PostgreSQL without a token key: set --jwt-public-key-file (RS256/EdDSA) \
             or --jwt-hs256-secret-file; the generated development key is only for SQLite on loopback"
        );
    }
    if !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} without a token key: set --jwt-public-key-file or \
             --jwt-hs256-secret-file; the generated development key is only for loopback"
        );
    }
    let path = auth.dev_key_file.clone().unwrap_or_else(|| {
        db.sqlite_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(devkey::FILE_NAME)
    });
    let secret = devkey::load_or_create(&path)?;
    Ok((KeySpec::Hs256(secret), Some(path)))
}

/// The console for a resolved key: one-click sign-in only when the key is
/// the development key (`dev_key` from [`resolve_key`], which it gives only
/// for SQLite on loopback with no key configured); the page alone otherwise.
pub fn console_for(
    key: &KeySpec,
    dev_key: Option<&Path>,
    auth: &AuthArgs,
) -> anyhow::Result<crate::console::Console> {
    match (key, dev_key) {
        (KeySpec::Hs256(secret), Some(_)) => {
            let minter =
                reserve_api::auth::Minter::hs256(secret, &auth.jwt_issuer, &auth.jwt_audience)
                    .map_err(|e| anyhow::anyhow!("development key: {e}"))?;
            Ok(crate::console::Console::with_dev_login(minter))
        }
        _ => Ok(crate::console::Console::new()),
    }
}

fn read_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let s = std::fs::read_to_string(path)
        .with_context(|| format!("reading secret {}", path.display()))?;
    let s = s.trim();
    if s.len() < 32 {
        bail!(
            "the HS256 secret in {} is shorter than 32 characters",
            path.display()
        );
    }
    Ok(s.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode_and_a_file_path() {
        assert_eq!(
            normalize_url("sqlite://reserve.db"),
            "sqlite://reserve.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite://x.db?mode=ro"),
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(normalize_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            sqlite_file("sqlite://data/r.db?mode=rwc"),
            Some(PathBuf::from("data/r.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    fn db(url: &str) -> DbArgs {
        DbArgs {
            database_url: url.into(),
            db_max_connections: 4,
            group_commit_writes: 64,
            group_commit_wait_us: 500,
        }
    }

    fn no_key() -> AuthArgs {
        AuthArgs {
            jwt_hs256_secret_file: None,
            jwt_public_key_file: None,
            jwt_algorithm: PublicKeyAlgorithm::Rs256,
            jwt_issuer: DEFAULT_ISSUER.into(),
            jwt_audience: DEFAULT_AUDIENCE.into(),
            dev_key_file: None,
        }
    }

    #[test]
    fn without_a_key_the_server_refuses_postgres_and_non_loopback() {
        let local: SocketAddr = "127.0.0.1:50051".parse().unwrap();
        let open: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        assert!(resolve_key(&no_key(), &db("postgres://postgres@127.0.0.1/x"), local).is_err());
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/r.db", dir.path().display());
        assert!(resolve_key(&no_key(), &db(&url), open).is_err());
        let (_, path) = resolve_key(&no_key(), &db(&url), local).unwrap();
        assert_eq!(path.unwrap(), dir.path().join(devkey::FILE_NAME));
    }

    #[test]
    fn the_console_offers_one_click_sign_in_only_with_the_development_key() {
        let local: SocketAddr = "127.0.0.1:50051".parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/r.db", dir.path().display());
        let (key, dev) = resolve_key(&no_key(), &db(&url), local).unwrap();
        assert!(
            console_for(&key, dev.as_deref(), &no_key())
                .unwrap()
                .dev_login()
        );

        // A configured shared secret, even on loopback SQLite: page only.
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "a-configured-secret-of-forty-characters!").unwrap();
        let configured = AuthArgs {
            jwt_hs256_secret_file: Some(secret),
            ..no_key()
        };
        let (key, dev) = resolve_key(&configured, &db(&url), local).unwrap();
        assert!(dev.is_none());
        assert!(
            !console_for(&key, dev.as_deref(), &configured)
                .unwrap()
                .dev_login()
        );
    }
}
