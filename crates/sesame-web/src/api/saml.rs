//! SAML settings and signing certificates of applications.

use super::extract::{Admin, ApiJson, ListResponse, path_id, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sesame_core::CoreError;
use sesame_model::{AppCertificate, AppId, Application, SamlAppSettings};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSamlApp {
    pub name: String,
    /// The settings; or give `metadata` instead.
    pub settings: Option<SamlAppSettings>,
    /// The SP's SAML metadata XML, from which the settings are filled.
    pub metadata: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSamlApp {
    pub app: Application,
    pub certificate: AppCertificate,
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/saml", tag = "saml", request_body = NewSamlApp,
    params(("tenant" = String, Path)),
    responses((status = 201, body = CreatedSamlApp), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewSamlApp>,
) -> Result<(StatusCode, Json<CreatedSamlApp>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let settings = match (input.settings, input.metadata) {
        (Some(s), None) => s,
        (None, Some(xml)) => sesame_core::saml_settings_from_metadata(&xml)?,
        _ => return Err(CoreError::invalid("settings", "give either settings or metadata").into()),
    };
    let (app, certificate) = state
        .core
        .create_saml_app(t.id, &input.name, settings)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedSamlApp { app, certificate }),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps/{app}/saml", tag = "saml",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = SamlAppSettings), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<Json<SamlAppSettings>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    let app = state
        .core
        .store()
        .get_app(t.id, id)
        .await
        .map_err(CoreError::from)?;
    Ok(Json(app.saml.ok_or(CoreError::NotFound("saml settings"))?))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/apps/{app}/saml", tag = "saml", request_body = SamlAppSettings,
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = Application), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
    ApiJson(settings): ApiJson<SamlAppSettings>,
) -> Result<Json<Application>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    Ok(Json(
        state.core.set_saml_settings(t.id, id, settings).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/apps/{app}/saml/certificates", tag = "saml",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = ListResponse<AppCertificate>), (status = 404, body = Problem)))]
pub async fn certificates(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<Json<ListResponse<AppCertificate>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    let items = state.core.list_signing_certificates(t.id, id).await?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/{app}/saml/certificates", tag = "saml",
    params(("tenant" = String, Path), ("app" = String, Path)),
    responses((status = 201, body = AppCertificate, description = "Published at once; active only if it is the first"),
        (status = 404, body = Problem)))]
pub async fn add_certificate(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app)): Path<(String, String)>,
) -> Result<(StatusCode, Json<AppCertificate>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let id: AppId = path_id(&app, "app")?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.add_signing_certificate(t.id, id).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/apps/{app}/saml/certificates/{id}/activate", tag = "saml",
    params(("tenant" = String, Path), ("app" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn activate_certificate(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app, cert)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let app: AppId = path_id(&app, "app")?;
    let cert: uuid::Uuid = path_id(&cert, "app_certificate")?;
    state
        .core
        .activate_signing_certificate(t.id, app, cert)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/apps/{app}/saml/certificates/{id}", tag = "saml",
    params(("tenant" = String, Path), ("app" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 400, body = Problem, description = "The active certificate cannot be removed"),
        (status = 404, body = Problem)))]
pub async fn remove_certificate(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, app, cert)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let app: AppId = path_id(&app, "app")?;
    let cert: uuid::Uuid = path_id(&cert, "app_certificate")?;
    state
        .core
        .remove_signing_certificate(t.id, app, cert)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
