//! Attribute paths (RFC 7644 §3.10) and their resolution against a resource type.
//!
//! Attribute names and schema URNs are case-insensitive (RFC 7643 §2.1); every lookup here,
//! in definitions and in JSON objects, honours that.

use std::fmt;

use serde_json::{Map, Value};

use crate::schema::{AttributeDef, ResourceType};

/// `[URI ":"] ATTRNAME *1subAttr` (RFC 7644 §3.10 and the `attrPath` rule of §3.4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, when the client wrote one.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path without URN or sub-attribute.
    pub fn simple(name: &str) -> Self {
        Self {
            urn: None,
            name: name.to_string(),
            sub: None,
        }
    }

    /// Parses a bare attribute path (no brackets), as used by `sortBy`, `attributes` and
    /// `excludedAttributes` (RFC 7644 §3.4.2.3, §3.9). Returns `None` when malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (urn, rest) = split_urn(text);
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub.is_some_and(|s| !is_attr_name(s)) {
            return None;
        }
        Some(Self {
            urn: urn.map(str::to_string),
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// Finds the definitions this path names in `rt`. A path without URN names a core or
    /// common attribute first, then an extension attribute of that name (clients such as
    /// Entra ID sometimes omit the extension URN).
    pub fn resolve(&self, rt: &ResourceType) -> Option<Resolved> {
        let (container, attr) = match &self.urn {
            Some(urn) if urn.eq_ignore_ascii_case(rt.schema.id) => {
                (None, rt.core_attribute(&self.name)?)
            }
            Some(urn) => {
                let ext = rt.extension(urn)?;
                (Some(ext.id), ext.attribute(&self.name)?)
            }
            None => match rt.core_attribute(&self.name) {
                Some(a) => (None, a),
                None => rt
                    .extensions
                    .iter()
                    .find_map(|(s, _)| s.attribute(&self.name).map(|a| (Some(s.id), a)))?,
            },
        };
        let sub = match &self.sub {
            Some(s) => Some(attr.sub_attribute(s)?),
            None => None,
        };
        Some(Resolved {
            container,
            attr,
            sub,
        })
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// What an [`AttrPath`] names in a resource type.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    /// The extension URN under which the attribute lives, `None` for core and common ones.
    pub container: Option<&'static str>,
    pub attr: &'static AttributeDef,
    pub sub: Option<&'static AttributeDef>,
}

impl Resolved {
    /// The definition of the leaf the path designates.
    pub fn leaf(&self) -> &'static AttributeDef {
        self.sub.unwrap_or(self.attr)
    }
}

/// Splits `urn:…:Schema:attr.sub` into the URN and the rest. The URN ends at the last `:`.
pub(crate) fn split_urn(text: &str) -> (Option<&str>, &str) {
    if text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        && let Some(i) = text.rfind(':')
    {
        return (Some(&text[..i]), &text[i + 1..]);
    }
    (None, text)
}

/// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA` (RFC 7644
/// §3.4.2.2), plus `$ref`, which RFC 7643 uses as a sub-attribute name.
pub(crate) fn is_attr_name(s: &str) -> bool {
    if s == "$ref" {
        return true;
    }
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The member of `obj` whose key equals `key` case-insensitively; the exact key wins.
pub fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The key actually used in `obj` for `key`, compared case-insensitively.
pub fn key_ci(obj: &Map<String, Value>, key: &str) -> Option<String> {
    if obj.contains_key(key) {
        return Some(key.to_string());
    }
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// The object holding the attributes of `container` (`None`: the resource itself).
pub(crate) fn container_of<'a>(
    resource: &'a Value,
    container: Option<&str>,
) -> Option<&'a Map<String, Value>> {
    let obj = resource.as_object()?;
    match container {
        None => Some(obj),
        Some(urn) => get_ci(obj, urn)?.as_object(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_RESOURCE};

    #[test]
    fn parse_and_resolve() {
        let p = AttrPath::parse("name.familyName").unwrap_or_else(|| AttrPath::simple("x"));
        assert_eq!(p.sub.as_deref(), Some("familyName"));
        let p = AttrPath::parse(&format!("{ENTERPRISE_USER_SCHEMA}:manager.value"));
        let r = p.and_then(|p| p.resolve(&USER_RESOURCE));
        assert_eq!(r.map(|r| r.container), Some(Some(ENTERPRISE_USER_SCHEMA)));
        assert!(AttrPath::parse("1abc").is_none());
        assert!(AttrPath::parse("a.b.c").is_none());
        let bare = AttrPath::simple("employeeNumber").resolve(&USER_RESOURCE);
        assert_eq!(
            bare.map(|r| r.container),
            Some(Some(ENTERPRISE_USER_SCHEMA))
        );
    }
}
