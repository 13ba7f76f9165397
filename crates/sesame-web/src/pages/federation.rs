//! Sésame as the SP of federated IdPs (issue 5): home-realm discovery from the sign-in page
//! (the AuthnRequest auto-posted to the IdP), the ACS `POST /{tenant}/saml2/acs`, the SP
//! metadata `/{tenant}/sp/metadata.xml`, and whether a signing-out user is federated (the
//! core's Single Logout then sends the IdP its LogoutRequest).
//! Decodes, calls `sesame_core::federation*`, renders; no rule lives here.

use super::{cookies, tenant_or_page, with_cookie};
use crate::html::error_page;
use crate::{AppState, CorrelationId};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sesame_core::federation_acs::{FederationFailure, codes};
use sesame_core::sso::RequestMeta;
use sesame_model::{Tenant, UserId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}/saml2/acs", post(acs))
        .route("/{tenant}/sp/metadata.xml", get(sp_metadata))
}

fn failure_page(f: &FederationFailure, cid: &CorrelationId) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_REQUEST);
    error_page(status, f.code, &f.message, cid)
}

/// Home-realm discovery (AUTH-1): when the UPN's domain is federated, the page that posts an
/// AuthnRequest to its IdP; `None` for a local account.
pub(crate) async fn home_realm_redirect(
    state: &AppState,
    tenant: &Tenant,
    upn_or_domain: &str,
    continue_to: Option<String>,
    cid: &CorrelationId,
) -> Option<Response> {
    let federation = match state.core.home_realm(tenant.id, upn_or_domain).await {
        Ok(f) => f?,
        Err(e) => {
            return Some(error_page(
                crate::error::status_of(&e),
                e.code(),
                "Sign-in is unavailable right now. Try again in a moment.",
                cid,
            ));
        }
    };
    Some(
        match state
            .core
            .begin_federated_sign_in(&federation, continue_to)
            .await
        {
            Ok(post) => super::saml::post_page(&post),
            Err(e) => error_page(
                crate::error::status_of(&e),
                e.code(),
                "Sign-in is unavailable right now. Try again in a moment.",
                cid,
            ),
        },
    )
}

/// The session's user, when it signs in through a federated IdP, which its sign-out reaches
/// too; read **before** the local session ends.
pub(crate) async fn federated_user(
    state: &AppState,
    tenant: &Tenant,
    secret: &str,
) -> Option<UserId> {
    let (_, user) = state.core.current_session(tenant.id, secret).await.ok()??;
    match state.core.is_federated(tenant.id, &user).await {
        Ok(federated) => federated.then_some(user.id),
        Err(e) => {
            // The local sign-out goes on; the IdP keeps its session.
            tracing::warn!(tenant = %tenant.id, user = %user.id, error = %e, "no LogoutRequest to the user's identity provider");
            None
        }
    }
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
}

async fn acs(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    cid: CorrelationId,
    parts: Parts,
    body: Bytes,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let unreadable = |why: &str| {
        error_page(
            StatusCode::BAD_REQUEST,
            codes::UNREADABLE,
            &format!("The identity provider's answer could not be read ({why})."),
            &cid,
        )
    };
    let Ok(form) = serde_urlencoded::from_bytes::<AcsForm>(&body) else {
        return unreadable("form");
    };
    let Some(encoded) = form.saml_response else {
        return unreadable("no SAMLResponse");
    };
    // Bindings §3.5.4: HTTP-POST carries plain base64, never DEFLATE (decode_post refuses it).
    let xml = match sesame_saml::decode_post(&encoded) {
        Ok(x) => x,
        Err(e) => return unreadable(e.rule()),
    };
    let meta = RequestMeta {
        ip: crate::context::client_ip(&parts),
        correlation_id: cid.0.clone(),
    };
    match state
        .core
        .complete_federated_sign_in(tenant.id, &xml, &meta)
        .await
    {
        Ok(done) => {
            state.metrics.record_sign_in("success");
            let cookie = cookies::session_set(
                tenant.id,
                state.config.https(),
                Some(&done.signed_in.session_secret),
            );
            let target = super::login::safe_continue(done.continue_to.as_deref())
                .unwrap_or_else(|| format!("/{}/", tenant.id));
            let res = (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
            with_cookie(res, Some(cookie))
        }
        Err(f) => {
            state.metrics.record_sign_in("failure");
            failure_page(&f, &cid)
        }
    }
}

async fn sp_metadata(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    cid: CorrelationId,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    match state.core.sp_metadata_xml(tenant.id).await {
        Ok(xml) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
            xml,
        )
            .into_response(),
        Err(e) => crate::html::error_page(
            crate::error::status_of(&e),
            e.code(),
            "Sésame's SP metadata is unavailable right now.",
            &cid,
        ),
    }
}
