//! `POST /Bulk` (RFC 7644 §3.7): runs the operations of a parsed Bulk request through the
//! same entry points as the single-resource endpoints, in dependency order, resolving
//! `bulkId:` references, and stops after `failOnErrors` errors (§3.7.3).

use super::scim_service_config;
use crate::{Core, CoreError, CoreResult};
use serde_json::Value;
use sesame_model::Tenant;
use sesame_scim::{
    BulkLimits, BulkMethod, BulkOperation, BulkOperationResult, BulkRequest, ScimError,
    bulk_response, error_response,
};
use std::collections::HashMap;

/// The limits `/ServiceProviderConfig` advertises.
pub fn bulk_limits() -> BulkLimits {
    let c = scim_service_config();
    BulkLimits {
        max_operations: c.bulk_max_operations,
        max_payload_size: c.bulk_max_payload_size,
    }
}

/// The SCIM error body and status of a failed operation.
fn failure(e: &CoreError) -> (u16, Value) {
    match e {
        CoreError::Scim(s) => (s.status(), s.to_response()),
        CoreError::NotFound(_) => (404, error_response(404, None, &e.to_string())),
        CoreError::Conflict(_) => (409, error_response(409, Some("uniqueness"), &e.to_string())),
        CoreError::Invalid { .. } => (
            400,
            error_response(400, Some("invalidValue"), &e.to_string()),
        ),
        _ => (
            500,
            error_response(500, None, "internal failure; try again"),
        ),
    }
}

impl Core {
    /// Runs a Bulk request; `body` is the parsed JSON (the caller checked its size).
    pub async fn scim_bulk(&self, tenant: &Tenant, base: &str, body: &Value) -> CoreResult<Value> {
        let req = BulkRequest::parse(body, &bulk_limits())?;
        let (order, cyclic) = req.execution_order();
        let mut results: Vec<Option<BulkOperationResult>> = vec![None; req.operations.len()];
        let mut created: HashMap<String, String> = HashMap::new();
        let mut errors = 0usize;
        for &i in &order {
            if req.fail_on_errors.is_some_and(|max| errors >= max) {
                break;
            }
            let mut op = req.operations[i].clone();
            let outcome = match op.resolve_bulk_ids(&created) {
                Ok(()) => self.bulk_one(tenant, base, &op).await,
                Err(e) => Err(e.into()),
            };
            let result = match outcome {
                Ok(resource) => {
                    let meta = resource.as_ref().and_then(|r| r.get("meta"));
                    let text = |k: &str| {
                        meta.and_then(|m| m.get(k))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    };
                    if let (Some(b), Some(id)) = (
                        &op.bulk_id,
                        resource
                            .as_ref()
                            .and_then(|r| r.get("id"))
                            .and_then(Value::as_str),
                    ) {
                        created.insert(b.clone(), id.to_string());
                    }
                    let status = match op.method {
                        BulkMethod::Post => 201,
                        BulkMethod::Delete => 204,
                        BulkMethod::Put | BulkMethod::Patch => 200,
                    };
                    BulkOperationResult {
                        method: op.method,
                        bulk_id: op.bulk_id.clone(),
                        version: text("version"),
                        location: text("location").or_else(|| {
                            op.resource_id
                                .as_ref()
                                .map(|_| format!("{}{}", base.trim_end_matches('/'), op.path))
                        }),
                        status,
                        response: None,
                    }
                }
                Err(e) => {
                    errors += 1;
                    let (status, body) = failure(&e);
                    BulkOperationResult {
                        method: op.method,
                        bulk_id: op.bulk_id.clone(),
                        version: None,
                        location: None,
                        status,
                        response: Some(body),
                    }
                }
            };
            results[i] = Some(result);
        }
        for i in cyclic {
            if req.fail_on_errors.is_some_and(|max| errors >= max) {
                break;
            }
            errors += 1;
            let op = &req.operations[i];
            let e = ScimError::UnresolvedBulkId(
                "the operation is part of a cycle of bulkId references".into(),
            );
            results[i] = Some(BulkOperationResult {
                method: op.method,
                bulk_id: op.bulk_id.clone(),
                version: None,
                location: None,
                status: e.status(),
                response: Some(e.to_response()),
            });
        }
        // Operations not run (after failOnErrors) are left out of the response (§3.7.3).
        let done: Vec<BulkOperationResult> = results.into_iter().flatten().collect();
        Ok(bulk_response(&done))
    }

    /// One operation; returns the resource for POST, PUT and PATCH.
    async fn bulk_one(
        &self,
        tenant: &Tenant,
        base: &str,
        op: &BulkOperation,
    ) -> CoreResult<Option<Value>> {
        let user = op.resource_type.id == "User";
        let empty = Value::Null;
        let data = op.data.as_ref().unwrap_or(&empty);
        let id = op.resource_id.as_deref().unwrap_or_default();
        let version = op.version.as_deref();
        Ok(match (op.method, user) {
            (BulkMethod::Post, true) => Some(self.scim_create_user(tenant, base, data).await?),
            (BulkMethod::Post, false) => Some(self.scim_create_group(tenant, base, data).await?),
            (BulkMethod::Put, true) => Some(
                self.scim_replace_user(tenant, base, id, data, version)
                    .await?,
            ),
            (BulkMethod::Put, false) => Some(
                self.scim_replace_group(tenant, base, id, data, version)
                    .await?,
            ),
            (BulkMethod::Patch, true) => Some(
                self.scim_patch_user(tenant, base, id, data, version)
                    .await?,
            ),
            (BulkMethod::Patch, false) => Some(
                self.scim_patch_group(tenant, base, id, data, version)
                    .await?,
            ),
            (BulkMethod::Delete, true) => {
                self.scim_delete_user(tenant, id, version).await?;
                None
            }
            (BulkMethod::Delete, false) => {
                self.scim_delete_group(tenant, id, version).await?;
                None
            }
        })
    }
}
