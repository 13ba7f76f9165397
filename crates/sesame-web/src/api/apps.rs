//! Enterprise applications and their assignments.

use super::extract::{Admin, ApiJson, ApiQuery, ListParams, ListResponse, path_id, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sesame_core::{AppPatch, CoreError, NewApp, NewAssignment};
use sesame_model::{AppId, Application, Assignment, GroupId, Principal, UserId};

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps", tag = "apps",
    params(("tenant" = String, Path), ListParams), responses((status = 200, body = ListResponse<Application>)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListResponse<Application>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let page = state
        .core
        .store()
        .list_apps(t.id, &params.page())
        .await
        .map_err(CoreError::from)?;
    Ok(Json(page.into()))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps", tag = "apps", request_body = NewApp,
    params(("tenant" = String, Path)), responses((status = 201, body = Application), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewApp>,
) -> Result<(StatusCode, Json<Application>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.create_app(t.id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps/{app}", tag = "apps",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = Application), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<Json<Application>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    Ok(Json(
        state
            .core
            .store()
            .get_app(t.id, id)
            .await
            .map_err(CoreError::from)?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/apps/{app}", tag = "apps", request_body = AppPatch,
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = Application), (status = 404, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
    ApiJson(patch): ApiJson<AppPatch>,
) -> Result<Json<Application>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    Ok(Json(state.core.update_app(t.id, id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/apps/{app}", tag = "apps",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    state.core.delete_app(t.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps/{app}/assignments", tag = "apps",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = ListResponse<Assignment>), (status = 404, body = Problem)))]
pub async fn assignments(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<Json<ListResponse<Assignment>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    state
        .core
        .store()
        .get_app(t.id, id)
        .await
        .map_err(CoreError::from)?;
    let items = state
        .core
        .store()
        .list_assignments(t.id, id)
        .await
        .map_err(CoreError::from)?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/{app}/assignments", tag = "apps", request_body = NewAssignment,
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 201, body = Assignment), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewAssignment>,
) -> Result<(StatusCode, Json<Assignment>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.assign_app(t.id, id, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/apps/{app}/assignments/{principal_type}/{principal_id}", tag = "apps",
    params(("tenant" = String, Path), ("app" = String, Path),
        ("principal_type" = String, Path, description = "`user` or `group`"), ("principal_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn unassign(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app, kind, principal)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    let principal = match kind.as_str() {
        "user" => Principal::User(path_id::<UserId>(&principal, "assignment")?),
        "group" => Principal::Group(path_id::<GroupId>(&principal, "assignment")?),
        _ => return Err(CoreError::NotFound("assignment").into()),
    };
    state
        .core
        .store()
        .unassign(t.id, id, principal)
        .await
        .map_err(CoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}
