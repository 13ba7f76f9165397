//! Domain federation with an external SAML IdP (issue 5, SAML-SP-1):
//! `PUT/GET/DELETE /api/v1/tenants/{tenant}/domains/{domain}/federation`. Removing a
//! federation sets the domain back to `Verified` and stops its users signing in through the IdP.
//! `POST …/federation/inspect` is the SSO test tool (OPS-3): the ACS's verdicts on a Response,
//! changing nothing.

use super::extract::{Admin, ApiJson, tenant};
use crate::AppState;
use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sesame_core::federation::FederationInput;
use sesame_core::federation_inspect::InspectReport;
use sesame_model::DomainFederation;

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/domains/{domain}/federation", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    request_body = FederationInput,
    responses((status = 200, body = DomainFederation), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn put_federation(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
    ApiJson(input): ApiJson<FederationInput>,
) -> Result<Json<DomainFederation>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.set_federation(t.id, &domain, input).await?))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/domains/{domain}/federation", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 200, body = DomainFederation), (status = 404, body = Problem)))]
pub async fn get_federation(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<Json<DomainFederation>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(state.core.get_federation(t.id, &domain).await?))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/domains/{domain}/federation", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_federation(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    state.core.remove_federation(t.id, &domain).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A Response to inspect, as the IdP posts it to the ACS.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InspectInput {
    /// The `SAMLResponse` form value: base64 of the Response XML (HTTP-POST binding).
    pub saml_response: String,
}

/// Runs the ACS's rules on a Response for this domain's federation and reports every verdict;
/// reads the outstanding request and the replay cache without changing them. 200 with the
/// report whether or not the Response passes (`passed`, `verdict`).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/domains/{domain}/federation/inspect", tag = "domains",
    params(("tenant" = String, Path), ("domain" = String, Path)),
    request_body = InspectInput,
    responses((status = 200, body = InspectReport), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn inspect(
    State(state): State<AppState>,
    Admin(scope): Admin,
    Path((key, domain)): Path<(String, String)>,
    ApiJson(input): ApiJson<InspectInput>,
) -> Result<Json<InspectReport>, ApiError> {
    let t = tenant(&state, scope, &key).await?;
    Ok(Json(
        state
            .core
            .inspect_federated_response(t.id, &domain, &input.saml_response)
            .await,
    ))
}
