//! Extractors of the admin API: the bearer token, JSON bodies that fail as problem+json,
//! pagination parameters, and the tenant / user path keys.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sesame_core::{AdminScope, CoreError};
use sesame_model::{Page, PageRequest, Tenant, User, UserId};
use utoipa::{IntoParams, ToSchema};

/// An authenticated admin token's scope.
pub struct Admin(pub AdminScope);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or(CoreError::Unauthenticated)?;
        Ok(Admin(state.core.authenticate_admin(secret).await?))
    }
}

/// A JSON body; any failure (wrong content type, too large, malformed, unknown field, wrong
/// type) is a 4xx problem+json, never axum's plain-text rejection.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "SESAME-1415",
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "SESAME-1413",
                        "Body too large",
                        format!("request bodies are limited to {} bytes", crate::BODY_LIMIT),
                    )
                } else {
                    ApiError::bad_json(e.body_text())
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_json(e.to_string()))
    }
}

/// `?limit=&cursor=` on every list endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn page(&self) -> PageRequest {
        PageRequest::new(self.limit, self.cursor.clone())
    }
}

/// One page of a list; follow `nextCursor` until it is absent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for ListResponse<T> {
    fn from(p: Page<T>) -> Self {
        ListResponse {
            items: p.items,
            next_cursor: p.next,
        }
    }
}

/// Parses query strings into problem+json errors rather than plain-text rejections.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_query(e.to_string()))
    }
}

/// Resolves `{tenant}` and checks the token may act on it. A tenant-limited token learns
/// nothing about other tenants: they are all 403, existing or not.
pub async fn tenant(state: &AppState, scope: AdminScope, key: &str) -> Result<Tenant, ApiError> {
    match state.core.resolve_tenant(key).await {
        Ok(t) => {
            scope.check_tenant(t.id)?;
            Ok(t)
        }
        Err(CoreError::NotFound(_)) if scope != AdminScope::Global => {
            Err(CoreError::Forbidden.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Resolves `{user}`: an object id, or a UPN (case-insensitive).
pub async fn user(state: &AppState, tenant: &Tenant, key: &str) -> Result<User, ApiError> {
    if let Ok(id) = key.parse::<UserId>() {
        return Ok(state.core.get_user(tenant.id, id).await?);
    }
    let upn = sesame_model::normalize_upn(key).map_err(|_| CoreError::NotFound("user"))?;
    Ok(state
        .core
        .store()
        .find_user_by_upn(tenant.id, &upn)
        .await
        .map_err(CoreError::from)?)
}

/// Parses an id path segment into a 404 (not a 400) when malformed: such an id names nothing.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &'static str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| CoreError::NotFound(what).into())
}
