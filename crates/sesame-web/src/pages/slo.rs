//! Sign-out: `/{tenant}/logout` and SAML Single Logout (SAML-IDP-7). The session ends at once;
//! then the browser visits each application of the session that has a logout URL, and the
//! application that asked for the logout gets Sésame's answer. Progress travels in the sealed
//! `sesame_slo_{tenant}` cookie.

use super::{cookies, tenant_or_page, with_cookie};
use crate::html::{error_page, escape, html_response, html_response_leaving_site, page};
use crate::{AppState, CorrelationId};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sesame_core::slo::{SloState, SloStep};
use sesame_core::sso::{IncomingRequest, RequestMeta};
use sesame_model::{Tenant, TenantId};

const SLO_COOKIE: &str = "sesame_slo";

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/logout", get(logout).post(logout_confirmed))
}

/// The signed-out page; `progress`, the logout that led to it, says who was not told;
/// `idp_logout` is where the user signs out of the organisation they signed in with, when it
/// does not come back here.
fn signed_out_page(
    state: &AppState,
    tenant: &Tenant,
    signed_out: bool,
    progress: Option<&SloState>,
    idp_logout: Option<&str>,
) -> Response {
    // Some application, or the identity provider the user signed in at, was not told
    // (unreachable, or did not confirm): it may still hold a session of its own, which the
    // user should know of.
    let mut notes = String::new();
    if progress.is_some_and(|p| p.partial) {
        notes.push_str(
            "<p class=\"error\" role=\"status\">Some applications could not be told that you signed out. They may \
             keep you signed in until you sign out of them or close your browser.</p>",
        );
    }
    if progress.is_some_and(|p| p.idp_unconfirmed) {
        notes.push_str(
            "<p class=\"error\" role=\"status\">The organisation you signed in with did not confirm that you \
             signed out there. It may still sign you in without asking for your password: sign out on its own \
             site too.</p>",
        );
    }
    if let Some(url) = idp_logout {
        notes.push_str(&format!(
            "<p><a href=\"{}\">Sign out of the organisation you signed in with</a></p>",
            escape(url)
        ));
    }
    let body = format!(
        "<h1>Signed out</h1><p>You have signed out of {}.</p>{notes}<p><a href=\"/{}/login\">Sign in again</a></p>",
        escape(&tenant.name),
        tenant.id
    );
    let res = html_response(StatusCode::OK, page("Signed out", &body));
    let res = with_session_cleared(state, tenant, res, signed_out);
    with_cookie(res, Some(slo_cookie(state, tenant.id, None)))
}

/// Deletes the browser's session cookie when its session has ended, and only then: a
/// LogoutRequest naming someone else's session must not sign this browser out.
fn with_session_cleared(
    state: &AppState,
    tenant: &Tenant,
    res: Response,
    signed_out: bool,
) -> Response {
    let clear = signed_out.then(|| cookies::session_set(tenant.id, state.config.https(), None));
    with_cookie(res, clear)
}

/// The name of `tenant`'s logout-progress cookie: one per tenant, as the session's, so that
/// signing out of one tenant does not drop another tenant's logout under way in the browser.
fn slo_name(tenant: TenantId, https: bool) -> String {
    cookies::name(&format!("{SLO_COOKIE}_{}", tenant.0.simple()), https)
}

/// The `Set-Cookie` for `tenant`'s logout progress; `None` deletes it.
fn slo_cookie(state: &AppState, tenant: TenantId, sealed: Option<&str>) -> String {
    let https = state.config.https();
    let name = slo_name(tenant, https);
    match sealed {
        Some(v) => cookies::set(&name, v, https, cookies::cross_site(https), Some(600)),
        None => cookies::set(&name, "", https, cookies::cross_site(https), Some(0)),
    }
}

/// Takes the next step of a logout and answers the browser accordingly; `signed_out` when the
/// browser's own session has ended (its cookie is then deleted).
pub(crate) async fn continue_logout(
    state: &AppState,
    tenant: &Tenant,
    mut slo: SloState,
    signed_out: bool,
) -> Response {
    let res = match state.core.next_logout_step(tenant.id, &mut slo).await {
        SloStep::Redirect(url) => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response()
        }
        SloStep::Post(post) => super::saml::post_page(&post),
        SloStep::Done => return signed_out_page(state, tenant, signed_out, Some(&slo), None),
        SloStep::DoneThenIdp(url) => {
            return signed_out_page(state, tenant, signed_out, Some(&slo), Some(&url));
        }
    };
    let sealed = if slo.remaining.is_empty() && slo.awaiting.is_none() && slo.origin.is_none() {
        None
    } else {
        state
            .core
            .seal_logout_progress(tenant.id, &mut slo)
            .await
            .ok()
    };
    let res = with_session_cleared(state, tenant, res, signed_out);
    with_cookie(res, Some(slo_cookie(state, tenant.id, sealed.as_deref())))
}

/// Whether a sign-out asks first: unless the browser says the request comes from Sésame's own
/// pages or from the user (Fetch Metadata's `Sec-Fetch-Site` `same-origin` or `none`, a header
/// pages cannot set). The session cookie goes along with cross-site requests over https
/// (`SameSite=None`), so a link or an image on any site could sign the user out; such a
/// request — or one from a browser that says nothing — gets a page asking first, whose button
/// posts from Sésame's own origin.
fn asks_first(headers: &HeaderMap) -> bool {
    !headers.get("sec-fetch-site").is_some_and(|v| {
        let v = v.as_bytes();
        v.eq_ignore_ascii_case(b"same-origin") || v.eq_ignore_ascii_case(b"none")
    })
}

/// The confirmation: its form carries the CSRF token, so that only it can sign out by POST
/// (browsers without Fetch Metadata say nothing of where a POST comes from).
fn confirm_sign_out_page(state: &AppState, tenant: &Tenant, headers: &HeaderMap) -> Response {
    let csrf = super::login::csrf_for(state, headers);
    let body = format!(
        "<h1>Sign out?</h1><p>Another site is signing you out of {}.</p>\
         <form method=\"post\" action=\"/{}/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Sign out</button></form>\
         <p><a href=\"/{}/myapps\">Stay signed in</a></p>",
        escape(&tenant.name),
        tenant.id,
        escape(&csrf.token),
        tenant.id
    );
    let res = html_response_leaving_site(StatusCode::OK, page("Sign out?", &body));
    with_cookie(res, csrf.set_cookie)
}

#[derive(serde::Deserialize)]
struct ConfirmForm {
    csrf: Option<String>,
}

/// The confirmation's answer: signs out when the form came from Sésame's page, asks again
/// otherwise.
async fn logout_confirmed(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    cid: CorrelationId,
    body: axum::body::Bytes,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let sent = serde_urlencoded::from_bytes::<ConfirmForm>(&body)
        .ok()
        .and_then(|f| f.csrf);
    if !super::login::csrf_for(&state, &headers).accepts(sent.as_deref()) {
        return confirm_sign_out_page(&state, &tenant, &headers);
    }
    sign_out(&state, &tenant, &headers, &cid).await
}

async fn logout(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    cid: CorrelationId,
) -> Response {
    let tenant = match tenant_or_page(&state, &tenant, &cid).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let signed_in = cookies::get(
        &headers,
        &cookies::session_name(tenant.id, state.config.https()),
    )
    .is_some();
    if signed_in && asks_first(&headers) {
        return confirm_sign_out_page(&state, &tenant, &headers);
    }
    sign_out(&state, &tenant, &headers, &cid).await
}

/// Ends the browser's session and starts the logout of its applications.
async fn sign_out(
    state: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    cid: &CorrelationId,
) -> Response {
    let Some(secret) = cookies::get(
        headers,
        &cookies::session_name(tenant.id, state.config.https()),
    ) else {
        return signed_out_page(state, tenant, true, None, None);
    };
    // Read before the session ends: whether the user signed in through a federated IdP.
    let federated = super::federation::federated_user(state, tenant, &secret).await;
    match state.core.start_logout(tenant.id, &secret).await {
        Ok(mut slo) => {
            slo.then_idp_of = federated;
            continue_logout(state, tenant, slo, true).await
        }
        Err(e) => error_page(
            crate::error::status_of(&e),
            e.code(),
            "Sign-out failed. Try again.",
            cid,
        ),
    }
}

/// A LogoutRequest from an application.
pub(crate) async fn logout_request(
    state: &AppState,
    tenant: &Tenant,
    incoming: IncomingRequest,
    headers: &HeaderMap,
    meta: &RequestMeta,
    cid: &CorrelationId,
) -> Response {
    let secret = cookies::get(
        headers,
        &cookies::session_name(tenant.id, state.config.https()),
    );
    // Read before the session ends: whether the user signed in through a federated IdP.
    let federated = match &secret {
        Some(secret) => super::federation::federated_user(state, tenant, secret).await,
        None => None,
    };
    match state
        .core
        .accept_logout_request(tenant, incoming, secret.as_deref(), meta)
        .await
    {
        Ok(mut accepted) => {
            if accepted.browser_signed_out {
                accepted.state.then_idp_of = federated;
            }
            continue_logout(state, tenant, accepted.state, accepted.browser_signed_out).await
        }
        Err(f) => {
            let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::BAD_REQUEST);
            error_page(status, f.code, &f.message, cid)
        }
    }
}

/// A LogoutResponse from an application (or the user's identity provider) we sent a
/// LogoutRequest to.
pub(crate) async fn logout_response(
    state: &AppState,
    tenant: &Tenant,
    answer: &IncomingRequest,
    headers: &HeaderMap,
) -> Response {
    let sealed = cookies::get(headers, &slo_name(tenant.id, state.config.https()));
    let Some(mut slo) = sealed.and_then(|s| state.core.open_logout_progress(&s)) else {
        // No logout in progress here (expired, or another browser): which session this answer
        // is about is unknown, so the browser's stays as it is.
        return signed_out_page(state, tenant, false, None, None);
    };
    state
        .core
        .record_logout_response(tenant.id, &mut slo, answer)
        .await;
    // Progress exists only for a logout that ended this browser's session, whose cookie went
    // at its first step: not cleared again, which could only sign out a session opened since.
    continue_logout(state, tenant, slo, false).await
}
