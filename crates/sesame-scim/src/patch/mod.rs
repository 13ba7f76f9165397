//! The PATCH engine (RFC 7644 §3.5.2): parsing a `PatchOp` request and applying it to a
//! resource held as JSON, using the resource type's schema.
//!
//! Besides the RFC, it tolerates what real clients send (Entra ID, Okta): capitalised op
//! names (`Replace`), boolean strings (`"True"`), `manager` as a bare id, dotted and
//! URN-prefixed keys in path-less values, `remove` of listed values from a multi-valued
//! attribute, and add/replace through an `eq` value filter that matches nothing (the value is
//! created). Applying is all-or-nothing: on error the resource is left untouched.

mod apply;

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::PatchPath;
use crate::path::get_ci;
use crate::schema::ResourceType;

/// The schema URN of a PATCH request (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Most operations accepted in one PATCH request; a bound on work per request.
pub const MAX_PATCH_OPERATIONS: usize = 1000;

/// `op` (RFC 7644 §3.5.2), parsed case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Replace,
    Remove,
}

/// One element of `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A parsed PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// Parses a request body (RFC 7644 §3.5.2). Errors: `invalidSyntax` for the envelope and
    /// op names, `invalidPath` for paths, `invalidValue`/`noTarget` for missing values.
    pub fn parse(body: &Value) -> Result<PatchRequest, ScimError> {
        let obj = body
            .as_object()
            .ok_or_else(|| syntax("a PATCH body must be a JSON object"))?;
        let has_schema = get_ci(obj, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
                })
            });
        if !has_schema {
            return Err(syntax(&format!(
                "'schemas' must contain \"{PATCH_OP_SCHEMA}\""
            )));
        }
        let ops = get_ci(obj, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("'Operations' must be an array"))?;
        if ops.is_empty() {
            return Err(syntax("'Operations' is empty"));
        }
        if ops.len() > MAX_PATCH_OPERATIONS {
            return Err(syntax(&format!(
                "at most {MAX_PATCH_OPERATIONS} operations are accepted per request"
            )));
        }
        let operations = ops
            .iter()
            .enumerate()
            .map(|(i, op)| parse_operation(i, op))
            .collect::<Result<_, _>>()?;
        Ok(PatchRequest { operations })
    }

    /// Applies every operation in order to `resource`, atomically: on error `resource` is
    /// unchanged. Returns whether anything changed (a no-op PATCH need not bump the version).
    /// The caller sets `meta` afterwards and enforces uniqueness in the store.
    pub fn apply(&self, resource: &mut Value, rt: &ResourceType) -> Result<bool, ScimError> {
        let mut work = resource.clone();
        let obj = work
            .as_object_mut()
            .ok_or_else(|| ScimError::InvalidValue("the resource is not a JSON object".into()))?;
        for op in &self.operations {
            apply::apply_operation(obj, op, rt)?;
        }
        let changed = work != *resource;
        *resource = work;
        Ok(changed)
    }
}

fn syntax(msg: &str) -> ScimError {
    ScimError::InvalidSyntax(msg.to_string())
}

fn parse_operation(i: usize, op: &Value) -> Result<PatchOperation, ScimError> {
    let obj: &Map<String, Value> = op
        .as_object()
        .ok_or_else(|| syntax(&format!("operation {i} is not an object")))?;
    let name = get_ci(obj, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| syntax(&format!("operation {i} has no 'op'")))?;
    // Entra ID sends "Add", "Replace", "Remove"; the RFC's names are lower-case.
    let kind = match name.to_ascii_lowercase().as_str() {
        "add" => PatchOpKind::Add,
        "replace" => PatchOpKind::Replace,
        "remove" => PatchOpKind::Remove,
        _ => return Err(syntax(&format!("operation {i}: unknown op '{name}'"))),
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if p.trim().is_empty() => None,
        Some(Value::String(p)) => Some(PatchPath::parse(p)?),
        Some(_) => {
            return Err(ScimError::InvalidPath(format!(
                "operation {i}: 'path' must be a string"
            )));
        }
    };
    let value = get_ci(obj, "value").cloned();
    match (kind, &path, &value) {
        // RFC 7644 §3.5.2.1 and §3.5.2.3: add and replace carry a value.
        (PatchOpKind::Add | PatchOpKind::Replace, _, None) => Err(ScimError::InvalidValue(
            format!("operation {i}: '{name}' requires a 'value'"),
        )),
        // RFC 7644 §3.5.2.2: "If "path" is unspecified, the operation fails with ...
        // "noTarget"."
        (PatchOpKind::Remove, None, _) => Err(ScimError::NoTarget(format!(
            "operation {i}: 'remove' requires a 'path'"
        ))),
        _ => Ok(PatchOperation {
            op: kind,
            path,
            value,
        }),
    }
}

#[cfg(test)]
mod tests;
