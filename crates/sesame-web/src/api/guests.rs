//! B2B guests (DIR-4) and direct federation with partners' IdPs (SAML-SP-5):
//! `PUT/GET/DELETE /api/v1/tenants/{tenant}/directfederations/{domain}`,
//! `GET …/directfederations`, `POST/GET …/guests`.

use super::extract::{Admin, ApiJson, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sesame_core::federation::FederationInput;
use sesame_core::guests::{GuestInput, InvitedGuest};
use sesame_model::{DomainFederation, GuestInvitation};

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/directfederations/{domain}", tag = "guests",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    request_body = FederationInput,
    responses((status = 200, body = DomainFederation), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn put_direct(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
    ApiJson(input): ApiJson<FederationInput>,
) -> Result<Json<DomainFederation>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(
        state
            .core
            .set_direct_federation(t.id, &domain, input)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/directfederations/{domain}", tag = "guests",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 200, body = DomainFederation), (status = 404, body = Problem)))]
pub async fn get_direct(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<Json<DomainFederation>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.get_direct_federation(t.id, &domain).await?))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/directfederations", tag = "guests",
    params(("tenant" = String, Path)),
    responses((status = 200, body = Vec<DomainFederation>), (status = 404, body = Problem)))]
pub async fn list_direct(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
) -> Result<Json<Vec<DomainFederation>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.list_direct_federations(t.id).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/directfederations/{domain}", tag = "guests",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_direct(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    state.core.remove_direct_federation(t.id, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/guests", tag = "guests",
    params(("tenant" = String, Path)),
    request_body = GuestInput,
    responses((status = 201, body = InvitedGuest), (status = 400, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<GuestInput>,
) -> Result<(StatusCode, Json<InvitedGuest>), ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.core.invite_guest(t.id, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/guests", tag = "guests",
    params(("tenant" = String, Path)),
    responses((status = 200, body = Vec<GuestInvitation>), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path(key): Path<String>,
) -> Result<Json<Vec<GuestInvitation>>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.list_guest_invitations(t.id).await?))
}
