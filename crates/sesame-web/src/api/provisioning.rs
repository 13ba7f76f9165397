//! Outbound provisioning of an application (issue 6): settings, status, test connection,
//! manual run, pause/resume/reset, on-demand push of one user, and the provisioning log.

use super::extract::{Admin, ApiJson, ApiQuery, ListResponse, path_id, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sesame_core::provisioning::{ConnectionReport, ProvisioningInput, public_view};
use sesame_model::{
    AppId, PageRequest, ProvisioningJob, ProvisioningLogEntry, ProvisioningLogQuery,
    ProvisioningResult, TenantId, UserId,
};
use utoipa::IntoParams;

async fn target(
    state: &AppState,
    scope: sesame_core::AdminScope,
    key: &str,
    app: &str,
) -> Result<(TenantId, AppId), ApiError> {
    let t = tenant(state, scope, key).await?;
    Ok((t.id, path_id(app, "app")?))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = ProvisioningJob, description = "Settings and engine state (the token is never returned)"),
        (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<Json<ProvisioningJob>, ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    Ok(Json(public_view(state.core.get_provisioning(t, a).await?)))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path)), request_body = ProvisioningInput,
    responses((status = 200, body = ProvisioningJob), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
    ApiJson(input): ApiJson<ProvisioningInput>,
) -> Result<Json<ProvisioningJob>, ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    Ok(Json(public_view(
        state.core.configure_provisioning(t, a, input).await?,
    )))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    state.core.delete_provisioning(t, a).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning/test", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = ConnectionReport), (status = 404, body = Problem)))]
pub async fn test(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<Json<ConnectionReport>, ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    Ok(Json(state.core.test_provisioning(t, a).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning/{action}", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path),
        ("action" = String, Path, description = "run, pause, resume or reset")),
    responses((status = 202, body = ProvisioningJob, description = "run: the cycle starts on the next scheduler tick"),
        (status = 200, body = ProvisioningJob), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn action(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app, action)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<ProvisioningJob>), ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    let core = &state.core;
    let (status, job) = match action.as_str() {
        "run" => (
            StatusCode::ACCEPTED,
            core.request_provisioning_run(t, a).await?,
        ),
        "pause" => (StatusCode::OK, core.pause_provisioning(t, a, true).await?),
        "resume" => (StatusCode::OK, core.pause_provisioning(t, a, false).await?),
        "reset" => (StatusCode::OK, core.reset_provisioning(t, a).await?),
        _ => return Err(sesame_core::CoreError::NotFound("provisioning action").into()),
    };
    Ok((status, Json(public_view(job))))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning/users/{user}", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = ListResponse<ProvisioningLogEntry>, description = "What the push did"),
        (status = 404, body = Problem)))]
pub async fn run_user(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app, user)): Path<(String, String, String)>,
) -> Result<Json<ListResponse<ProvisioningLogEntry>>, ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    let user: UserId = path_id(&user, "user")?;
    let items = state.core.provision_user_now(t, a, user).await?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only this cycle's entries.
    pub cycle: Option<uuid::Uuid>,
    /// `success`, `failure` or `skipped`.
    pub result: Option<String>,
    /// Only entries about this user or group (id).
    pub object: Option<uuid::Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps/{app}/provisioning/logs", tag = "provisioning",
    params(("tenant" = String, Path), ("app" = String, Path), LogParams),
    responses((status = 200, body = ListResponse<ProvisioningLogEntry>), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn logs(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Json<ListResponse<ProvisioningLogEntry>>, ApiError> {
    let (t, a) = target(&state, scope, &key, &app).await?;
    let result = match params.result.as_deref() {
        None => None,
        Some("success") => Some(ProvisioningResult::Success),
        Some("failure") => Some(ProvisioningResult::Failure),
        Some("skipped") => Some(ProvisioningResult::Skipped),
        Some(_) => {
            return Err(ApiError::bad_query(
                "result must be success, failure or skipped",
            ));
        }
    };
    let query = ProvisioningLogQuery {
        cycle_id: params.cycle,
        result,
        source_id: params.object,
    };
    let page = state
        .core
        .provisioning_log(t, a, &query, &PageRequest::new(params.limit, params.cursor))
        .await?;
    Ok(Json(page.into()))
}
