//! The SCIM 2.0 server endpoint, `/{tenant}/scim/v2/…` (RFC 7644).
//!
//! Handlers decode (bearer token, tenant, query, JSON body), call `sesame_core::scim`, and
//! encode `application/scim+json`. Every error is a SCIM error body (RFC 7644 §3.12) with
//! the status chosen by [`crate::error::status_of`]; `scimType` comes from the protocol
//! error, or is `uniqueness` / `invalidValue` for the core's own conflicts and invalid values.
//! A token is tied to its tenant: missing, unknown, revoked or expired tokens get 401; a
//! token addressing another tenant (existing or not) gets 403, and ids of another tenant's
//! resources are 404 under the token's own tenant. No business rule lives here.

mod discovery;
mod resources;

use crate::AppState;
use crate::error::status_of;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use sesame_core::CoreError;
use sesame_model::Tenant;
use sesame_scim::{AttributeSelection, ResourceType, ScimError, error_response};

/// The media type of SCIM messages (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

pub fn routes() -> Router<AppState> {
    use resources::{group, groups, user, users};
    Router::new()
        .route(
            "/{tenant}/scim/v2/Users",
            get(users::list).post(users::create),
        )
        .route("/{tenant}/scim/v2/Users/.search", post(users::search))
        .route(
            "/{tenant}/scim/v2/Users/{id}",
            get(user::get)
                .put(user::replace)
                .patch(user::patch)
                .delete(user::remove),
        )
        .route(
            "/{tenant}/scim/v2/Groups",
            get(groups::list).post(groups::create),
        )
        .route("/{tenant}/scim/v2/Groups/.search", post(groups::search))
        .route(
            "/{tenant}/scim/v2/Groups/{id}",
            get(group::get)
                .put(group::replace)
                .patch(group::patch)
                .delete(group::remove),
        )
        .route(
            "/{tenant}/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/{tenant}/scim/v2/Schemas", get(discovery::schemas))
        .route("/{tenant}/scim/v2/Schemas/{id}", get(discovery::schema))
        .route(
            "/{tenant}/scim/v2/ResourceTypes",
            get(discovery::resource_types),
        )
        .route(
            "/{tenant}/scim/v2/ResourceTypes/{id}",
            get(discovery::resource_type),
        )
        .route("/{tenant}/scim/v2/Bulk", post(discovery::bulk))
        .route("/{tenant}/scim/v2/.search", post(discovery::search_all))
        .route("/{tenant}/scim/v2", get(discovery::unknown))
        .route(
            "/{tenant}/scim/v2/{*rest}",
            axum::routing::any(discovery::unknown),
        )
}

/// A SCIM error response.
pub struct ScimFailure(CoreError);

impl From<CoreError> for ScimFailure {
    fn from(e: CoreError) -> Self {
        ScimFailure(e)
    }
}

impl From<ScimError> for ScimFailure {
    fn from(e: ScimError) -> Self {
        ScimFailure(CoreError::Scim(e))
    }
}

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(&e);
        let body = match &e {
            CoreError::Scim(s) => s.to_response(),
            CoreError::Conflict(_) => error_response(409, Some("uniqueness"), &e.to_string()),
            CoreError::Invalid { .. } => error_response(400, Some("invalidValue"), &e.to_string()),
            CoreError::Unauthenticated => error_response(
                401,
                None,
                "a valid SCIM token of this tenant is required (Authorization: Bearer …)",
            ),
            CoreError::Forbidden => {
                error_response(403, None, "this token may not act on that tenant")
            }
            CoreError::Storage(inner) => {
                tracing::error!(error = %inner, "storage failure");
                error_response(status.as_u16(), None, "the store is unavailable; try again")
            }
            CoreError::Internal(inner) => {
                tracing::error!(error = %inner, "internal failure");
                error_response(status.as_u16(), None, "internal failure; try again")
            }
            other => error_response(status.as_u16(), None, &other.to_string()),
        };
        let mut resp = scim_json(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"SCIM\""),
            );
        }
        resp
    }
}

pub type ScimResult<T> = Result<T, ScimFailure>;

/// A JSON body as `application/scim+json`.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SCIM_CONTENT_TYPE),
        )],
        bytes,
    )
        .into_response()
}

/// The bearer secret of the request, or 401.
fn bearer(headers: &HeaderMap) -> ScimResult<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
        })
        .filter(|s| !s.is_empty())
        .ok_or(ScimFailure(CoreError::Unauthenticated))
}

/// Authenticates the request and resolves `{tenant}` (id, initial domain or verified
/// domain). The token is checked first, so an unauthenticated caller learns nothing about
/// which tenants exist.
pub async fn authorize(state: &AppState, headers: &HeaderMap, key: &str) -> ScimResult<Tenant> {
    let token = state.core.scim_token(bearer(headers)?).await?;
    match state.core.resolve_tenant(key).await {
        Ok(t) if t.id == token.tenant_id => Ok(t),
        Ok(_) | Err(CoreError::NotFound(_)) => Err(ScimFailure(CoreError::Forbidden)),
        Err(e) => Err(e.into()),
    }
}

/// The SCIM base URL as the client addressed it, for `meta.location` and `$ref`.
pub fn base_url(state: &AppState, key: &str) -> String {
    format!(
        "{}/{}/scim/v2",
        state.config.public_url.trim_end_matches('/'),
        key
    )
}

/// Parses a JSON request body. `application/scim+json` and `application/json` are both
/// accepted (RFC 7644 §3.1 lets servers accept the latter); so is a missing content type.
pub fn json_body(headers: &HeaderMap, body: &Bytes) -> ScimResult<Value> {
    let json_like = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime.is_empty() || mime.ends_with("/json") || mime.ends_with("+json")
        })
        .unwrap_or(true);
    if !json_like {
        return Err(ScimError::InvalidSyntax(format!(
            "send the body as {SCIM_CONTENT_TYPE} or application/json"
        ))
        .into());
    }
    serde_json::from_slice(body)
        .map_err(|e| ScimError::InvalidSyntax(format!("malformed JSON body: {e}")).into())
}

/// The `If-Match` header, if any.
pub fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
}

/// A single resource with its `ETag` (RFC 7644 §3.14), `Location` when created, and the
/// requested attribute selection (§3.9).
pub fn resource_response(
    status: StatusCode,
    resource: &Value,
    rt: &ResourceType,
    selection: &AttributeSelection,
) -> Response {
    let meta = resource.get("meta");
    let version = meta.and_then(|m| m.get("version")).and_then(Value::as_str);
    let location = meta.and_then(|m| m.get("location")).and_then(Value::as_str);
    let mut resp = scim_json(status, &selection.apply(resource, rt));
    let h = resp.headers_mut();
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(v).ok()) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED
        && let Some(l) = location.and_then(|l| HeaderValue::from_str(l).ok())
    {
        h.insert(header::LOCATION, l);
    }
    resp
}
