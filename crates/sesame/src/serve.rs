//! `sesame serve`: opens the store, wires the core and the HTTP edge, runs background jobs,
//! and shuts down gracefully on SIGTERM or Ctrl-C.

use crate::config::{Config, LogFormat, ServeArgs};
use anyhow::Context;
use sesame_core::{Core, CoreSettings, PasswordHasher, SystemClock};
use sesame_web::{AppState, Metrics, WebConfig};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;
use tracing_subscriber::EnvFilter;

pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("SESAME_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hickory_proto=warn"));
    // Colours only for a person at a terminal: escape codes have no place in a log file or
    // the journal, and NO_COLOR (no-color.org) turns them off anywhere.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let colours = std::io::stderr().is_terminal() && !no_color;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Opens the store named by the configuration and builds the core on it.
pub async fn open_core(config: &Config) -> anyhow::Result<Core> {
    config.prepare_data_dir()?;
    let store = sesame_store_sql::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the store at {}", redact(&config.database_url)))?;
    let dns = Arc::new(crate::dns::HickoryTxt::new(config.dns_server)?);
    let passwords = PasswordHasher::recommended()?;
    let master_key = crate::config::load_master_key(&config.master_key_file)?;
    Ok(Core::new(store, Arc::new(SystemClock), dns, passwords, {
        let mut settings = CoreSettings {
            public_url: config.public_url.clone(),
            provisioning: provisioning_settings()?,
            ..CoreSettings::default()
        };
        if let Some(hosts) = &config.direct_federation_hosts {
            settings.direct_federation_hosts.clone_from(hosts);
        }
        settings
    })
    .with_master_key(master_key)
    .with_scim_transport(Arc::new(crate::scim_transport::HttpScimTransport::new(
        config.outbound_targets,
    )?))
    .with_soap_client(Arc::new(crate::soap_client::HttpSoapClient::new(
        config.outbound_targets,
    )?)))
}

/// Provisioning engine knobs, from `SESAME_PROVISIONING_LEASE_SECS` (how long a dead node's
/// cycle waits before another resumes it) and `SESAME_PROVISIONING_RETRY_MS` (first backoff).
fn provisioning_settings() -> anyhow::Result<sesame_core::provisioning::ProvisioningSettings> {
    let mut s = sesame_core::provisioning::ProvisioningSettings::default();
    let num = |name: &str| -> anyhow::Result<Option<u64>> {
        match std::env::var(name) {
            Ok(v) => {
                Ok(Some(v.trim().parse().with_context(|| {
                    format!("{name} must be a whole number")
                })?))
            }
            Err(_) => Ok(None),
        }
    };
    if let Some(secs) = num("SESAME_PROVISIONING_LEASE_SECS")? {
        s.lease = time::Duration::seconds(i64::try_from(secs.clamp(1, 3600)).unwrap_or(60));
    }
    if let Some(ms) = num("SESAME_PROVISIONING_RETRY_MS")? {
        s.retry.base = std::time::Duration::from_millis(ms.clamp(1, 60_000));
    }
    Ok(s)
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = Config::resolve(&args)?;
    init_logging(config.log_format);
    let core = open_core(&config).await?;
    bootstrap_token(&core).await?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let state = AppState {
        core: core.clone(),
        config: Arc::new(WebConfig {
            public_url: config.public_url.clone(),
        }),
        metrics: Arc::new(Metrics::default()),
    };
    let app =
        sesame_web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(housekeeping(core.clone()));
    tokio::spawn(provisioning_scheduler(core.clone()));
    tokio::spawn(crate::metadata::refresh_job(
        core.clone(),
        config.metadata_refresh_check,
        config.metadata_refresh_max,
        config.outbound_targets,
    ));
    tracing::info!(
        listen = %config.listen,
        public_url = %config.public_url,
        store = core.store().backend_name(),
        startup_ms = started.elapsed().as_millis() as u64,
        "Sésame is ready"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// On an empty store, creates the first admin token: `SESAME_ADMIN_TOKEN` when set (for
/// automation), otherwise a random one printed once on stdout.
async fn bootstrap_token(core: &Core) -> anyhow::Result<()> {
    if let Ok(secret) = std::env::var("SESAME_ADMIN_TOKEN") {
        core.install_admin_token("SESAME_ADMIN_TOKEN", secret.trim())
            .await?;
        return Ok(());
    }
    if let Some(created) = core.bootstrap_admin_token().await? {
        println!("First start: an admin token was created. It is shown only this once:");
        println!();
        println!("    {}", created.secret);
        println!();
        println!(
            "Use it with the CLI:  export SESAME_TOKEN={}",
            created.secret
        );
    }
    Ok(())
}

/// Every ten minutes: removes expired sessions, and the federation replay cache and
/// outstanding AuthnRequests past their lifetime.
async fn housekeeping(core: Core) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        match core.store().purge_expired_sessions(core.now()).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session purge failed"),
        }
        match core.purge_federation_state().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired federation state purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "federation state purge failed"),
        }
        match core.purge_change_log().await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "consumed directory changes purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "change log purge failed"),
        }
    }
}

/// Every two seconds: starts the provisioning cycles that are due (scheduled, asked for, or
/// left by a node that died).
async fn provisioning_scheduler(core: Core) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tick.tick().await;
        if let Err(e) = core.provisioning_tick().await {
            tracing::warn!(error = %e, "provisioning scheduler tick failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A database URL without its password, for error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
