//! SCIM `User` resources ↔ directory users (DIR-2), and the `/Users` operations.
//!
//! # The mapping (RFC 7643 §4.1, §4.3)
//!
//! | SCIM attribute | directory field |
//! |---|---|
//! | `id` | object id (`User::id`) |
//! | `externalId` | `User::external_id` |
//! | `userName` | `userPrincipalName` (its domain must be the tenant's initial domain or a verified one) |
//! | `name.givenName`, `name.familyName` | `givenName`, `surname` |
//! | `displayName` | `displayName` |
//! | `emails` | `mail` ← the first `work` email (else the primary one); `otherMails` ← the others |
//! | `active` | `accountEnabled` (absent means enabled) |
//! | `userType` | `userType` when it is `Member` or `Guest`; other values are kept as SCIM data |
//! | enterprise `employeeNumber` | `employeeId` |
//! | `password` | the local password (write-only, never returned) |
//! | `meta` | `resourceType` User, `created` / `lastModified` from the record, `location`, `version` W/"n" |
//!
//! Every other attribute the schema defines (title, phoneNumbers, addresses, the rest of the
//! enterprise extension…) is kept as the client wrote it in `User::scim_attributes`, together
//! with the client's own spelling of the mapped ones (the typed `emails` list, `userName`'s
//! case). Reading overlays the directory on that copy wherever the two disagree, so a change
//! made through the admin API or the CLI always shows through SCIM. Unknown attributes are
//! dropped (RFC 7644 §3.3 lets a server ignore them); `groups` is read-only.

use super::{MAX_ATTEMPTS, STALE, check_if_match, invalid, store_err};
use crate::password::check_password_policy;
use crate::{Core, CoreError, CoreResult};
use serde_json::{Map, Value, json};
use sesame_model::*;
use sesame_scim::{
    AttrType, AttributeDef, ENTERPRISE_USER_SCHEMA, ScimError, USER_RESOURCE, USER_SCHEMA,
};
use sesame_store::StoreError;
use time::format_description::well_known::Rfc3339;

/// Attributes never kept in `scim_attributes`: server-owned, write-only, or mapped to a field.
const NOT_KEPT: &[&str] = &["id", "meta", "schemas", "password", "groups", "externalId"];

/// Longest free-text value, as in the rest of the directory.
const TEXT_MAX: usize = 256;

/// RFC 3339 time for `meta` (RFC 7643 §3.1 `dateTime`).
pub(super) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn trimmed(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Sets `obj[key]` to the directory value unless the client's copy already says the same.
fn overlay_text(obj: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if trimmed(obj.get(key)) == value {
        return;
    }
    match value {
        Some(v) => obj.insert(key.to_string(), Value::String(v.to_string())),
        None => obj.remove(key),
    };
}

/// `active` as a boolean; Entra ID sometimes sends `"True"`.
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn user_type_of(v: Option<&Value>) -> UserType {
    match trimmed(v) {
        Some(s) if s.eq_ignore_ascii_case("guest") => UserType::Guest,
        _ => UserType::Member,
    }
}

fn user_type_name(t: UserType) -> &'static str {
    match t {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    }
}

/// `(mail, otherMails)` from a SCIM `emails` list: the first `work` address (else the primary
/// one) is `mail`, the others are `otherMails`.
fn mails_of(emails: Option<&Value>) -> (Option<String>, Vec<String>) {
    let items: Vec<(&str, bool, bool)> = emails
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let o = e.as_object()?;
                    let value = trimmed(o.get("value"))?;
                    let work =
                        trimmed(o.get("type")).is_some_and(|t| t.eq_ignore_ascii_case("work"));
                    let primary = o.get("primary").and_then(as_bool).unwrap_or(false);
                    Some((value, work, primary))
                })
                .collect()
        })
        .unwrap_or_default();
    let main = items
        .iter()
        .position(|i| i.1)
        .or_else(|| items.iter().position(|i| i.2));
    let mail = main.map(|i| items[i].0.to_string());
    let others = items
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != main)
        .map(|(_, e)| e.0.to_string())
        .collect();
    (mail, others)
}

/// The SCIM representation of a directory user (the mapping above). `base` is the SCIM base
/// URL, e.g. `https://id.example.com/contoso.example/scim/v2`.
pub fn user_to_scim(user: &User, base: &str) -> Value {
    let from_directory = user.scim_attributes.is_none();
    let mut o = user.scim_attributes.clone().unwrap_or_default();
    let same_upn = trimmed(o.get("userName"))
        .and_then(|u| normalize_upn(u).ok())
        .is_some_and(|u| u == user.user_principal_name);
    if !same_upn {
        o.insert("userName".into(), user.user_principal_name.clone().into());
    }
    overlay_text(&mut o, "displayName", user.display_name.as_deref());
    let mut name = match o.remove("name") {
        Some(Value::Object(n)) => n,
        _ => Map::new(),
    };
    overlay_text(&mut name, "givenName", user.given_name.as_deref());
    overlay_text(&mut name, "familyName", user.surname.as_deref());
    if !name.is_empty() {
        o.insert("name".into(), Value::Object(name));
    }
    let active = o.get("active").and_then(as_bool).unwrap_or(true);
    if from_directory || active != user.account_enabled {
        o.insert("active".into(), user.account_enabled.into());
    }
    if from_directory || user_type_of(o.get("userType")) != user.user_type {
        o.insert("userType".into(), user_type_name(user.user_type).into());
    }
    if mails_of(o.get("emails")) != (user.mail.clone(), user.other_mails.clone()) {
        let mut emails: Vec<Value> = Vec::new();
        if let Some(m) = &user.mail {
            emails.push(json!({"value": m, "type": "work", "primary": true}));
        }
        for m in &user.other_mails {
            emails.push(json!({"value": m, "type": "other"}));
        }
        if emails.is_empty() {
            o.remove("emails");
        } else {
            o.insert("emails".into(), Value::Array(emails));
        }
    }
    let mut ext = match o.remove(ENTERPRISE_USER_SCHEMA) {
        Some(Value::Object(e)) => e,
        _ => Map::new(),
    };
    overlay_text(&mut ext, "employeeNumber", user.employee_id.as_deref());
    let mut schemas = vec![Value::from(USER_SCHEMA)];
    if !ext.is_empty() {
        schemas.push(ENTERPRISE_USER_SCHEMA.into());
        o.insert(ENTERPRISE_USER_SCHEMA.into(), Value::Object(ext));
    }
    o.insert("schemas".into(), Value::Array(schemas));
    o.insert("id".into(), user.id.to_string().into());
    if let Some(x) = &user.external_id {
        o.insert("externalId".into(), x.clone().into());
    }
    o.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": rfc3339(user.created_at),
            "lastModified": rfc3339(user.updated_at),
            "location": format!("{}/Users/{}", base.trim_end_matches('/'), user.id),
            "version": super::etag(user.version),
        }),
    );
    Value::Object(o)
}

/// What a SCIM User body sets in the directory, validated.
struct UserFields {
    user_name: String,
    display_name: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    mail: Option<String>,
    other_mails: Vec<String>,
    employee_id: Option<String>,
    account_enabled: bool,
    user_type: UserType,
    external_id: Option<String>,
    password: Option<String>,
    /// The attributes kept verbatim (see the module documentation).
    kept: Map<String, Value>,
}

/// Rewrites keys to the schema's spelling (attribute names are case-insensitive, RFC 7643
/// §2.1) and drops nulls and sub-attributes the schema does not define.
fn canonical(def: &AttributeDef, v: &Value) -> Option<Value> {
    let one = |x: &Value| -> Option<Value> {
        if def.ty != AttrType::Complex {
            return (!x.is_null()).then(|| x.clone());
        }
        let o = x.as_object()?;
        let kept: Map<String, Value> = o
            .iter()
            .filter(|(_, v)| !v.is_null())
            .filter_map(|(k, v)| {
                def.sub_attribute(k)
                    .map(|s| (s.name.to_string(), v.clone()))
            })
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match v {
        Value::Null => None,
        Value::Array(items) if def.multi_valued => {
            let kept: Vec<Value> = items.iter().filter_map(one).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => one(other),
    }
}

fn text(field: &'static str, v: Option<&Value>) -> CoreResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            check_text(field, s, TEXT_MAX).map_err(|e| invalid(e.to_string()))?;
            Ok(Some(s.to_string()))
        }
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

fn check_mail(v: &str) -> CoreResult<String> {
    normalize_upn(v).map_err(|_| invalid(format!("emails: {v:?} is not an e-mail address")))?;
    Ok(v.to_string())
}

fn parse_user(body: &Value) -> CoreResult<UserFields> {
    let obj = body.as_object().ok_or_else(|| {
        CoreError::from(ScimError::InvalidSyntax(
            "a User must be a JSON object".into(),
        ))
    })?;
    let mut kept = Map::new();
    let mut password = None;
    let mut external_id = None;
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("password") {
            password = text("password", Some(v))?;
        } else if k.eq_ignore_ascii_case("externalId") {
            external_id = text("externalId", Some(v))?;
        } else if NOT_KEPT.iter().any(|n| n.eq_ignore_ascii_case(k)) {
            continue;
        } else if let Some(def) = USER_RESOURCE.core_attribute(k) {
            if let Some(c) = canonical(def, v) {
                kept.insert(def.name.to_string(), c);
            }
        } else if let Some(ext) = USER_RESOURCE.extension(k) {
            let Some(inner) = v.as_object() else {
                continue;
            };
            let e: Map<String, Value> = inner
                .iter()
                .filter_map(|(k, v)| {
                    let def = ext.attribute(k)?;
                    // Entra ID sends `manager` as a bare id.
                    let v = match (def.name, v) {
                        ("manager", Value::String(s)) => json!({"value": s}),
                        _ => v.clone(),
                    };
                    canonical(def, &v).map(|c| (def.name.to_string(), c))
                })
                .collect();
            if !e.is_empty() {
                kept.insert(ext.id.to_string(), Value::Object(e));
            }
        }
    }
    let user_name = text("userName", kept.get("userName"))?
        .ok_or_else(|| invalid("userName is required (RFC 7643 §4.1.1)"))?;
    let name = kept.get("name").and_then(Value::as_object);
    let given_name = text("name.givenName", name.and_then(|n| n.get("givenName")))?;
    let surname = text("name.familyName", name.and_then(|n| n.get("familyName")))?;
    let display_name = text("displayName", kept.get("displayName"))?;
    let account_enabled = match kept.get("active") {
        None => true,
        Some(v) => as_bool(v).ok_or_else(|| invalid("active must be a boolean"))?,
    };
    if let Some(a) = kept.get_mut("active") {
        *a = Value::Bool(account_enabled);
    }
    if let Some(t) = kept.get("userType")
        && !t.is_string()
    {
        return Err(invalid("userType must be a string"));
    }
    let user_type = user_type_of(kept.get("userType"));
    let (mail, other_mails) = mails_of(kept.get("emails"));
    let mail = mail.map(|m| check_mail(&m)).transpose()?;
    if other_mails.len() > 50 {
        return Err(invalid("emails: at most 51 addresses"));
    }
    let other_mails = other_mails
        .iter()
        .map(|m| check_mail(m))
        .collect::<CoreResult<Vec<_>>>()?;
    let employee_id = text(
        "employeeNumber",
        kept.get(ENTERPRISE_USER_SCHEMA)
            .and_then(Value::as_object)
            .and_then(|e| e.get("employeeNumber")),
    )?;
    if let Some(p) = &password {
        check_password_policy(p).map_err(|e| invalid(e.to_string()))?;
    }
    Ok(UserFields {
        user_name,
        display_name,
        given_name,
        surname,
        mail,
        other_mails,
        employee_id,
        account_enabled,
        user_type,
        external_id,
        password,
        kept,
    })
}

/// Writes the fields into the record (inside the store's update closure).
fn assign(u: &mut User, upn: String, f: UserFields) {
    u.user_principal_name = upn;
    u.display_name = f.display_name;
    u.given_name = f.given_name;
    u.surname = f.surname;
    u.mail = f.mail;
    u.other_mails = f.other_mails;
    u.employee_id = f.employee_id;
    u.account_enabled = f.account_enabled;
    u.user_type = f.user_type;
    u.external_id = f.external_id;
    u.scim_attributes = Some(f.kept);
}

fn user_id(raw: &str) -> CoreResult<UserId> {
    raw.parse()
        .map_err(|_| ScimError::NotFound(format!("no User with id {raw:?}")).into())
}

impl Core {
    /// The UPN a `userName` stands for, or `invalidValue` saying why it cannot be one.
    async fn scim_upn(&self, tenant: &Tenant, user_name: &str) -> CoreResult<String> {
        let upn = normalize_upn(user_name).map_err(|_| {
            invalid(format!(
                "userName {user_name:?} is not a user principal name (name@domain)"
            ))
        })?;
        let domain = upn.rsplit('@').next().unwrap_or_default();
        if !self.domain_usable(tenant, domain).await? {
            return Err(invalid(format!(
                "userName: domain {domain} is neither the tenant's initial domain ({}) nor one of its verified domains",
                tenant.initial_domain
            )));
        }
        Ok(upn)
    }

    /// `POST /Users` (RFC 7644 §3.3).
    pub async fn scim_create_user(
        &self,
        tenant: &Tenant,
        base: &str,
        body: &Value,
    ) -> CoreResult<Value> {
        let mut f = parse_user(body)?;
        let upn = self.scim_upn(tenant, &f.user_name).await?;
        let password = f.password.take();
        let mut user = User::new(UserId(self.new_uuid()), tenant.id, upn.clone(), self.now());
        user.source = UserSource::Synced;
        assign(&mut user, upn, f);
        self.store.create_user(&user).await.map_err(store_err)?;
        if let Some(p) = password {
            self.set_password(tenant.id, user.id, p).await?;
        }
        Ok(user_to_scim(&user, base))
    }

    /// `GET /Users/{id}` (RFC 7644 §3.4.1).
    pub async fn scim_get_user(&self, tenant: &Tenant, base: &str, id: &str) -> CoreResult<Value> {
        let user = self
            .store
            .get_user(tenant.id, user_id(id)?)
            .await
            .map_err(store_err)?;
        Ok(user_to_scim(&user, base))
    }

    /// `PUT /Users/{id}` (RFC 7644 §3.5.1): the body replaces every attribute it may set.
    pub async fn scim_replace_user(
        &self,
        tenant: &Tenant,
        base: &str,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> CoreResult<Value> {
        self.scim_modify_user(tenant, base, id, if_match, |_| Ok(Some(body.clone())))
            .await
    }

    /// `PATCH /Users/{id}` (RFC 7644 §3.5.2).
    pub async fn scim_patch_user(
        &self,
        tenant: &Tenant,
        base: &str,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> CoreResult<Value> {
        let patch = super::patch_request(body)?;
        self.scim_modify_user(tenant, base, id, if_match, |current| {
            let mut next = current.clone();
            Ok(patch.apply(&mut next, &USER_RESOURCE)?.then_some(next))
        })
        .await
    }

    /// Read, change, write with a version check inside the store's transaction; a concurrent
    /// writer makes the closure refuse and the whole step start again on the new version, so
    /// no write is lost. `change` returns `None` when nothing changes.
    async fn scim_modify_user(
        &self,
        tenant: &Tenant,
        base: &str,
        id: &str,
        if_match: Option<&str>,
        change: impl Fn(&Value) -> CoreResult<Option<Value>>,
    ) -> CoreResult<Value> {
        let id = user_id(id)?;
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .store
                .get_user(tenant.id, id)
                .await
                .map_err(store_err)?;
            check_if_match(if_match, current.version)?;
            let rendered = user_to_scim(&current, base);
            let Some(next) = change(&rendered)? else {
                return Ok(rendered);
            };
            let mut f = parse_user(&next)?;
            let upn = self.scim_upn(tenant, &f.user_name).await?;
            let password = f.password.take();
            let read = current.version;
            let now = self.now();
            let written = self
                .store
                .update_user(
                    tenant.id,
                    id,
                    Box::new(move |u| {
                        if u.version != read {
                            return Err(StoreError::Aborted(STALE.into()));
                        }
                        assign(u, upn, f);
                        u.updated_at = now;
                        Ok(())
                    }),
                )
                .await;
            let user = match written {
                Ok(u) => u,
                Err(StoreError::Aborted(m)) if m == STALE => continue,
                Err(e) => return Err(store_err(e)),
            };
            if let Some(p) = password {
                self.set_password(tenant.id, id, p).await?;
            }
            if !user.account_enabled {
                // A disabled account keeps no open session, as in `update_user`.
                self.end_user_sessions(tenant.id, id).await?;
            }
            return Ok(user_to_scim(&user, base));
        }
        Err(CoreError::Internal(
            "the user kept changing during the update".into(),
        ))
    }

    /// `DELETE /Users/{id}` (RFC 7644 §3.6).
    pub async fn scim_delete_user(
        &self,
        tenant: &Tenant,
        id: &str,
        if_match: Option<&str>,
    ) -> CoreResult<()> {
        let id = user_id(id)?;
        let user = self
            .store
            .get_user(tenant.id, id)
            .await
            .map_err(store_err)?;
        check_if_match(if_match, user.version)?;
        self.delete_user_and_sessions(tenant.id, id)
            .await
            .map_err(|e| match e {
                CoreError::NotFound(what) => store_err(StoreError::NotFound(what)),
                e => e,
            })
    }
}
