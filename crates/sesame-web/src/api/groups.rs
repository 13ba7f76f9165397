//! Groups and memberships.

use super::extract::{Admin, ApiJson, ApiQuery, ListParams, ListResponse, path_id, tenant, user};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sesame_core::{CoreError, GroupPatch, NewGroup, NewMember};
use sesame_model::{Group, GroupId, UserId};

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/groups", tag = "groups",
    params(("tenant" = String, Path), ListParams), responses((status = 200, body = ListResponse<Group>)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListResponse<Group>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let page = state
        .core
        .store()
        .list_groups(t.id, &params.page())
        .await
        .map_err(CoreError::from)?;
    Ok(Json(page.into()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/groups", tag = "groups", request_body = NewGroup,
    params(("tenant" = String, Path)),
    responses((status = 201, body = Group), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.create_group(t.id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/groups/{group}", tag = "groups",
    params(("tenant" = String, Path), ("group" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, group)): Path<(String, String)>,
) -> Result<Json<Group>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: GroupId = path_id(&group, "group")?;
    Ok(Json(
        state
            .core
            .store()
            .get_group(t.id, id)
            .await
            .map_err(CoreError::from)?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/groups/{group}", tag = "groups", request_body = GroupPatch,
    params(("tenant" = String, Path), ("group" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, group)): Path<(String, String)>,
    ApiJson(patch): ApiJson<GroupPatch>,
) -> Result<Json<Group>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: GroupId = path_id(&group, "group")?;
    Ok(Json(state.core.update_group(t.id, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/groups/{group}", tag = "groups",
    params(("tenant" = String, Path), ("group" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, group)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: GroupId = path_id(&group, "group")?;
    state
        .core
        .store()
        .delete_group(t.id, id)
        .await
        .map_err(CoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/groups/{group}/members", tag = "groups",
    params(("tenant" = String, Path), ("group" = String, Path), ListParams),
    responses((status = 200, body = ListResponse<UserId>), (status = 404, body = Problem)))]
pub async fn members(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, group)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListResponse<UserId>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: GroupId = path_id(&group, "group")?;
    let page = state
        .core
        .store()
        .list_members(t.id, id, &params.page())
        .await
        .map_err(CoreError::from)?;
    Ok(Json(page.into()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/groups/{group}/members", tag = "groups", request_body = NewMember,
    params(("tenant" = String, Path), ("group" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn add_member(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, group)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewMember>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: GroupId = path_id(&group, "group")?;
    state
        .core
        .store()
        .add_member(t.id, id, input.user_id)
        .await
        .map_err(CoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/groups/{group}/members/{user}", tag = "groups",
    params(("tenant" = String, Path), ("group" = String, Path), ("user" = String, Path, description = "User id or UPN")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, group, user_key)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: GroupId = path_id(&group, "group")?;
    let u = user(&state, &t, &user_key).await?;
    state
        .core
        .store()
        .remove_member(t.id, id, u.id)
        .await
        .map_err(CoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
