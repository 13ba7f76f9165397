//! What a user or group looks like at the target, and the SCIM messages that get it there.
//! Pure functions: the desired state is a flat map from target attribute path to value, which
//! is also what the store keeps as "last sent", so an update is the difference of two maps.

use crate::claims::{apply, user_field};
use serde_json::{Map, Value, json};
use sesame_model::{ProvisioningMapping, ProvisioningSource, User, UserField};
use std::collections::BTreeMap;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Target attribute path → value.
pub type Flat = BTreeMap<String, Value>;

/// A target attribute path, in the three forms mappings may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPath {
    /// `userName`, `name.givenName`.
    Simple { attr: String, sub: Option<String> },
    /// `emails[type eq "work"].value`: the `sub` of the element of `attr` whose `key` is `value`.
    Filtered {
        attr: String,
        key: String,
        value: String,
        sub: String,
    },
    /// `urn:…:enterprise:2.0:User:employeeNumber` (or `…:manager.value`).
    Extension {
        urn: String,
        attr: String,
        sub: Option<String>,
    },
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

fn attr_and_sub(s: &str) -> Option<(String, Option<String>)> {
    match s.split_once('.') {
        None if is_name(s) => Some((s.to_owned(), None)),
        Some((a, b)) if is_name(a) && is_name(b) => Some((a.to_owned(), Some(b.to_owned()))),
        _ => None,
    }
}

impl TargetPath {
    /// Parses the forms above (RFC 7644 §3.10 attribute notation); anything else is refused.
    pub fn parse(path: &str) -> Option<Self> {
        if path.len() > 256 {
            return None;
        }
        if path.to_ascii_lowercase().starts_with("urn:") {
            let (urn, rest) = path.rsplit_once(':')?;
            let (attr, sub) = attr_and_sub(rest)?;
            return Some(TargetPath::Extension {
                urn: urn.to_owned(),
                attr,
                sub,
            });
        }
        if let Some((attr, rest)) = path.split_once('[') {
            let (filter, sub) = rest.split_once("].")?;
            let mut words = filter.splitn(3, ' ');
            let key = words.next()?;
            let op = words.next()?;
            let quoted = words.next()?;
            let value = quoted.strip_prefix('"')?.strip_suffix('"')?;
            if !is_name(attr)
                || !is_name(key)
                || !op.eq_ignore_ascii_case("eq")
                || !is_name(sub)
                || value.contains(['"', '\\'])
            {
                return None;
            }
            return Some(TargetPath::Filtered {
                attr: attr.to_owned(),
                key: key.to_owned(),
                value: value.to_owned(),
                sub: sub.to_owned(),
            });
        }
        let (attr, sub) = attr_and_sub(path)?;
        Some(TargetPath::Simple { attr, sub })
    }
}

/// The directory name of a source field, as people read it in a log.
fn field_name(field: UserField) -> String {
    serde_json::to_value(field)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{field:?}"))
}

/// Why a user cannot be sent: required target attributes with no source value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRequired {
    pub sources: Vec<String>,
    pub targets: Vec<String>,
}

impl MissingRequired {
    /// The reason written to the provisioning log (seed 000's formatting failure).
    pub fn reason(&self, upn: &str) -> String {
        format!(
            "user {upn} has no {}; the target requires {}",
            self.sources.join("/"),
            self.targets.join(", ")
        )
    }
}

/// The user as the target should hold it.
pub fn desired_user(
    user: &User,
    mappings: &[ProvisioningMapping],
) -> Result<Flat, MissingRequired> {
    let mut flat = Flat::new();
    let mut missing = MissingRequired {
        sources: Vec::new(),
        targets: Vec::new(),
    };
    for m in mappings {
        let value = match &m.source {
            ProvisioningSource::User(f) => user_field(user, *f)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Value::String(m.transforms.iter().fold(v, |v, t| apply(t, v)))),
            ProvisioningSource::AccountEnabled => Some(Value::Bool(user.account_enabled)),
            ProvisioningSource::Constant(c) => Some(Value::String(
                m.transforms.iter().fold(c.clone(), |v, t| apply(t, v)),
            )),
        };
        match value {
            Some(v) => {
                flat.insert(m.target.clone(), v);
            }
            None if m.required => {
                if let ProvisioningSource::User(f) = &m.source {
                    missing.sources.push(field_name(*f));
                }
                missing.targets.push(m.target.clone());
            }
            None => {}
        }
    }
    if missing.targets.is_empty() {
        Ok(flat)
    } else {
        Err(missing)
    }
}

fn object_at<'a>(obj: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = obj
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("replaced by an object above"),
    }
}

fn set(obj: &mut Map<String, Value>, attr: &str, sub: Option<&str>, value: Value) {
    match sub {
        None => {
            obj.insert(attr.to_owned(), value);
        }
        Some(sub) => {
            object_at(obj, attr).insert(sub.to_owned(), value);
        }
    }
}

/// The element of the multi-valued `attr` whose `key` is `wanted`, created when absent.
fn element<'a>(
    obj: &'a mut Map<String, Value>,
    attr: &str,
    key: &str,
    wanted: &str,
) -> &'a mut Map<String, Value> {
    let slot = obj
        .entry(attr.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    let Value::Array(items) = slot else {
        unreachable!("replaced by an array above")
    };
    let at = items
        .iter()
        .position(|i| i.get(key).and_then(Value::as_str) == Some(wanted));
    let at = at.unwrap_or_else(|| {
        let first = items.is_empty();
        let mut e = Map::new();
        e.insert(key.to_owned(), Value::String(wanted.to_owned()));
        if first {
            e.insert("primary".to_owned(), Value::Bool(true));
        }
        items.push(Value::Object(e));
        items.len() - 1
    });
    match &mut items[at] {
        Value::Object(m) => m,
        other => {
            *other = Value::Object(Map::new());
            match other {
                Value::Object(m) => m,
                _ => unreachable!("replaced by an object above"),
            }
        }
    }
}

/// The SCIM User resource for a POST (RFC 7643 §4.1).
pub fn user_resource(flat: &Flat) -> Value {
    let mut obj = Map::new();
    let mut schemas = vec![Value::String(USER_SCHEMA.to_owned())];
    for (path, value) in flat {
        match TargetPath::parse(path) {
            Some(TargetPath::Simple { attr, sub }) => {
                set(&mut obj, &attr, sub.as_deref(), value.clone())
            }
            Some(TargetPath::Filtered {
                attr,
                key,
                value: wanted,
                sub,
            }) => {
                element(&mut obj, &attr, &key, &wanted).insert(sub, value.clone());
            }
            Some(TargetPath::Extension { urn, attr, sub }) => {
                if !schemas.iter().any(|s| s.as_str() == Some(urn.as_str())) {
                    schemas.push(Value::String(urn.clone()));
                }
                set(
                    object_at(&mut obj, &urn),
                    &attr,
                    sub.as_deref(),
                    value.clone(),
                );
            }
            None => {}
        }
    }
    obj.insert("schemas".to_owned(), Value::Array(schemas));
    Value::Object(obj)
}

/// PATCH operations (RFC 7644 §3.5.2) taking the target from `old` to `new`. A value that
/// appears is `replace`d (which adds an absent attribute, §3.5.2.3), or `add`ed as a new
/// element for a filtered path (a filter that matches nothing is an error for replace); a
/// value that disappears is removed.
pub fn user_patch_ops(old: &Flat, new: &Flat) -> Vec<Value> {
    let mut ops = Vec::new();
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in keys {
        let parsed = TargetPath::parse(path);
        match (old.get(path), new.get(path)) {
            (a, b) if a == b => {}
            (None, Some(v)) => match parsed {
                Some(TargetPath::Filtered {
                    attr,
                    key,
                    value,
                    sub,
                }) => ops.push(json!({
                    "op": "add",
                    "path": attr,
                    "value": [{ key: value, sub: v, "primary": true }],
                })),
                _ => ops.push(json!({ "op": "replace", "path": path, "value": v })),
            },
            (Some(_), Some(v)) => ops.push(json!({ "op": "replace", "path": path, "value": v })),
            (Some(_), None) => match parsed {
                Some(TargetPath::Filtered {
                    attr, key, value, ..
                }) => ops.push(json!({
                    "op": "remove",
                    "path": format!("{attr}[{key} eq \"{value}\"]"),
                })),
                _ => ops.push(json!({ "op": "remove", "path": path })),
            },
            (None, None) => {}
        }
    }
    ops
}

pub fn patch_body(ops: Vec<Value>) -> Value {
    json!({ "schemas": [PATCH_SCHEMA], "Operations": ops })
}

/// A SCIM filter `path eq "value"` (RFC 7644 §3.4.2.2), with the value escaped as JSON.
pub fn eq_filter(path: &str, value: &str) -> String {
    format!("{path} eq {}", Value::String(value.to_owned()))
}

/// The group as the target should hold it: its name and the target ids of its members.
pub fn desired_group(display_name: &str, members: &[String]) -> Flat {
    let mut sorted = members.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut flat = Flat::new();
    flat.insert("displayName".into(), Value::String(display_name.to_owned()));
    flat.insert(
        "members".into(),
        Value::Array(sorted.into_iter().map(Value::String).collect()),
    );
    flat
}

pub fn group_resource(display_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "displayName": display_name,
        "externalId": external_id,
        "members": [],
    })
}

fn member_ids(flat: &Flat) -> Vec<&str> {
    flat.get("members")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// PATCH bodies taking a group from `old` to `new`, at most `per_request` member changes each
/// (AWS IAM Identity Center bounds them): the rename first, then additions, then removals.
pub fn group_patches(old: &Flat, new: &Flat, per_request: usize) -> Vec<Value> {
    let per_request = per_request.max(1);
    let mut bodies = Vec::new();
    if old.get("displayName") != new.get("displayName")
        && let Some(name) = new.get("displayName")
    {
        bodies.push(patch_body(vec![
            json!({ "op": "replace", "path": "displayName", "value": name }),
        ]));
    }
    let before: std::collections::BTreeSet<&str> = member_ids(old).into_iter().collect();
    let after: std::collections::BTreeSet<&str> = member_ids(new).into_iter().collect();
    let added: Vec<&str> = after.difference(&before).copied().collect();
    let removed: Vec<&str> = before.difference(&after).copied().collect();
    for chunk in added.chunks(per_request) {
        let values: Vec<Value> = chunk.iter().map(|id| json!({ "value": id })).collect();
        bodies.push(patch_body(vec![
            json!({ "op": "add", "path": "members", "value": values }),
        ]));
    }
    for chunk in removed.chunks(per_request) {
        let ops = chunk
            .iter()
            .map(|id| {
                json!({ "op": "remove", "path": format!("members[value eq {}]", Value::String((*id).to_owned())) })
            })
            .collect();
        bodies.push(patch_body(ops));
    }
    bodies
}

#[cfg(test)]
mod tests {
    use super::*;
    use sesame_model::{ProvisioningConfig, TargetProfile, TenantId, UserId};

    fn user() -> User {
        let mut u = User::new(
            UserId(uuid::Uuid::nil()),
            TenantId(uuid::Uuid::nil()),
            "ann@contoso.example".into(),
            time::OffsetDateTime::UNIX_EPOCH,
        );
        u.given_name = Some("Ann".into());
        u.surname = Some("Lee".into());
        u.display_name = Some("Ann Lee".into());
        u.mail = Some("ann@contoso.example".into());
        u
    }

    #[test]
    fn paths_parse_in_their_three_forms_and_nothing_else() {
        assert_eq!(
            TargetPath::parse("name.givenName"),
            Some(TargetPath::Simple {
                attr: "name".into(),
                sub: Some("givenName".into())
            })
        );
        assert!(matches!(
            TargetPath::parse("emails[type eq \"work\"].value"),
            Some(TargetPath::Filtered { .. })
        ));
        assert!(matches!(
            TargetPath::parse(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
            ),
            Some(TargetPath::Extension { .. })
        ));
        for bad in [
            "",
            "a.b.c",
            "emails[type co \"w\"].value",
            "emails[type eq \"w\"]",
            "emails[type eq w].value",
            "emails[type eq \"a\\\"b\"].value",
            "1abc",
            "user name",
        ] {
            assert_eq!(TargetPath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn default_aws_mapping_builds_the_resource() {
        let flat = desired_user(
            &user(),
            &ProvisioningConfig::default_mappings(TargetProfile::Aws),
        )
        .unwrap();
        let r = user_resource(&flat);
        assert_eq!(r["userName"], "ann@contoso.example");
        assert_eq!(r["name"]["givenName"], "Ann");
        assert_eq!(r["name"]["familyName"], "Lee");
        assert_eq!(r["active"], true);
        assert_eq!(
            r["emails"],
            json!([{ "type": "work", "value": "ann@contoso.example", "primary": true }])
        );
        assert_eq!(r["externalId"], uuid::Uuid::nil().to_string());
        assert_eq!(r["schemas"], json!([USER_SCHEMA]));
    }

    #[test]
    fn missing_names_are_reported_as_seed_000_warns() {
        let mut u = user();
        u.given_name = None;
        u.surname = Some("  ".into());
        let err = desired_user(
            &u,
            &ProvisioningConfig::default_mappings(TargetProfile::Aws),
        )
        .unwrap_err();
        assert_eq!(
            err.reason("ann@contoso.example"),
            "user ann@contoso.example has no givenName/surname; the target requires \
             name.givenName, name.familyName"
        );
        // The generic profile does not require names: the user is sent without them.
        let flat = desired_user(
            &u,
            &ProvisioningConfig::default_mappings(TargetProfile::Generic),
        )
        .unwrap();
        assert!(!flat.contains_key("name.givenName"));
    }

    #[test]
    fn extension_attributes_get_their_schema() {
        let mut u = user();
        u.employee_id = Some("E42".into());
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mappings = vec![ProvisioningMapping {
            target: format!("{urn}:employeeNumber"),
            source: ProvisioningSource::User(UserField::EmployeeId),
            transforms: Vec::new(),
            required: false,
        }];
        let r = user_resource(&desired_user(&u, &mappings).unwrap());
        assert_eq!(r[urn]["employeeNumber"], "E42");
        assert_eq!(r["schemas"], json!([USER_SCHEMA, urn]));
    }

    #[test]
    fn patch_ops_replace_add_and_remove() {
        let mappings = ProvisioningConfig::default_mappings(TargetProfile::Generic);
        let mut u = user();
        u.mail = None;
        let old = desired_user(&u, &mappings).unwrap();
        assert!(user_patch_ops(&old, &old).is_empty());
        u.given_name = Some("Anne".into());
        u.mail = Some("anne@contoso.example".into());
        u.display_name = None;
        let new = desired_user(&u, &mappings).unwrap();
        let ops = user_patch_ops(&old, &new);
        assert_eq!(
            ops,
            vec![
                json!({ "op": "remove", "path": "displayName" }),
                json!({ "op": "add", "path": "emails",
                    "value": [{ "type": "work", "value": "anne@contoso.example", "primary": true }] }),
                json!({ "op": "replace", "path": "name.givenName", "value": "Anne" }),
            ]
        );
        let back = user_patch_ops(&new, &old);
        assert!(back.contains(&json!({ "op": "remove", "path": "emails[type eq \"work\"]" })));
        let mut changed = new.clone();
        changed.insert(
            "emails[type eq \"work\"].value".into(),
            Value::String("x@contoso.example".into()),
        );
        assert_eq!(
            user_patch_ops(&new, &changed),
            vec![
                json!({ "op": "replace", "path": "emails[type eq \"work\"].value",
                "value": "x@contoso.example" })
            ]
        );
    }

    #[test]
    fn transforms_rewrite_the_user_name_into_the_target_domain() {
        let mappings = vec![ProvisioningMapping {
            target: "userName".into(),
            source: ProvisioningSource::User(UserField::UserPrincipalName),
            transforms: vec![
                sesame_model::ClaimTransform::ExtractMailPrefix,
                sesame_model::ClaimTransform::Join {
                    separator: "@".into(),
                    suffix: "fabrikam.example".into(),
                },
            ],
            required: true,
        }];
        let flat = desired_user(&user(), &mappings).unwrap();
        assert_eq!(flat["userName"], "ann@fabrikam.example");
    }

    #[test]
    fn filters_escape_their_value() {
        assert_eq!(eq_filter("userName", "a\"b"), "userName eq \"a\\\"b\"");
    }

    #[test]
    fn group_patches_are_chunked() {
        let members: Vec<String> = (0..250).map(|n| format!("m{n:03}")).collect();
        let old = desired_group("Staff", &members[..10]);
        let new = desired_group("All staff", &members[5..]);
        let bodies = group_patches(&old, &new, 100);
        // Rename, 240 additions in 3 requests, 5 removals in 1.
        assert_eq!(bodies.len(), 5);
        assert_eq!(bodies[0]["Operations"][0]["path"], "displayName");
        let added: usize = bodies[1..4]
            .iter()
            .map(|b| b["Operations"][0]["value"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(added, 240);
        assert_eq!(bodies[4]["Operations"].as_array().map(Vec::len), Some(5));
        assert_eq!(
            bodies[4]["Operations"][0]["path"],
            "members[value eq \"m000\"]"
        );
        assert!(group_patches(&new, &new, 100).is_empty());
    }
}
