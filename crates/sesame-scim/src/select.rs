//! Attribute selection: the `attributes` and `excludedAttributes` parameters (RFC 7644
//! §3.9), honouring each attribute's `returned` setting (RFC 7643 §7): `always` is returned
//! whatever the request says, `never` is never returned, `request` only when named in
//! `attributes`, `default` unless excluded or another list was asked for.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::path::{AttrPath, key_ci};
use crate::schema::{AttributeDef, ResourceType, Returned};

/// A parsed selection; build it once per request and apply it to each resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttributeSelection {
    attributes: Vec<String>,
    excluded: Vec<String>,
}

fn split(list: Option<&str>) -> Result<Vec<String>, ScimError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match AttrPath::parse(s) {
            Some(_) => Ok(s.to_string()),
            None => Err(ScimError::InvalidValue(format!(
                "invalid attribute name '{s}' in the attribute list"
            ))),
        })
        .collect()
}

/// What one name of a list designates.
enum Named {
    Extension(&'static str),
    Attr {
        container: Option<&'static str>,
        attr: &'static str,
        sub: Option<&'static str>,
    },
}

fn resolve(name: &str, rt: &ResourceType) -> Option<Named> {
    if let Some(ext) = rt.extension(name) {
        return Some(Named::Extension(ext.id));
    }
    let r = AttrPath::parse(name)?.resolve(rt)?;
    Some(Named::Attr {
        container: r.container,
        attr: r.attr.name,
        sub: r.sub.map(|s| s.name),
    })
}

impl AttributeSelection {
    /// Parses the two comma-separated lists. RFC 7644 §3.9 allows one or the other; when
    /// both are given, `attributes` wins and `excludedAttributes` is ignored.
    pub fn parse(
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
    ) -> Result<AttributeSelection, ScimError> {
        let attributes = split(attributes)?;
        let excluded = if attributes.is_empty() {
            split(excluded_attributes)?
        } else {
            Vec::new()
        };
        Ok(AttributeSelection {
            attributes,
            excluded,
        })
    }

    /// The resource as returned to the client.
    pub fn apply(&self, resource: &Value, rt: &ResourceType) -> Value {
        let Some(obj) = resource.as_object() else {
            return resource.clone();
        };
        let listed: Vec<Named> = self
            .attributes
            .iter()
            .filter_map(|a| resolve(a, rt))
            .collect();
        let excluded: Vec<Named> = self
            .excluded
            .iter()
            .filter_map(|a| resolve(a, rt))
            .collect();
        let mut out = Map::new();
        for (key, value) in obj {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key.clone(), value.clone());
            } else if let Some(ext) = rt.extension(key) {
                let whole_listed = listed
                    .iter()
                    .any(|n| matches!(n, Named::Extension(e) if *e == ext.id));
                let whole_excluded = excluded
                    .iter()
                    .any(|n| matches!(n, Named::Extension(e) if *e == ext.id));
                if whole_excluded {
                    continue;
                }
                let Some(inner) = value.as_object() else {
                    continue;
                };
                let mut kept = Map::new();
                for (k, v) in inner {
                    let Some(def) = ext.attribute(k) else {
                        continue;
                    };
                    let force = whole_listed && def.returned != Returned::Never;
                    if let Some(v) = self.select(Some(ext.id), def, v, &listed, &excluded, force) {
                        kept.insert(k.clone(), v);
                    }
                }
                if !kept.is_empty() {
                    out.insert(key.clone(), Value::Object(kept));
                }
            } else if let Some(def) = rt.core_attribute(key) {
                if let Some(v) = self.select(None, def, value, &listed, &excluded, false) {
                    out.insert(key.clone(), v);
                }
            } else if self.attributes.is_empty() {
                // Not in the schema: returned by default, like any default attribute.
                out.insert(key.clone(), value.clone());
            }
        }
        // Drop the URN of an extension that is no longer in the output.
        let missing: Vec<&str> = rt
            .extensions
            .iter()
            .map(|(e, _)| e.id)
            .filter(|id| key_ci(&out, id).is_none())
            .collect();
        if let Some(Value::Array(schemas)) = out.get_mut("schemas") {
            schemas.retain(|s| {
                let s = s.as_str().unwrap_or_default();
                !missing.iter().any(|m| m.eq_ignore_ascii_case(s))
            });
        }
        Value::Object(out)
    }

    fn select(
        &self,
        container: Option<&'static str>,
        def: &'static AttributeDef,
        value: &Value,
        listed: &[Named],
        excluded: &[Named],
        force: bool,
    ) -> Option<Value> {
        let subs_of = |names: &[Named]| -> (bool, Vec<&'static str>) {
            let mut whole = false;
            let mut subs = Vec::new();
            for n in names {
                if let Named::Attr {
                    container: c,
                    attr,
                    sub,
                } = n
                    && *c == container
                    && *attr == def.name
                {
                    match sub {
                        None => whole = true,
                        Some(s) => subs.push(*s),
                    }
                }
            }
            (whole, subs)
        };
        match def.returned {
            Returned::Never => return None,
            Returned::Always => return Some(value.clone()),
            _ => {}
        }
        if force {
            return Some(value.clone());
        }
        if !self.attributes.is_empty() {
            let (whole, subs) = subs_of(listed);
            return if whole {
                Some(value.clone())
            } else if subs.is_empty() {
                None
            } else {
                keep_subs(def, value, |name| {
                    subs.iter().any(|s| s.eq_ignore_ascii_case(name))
                })
            };
        }
        if def.returned == Returned::Request {
            return None;
        }
        let (whole, subs) = subs_of(excluded);
        if whole {
            None
        } else if subs.is_empty() {
            Some(value.clone())
        } else {
            keep_subs(def, value, |name| {
                !subs.iter().any(|s| s.eq_ignore_ascii_case(name))
            })
        }
    }
}

/// Keeps the sub-attributes `keep` accepts (plus those returned `always`) of a complex value
/// or of each value of a multi-valued one.
fn keep_subs(def: &AttributeDef, value: &Value, keep: impl Fn(&str) -> bool) -> Option<Value> {
    let filter_one = |v: &Value| -> Option<Value> {
        let o = v.as_object()?;
        let kept: Map<String, Value> = o
            .iter()
            .filter(|(k, _)| {
                let sub = def.sub_attribute(k);
                sub.is_some_and(|s| s.returned == Returned::Always)
                    || (keep(k) && !sub.is_some_and(|s| s.returned == Returned::Never))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(filter_one).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => filter_one(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_RESOURCE, USER_SCHEMA};

    fn user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "u1", "userName": "bjensen", "password": "secret", "title": "Guide",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            "meta": {"resourceType": "User"},
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "1", "department": "Ops"}
        })
    }

    fn sel(a: Option<&str>, e: Option<&str>) -> Value {
        AttributeSelection::parse(a, e)
            .unwrap()
            .apply(&user(), &USER_RESOURCE)
    }

    #[test]
    fn default_never_returns_password() {
        let r = sel(None, None);
        assert!(r.get("password").is_none());
        assert_eq!(r["title"], "Guide");
    }

    #[test]
    fn attributes_keep_listed_and_always() {
        let r = sel(Some("userName,name.familyName,emails.value"), None);
        assert_eq!(
            r,
            json!({"schemas": [USER_SCHEMA], "id": "u1", "userName": "bjensen",
                   "name": {"familyName": "Jensen"}, "emails": [{"value": "a@x"}, {"value": "b@x"}]})
        );
        let r = sel(Some("password,USERNAME"), None);
        assert!(r.get("password").is_none());
        assert_eq!(r["userName"], "bjensen");
        let r = sel(Some(&format!("{ENTERPRISE_USER_SCHEMA}:department")), None);
        assert_eq!(r[ENTERPRISE_USER_SCHEMA], json!({"department": "Ops"}));
        let r = sel(Some(ENTERPRISE_USER_SCHEMA), None);
        assert_eq!(r[ENTERPRISE_USER_SCHEMA]["employeeNumber"], "1");
        assert!(r.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes() {
        let r = sel(None, Some("emails,name.givenName,id"));
        assert!(r.get("emails").is_none());
        assert_eq!(r["name"], json!({"familyName": "Jensen"}));
        assert_eq!(r["id"], "u1");
        let r = sel(None, Some(ENTERPRISE_USER_SCHEMA));
        assert!(r.get(ENTERPRISE_USER_SCHEMA).is_none());
        assert_eq!(r["schemas"], json!([USER_SCHEMA]));
        assert!(AttributeSelection::parse(Some("a b"), None).is_err());
    }
}
