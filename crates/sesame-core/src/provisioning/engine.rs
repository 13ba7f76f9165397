//! The provisioning engine: one cycle of one app, and the on-demand push of one user.
//!
//! A cycle reads what to look at (initial: everything in scope and everything provisioned;
//! incremental: what the change log names since the cursor), compares each object's desired
//! state with what was last sent, and sends only the difference. Before creating, it looks
//! for an existing account by the matching attribute, so a cycle re-run after a crash (the
//! target created the account but we never recorded it) adopts instead of duplicating.

use super::mapping::{self, Flat, TargetPath};
use super::target::{Exchange, ScimMethod, TargetClient};
use crate::{Core, CoreResult};
use serde_json::Value;
use sesame_model::*;
use sesame_store::StoreError;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use uuid::Uuid;

/// What one object's sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    Created,
    Updated,
    Disabled,
    Deleted,
    Unchanged,
    Failed,
}

/// One cycle's (or one on-demand push's) working set.
pub(crate) struct Run {
    pub core: Core,
    pub job: ProvisioningJob,
    pub client: TargetClient,
    pub cycle_id: Option<Uuid>,
    /// Failures of the target itself (unreachable, token refused, 5xx) in a row.
    systemic: AtomicU32,
    abort: std::sync::Mutex<Option<String>>,
}

/// Systemic failures in a row after which a cycle stops: the target is down or refuses us.
const ABORT_AFTER: u32 = 5;

fn flat_value(flat: &Flat) -> Value {
    Value::Object(flat.clone().into_iter().collect())
}

fn flat_of(value: &Value) -> Flat {
    value
        .as_object()
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default()
}

/// The values `mappings` target, read back from a resource the target returned.
fn flat_from_resource(resource: &Value, mappings: &[ProvisioningMapping]) -> Flat {
    let mut flat = Flat::new();
    for m in mappings {
        let got = match TargetPath::parse(&m.target) {
            Some(TargetPath::Simple { attr, sub }) => {
                let v = resource.get(&attr);
                match sub {
                    Some(s) => v.and_then(|v| v.get(&s)),
                    None => v,
                }
            }
            Some(TargetPath::Filtered {
                attr,
                key,
                value,
                sub,
            }) => resource
                .get(&attr)
                .and_then(Value::as_array)
                .and_then(|items| {
                    items
                        .iter()
                        .find(|i| i.get(&key).and_then(Value::as_str) == Some(value.as_str()))
                })
                .and_then(|i| i.get(&sub)),
            Some(TargetPath::Extension { urn, attr, sub }) => {
                let v = resource.get(&urn).and_then(|e| e.get(&attr));
                match sub {
                    Some(s) => v.and_then(|v| v.get(&s)),
                    None => v,
                }
            }
            None => None,
        };
        if let Some(v) = got.filter(|v| !v.is_null()) {
            flat.insert(m.target.clone(), v.clone());
        }
    }
    flat
}

fn first_resource(ex: &Exchange) -> Option<Option<Value>> {
    let reply = ex.reply.as_ref().ok().filter(|r| r.is_success())?;
    let resources = reply.body.as_ref()?.get("Resources");
    Some(
        resources
            .and_then(Value::as_array)
            .and_then(|r| r.first().cloned()),
    )
}

fn created_id(ex: &Exchange) -> Option<String> {
    let reply = ex.reply.as_ref().ok().filter(|r| r.is_success())?;
    reply.body.as_ref()?.get("id")?.as_str().map(str::to_owned)
}

fn failure_reason(ex: &Exchange) -> String {
    match &ex.reply {
        Ok(r) => format!("{} answered {}", ex.request, r.detail()),
        Err(e) => format!("{} failed: {e}", ex.request),
    }
}

fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

impl Run {
    pub fn new(
        core: Core,
        job: ProvisioningJob,
        client: TargetClient,
        cycle: Option<Uuid>,
    ) -> Self {
        Run {
            core,
            job,
            client,
            cycle_id: cycle,
            systemic: AtomicU32::new(0),
            abort: std::sync::Mutex::new(None),
        }
    }

    pub fn aborted(&self) -> Option<String> {
        self.abort.lock().ok().and_then(|a| a.clone())
    }

    async fn send(&self, method: ScimMethod, path: &str, body: Option<Value>) -> Exchange {
        let ex = self.client.call(method, path, body).await;
        let systemic = match &ex.reply {
            Ok(r) => matches!(r.status, 401 | 403) || r.status >= 500,
            Err(_) => true,
        };
        if systemic {
            let n = self.systemic.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= ABORT_AFTER
                && let Ok(mut a) = self.abort.lock()
                && a.is_none()
            {
                *a = Some(format!(
                    "the target failed {n} requests in a row; last: {}",
                    failure_reason(&ex)
                ));
            }
        } else {
            self.systemic.store(0, Ordering::SeqCst);
        }
        ex
    }

    async fn log(
        &self,
        (kind, source, display): (ProvisionedKind, Uuid, &str),
        action: ProvisioningAction,
        result: ProvisioningResult,
        ex: Option<&Exchange>,
        reason: Option<String>,
    ) -> CoreResult<ProvisioningLogEntry> {
        let entry = ProvisioningLogEntry {
            id: self.core.new_uuid(),
            tenant_id: self.job.tenant_id,
            app_id: self.job.app_id,
            cycle_id: self.cycle_id,
            at: self.core.now(),
            kind,
            source_id: source,
            display: display.to_owned(),
            action,
            result,
            request: ex.map(|e| e.request.clone()),
            status_code: ex.and_then(Exchange::status),
            reason,
        };
        if result == ProvisioningResult::Failure {
            tracing::warn!(app = %self.job.app_id, object = %entry.display, reason = ?entry.reason, "provisioning failed");
        }
        self.core.store.append_provisioning_log(&entry).await?;
        Ok(entry)
    }

    async fn fail(
        &self,
        (kind, source, display): (ProvisionedKind, Uuid, &str),
        action: ProvisioningAction,
        ex: Option<&Exchange>,
        reason: String,
    ) -> CoreResult<Done> {
        self.log(
            (kind, source, display),
            action,
            ProvisioningResult::Failure,
            ex,
            Some(reason),
        )
        .await?;
        Ok(Done::Failed)
    }

    async fn record(
        &self,
        kind: ProvisionedKind,
        source: Uuid,
        target_id: &str,
        sent: &Flat,
        active: bool,
    ) -> CoreResult<()> {
        let object = ProvisionedObject {
            tenant_id: self.job.tenant_id,
            app_id: self.job.app_id,
            kind,
            source_id: source,
            target_id: target_id.to_owned(),
            sent: flat_value(sent),
            active,
            updated_at: self.core.now(),
        };
        self.core.store.put_provisioned(&object).await?;
        Ok(())
    }

    async fn user_in_scope(&self, user: &User) -> CoreResult<bool> {
        Ok(match self.job.config.scope {
            ProvisioningScope::AllUsers => true,
            ProvisioningScope::AssignedOnly => {
                self.core
                    .is_assigned(self.job.tenant_id, self.job.app_id, user.id)
                    .await?
            }
        })
    }

    /// Brings one user at the target in line with the directory.
    pub async fn sync_user(&self, id: Uuid) -> CoreResult<Done> {
        let (tenant, app) = (self.job.tenant_id, self.job.app_id);
        let known = self
            .core
            .store
            .get_provisioned(tenant, app, ProvisionedKind::User, id)
            .await?;
        let user = match self.core.store.get_user(tenant, UserId(id)).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let in_scope = match &user {
            Some(u) => self.user_in_scope(u).await?,
            None => false,
        };
        let display = user
            .as_ref()
            .map(|u| u.user_principal_name.clone())
            .or_else(|| {
                known.as_ref().and_then(|k| {
                    k.sent
                        .get(&self.job.config.matching_attribute)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            })
            .unwrap_or_else(|| id.to_string());
        let (Some(user), true) = (user, in_scope) else {
            return match known {
                Some(k) => self.deprovision_user(k, &display).await,
                None => Ok(Done::Unchanged),
            };
        };
        let desired = match mapping::desired_user(&user, &self.job.config.mappings) {
            Ok(d) => d,
            Err(missing) => {
                let action = if known.is_some() {
                    ProvisioningAction::Update
                } else {
                    ProvisioningAction::Create
                };
                return self
                    .fail(
                        (ProvisionedKind::User, id, &display),
                        action,
                        None,
                        missing.reason(&user.user_principal_name),
                    )
                    .await;
            }
        };
        let active = desired
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if let Some(k) = known {
            let old = flat_of(&k.sent);
            if old == desired {
                return Ok(Done::Unchanged);
            }
            let ops = mapping::user_patch_ops(&old, &desired);
            let ex = self
                .send(
                    ScimMethod::Patch,
                    &format!("/Users/{}", seg(&k.target_id)),
                    Some(mapping::patch_body(ops)),
                )
                .await;
            match ex.status() {
                Some(s) if (200..300).contains(&s) => {
                    self.record(ProvisionedKind::User, id, &k.target_id, &desired, active)
                        .await?;
                    let action = if k.active && !active {
                        ProvisioningAction::Disable
                    } else {
                        ProvisioningAction::Update
                    };
                    self.log(
                        (ProvisionedKind::User, id, &display),
                        action,
                        ProvisioningResult::Success,
                        Some(&ex),
                        None,
                    )
                    .await?;
                    return Ok(if action == ProvisioningAction::Disable {
                        Done::Disabled
                    } else {
                        Done::Updated
                    });
                }
                // The target lost the account: forget it and create it again below.
                Some(404) => {
                    self.core
                        .store
                        .delete_provisioned(tenant, app, ProvisionedKind::User, id)
                        .await?;
                }
                _ => {
                    let reason = failure_reason(&ex);
                    return self
                        .fail(
                            (ProvisionedKind::User, id, &display),
                            ProvisioningAction::Update,
                            Some(&ex),
                            reason,
                        )
                        .await;
                }
            }
        }
        self.create_user(id, &display, &desired, active).await
    }

    /// Adopts the target's account that matches, or creates one.
    async fn create_user(
        &self,
        id: Uuid,
        display: &str,
        desired: &Flat,
        active: bool,
    ) -> CoreResult<Done> {
        let matching = &self.job.config.matching_attribute;
        let Some(key) = desired.get(matching).and_then(Value::as_str) else {
            return self
                .fail(
                    (ProvisionedKind::User, id, display),
                    ProvisioningAction::Create,
                    None,
                    format!("user {display} has no value for the matching attribute {matching}"),
                )
                .await;
        };
        for attempt in 0..2 {
            let filter = mapping::eq_filter(matching, key);
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("filter", &filter)
                .finish();
            let found = self
                .send(ScimMethod::Get, &format!("/Users?{query}"), None)
                .await;
            let existing = match first_resource(&found) {
                Some(r) => r,
                None => {
                    let reason = failure_reason(&found);
                    return self
                        .fail(
                            (ProvisionedKind::User, id, display),
                            ProvisioningAction::Create,
                            Some(&found),
                            reason,
                        )
                        .await;
                }
            };
            if let Some(resource) = existing {
                let Some(target_id) = resource.get("id").and_then(Value::as_str) else {
                    return self
                        .fail(
                            (ProvisionedKind::User, id, display),
                            ProvisioningAction::Create,
                            Some(&found),
                            "the target returned a user without an id".into(),
                        )
                        .await;
                };
                let theirs = flat_from_resource(&resource, &self.job.config.mappings);
                let ops = mapping::user_patch_ops(&theirs, desired);
                let ex = if ops.is_empty() {
                    found
                } else {
                    self.send(
                        ScimMethod::Patch,
                        &format!("/Users/{}", seg(target_id)),
                        Some(mapping::patch_body(ops)),
                    )
                    .await
                };
                if !ex.reply.as_ref().is_ok_and(|r| r.is_success()) {
                    let reason = failure_reason(&ex);
                    return self
                        .fail(
                            (ProvisionedKind::User, id, display),
                            ProvisioningAction::Update,
                            Some(&ex),
                            reason,
                        )
                        .await;
                }
                self.record(ProvisionedKind::User, id, target_id, desired, active)
                    .await?;
                self.log(
                    (ProvisionedKind::User, id, display),
                    ProvisioningAction::Update,
                    ProvisioningResult::Success,
                    Some(&ex),
                    Some(format!("matched the existing account by {matching}")),
                )
                .await?;
                return Ok(Done::Updated);
            }
            let ex = self
                .send(
                    ScimMethod::Post,
                    "/Users",
                    Some(mapping::user_resource(desired)),
                )
                .await;
            if let Some(target_id) = created_id(&ex) {
                self.record(ProvisionedKind::User, id, &target_id, desired, active)
                    .await?;
                self.log(
                    (ProvisionedKind::User, id, display),
                    ProvisioningAction::Create,
                    ProvisioningResult::Success,
                    Some(&ex),
                    None,
                )
                .await?;
                return Ok(Done::Created);
            }
            // 409: created meanwhile (another cycle, or the target's own lag): match again.
            if ex.status() == Some(409) && attempt == 0 {
                continue;
            }
            let reason = failure_reason(&ex);
            return self
                .fail(
                    (ProvisionedKind::User, id, display),
                    ProvisioningAction::Create,
                    Some(&ex),
                    reason,
                )
                .await;
        }
        Ok(Done::Failed)
    }

    async fn deprovision_user(&self, known: ProvisionedObject, display: &str) -> CoreResult<Done> {
        let (tenant, app) = (self.job.tenant_id, self.job.app_id);
        let path = format!("/Users/{}", seg(&known.target_id));
        match self.job.config.on_unassign {
            DeprovisionAction::Disable => {
                if !known.active {
                    return Ok(Done::Unchanged);
                }
                let body = mapping::patch_body(vec![
                    serde_json::json!({ "op": "replace", "path": "active", "value": false }),
                ]);
                let ex = self.send(ScimMethod::Patch, &path, Some(body)).await;
                match ex.status() {
                    Some(s) if (200..300).contains(&s) => {
                        let mut sent = flat_of(&known.sent);
                        sent.insert("active".into(), Value::Bool(false));
                        self.record(
                            ProvisionedKind::User,
                            known.source_id,
                            &known.target_id,
                            &sent,
                            false,
                        )
                        .await?;
                    }
                    Some(404) => {
                        self.core
                            .store
                            .delete_provisioned(tenant, app, ProvisionedKind::User, known.source_id)
                            .await?;
                    }
                    _ => {
                        let reason = failure_reason(&ex);
                        return self
                            .fail(
                                (ProvisionedKind::User, known.source_id, display),
                                ProvisioningAction::Disable,
                                Some(&ex),
                                reason,
                            )
                            .await;
                    }
                }
                self.log(
                    (ProvisionedKind::User, known.source_id, display),
                    ProvisioningAction::Disable,
                    ProvisioningResult::Success,
                    Some(&ex),
                    Some("no longer in the provisioning scope".into()),
                )
                .await?;
                Ok(Done::Disabled)
            }
            DeprovisionAction::Delete => {
                let ex = self.send(ScimMethod::Delete, &path, None).await;
                match ex.status() {
                    Some(s) if (200..300).contains(&s) || s == 404 => {
                        self.core
                            .store
                            .delete_provisioned(tenant, app, ProvisionedKind::User, known.source_id)
                            .await?;
                        self.log(
                            (ProvisionedKind::User, known.source_id, display),
                            ProvisioningAction::Delete,
                            ProvisioningResult::Success,
                            Some(&ex),
                            Some("no longer in the provisioning scope".into()),
                        )
                        .await?;
                        Ok(Done::Deleted)
                    }
                    _ => {
                        let reason = failure_reason(&ex);
                        self.fail(
                            (ProvisionedKind::User, known.source_id, display),
                            ProvisioningAction::Delete,
                            Some(&ex),
                            reason,
                        )
                        .await
                    }
                }
            }
        }
    }

    async fn group_assigned(&self, group: GroupId) -> CoreResult<bool> {
        let assignments = self
            .core
            .store
            .list_assignments(self.job.tenant_id, self.job.app_id)
            .await?;
        Ok(assignments
            .iter()
            .any(|a| a.principal == Principal::Group(group)))
    }

    /// Target ids of the group's members that are provisioned and active.
    async fn member_target_ids(&self, group: GroupId) -> CoreResult<Vec<String>> {
        let (tenant, app) = (self.job.tenant_id, self.job.app_id);
        let mut out = Vec::new();
        for member in all_members(&self.core, tenant, group).await? {
            if let Some(p) = self
                .core
                .store
                .get_provisioned(tenant, app, ProvisionedKind::User, member.0)
                .await?
                && p.active
            {
                out.push(p.target_id);
            }
        }
        Ok(out)
    }

    /// Brings one group (name and members) at the target in line with the directory.
    pub async fn sync_group(&self, id: Uuid) -> CoreResult<Done> {
        let (tenant, app) = (self.job.tenant_id, self.job.app_id);
        let known = self
            .core
            .store
            .get_provisioned(tenant, app, ProvisionedKind::Group, id)
            .await?;
        let group = match self.core.store.get_group(tenant, GroupId(id)).await {
            Ok(g) => Some(g),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let in_scope = match &group {
            Some(g) => self.job.config.push_groups && self.group_assigned(g.id).await?,
            None => false,
        };
        let display = group
            .as_ref()
            .map(|g| g.display_name.clone())
            .or_else(|| {
                known.as_ref().and_then(|k| {
                    k.sent
                        .get("displayName")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            })
            .unwrap_or_else(|| id.to_string());
        let (Some(group), true) = (group, in_scope) else {
            let Some(k) = known else {
                return Ok(Done::Unchanged);
            };
            let ex = self
                .send(
                    ScimMethod::Delete,
                    &format!("/Groups/{}", seg(&k.target_id)),
                    None,
                )
                .await;
            if !matches!(ex.status(), Some(s) if (200..300).contains(&s) || s == 404) {
                let reason = failure_reason(&ex);
                return self
                    .fail(
                        (ProvisionedKind::Group, id, &display),
                        ProvisioningAction::Delete,
                        Some(&ex),
                        reason,
                    )
                    .await;
            }
            self.core
                .store
                .delete_provisioned(tenant, app, ProvisionedKind::Group, id)
                .await?;
            self.log(
                (ProvisionedKind::Group, id, &display),
                ProvisioningAction::Delete,
                ProvisioningResult::Success,
                Some(&ex),
                Some("no longer assigned to the application".into()),
            )
            .await?;
            return Ok(Done::Deleted);
        };
        let desired = mapping::desired_group(
            &group.display_name,
            &self.member_target_ids(group.id).await?,
        );
        let (target_id, old, created) = match known {
            Some(k) => (k.target_id.clone(), flat_of(&k.sent), false),
            None => match self.find_or_create_group(&group).await? {
                Ok((target_id, old, created)) => (target_id, old, created),
                Err(ex) => {
                    let reason = failure_reason(&ex);
                    return self
                        .fail(
                            (ProvisionedKind::Group, id, &display),
                            ProvisioningAction::Create,
                            Some(&ex),
                            reason,
                        )
                        .await;
                }
            },
        };
        if old == desired {
            return Ok(if created {
                Done::Created
            } else {
                Done::Unchanged
            });
        }
        let mut last = None;
        for body in
            mapping::group_patches(&old, &desired, self.job.config.profile.members_per_patch())
        {
            let ex = self
                .send(
                    ScimMethod::Patch,
                    &format!("/Groups/{}", seg(&target_id)),
                    Some(body),
                )
                .await;
            if !ex.reply.as_ref().is_ok_and(|r| r.is_success()) {
                if ex.status() == Some(404) {
                    // The target lost the group: the next cycle creates it again.
                    self.core
                        .store
                        .delete_provisioned(tenant, app, ProvisionedKind::Group, id)
                        .await?;
                }
                let reason = failure_reason(&ex);
                return self
                    .fail(
                        (ProvisionedKind::Group, id, &display),
                        ProvisioningAction::Update,
                        Some(&ex),
                        reason,
                    )
                    .await;
            }
            last = Some(ex);
        }
        self.record(ProvisionedKind::Group, id, &target_id, &desired, true)
            .await?;
        let action = if created {
            ProvisioningAction::Create
        } else {
            ProvisioningAction::Update
        };
        self.log(
            (ProvisionedKind::Group, id, &display),
            action,
            ProvisioningResult::Success,
            last.as_ref(),
            None,
        )
        .await?;
        Ok(if created {
            Done::Created
        } else {
            Done::Updated
        })
    }

    /// The target's group of that name (adopted), or a new one; recorded at once so that a
    /// crash before its members are sent cannot create it twice.
    async fn find_or_create_group(
        &self,
        group: &Group,
    ) -> CoreResult<Result<(String, Flat, bool), Exchange>> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "filter",
                &mapping::eq_filter("displayName", &group.display_name),
            )
            .finish();
        let found = self
            .send(ScimMethod::Get, &format!("/Groups?{query}"), None)
            .await;
        let (target_id, old, created) = match first_resource(&found) {
            None => return Ok(Err(found)),
            Some(Some(resource)) => {
                let Some(target_id) = resource.get("id").and_then(Value::as_str) else {
                    return Ok(Err(found));
                };
                // Members the target lists (AWS lists none): adding them again is harmless.
                let members: Vec<String> = resource
                    .get("members")
                    .and_then(Value::as_array)
                    .map(|m| {
                        m.iter()
                            .filter_map(|v| v.get("value").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let name = resource
                    .get("displayName")
                    .and_then(Value::as_str)
                    .unwrap_or(&group.display_name);
                (
                    target_id.to_owned(),
                    mapping::desired_group(name, &members),
                    false,
                )
            }
            Some(None) => {
                let ex = self
                    .send(
                        ScimMethod::Post,
                        "/Groups",
                        Some(mapping::group_resource(
                            &group.display_name,
                            &group.id.to_string(),
                        )),
                    )
                    .await;
                let Some(target_id) = created_id(&ex) else {
                    return Ok(Err(ex));
                };
                (
                    target_id,
                    mapping::desired_group(&group.display_name, &[]),
                    true,
                )
            }
        };
        self.record(ProvisionedKind::Group, group.id.0, &target_id, &old, true)
            .await?;
        Ok(Ok((target_id, old, created)))
    }
}

/// Every member of a group, all pages.
pub(crate) async fn all_members(
    core: &Core,
    tenant: TenantId,
    group: GroupId,
) -> CoreResult<Vec<UserId>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = core
            .store
            .list_members(
                tenant,
                group,
                &PageRequest::new(Some(PageRequest::MAX_LIMIT), after),
            )
            .await?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Every provisioned object of `kind`, all pages.
pub(crate) async fn all_provisioned(
    core: &Core,
    job: &ProvisioningJob,
    kind: ProvisionedKind,
) -> CoreResult<BTreeSet<Uuid>> {
    let mut out = BTreeSet::new();
    let mut after = None;
    loop {
        let page = core
            .store
            .list_provisioned(
                job.tenant_id,
                job.app_id,
                kind,
                &PageRequest::new(Some(PageRequest::MAX_LIMIT), after),
            )
            .await?;
        out.extend(page.items.iter().map(|o| o.source_id));
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The objects a cycle looks at: users first, then groups.
pub(crate) struct Work {
    pub users: BTreeSet<Uuid>,
    pub groups: BTreeSet<Uuid>,
}

/// Everything in scope and everything provisioned (an initial cycle).
pub(crate) async fn full_work(core: &Core, job: &ProvisioningJob) -> CoreResult<Work> {
    let tenant = job.tenant_id;
    let mut users = all_provisioned(core, job, ProvisionedKind::User).await?;
    let mut groups = all_provisioned(core, job, ProvisionedKind::Group).await?;
    let assignments = core.store.list_assignments(tenant, job.app_id).await?;
    match job.config.scope {
        ProvisioningScope::AllUsers => {
            let mut after = None;
            loop {
                let page = core
                    .store
                    .list_users(
                        tenant,
                        &PageRequest::new(Some(PageRequest::MAX_LIMIT), after),
                    )
                    .await?;
                users.extend(page.items.iter().map(|u| u.id.0));
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
        }
        ProvisioningScope::AssignedOnly => {
            for a in &assignments {
                match a.principal {
                    Principal::User(u) => {
                        users.insert(u.0);
                    }
                    Principal::Group(g) => {
                        users.extend(all_members(core, tenant, g).await?.iter().map(|u| u.0));
                    }
                }
            }
        }
    }
    if job.config.push_groups {
        groups.extend(assignments.iter().filter_map(|a| match a.principal {
            Principal::Group(g) => Some(g.0),
            Principal::User(_) => None,
        }));
    }
    Ok(Work { users, groups })
}

/// What the change log names after `after` up to `up_to` (an incremental cycle). A changed
/// group brings its members (their scope may have changed with it); a changed user brings
/// the provisioned groups it belongs to (their member lists may need it).
pub(crate) async fn changed_work(
    core: &Core,
    job: &ProvisioningJob,
    after: i64,
    up_to: i64,
) -> CoreResult<Work> {
    let tenant = job.tenant_id;
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let mut cursor = after;
    loop {
        let changes = core
            .store
            .list_changes(tenant, cursor, up_to, 10_000)
            .await?;
        let Some(last) = changes.last() else { break };
        cursor = last.seq;
        for c in changes {
            match c.kind {
                ProvisionedKind::User => users.insert(c.object_id),
                ProvisionedKind::Group => groups.insert(c.object_id),
            };
        }
    }
    for g in groups.clone() {
        match all_members(core, tenant, GroupId(g)).await {
            Ok(members) => users.extend(members.iter().map(|u| u.0)),
            Err(crate::CoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if job.config.push_groups {
        for u in &users {
            for g in core.store.list_user_groups(tenant, UserId(*u)).await? {
                if core
                    .store
                    .get_provisioned(tenant, job.app_id, ProvisionedKind::Group, g.0)
                    .await?
                    .is_some()
                {
                    groups.insert(g.0);
                }
            }
        }
    } else {
        groups.clear();
    }
    Ok(Work { users, groups })
}
