//! The sign-in log and admin tokens.

use super::extract::{Admin, ApiJson, ApiQuery, ListResponse, path_id, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sesame_core::{CoreError, NewAdminToken, NewAdminTokenRequest};
use sesame_model::{
    AdminToken, AdminTokenId, AppId, PageRequest, SignInEvent, SignInQuery, SignInResult, UserId,
};
use utoipa::IntoParams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SignInParams {
    /// Only this user's attempts (user id).
    pub user: Option<UserId>,
    /// Only sign-ins to this application (app id).
    pub app: Option<AppId>,
    /// `success`, `failure` or `locked`.
    pub result: Option<String>,
    pub correlation_id: Option<String>,
    /// Only sign-ins at or after this instant (RFC 3339, e.g. `2026-11-22T08:00:00Z`).
    #[param(format = DateTime)]
    pub since: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/signins", tag = "signins",
    params(("tenant" = String, Path), SignInParams),
    responses((status = 200, body = ListResponse<SignInEvent>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<SignInParams>,
) -> Result<Json<ListResponse<SignInEvent>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let result = match params.result.as_deref() {
        None => None,
        Some(r) => Some(
            SignInResult::parse(r)
                .ok_or_else(|| ApiError::bad_query("result must be success, failure or locked"))?,
        ),
    };
    let since = match params.since.as_deref() {
        None => None,
        Some(s) => Some(
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    ApiError::bad_query("since must be an RFC 3339 instant (2026-11-22T08:00:00Z)")
                })?,
        ),
    };
    let query = SignInQuery {
        since,
        user_id: params.user,
        app_id: params.app,
        result,
        correlation_id: params.correlation_id,
    };
    let page = PageRequest::new(params.limit, params.cursor);
    let page = state
        .core
        .store()
        .list_sign_ins(t.id, &query, &page)
        .await
        .map_err(CoreError::from)?;
    Ok(Json(page.into()))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = ListResponse<AdminToken>), (status = 403, body = Problem)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Admin(scope): Admin,
) -> Result<Json<ListResponse<AdminToken>>, ApiError> {
    scope.require_global()?;
    let items = state
        .core
        .store()
        .list_admin_tokens()
        .await
        .map_err(CoreError::from)?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewAdminTokenRequest,
    responses((status = 201, body = NewAdminToken, description = "The secret is shown only in this response"),
        (status = 403, body = Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    Admin(scope): Admin,
    ApiJson(input): ApiJson<NewAdminTokenRequest>,
) -> Result<(StatusCode, Json<NewAdminToken>), ApiError> {
    scope.require_global()?;
    let tenant_id = match input.tenant_id {
        Some(t) => Some(tenant(&state, scope, &t.to_string()).await?.id),
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .core
                .create_admin_token(&input.name, tenant_id)
                .await?,
        ),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_token(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    scope.require_global()?;
    let id: AdminTokenId = path_id(&id, "admin_token")?;
    state
        .core
        .store()
        .delete_admin_token(id)
        .await
        .map_err(CoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
