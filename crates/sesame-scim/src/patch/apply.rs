//! Applying one PATCH operation (RFC 7644 §3.5.2.1 add, §3.5.2.2 remove, §3.5.2.3 replace).
//!
//! Multi-valued merges are hash-based, so adding or removing n members of a group of m costs
//! O(n + m), not O(n × m).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{PatchOpKind, PatchOperation};
use crate::error::ScimError;
use crate::filter::eval::{as_bool, matches_element, parse_instant};
use crate::filter::{CompareOp, Filter};
use crate::path::{AttrPath, get_ci, key_ci};
use crate::schema::{AttrType, AttributeDef, Mutability, ResourceType, Schema};

/// What an operation designates.
struct Target<'f> {
    /// Extension URN holding the attribute; `None` for core and common attributes.
    container: Option<&'static str>,
    attr: &'static AttributeDef,
    /// The value filter in brackets, if any.
    filter: Option<&'f Filter>,
    /// The sub-attribute (`name.givenName`, or `emails[…].value`).
    sub: Option<&'static AttributeDef>,
}

impl Target<'_> {
    fn describe(&self) -> String {
        match self.sub {
            Some(s) => format!("{}.{}", self.attr.name, s.name),
            None => self.attr.name.to_string(),
        }
    }
}

pub(super) fn apply_operation(
    res: &mut Map<String, Value>,
    op: &PatchOperation,
    rt: &ResourceType,
) -> Result<(), ScimError> {
    match &op.path {
        None => {
            let value = op
                .value
                .as_ref()
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    ScimError::InvalidValue(
                        "an operation without 'path' needs an object 'value' (RFC 7644 §3.5.2)"
                            .into(),
                    )
                })?;
            apply_object(res, op.op, value, rt, None)?;
        }
        Some(p) => {
            // A path that is exactly an extension URN designates the whole extension.
            if let Some(ext) = rt.extension(&p.raw) {
                match op.op {
                    PatchOpKind::Remove => {
                        if let Some(k) = key_ci(res, ext.id) {
                            res.remove(&k);
                        }
                    }
                    _ => {
                        let value =
                            op.value
                                .as_ref()
                                .and_then(Value::as_object)
                                .ok_or_else(|| {
                                    ScimError::InvalidValue(format!(
                                        "'{}' takes an object value",
                                        ext.id
                                    ))
                                })?;
                        apply_object(res, op.op, value, rt, Some(ext))?;
                    }
                }
            } else {
                let r = p.attr.resolve(rt).ok_or_else(|| {
                    ScimError::InvalidPath(format!("unknown attribute '{}'", p.attr))
                })?;
                let sub = match (&p.sub, r.sub) {
                    (Some(name), _) => Some(r.attr.sub_attribute(name).ok_or_else(|| {
                        ScimError::InvalidPath(format!(
                            "'{}' has no sub-attribute '{name}'",
                            r.attr.name
                        ))
                    })?),
                    (None, s) => s,
                };
                if p.filter.is_some() && r.attr.ty != AttrType::Complex {
                    return Err(ScimError::InvalidPath(format!(
                        "'{}' is not complex and takes no value filter",
                        r.attr.name
                    )));
                }
                let target = Target {
                    container: r.container,
                    attr: r.attr,
                    filter: p.filter.as_ref(),
                    sub,
                };
                apply_target(res, op.op, &target, op.value.clone())?;
            }
        }
    }
    tidy_extensions(res, rt);
    Ok(())
}

/// A path-less add or replace: "the "value" parameter contains a set of attributes" (RFC
/// 7644 §3.5.2.1, §3.5.2.3). Keys may be extension URNs holding objects, or — as Entra ID
/// sends them — dotted (`name.givenName`) or URN-prefixed attribute paths.
fn apply_object(
    res: &mut Map<String, Value>,
    kind: PatchOpKind,
    value: &Map<String, Value>,
    rt: &ResourceType,
    ext: Option<&'static Schema>,
) -> Result<(), ScimError> {
    for (key, v) in value {
        if ext.is_none() {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(e) = rt.extension(key) {
                let inner = v.as_object().ok_or_else(|| {
                    ScimError::InvalidValue(format!("'{}' takes an object value", e.id))
                })?;
                apply_object(res, kind, inner, rt, Some(e))?;
                continue;
            }
        }
        let mut path = AttrPath::parse(key)
            .ok_or_else(|| ScimError::InvalidPath(format!("invalid attribute name '{key}'")))?;
        if let (Some(e), None) = (ext, &path.urn) {
            path.urn = Some(e.id.to_string());
        }
        let r = path
            .resolve(rt)
            .ok_or_else(|| ScimError::InvalidPath(format!("unknown attribute '{key}'")))?;
        let target = Target {
            container: r.container,
            attr: r.attr,
            filter: None,
            sub: r.sub,
        };
        // Clients often echo read-only attributes (id, meta) unchanged: tolerate that, and
        // reject only a real change (RFC 7644 §3.5.2, mutability).
        let read_only = r.attr.mutability == Mutability::ReadOnly
            || r.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly);
        if read_only && current(res, &target) == Some(v) {
            continue;
        }
        apply_target(res, kind, &target, Some(v.clone()))?;
    }
    Ok(())
}

fn current<'a>(res: &'a Map<String, Value>, t: &Target<'_>) -> Option<&'a Value> {
    let cont = match t.container {
        None => res,
        Some(urn) => get_ci(res, urn)?.as_object()?,
    };
    let v = get_ci(cont, t.attr.name)?;
    match t.sub {
        None => Some(v),
        Some(s) => get_ci(v.as_object()?, s.name),
    }
}

fn check_mutability(
    res: &Map<String, Value>,
    kind: PatchOpKind,
    t: &Target<'_>,
) -> Result<(), ScimError> {
    let name = t.describe();
    if t.attr.mutability == Mutability::ReadOnly
        || t.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        return Err(ScimError::Mutability(format!("'{name}' is readOnly")));
    }
    // Immutable: may be set when unassigned, never changed (RFC 7643 §7).
    let immutable = if t.attr.multi_valued {
        t.sub.is_some_and(|s| s.mutability == Mutability::Immutable)
    } else {
        t.attr.mutability == Mutability::Immutable
            || t.sub.is_some_and(|s| s.mutability == Mutability::Immutable)
    };
    // For a sub-attribute of a multi-valued attribute, only an add may set it (on the value
    // it creates); replace and remove would change existing values.
    let assigned = if t.attr.multi_valued {
        kind != PatchOpKind::Add
    } else {
        current(res, t).is_some_and(crate::filter::eval::is_present)
    };
    if immutable && (assigned || kind == PatchOpKind::Remove) {
        return Err(ScimError::Mutability(format!("'{name}' is immutable")));
    }
    Ok(())
}

fn apply_target(
    res: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target<'_>,
    value: Option<Value>,
) -> Result<(), ScimError> {
    check_mutability(res, kind, t)?;
    // RFC 7643 §2.5: null is equivalent to unassigned.
    let value = value.filter(|v| !v.is_null());
    let kind = if value.is_none() {
        PatchOpKind::Remove
    } else {
        kind
    };
    let Some(cont) = container(res, t.container, kind != PatchOpKind::Remove) else {
        return Ok(());
    };
    let name = t.attr.name;
    if let Some(k) = key_ci(cont, name).filter(|k| k != name) {
        // Normalise the key's case so later lookups and merges see one attribute.
        if let Some(v) = cont.remove(&k) {
            cont.insert(name.to_string(), v);
        }
    }
    match (kind, value) {
        (PatchOpKind::Remove, v) => remove(cont, t, v),
        (kind, Some(v)) => set(cont, kind, t, v),
        (_, None) => Ok(()),
    }
}

/// The object holding the target's attributes, created (with its URN added to `schemas`)
/// when `create` is set and it does not exist.
fn container<'a>(
    res: &'a mut Map<String, Value>,
    urn: Option<&'static str>,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    let Some(urn) = urn else {
        return Some(res);
    };
    let key = match key_ci(res, urn) {
        Some(k) => k,
        None if create => {
            add_schema(res, urn);
            res.insert(urn.to_string(), Value::Object(Map::new()));
            urn.to_string()
        }
        None => return None,
    };
    let slot = res.get_mut(&key)?;
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

fn add_schema(res: &mut Map<String, Value>, urn: &str) {
    let schemas = res
        .entry("schemas")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = schemas
        && !a
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)))
    {
        a.push(Value::String(urn.to_string()));
    }
}

/// Drops extension objects left empty (and their URN from `schemas`), and adds the URN of
/// every extension present.
fn tidy_extensions(res: &mut Map<String, Value>, rt: &ResourceType) {
    for (ext, _) in rt.extensions {
        let Some(k) = key_ci(res, ext.id) else {
            if let Some(Value::Array(a)) = res.get_mut("schemas") {
                a.retain(|s| !s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext.id)));
            }
            continue;
        };
        let empty = res
            .get(&k)
            .is_none_or(|v| v.as_object().is_none_or(|o| o.is_empty()));
        if empty {
            res.remove(&k);
            if let Some(Value::Array(a)) = res.get_mut("schemas") {
                a.retain(|s| !s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext.id)));
            }
        } else {
            add_schema(res, ext.id);
        }
    }
}

fn remove(
    cont: &mut Map<String, Value>,
    t: &Target<'_>,
    value: Option<Value>,
) -> Result<(), ScimError> {
    let name = t.attr.name;
    match (t.filter, t.sub) {
        (Some(filter), sub) => {
            if let Some(Value::Array(items)) = cont.get_mut(name) {
                match sub {
                    Some(s) => {
                        for el in items
                            .iter_mut()
                            .filter(|el| matches_element(filter, el, t.attr))
                        {
                            remove_key(el, s.name);
                        }
                    }
                    None => items.retain(|el| !matches_element(filter, el, t.attr)),
                }
            }
        }
        (None, Some(s)) => match cont.get_mut(name) {
            Some(Value::Array(items)) => items.iter_mut().for_each(|el| remove_key(el, s.name)),
            Some(el) => remove_key(el, s.name),
            None => {}
        },
        // Entra ID removes group members with `"path": "members", "value": [{"value": id}]`:
        // only the listed values go.
        (None, None) if t.attr.multi_valued && value.is_some() => {
            let listed = coerce(t.attr, value.unwrap_or(Value::Null))?;
            let listed = listed.as_array().map(Vec::as_slice).unwrap_or_default();
            let keys: HashSet<String> = listed.iter().filter_map(|v| identity(v, t.attr)).collect();
            if let Some(Value::Array(items)) = cont.get_mut(name) {
                items.retain(|el| match identity(el, t.attr) {
                    Some(k) => !keys.contains(&k),
                    None => !listed.contains(el),
                });
            }
        }
        (None, None) => {
            if t.attr.required {
                return Err(ScimError::InvalidValue(format!(
                    "'{name}' is required and cannot be removed"
                )));
            }
            cont.remove(name);
        }
    }
    drop_if_empty(cont, name);
    Ok(())
}

fn remove_key(el: &mut Value, key: &str) {
    if let Some(o) = el.as_object_mut()
        && let Some(k) = key_ci(o, key)
    {
        o.remove(&k);
    }
}

fn drop_if_empty(cont: &mut Map<String, Value>, name: &str) {
    let empty = match cont.get(name) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    };
    if empty {
        cont.remove(name);
    }
}

fn set(
    cont: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target<'_>,
    value: Value,
) -> Result<(), ScimError> {
    let name = t.attr.name;
    match (t.filter, t.sub) {
        (Some(filter), sub) => set_filtered(cont, kind, t, filter, sub, value)?,
        (None, Some(s)) => {
            let v = coerce(s, value)?;
            let slot = cont.entry(name).or_insert_with(|| {
                if t.attr.multi_valued {
                    Value::Array(vec![Value::Object(Map::new())])
                } else {
                    Value::Object(Map::new())
                }
            });
            match slot {
                Value::Array(items) => {
                    for el in items.iter_mut() {
                        put(el, s.name, v.clone());
                    }
                }
                el => put(el, s.name, v),
            }
        }
        (None, None) if t.attr.multi_valued => {
            let new = into_array(coerce(t.attr, value)?);
            let primary_set = new.iter().any(is_primary);
            let items = match (kind, cont.remove(name)) {
                (PatchOpKind::Add, Some(Value::Array(old))) => merge_multi(old, new, t.attr),
                // Replace without filter: "the set of values in value replaces the existing
                // values" — deduplicated as an add into nothing.
                _ => merge_multi(Vec::new(), new, t.attr),
            };
            cont.insert(name.to_string(), Value::Array(items));
            if primary_set {
                keep_last_primary(cont.get_mut(name));
            }
        }
        (None, None) if t.attr.ty == AttrType::Complex => {
            // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes not given are left unchanged.
            let new = coerce(t.attr, value)?;
            let slot = cont
                .entry(name)
                .or_insert_with(|| Value::Object(Map::new()));
            merge_object(slot, new);
        }
        (None, None) => {
            cont.insert(name.to_string(), coerce(t.attr, value)?);
        }
    }
    drop_if_empty(cont, name);
    Ok(())
}

/// add/replace through `attr[filter]` or `attr[filter].sub`.
fn set_filtered(
    cont: &mut Map<String, Value>,
    kind: PatchOpKind,
    t: &Target<'_>,
    filter: &Filter,
    sub: Option<&'static AttributeDef>,
    value: Value,
) -> Result<(), ScimError> {
    let name = t.attr.name;
    let new = match sub {
        Some(s) => coerce(s, value)?,
        None => coerce_one(t.attr, value)?,
    };
    let slot = cont.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Object(_) = slot {
        *slot = Value::Array(vec![slot.take()]);
    }
    let Value::Array(items) = slot else {
        return Err(ScimError::InvalidValue(format!(
            "'{name}' holds a malformed value"
        )));
    };
    let mut matched = 0;
    for el in items
        .iter_mut()
        .filter(|el| matches_element(filter, el, t.attr))
    {
        matched += 1;
        match (sub, kind) {
            (Some(s), _) => put(el, s.name, new.clone()),
            // "all matching record values SHALL be replaced" (RFC 7644 §3.5.2.3).
            (None, PatchOpKind::Replace) => *el = new.clone(),
            (None, _) => merge_object(el, new.clone()),
        }
    }
    if matched == 0 {
        // RFC 7644 §3.5.2.3 answers noTarget here. Entra ID, however, writes a work email
        // of a user who has none with `replace emails[type eq "work"].value`; when the
        // filter is a conjunction of `eq`, we create the value it describes.
        let Some(mut seed) = eq_seed(filter, t.attr) else {
            return Err(ScimError::NoTarget(format!(
                "no value of '{name}' matches the filter"
            )));
        };
        match sub {
            Some(s) => {
                seed.insert(s.name.to_string(), new);
            }
            None => {
                if let Value::Object(o) = new {
                    seed.extend(o);
                }
            }
        }
        items.push(Value::Object(seed));
    }
    if sub.is_some_and(|s| s.name == "primary")
        || items.iter().filter(|v| is_primary(v)).count() > 1
    {
        keep_last_primary(cont.get_mut(name));
    }
    Ok(())
}

/// The sub-attribute values fixed by a filter made only of `eq` tests joined by `and`.
fn eq_seed(filter: &Filter, def: &AttributeDef) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.urn.is_none() && path.sub.is_none() => {
            let s = def.sub_attribute(&path.name)?;
            let mut m = Map::new();
            m.insert(s.name.to_string(), coerce_one(s, value.clone()).ok()?);
            Some(m)
        }
        Filter::And(a, b) => {
            let mut m = eq_seed(a, def)?;
            m.extend(eq_seed(b, def)?);
            Some(m)
        }
        _ => None,
    }
}

fn put(el: &mut Value, key: &str, v: Value) {
    if !el.is_object() {
        *el = Value::Object(Map::new());
    }
    if let Some(o) = el.as_object_mut() {
        if let Some(k) = key_ci(o, key) {
            o.remove(&k);
        }
        if !v.is_null() {
            o.insert(key.to_string(), v);
        }
    }
}

fn merge_object(slot: &mut Value, new: Value) {
    match new {
        Value::Object(o) => {
            for (k, v) in o {
                put(slot, &k, v);
            }
        }
        other => *slot = other,
    }
}

fn into_array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn is_primary(v: &Value) -> bool {
    v.as_object()
        .and_then(|o| get_ci(o, "primary"))
        .and_then(as_bool)
        .unwrap_or(false)
}

/// RFC 7643 §2.4: "The primary attribute value "true" MUST appear no more than once." The
/// value set last wins.
fn keep_last_primary(slot: Option<&mut Value>) {
    let Some(Value::Array(items)) = slot else {
        return;
    };
    let Some(last) = items.iter().rposition(is_primary) else {
        return;
    };
    for (i, el) in items.iter_mut().enumerate() {
        if i != last && is_primary(el) {
            put(el, "primary", Value::Bool(false));
        }
    }
}

/// The identity of a multi-valued element: its `value` sub-attribute, case-folded unless
/// caseExact. Elements without one (addresses) compare whole.
fn identity(el: &Value, def: &AttributeDef) -> Option<String> {
    let value_def = def.value_sub_attribute()?;
    let v = get_ci(el.as_object()?, "value")?;
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(if value_def.case_exact {
        s
    } else {
        s.to_lowercase()
    })
}

/// "add" into a multi-valued attribute: new values are appended; a value already present
/// (same identity) is merged instead of duplicated (RFC 7644 §3.5.2.1). O(old + new).
fn merge_multi(mut old: Vec<Value>, new: Vec<Value>, def: &AttributeDef) -> Vec<Value> {
    let mut index: HashMap<String, usize> = old
        .iter()
        .enumerate()
        .filter_map(|(i, v)| identity(v, def).map(|k| (k, i)))
        .collect();
    for v in new {
        match identity(&v, def) {
            Some(k) => match index.get(&k) {
                Some(&i) => merge_object(&mut old[i], v),
                None => {
                    index.insert(k, old.len());
                    old.push(v);
                }
            },
            None => {
                if !old.contains(&v) {
                    old.push(v);
                }
            }
        }
    }
    old
}

/// Checks and normalises a value for `def` (the whole attribute: an array when
/// multi-valued, a lone value being wrapped).
fn coerce(def: &AttributeDef, v: Value) -> Result<Value, ScimError> {
    if def.multi_valued {
        return Ok(Value::Array(
            into_array(v)
                .into_iter()
                .map(|x| coerce_one(def, x))
                .collect::<Result<_, _>>()?,
        ));
    }
    coerce_one(def, v)
}

fn invalid(def: &AttributeDef, what: &str) -> ScimError {
    ScimError::InvalidValue(format!(
        "'{}' expects {what} ({} attribute)",
        def.name,
        def.ty.as_str()
    ))
}

/// One value of `def` (RFC 7643 §2.3 data types), with the tolerances real clients need.
fn coerce_one(def: &AttributeDef, v: Value) -> Result<Value, ScimError> {
    if v.is_null() {
        return Ok(v);
    }
    match def.ty {
        AttrType::Complex => match v {
            // Entra ID sends `manager` as the manager's id; members may come the same way.
            Value::String(s) if def.value_sub_attribute().is_some() => {
                let mut o = Map::new();
                o.insert("value".into(), Value::String(s));
                Ok(Value::Object(o))
            }
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    let Some(s) = def.sub_attribute(&k) else {
                        return Err(ScimError::InvalidValue(format!(
                            "'{}' has no sub-attribute '{k}'",
                            def.name
                        )));
                    };
                    // Read-only sub-attributes in a client's value are ignored (RFC 7643 §2.2).
                    if s.mutability == Mutability::ReadOnly || x.is_null() {
                        continue;
                    }
                    out.insert(s.name.to_string(), coerce_one(s, x)?);
                }
                Ok(Value::Object(out))
            }
            _ => Err(invalid(def, "an object")),
        },
        // Entra ID sends booleans as "True"/"False".
        AttrType::Boolean => as_bool(&v)
            .map(Value::Bool)
            .ok_or_else(|| invalid(def, "true or false")),
        AttrType::String | AttrType::Reference | AttrType::Binary => match v {
            Value::String(_) => Ok(v),
            Value::Number(n) if def.ty == AttrType::String => Ok(Value::String(n.to_string())),
            _ => Err(invalid(def, "a string")),
        },
        AttrType::Integer if v.is_i64() || v.is_u64() => Ok(v),
        AttrType::Integer => Err(invalid(def, "an integer")),
        AttrType::Decimal if v.is_number() => Ok(v),
        AttrType::Decimal => Err(invalid(def, "a number")),
        AttrType::DateTime if v.as_str().and_then(parse_instant).is_some() => Ok(v),
        AttrType::DateTime => Err(invalid(def, "an RFC 3339 date-time")),
    }
}
