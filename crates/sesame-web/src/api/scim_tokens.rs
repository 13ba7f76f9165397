//! SCIM server tokens of a tenant (issue 6): create (the secret is in that response only),
//! list, revoke.

use super::extract::{Admin, ApiJson, ListResponse, path_id, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sesame_core::scim::NewScimToken;
use sesame_model::ScimToken;
use utoipa::ToSchema;

/// What `POST …/scim/tokens` takes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewScimTokenRequest {
    /// What the token is for, e.g. "Entra provisioning" (default "SCIM").
    pub name: Option<String>,
    /// Lifetime in seconds; omit for a token that does not expire.
    pub expires_in_secs: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/scim/tokens", tag = "scim",
    params(("tenant" = String, Path)), request_body = NewScimTokenRequest,
    responses((status = 201, body = NewScimToken, description = "The secret is shown only in this response"),
        (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewScimTokenRequest>,
) -> Result<(StatusCode, Json<NewScimToken>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let lifetime = input
        .expires_in_secs
        .map(|s| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2)));
    let name = input.name.as_deref().unwrap_or("SCIM");
    let created = state.core.create_scim_token(t.id, name, lifetime).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/scim/tokens", tag = "scim",
    params(("tenant" = String, Path)),
    responses((status = 200, body = ListResponse<ScimToken>), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
) -> Result<Json<ListResponse<ScimToken>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let items = state.core.list_scim_tokens(t.id).await?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/scim/tokens/{id}", tag = "scim",
    params(("tenant" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: uuid::Uuid = path_id(&id, "scim_token")?;
    state.core.revoke_scim_token(t.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
