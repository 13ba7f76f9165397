//! Bulk requests (RFC 7644 §3.7): parsing and validation, `bulkId` references, execution
//! order and the response envelope. Running the operations is the server's job: it takes
//! [`BulkRequest::operations`] in [`BulkRequest::execution_order`], resolves references with
//! [`BulkOperation::resolve_bulk_ids`], stops after `fail_on_errors` failures, and builds the
//! answer with [`bulk_response`].

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::path::get_ci;
use crate::schema::ResourceType;

/// The schema URN of a Bulk request (RFC 7644 §3.7).
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// The schema URN of a Bulk response (RFC 7644 §3.7).
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

const BULK_ID_PREFIX: &str = "bulkId:";

/// The limits advertised in `/ServiceProviderConfig` (RFC 7644 §3.7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: usize,
    pub max_payload_size: usize,
}

/// `method` of a Bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One validated operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: BulkMethod,
    /// As sent: `/Users` for POST, `/Users/{id}` otherwise; the id may be `bulkId:…`.
    pub path: String,
    pub resource_type: &'static ResourceType,
    /// The resource id in the path (PUT, PATCH, DELETE).
    pub resource_id: Option<String>,
    pub bulk_id: Option<String>,
    /// An ETag the resource must match (`If-Match` semantics, RFC 7644 §3.7).
    pub version: Option<String>,
    pub data: Option<Value>,
}

/// A validated Bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (RFC 7644 §3.7: `failOnErrors`); `None`: run everything.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkOperation>,
}

impl BulkRequest {
    /// Checks the body size before parsing: 413 beyond `maxPayloadSize` (RFC 7644 §3.7.4).
    pub fn check_payload_size(len: usize, limits: &BulkLimits) -> Result<(), ScimError> {
        if len > limits.max_payload_size {
            return Err(ScimError::PayloadTooLarge(format!(
                "the request is larger than maxPayloadSize ({} bytes)",
                limits.max_payload_size
            )));
        }
        Ok(())
    }

    /// Parses and validates a Bulk request body.
    pub fn parse(body: &Value, limits: &BulkLimits) -> Result<BulkRequest, ScimError> {
        let syntax = |m: String| ScimError::InvalidSyntax(m);
        let obj = body
            .as_object()
            .ok_or_else(|| syntax("a Bulk body must be a JSON object".into()))?;
        let has_schema = get_ci(obj, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST_SCHEMA))
                })
            });
        if !has_schema {
            return Err(syntax(format!(
                "'schemas' must contain \"{BULK_REQUEST_SCHEMA}\""
            )));
        }
        let fail_on_errors = match get_ci(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n) if n >= 1 => Some(n),
                _ => {
                    return Err(ScimError::InvalidValue(
                        "failOnErrors must be a positive integer".into(),
                    ));
                }
            },
        };
        let ops = get_ci(obj, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("'Operations' must be an array".into()))?;
        // RFC 7644 §3.7.4: too many operations is 413 Payload Too Large.
        if ops.len() > limits.max_operations {
            return Err(ScimError::PayloadTooLarge(format!(
                "the request has {} operations; maxOperations is {}",
                ops.len(),
                limits.max_operations
            )));
        }
        let operations: Vec<BulkOperation> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| parse_operation(i, op))
            .collect::<Result<_, _>>()?;
        let mut seen = HashSet::new();
        for op in &operations {
            if let Some(id) = &op.bulk_id
                && !seen.insert(id.as_str())
            {
                return Err(ScimError::InvalidValue(format!(
                    "bulkId '{id}' is used twice"
                )));
            }
        }
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }

    /// The order to run operations in: each after the operations whose `bulkId` it
    /// references (RFC 7644 §3.7.1), request order otherwise. Returns `(order, cyclic)`;
    /// operations in a reference cycle are left out of `order` and listed in `cyclic`, for the
    /// server to answer each with [`ScimError::UnresolvedBulkId`]. References to unknown
    /// bulkIds do not constrain the order; `resolve_bulk_ids` reports them.
    pub fn execution_order(&self) -> (Vec<usize>, Vec<usize>) {
        let by_id: HashMap<&str, usize> = self
            .operations
            .iter()
            .enumerate()
            .filter_map(|(i, op)| op.bulk_id.as_deref().map(|b| (b, i)))
            .collect();
        let deps: Vec<Vec<usize>> = self
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| {
                op.referenced_bulk_ids()
                    .iter()
                    .filter_map(|b| by_id.get(b.as_str()).copied())
                    .filter(|&d| d != i)
                    .collect()
            })
            .collect();
        let mut done = vec![false; deps.len()];
        let mut order = Vec::with_capacity(deps.len());
        // Repeated passes: bulk requests are bounded by maxOperations, and reference chains
        // are short in practice.
        loop {
            let before = order.len();
            for i in 0..deps.len() {
                if !done[i] && deps[i].iter().all(|&d| done[d]) {
                    done[i] = true;
                    order.push(i);
                }
            }
            if order.len() == before {
                break;
            }
        }
        let cyclic = (0..deps.len()).filter(|&i| !done[i]).collect();
        (order, cyclic)
    }
}

fn parse_operation(i: usize, op: &Value) -> Result<BulkOperation, ScimError> {
    let obj: &Map<String, Value> = op
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax(format!("operation {i} is not an object")))?;
    let text = |key: &str| get_ci(obj, key).and_then(Value::as_str).map(str::to_string);
    let method = match text("method").map(|m| m.to_ascii_uppercase()).as_deref() {
        Some("POST") => BulkMethod::Post,
        Some("PUT") => BulkMethod::Put,
        Some("PATCH") => BulkMethod::Patch,
        Some("DELETE") => BulkMethod::Delete,
        _ => {
            return Err(ScimError::InvalidSyntax(format!(
                "operation {i}: 'method' must be POST, PUT, PATCH or DELETE"
            )));
        }
    };
    let path = text("path")
        .ok_or_else(|| ScimError::InvalidSyntax(format!("operation {i}: 'path' is required")))?;
    let bad_path = || ScimError::InvalidPath(format!("operation {i}: invalid path '{path}'"));
    let rest = path.strip_prefix('/').ok_or_else(bad_path)?;
    let (endpoint, id) = match rest.split_once('/') {
        Some((e, id)) if !id.is_empty() && !id.contains('/') => (e, Some(id.to_string())),
        Some(_) => return Err(bad_path()),
        None => (rest, None),
    };
    let resource_type = ResourceType::by_endpoint(&format!("/{endpoint}")).ok_or_else(bad_path)?;
    match (method, &id) {
        (BulkMethod::Post, Some(_)) => return Err(bad_path()),
        (BulkMethod::Put | BulkMethod::Patch | BulkMethod::Delete, None) => {
            return Err(bad_path());
        }
        _ => {}
    }
    let bulk_id = text("bulkId");
    // RFC 7644 §3.7: bulkId is REQUIRED when method is POST.
    if method == BulkMethod::Post && bulk_id.as_deref().is_none_or(str::is_empty) {
        return Err(ScimError::InvalidValue(format!(
            "operation {i}: a POST needs a 'bulkId'"
        )));
    }
    let data = get_ci(obj, "data").filter(|v| !v.is_null()).cloned();
    if method != BulkMethod::Delete && !data.as_ref().is_some_and(Value::is_object) {
        return Err(ScimError::InvalidValue(format!(
            "operation {i}: {} needs an object 'data'",
            method.as_str()
        )));
    }
    Ok(BulkOperation {
        method,
        path,
        resource_type,
        resource_id: id,
        bulk_id,
        version: text("version"),
        data,
    })
}

impl BulkOperation {
    /// Every `bulkId:xyz` this operation references, in its path or anywhere in its data.
    pub fn referenced_bulk_ids(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(id) = self
            .resource_id
            .as_deref()
            .and_then(|s| s.strip_prefix(BULK_ID_PREFIX))
        {
            out.push(id.to_string());
        }
        if let Some(d) = &self.data {
            collect_refs(d, &mut out);
        }
        out
    }

    /// Replaces every `bulkId:xyz` (in the path and anywhere in the data) by the id of the
    /// resource that the operation with that bulkId created. `created` maps bulkId → id. An
    /// unknown bulkId is [`ScimError::UnresolvedBulkId`] (409, RFC 7644 §3.7.3).
    pub fn resolve_bulk_ids(&mut self, created: &HashMap<String, String>) -> Result<(), ScimError> {
        let lookup = |s: &str| -> Result<Option<String>, ScimError> {
            match s.strip_prefix(BULK_ID_PREFIX) {
                None => Ok(None),
                Some(b) => created.get(b).cloned().map(Some).ok_or_else(|| {
                    ScimError::UnresolvedBulkId(format!(
                        "bulkId '{b}' does not name a created resource"
                    ))
                }),
            }
        };
        if let Some(id) = &self.resource_id
            && let Some(real) = lookup(id)?
        {
            self.path = format!("{}/{real}", self.resource_type.endpoint);
            self.resource_id = Some(real);
        }
        if let Some(d) = &mut self.data {
            replace_refs(d, &lookup)?;
        }
        Ok(())
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(b) = s.strip_prefix(BULK_ID_PREFIX) {
                out.push(b.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn replace_refs(
    v: &mut Value,
    lookup: &impl Fn(&str) -> Result<Option<String>, ScimError>,
) -> Result<(), ScimError> {
    match v {
        Value::String(s) => {
            if let Some(real) = lookup(s)? {
                *s = real;
            }
        }
        Value::Array(a) => {
            for x in a {
                replace_refs(x, lookup)?;
            }
        }
        Value::Object(o) => {
            for x in o.values_mut() {
                replace_refs(x, lookup)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The outcome of one operation, for the response.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperationResult {
    pub method: BulkMethod,
    pub bulk_id: Option<String>,
    pub version: Option<String>,
    pub location: Option<String>,
    pub status: u16,
    /// The error body (or, for successes, optionally the resource).
    pub response: Option<Value>,
}

/// The BulkResponse envelope (RFC 7644 §3.7); `status` is a string there too.
pub fn bulk_response(results: &[BulkOperationResult]) -> Value {
    let ops: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("method".into(), r.method.as_str().into());
            if let Some(b) = &r.bulk_id {
                o.insert("bulkId".into(), b.clone().into());
            }
            if let Some(v) = &r.version {
                o.insert("version".into(), v.clone().into());
            }
            if let Some(l) = &r.location {
                o.insert("location".into(), l.clone().into());
            }
            o.insert("status".into(), r.status.to_string().into());
            if let Some(resp) = &r.response {
                o.insert("response".into(), resp.clone());
            }
            Value::Object(o)
        })
        .collect();
    json!({"schemas": [BULK_RESPONSE_SCHEMA], "Operations": ops})
}

#[cfg(test)]
mod tests;
