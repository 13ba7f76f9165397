//! Tenants and domains.

use super::extract::{Admin, ApiJson, ApiQuery, ListParams, ListResponse, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sesame_core::{AdminScope, CoreError, NewDomain, NewTenant, TenantPatch};
use sesame_model::{Domain, Page, Tenant};

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(ListParams),
    responses((status = 200, body = ListResponse<Tenant>), (status = 401, body = Problem)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    Admin(scope): Admin,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ListResponse<Tenant>>, ApiError> {
    let page = match scope {
        AdminScope::Global => state
            .core
            .store()
            .list_tenants(&params.page())
            .await
            .map_err(CoreError::from)?,
        AdminScope::Tenant(t) => Page {
            items: vec![
                state
                    .core
                    .store()
                    .get_tenant(t)
                    .await
                    .map_err(CoreError::from)?,
            ],
            next: None,
        },
    };
    Ok(Json(page.into()))
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    Admin(scope): Admin,
    ApiJson(input): ApiJson<NewTenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    scope.require_global()?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.create_tenant(input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id, initial domain or verified domain")),
    responses((status = 200, body = Tenant), (status = 404, body = Problem)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(tenant(&state, scope, &key).await?))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}", tag = "tenants", request_body = TenantPatch,
    params(("tenant" = String, Path)), responses((status = 200, body = Tenant), (status = 404, body = Problem)))]
pub async fn update_tenant(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> Result<Json<Tenant>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.update_tenant(t.id, patch).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_tenant(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    scope.require_global()?;
    let t = tenant(&state, scope, &key).await?;
    state.core.delete_tenant(t.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/domains", tag = "domains",
    params(("tenant" = String, Path)), responses((status = 200, body = ListResponse<Domain>)))]
pub async fn list_domains(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
) -> Result<Json<ListResponse<Domain>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let items = state
        .core
        .store()
        .list_domains(t.id)
        .await
        .map_err(CoreError::from)?;
    Ok(Json(ListResponse {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/domains", tag = "domains", request_body = NewDomain,
    params(("tenant" = String, Path)),
    responses((status = 201, body = Domain, description = "Publish TXT `sesame-verification=<verificationToken>` then call verify"),
        (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn add_domain(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<NewDomain>,
) -> Result<(StatusCode, Json<Domain>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.add_domain(t.id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/domains/{domain}", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 200, body = Domain), (status = 404, body = Problem)))]
pub async fn get_domain(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<Json<Domain>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let name = domain.trim().to_ascii_lowercase();
    Ok(Json(
        state
            .core
            .store()
            .get_domain(t.id, &name)
            .await
            .map_err(CoreError::from)?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/domains/{domain}", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_domain(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    let name = domain.trim().to_ascii_lowercase();
    state
        .core
        .store()
        .delete_domain(t.id, &name)
        .await
        .map_err(CoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/domains/{domain}/verify", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 200, body = Domain), (status = 422, body = Problem, description = "TXT record not found")))]
pub async fn verify_domain(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<Json<Domain>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.verify_domain(t.id, &domain).await?))
}
