//! Outbound provisioning (issue 6, SCIM-2): an application's settings, its cycles (initial,
//! then incremental from the store's change log), on-demand pushes, and the scheduler tick.
//!
//! Restart safety: a cycle holds a lease on its job, renewed while it works; the running
//! cycle is kept in the job's state, so when a node dies the lease expires and the next
//! tick (on any node) resumes the cycle from its start. Every object's sync is idempotent
//! (compare with what was last sent, match before create), so resuming creates no duplicates.

mod engine;
pub mod mapping;
pub mod target;

use crate::{Core, CoreError, CoreResult};
use engine::{Done, Run, Work};
use serde::{Deserialize, Serialize};
use sesame_model::*;
use sesame_store::StoreError;
use std::sync::Arc;
pub use target::{RetryPolicy, ScimCall, ScimReply, ScimTransport};
use target::{ScimMethod, TargetClient};
use utoipa::ToSchema;

/// Engine settings operators rarely change (tests shorten them).
#[derive(Debug, Clone)]
pub struct ProvisioningSettings {
    pub retry: RetryPolicy,
    /// How long a node holds a job without renewing; another node resumes after it.
    pub lease: time::Duration,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        ProvisioningSettings {
            retry: RetryPolicy::default(),
            lease: time::Duration::seconds(60),
        }
    }
}

/// What `PUT …/apps/{app}/provisioning` takes; omitted fields keep their value (or default).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisioningInput {
    /// The target's SCIM base URL ("Tenant URL").
    pub tenant_url: Option<String>,
    /// The target's bearer token ("Secret Token"); required the first time.
    pub token: Option<String>,
    pub scope: Option<ProvisioningScope>,
    pub profile: Option<TargetProfile>,
    pub mappings: Option<Vec<ProvisioningMapping>>,
    pub matching_attribute: Option<String>,
    pub push_groups: Option<bool>,
    pub on_unassign: Option<DeprovisionAction>,
    pub interval_secs: Option<u64>,
    pub concurrency: Option<u32>,
    pub rate_limit: Option<u32>,
}

/// One check of "test connection".
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    pub request: String,
    pub status: Option<u16>,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    pub ok: bool,
    pub checks: Vec<ConnectionCheck>,
}

/// Failed cycles in a row that put a job in quarantine.
const QUARANTINE_AFTER: u32 = 3;
/// How often a quarantined job is tried again on its own.
const QUARANTINE_RETRY: time::Duration = time::Duration::hours(24);

fn seal_label(tenant: TenantId, app: AppId) -> String {
    format!("provisioning-token:{tenant}:{app}")
}

fn check_url(url: &str) -> CoreResult<String> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|_| CoreError::invalid("tenantUrl", "must be an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(CoreError::invalid(
            "tenantUrl",
            "must be an absolute http(s) URL",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(CoreError::invalid(
            "tenantUrl",
            "must not carry a query or a fragment",
        ));
    }
    Ok(url.trim().trim_end_matches('/').to_owned())
}

fn validate(config: &ProvisioningConfig) -> CoreResult<()> {
    if config.mappings.is_empty() {
        return Err(CoreError::invalid(
            "mappings",
            "at least one mapping is needed",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for m in &config.mappings {
        if mapping::TargetPath::parse(&m.target).is_none() {
            return Err(CoreError::invalid(
                "mappings",
                format!(
                    "{:?} is not a supported target path (attr, attr.sub, attr[type eq \"x\"].sub, or an extension URN)",
                    m.target
                ),
            ));
        }
        if !seen.insert(m.target.to_ascii_lowercase()) {
            return Err(CoreError::invalid(
                "mappings",
                format!("{} is mapped twice", m.target),
            ));
        }
    }
    let matching = config
        .mappings
        .iter()
        .find(|m| m.target == config.matching_attribute);
    match matching {
        Some(m) if !matches!(m.source, ProvisioningSource::AccountEnabled) => {}
        _ => {
            return Err(CoreError::invalid(
                "matchingAttribute",
                "must be the target of a mapping with a text source",
            ));
        }
    }
    if !config.mappings.iter().any(|m| m.target == "userName") {
        return Err(CoreError::invalid(
            "mappings",
            "userName must be mapped (RFC 7643 §4.1.1 requires it)",
        ));
    }
    if !(10..=7 * 86_400).contains(&config.interval_secs) {
        return Err(CoreError::invalid(
            "intervalSecs",
            "must be between 10 seconds and 7 days",
        ));
    }
    if !(1..=32).contains(&config.concurrency) {
        return Err(CoreError::invalid(
            "concurrency",
            "must be between 1 and 32",
        ));
    }
    if config.rate_limit > 10_000 {
        return Err(CoreError::invalid(
            "rateLimit",
            "must be at most 10000 requests per second (0: unlimited)",
        ));
    }
    Ok(())
}

/// The job as clients see it: everything but the sealed token.
pub fn public_view(mut job: ProvisioningJob) -> ProvisioningJob {
    job.config.sealed_token.clear();
    job.state.lease_owner = None;
    job
}

fn aborted_to_none<T>(r: Result<T, StoreError>) -> CoreResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Aborted(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Core {
    /// The HTTP side of provisioning, provided by the binary.
    pub fn with_scim_transport(mut self, transport: Arc<dyn ScimTransport>) -> Self {
        self.scim_transport = Some(transport);
        self
    }

    /// Creates or changes the app's provisioning settings; the engine state is kept.
    pub async fn configure_provisioning(
        &self,
        tenant: TenantId,
        app: AppId,
        input: ProvisioningInput,
    ) -> CoreResult<ProvisioningJob> {
        self.store.get_app(tenant, app).await?;
        let existing = match self.store.get_provisioning_job(tenant, app).await {
            Ok(j) => Some(j),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let sealed_token = match (&input.token, &existing) {
            (Some(t), _) if t.trim().is_empty() => {
                return Err(CoreError::invalid("token", "must not be empty"));
            }
            (Some(t), _) if t.len() > 8192 => {
                return Err(CoreError::invalid(
                    "token",
                    "is longer than 8192 characters",
                ));
            }
            (Some(t), _) => self
                .master_key()?
                .seal(&seal_label(tenant, app), t.trim().as_bytes())?,
            (None, Some(j)) => j.config.sealed_token.clone(),
            (None, None) => {
                return Err(CoreError::invalid(
                    "token",
                    "the target's secret token is required",
                ));
            }
        };
        let base = existing.as_ref().map(|j| j.config.clone());
        let profile = input
            .profile
            .or(base.as_ref().map(|b| b.profile))
            .unwrap_or_default();
        let tenant_url = match (&input.tenant_url, &base) {
            (Some(u), _) => check_url(u)?,
            (None, Some(b)) => b.tenant_url.clone(),
            (None, None) => return Err(CoreError::invalid("tenantUrl", "is required")),
        };
        let config = ProvisioningConfig {
            tenant_url,
            sealed_token,
            scope: input
                .scope
                .or(base.as_ref().map(|b| b.scope))
                .unwrap_or_default(),
            profile,
            mappings: input
                .mappings
                .or(base.as_ref().map(|b| b.mappings.clone()))
                .unwrap_or_else(|| ProvisioningConfig::default_mappings(profile)),
            matching_attribute: input
                .matching_attribute
                .or(base.as_ref().map(|b| b.matching_attribute.clone()))
                .unwrap_or_else(|| "userName".into()),
            push_groups: input
                .push_groups
                .or(base.as_ref().map(|b| b.push_groups))
                .unwrap_or(true),
            on_unassign: input
                .on_unassign
                .or(base.as_ref().map(|b| b.on_unassign))
                .unwrap_or_default(),
            interval_secs: input
                .interval_secs
                .or(base.as_ref().map(|b| b.interval_secs))
                .unwrap_or(ProvisioningConfig::DEFAULT_INTERVAL_SECS),
            concurrency: input
                .concurrency
                .or(base.as_ref().map(|b| b.concurrency))
                .unwrap_or(4),
            rate_limit: input
                .rate_limit
                .or(base.as_ref().map(|b| b.rate_limit))
                .unwrap_or(0),
            paused: base.as_ref().is_some_and(|b| b.paused),
        };
        validate(&config)?;
        let job = match existing {
            None => {
                let job = ProvisioningJob {
                    tenant_id: tenant,
                    app_id: app,
                    config,
                    state: ProvisioningState::default(),
                };
                self.store.create_provisioning_job(&job).await?;
                job
            }
            Some(_) => {
                self.store
                    .update_provisioning_job(
                        tenant,
                        app,
                        Box::new(move |j| {
                            j.config = config;
                            Ok(())
                        }),
                    )
                    .await?
            }
        };
        Ok(job)
    }

    pub async fn get_provisioning(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<ProvisioningJob> {
        Ok(self.store.get_provisioning_job(tenant, app).await?)
    }

    /// Stops provisioning the app (what was provisioned stays at the target).
    pub async fn delete_provisioning(&self, tenant: TenantId, app: AppId) -> CoreResult<()> {
        Ok(self.store.delete_provisioning_job(tenant, app).await?)
    }

    /// Pauses (`true`) or resumes scheduled cycles; resuming also lifts a quarantine.
    pub async fn pause_provisioning(
        &self,
        tenant: TenantId,
        app: AppId,
        paused: bool,
    ) -> CoreResult<ProvisioningJob> {
        Ok(self
            .store
            .update_provisioning_job(
                tenant,
                app,
                Box::new(move |j| {
                    j.config.paused = paused;
                    if !paused {
                        j.state.status = ProvisioningStatus::Active;
                        j.state.consecutive_failures = 0;
                        j.state.next_run_at = None;
                    }
                    Ok(())
                }),
            )
            .await?)
    }

    /// Forgets the cursor: the next cycle is an initial one (objects already provisioned are
    /// matched, not created again). Refused while a cycle runs.
    pub async fn reset_provisioning(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<ProvisioningJob> {
        let now = self.now();
        let r = self
            .store
            .update_provisioning_job(
                tenant,
                app,
                Box::new(move |j| {
                    if j.state.lease_until.is_some_and(|u| u > now) {
                        return Err(StoreError::Aborted(
                            "a cycle is running; reset once it ends".into(),
                        ));
                    }
                    j.state = ProvisioningState {
                        last_cycle: j.state.last_cycle.take(),
                        ..ProvisioningState::default()
                    };
                    Ok(())
                }),
            )
            .await;
        match r {
            Ok(j) => Ok(j),
            Err(StoreError::Aborted(m)) => Err(CoreError::invalid("provisioning", m)),
            Err(e) => Err(e.into()),
        }
    }

    /// Asks for a cycle now (it runs on the next scheduler tick, even when quarantined).
    pub async fn request_provisioning_run(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<ProvisioningJob> {
        Ok(self
            .store
            .update_provisioning_job(
                tenant,
                app,
                Box::new(|j| {
                    j.state.run_requested = true;
                    Ok(())
                }),
            )
            .await?)
    }

    pub async fn provisioning_log(
        &self,
        tenant: TenantId,
        app: AppId,
        query: &ProvisioningLogQuery,
        page: &PageRequest,
    ) -> CoreResult<Page<ProvisioningLogEntry>> {
        self.store.get_provisioning_job(tenant, app).await?;
        Ok(self
            .store
            .list_provisioning_log(tenant, app, query, page)
            .await?)
    }

    fn target_client(&self, job: &ProvisioningJob) -> CoreResult<TargetClient> {
        let transport = self
            .scim_transport
            .clone()
            .ok_or_else(|| CoreError::Internal("no SCIM transport is configured".into()))?;
        let token = self.master_key()?.open(
            &seal_label(job.tenant_id, job.app_id),
            &job.config.sealed_token,
        )?;
        let token = String::from_utf8(token)
            .map_err(|_| CoreError::Internal("sealed provisioning token is not text".into()))?;
        Ok(TargetClient::new(
            transport,
            &job.config.tenant_url,
            token,
            job.config.rate_limit,
            self.settings.provisioning.retry.clone(),
        ))
    }

    /// "Test connection": the target's ServiceProviderConfig and a filtered user query.
    pub async fn test_provisioning(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<ConnectionReport> {
        let job = self.store.get_provisioning_job(tenant, app).await?;
        let client = self.target_client(&job)?;
        let filter = mapping::eq_filter(&job.config.matching_attribute, "sesame-connection-test");
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter", &filter)
            .append_pair("count", "1")
            .finish();
        let mut checks = Vec::new();
        for path in [
            "/ServiceProviderConfig".to_owned(),
            format!("/Users?{query}"),
        ] {
            let ex = client.call(ScimMethod::Get, &path, None).await;
            let (ok, detail) = match &ex.reply {
                Ok(r) if r.is_success() => (true, "ok".to_owned()),
                Ok(r) => (false, r.detail()),
                Err(e) => (false, e.clone()),
            };
            checks.push(ConnectionCheck {
                request: ex.request.clone(),
                status: ex.status(),
                ok,
                detail,
            });
        }
        Ok(ConnectionReport {
            ok: checks.iter().all(|c| c.ok),
            checks,
        })
    }

    /// Provisions one user now ("provision on demand"), outside any cycle; returns what it
    /// logged.
    pub async fn provision_user_now(
        &self,
        tenant: TenantId,
        app: AppId,
        user: UserId,
    ) -> CoreResult<Vec<ProvisioningLogEntry>> {
        let job = self.store.get_provisioning_job(tenant, app).await?;
        self.store.get_user(tenant, user).await?;
        let client = self.target_client(&job)?;
        let since = self.new_uuid();
        let run = Run::new(self.clone(), job, client, None);
        run.sync_user(user.0).await?;
        let page = self
            .store
            .list_provisioning_log(
                tenant,
                app,
                &ProvisioningLogQuery {
                    source_id: Some(user.0),
                    ..Default::default()
                },
                &PageRequest::new(Some(10), None),
            )
            .await?;
        Ok(page.items.into_iter().filter(|e| e.id > since).collect())
    }

    /// Whether the scheduler should try this job now (the claim re-checks in a transaction).
    fn provisioning_due(&self, j: &ProvisioningJob, now: time::OffsetDateTime) -> bool {
        if j.state.lease_until.is_some_and(|u| u > now) {
            return false;
        }
        if j.state.run_requested {
            return true;
        }
        if j.config.paused {
            return false;
        }
        j.state.running.is_some() || j.state.next_run_at.is_none_or(|t| t <= now)
    }

    /// One scheduler tick: starts the cycles that are due, each in its own task. Returns how
    /// many were started.
    pub async fn provisioning_tick(&self) -> CoreResult<usize> {
        if self.scim_transport.is_none() {
            return Ok(0);
        }
        let now = self.now();
        let mut started = 0;
        for job in self.store.list_provisioning_jobs().await? {
            if !self.provisioning_due(&job, now) {
                continue;
            }
            started += 1;
            let core = self.clone();
            tokio::spawn(async move {
                if let Err(e) = core.run_provisioning_cycle(job.tenant_id, job.app_id).await {
                    tracing::error!(app = %job.app_id, error = %e, "provisioning cycle failed");
                }
            });
        }
        Ok(started)
    }

    /// Claims the job (lease) and starts or resumes its cycle. `None` when it is not due or
    /// another node holds it.
    async fn claim_cycle(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<Option<ProvisioningJob>> {
        let now = self.now();
        let head = self.store.latest_change_seq(tenant).await?;
        let node = self.node_id.to_string();
        let lease = self.settings.provisioning.lease;
        let cycle_id = self.new_uuid();
        let this = self.clone();
        let r = self
            .store
            .update_provisioning_job(
                tenant,
                app,
                Box::new(move |j| {
                    if !this.provisioning_due(j, now) {
                        return Err(StoreError::Aborted(String::new()));
                    }
                    j.state.lease_owner = Some(node);
                    j.state.lease_until = Some(now + lease);
                    j.state.run_requested = false;
                    match &mut j.state.running {
                        // A cycle a dead node left: run it again from its start.
                        Some(c) => {
                            c.processed = 0;
                            c.counts = CycleCounts::default();
                        }
                        None => {
                            j.state.running = Some(ProvisioningCycle {
                                id: cycle_id,
                                kind: if j.state.initial_done {
                                    CycleKind::Incremental
                                } else {
                                    CycleKind::Initial
                                },
                                started_at: now,
                                finished_at: None,
                                total: 0,
                                processed: 0,
                                counts: CycleCounts::default(),
                                change_seq: head,
                                error: None,
                            });
                        }
                    }
                    Ok(())
                }),
            )
            .await;
        aborted_to_none(r)
    }

    /// Extends this node's lease; `false` when it was lost to another node.
    async fn renew_lease(&self, tenant: TenantId, app: AppId) -> CoreResult<bool> {
        let now = self.now();
        let node = self.node_id.to_string();
        let lease = self.settings.provisioning.lease;
        let r = self
            .store
            .update_provisioning_job(
                tenant,
                app,
                Box::new(move |j| {
                    if j.state.lease_owner.as_deref() != Some(node.as_str()) {
                        return Err(StoreError::Aborted(String::new()));
                    }
                    j.state.lease_until = Some(now + lease);
                    Ok(())
                }),
            )
            .await;
        Ok(aborted_to_none(r)?.is_some())
    }

    /// Saves progress and renews the lease; `false` when the lease was lost to another node.
    async fn save_progress(
        &self,
        tenant: TenantId,
        app: AppId,
        cycle: &ProvisioningCycle,
    ) -> CoreResult<bool> {
        let now = self.now();
        let node = self.node_id.to_string();
        let lease = self.settings.provisioning.lease;
        let cycle = cycle.clone();
        let r = self
            .store
            .update_provisioning_job(
                tenant,
                app,
                Box::new(move |j| {
                    if j.state.lease_owner.as_deref() != Some(node.as_str()) {
                        return Err(StoreError::Aborted(String::new()));
                    }
                    j.state.lease_until = Some(now + lease);
                    j.state.running = Some(cycle);
                    Ok(())
                }),
            )
            .await;
        Ok(aborted_to_none(r)?.is_some())
    }

    /// Runs one cycle of the app if it is due and free. Returns the finished cycle.
    pub async fn run_provisioning_cycle(
        &self,
        tenant: TenantId,
        app: AppId,
    ) -> CoreResult<Option<ProvisioningCycle>> {
        // One cycle per app in this process, whatever the lease says.
        let Some(_running) = RunningGuard::enter(&self.running_cycles, app) else {
            return Ok(None);
        };
        let Some(job) = self.claim_cycle(tenant, app).await? else {
            return Ok(None);
        };
        let Some(mut cycle) = job.state.running.clone() else {
            return Ok(None);
        };
        // The lease is renewed on a timer too, so that a slow target (long Retry-After waits)
        // never lets it lapse while the cycle still works.
        let heartbeat = tokio::spawn({
            let core = self.clone();
            let every = std::time::Duration::try_from(self.settings.provisioning.lease / 3)
                .unwrap_or(std::time::Duration::from_secs(20));
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    if !core.renew_lease(tenant, app).await.unwrap_or(false) {
                        return;
                    }
                }
            }
        });
        let outcome = self.cycle_body(&job, &mut cycle).await;
        heartbeat.abort();
        if let Err(e) = &outcome {
            cycle.error = Some(format!("the cycle stopped: {e}"));
        }
        let finished = self.finish_cycle(&job, cycle).await?;
        outcome.map(|_| finished)
    }

    async fn cycle_body(
        &self,
        job: &ProvisioningJob,
        cycle: &mut ProvisioningCycle,
    ) -> CoreResult<()> {
        let (tenant, app) = (job.tenant_id, job.app_id);
        let client = self.target_client(job)?;
        let run = Arc::new(Run::new(self.clone(), job.clone(), client, Some(cycle.id)));
        let Work { users, groups } = match cycle.kind {
            CycleKind::Initial => engine::full_work(self, job).await?,
            CycleKind::Incremental => {
                engine::changed_work(self, job, job.state.change_cursor, cycle.change_seq).await?
            }
        };
        cycle.total = (users.len() + groups.len()) as u64;
        tracing::info!(%app, kind = ?cycle.kind, users = users.len(), groups = groups.len(), "provisioning cycle started");
        if !self.save_progress(tenant, app, cycle).await? {
            return Err(CoreError::Internal(
                "the job was taken over by another node".into(),
            ));
        }
        let concurrency = job.config.concurrency.max(1) as usize;
        let mut tasks = tokio::task::JoinSet::new();
        let mut last_save = self.now();
        let mut pending = users.into_iter();
        loop {
            while tasks.len() < concurrency && run.aborted().is_none() {
                let Some(id) = pending.next() else { break };
                let run = run.clone();
                tasks.spawn(async move { run.sync_user(id).await });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let done =
                joined.map_err(|e| CoreError::Internal(format!("provisioning task: {e}")))??;
            tally(cycle, done);
            if self.now() - last_save >= time::Duration::SECOND {
                last_save = self.now();
                if !self.save_progress(tenant, app, cycle).await? {
                    return Err(CoreError::Internal(
                        "the job was taken over by another node".into(),
                    ));
                }
            }
        }
        for id in groups {
            if run.aborted().is_some() {
                break;
            }
            tally(cycle, run.sync_group(id).await?);
            if self.now() - last_save >= time::Duration::SECOND {
                last_save = self.now();
                self.save_progress(tenant, app, cycle).await?;
            }
        }
        cycle.error = run.aborted();
        Ok(())
    }

    /// Ends the cycle: on success the cursor moves on; a failed one counts towards quarantine.
    async fn finish_cycle(
        &self,
        job: &ProvisioningJob,
        mut cycle: ProvisioningCycle,
    ) -> CoreResult<Option<ProvisioningCycle>> {
        let now = self.now();
        cycle.finished_at = Some(now);
        let node = self.node_id.to_string();
        let finished = cycle.clone();
        let r = self
            .store
            .update_provisioning_job(
                job.tenant_id,
                job.app_id,
                Box::new(move |j| {
                    if j.state.lease_owner.as_deref() != Some(node.as_str()) {
                        return Err(StoreError::Aborted(String::new()));
                    }
                    let interval = time::Duration::seconds(
                        i64::try_from(j.config.interval_secs).unwrap_or(i64::MAX / 4),
                    );
                    match &cycle.error {
                        None => {
                            j.state.change_cursor = cycle.change_seq;
                            j.state.initial_done = true;
                            j.state.consecutive_failures = 0;
                            j.state.status = ProvisioningStatus::Active;
                            j.state.next_run_at = Some(now + interval);
                        }
                        Some(reason) => {
                            j.state.consecutive_failures += 1;
                            if j.state.consecutive_failures >= QUARANTINE_AFTER {
                                j.state.status = ProvisioningStatus::Quarantined {
                                    reason: reason.clone(),
                                };
                                j.state.next_run_at = Some(now + QUARANTINE_RETRY);
                            } else {
                                j.state.next_run_at = Some(now + interval);
                            }
                        }
                    }
                    j.state.running = None;
                    j.state.last_cycle = Some(cycle);
                    j.state.lease_owner = None;
                    j.state.lease_until = None;
                    Ok(())
                }),
            )
            .await;
        let saved = aborted_to_none(r)?;
        if let Some(j) = &saved {
            tracing::info!(app = %job.app_id, counts = ?finished.counts, error = ?finished.error,
                status = ?j.state.status, "provisioning cycle finished");
        }
        Ok(saved.map(|_| finished))
    }

    /// Forgets change-log entries every job has consumed (housekeeping); tenants without
    /// jobs keep none (a new job starts with an initial cycle).
    pub async fn purge_change_log(&self) -> CoreResult<u64> {
        let jobs = self.store.list_provisioning_jobs().await?;
        let mut purged = 0;
        let mut after = None;
        loop {
            let page = self
                .store
                .list_tenants(&PageRequest::new(Some(PageRequest::MAX_LIMIT), after))
                .await?;
            for t in &page.items {
                let mine: Vec<&ProvisioningJob> =
                    jobs.iter().filter(|j| j.tenant_id == t.id).collect();
                let keep_after = if mine.is_empty() {
                    self.store.latest_change_seq(t.id).await?
                } else {
                    mine.iter()
                        .map(|j| {
                            if j.state.initial_done {
                                j.state.change_cursor
                            } else {
                                0
                            }
                        })
                        .min()
                        .unwrap_or(0)
                };
                purged += self.store.purge_changes(t.id, keep_after).await?;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(purged),
            }
        }
    }
}

/// Marks an app's cycle as running in this process until dropped.
struct RunningGuard {
    set: Arc<std::sync::Mutex<std::collections::HashSet<AppId>>>,
    app: AppId,
}

impl RunningGuard {
    fn enter(
        set: &Arc<std::sync::Mutex<std::collections::HashSet<AppId>>>,
        app: AppId,
    ) -> Option<Self> {
        let mut running = set.lock().ok()?;
        running.insert(app).then(|| RunningGuard {
            set: set.clone(),
            app,
        })
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if let Ok(mut running) = self.set.lock() {
            running.remove(&self.app);
        }
    }
}

fn tally(cycle: &mut ProvisioningCycle, done: Done) {
    cycle.processed += 1;
    let c = &mut cycle.counts;
    match done {
        Done::Created => c.created += 1,
        Done::Updated => c.updated += 1,
        Done::Disabled => c.disabled += 1,
        Done::Deleted => c.deleted += 1,
        Done::Unchanged => c.unchanged += 1,
        Done::Failed => c.failed += 1,
    }
}
