//! The DNS TXT resolver behind domain verification, pointed at a configurable server.

use async_trait::async_trait;
use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};
use sesame_core::TxtResolver;
use std::net::SocketAddr;

pub struct HickoryTxt(TokioAsyncResolver);

impl HickoryTxt {
    /// Uses `server` when given, else the system's resolver configuration.
    pub fn new(server: Option<SocketAddr>) -> anyhow::Result<Self> {
        let mut opts = ResolverOpts::default();
        // Verification must see a freshly published record, not a cached absence.
        opts.cache_size = 0;
        opts.timeout = std::time::Duration::from_secs(3);
        opts.attempts = 2;
        let resolver = match server {
            Some(addr) => {
                let mut config = ResolverConfig::new();
                config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
                config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
                TokioAsyncResolver::tokio(config, opts)
            }
            None => {
                let (config, _) = hickory_resolver::system_conf::read_system_conf()
                    .unwrap_or_else(|_| (ResolverConfig::default(), ResolverOpts::default()));
                TokioAsyncResolver::tokio(config, opts)
            }
        };
        Ok(HickoryTxt(resolver))
    }
}

#[async_trait]
impl TxtResolver for HickoryTxt {
    async fn txt_records(&self, name: &str) -> Result<Vec<String>, String> {
        // A trailing dot makes the name absolute, so no search domain is appended.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.0.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .iter()
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>()
                })
                .collect()),
            Err(e)
                if matches!(
                    e.kind(),
                    hickory_resolver::error::ResolveErrorKind::NoRecordsFound { .. }
                ) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}
