//! The metadata refresh job's logic (issue 5 build point 6, SAML-SP-5): federations with a
//! metadata URL have it re-read when due — at the earliest of `cacheDuration` (at least
//! [`MIN_REFRESH_INTERVAL`]), `validUntil` and the operator's maximum interval (a day by
//! default) — and take the signing certificates it lists. The document must name the same
//! entityID, not be expired, and, when the federation has a metadata signing certificate, carry
//! a valid signature by it (only the signed element is read); a failed refresh keeps the last good certificates, is logged,
//! is recorded in [`MetadataRefresh::last_error`] and is retried after at most an hour. The
//! job itself (the timer) and the HTTP fetch are the binary's ([`MetadataFetcher`]).
//! **Must not touch**: HTTP, SQL, XML (`sesame-saml` reads the metadata).

use async_trait::async_trait;
use sesame_model::{DomainFederation, MetadataRefresh, PageRequest};
use time::{Duration, OffsetDateTime};

use crate::Core;
use crate::federation::{pem_of, read_idp_metadata, trusted_keys};

/// Reads a metadata URL. The binary's implementation bounds size and time.
#[async_trait]
pub trait MetadataFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<String, String>;
}

/// The shortest interval between two reads of one URL, whatever `cacheDuration` says.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::minutes(1);
/// The longest wait before retrying after a failure.
pub const RETRY_AFTER_FAILURE: Duration = Duration::hours(1);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshRun {
    /// Federations whose metadata was read and applied.
    pub refreshed: u32,
    /// Federations whose certificates changed.
    pub certificates_changed: u32,
    /// Federations whose refresh failed (their certificates were kept).
    pub failed: u32,
}

/// When to read again after a successful read at `now`.
#[must_use]
pub fn next_refresh(
    now: OffsetDateTime,
    cache_duration: Option<Duration>,
    valid_until: Option<OffsetDateTime>,
    max_interval: Duration,
) -> OffsetDateTime {
    // The floor never exceeds the operator's maximum (tests and eager operators set it low).
    let floor = MIN_REFRESH_INTERVAL.min(max_interval);
    let mut wait = max_interval;
    if let Some(d) = cache_duration {
        wait = wait.min(d.max(floor));
    }
    let mut at = now + wait;
    if let Some(v) = valid_until {
        at = at.min(v.max(now + floor));
    }
    at
}

/// Only HTTPS, or plain HTTP to this machine: certificates are trusted from this document.
fn url_acceptable(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "https" => true,
        Ok(u) if u.scheme() == "http" => {
            matches!(
                u.host(),
                Some(url::Host::Ipv4(ip)) if ip.is_loopback()
            ) || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
                || u.host_str() == Some("localhost")
        }
        _ => false,
    }
}

impl Core {
    /// Re-reads every due metadata URL of every tenant (domain and direct federations).
    pub async fn refresh_due_metadata(
        &self,
        fetcher: &dyn MetadataFetcher,
        max_interval: Duration,
    ) -> RefreshRun {
        let mut run = RefreshRun::default();
        let mut page = PageRequest {
            limit: PageRequest::MAX_LIMIT,
            after: None,
        };
        loop {
            let tenants = match self.store.list_tenants(&page).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "metadata refresh: cannot list tenants");
                    return run;
                }
            };
            for t in &tenants.items {
                for direct in [false, true] {
                    let all = if direct {
                        self.store.list_direct_federations(t.id).await
                    } else {
                        self.store.list_federations(t.id).await
                    };
                    let all = match all {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, tenant = %t.id, "metadata refresh: cannot list federations");
                            continue;
                        }
                    };
                    for f in all {
                        let due = f.metadata_url.is_some()
                            && f.metadata_refresh.next_at.is_none_or(|n| n <= self.now());
                        if due {
                            self.refresh_one(f, direct, fetcher, max_interval, &mut run)
                                .await;
                        }
                    }
                }
            }
            match tenants.next {
                Some(c) => page.after = Some(c),
                None => return run,
            }
        }
    }

    async fn refresh_one(
        &self,
        mut f: DomainFederation,
        direct: bool,
        fetcher: &dyn MetadataFetcher,
        max_interval: Duration,
        run: &mut RefreshRun,
    ) {
        let Some(url) = f.metadata_url.clone() else {
            return;
        };
        let now = self.now();
        let outcome = self.read_metadata(&f, &url, fetcher, now).await;
        let previous = f.metadata_refresh.clone();
        match outcome {
            Ok((certs, cache, valid_until)) => {
                let changed = certs != f.signing_certificates;
                if changed {
                    tracing::info!(
                        tenant = %f.tenant_id, domain = %f.domain, url = %url,
                        certificates = certs.len(),
                        "federation signing certificates updated from its metadata"
                    );
                    run.certificates_changed += 1;
                }
                f.signing_certificates = certs;
                f.metadata_refresh = MetadataRefresh {
                    last_attempt_at: Some(now),
                    last_success_at: Some(now),
                    last_error: None,
                    next_at: Some(next_refresh(now, cache, valid_until, max_interval)),
                };
                run.refreshed += 1;
            }
            Err(why) => {
                tracing::warn!(
                    tenant = %f.tenant_id, domain = %f.domain, url = %url, error = %why,
                    "federation metadata refresh failed; the last good certificates are kept"
                );
                f.metadata_refresh = MetadataRefresh {
                    last_attempt_at: Some(now),
                    last_success_at: previous.last_success_at,
                    last_error: Some(why),
                    next_at: Some(now + max_interval.min(RETRY_AFTER_FAILURE)),
                };
                run.failed += 1;
            }
        }
        if let Err(e) = self.store.update_federation(&f, direct).await {
            // NotFound: removed meanwhile, and it stays removed. Aborted: an administrator
            // changed it meanwhile (a new URL or metadata signing certificate, say); their
            // settings stand and are read afresh at the next run.
            tracing::warn!(error = %e, tenant = %f.tenant_id, domain = %f.domain, "metadata refresh not saved");
        }
    }

    /// The certificates, cache duration and validity of the document at `url`, or why not.
    async fn read_metadata(
        &self,
        f: &DomainFederation,
        url: &str,
        fetcher: &dyn MetadataFetcher,
        now: OffsetDateTime,
    ) -> Result<(Vec<String>, Option<Duration>, Option<OffsetDateTime>), String> {
        if !url_acceptable(url) {
            return Err("the metadata URL must use https (or http to this machine)".into());
        }
        let xml = fetcher.fetch(url).await?;
        let m = read_idp_metadata(
            &xml,
            f.metadata_signing_certificate.as_deref(),
            f.allow_sha1,
        )?;
        if m.entity_id != f.issuer_uri {
            return Err(format!(
                "the metadata names entityID {:?}, not the federation's issuer {:?}",
                m.entity_id, f.issuer_uri
            ));
        }
        if let Some(v) = m.valid_until
            && v <= now
        {
            return Err(format!("the metadata expired at {v} (validUntil)"));
        }
        let certs: Vec<String> = m.signing_certificates.iter().map(|d| pem_of(d)).collect();
        let candidate = DomainFederation {
            signing_certificates: certs.clone(),
            ..f.clone()
        };
        trusted_keys(&candidate).map_err(|e| format!("unusable certificate: {e}"))?;
        let cache = m
            .cache_duration
            .as_deref()
            .and_then(sesame_saml::sp::parse_xs_duration);
        Ok((certs, cache, m.valid_until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_refresh_honours_cache_duration_valid_until_and_the_maximum() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20000);
        let day = Duration::days(1);
        let check = |cache: Option<Duration>, valid: Option<Duration>, want: Duration| {
            assert_eq!(
                next_refresh(now, cache, valid.map(|v| now + v), day),
                now + want,
                "{cache:?} {valid:?}"
            );
        };
        check(None, None, day);
        check(Some(Duration::hours(2)), None, Duration::hours(2));
        check(Some(Duration::days(7)), None, day);
        check(Some(Duration::seconds(1)), None, MIN_REFRESH_INTERVAL);
        check(None, Some(Duration::hours(3)), Duration::hours(3));
        check(
            Some(Duration::hours(2)),
            Some(Duration::hours(1)),
            Duration::hours(1),
        );
        check(None, Some(Duration::seconds(5)), MIN_REFRESH_INTERVAL);
        // A maximum below the floor wins.
        assert_eq!(
            next_refresh(now, Some(Duration::hours(1)), None, Duration::seconds(1)),
            now + Duration::seconds(1)
        );
    }

    #[test]
    fn only_https_or_loopback_http() {
        for (url, ok) in [
            ("https://idp.example/metadata", true),
            ("http://127.0.0.1:8080/metadata", true),
            ("http://[::1]/metadata", true),
            ("http://localhost/metadata", true),
            ("http://idp.example/metadata", false),
            ("http://127.0.0.1.evil.example/metadata", false),
            ("ftp://idp.example/metadata", false),
            ("not a url", false),
        ] {
            assert_eq!(url_acceptable(url), ok, "{url}");
        }
    }
}
