//! SCIM `Group` resources ↔ directory groups (DIR-3), and the `/Groups` operations.
//!
//! Mapping (RFC 7643 §4.2): `id` = object id, `displayName` = display name (unique per
//! tenant, case-insensitively: 409 `uniqueness`), `members` = the group's users, each as
//! `{value: user id, $ref: …/Users/{id}, display: the user's display name or UPN, type: User}`.
//! Nested groups are not members in Sésame's directory, so a member that is not a user of the
//! tenant is `invalidValue`. `meta.created` and `meta.lastModified` are the group's creation
//! time (the directory keeps no modification time for groups); `meta.version` is its version,
//! bumped by every SCIM change including membership ones.
//!
//! Membership changes are computed as a difference between the members before and after the
//! request (PUT or PATCH), and only the difference is written with `add_member` /
//! `remove_member`: a PATCH adding n members to a group of m costs O(n + m), not O(n × m).

use super::users::rfc3339;
use super::{MAX_ATTEMPTS, STALE, check_if_match, invalid, store_err};
use crate::{Core, CoreError, CoreResult};
use serde_json::{Map, Value, json};
use sesame_model::*;
use sesame_scim::{GROUP_RESOURCE, GROUP_SCHEMA, ScimError};
use sesame_store::StoreError;
use std::collections::HashSet;

/// Key of the members' client-given `display` values in the group's SCIM data.
const MEMBER_DISPLAY: &str = "memberDisplay";

fn group_id(raw: &str) -> CoreResult<GroupId> {
    raw.parse()
        .map_err(|_| ScimError::NotFound(format!("no Group with id {raw:?}")).into())
}

/// What a SCIM Group body sets, validated.
struct GroupFields {
    display_name: String,
    members: Vec<UserId>,
    /// `externalId` and the `display` the client gave members, kept as SCIM data.
    kept: Map<String, Value>,
}

fn parse_group(body: &Value) -> CoreResult<GroupFields> {
    let obj: &Map<String, Value> = body.as_object().ok_or_else(|| {
        CoreError::from(ScimError::InvalidSyntax(
            "a Group must be a JSON object".into(),
        ))
    })?;
    let get = |k: &str| sesame_scim::path::get_ci(obj, k);
    let display_name = match get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(invalid("displayName is required (RFC 7643 §4.2)")),
    };
    check_text("displayName", &display_name, 256).map_err(|e| invalid(e.to_string()))?;
    let mut members = Vec::new();
    let mut displays = Map::new();
    let mut seen = HashSet::new();
    match get("members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for m in items {
                let value = m
                    .as_object()
                    .and_then(|o| sesame_scim::path::get_ci(o, "value"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("each member needs a 'value' (a user id)"))?;
                let id: UserId = value.parse().map_err(|_| {
                    invalid(format!("member {value:?} is not a user of this tenant"))
                })?;
                if seen.insert(id) {
                    members.push(id);
                    if let Some(d) = m
                        .as_object()
                        .and_then(|o| sesame_scim::path::get_ci(o, "display"))
                        .and_then(Value::as_str)
                    {
                        displays.insert(id.to_string(), Value::String(d.to_string()));
                    }
                }
            }
        }
        Some(_) => return Err(invalid("members must be an array")),
    }
    let mut kept = Map::new();
    match get("externalId") {
        None | Some(Value::Null) => {}
        Some(Value::String(x)) if !x.trim().is_empty() => {
            kept.insert("externalId".into(), Value::String(x.trim().to_string()));
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err(invalid("externalId must be a string")),
    }
    if !displays.is_empty() {
        kept.insert(MEMBER_DISPLAY.into(), Value::Object(displays));
    }
    Ok(GroupFields {
        display_name,
        members,
        kept,
    })
}

impl Core {
    /// Every member of a group, in id order.
    async fn all_members(&self, tenant: TenantId, group: GroupId) -> CoreResult<Vec<UserId>> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .list_members(
                    tenant,
                    group,
                    &PageRequest {
                        limit: PageRequest::MAX_LIMIT,
                        after,
                    },
                )
                .await
                .map_err(store_err)?;
            all.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(all),
            }
        }
    }

    /// The SCIM representation of a group with its members.
    pub(super) async fn group_to_scim(&self, group: &Group, base: &str) -> CoreResult<Value> {
        let base = base.trim_end_matches('/');
        let ids = self.all_members(group.tenant_id, group.id).await?;
        let kept = self
            .store
            .get_group_scim_attributes(group.tenant_id, group.id)
            .await
            .map_err(store_err)?
            .unwrap_or_default();
        let given = kept.get(MEMBER_DISPLAY).and_then(Value::as_object);
        let mut members = Vec::with_capacity(ids.len());
        for id in ids {
            let mut m = json!({"value": id.to_string(), "$ref": format!("{base}/Users/{id}"), "type": "User"});
            match self.store.get_user(group.tenant_id, id).await {
                Ok(u) => {
                    let display = match given.and_then(|g| g.get(&id.to_string())) {
                        Some(Value::String(d)) => d.clone(),
                        _ => u.display_name.unwrap_or(u.user_principal_name),
                    };
                    m["display"] = Value::String(display);
                }
                // Deleted meanwhile: its membership went with it.
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(store_err(e)),
            }
            members.push(m);
        }
        let mut o = json!({
            "schemas": [GROUP_SCHEMA],
            "id": group.id.to_string(),
            "displayName": group.display_name,
            "meta": {
                "resourceType": "Group",
                "created": rfc3339(group.created_at),
                "lastModified": rfc3339(group.created_at),
                "location": format!("{base}/Groups/{}", group.id),
                "version": super::etag(group.version),
            },
        });
        if !members.is_empty() {
            o["members"] = Value::Array(members);
        }
        if let Some(x) = kept.get("externalId") {
            o["externalId"] = x.clone();
        }
        Ok(o)
    }

    /// 400 `invalidValue` unless every id is a user of the tenant.
    async fn check_members(&self, tenant: TenantId, ids: &[UserId]) -> CoreResult<()> {
        for id in ids {
            match self.store.get_user(tenant, *id).await {
                Ok(_) => {}
                Err(StoreError::NotFound(_)) => {
                    return Err(invalid(format!("member {id} is not a user of this tenant")));
                }
                Err(e) => return Err(store_err(e)),
            }
        }
        Ok(())
    }

    /// Writes the difference between two member lists (added ones already checked).
    async fn apply_members(
        &self,
        tenant: TenantId,
        group: GroupId,
        before: &[UserId],
        after: &[UserId],
    ) -> CoreResult<()> {
        let old: HashSet<&UserId> = before.iter().collect();
        let new: HashSet<&UserId> = after.iter().collect();
        for u in after.iter().filter(|u| !old.contains(u)).copied() {
            match self.store.add_member(tenant, group, u).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(store_err(e)),
            }
        }
        for u in before.iter().filter(|u| !new.contains(u)) {
            match self.store.remove_member(tenant, group, *u).await {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(store_err(e)),
            }
        }
        Ok(())
    }

    /// `POST /Groups` (RFC 7644 §3.3).
    pub async fn scim_create_group(
        &self,
        tenant: &Tenant,
        base: &str,
        body: &Value,
    ) -> CoreResult<Value> {
        let f = parse_group(body)?;
        self.check_members(tenant.id, &f.members).await?;
        let group = Group {
            id: GroupId(self.new_uuid()),
            tenant_id: tenant.id,
            display_name: f.display_name,
            description: None,
            version: 1,
            created_at: self.now(),
        };
        self.store.create_group(&group).await.map_err(store_err)?;
        self.apply_members(tenant.id, group.id, &[], &f.members)
            .await?;
        self.store
            .put_group_scim_attributes(tenant.id, group.id, &f.kept)
            .await
            .map_err(store_err)?;
        self.group_to_scim(&group, base).await
    }

    /// `GET /Groups/{id}`.
    pub async fn scim_get_group(&self, tenant: &Tenant, base: &str, id: &str) -> CoreResult<Value> {
        let g = self
            .store
            .get_group(tenant.id, group_id(id)?)
            .await
            .map_err(store_err)?;
        self.group_to_scim(&g, base).await
    }

    /// `PUT /Groups/{id}` (RFC 7644 §3.5.1).
    pub async fn scim_replace_group(
        &self,
        tenant: &Tenant,
        base: &str,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> CoreResult<Value> {
        self.scim_modify_group(tenant, base, id, if_match, |_| Ok(Some(body.clone())))
            .await
    }

    /// `PATCH /Groups/{id}` (RFC 7644 §3.5.2), including Entra ID's and Okta's membership
    /// patches (`add members`, `remove members[value eq "…"]`, `replace members`).
    pub async fn scim_patch_group(
        &self,
        tenant: &Tenant,
        base: &str,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> CoreResult<Value> {
        let patch = super::patch_request(body)?;
        self.scim_modify_group(tenant, base, id, if_match, |current| {
            let mut next = current.clone();
            Ok(patch.apply(&mut next, &GROUP_RESOURCE)?.then_some(next))
        })
        .await
    }

    async fn scim_modify_group(
        &self,
        tenant: &Tenant,
        base: &str,
        id: &str,
        if_match: Option<&str>,
        change: impl Fn(&Value) -> CoreResult<Option<Value>>,
    ) -> CoreResult<Value> {
        let id = group_id(id)?;
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .get_group(tenant.id, id)
                .await
                .map_err(store_err)?;
            check_if_match(if_match, current.version)?;
            let rendered = self.group_to_scim(&current, base).await?;
            let Some(next) = change(&rendered)? else {
                return Ok(rendered);
            };
            let f = parse_group(&next)?;
            let before = parse_group(&rendered)?.members;
            let known: HashSet<&UserId> = before.iter().collect();
            let added: Vec<UserId> = f
                .members
                .iter()
                .filter(|u| !known.contains(u))
                .copied()
                .collect();
            self.check_members(tenant.id, &added).await?;
            let read = current.version;
            let name = f.display_name.clone();
            // The version check and bump come first: a concurrent writer makes this attempt
            // start again from a fresh read; membership follows as a difference.
            let written = self
                .store
                .update_group(
                    tenant.id,
                    id,
                    Box::new(move |g| {
                        if g.version != read {
                            return Err(StoreError::Aborted(STALE.into()));
                        }
                        g.display_name = name;
                        Ok(())
                    }),
                )
                .await;
            let group = match written {
                Ok(g) => g,
                Err(StoreError::Aborted(m)) if m == STALE => continue,
                Err(e) => return Err(store_err(e)),
            };
            self.apply_members(tenant.id, id, &before, &f.members)
                .await?;
            self.store
                .put_group_scim_attributes(tenant.id, id, &f.kept)
                .await
                .map_err(store_err)?;
            return self.group_to_scim(&group, base).await;
        }
        Err(CoreError::Internal(
            "the group kept changing during the update".into(),
        ))
    }

    /// `DELETE /Groups/{id}` (RFC 7644 §3.6).
    pub async fn scim_delete_group(
        &self,
        tenant: &Tenant,
        id: &str,
        if_match: Option<&str>,
    ) -> CoreResult<()> {
        let id = group_id(id)?;
        let g = self
            .store
            .get_group(tenant.id, id)
            .await
            .map_err(store_err)?;
        check_if_match(if_match, g.version)?;
        self.store
            .delete_group(tenant.id, id)
            .await
            .map_err(store_err)
    }
}
