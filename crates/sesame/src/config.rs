//! Server configuration: flags, then `SESAME_*` environment variables, then a TOML file, then
//! defaults — the first that gives a value wins.

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
        Ok(Config {
            listen,
            database_url,
            data_dir,
            public_url,
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            dns_server: args.dns_server.or(file.dns_server),
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
        }
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
        let dir = std::env::temp_dir().join(format!("sesame-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sesame.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://login.example/\"\n",
        )
        .unwrap();
        let mut args = empty();
        args.config = Some(file.clone());
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.public_url, "https://login.example");
        args.listen = Some("127.0.0.1:9100".parse().unwrap());
        assert_eq!(
            Config::resolve(&args).unwrap().listen.to_string(),
            "127.0.0.1:9100"
        );
        std::fs::write(&file, "lisen = 1\n").unwrap();
        assert!(Config::resolve(&args).is_err());
    }
}
