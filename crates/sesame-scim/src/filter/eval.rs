//! Evaluation of filters against JSON resources (RFC 7644 §3.4.2.2).
//!
//! Rules, all from §3.4.2.2 unless noted:
//! - attribute names are matched case-insensitively; string values compare according to the
//!   attribute's `caseExact` (RFC 7643 §2.2);
//! - a multi-valued attribute matches if any of its values matches;
//! - a complex attribute compared without a sub-attribute compares its `value` sub-attribute;
//! - `pr` matches a non-empty value (not null, not "", not an empty array or object);
//! - `gt ge lt le` order strings lexically, numbers numerically and dateTimes as instants;
//!   booleans support only `eq`/`ne` (others are rejected by [`validate`]);
//! - `eq null` matches an absent value and `ne null` a present one;
//! - an attribute the schema does not define matches nothing (it is not an error).

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{CompareOp, Filter};
use crate::error::ScimError;
use crate::path::{AttrPath, container_of, get_ci};
use crate::schema::{AttrType, AttributeDef, ResourceType};

/// Where paths are resolved: the resource, or one value of a complex attribute.
#[derive(Clone, Copy)]
enum Scope<'r> {
    Resource(&'r ResourceType),
    Element(&'static AttributeDef),
}

pub(super) fn matches(f: &Filter, resource: &Value, rt: &ResourceType) -> bool {
    eval(f, resource, Scope::Resource(rt))
}

/// Whether one value of the complex attribute `def` satisfies a value filter (the part in
/// brackets of a PATCH path).
pub(crate) fn matches_element(f: &Filter, element: &Value, def: &'static AttributeDef) -> bool {
    element.is_object() && eval(f, element, Scope::Element(def))
}

fn eval(f: &Filter, node: &Value, scope: Scope<'_>) -> bool {
    match f {
        Filter::And(a, b) => eval(a, node, scope) && eval(b, node, scope),
        Filter::Or(a, b) => eval(a, node, scope) || eval(b, node, scope),
        Filter::Not(a) => !eval(a, node, scope),
        Filter::Present(path) => lookup(node, scope, path, false)
            .is_some_and(|(vals, _)| vals.iter().any(|v| is_present(v))),
        Filter::Compare { path, op, value } => {
            let Some((vals, def)) = lookup(node, scope, path, true) else {
                return false;
            };
            if value.is_null() {
                let present = vals.iter().any(|v| is_present(v));
                return match op {
                    CompareOp::Eq => !present,
                    CompareOp::Ne => present,
                    _ => false,
                };
            }
            vals.iter().any(|v| compare(v, def, *op, value))
        }
        Filter::ValuePath { path, filter } => {
            let Some((vals, def)) = lookup(node, scope, path, false) else {
                return false;
            };
            if def.ty != AttrType::Complex {
                return false;
            }
            vals.iter()
                .any(|v| v.is_object() && eval(filter, v, Scope::Element(def)))
        }
    }
}

/// The values `path` designates in `node`, flattened over multi-valued attributes, and the
/// definition of those values. `implied_value`: a complex attribute without sub-attribute
/// stands for its `value` sub-attribute.
fn lookup<'v>(
    node: &'v Value,
    scope: Scope<'_>,
    path: &AttrPath,
    implied_value: bool,
) -> Option<(Vec<&'v Value>, &'static AttributeDef)> {
    let (obj, attr, sub) = match scope {
        Scope::Resource(rt) => {
            let r = path.resolve(rt)?;
            let Some(obj) = container_of(node, r.container) else {
                return Some((Vec::new(), r.leaf()));
            };
            (obj, r.attr, r.sub)
        }
        Scope::Element(parent) => {
            if path.urn.is_some() || path.sub.is_some() {
                return None;
            }
            (node.as_object()?, parent.sub_attribute(&path.name)?, None)
        }
    };
    let sub = match sub {
        Some(s) => Some(s),
        None if implied_value => attr.value_sub_attribute(),
        None => None,
    };
    let mut out = Vec::new();
    let Some(raw) = get_ci(obj, attr.name) else {
        return Some((out, sub.unwrap_or(attr)));
    };
    for item in items(raw) {
        match sub {
            None => out.push(item),
            Some(s) => {
                if let Some(v) = item.as_object().and_then(|o| get_ci(o, s.name)) {
                    out.extend(items(v));
                }
            }
        }
    }
    Some((out, sub.unwrap_or(attr)))
}

fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

/// `pr`: "If the attribute has a non-empty value, or if it contains a non-empty node for
/// complex attributes, there is a match."
pub(crate) fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(actual: &Value, def: &AttributeDef, op: CompareOp, expected: &Value) -> bool {
    match def.ty {
        AttrType::Boolean => {
            let (Some(a), Some(e)) = (as_bool(actual), as_bool(expected)) else {
                return false;
            };
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                _ => false,
            }
        }
        AttrType::Integer | AttrType::Decimal => {
            let (Some(a), Some(e)) = (actual.as_f64(), expected.as_f64()) else {
                return false;
            };
            a.partial_cmp(&e).is_some_and(|o| ordered(op, o))
        }
        AttrType::DateTime => {
            let (Some(a), Some(e)) = (actual.as_str(), expected.as_str()) else {
                return false;
            };
            match (parse_instant(a), parse_instant(e)) {
                (Some(a), Some(e))
                    if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) =>
                {
                    ordered(op, a.cmp(&e))
                }
                _ => compare_str(a, e, true, op),
            }
        }
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            let (Some(a), Some(e)) = (actual.as_str(), expected.as_str()) else {
                return false;
            };
            compare_str(a, e, def.case_exact, op)
        }
        AttrType::Complex => false,
    }
}

/// Booleans, tolerating the strings `"True"`/`"False"` some clients send.
pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An ISO 8601 / RFC 3339 instant (RFC 7643 §2.3.5 `dateTime` is xsd:dateTime).
pub(crate) fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn ordered(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn compare_str(a: &str, e: &str, case_exact: bool, op: CompareOp) -> bool {
    let (a, e) = if case_exact {
        (a.to_string(), e.to_string())
    } else {
        (a.to_lowercase(), e.to_lowercase())
    };
    match op {
        CompareOp::Co => a.contains(&e),
        CompareOp::Sw => a.starts_with(&e),
        CompareOp::Ew => a.ends_with(&e),
        _ => ordered(op, a.cmp(&e)),
    }
}

/// Orders two attribute values the way filters and `sortBy` do (RFC 7644 §3.4.2.3: "sort
/// order is determined by the attribute type and caseExact").
pub(crate) fn compare_values(a: &Value, b: &Value, def: &AttributeDef) -> Ordering {
    match def.ty {
        AttrType::Integer | AttrType::Decimal => {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        AttrType::Boolean => as_bool(a).cmp(&as_bool(b)),
        AttrType::DateTime => {
            let (x, y) = (a.as_str().unwrap_or(""), b.as_str().unwrap_or(""));
            match (parse_instant(x), parse_instant(y)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => x.cmp(y),
            }
        }
        _ => {
            let (x, y) = (a.as_str().unwrap_or(""), b.as_str().unwrap_or(""));
            if def.case_exact {
                x.cmp(y)
            } else {
                x.to_lowercase().cmp(&y.to_lowercase())
            }
        }
    }
}

pub(super) fn validate(f: &Filter, rt: &ResourceType) -> Result<(), ScimError> {
    check(f, Scope::Resource(rt))
}

fn leaf_def(scope: Scope<'_>, path: &AttrPath) -> Option<&'static AttributeDef> {
    match scope {
        Scope::Resource(rt) => path.resolve(rt).map(|r| match r.sub {
            Some(s) => s,
            None => r.attr.value_sub_attribute().unwrap_or(r.attr),
        }),
        Scope::Element(parent) => parent.sub_attribute(&path.name),
    }
}

fn check(f: &Filter, scope: Scope<'_>) -> Result<(), ScimError> {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check(a, scope)?;
            check(b, scope)
        }
        Filter::Not(a) => check(a, scope),
        Filter::Present(_) => Ok(()),
        Filter::Compare { path, op, .. } => match leaf_def(scope, path) {
            // RFC 7644 §3.4.2.2: "Boolean and Binary attributes SHALL cause a failed response
            // (HTTP status code 400) with "scimType" of "invalidFilter"" for gt/ge/lt/le.
            Some(def)
                if op.is_ordering() && matches!(def.ty, AttrType::Boolean | AttrType::Binary) =>
            {
                Err(ScimError::InvalidFilter(format!(
                    "operator '{}' cannot be used with {} attribute '{path}'",
                    op.as_str(),
                    def.ty.as_str()
                )))
            }
            _ => Ok(()),
        },
        Filter::ValuePath { path, filter } => {
            let Scope::Resource(rt) = scope else {
                return Ok(());
            };
            match path.resolve(rt) {
                None => Ok(()),
                Some(r) if r.attr.ty != AttrType::Complex => Err(ScimError::InvalidFilter(
                    format!("'{path}' is not a complex attribute and takes no value filter"),
                )),
                Some(r) => check(filter, Scope::Element(r.attr)),
            }
        }
    }
}
