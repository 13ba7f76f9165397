//! Users and their passwords.

use super::extract::{Admin, ApiJson, ApiQuery, ListParams, ListResponse, tenant, user};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sesame_core::{CoreError, NewUser, SetPassword, UserPatch};
use sesame_model::{GroupId, User};

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users", tag = "users",
    params(("tenant" = String, Path), ListParams), responses((status = 200, body = ListResponse<User>)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListResponse<User>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let page = state
        .core
        .store()
        .list_users(t.id, &params.page())
        .await
        .map_err(CoreError::from)?;
    Ok(Json(page.into()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users", tag = "users", request_body = NewUser,
    params(("tenant" = String, Path)),
    responses((status = 201, body = User), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.create_user(t.id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    params(("tenant" = String, Path), ("user" = String, Path, description = "User id or UPN")),
    responses((status = 200, body = User), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, user_key)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(user(&state, &t, &user_key).await?))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users", request_body = UserPatch,
    params(("tenant" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = User), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, user_key)): Path<(String, String)>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let u = user(&state, &t, &user_key).await?;
    Ok(Json(state.core.update_user(t.id, u.id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    params(("tenant" = String, Path), ("user" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, user_key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let u = user(&state, &t, &user_key).await?;
    state.core.delete_user(t.id, u.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/users/{user}/password", tag = "users", request_body = SetPassword,
    params(("tenant" = String, Path), ("user" = String, Path)),
    responses((status = 204, description = "Password set; lockout cleared"), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn set_password(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, user_key)): Path<(String, String)>,
    ApiJson(input): ApiJson<SetPassword>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let u = user(&state, &t, &user_key).await?;
    state.core.set_password(t.id, u.id, input.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/groups", tag = "users",
    params(("tenant" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = ListResponse<GroupId>), (status = 404, body = Problem)))]
pub async fn groups(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, user_key)): Path<(String, String)>,
) -> Result<Json<ListResponse<GroupId>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let u = user(&state, &t, &user_key).await?;
    let items = state
        .core
        .store()
        .list_user_groups(t.id, u.id)
        .await
        .map_err(CoreError::from)?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}
