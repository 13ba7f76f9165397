//! Server configuration: flags, then `SESAME_*` environment variables, then a TOML file, then
//! defaults — the first that gives a value wins.

use crate::outbound::OutboundTargets;
use anyhow::{Context, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "SESAME_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SESAME_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the embedded SQLite database [default: ./sesame-data].
    #[arg(long, env = "SESAME_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`; overrides --data-dir.
    #[arg(long, env = "SESAME_DATABASE_URL")]
    pub database_url: Option<String>,
    /// External base URL users reach Sésame at [default: http://<listen>].
    #[arg(long, env = "SESAME_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format: text or json [default: text].
    #[arg(long, env = "SESAME_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// DNS server (ip:port) used to verify domains [default: the system's resolver].
    #[arg(long, env = "SESAME_DNS_SERVER")]
    pub dns_server: Option<SocketAddr>,
    /// File holding the 32-byte master key that seals private keys at rest (created on first
    /// start if missing) [default: <data-dir>/master.key]. `SESAME_MASTER_KEY` (base64) wins.
    #[arg(long, env = "SESAME_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Hosts (subdomains included) a direct federation's logon URL may use outside the
    /// partner's domain, comma-separated [default: accounts.google.com, pingidentity.com,
    /// okta.com, federation.exostar.com].
    #[arg(long, env = "SESAME_DIRECT_FEDERATION_HOSTS", value_delimiter = ',')]
    pub direct_federation_hosts: Option<Vec<String>>,
    /// Longest wait, in seconds, before a federation's metadata URL is read again (shorter when
    /// its cacheDuration or validUntil says so) [default: 86400, a day].
    #[arg(long, env = "SESAME_METADATA_REFRESH_MAX_SECS")]
    pub metadata_refresh_max_secs: Option<u64>,
    /// How often, in seconds, the refresh job looks for due metadata URLs [default: 300].
    #[arg(long, env = "SESAME_METADATA_REFRESH_CHECK_SECS")]
    pub metadata_refresh_check_secs: Option<u64>,
    /// Networks the server's own calls (SCIM provisioning, logout back channel, metadata
    /// URLs) may reach: public; internal (public, private and loopback, never link-local such
    /// as cloud metadata services); or any [default: internal].
    #[arg(long, env = "SESAME_OUTBOUND_TARGETS")]
    pub outbound_targets: Option<OutboundTargets>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The TOML file's shape; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    dns_server: Option<SocketAddr>,
    master_key_file: Option<PathBuf>,
    direct_federation_hosts: Option<Vec<String>>,
    metadata_refresh_max_secs: Option<u64>,
    metadata_refresh_check_secs: Option<u64>,
    outbound_targets: Option<OutboundTargets>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub log_format: LogFormat,
    pub dns_server: Option<SocketAddr>,
    pub master_key_file: PathBuf,
    /// `None`: the core's default allow-list.
    pub direct_federation_hosts: Option<Vec<String>>,
    pub metadata_refresh_max: std::time::Duration,
    pub metadata_refresh_check: std::time::Duration,
    pub outbound_targets: OutboundTargets,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen = match args.listen.or(file.listen) {
            Some(l) => l,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("sesame-data"));
        let database_url = match args.database_url.clone().or(file.database_url) {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("sesame.db").display()),
        };
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("public URL must start with http:// or https:// (got {public_url})");
        }
        let master_key_file = args
            .master_key_file
            .clone()
            .or(file.master_key_file)
            .unwrap_or_else(|| data_dir.join("master.key"));
        let secs = |flag: Option<u64>, file: Option<u64>, default: u64, name: &str| {
            let v = flag.or(file).unwrap_or(default);
            if v == 0 || v > 366 * 86400 {
                bail!("{name} must be between 1 and 31622400 seconds (got {v})");
            }
            Ok(std::time::Duration::from_secs(v))
        };
        let metadata_refresh_max = secs(
            args.metadata_refresh_max_secs,
            file.metadata_refresh_max_secs,
            86400,
            "metadata_refresh_max_secs",
        )?;
        let metadata_refresh_check = secs(
            args.metadata_refresh_check_secs,
            file.metadata_refresh_check_secs,
            300,
            "metadata_refresh_check_secs",
        )?;
        Ok(Config {
            outbound_targets: args
                .outbound_targets
                .or(file.outbound_targets)
                .unwrap_or_default(),
            metadata_refresh_max,
            metadata_refresh_check,
            master_key_file,
            listen,
            database_url,
            data_dir,
            public_url,
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            dns_server: args.dns_server.or(file.dns_server),
            direct_federation_hosts: args
                .direct_federation_hosts
                .clone()
                .or(file.direct_federation_hosts)
                .map(|hosts| {
                    hosts
                        .iter()
                        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                }),
        })
    }

    /// Creates the data directory when the database is the embedded SQLite file in it.
    pub fn prepare_data_dir(&self) -> anyhow::Result<()> {
        if self.database_url.starts_with("sqlite:") && !self.database_url.contains(":memory:") {
            std::fs::create_dir_all(&self.data_dir).with_context(|| {
                format!("cannot create data directory {}", self.data_dir.display())
            })?;
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration file {}", path.display()))
}

/// The master key: `SESAME_MASTER_KEY` (base64 of 32 bytes), else the key file, created with
/// a fresh random key (mode 0600) when it does not exist yet.
pub fn load_master_key(path: &Path) -> anyhow::Result<sesame_core::keys::MasterKey> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Ok(v) = std::env::var("SESAME_MASTER_KEY") {
        let bytes = b64
            .decode(v.trim())
            .context("SESAME_MASTER_KEY is not base64")?;
        return Ok(sesame_core::keys::MasterKey::from_bytes(&bytes)?);
    }
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let key = sesame_core::keys::MasterKey::generate_bytes()?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create the master key file {}", path.display()))?;
        writeln!(f, "{}", b64.encode(key)).context("writing the master key")?;
        tracing::warn!(path = %path.display(), "created a new master key; back it up with the database");
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the master key file {}", path.display()))?;
    let bytes = b64
        .decode(text.trim())
        .with_context(|| format!("{} does not hold a base64 key", path.display()))?;
    Ok(sesame_core::keys::MasterKey::from_bytes(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> ServeArgs {
        ServeArgs {
            config: None,
            listen: None,
            data_dir: None,
            database_url: None,
            public_url: None,
            log_format: None,
            dns_server: None,
            master_key_file: None,
            direct_federation_hosts: None,
            metadata_refresh_max_secs: None,
            metadata_refresh_check_secs: None,
            outbound_targets: None,
        }
    }

    #[test]
    fn metadata_refresh_intervals() {
        let c = Config::resolve(&empty()).unwrap();
        assert_eq!(c.metadata_refresh_max.as_secs(), 86400);
        assert_eq!(c.metadata_refresh_check.as_secs(), 300);
        let mut args = empty();
        args.metadata_refresh_check_secs = Some(1);
        assert_eq!(
            Config::resolve(&args)
                .unwrap()
                .metadata_refresh_check
                .as_secs(),
            1
        );
        args.metadata_refresh_max_secs = Some(0);
        assert!(Config::resolve(&args).is_err());
    }

    /// A `sesame.toml` in a directory of its own, removed with it.
    struct ConfigFile(PathBuf);

    impl ConfigFile {
        fn new(contents: &str) -> ConfigFile {
            let dir = std::env::temp_dir().join(format!("sesame-config-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("sesame.toml");
            std::fs::write(&file, contents).unwrap();
            ConfigFile(file)
        }
    }

    impl Drop for ConfigFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    #[test]
    fn direct_federation_hosts_from_file_or_flag() {
        assert_eq!(
            Config::resolve(&empty()).unwrap().direct_federation_hosts,
            None
        );
        let file = ConfigFile::new("direct_federation_hosts = [\"IdP.Partner.example.\"]\n");
        let mut args = empty();
        args.config = Some(file.0.clone());
        assert_eq!(
            Config::resolve(&args).unwrap().direct_federation_hosts,
            Some(vec!["idp.partner.example".to_owned()])
        );
        args.direct_federation_hosts = Some(vec!["okta.com".into(), " ".into()]);
        assert_eq!(
            Config::resolve(&args).unwrap().direct_federation_hosts,
            Some(vec!["okta.com".to_owned()])
        );
    }

    #[test]
    fn outbound_targets_from_file_or_flag() {
        assert_eq!(
            Config::resolve(&empty()).unwrap().outbound_targets,
            OutboundTargets::Internal
        );
        let file = ConfigFile::new("outbound_targets = \"public\"\n");
        let mut args = empty();
        args.config = Some(file.0.clone());
        assert_eq!(
            Config::resolve(&args).unwrap().outbound_targets,
            OutboundTargets::Public
        );
        args.outbound_targets = Some(OutboundTargets::Any);
        assert_eq!(
            Config::resolve(&args).unwrap().outbound_targets,
            OutboundTargets::Any
        );
        let bad = ConfigFile::new("outbound_targets = \"everywhere\"\n");
        args.config = Some(bad.0.clone());
        assert!(Config::resolve(&args).is_err());
    }

    #[test]
    fn defaults() {
        let c = Config::resolve(&empty()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://sesame-data/sesame.db");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn flags_win_over_file() {
        let file = ConfigFile::new(
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://login.example/\"\n",
        );
        let mut args = empty();
        args.config = Some(file.0.clone());
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.public_url, "https://login.example");
        args.listen = Some("127.0.0.1:9100".parse().unwrap());
        assert_eq!(
            Config::resolve(&args).unwrap().listen.to_string(),
            "127.0.0.1:9100"
        );
        std::fs::write(&file.0, "lisen = 1\n").unwrap();
        assert!(Config::resolve(&args).is_err());
    }
}
