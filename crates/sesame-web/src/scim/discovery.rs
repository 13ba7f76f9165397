//! Discovery (RFC 7644 §4: `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`), `/Bulk`
//! (§3.7) and the SCIM 404 for every other path under the endpoint.

use super::{ScimResult, authorize, base_url, json_body, scim_json};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sesame_core::scim::{bulk_limits, scim_service_config};
use sesame_scim::{
    BulkRequest, ScimError, find_resource_type, find_schema, resource_type_json,
    resource_types_json, schema_json, schemas_json, service_provider_config_json,
};

pub async fn service_provider_config(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    let doc = service_provider_config_json(&base_url(&state, &key), &scim_service_config());
    Ok(scim_json(StatusCode::OK, &doc))
}

pub async fn schemas(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    Ok(scim_json(
        StatusCode::OK,
        &schemas_json(&base_url(&state, &key)),
    ))
}

pub async fn schema(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((key, id)): Path<(String, String)>,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    let s = find_schema(&id).ok_or_else(|| ScimError::NotFound(format!("no schema {id:?}")))?;
    Ok(scim_json(
        StatusCode::OK,
        &schema_json(s, &base_url(&state, &key)),
    ))
}

pub async fn resource_types(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    Ok(scim_json(
        StatusCode::OK,
        &resource_types_json(&base_url(&state, &key)),
    ))
}

pub async fn resource_type(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((key, id)): Path<(String, String)>,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    let rt = find_resource_type(&id)
        .ok_or_else(|| ScimError::NotFound(format!("no resource type {id:?}")))?;
    Ok(scim_json(
        StatusCode::OK,
        &resource_type_json(rt, &base_url(&state, &key)),
    ))
}

/// `POST /Bulk`; 413 beyond `maxPayloadSize` (RFC 7644 §3.7.4).
pub async fn bulk(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let tenant = authorize(&state, &headers, &key).await?;
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            BulkRequest::check_payload_size(usize::MAX, &bulk_limits())?;
            return Err(ScimError::PayloadTooLarge("request too large".into()).into());
        }
        Err(e) => return Err(ScimError::InvalidSyntax(e.body_text()).into()),
    };
    BulkRequest::check_payload_size(body.len(), &bulk_limits())?;
    let v = json_body(&headers, &body)?;
    let out = state
        .core
        .scim_bulk(&tenant, &base_url(&state, &key), &v)
        .await?;
    Ok(scim_json(StatusCode::OK, &out))
}

/// Any other path under `/{tenant}/scim/v2`: a SCIM 404 (after authentication, so that an
/// anonymous caller cannot probe tenants).
pub async fn unknown(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(params): Path<Vec<(String, String)>>,
) -> ScimResult<Response> {
    let key = params
        .iter()
        .find(|(k, _)| k == "tenant")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    authorize(&state, &headers, &key).await?;
    Err(ScimError::NotFound("no such SCIM endpoint".into()).into())
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): searching several resource types at once
/// is not offered; 501 says so (the RFC lets servers decline it).
pub async fn search_all(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ScimResult<Response> {
    authorize(&state, &headers, &key).await?;
    Err(ScimError::NotImplemented(
        "search /Users/.search or /Groups/.search; one resource type at a time".into(),
    )
    .into())
}
