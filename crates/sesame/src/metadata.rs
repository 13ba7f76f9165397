//! The metadata refresh job of `sesame serve` (issue 5 build point 6): every `check` interval,
//! `Core::refresh_due_metadata` re-reads the federations' metadata URLs that are due, through
//! [`HttpMetadata`] (bounded in time and size, no redirects).

use crate::outbound::OutboundTargets;
use async_trait::async_trait;
use sesame_core::Core;
use sesame_core::metadata_refresh::MetadataFetcher;
use std::time::Duration;

/// Largest metadata document read.
const MAX_METADATA_BYTES: usize = 1 << 20;

pub struct HttpMetadata {
    http: reqwest::Client,
    targets: OutboundTargets,
}

impl HttpMetadata {
    pub fn new(targets: OutboundTargets) -> anyhow::Result<Self> {
        Ok(HttpMetadata {
            http: targets
                .client_builder()
                .timeout(Duration::from_secs(15))
                .build()?,
            targets,
        })
    }
}

#[async_trait]
impl MetadataFetcher for HttpMetadata {
    async fn fetch(&self, url: &str) -> Result<String, String> {
        self.targets
            .check_url(url)
            .map_err(|e| format!("cannot read {url}: {e}"))?;
        let mut res = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("cannot read {url}: {}", crate::outbound::describe(&e)))?;
        if !res.status().is_success() {
            return Err(format!("{url} answered HTTP {}", res.status().as_u16()));
        }
        let body = crate::outbound::read_capped(&mut res, MAX_METADATA_BYTES)
            .await
            .map_err(|e| format!("cannot read {url}: {e}"))?;
        String::from_utf8(body).map_err(|_| format!("{url} is not UTF-8"))
    }
}

pub async fn refresh_job(
    core: Core,
    check: Duration,
    max_interval: Duration,
    targets: OutboundTargets,
) {
    let fetcher = match HttpMetadata::new(targets) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "metadata refresh job cannot start");
            return;
        }
    };
    let max = time::Duration::try_from(max_interval).unwrap_or(time::Duration::days(1));
    let mut tick = tokio::time::interval(check);
    loop {
        tick.tick().await;
        let run = core.refresh_due_metadata(&fetcher, max).await;
        if run != Default::default() {
            tracing::info!(
                refreshed = run.refreshed,
                certificates_changed = run.certificates_changed,
                failed = run.failed,
                "federation metadata refresh"
            );
        }
    }
}
